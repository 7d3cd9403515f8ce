/* loadgen: the load generator of torsion's benchmarks.
 *
 * Its own epoll loop in plain C, sharing no code with torsion, so that it cannot
 * flatter it. Three modes, all bounded in time and all checking every byte echoed:
 *
 *   echo   C connections, each with P messages of S bytes in flight (pipelined
 *          ping-pong): as soon as one message has come back whole, the next is sent.
 *          Warm-up, then a fixed measured window: messages/s, MB/s, round-trip
 *          percentiles.
 *   idle   first opens N idle connections (each proves itself with a one-byte echo,
 *          so the server has accepted it), prints "idle_ready=N", then measures like
 *          echo with the active connections while the idle ones stay open.
 *   churn  C workers, each repeating: connect, echo S bytes, close. Cycles/s and the
 *          cycle-time percentiles. With --resets every second cycle ends with a reset
 *          (SO_LINGER 0) instead of a FIN; with --cycles the run ends after that many
 *          measured cycles (a fixed amount of work, for instruction counts).
 *
 * Output: one machine-readable line of key=value pairs on stdout, and one human line
 * starting with '#'. Exit status 0 on success, 1 when nothing could be measured or a
 * byte came back wrong, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* ---- options ----------------------------------------------------------------- */

enum mode { MODE_ECHO, MODE_IDLE, MODE_CHURN };

static struct {
  const char* host;
  int port;
  int connections;
  int pipeline;
  int size;
  double warmup;
  double duration;
  enum mode mode;
  int idle;
  int sources; /* 0: decide from the ephemeral port range */
  int server_pid;
  int nodelay;
  double setup_timeout;
  int resets;
  long cycles; /* churn: stop after this many measured cycles (0: run for --duration) */
} opt = {"127.0.0.1", 0, 1, 1, 64, 1.0, 5.0, MODE_ECHO, 0, 0, 0, 1, 60.0, 0, 0};

static void usage(FILE* out) {
  fprintf(out,
          "usage: loadgen --port P [options]\n"
          "  --host A          IPv4 address in 127.0.0.0/8 (default 127.0.0.1)\n"
          "  --port P          server port (required)\n"
          "  --mode M          echo (default), idle or churn\n"
          "  --connections C   active connections (echo, idle) or workers (churn); default 1\n"
          "  --pipeline P      messages in flight per connection (default 1)\n"
          "  --size S          message size in bytes (default 64)\n"
          "  --warmup SECS     warm-up before measuring (default 1)\n"
          "  --duration SECS   measured window (default 5)\n"
          "  --idle N          idle connections to hold (idle mode)\n"
          "  --sources K       spread local addresses over 127.0.0.1..K (default: only\n"
          "                    when the ephemeral port range is too small)\n"
          "  --server-pid PID  also report the server's CPU time per message\n"
          "  --no-nodelay      leave Nagle's algorithm on\n"
          "  --setup-timeout S give up opening connections after S seconds (default 60)\n"
          "  --resets          churn: end every second cycle with a reset, not a FIN\n"
          "  --cycles N        churn: stop after N measured cycles (still bounded by\n"
          "                    --duration)\n");
}

/* ---- small helpers --------------------------------------------------------------- */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("loadgen: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void* xcalloc(size_t n, size_t size) {
  void* p = calloc(n, size);
  if (!p) die("out of memory");
  return p;
}

/* Reads the server's CPU time in ns: the sum over its threads of the run time in
 * /proc/PID/task/TID/schedstat (ns precision), or utime+stime of /proc/PID/stat
 * (clock ticks) where schedstat is missing. Returns 0 if neither can be read. */
static uint64_t server_cpu_ns(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR* dir = opendir(path);
  uint64_t total = 0;
  bool ok = false;
  if (dir) {
    struct dirent* de;
    while ((de = readdir(dir)) != NULL) {
      if (de->d_name[0] == '.') continue;
      char p[320];
      snprintf(p, sizeof p, "/proc/%d/task/%s/schedstat", pid, de->d_name);
      FILE* f = fopen(p, "r");
      if (!f) continue;
      unsigned long long run = 0;
      if (fscanf(f, "%llu", &run) == 1) {
        total += run;
        ok = true;
      }
      fclose(f);
    }
    closedir(dir);
  }
  if (ok) return total;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  if (!p) return 0;
  unsigned long long utime = 0, stime = 0;
  /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt
   * cmajflt utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return (utime + stime) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* ---- latency histogram: log-linear buckets, under 1.6% relative error ---------------- */

#define SUB_BITS 6
#define SUB (1u << SUB_BITS)
#define NBUCKETS (64 * SUB)

static uint64_t hist[NBUCKETS];
static uint64_t hist_count;
static uint64_t hist_max;

static unsigned bucket_of(uint64_t v) {
  if (v < 2 * SUB) return (unsigned)v;
  unsigned msb = 63u - (unsigned)__builtin_clzll(v);
  unsigned shift = msb - SUB_BITS;
  return shift * SUB + (unsigned)(v >> shift);
}

static uint64_t bucket_value(unsigned b) {
  if (b < 2 * SUB) return b;
  unsigned shift = b / SUB - 1;
  uint64_t lo = (uint64_t)(b - shift * SUB) << shift;
  return lo + ((1ull << shift) >> 1); /* middle of the bucket */
}

static void hist_add(uint64_t ns) {
  hist[bucket_of(ns)]++;
  hist_count++;
  if (ns > hist_max) hist_max = ns;
}

static void hist_reset(void) {
  memset(hist, 0, sizeof hist);
  hist_count = 0;
  hist_max = 0;
}

static double hist_pct_us(double q) {
  if (hist_count == 0) return 0;
  uint64_t rank = (uint64_t)(q * (double)hist_count);
  if (rank >= hist_count) rank = hist_count - 1;
  uint64_t seen = 0;
  for (unsigned b = 0; b < NBUCKETS; b++) {
    seen += hist[b];
    if (seen > rank) return (double)bucket_value(b) / 1000.0;
  }
  return (double)hist_max / 1000.0;
}

/* ---- the byte pattern every connection sends and checks -------------------------------
 * Byte k of connection c's stream is pattern[(seed(c) + k) % PLEN]. The buffer repeats
 * the pattern past PLEN so that any slice of up to MAXIO bytes is contiguous. */

#define PLEN 65521u /* prime, so streams of different connections differ */
#define MAXIO (256u * 1024u)
#define RBUF (64u * 1024u)

static unsigned char* pattern;

static void pattern_init(void) {
  pattern = malloc(PLEN + MAXIO);
  if (!pattern) die("out of memory");
  uint32_t x = 2463534242u;
  for (unsigned i = 0; i < PLEN; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    pattern[i] = (unsigned char)(x >> 24);
  }
  for (unsigned i = PLEN; i < PLEN + MAXIO; i++) pattern[i] = pattern[i - PLEN];
}

static const unsigned char* pattern_at(uint32_t seed, uint64_t offset) {
  return pattern + (uint32_t)((seed + offset) % PLEN);
}

/* ---- connections --------------------------------------------------------------------- */

enum cstate { CS_CONNECTING, CS_PROBING, CS_IDLE, CS_ACTIVE, CS_CLOSED };

struct conn {
  int fd;
  enum cstate state;
  bool active; /* measured connection (echo/idle) or churn worker */
  bool want_out;
  uint32_t seed;
  uint64_t sent;      /* bytes written */
  uint64_t scheduled; /* bytes that should have been written */
  uint64_t recvd;     /* bytes received and checked */
  uint64_t started;   /* churn: when this cycle began */
  uint64_t* stamps;   /* send time of each message in flight, ring of `pipeline` */
};

static int epfd;
static struct sockaddr_in server_addr;
static struct conn* conns;
static int nconns;
static int nsources = 1;
static unsigned char rbuf[RBUF];

/* counters of the measured window */
static bool measuring;
static uint64_t msgs_done;
static uint64_t errors;
static uint64_t total_msgs;

static void set_events(struct conn* c, bool out) {
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl MOD: %s", strerror(errno));
  c->want_out = out;
}

/* Opens a non-blocking socket for connection number `index` and starts connecting. */
static int start_connect(struct conn* c, int index) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (opt.nodelay) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (nsources > 1) {
    /* Spread over 127.0.0.1..K; the port is chosen at connect() time, per 4-tuple. */
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in local = {.sin_family = AF_INET};
    local.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(index % nsources));
    if (bind(fd, (struct sockaddr*)&local, sizeof local) < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
  }
  if (connect(fd, (struct sockaddr*)&server_addr, sizeof server_addr) < 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return -e;
  }
  c->fd = fd;
  c->state = CS_CONNECTING;
  c->sent = c->scheduled = c->recvd = 0;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl ADD: %s", strerror(errno));
  c->want_out = true;
  return 0;
}

static void close_conn(struct conn* c) {
  if (c->fd >= 0) close(c->fd); /* closing removes it from the epoll set */
  c->fd = -1;
  c->state = CS_CLOSED;
}

/* Writes what is scheduled and not yet sent; arms EPOLLOUT only while some is left. */
static int flush_conn(struct conn* c) {
  while (c->sent < c->scheduled) {
    uint64_t left = c->scheduled - c->sent;
    size_t n = left > MAXIO ? MAXIO : (size_t)left;
    ssize_t w = send(c->fd, pattern_at(c->seed, c->sent), n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return -errno;
    }
    c->sent += (uint64_t)w;
  }
  bool out = c->sent < c->scheduled;
  if (out != c->want_out) set_events(c, out);
  return 0;
}

/* Schedules one more message of `size` bytes, stamped `t`. */
static void schedule_msg(struct conn* c, uint64_t t) {
  uint64_t index = c->scheduled / (uint64_t)opt.size;
  c->stamps[index % (uint64_t)opt.pipeline] = t;
  c->scheduled += (uint64_t)opt.size;
}

/* Reads and checks what arrived. Returns bytes read, 0 on EOF, -errno on error, and
 * -EBADMSG when a byte differs from what was sent (or more came back than was sent). */
static ssize_t read_checked(struct conn* c) {
  for (;;) {
    ssize_t r = recv(c->fd, rbuf, RBUF, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (r == 0) return 0;
    if (c->recvd + (uint64_t)r > c->sent) return -EBADMSG;
    if (memcmp(rbuf, pattern_at(c->seed, c->recvd), (size_t)r) != 0) return -EBADMSG;
    c->recvd += (uint64_t)r;
    return r;
  }
}

static void conn_failed(struct conn* c, const char* what, int err) {
  if (err == -EBADMSG) {
    fprintf(stderr, "loadgen: connection %ld: echoed bytes differ from those sent\n", (long)(c - conns));
    fflush(stderr);
    exit(1);
  }
  errors++;
  if (errors <= 5) fprintf(stderr, "loadgen: connection %ld: %s: %s\n", (long)(c - conns), what, strerror(-err));
  close_conn(c);
}

/* Checks the outcome of a non-blocking connect. */
static int connect_result(struct conn* c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
  return -err;
}

/* ---- echo: pipelined ping-pong on established connections ------------------------------ */

static void echo_begin(struct conn* c, uint64_t t) {
  /* Start the message stream after the probe byte, so messages align on offset 0. */
  c->seed = (uint32_t)((c->seed + c->recvd) % PLEN);
  c->sent = c->scheduled = c->recvd = 0;
  c->state = CS_ACTIVE;
  for (int i = 0; i < opt.pipeline; i++) schedule_msg(c, t);
  int e = flush_conn(c);
  if (e < 0) conn_failed(c, "send", e);
}

static void echo_event(struct conn* c, uint32_t events) {
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    uint64_t before = c->recvd / (uint64_t)opt.size;
    ssize_t r = read_checked(c);
    if (r <= 0) {
      conn_failed(c, "recv", r == 0 ? -ECONNRESET : (int)r);
      return;
    }
    uint64_t after = c->recvd / (uint64_t)opt.size;
    if (after > before) {
      uint64_t t = now_ns();
      for (uint64_t k = before; k < after; k++) {
        if (measuring) {
          hist_add(t - c->stamps[k % (uint64_t)opt.pipeline]);
          msgs_done++;
        }
        total_msgs++;
        schedule_msg(c, t);
      }
    }
  }
  int e = flush_conn(c);
  if (e < 0) conn_failed(c, "send", e);
}

/* ---- churn: connect, echo, close, again ------------------------------------------------ */

static int churn_index; /* spreads source addresses */

static void churn_start(struct conn* c) {
  for (int tries = 0; tries < 3; tries++) {
    c->started = now_ns();
    int e = start_connect(c, churn_index++);
    if (e == 0) return;
    errors++;
    if (errors <= 5) fprintf(stderr, "loadgen: connect: %s\n", strerror(-e));
  }
  c->state = CS_CLOSED;
}

static void churn_event(struct conn* c, uint32_t events) {
  if (c->state == CS_CONNECTING) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int e = connect_result(c);
    if (e < 0) {
      conn_failed(c, "connect", e);
      churn_start(c);
      return;
    }
    c->state = CS_ACTIVE;
    c->scheduled = (uint64_t)opt.size;
    c->seed = (uint32_t)(c->started % PLEN);
    e = flush_conn(c);
    if (e < 0) {
      conn_failed(c, "send", e);
      churn_start(c);
    }
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    ssize_t r = read_checked(c);
    if (r <= 0) {
      conn_failed(c, "recv", r == 0 ? -ECONNRESET : (int)r);
      churn_start(c);
      return;
    }
    if (c->recvd == (uint64_t)opt.size) {
      uint64_t t = now_ns();
      if (measuring) {
        hist_add(t - c->started);
        msgs_done++;
      }
      total_msgs++;
      if (opt.resets && (total_msgs & 1)) {
        struct linger reset = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      }
      close_conn(c);
      churn_start(c);
      return;
    }
  }
  int e = flush_conn(c);
  if (e < 0) {
    conn_failed(c, "send", e);
    churn_start(c);
  }
}

/* ---- setup: open connections, each proved by a one-byte echo --------------------------- */

#define SETUP_WINDOW 100 /* connections being opened at once: below every server's listen backlog */

/* Opens conns[first..first+count) and waits until each has echoed one byte. */
static void open_connections(int first, int count) {
  uint64_t deadline = now_ns() + (uint64_t)(opt.setup_timeout * 1e9);
  int next = first, end = first + count, pending = 0, ready = 0;
  struct epoll_event evs[256];
  while (ready < count) {
    while (pending < SETUP_WINDOW && next < end) {
      struct conn* c = &conns[next];
      c->seed = (uint32_t)((uint64_t)next * 7919u % PLEN);
      int e = start_connect(c, next);
      if (e < 0) die("connection %d: connect to port %d: %s", next, opt.port, strerror(-e));
      next++;
      pending++;
    }
    uint64_t t = now_ns();
    if (t > deadline) die("only %d of %d connections were ready after %.0f s", ready, count, opt.setup_timeout);
    int n = epoll_wait(epfd, evs, 256, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      struct conn* c = evs[i].data.ptr;
      int e = 0;
      if (c->state == CS_CONNECTING) {
        if (!(evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
        e = connect_result(c);
        if (e == 0) {
          c->state = CS_PROBING;
          c->scheduled = 1;
          e = flush_conn(c);
        }
      } else if (c->state == CS_PROBING) {
        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
          ssize_t r = read_checked(c);
          if (r == 0)
            e = -ECONNRESET;
          else if (r < 0)
            e = (int)r;
          else if (c->recvd == c->scheduled) {
            c->state = CS_IDLE;
            pending--;
            ready++;
          }
        } else {
          e = flush_conn(c);
        }
      } else if (c->state == CS_IDLE) {
        die("idle connection %ld: unexpected event (server closed it?)", (long)(c - conns));
      }
      if (e == -EBADMSG) conn_failed(c, "probe", e);
      if (e < 0) die("connection %ld: %s", (long)(c - conns), strerror(-e));
    }
  }
}

/* ---- the measured run ------------------------------------------------------------------ */

static void run_loop(int first_active, int nactive) {
  uint64_t t0 = now_ns();
  for (int i = first_active; i < first_active + nactive; i++) {
    if (opt.mode == MODE_CHURN)
      churn_start(&conns[i]);
    else
      echo_begin(&conns[i], t0);
  }
  uint64_t warm_end = t0 + (uint64_t)(opt.warmup * 1e9);
  uint64_t end = warm_end + (uint64_t)(opt.duration * 1e9);
  uint64_t t_start = 0, cpu_start = 0;
  if (opt.warmup <= 0) {
    measuring = true;
    t_start = t0;
    if (opt.server_pid) cpu_start = server_cpu_ns(opt.server_pid);
  }
  struct epoll_event evs[512];
  for (;;) {
    uint64_t t = now_ns();
    if (!measuring && t >= warm_end) {
      hist_reset();
      msgs_done = 0;
      measuring = true;
      t_start = t;
      if (opt.server_pid) cpu_start = server_cpu_ns(opt.server_pid);
    }
    if (t >= end) break;
    if (opt.cycles && measuring && msgs_done >= (uint64_t)opt.cycles) break;
    uint64_t next = measuring ? end : warm_end;
    int timeout_ms = (int)((next - t) / 1000000u) + 1;
    int n = epoll_wait(epfd, evs, 512, timeout_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      struct conn* c = evs[i].data.ptr;
      if (c->state == CS_IDLE) die("idle connection %ld: unexpected event (server closed it?)", (long)(c - conns));
      if (c->state == CS_CLOSED) continue;
      if (opt.mode == MODE_CHURN)
        churn_event(c, evs[i].events);
      else
        echo_event(c, evs[i].events);
    }
    if (opt.mode != MODE_CHURN) {
      bool any = false;
      for (int i = first_active; i < first_active + nactive; i++) any |= conns[i].state == CS_ACTIVE;
      if (!any) break;
    }
  }
  uint64_t t_end = now_ns();
  uint64_t cpu_end = opt.server_pid ? server_cpu_ns(opt.server_pid) : 0;
  double secs = measuring ? (double)(t_end - t_start) / 1e9 : 0;
  double rate = secs > 0 ? (double)msgs_done / secs : 0;

  printf("mode=%s connections=%d pipeline=%d size=%d",
         opt.mode == MODE_ECHO   ? "echo"
         : opt.mode == MODE_IDLE ? "idle"
                                 : "churn",
         nactive, opt.pipeline, opt.size);
  if (opt.mode == MODE_IDLE) printf(" idle=%d", opt.idle);
  if (opt.mode == MODE_CHURN) printf(" resets=%s", opt.resets ? "half" : "none");
  printf(" seconds=%.3f msgs=%llu", secs, (unsigned long long)msgs_done);
  if (opt.mode == MODE_CHURN)
    printf(" conns_per_s=%.1f", rate);
  else
    printf(" msgs_per_s=%.1f mb_per_s=%.3f", rate, rate * opt.size / 1e6);
  printf(" p50_us=%.2f p90_us=%.2f p99_us=%.2f p999_us=%.2f max_us=%.2f errors=%llu", hist_pct_us(0.50),
         hist_pct_us(0.90), hist_pct_us(0.99), hist_pct_us(0.999), (double)hist_max / 1000.0,
         (unsigned long long)errors);
  bool have_cpu = opt.server_pid && cpu_end >= cpu_start && cpu_start > 0;
  double cpu_s = have_cpu ? (double)(cpu_end - cpu_start) / 1e9 : 0;
  if (have_cpu) {
    printf(" server_cpu_s=%.4f server_cpu_pct=%.1f server_cpu_us_per_msg=%.3f", cpu_s,
           secs > 0 ? 100.0 * cpu_s / secs : 0, msgs_done ? cpu_s * 1e6 / (double)msgs_done : 0);
    /* In churn a "message" is a whole connection: the same figure under its real name. */
    if (opt.mode == MODE_CHURN) printf(" server_cpu_us_per_conn=%.3f", msgs_done ? cpu_s * 1e6 / (double)msgs_done : 0);
  }
  printf("\n");
  if (opt.mode == MODE_CHURN)
    printf("# %.0f connect+echo+close cycles/s over %.1f s with %d workers; cycle p50 %.1f us, p99 %.1f us\n", rate,
           secs, nactive, hist_pct_us(0.5), hist_pct_us(0.99));
  else
    printf(
        "# %.0f msgs/s (%.2f MB/s each way) over %.1f s, %d conns x %d in flight x %d B; rtt p50 %.1f us p99 %.1f us "
        "p99.9 %.1f us%s\n",
        rate, rate * opt.size / 1e6, secs, nactive, opt.pipeline, opt.size, hist_pct_us(0.5), hist_pct_us(0.99),
        hist_pct_us(0.999), opt.mode == MODE_IDLE ? " (with idle connections open)" : "");
  fflush(stdout);
  if (msgs_done == 0) die("no message completed in the measured window");
}

/* ---- main ------------------------------------------------------------------------------ */

static int ephemeral_ports(void) {
  FILE* f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
  int lo = 32768, hi = 60999;
  if (f) {
    if (fscanf(f, "%d %d", &lo, &hi) != 2) lo = 32768, hi = 60999;
    fclose(f);
  }
  return hi - lo + 1;
}

static void raise_nofile(int needed) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)needed + 16 > rl.rlim_cur)
    die("%d connections need more descriptors than the limit of %llu", needed, (unsigned long long)rl.rlim_cur);
}

static double parse_double(const char* s, const char* name) {
  char* end;
  double v = strtod(s, &end);
  if (*end || v < 0 || v > 3600) {
    fprintf(stderr, "loadgen: bad value for %s: %s\n", name, s);
    exit(2);
  }
  return v;
}

static int parse_int(const char* s, const char* name, long lo, long hi) {
  char* end;
  long v = strtol(s, &end, 10);
  if (*end || v < lo || v > hi) {
    fprintf(stderr, "loadgen: bad value for %s: %s (%ld..%ld)\n", name, s, lo, hi);
    exit(2);
  }
  return (int)v;
}

int main(int argc, char** argv) {
  static const struct option longopts[] = {{"host", required_argument, 0, 'h'},
                                           {"port", required_argument, 0, 'p'},
                                           {"connections", required_argument, 0, 'c'},
                                           {"pipeline", required_argument, 0, 'P'},
                                           {"size", required_argument, 0, 's'},
                                           {"warmup", required_argument, 0, 'w'},
                                           {"duration", required_argument, 0, 'd'},
                                           {"mode", required_argument, 0, 'm'},
                                           {"idle", required_argument, 0, 'i'},
                                           {"sources", required_argument, 0, 'S'},
                                           {"server-pid", required_argument, 0, 'x'},
                                           {"no-nodelay", no_argument, 0, 'n'},
                                           {"setup-timeout", required_argument, 0, 't'},
                                           {"resets", no_argument, 0, 'r'},
                                           {"cycles", required_argument, 0, 'k'},
                                           {"help", no_argument, 0, '?'},
                                           {0, 0, 0, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
      case 'h': opt.host = optarg; break;
      case 'p': opt.port = parse_int(optarg, "--port", 1, 65535); break;
      case 'c': opt.connections = parse_int(optarg, "--connections", 1, 20000); break;
      case 'P': opt.pipeline = parse_int(optarg, "--pipeline", 1, 1024); break;
      case 's': opt.size = parse_int(optarg, "--size", 1, 1 << 20); break;
      case 'w': opt.warmup = parse_double(optarg, "--warmup"); break;
      case 'd': opt.duration = parse_double(optarg, "--duration"); break;
      case 'i': opt.idle = parse_int(optarg, "--idle", 0, 1000000); break;
      case 'S': opt.sources = parse_int(optarg, "--sources", 1, 254); break;
      case 'x': opt.server_pid = parse_int(optarg, "--server-pid", 1, 1 << 30); break;
      case 'n': opt.nodelay = 0; break;
      case 't': opt.setup_timeout = parse_double(optarg, "--setup-timeout"); break;
      case 'r': opt.resets = 1; break;
      case 'k': opt.cycles = parse_int(optarg, "--cycles", 1, 100000000); break;
      case 'm':
        if (!strcmp(optarg, "echo"))
          opt.mode = MODE_ECHO;
        else if (!strcmp(optarg, "idle"))
          opt.mode = MODE_IDLE;
        else if (!strcmp(optarg, "churn"))
          opt.mode = MODE_CHURN;
        else {
          fprintf(stderr, "loadgen: unknown mode %s (echo, idle, churn)\n", optarg);
          return 2;
        }
        break;
      default: usage(ch == '?' ? stdout : stderr); return 2;
    }
  }
  if (optind < argc || opt.port == 0) {
    usage(stderr);
    return 2;
  }
  if ((uint64_t)opt.pipeline * (uint64_t)opt.size > MAXIO * 64u) {
    fprintf(stderr, "loadgen: pipeline x size is too large\n");
    return 2;
  }
  server_addr.sin_family = AF_INET;
  server_addr.sin_port = htons((uint16_t)opt.port);
  if (inet_pton(AF_INET, opt.host, &server_addr.sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be a numeric IPv4 address: %s\n", opt.host);
    return 2;
  }
  if ((ntohl(server_addr.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "loadgen: refusing to load %s: only loopback (127.0.0.0/8) is allowed\n", opt.host);
    return 2;
  }

  int nidle = opt.mode == MODE_IDLE ? opt.idle : 0;
  nconns = nidle + opt.connections;
  raise_nofile(nconns);
  /* Each source address has its own ephemeral ports toward one server address; use
   * more sources when the connections (or churn's TIME_WAIT sockets) could run short. */
  int ports = ephemeral_ports();
  if (opt.sources)
    nsources = opt.sources;
  else if (opt.mode == MODE_CHURN)
    nsources = 16;
  else
    nsources = (nconns * 2 + ports - 1) / ports;
  if (nsources < 1) nsources = 1;

  pattern_init();
  conns = xcalloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    conns[i].fd = -1;
    conns[i].state = CS_CLOSED;
    conns[i].stamps = NULL;
  }
  for (int i = nidle; i < nconns; i++) conns[i].stamps = xcalloc((size_t)opt.pipeline, sizeof(uint64_t));
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1: %s", strerror(errno));

  if (nidle > 0) {
    uint64_t t = now_ns();
    open_connections(0, nidle);
    printf("idle_ready=%d setup_s=%.3f sources=%d\n", nidle, (double)(now_ns() - t) / 1e9, nsources);
    fflush(stdout);
  }
  if (opt.mode != MODE_CHURN) open_connections(nidle, opt.connections);
  run_loop(nidle, opt.connections);
  return 0;
}
