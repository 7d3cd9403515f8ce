// Example library (file_server): an std::istream reading an open descriptor, so that a
// file opened safely inside the jail can be handed to torsion's FileSender.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <istream>
#include <streambuf>
#include <vector>

#include "jail.hpp"

namespace file_transfer {

/// The stream buffer behind FdInputStream: reads the descriptor 64 KiB at a time.
class FdInputBuffer : public std::streambuf {
 public:
  /// Reads `fd` from its current position; owns it.
  explicit FdInputBuffer(UniqueFd fd) : fd_(std::move(fd)), buffer_(64 * 1024) {}

 protected:
  /// Refills the buffer; EOF at the end of the file or on a read error.
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    ssize_t got = 0;
    do {
      got = ::read(fd_.get(), buffer_.data(), buffer_.size());
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return traits_type::eof();
    setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  UniqueFd fd_;
  std::vector<char> buffer_;
};

/// An input stream over an owned descriptor, from its current position.
class FdInputStream : public std::istream {
 public:
  /// Reads `fd` (positioned where reading should start); owns it.
  explicit FdInputStream(UniqueFd fd) : std::istream(nullptr), buffer_(std::move(fd)) { rdbuf(&buffer_); }

 private:
  FdInputBuffer buffer_;
};

}  // namespace file_transfer
