// Test support, internal: a fault injected at the syscall boundary. Loaded with
// LD_PRELOAD into a child test process (never linked into anything), it makes socket(),
// accept() and accept4() fail with ENFILE, the system-wide descriptor table being full,
// which no test can produce for real on a shared machine without hurting everything
// else on it.
//
// Controlled by files, so that the test decides when the table is "full" and when it has
// room again: with TORSION_ENFILE_CONTROL=PREFIX in the environment, socket() fails while
// the file PREFIX.socket exists, and accept() and accept4() fail while PREFIX.accept
// exists. access() is used to look, since it needs no descriptor of its own.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

// How many calls the shim has failed: the test looks it up (dlsym), which also proves
// that the shim is loaded, and counts the attempts a busy loop would multiply.
long torsion_enfile_failures = 0;

static int tableIsFull(const char* call) {
  const char* prefix = getenv("TORSION_ENFILE_CONTROL");
  if (prefix == NULL) return 0;
  char path[4096];
  if (snprintf(path, sizeof path, "%s.%s", prefix, call) >= (int)sizeof path) return 0;
  return access(path, F_OK) == 0;
}

int socket(int domain, int type, int protocol) {
  static int (*real)(int, int, int);
  if (real == NULL) *(void**)&real = dlsym(RTLD_NEXT, "socket");
  if (tableIsFull("socket")) {
    __atomic_add_fetch(&torsion_enfile_failures, 1, __ATOMIC_RELAXED);
    errno = ENFILE;
    return -1;
  }
  return real(domain, type, protocol);
}

int accept(int fd, struct sockaddr* address, socklen_t* length) {
  static int (*real)(int, struct sockaddr*, socklen_t*);
  if (real == NULL) *(void**)&real = dlsym(RTLD_NEXT, "accept");
  if (tableIsFull("accept")) {
    __atomic_add_fetch(&torsion_enfile_failures, 1, __ATOMIC_RELAXED);
    errno = ENFILE;
    return -1;
  }
  return real(fd, address, length);
}

int accept4(int fd, struct sockaddr* address, socklen_t* length, int flags) {
  static int (*real)(int, struct sockaddr*, socklen_t*, int);
  if (real == NULL) *(void**)&real = dlsym(RTLD_NEXT, "accept4");
  if (tableIsFull("accept")) {
    __atomic_add_fetch(&torsion_enfile_failures, 1, __ATOMIC_RELAXED);
    errno = ENFILE;
    return -1;
  }
  return real(fd, address, length, flags);
}
