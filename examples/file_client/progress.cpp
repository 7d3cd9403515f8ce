#include "progress.hpp"

#include <algorithm>
#include <cinttypes>

namespace file_client {

std::string humanBytes(double bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(units)) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

Progress::Progress(std::string label, std::uint64_t total, std::uint64_t start, bool terminal, double now,
                   std::FILE* out)
    : label_(std::move(label)), total_(total), start_(start), terminal_(terminal), began_(now), out_(out) {}

double Progress::rate(std::uint64_t done, double now) const {
  const double elapsed = now - began_;
  return elapsed > 0 ? static_cast<double>(done - std::min(done, start_)) / elapsed : 0;
}

std::string Progress::bar(std::uint64_t done, double now) const {
  constexpr int width = 30;
  const double fraction = total_ == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
  const int filled = static_cast<int>(fraction * width);
  const double speed = rate(done, now);
  std::string eta = "--:--";
  if (speed > 0) {
    const auto left = static_cast<std::uint64_t>(static_cast<double>(total_ - std::min(total_, done)) / speed);
    char text[32];
    std::snprintf(text, sizeof text, "%" PRIu64 ":%02" PRIu64, left / 60, left % 60);
    eta = text;
  }
  char line[256];
  std::snprintf(line, sizeof line, "%s [%s%s] %s / %s %3d%% %s/s ETA %s", label_.c_str(),
                std::string(static_cast<std::size_t>(filled), '#').c_str(),
                std::string(static_cast<std::size_t>(width - filled), '-').c_str(),
                humanBytes(static_cast<double>(done)).c_str(), humanBytes(static_cast<double>(total_)).c_str(),
                static_cast<int>(fraction * 100), humanBytes(speed).c_str(), eta.c_str());
  return line;
}

void Progress::update(std::uint64_t done, double now) {
  if (!terminal_ || now - lastDrawn_ < 0.1) return;
  lastDrawn_ = now;
  std::fprintf(out_, "\r%s\x1b[K", bar(done, now).c_str());
  std::fflush(out_);
}

void Progress::finish(std::uint64_t done, double now, const std::string& sha256) {
  if (terminal_) std::fprintf(out_, "\r%s\x1b[K\n", bar(done, now).c_str());
  std::fprintf(out_,
               "%s: %" PRIu64 " bytes (%" PRIu64 " transferred from byte %" PRIu64 ") in %.2f s, %s/s, sha256 %s\n",
               label_.c_str(), done, done - std::min(done, start_), start_, now - began_,
               humanBytes(rate(done, now)).c_str(), sha256.c_str());
  std::fflush(out_);
}

}  // namespace file_client
