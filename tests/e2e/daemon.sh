#!/bin/sh
# The command through casevaultd: the consent, request, fetch and
# withdrawal scenario of access.sh run once on an embedded vault and once
# through the daemon (CASEVAULT_SOCKET) gives the same output, ids and
# times aside; `casevault login` keeps one session for many commands,
# `logout` ends it, and an expired one asks to log in again.
. tests/e2e/lib.sh

CVD=$(dirname "$CV")/casevaultd
S=$T/run/casevault.sock
DPID=
# The daemon is stopped on every path, killed if it will not stop.
trap 'if [ -n "$DPID" ]; then kill -9 "$DPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

# daemon_start [OPTION...]: start casevaultd on the vault, unlocked from
# a file, and wait for its socket.
daemon_start() {
	printf 'admin\nadmin-passphrase-1\n' >"$T/unlock"
	chmod 600 "$T/unlock"
	"$CVD" -V "$V" --socket "$S" --unlock-file "$T/unlock" --foreground \
		"$@" 2>>"$T/daemon.log" &
	DPID=$!
	i=0
	while [ ! -S "$S" ] && [ $i -lt 500 ]; do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.02
		i=$((i + 1))
	done
	[ -S "$S" ]
}

# daemon_stop: SIGTERM, and its exit status.
daemon_stop() {
	kill -TERM "$DPID"
	wait "$DPID"
	rc=$?
	DPID=
	return $rc
}

# The scenario; each step's exit status and output, ids and times made
# alike, into $1. The number of events differs: through the daemon every
# command is also a login and a session's end.
scenario() {
	out=$1
	: >"$out"
	step() {
		"$@" >"$T/s.out" 2>"$T/s.err"
		echo "== $* -> $?" >>"$out"
		cat "$T/s.out" "$T/s.err" >>"$out"
	}
	as siti case open --file "$(fixture intake_valid.json)" >"$T/case"
	C=$(cat "$T/case")
	step as andi record show "$C" 1
	as andi request create "$C" --classes incident \
		--purpose legal_proceeding >"$T/req"
	R=$(cat "$T/req")
	step as kepala request approve "$R"
	step as andi request fetch "$R"
	step as siti consent grant "$C" --to legal_aid --classes incident \
		--purpose legal_proceeding
	as siti consent grant "$C" --to legal_aid --classes incident \
		--purpose legal_proceeding --form "FORM-2025-017" >"$T/k"
	K=$(cat "$T/k")
	step as siti --json consent list "$C"
	step as kepala request approve "$R"
	step as andi --json request fetch "$R"
	step as andi request fetch "$R"
	step as rina request fetch "$R"
	step as siti consent withdraw "$C" "$K"
	step as andi request fetch "$R"
	step as siti consent withdraw "$C" "$K"
	step as inspektur audit verify
	sed -E -i -e 's/\b[CRKBD][0-9A-Z]{10}\b/<id>/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/<time>/g' \
		-e 's/\b1[0-9]{12}\b/<ms>/g' \
		-e 's/"(head|bad_commit)": "[0-9a-f]+"/"\1": "<hex>"/g' \
		-e 's/\b(commits|events|record_versions)([": ]+)[0-9]+/\1\2<n>/g' \
		-e 's/[0-9]+ (commits|events)/<n> \1/g' \
		-e 's/head [0-9a-f]{40}/head <hex>/g' \
		"$out"
}

team() {
	staff siti counselor --trained
	staff rina social_worker
	staff kepala supervisor
	staff inspektur auditor
	staff andi legal_aid
}

# Embedded first, on a vault of its own.
new_vault
team
scenario "$T/embedded"
has "the embedded run fetched the incident" "$T/embedded" '"violence_types"'
rm -rf "$V"

# The same through the daemon.
new_vault
team
if daemon_start; then ok "the daemon starts unlocked"; else
	not_ok "the daemon starts unlocked"
	sed 's/^/    /' "$T/daemon.log"
	finish
	exit 1
fi
export CASEVAULT_SOCKET="$S"
scenario "$T/served"
if diff -u "$T/embedded" "$T/served" >"$T/diff"; then
	ok "through the daemon the scenario gives the same output"
else
	not_ok "through the daemon the scenario gives the same output"
	head -40 "$T/diff" | sed 's/^/    /'
fi
has "the daemon logged the logins" "$T/daemon.log" 'login \(peer uid'
lacks "and no user name or passphrase" "$T/daemon.log" \
	'siti|andi|kepala|passphrase-of'

# One login for many commands: the token kept under XDG_RUNTIME_DIR.
X=$T/xdg
mkdir -m 0700 "$X"
export XDG_RUNTIME_DIR="$X"
check "login as siti" as siti login
has "it says who and as what" "$T/out" '^logged in as siti \(counselor\)$'
ls "$X" >"$T/xdg.ls"
has "the token is kept in a file named for no one" "$T/xdg.ls" \
	'^casevault-[0-9a-f]{32}\.token$'
lacks "... not for the user" "$T/xdg.ls" 'siti'
F=$X/$(cat "$T/xdg.ls")
stat -c %a "$F" >"$T/mode"
has "0600" "$T/mode" '^600$'
check "a command runs without a passphrase" \
	"$CV" -u siti --passphrase-file /nonexistent --json case list
has "in siti's session" "$T/out" '"id"'
grep -c 'logout (peer uid' "$T/daemon.log" >"$T/n0"
check "logging in again" as siti login
grep -c 'logout (peer uid' "$T/daemon.log" >"$T/n1"
if [ "$(cat "$T/n1")" -eq $(($(cat "$T/n0") + 1)) ]; then
	ok "... ends the session kept before"
else
	not_ok "... ends the session kept before"
fi
check "logout" "$CV" -u siti logout
test -e "$F" && not_ok "the token file is gone" || ok "the token file is gone"

printf 'not-her-passphrase\n' >"$T/wrong"
refuse "a wrong passphrase through the daemon is refused" 1 \
	"$CV" -u siti --passphrase-file "$T/wrong" case list
has "as the library says" "$T/err" 'wrong user name or passphrase'
sleep 1 # the back-off of this uid (test_daemon checks it)
check "after which the right one serves" as siti case list

chmod 0755 "$X"
refuse "login refuses a runtime directory others can open" 1 as siti login
has "saying why" "$T/err" '0700'
chmod 0700 "$X"
unset XDG_RUNTIME_DIR
refuse "login refuses without XDG_RUNTIME_DIR" 1 as siti login
export XDG_RUNTIME_DIR="$X"

if daemon_stop; then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit 0"; fi
test -e "$S" && not_ok "the socket is removed" || ok "the socket is removed"
has "sessions ended at shutdown" "$T/daemon.log" 'stopped'

# An expired session asks to log in again.
daemon_start --lifetime 1 || not_ok "the daemon restarts"
check "login as siti again" as siti login
sleep 2
refuse "an expired session is refused" 1 "$CV" -u siti case list
has "with CV_ESESSION's advice" "$T/err" 'log in again'
ls "$X" >"$T/xdg.ls"
lacks "and the dead token is forgotten" "$T/xdg.ls" 'token'
daemon_stop
check "the trail verifies after all" \
	env -u CASEVAULT_SOCKET "$CV" -V "$V" -u inspektur \
	--passphrase-file "$T/pass.inspektur" audit verify
finish
