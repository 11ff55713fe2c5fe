# Shared by the end-to-end scripts: a throwaway vault, staff, and checks
# that count. Each script ends with "N passed, N failed".
set -u
CV=${CASEVAULT:-$PWD/build/casevault}
export CASEVAULT_TEST_KDF=insecure
T=$(mktemp -d /tmp/cv-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
V=$T/vault
PASS=0
FAIL=0
GIT_ASK="-c gpg.ssh.allowedSignersFile=$V/allowed_signers"

ok() {
	PASS=$((PASS + 1))
	echo "ok - $1"
}

not_ok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $1"
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	d=$1
	shift
	if "$@" >"$T/out" 2>"$T/err"; then ok "$d"; else
		not_ok "$d"
		sed 's/^/    /' "$T/err" | head -5
	fi
}

# refuse DESCRIPTION EXIT COMMAND...: the command must exit with EXIT.
refuse() {
	d=$1
	want=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$d"; else
		not_ok "$d (exit $got, wanted $want)"
		sed 's/^/    /' "$T/err" | head -5
	fi
}

# has DESCRIPTION FILE PATTERN: FILE must contain PATTERN (grep -E).
has() {
	if grep -aEq -- "$3" "$2"; then ok "$1"; else
		not_ok "$1"
		echo "    '$3' not in:"
		sed 's/^/    /' "$2" | head -10
	fi
}

# lacks DESCRIPTION FILE PATTERN: FILE must not contain PATTERN.
lacks() {
	if grep -aEq -- "$3" "$2"; then
		not_ok "$1"
		grep -aE -- "$3" "$2" | head -3 | sed 's/^/    /'
	else ok "$1"; fi
}

# as USER ARGS...: run casevault as USER (passphrase file per user).
as() {
	u=$1
	shift
	"$CV" -V "$V" -u "$u" --passphrase-file "$T/pass.$u" "$@"
}

# staff NAME ROLE [--trained]: add a user, as admin.
staff() {
	printf '%s\n' "passphrase-of-$1" >"$T/pass.$1"
	as admin user add "$1" --role "$2" ${3:-} \
		--new-passphrase-file "$T/pass.$1" >/dev/null 2>&1
}

new_vault() {
	printf 'admin-passphrase-1\n' >"$T/pass.admin"
	"$CV" init "$V" --admin admin --new-passphrase-file "$T/pass.admin" \
		>/dev/null 2>&1
}

fixture() {
	echo "$PWD/tests/fixtures/records/$1"
}

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
