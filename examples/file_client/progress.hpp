// Example (file_client): the transfer progress bar, or one plain line when not a terminal.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace file_client {

/// Shows how a transfer goes: on a terminal a bar redrawn at most ten times a second
/// (bytes, percent, rate, ETA); otherwise nothing until the final line.
class Progress {
 public:
  /// A transfer called `label` of `total` bytes, starting at byte `start`, at time `now`
  /// (seconds), drawn on `out` as a bar if `terminal`.
  Progress(std::string label, std::uint64_t total, std::uint64_t start, bool terminal, double now, std::FILE* out);

  /// `done` bytes of the whole file are there now.
  void update(std::uint64_t done, double now);

  /// The transfer ended: prints the final line (after the bar, on a terminal).
  void finish(std::uint64_t done, double now, const std::string& sha256);

  /// The bar line as it is drawn for `done` bytes at time `now` (without "\r").
  std::string bar(std::uint64_t done, double now) const;

 private:
  double rate(std::uint64_t done, double now) const;

  std::string label_;
  std::uint64_t total_;
  std::uint64_t start_;
  bool terminal_;
  double began_;
  double lastDrawn_ = -1;
  std::FILE* out_;
};

/// `bytes` as a short human figure: "512 B", "1.5 KiB", "64.0 MiB".
std::string humanBytes(double bytes);

}  // namespace file_client
