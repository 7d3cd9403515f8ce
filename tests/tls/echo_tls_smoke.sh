#!/bin/sh
# Smoke test of the examples over TLS: echo_server --tls-cert/--tls-key on a port the
# system picks, echo_client --tls --cafile against it (verifying "localhost"), and the same
# client without --cafile, which must refuse the test CA's certificate.
# Usage: echo_tls_smoke.sh ECHO_SERVER ECHO_CLIENT CERTIFICATE_DIR
set -u
server=$1 client=$2 certificates=$3
out=$(mktemp)
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
"$server" --port 0 --tls-cert "$certificates/server.pem" --tls-key "$certificates/server.key" > "$out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$out")
[ -n "$port" ] || { echo "echo_server did not start:"; cat "$out"; exit 1; }
"$client" --tls --cafile "$certificates/ca.pem" --host localhost --port "$port" --connections 5 --messages 20 ||
  { echo "echo_client --tls failed"; exit 1; }
if "$client" --tls --host localhost --port "$port" --connections 1 --messages 1 2> "$out.err"; then
  echo "echo_client trusted the test CA without --cafile"; exit 1
fi
grep -q "certificate verify failed" "$out.err" || { echo "no cause in:"; cat "$out.err"; exit 1; }
rm -f "$out.err"
echo "TLS echo smoke test passed"
