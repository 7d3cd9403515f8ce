/* epoll_echo: the near-limit reference of torsion's benchmarks.
 *
 * Raw level-triggered epoll, one thread, 64 KiB reads into one shared buffer, writes
 * attempted at once. Only what the kernel does not take is kept (per connection, in a
 * heap buffer allocated on demand); while it is kept the connection stops reading and
 * waits for EPOLLOUT, so a slow reader cannot grow the server without bound.
 *
 * usage: epoll_echo [--port P]   (0 = the system picks; listens on 127.0.0.1 only)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (64 * 1024)
#define MAX_EVENTS 256

struct pending {
  size_t len, off;
  char data[];
};

static int epfd;
static struct pending** pending; /* indexed by descriptor; NULL when nothing is queued */
static size_t npending;
static char buf[READ_SIZE];

static void fatal(const char* what) {
  fprintf(stderr, "epoll_echo: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void watch(int fd, int op, unsigned events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(epfd, op, fd, &ev) < 0) fatal("epoll_ctl");
}

static void drop(int fd) {
  if ((size_t)fd < npending) {
    free(pending[fd]);
    pending[fd] = NULL;
  }
  close(fd);
}

static void keep(int fd, const char* data, size_t len) {
  if ((size_t)fd >= npending) {
    size_t n = npending ? npending : 1024;
    while (n <= (size_t)fd) n *= 2;
    pending = realloc(pending, n * sizeof *pending);
    if (!pending) fatal("realloc");
    memset(pending + npending, 0, (n - npending) * sizeof *pending);
    npending = n;
  }
  struct pending* p = malloc(sizeof *p + len);
  if (!p) fatal("malloc");
  p->len = len;
  p->off = 0;
  memcpy(p->data, data, len);
  pending[fd] = p;
  watch(fd, EPOLL_CTL_MOD, EPOLLOUT);
}

static void on_readable(int fd) {
  ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    drop(fd);
    return;
  }
  ssize_t w = send(fd, buf, (size_t)n, MSG_NOSIGNAL);
  if (w < 0) {
    if (errno != EAGAIN) {
      drop(fd);
      return;
    }
    w = 0;
  }
  if (w < n) keep(fd, buf + w, (size_t)(n - w));
}

static void on_writable(int fd) {
  struct pending* p = pending[fd];
  ssize_t w = send(fd, p->data + p->off, p->len - p->off, MSG_NOSIGNAL);
  if (w < 0) {
    if (errno != EAGAIN) drop(fd);
    return;
  }
  p->off += (size_t)w;
  if (p->off == p->len) {
    free(p);
    pending[fd] = NULL;
    watch(fd, EPOLL_CTL_MOD, EPOLLIN);
  }
}

static void on_accept(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) perror("epoll_echo: accept4");
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    watch(fd, EPOLL_CTL_ADD, EPOLLIN);
  }
}

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc)
      port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: epoll_echo [--port P]\n");
      return 2;
    }
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) fatal("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0) fatal("bind");
  if (listen(lfd, SOMAXCONN) < 0) fatal("listen");
  socklen_t len = sizeof addr;
  getsockname(lfd, (struct sockaddr*)&addr, &len);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) fatal("epoll_create1");
  watch(lfd, EPOLL_CTL_ADD, EPOLLIN);
  printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  fflush(stdout);

  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fatal("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == lfd)
        on_accept(lfd);
      else if ((size_t)fd < npending && pending[fd])
        on_writable(fd);
      else
        on_readable(fd);
    }
  }
}
