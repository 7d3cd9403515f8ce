// Test support: filling the process's descriptor table on purpose, and lowering the soft
// descriptor limit for one scope.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "raw_socket.hpp"

namespace torsion_test {

/// Lowers RLIMIT_NOFILE's soft limit while alive; the old limits come back after.
class SoftDescriptorLimit {
 public:
  explicit SoftDescriptorLimit(rlim_t soft) {
    if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) throwErrno("getrlimit");
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    if (::setrlimit(RLIMIT_NOFILE, &lowered) != 0) throwErrno("setrlimit");
  }
  ~SoftDescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  SoftDescriptorLimit(const SoftDescriptorLimit&) = delete;
  SoftDescriptorLimit& operator=(const SoftDescriptorLimit&) = delete;

 private:
  rlimit saved_{};
};

/// Descriptors opened only to take up room in the table; closed on destruction or free().
class TableFiller {
 public:
  /// Opens /dev/null until the table is full (EMFILE). Returns how many were opened.
  std::size_t fillToTheLimit() {
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        if (errno != EMFILE) throwErrno("open(/dev/null)");
        return held_.size();
      }
      held_.emplace_back(fd);
    }
  }
  /// Opens /dev/null until every number below `limit` is taken (the number the kernel
  /// hands out next is then `limit` or above).
  void fillBelow(int limit) {
    for (;;) {
      Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (!fd) throwErrno("open(/dev/null)");
      if (fd.get() >= limit) return;  // closed again: the lowest free number is now >= limit
      held_.push_back(std::move(fd));
    }
  }
  /// Closes `count` of them (all by default).
  void free(std::size_t count = static_cast<std::size_t>(-1)) {
    while (count-- > 0 && !held_.empty()) held_.pop_back();
  }
  std::size_t size() const { return held_.size(); }

 private:
  std::vector<Fd> held_;
};

}  // namespace torsion_test
