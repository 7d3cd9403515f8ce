// Test support: a seccomp filter that makes chosen system calls fail, for tests that run
// in a process of their own (a "threadsafe" death test), and what such a child needs.
// Real faults, as a container runtime's profile would cause them, rather than a mock.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <torsion/reactor.hpp>

namespace torsion_test {

/// From here on, each system call numbered in `numbers` fails with `error` in this process
/// (and its threads); the rest are allowed. Exits with status 2 if the filter cannot be
/// installed, so a death test reports that rather than passing unfiltered.
inline void refuseSystemCalls(std::initializer_list<int> numbers, int error) {
  std::vector<sock_filter> filter;
  filter.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  for (int number : numbers) {
    // Equal: fall through to the refusal; else skip it.
    filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(number), 0, 1));
    filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(error) & SECCOMP_RET_DATA)));
  }
  filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog program{static_cast<unsigned short>(filter.size()), filter.data()};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    std::perror("installing the seccomp filter");
    std::exit(2);
  }
}

/// Ends a death test's child process with status 1, saying why on stderr.
[[noreturn]] inline void failChild(const std::string& reason) {
  std::fprintf(stderr, "%s\n", reason.c_str());
  std::exit(1);
}

/// Whether Reactor::availableBackends() lists `name` (usable here, not only built).
inline bool listsBackend(std::string_view name) {
  const auto names = torsion::Reactor::availableBackends();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace torsion_test
