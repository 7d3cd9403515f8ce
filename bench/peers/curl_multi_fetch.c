/* A load client on libcurl's multi interface, for bench/http_fetch: N transfers in
 * flight over N persistent connections to one URL, each transfer re-added as soon as it
 * completes, as a competent libcurl user would write it (one multi handle, curl_multi_poll,
 * connection reuse, TCP_NODELAY). Prints one line of results; see bench/README.md.
 *
 *   curl_multi_fetch --url URL --connections N --duration S [--warmup S]
 */
#include <curl/curl.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 1024
#define MAX_SAMPLES (1u << 22)

struct transfer {
  CURL* easy;
  double started;
  size_t bytes;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of this process, in microseconds, from /proc/self/stat. */
static double cpuMicros(void) {
  FILE* f = fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char buffer[1024];
  size_t n = fread(buffer, 1, sizeof buffer - 1, f);
  fclose(f);
  buffer[n] = '\0';
  const char* p = strrchr(buffer, ')');
  if (!p) return 0;
  unsigned long utime = 0, stime = 0;
  /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return 0;
  return (double)(utime + stime) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static size_t discard(char* data, size_t size, size_t count, void* user) {
  (void)data;
  ((struct transfer*)user)->bytes += size * count;
  return size * count;
}

static int compareDoubles(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static void usage(FILE* to) {
  fprintf(to, "usage: curl_multi_fetch --url URL --connections N --duration S [--warmup S]\n");
}

int main(int argc, char** argv) {
  const char* url = NULL;
  long connections = 16;
  double duration = 5, warmup = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      usage(stderr);
      return 2;
    }
    if (!strcmp(argv[i], "--url"))
      url = argv[++i];
    else if (!strcmp(argv[i], "--connections"))
      connections = strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--duration"))
      duration = strtod(argv[++i], NULL);
    else if (!strcmp(argv[i], "--warmup"))
      warmup = strtod(argv[++i], NULL);
    else {
      usage(stderr);
      return 2;
    }
  }
  if (!url || connections < 1 || connections > MAX_CONNECTIONS || duration <= 0) {
    usage(stderr);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, connections);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, connections);

  static struct transfer transfers[MAX_CONNECTIONS];
  double* samples = malloc(sizeof(double) * MAX_SAMPLES);
  size_t sampleCount = 0;
  uint64_t requests = 0, errors = 0;

  const double start = now();
  const double measureFrom = start + warmup, end = measureFrom + duration;
  double cpuStart = cpuMicros();
  int measuring = warmup <= 0;

  for (long i = 0; i < connections; ++i) {
    struct transfer* t = &transfers[i];
    t->easy = curl_easy_init();
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->easy, CURLOPT_TCP_NODELAY, 1L);
    t->started = now();
    curl_multi_add_handle(multi, t->easy);
  }

  int running = 1;
  double measuredStart = measuring ? start : 0;
  while (running) {
    int stillRunning = 0;
    curl_multi_perform(multi, &stillRunning);
    CURLMsg* message;
    int left;
    const double t = now();
    if (!measuring && t >= measureFrom) {
      measuring = 1;
      measuredStart = t;
      cpuStart = cpuMicros();
    }
    while ((message = curl_multi_info_read(multi, &left))) {
      if (message->msg != CURLMSG_DONE) continue;
      struct transfer* done;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char**)&done);
      long code = 0;
      curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      if (measuring) {
        if (message->data.result != CURLE_OK || code != 200)
          ++errors;
        else {
          ++requests;
          if (sampleCount < MAX_SAMPLES) samples[sampleCount++] = t - done->started;
        }
      }
      curl_multi_remove_handle(multi, done->easy);
      if (t < end) {
        done->bytes = 0;
        done->started = t;
        curl_multi_add_handle(multi, done->easy);
      }
    }
    if (t >= end && stillRunning == 0)
      running = 0;
    else if (t >= end + 5)
      running = 0; /* transfers that hang after the end */
    else
      curl_multi_poll(multi, NULL, 0, 100, NULL);
  }
  const double elapsed = now() - measuredStart;
  const double cpu = cpuMicros() - cpuStart;

  qsort(samples, sampleCount, sizeof(double), compareDoubles);
  const double p50 = sampleCount ? samples[sampleCount / 2] * 1e6 : 0;
  const double p99 = sampleCount ? samples[(size_t)((double)sampleCount * 0.99)] * 1e6 : 0;
  printf("client=curl_multi requests=%llu errors=%llu rps=%.0f p50_us=%.0f p99_us=%.0f cpu_us_per_req=%.2f\n",
         (unsigned long long)requests, (unsigned long long)errors, (double)requests / elapsed, p50, p99,
         requests ? cpu / (double)requests : 0.0);

  for (long i = 0; i < connections; ++i) curl_easy_cleanup(transfers[i].easy);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  free(samples);
  return errors && !requests ? 1 : 0;
}
