#!/bin/sh
# The audit trail through the command line and stock git: signatures
# that git and ssh-keygen accept, verification, tampering detected, the
# log and its filters, mirrors, and no personal data in any object.
. tests/e2e/lib.sh

new_vault
staff siti counselor --trained
staff rina social_worker
staff inspektur auditor
G="git -C $V/audit.git -c gpg.ssh.allowedSignersFile=$V/allowed_signers"

# Distinctive fictional people: none of this may reach the trail.
sed -e 's/Sari Contoh/Kartini Wulandari Fiksi/' \
    -e 's/3510015203950001/3510014503950002/' \
    -e 's/Jl. Contoh No. 1/Jl. Melati Fiktif 77/' \
    -e 's/Budi Contoh/Bambang Pelaku Fiksi/' \
    "$(fixture intake_valid.json)" >"$T/intake.json"
check "a case with a distinctive intake" as siti case open --file "$T/intake.json"
C=$(cat "$T/out")
check "it is read" as siti record show "$C" 1
sed s/2025-05-20/2025-06-01/ "$T/intake.json" >"$T/intake2.json"
sed s/2025-05-20/2025-06-02/ "$T/intake.json" >"$T/intake3.json"
check "and amended" as siti record amend "$C" 1 --file "$T/intake2.json"
refuse "a refused read" 1 as rina record show "$C" 1

# Stock tools.
$G log --format='%H %G?' >"$T/sigs"
has "git log shows signatures" "$T/sigs" ' G$'
lacks "every commit is G" "$T/sigs" ' [^G]$'
check "git verify-commit accepts the head" $G verify-commit HEAD
check "ssh-keygen's allowed_signers names the git namespace" \
	grep -q 'namespaces="git"' "$V/allowed_signers"
check "audit verify passes" as inspektur audit verify
has "with a summary" "$T/out" "audit trail checked against the vault.s own key \(not a pinned signer\): [0-9]+ commits, [0-9]+ events"
refuse "only auditors verify" 1 as siti audit verify

# No personal data anywhere in the trail's objects.
$G cat-file --batch-all-objects --batch >"$T/objects"
has "the objects were read" "$T/objects" '"action":"record.add"'
for m in "Kartini" "Wulandari" 3510014503950002 "Melati Fiktif" "Bambang" \
    "$C"; do
	lacks "no '$m' in any audit object" "$T/objects" "$m"
done
lacks "no free-text notes in the trail" "$T/objects" "checks her phone"

# The log and its filters.
check "audit log --case" as inspektur --json audit log --case "$C"
has "events of the case, by pseudonym" "$T/out" '"case": "[0-9a-f]{32}"'
check "audit pseudonym" as inspektur audit pseudonym "$C"
P=$(cat "$T/out")
as inspektur --json audit log --case "$C" >"$T/bycase"
grep '"case"' "$T/bycase" | grep -v "$P" >"$T/others" || true
check "every event listed names the case" test ! -s "$T/others"
check "the refusal is in the log" as inspektur --json audit log --actor rina
has "as a deny" "$T/out" '"decision": "deny"'
has "with its reason" "$T/out" '"reason":'
check "audit log --since tomorrow is empty" \
	as inspektur --json audit log --since 2999-01-01
has "an empty list" "$T/out" '^\[\]$'
refuse "a bad --since is a usage error" 2 as inspektur audit log --since yesterday

# A mirror grows with the trail.
check "audit push to a mirror" as inspektur audit push "$T/mirror.git"
check "the mirror verifies with stock git" \
	git -C "$T/mirror.git" -c gpg.ssh.allowedSignersFile="$V/allowed_signers" \
	verify-commit main
H1=$(git -C "$T/mirror.git" rev-parse main)
as siti record show "$C" 1 >/dev/null 2>&1
check "a second push" as inspektur audit push "file://$T/mirror.git"
H2=$(git -C "$T/mirror.git" rev-parse main)
check "the mirror grew" test "$H1" != "$H2"
check "the old head is an ancestor" git -C "$T/mirror.git" merge-base --is-ancestor "$H1" "$H2"

# The mirror is the check against rewrites: stock git cannot rewrite it.
M="git -C $T/mirror.git"
has "the mirror refuses non-fast-forward pushes" "$T/mirror.git/config" \
	'denyNonFastForwards = true'
has "and branch deletion" "$T/mirror.git/config" 'denyDeletes = true'
cp -r "$V/audit.git" "$T/rewrite.git"
R="git -C $T/rewrite.git"
$R -c user.name=x -c user.email=x@x commit-tree -p HEAD~2 -m "audit: events" \
	"$($R rev-parse HEAD~1^{tree})" >"$T/rewritten" 2>/dev/null
$R update-ref refs/heads/main "$(cat "$T/rewritten")"
refuse "a stock git push --force of a rewritten history is refused" 1 \
	$R push --force "$T/mirror.git" main:main
check "the mirror kept its head" test "$($M rev-parse main)" = "$H2"
refuse "a stock git push deleting the branch is refused" 1 \
	$R push "$T/mirror.git" :main
git init -q --bare "$T/diverged.git"
$R push -q "$T/diverged.git" main:main >/dev/null 2>&1
refuse "audit push refuses a mirror that is not a prefix of the trail" 1 \
	as inspektur audit push "$T/diverged.git"
has "saying why" "$T/err" "not a prefix"
check "the diverged mirror is untouched" \
	test "$(git -C "$T/diverged.git" rev-parse main)" = "$(cat "$T/rewritten")"

# Tampering: an unsigned commit on top, then a truncated branch.
SAVED=$($G rev-parse HEAD)
cp -r "$V/audit.git" "$T/audit.good"
$G -c user.name=x -c user.email=x@x commit-tree -p HEAD -m "audit: events" \
	"$($G rev-parse HEAD^{tree})" >"$T/forged" 2>/dev/null
$G update-ref refs/heads/main "$(cat "$T/forged")"
refuse "the vault will not build on an unsigned head" 1 as siti record show "$C" 1
has "it fails closed" "$T/err" "audit trail cannot be written"
has "saying the head is not signed by the vault's key" "$T/err" \
	"head [0-9a-f]{40} is not signed by the vault's audit key"
refuse "audit verify refuses an unsigned commit" 1 as inspektur audit verify
has "verifying without logging in" "$T/err" "without logging in"
has "naming the bad commit" "$T/err" "$(cut -c1-12 "$T/forged")"
$G log --format='%G?' -1 "$(cat "$T/forged")" >"$T/g"
has "stock git sees it unsigned" "$T/g" '^N$'
rm -rf "$V/audit.git"
cp -r "$T/audit.good" "$V/audit.git"
check "restored, it verifies" as inspektur audit verify --from "$SAVED"
# That login moved the store's anchor past the copy: keep the trail as of now.
rm -rf "$T/audit.good"
cp -r "$V/audit.git" "$T/audit.good"
FIRST=$($G rev-list --max-parents=0 HEAD)
$G update-ref refs/heads/main "$($G rev-parse HEAD~3)"
refuse "a truncated branch fails against the saved head" 1 \
	as inspektur audit verify --from "$SAVED"
rm -rf "$V/audit.git"
cp -r "$T/audit.good" "$V/audit.git"
test -n "$FIRST" && ok "the root commit exists" || not_ok "the root commit exists"

# Fail closed: with the trail locked nothing is shown and nothing changes.
as siti --json case show "$C" >"$T/before" 2>/dev/null
touch "$V/audit.git/refs/heads/main.lock"
refuse "record show fails closed" 1 as siti record show "$C" 1
lacks "and prints no record content" "$T/out" "Kartini|Melati"
has "saying why" "$T/err" "audit trail cannot be written"
refuse "a write fails closed" 1 as siti record amend "$C" 1 --file "$T/intake3.json"
has "for the trail, not for the content" "$T/err" "audit trail cannot be written"
rm -f "$V/audit.git/refs/heads/main.lock"
as siti --json case show "$C" >"$T/after" 2>/dev/null
check "nothing changed" cmp "$T/before" "$T/after"
check "and the trail still verifies" as inspektur audit verify
finish
