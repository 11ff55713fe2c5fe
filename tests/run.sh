#!/bin/sh
# Runs every suite: the cmocka unit tests, the fuzz targets over their seed
# corpora, and the end-to-end scripts against the built binary. Ends with
# "N passed, N failed" counted over test cases.
BUILD=${BUILD:-build}
export CASEVAULT="$PWD/$BUILD/casevault"
# Argon2id is slow on purpose; tests opt in to small parameters, loudly.
export CASEVAULT_TEST_KDF=insecure
export CMOCKA_MESSAGE_OUTPUT=stdout
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() {
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	if [ -z "$p$f" ]; then
		p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | tail -1)
	fi
	p=${p:-0}
	f=${f:-0}
	if [ "$1" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
}

# Driven by the sources, so a binary left from a renamed suite is not run.
for src in tests/test_*.c; do
	t="$BUILD/tests/$(basename "$src" .c)"
	echo "== $(basename "$t")"
	"$t" >"$log" 2>&1
	rc=$?
	grep -E '^\[  (FAILED|ERROR|  FAILED)|^\[  PASSED|Assert|error:|ERROR' "$log" | head -40
	count $rc
done

for src in fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	f="$BUILD/fuzz/$name"
	echo "== $name (seed corpus)"
	if "$f" "fuzz/corpus/$name" >"$log" 2>&1; then
		passed=$((passed + 1))
	else
		tail -20 "$log"
		failed=$((failed + 1))
	fi
done

for s in tests/e2e/*.sh; do
	case "$s" in */lib.sh) continue ;; esac
	[ -f "$s" ] || continue
	echo "== $(basename "$s")"
	sh "$s" >"$log" 2>&1
	rc=$?
	grep -E '^(not ok|FAIL)' "$log" | head -40
	tail -1 "$log"
	count $rc
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
