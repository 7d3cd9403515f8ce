/* uv_echo: echo server on libuv, written the way a performance-minded libuv user would:
 * reads land in one 64 KiB buffer shared by the loop (libuv's suggested size), each
 * echo is first tried with uv_try_write, and only what the kernel does not take is
 * copied into a write request for uv_write. The only per-connection state is the
 * uv_tcp_t itself.
 *
 * usage: uv_echo [--port P]   (0 = the system picks; listens on 127.0.0.1 only)
 */
#include <uv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char read_buf[64 * 1024];

struct write_req {
  uv_write_t req;
  uv_buf_t buf;
  char data[];
};

static void on_close(uv_handle_t* handle) { free(handle); }

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)handle;
  (void)suggested;
  *buf = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_written(uv_write_t* req, int status) {
  if (status < 0 && !uv_is_closing((uv_handle_t*)req->handle)) uv_close((uv_handle_t*)req->handle, on_close);
  free(req);
}

static void on_read(uv_stream_t* client, ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    uv_close((uv_handle_t*)client, on_close);
    return;
  }
  if (nread == 0) return;
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
  int done = uv_try_write(client, &out, 1);
  if (done == nread) return;
  if (done < 0) {
    if (done != UV_EAGAIN) {
      uv_close((uv_handle_t*)client, on_close);
      return;
    }
    done = 0;
  }
  size_t left = (size_t)nread - (size_t)done;
  struct write_req* w = malloc(sizeof *w + left);
  if (!w) abort();
  memcpy(w->data, buf->base + done, left);
  w->buf = uv_buf_init(w->data, (unsigned)left);
  if (uv_write(&w->req, client, &w->buf, 1, on_written) < 0) {
    free(w);
    uv_close((uv_handle_t*)client, on_close);
  }
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  uv_tcp_t* client = malloc(sizeof *client);
  if (!client) abort();
  uv_tcp_init(server->loop, client);
  if (uv_accept(server, (uv_stream_t*)client) != 0) {
    uv_close((uv_handle_t*)client, on_close);
    return;
  }
  uv_tcp_nodelay(client, 1);
  uv_read_start((uv_stream_t*)client, on_alloc, on_read);
}

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc)
      port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: uv_echo [--port P]\n");
      return 2;
    }
  }
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  int r = uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0);
  if (r == 0) r = uv_listen((uv_stream_t*)&server, SOMAXCONN, on_connection);
  if (r != 0) {
    fprintf(stderr, "uv_echo: %s\n", uv_strerror(r));
    return 1;
  }
  struct sockaddr_in bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&server, (struct sockaddr*)&bound, &len);
  printf("listening on 127.0.0.1:%d\n", ntohs(bound.sin_port));
  fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
