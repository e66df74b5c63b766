#!/usr/bin/env bash
# Side by side, in one run: the SDK's per-request context path (Go
# benchmark on bench/testdata/reference-session.json) against @logto/next's
# getLogtoContext on the same session, plus the floor (securecookie decoding
# of the same bytes) and the cookie sizes. Prints one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$(go test -run '^$' -bench '^(BenchmarkGetContextReference|BenchmarkGetContextColdReference|BenchmarkFloorDecode)$' -benchmem -count 5 -benchtime 1s . )"
metric() { # value before unit $2 in benchmark $1's lines, one per run
	echo "$out" | awk -v b="$1" -v u="$2" '$1 ~ "^"b"-" {for (i=2;i<=NF;i++) if ($i==u) print $(i-1)}'
}
median() { metric "$1" ns/op | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
allocs() { metric "$1" allocs/op | head -1; }
ours="$(median BenchmarkGetContextReference)"
cold="$(median BenchmarkGetContextColdReference)"
floor="$(median BenchmarkFloorDecode)"
bytes="$(metric BenchmarkGetContextReference cookie-bytes | head -1)"
next="$(bash bench/next/run.sh | tail -1)"
nextns="$(echo "$next" | sed -E 's/.*"nsPerOp":([0-9.]+).*/\1/')"
nextbytes="$(echo "$next" | sed -E 's/.*"cookieBytes":([0-9]+).*/\1/')"
awk -v o="$ours" -v co="$cold" -v ca="$(allocs BenchmarkGetContextColdReference)" -v f="$floor" -v n="$nextns" -v a="$(allocs BenchmarkGetContextReference)" -v fa="$(allocs BenchmarkFloorDecode)" -v b="$bytes" -v nb="$nextbytes" 'BEGIN {
	printf "{\"goNsPerOp\":%s,\"goAllocs\":%s,\"goColdNsPerOp\":%s,\"goColdAllocs\":%s,\"coldVsFloor\":%.2f,\"floorNsPerOp\":%s,\"floorAllocs\":%s,\"nextNsPerOp\":%s,\"speedupVsNext\":%.1f,\"vsFloor\":%.2f,\"goCookieBytes\":%s,\"nextCookieBytes\":%s,\"cookieRatio\":%.2f}\n", o, a, co, ca, co/f, f, fa, n, n/o, o/f, b, nb, b/nb
}'
