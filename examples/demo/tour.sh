#!/usr/bin/env bash
# examples/demo/tour.sh: the flagship demo, a scripted tour of the lessons in about a
# minute. Run by `scripts/dev demo` after the build; runnable by hand as
#
#   examples/demo/tour.sh [--quick] BUILD_DIR
#
# Steps (each prints what it showed):
#   1. 500 concurrent echo clients against examples/echo_server (one thread, one loop)
#   2. the chat in action: scripted clients through examples/chat_server, the transcript
#   3. a file server login and an upload interrupted, then resumed, with its progress
#      bar (examples file_server / file_client; skipped if they are not built)
#   4. sequential vs concurrent fetch (examples/fetch without a URL; skipped if not built)
#   5. the backend tour table (examples/backend_tour)
# and ends with the total run time. --quick uses tiny numbers (the CTest smoke test).
# TOUR_STEPS (optional) names the steps to run, e.g. "chat_step tour_step".
# Servers listen on 127.0.0.1, on ports the system picks; all are stopped on exit.
set -euo pipefail

quick=0
if [[ ${1:-} == --quick ]]; then
  quick=1
  shift
fi
if [[ $# -ne 1 || ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  [[ $# -eq 1 && ( $1 == -h || $1 == --help ) ]] && exit 0
  exit 2
fi
if [[ $1 == -* ]]; then
  echo "tour.sh: unknown option '$1' (try --help)" >&2
  exit 2
fi
if [[ ! -d $1/examples ]]; then
  echo "tour.sh: '$1' is not a build directory with examples (try --help)" >&2
  exit 2
fi
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d)
SERVERS=()
START=$(date +%s.%N)
failed=0

cleanup() {
  local pid
  for pid in "${SERVERS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVERS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
shown() { printf '    shown: %s\n' "$*"; }
# The program NAME of the build, wherever its example directory is; empty if not built.
program() { find "$BUILD/examples" -type f -name "$1" -perm -u+x 2>/dev/null | head -n 1; }

# start_server LOG PROGRAM ARGS...: starts it in the background and sets PORT from its
# "listening on HOST:PORT" line (within 10 s).
start_server() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  SERVERS+=("$!")
  local pid=$! waited=0
  PORT=''
  while [[ -z $PORT ]]; do
    PORT=$(sed -n 's/^listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
    [[ -n $PORT ]] && break
    if ! kill -0 "$pid" 2>/dev/null || ((waited >= 100)); then
      echo "tour: $(basename "$1") did not start listening:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

stop_server() {
  local pid=${SERVERS[-1]}
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'SERVERS[-1]'
}

echo_step() {
  local connections=500 messages=100
  ((quick)) && connections=50 messages=20
  step "1. $connections concurrent echo clients, one event loop"
  start_server "$WORK/echo.log" "$(program echo_server)" --port 0
  sed 's/^/    /' "$WORK/echo.log"
  "$(program echo_client)" --port "$PORT" --connections "$connections" --messages "$messages" | sed 's/^/    /'
  stop_server
  shown "one thread served $connections connections at once; every echoed byte was checked"
}

chat_step() {
  local idle=2
  ((quick)) && idle=1
  step "2. the chat in action (examples/chat_server --idle-timeout $idle)"
  start_server "$WORK/chat.log" "$(program chat_server)" --port 0 --idle-timeout "$idle"
  python3 "$HERE/chat_script.py" "$PORT"
  stop_server
  shown "nicknames (taken, bad, retried), broadcast, /who, /quit, the line limit and the idle timeout"
}

file_step() {
  local server client
  server=$(program file_server)
  client=$(program file_client)
  step "3. a file server login and a resumed upload"
  if [[ -z $server || -z $client ]]; then
    echo "    skipped: file_server and file_client are not built here"
    return
  fi
  local size=$((8 * 1024 * 1024)) rate=$((4 * 1024 * 1024))
  ((quick)) && size=$((1024 * 1024)) rate=$((512 * 1024))
  mkdir -p "$WORK/root"
  echo "demo:not-a-real-secret" >"$WORK/users"
  head -c "$size" /dev/urandom >"$WORK/upload.bin"
  start_server "$WORK/file.log" "$server" --root "$WORK/root" --users "$WORK/users" --port 0
  local auth=(--host 127.0.0.1 --port "$PORT" --user demo --secret not-a-real-secret)
  echo "    uploading $((size / 1024)) KiB at $((rate / 1024)) KiB/s, killed after 1 s:"
  "$client" "${auth[@]}" --rate "$rate" put "$WORK/upload.bin" upload.bin &
  local upload=$!
  sleep 1
  kill -KILL "$upload" 2>/dev/null || true
  { wait "$upload"; } 2>/dev/null || true
  echo
  echo "    resumed (--resume continues from the byte where it stopped):"
  "$client" "${auth[@]}" --resume put "$WORK/upload.bin" upload.bin
  local want got
  want=$(sha256sum <"$WORK/upload.bin" | cut -d' ' -f1)
  got=$(sha256sum <"$WORK/root/demo/upload.bin" | cut -d' ' -f1)
  stop_server
  echo "    SHA-256 local  $want"
  echo "    SHA-256 server $got"
  [[ $want == "$got" ]] || {
    echo "tour: the resumed upload differs" >&2
    return 1
  }
  shown "an HMAC challenge login, an upload interrupted and resumed, the same SHA-256 on both sides"
}

fetch_step() {
  local fetch
  fetch=$(program fetch)
  step "4. sequential vs concurrent fetch"
  if [[ -z $fetch ]]; then
    echo "    skipped: examples/fetch is not built here"
    return
  fi
  "$fetch" | sed 's/^/    /'
  shown "the same downloads one after another, then all at once on one loop"
}

tour_step() {
  local args=()
  ((quick)) && args=(--idle 20 --clients 5 --rounds 50 --load-rounds 3)
  step "5. the backend tour: select and poll scan every descriptor, epoll and kqueue do not"
  "$(program backend_tour)" "${args[@]}"
  shown "round trips beside idle connections per backend, and the reactor vs threaded_echo"
}

for name in echo_server echo_client chat_server backend_tour; do
  [[ -n $(program "$name") ]] || {
    echo "tour: $name is not built in $BUILD" >&2
    exit 1
  }
done

for run in ${TOUR_STEPS:-echo_step chat_step file_step fetch_step tour_step}; do
  if ! "$run"; then
    echo "tour: step $run FAILED" >&2
    failed=$((failed + 1))
  fi
done

elapsed=$(echo "$(date +%s.%N) - $START" | bc 2>/dev/null || python3 -c "import time;print(round(time.time()-$START,1))")
printf '\n==> tour finished in %.1f s (%d step(s) failed)\n' "$elapsed" "$failed"
((failed == 0))
