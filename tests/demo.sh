#!/bin/sh
# make demo: the main job on a throwaway vault in ./demo-vault. Every step
# prints one line. The people and data are fictional.
set -eu
CV=${1:-build/casevault}
V=demo-vault
CVD=$(dirname "$CV")/casevaultd
D=$(mktemp -d /tmp/cv-demo.XXXXXX)
DPID=
# The daemon, if started, is killed on any path that did not stop it.
trap 'if [ -n "$DPID" ]; then kill -9 "$DPID" 2>/dev/null; fi; rm -rf "$D"' EXIT
trap 'exit 1' HUP INT TERM
# The demo uses the test-only Argon2id setting so it runs in seconds; a
# real vault uses the shipped 64 MiB, t=3 parameters.
export CASEVAULT_TEST_KDF=insecure

step() { printf '%-3s %s\n' "$1" "$2"; }
as() {
	u=$1
	shift
	"$CV" -V "$V" -u "$u" --passphrase-file "$D/$u" "$@" 2>>"$D/log"
}
pass() { printf '%s\n' "demo-passphrase-of-$1" >"$D/$1"; }

rm -rf "$V"
pass admin
"$CV" init "$V" --admin admin --new-passphrase-file "$D/admin" \
	>/dev/null 2>>"$D/log"
# The key ceremony: the auditor copies the signer's public key out of the
# vault and pins it where the vault's files cannot change it. A real pin
# goes into the repository's keys/ (keys/README.md); this throwaway vault's
# signer is new at every run, so its pin stays beside it, in demo-keys/.
rm -rf demo-keys
mkdir demo-keys
cp "$V/allowed_signers" demo-keys/demo-vault.allowed_signers
PIN=demo-keys/demo-vault.allowed_signers
step 1 "created vault $V: root key wrapped for admin, signed audit trail in $V/audit.git; its signer pinned in $PIN"
for u in "siti counselor --trained" "rina social_worker --trained" \
    "dr_hana psychologist" "kepala supervisor" "inspektur auditor" \
    "lbh_andi legal_aid"; do
	set -- $u
	pass "$1"
	as admin user add "$1" --role "$2" ${3:-} \
		--new-passphrase-file "$D/$1" >/dev/null
done
step 2 "added staff: siti (counselor), rina (social worker), dr_hana (psychologist), kepala (supervisor), inspektur (auditor), lbh_andi (legal aid)"
C=$(as siti case open --file tests/fixtures/demo/intake-ayu.json)
step 3 "counsellor siti opened case $C with the intake record of a fictional survivor (Ayu Kartika Demo)"
sed 's/"online_form"/"whatsapp"/' tests/fixtures/demo/intake-ayu.json |
	as siti record amend "$C" 1 >/dev/null
step 4 "siti amended the intake (referral source corrected); version 1 stays in the history"
NAME=$(as siti --json record show "$C" 1 | grep -o '"name": "Ayu[^"]*"')
step 5 "siti reads the latest version: $NAME"
as siti record history "$C" 1 | sed 's/^/      /'
if as rina record show "$C" 1 >/dev/null 2>&1; then
	step 6 "UNEXPECTED: a social worker off the team read the case"
	exit 1
fi
step 6 "social worker rina is not on the team: refused, and the refusal is audited"
as kepala case assign "$C" rina >/dev/null
step 7 "supervisor kepala assigned rina to the case team; she may now read it"
if as admin record show "$C" 1 >/dev/null 2>&1; then
	step 8 "UNEXPECTED: the admin read record contents"
	exit 1
fi
step 8 "the admin manages users and keys but reads no record contents: refused"
if grep -rqa "Ayu Kartika" "$V" || git -C "$V/audit.git" cat-file \
    --batch-all-objects --batch | grep -qa "Ayu Kartika"; then
	step 9 "UNEXPECTED: the survivor's name is in a file of the vault"
	exit 1
fi
step 9 "searched every file of $V and every audit object for 'Ayu Kartika': not found (encrypted at rest)"
if as lbh_andi request create "$C" --classes incident \
    --purpose legal_proceeding >"$D/req" 2>/dev/null &&
    ! as kepala request approve "$(cat "$D/req")" >/dev/null 2>&1; then
	step 10 "legal aid lbh_andi asked for the incident record; the supervisor cannot approve without the survivor's consent"
else
	step 10 "UNEXPECTED: a request was approved without consent"
	exit 1
fi
K=$(as siti consent grant "$C" --to legal_aid --classes incident \
    --purpose legal_proceeding --form "FORM-DEMO-001")
as kepala request approve "$(cat "$D/req")" >/dev/null
as lbh_andi --json request fetch "$(cat "$D/req")" >"$D/fetch"
if grep -q "Ayu Kartika" "$D/fetch" || ! grep -q violence_types "$D/fetch"; then
	step 11 "UNEXPECTED: the fetch released the wrong classes"
	exit 1
fi
step 11 "with consent $K for the incident only, the request was approved; legal aid received the incident, the identity and contact withheld"
as siti consent withdraw "$C" "$K" >/dev/null
if as lbh_andi request fetch "$(cat "$D/req")" >/dev/null 2>&1; then
	step 12 "UNEXPECTED: a fetch worked after withdrawal"
	exit 1
fi
step 12 "the survivor withdrew the consent: the next fetch was refused at once"
C2=$(as siti case open --file tests/fixtures/demo/intake-wulan.json)
as kepala erase "$C2" >/dev/null
step 13 "opened a second case $C2, then the supervisor erased it: its key is destroyed and the store compacted"
if as siti record show "$C2" 1 >/dev/null 2>&1; then
	step 14 "UNEXPECTED: the erased case still reads"
	exit 1
fi
step 14 "the erased case cannot be read any more"
if git -C "$V/audit.git" -c gpg.ssh.allowedSignersFile="$PWD/$PIN" \
    verify-commit HEAD >/dev/null 2>&1 && git -C "$V/audit.git" fsck \
    --no-dangling >/dev/null 2>&1; then
	step 15 "stock git verifies the signed head against the pinned signer (git verify-commit) and the hash chain under it (git fsck)"
else
	step 15 "UNEXPECTED: git could not verify the audit trail"
	exit 1
fi
as inspektur audit verify --allowed-signers "$PIN" >"$D/verify" || {
	step 16 "UNEXPECTED: the auditor's verification failed"
	exit 1
}
step 16 "auditor inspektur: $(cat "$D/verify")"
N=$(as inspektur --json audit log --case "$C" | grep -c '"seq"')
step 17 "the trail holds $N events for case $C, each naming it only by a keyed pseudonym; see: casevault -V $V -u inspektur audit log --case $C"

# The daemon: casevaultd holds the vault's keys in one process, a key
# custodian (the first admin is one) unlocks it, and staff log in to it
# once and work through its socket.
S=$D/run/casevault.sock
printf 'admin\n%s\n' "demo-passphrase-of-admin" >"$D/unlock"
chmod 600 "$D/unlock"
"$CVD" -V "$V" --socket "$S" --unlock-file "$D/unlock" --foreground \
	2>>"$D/daemon.log" &
DPID=$!
i=0
while [ ! -S "$S" ] && [ $i -lt 500 ] && kill -0 "$DPID" 2>/dev/null; do
	sleep 0.02
	i=$((i + 1))
done
if [ ! -S "$S" ]; then
	step 18 "UNEXPECTED: casevaultd did not start"
	exit 1
fi
step 18 "started casevaultd on $S; key custodian admin unlocked it from a 0600 file"
export CASEVAULT_SOCKET="$S" XDG_RUNTIME_DIR="$D/xdg"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
as siti login >/dev/null
step 19 "siti logged in to the daemon once (casevault login); her token is in \$XDG_RUNTIME_DIR, 0600"
# No passphrase from here on: the session does the work.
NAME=$("$CV" -V "$V" -u siti --passphrase-file /nonexistent --json \
    record show "$C" 1 2>>"$D/log" | grep -o '"name": "Ayu[^"]*"')
echo "Called back; she is safe at her sister's." |
	"$CV" -V "$V" -u siti --passphrase-file /nonexistent note add "$C" \
	--kind follow_up >/dev/null 2>>"$D/log"
step 20 "through the daemon, without a passphrase, siti read $NAME and added a note"
if as rina record show "$C2" 1 >/dev/null 2>&1; then
	step 21 "UNEXPECTED: the erased case read through the daemon"
	exit 1
fi
step 21 "the daemon applies the same rules: the erased case is refused there too"
"$CV" -V "$V" -u siti logout >/dev/null 2>>"$D/log"
if "$CV" -V "$V" -u siti --passphrase-file /nonexistent case list \
    >/dev/null 2>&1; then
	step 22 "UNEXPECTED: a command ran after logout"
	exit 1
fi
step 22 "siti logged out: a command without a passphrase is refused now"
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
DPID=
if [ $rc -ne 0 ] || [ -e "$S" ]; then
	step 23 "UNEXPECTED: casevaultd exited $rc"
	exit 1
fi
unset CASEVAULT_SOCKET
step 23 "SIGTERM: casevaultd ended every session, sealed the vault and exited 0; its socket is gone"
as inspektur audit verify --allowed-signers "$PIN" >"$D/verify" || {
	step 24 "UNEXPECTED: the trail does not verify after the daemon"
	exit 1
}
L=$(as inspektur --json audit log --case "$C" | grep -c '"peer"')
step 24 "auditor inspektur: $(cat "$D/verify"); $L events of case $C name the daemon's peer (pid, uid)"
