#!/bin/sh
# make bench: every benchmark, on this machine, now.
BUILD=${1:-build}
for b in "$BUILD"/bench/bench_*; do
	case "$b" in *.o|*.d) continue ;; esac
	echo "== $(basename "$b")"
	"$b"
done
