#!/usr/bin/env bash
# The project's test command (see README): every test with the race detector,
# then a short run of every fuzz target. It needs only Go; what the tests
# need besides (Chromium for the browser test, redis-server for the Redis
# tests) it installs itself.
#
#   FUZZTIME=30s bash scripts/test.sh   # longer fuzzing
#   FUZZTIME=0 bash scripts/test.sh     # skip fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need are installed as root with apt-get, which
# reads the package lists once for all of them.
apt_updated=""
apt_install() {
	if [ -z "$apt_updated" ]; then
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The browser test of examples/app drives a headless Chromium; it looks for
# the same binaries as this function.
have_chromium() {
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
		command -v google-chrome >/dev/null 2>&1
}
if ! have_chromium; then
	if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing Debian's chromium for the browser test (apt-get install chromium)"
		apt_install chromium
		if ! have_chromium; then
			echo "apt-get installed chromium, but no chromium binary is in PATH" >&2
			exit 1
		fi
	elif [ "${CI:-}" = "true" ]; then
		echo "CI=true: the browser test needs chromium (or chromium-browser, google-chrome) in PATH;" \
			"run this script as root on Debian to install it, or install Debian's chromium package first" >&2
		exit 1
	else
		echo "note: no chromium binary: the browser test (examples/app TestBrowser) will be skipped (apt-get install chromium)"
	fi
fi

# The Redis tests (redisstore) start redis-server processes of their own, on
# free loopback ports and without persistence; no Redis daemon is started here.
if ! command -v redis-server >/dev/null 2>&1; then
	if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing Debian's redis-server for the Redis tests (apt-get install redis-server)"
		apt_install redis-server
		if ! command -v redis-server >/dev/null 2>&1; then
			echo "apt-get installed redis-server, but no redis-server binary is in PATH" >&2
			exit 1
		fi
	elif [ "${CI:-}" = "true" ]; then
		echo "CI=true: the Redis tests need redis-server in PATH;" \
			"run this script as root on Debian to install it, or install Debian's redis-server package first" >&2
		exit 1
	else
		echo "note: no redis-server binary: the Redis tests (redisstore) will be skipped (apt-get install redis-server)"
	fi
fi

# Every module of the checkout (go.work): the SDK, the examples (browser
# test, router recipes), the gin adapter and the Redis store.
modules=(./... ./examples/... ./logtogin/... ./redisstore/...)
go test -race -count=1 "${modules[@]}"

fuzztime="${FUZZTIME:-15s}"
if [ "$fuzztime" = "0" ]; then
	echo "fuzzing skipped (FUZZTIME=0)"
	exit 0
fi
# Every Fuzz function of every package, found rather than listed, so a new
# target is fuzzed without touching this script.
for dir in $(go list -f '{{.Dir}}' "${modules[@]}"); do
	for target in $(grep -hoE '^func Fuzz[A-Za-z0-9_]+' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		rel="${dir#"$PWD"}"; echo "fuzz $target ($fuzztime) in .${rel}"
		corpus="$dir/testdata/fuzz/$target"
		before="$(ls "$corpus" 2>/dev/null | sort || true)"
		log="$(mktemp)"
		if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 3s "$dir" >"$log" 2>&1; then
			tail -n 2 "$log"
		else
			after="$(ls "$corpus" 2>/dev/null | sort || true)"
			# Go 1.26's fuzz coordinator can report "context deadline exceeded"
			# at the -fuzztime boundary without any failing input
			# (go.dev/issue/75804, fixed in Go 1.27). A real failure always
			# writes its input to testdata/fuzz/<target>.
			if [ "$before" = "$after" ] && grep -q "context deadline exceeded" "$log"; then
				tail -n 4 "$log"
				echo "fuzz $target: ignoring the fuzztime deadline race (go.dev/issue/75804): no failing input was written"
			else
				cat "$log"
				rm -f "$log"
				exit 1
			fi
		fi
		rm -f "$log"
	done
done
