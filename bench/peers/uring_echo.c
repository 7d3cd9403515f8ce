/* uring_echo: the completion twin of epoll_echo, the "best an io_uring loop can do".
 *
 * torsion's io_uring backend uses the ring for readiness (poll, then recv and send as
 * system calls). This peer uses it the way io_uring is meant to be used, with nothing of
 * torsion in it, so that a measurement can tell what io_uring itself costs on a kernel
 * apart from what torsion adds:
 *   - one thread, one ring (single issuer, deferred task running where the kernel has it);
 *   - one multishot accept for the listener;
 *   - one multishot recv per connection into a provided buffer ring (NBUFS x BUF_SIZE);
 *   - the echo is a send straight from the received buffer, which goes back to the
 *     buffer ring when the send has completed;
 *   - one io_uring_submit_and_wait per loop pass, then every completion reaped.
 * Nothing is allocated per message (the connection table grows per descriptor only).
 *
 * A connection whose peer does not read keeps its buffers until it does; when the
 * buffer ring runs dry every multishot recv ends with ENOBUFS and is armed again once
 * buffers come back, so a slow reader holds at most the ring, never more memory.
 *
 * usage: uring_echo [--port P]   (0 = the system picks; listens on 127.0.0.1 only)
 * Exits with 77 where io_uring cannot be used here (disabled, seccomp, old kernel).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define NBUFS 512 /* a power of two: the buffer ring's size */
#define BUF_SIZE (16 * 1024)
#define BGID 1
#define SQ_ENTRIES 1024
#define CQ_ENTRIES 8192
#define NONE 0xffff
#define EXIT_UNAVAILABLE 77

enum op { OP_ACCEPT, OP_RECV, OP_SEND };

/* A connection's recv: armed (multishot running), starved (ended with ENOBUFS, waits for
 * buffers), or done (end of stream, error, or shut down by us). */
enum recv_state { RECV_ARMED, RECV_STARVED, RECV_DONE };

/* Sends keep order with a FIFO of received buffers per connection, and at most one send
 * in flight: a linked chain would not, since a short send completes without breaking
 * the link and the next send would then overtake the rest of the bytes. */
struct conn {
  enum recv_state recv;
  int open;      /* 0 once the connection is closing: nothing more is sent */
  int sending;   /* the head of the FIFO is in a send */
  uint16_t head; /* FIFO of buffer ids, linked through buf_next; NONE when empty */
  uint16_t tail;
};

static struct io_uring ring;
static struct io_uring_buf_ring* br;
static char* bufs;
static uint32_t buf_len[NBUFS], buf_off[NBUFS];
static uint16_t buf_next[NBUFS];
static int recycled; /* buffers added to the ring since its tail was last advanced */
static int in_ring;  /* buffers the kernel can pick, as far as the completions reaped say */
static int starved;  /* connections whose recv waits for buffers */

static struct conn* conns; /* indexed by descriptor */
static size_t nconns;

static void fatal(const char* what, int err) {
  fprintf(stderr, "uring_echo: %s: %s\n", what, strerror(err));
  exit(1);
}

static uint64_t tag(enum op op, int fd, unsigned bid) {
  return (uint64_t)op << 48 | (uint64_t)bid << 32 | (uint32_t)fd;
}

static struct io_uring_sqe* sqe_get(void) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (!sqe) { /* more completions than the queue holds: hand these over first */
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
    if (!sqe) fatal("io_uring_get_sqe", EBUSY);
  }
  return sqe;
}

static void arm_accept(int lfd) {
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, tag(OP_ACCEPT, lfd, 0));
}

static void arm_recv(int fd) {
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = BGID;
  io_uring_sqe_set_data64(sqe, tag(OP_RECV, fd, 0));
  conns[fd].recv = RECV_ARMED;
}

static void send_head(int fd) {
  unsigned bid = conns[fd].head;
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_send(sqe, fd, bufs + (size_t)bid * BUF_SIZE + buf_off[bid], buf_len[bid] - buf_off[bid], MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, tag(OP_SEND, fd, bid));
  conns[fd].sending = 1;
}

static void recycle(unsigned bid) {
  io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid, io_uring_buf_ring_mask(NBUFS),
                        recycled++);
  in_ring++;
}

static void conn_grow(int fd) {
  if ((size_t)fd < nconns) return;
  size_t n = nconns ? nconns : 1024;
  while (n <= (size_t)fd) n *= 2;
  conns = realloc(conns, n * sizeof *conns);
  if (!conns) fatal("realloc", ENOMEM);
  memset(conns + nconns, 0, (n - nconns) * sizeof *conns);
  nconns = n;
}

/* Stops sending: buffers not yet in a send go back to the ring. The descriptor is closed
 * only once no operation of it is in flight, so that its number cannot be reused while
 * a completion for the old connection is still to come. */
static void conn_shut(int fd) {
  struct conn* c = &conns[fd];
  if (c->open) {
    c->open = 0;
    uint16_t bid = c->sending ? buf_next[c->head] : c->head;
    while (bid != NONE) {
      uint16_t next = buf_next[bid];
      recycle(bid);
      bid = next;
    }
    if (c->sending)
      buf_next[c->head] = NONE, c->tail = c->head;
    else
      c->head = c->tail = NONE;
    /* A multishot recv still armed ends with 0 once the socket is shut. */
    if (c->recv == RECV_ARMED) shutdown(fd, SHUT_RDWR);
  }
  if (c->recv == RECV_STARVED) c->recv = RECV_DONE;
  if (c->recv == RECV_DONE && !c->sending) close(fd);
}

static void on_accept(int lfd, struct io_uring_cqe* cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept(lfd);
  if (cqe->res < 0) {
    if (cqe->res != -ECONNABORTED && cqe->res != -EINTR)
      fprintf(stderr, "uring_echo: accept: %s\n", strerror(-cqe->res));
    return;
  }
  int fd = cqe->res, one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  conn_grow(fd);
  conns[fd] = (struct conn){.open = 1, .head = NONE, .tail = NONE};
  arm_recv(fd);
}

static void on_recv(int fd, struct io_uring_cqe* cqe) {
  struct conn* c = &conns[fd];
  int more = cqe->flags & IORING_CQE_F_MORE;
  if (cqe->res > 0) {
    unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    in_ring--;
    if (!c->open) {
      recycle(bid);
    } else {
      buf_len[bid] = (uint32_t)cqe->res;
      buf_off[bid] = 0;
      buf_next[bid] = NONE;
      if (c->tail == NONE)
        c->head = (uint16_t)bid;
      else
        buf_next[c->tail] = (uint16_t)bid;
      c->tail = (uint16_t)bid;
      if (!c->sending) send_head(fd);
    }
    if (more) return;
    if (c->open) { /* the kernel ended the multishot (e.g. its CQ overflowed): again */
      arm_recv(fd);
      return;
    }
    c->recv = RECV_DONE;
  } else if (cqe->res == -ENOBUFS && c->open) {
    c->recv = RECV_STARVED;
    starved++;
    return;
  } else {
    c->recv = RECV_DONE; /* end of stream or error */
  }
  conn_shut(fd);
}

static void on_send(int fd, unsigned bid, struct io_uring_cqe* cqe) {
  struct conn* c = &conns[fd];
  if (cqe->res > 0 && c->open) {
    buf_off[bid] += (uint32_t)cqe->res;
    if (buf_off[bid] < buf_len[bid]) { /* a short send: the rest, before anything else */
      send_head(fd);
      return;
    }
  }
  c->sending = 0;
  c->head = buf_next[bid];
  if (c->head == NONE) c->tail = NONE;
  recycle(bid);
  if (cqe->res <= 0 || !c->open)
    conn_shut(fd);
  else if (c->head != NONE)
    send_head(fd);
}

/* Re-arms the recvs that ran dry, now that buffers are back in the ring. */
static void feed_starved(void) {
  for (size_t fd = 0; fd < nconns && starved; fd++)
    if (conns[fd].recv == RECV_STARVED) {
      starved--;
      if (conns[fd].open) arm_recv((int)fd);
    }
  starved = 0;
}

static void ring_setup(void) {
  static const struct {
    unsigned flags;
    const char* name;
  } tries[] = {
      {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "single_issuer|defer_taskrun"},
      {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, "coop_taskrun|taskrun_flag"},
      {0, "no flags"},
  };
  int err = 0;
  for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
    struct io_uring_params p = {.flags = tries[i].flags | IORING_SETUP_CQSIZE, .cq_entries = CQ_ENTRIES};
    err = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
    if (err == 0) {
      fprintf(stderr, "uring_echo: ring set up with %s\n", tries[i].name);
      break;
    }
    if (err != -EINVAL) break; /* refused outright: no other flags will do */
  }
  if (err == -EPERM || err == -ENOSYS) { /* disabled (sysctl, seccomp) or not in this kernel */
    fprintf(stderr, "uring_echo: io_uring is unavailable here: %s\n", strerror(-err));
    exit(EXIT_UNAVAILABLE);
  }
  if (err) fatal("io_uring_queue_init_params", -err);
  io_uring_register_ring_fd(&ring); /* saves a descriptor lookup per enter; optional */

  size_t ring_bytes = NBUFS * sizeof(struct io_uring_buf);
  br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (br == MAP_FAILED) fatal("mmap", errno);
  io_uring_buf_ring_init(br);
  struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)br, .ring_entries = NBUFS, .bgid = BGID};
  if ((err = io_uring_register_buf_ring(&ring, &reg, 0))) fatal("io_uring_register_buf_ring", -err);
  bufs = malloc((size_t)NBUFS * BUF_SIZE);
  if (!bufs) fatal("malloc", ENOMEM);
  for (unsigned bid = 0; bid < NBUFS; bid++) recycle(bid);
  io_uring_buf_ring_advance(br, recycled);
  recycled = 0;
}

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc)
      port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: uring_echo [--port P]\n");
      return 2;
    }
  }
  ring_setup();
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) fatal("socket", errno);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0) fatal("bind", errno);
  if (listen(lfd, SOMAXCONN) < 0) fatal("listen", errno);
  socklen_t len = sizeof addr;
  getsockname(lfd, (struct sockaddr*)&addr, &len);
  arm_accept(lfd);
  printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  fflush(stdout);

  for (;;) {
    int err = io_uring_submit_and_wait(&ring, 1);
    if (err < 0 && err != -EINTR && err != -EAGAIN && err != -EBUSY) fatal("io_uring_submit_and_wait", -err);
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      uint64_t t = io_uring_cqe_get_data64(cqe);
      int fd = (int)(uint32_t)t;
      switch ((enum op)(t >> 48)) {
        case OP_ACCEPT: on_accept(fd, cqe); break;
        case OP_RECV: on_recv(fd, cqe); break;
        case OP_SEND: on_send(fd, (unsigned)(t >> 32) & 0xffff, cqe); break;
      }
      seen++;
    }
    io_uring_cq_advance(&ring, seen);
    if (recycled) {
      io_uring_buf_ring_advance(br, recycled);
      recycled = 0;
    }
    /* Not only when buffers came back in this pass: without deferred task running the
     * ENOBUFS can be reported a pass after the buffers that would have served it. */
    if (starved && in_ring > 0) feed_starved();
  }
}
