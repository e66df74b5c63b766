#!/usr/bin/env bash
# Load run of one page, bare vs behind client.Middleware (bench/load), with wrk,
# on 127.0.0.1 only. Each mode: start the server, check one request with curl,
# run wrk -t$THREADS -c$CONNS -d$DURATION with the minted session cookie, stop it.
#
#   bench/load.sh                      # THREADS=2 CONNS=32 DURATION=10s ROUNDS=1
#   ROUNDS=3 DURATION=10s bench/load.sh  # alternate bare/protected 3 times, keep the best
#
# Installs wrk with apt-get when it is missing (needs root or sudo).
# Per mode it reports the best requests/sec over the rounds and the lowest server
# CPU time per request (user+sys of the server process over the serving phase,
# less sensitive to other load on the machine than requests/sec).
# Last stdout line: {"bareRps":..,"protectedRps":..,"ratio":..,...} (ratio = protected/bare).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-1}

if ! command -v wrk >/dev/null; then
  echo "load.sh: installing wrk" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y --no-install-recommends wrk >&2 || {
    $sudo apt-get update >&2 && $sudo apt-get install -y --no-install-recommends wrk >&2
  }
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/load" ./bench/load

declare -A rps cpu
for round in $(seq "$ROUNDS"); do
for mode in bare protected; do
  # Both modes mint a cookie (the bare page ignores it) so both requests are
  # the same size; -max-lifetime bounds the server if this script dies.
  "$tmp/load" -mode="$mode" -addr 127.0.0.1:0 -cookie-out "$tmp/cookie-$mode" -max-lifetime 5m \
    >"$tmp/$mode.out" 2>"$tmp/$mode.err" &
  pid=$!
  for _ in $(seq 300); do
    grep -q '^listening ' "$tmp/$mode.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/$mode.err" >&2; exit 1; }
    sleep 0.1
  done
  url=$(awk '/^listening /{print $2; exit}' "$tmp/$mode.out")
  [ -n "$url" ] || { echo "load.sh: $mode server did not start" >&2; cat "$tmp/$mode.err" >&2; exit 1; }
  case "$url" in http://127.0.0.1:*) ;; *) echo "load.sh: refusing non-loopback $url" >&2; exit 1 ;; esac
  cookie=$(cat "$tmp/cookie-$mode")
  sed 's/^/  /' "$tmp/$mode.err" >&2
  echo "== round $round/$ROUNDS, $mode: $url, Cookie header value ${#cookie} bytes" >&2
  curl -fsS -o /dev/null -H "Cookie: $cookie" "$url/"

  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Cookie: $cookie" "$url/" | tee "$tmp/$mode.wrk" >&2
  kill -TERM "$pid"
  if ! wait "$pid"; then
    echo "load.sh: $mode server reported failures:" >&2; cat "$tmp/$mode.err" >&2; exit 1
  fi
  pid=""
  tail -n 1 "$tmp/$mode.err" | sed 's/^/  /' >&2
  if grep -q 'Non-2xx or 3xx' "$tmp/$mode.wrk"; then
    echo "load.sh: $mode: non-2xx responses" >&2; exit 1
  fi
  r=$(awk '/^Requests\/sec:/{print $2}' "$tmp/$mode.wrk")
  c=$(sed -n 's/.* = \([0-9.]*\) us\/request.*/\1/p' "$tmp/$mode.err" | tail -n 1)
  rps[$mode]=$(awk -v a="${rps[$mode]:-0}" -v b="$r" 'BEGIN{print (b > a ? b : a)}')
  cpu[$mode]=$(awk -v a="${cpu[$mode]:-}" -v b="$c" 'BEGIN{print (a == "" || b < a ? b : a)}')
done
done

ratio=$(awk -v p="${rps[protected]}" -v b="${rps[bare]}" 'BEGIN{printf "%.3f", p/b}')
echo "bare:      ${rps[bare]} req/s, server CPU ${cpu[bare]} us/request" >&2
echo "protected: ${rps[protected]} req/s, server CPU ${cpu[protected]} us/request (client.Middleware, cookie-only Context)" >&2
echo "protected/bare: $ratio (requests/sec); load average now: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "{\"bareRps\":${rps[bare]},\"protectedRps\":${rps[protected]},\"ratio\":$ratio,\"bareCpuUsPerReq\":${cpu[bare]},\"protectedCpuUsPerReq\":${cpu[protected]},\"threads\":$THREADS,\"conns\":$CONNS,\"duration\":\"$DURATION\",\"rounds\":$ROUNDS}"
