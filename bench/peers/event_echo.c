/* event_echo: echo server on libevent 2.1 with an evconnlistener and one bufferevent per
 * connection; the read callback moves the whole input buffer to the output buffer.
 * Reads are allowed up to 64 KiB (bufferevent_set_max_single_read), as a user who
 * tunes libevent would set; its default of 4 KiB would handicap it.
 *
 * usage: event_echo [--port P]   (0 = the system picks; listens on 127.0.0.1 only)
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void on_read(struct bufferevent* bev, void* ctx) {
  (void)ctx;
  evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void on_event(struct bufferevent* bev, short events, void* ctx) {
  (void)ctx;
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

static void on_accept(struct evconnlistener* listener, evutil_socket_t fd, struct sockaddr* addr, int len, void* ctx) {
  (void)addr;
  (void)len;
  (void)ctx;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct event_base* base = evconnlistener_get_base(listener);
  struct bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    evutil_closesocket(fd);
    return;
  }
  bufferevent_set_max_single_read(bev, 64 * 1024);
  bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc)
      port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: event_echo [--port P]\n");
      return 2;
    }
  }
  struct event_base* base = event_base_new();
  if (!base) {
    fprintf(stderr, "event_echo: event_base_new failed\n");
    return 1;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct evconnlistener* listener =
      evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, SOMAXCONN,
                              (struct sockaddr*)&addr, sizeof addr);
  if (!listener) {
    perror("event_echo: listen");
    return 1;
  }
  struct sockaddr_in bound;
  socklen_t len = sizeof bound;
  getsockname(evconnlistener_get_fd(listener), (struct sockaddr*)&bound, &len);
  fprintf(stderr, "event_echo: libevent %s, backend %s\n", event_get_version(), event_base_get_method(base));
  printf("listening on 127.0.0.1:%d\n", ntohs(bound.sin_port));
  fflush(stdout);
  return event_base_dispatch(base);
}
