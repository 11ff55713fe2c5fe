#!/bin/sh
# The vault core through the command line: set-up, users, cases, records,
# clear errors for bad input with nothing changed, nothing in clear on disk.
. tests/e2e/lib.sh

check "init creates a vault" new_vault
refuse "init refuses an existing vault" 1 \
	"$CV" init "$V" --admin admin --new-passphrase-file "$T/pass.admin"
printf 'short\n' >"$T/short"
refuse "init refuses a short passphrase" 1 \
	"$CV" init "$T/v2" --admin admin --new-passphrase-file "$T/short"
refuse "init without --admin is a usage error" 2 "$CV" init "$T/v3"
refuse "an unknown command is a usage error" 2 "$CV" frobnicate
refuse "an unknown option is a usage error" 2 \
	as admin user list --no-such-option
check "--help explains a command" "$CV" record add --help
has "--help shows the synopsis" "$T/out" "usage: casevault record add CASE"

staff siti counselor --trained
staff rina social_worker
staff kepala supervisor
staff inspektur auditor
check "user list works for the admin" as admin user list --json
has "user list shows roles" "$T/out" '"role": "counselor"'
lacks "user list shows no passphrase hash" "$T/out" 'argon2'
refuse "a counselor cannot add users" 1 \
	as siti user add eve --role admin --new-passphrase-file "$T/pass.siti"
refuse "an unknown role is refused" 1 \
	as admin user add eve --role wizard --new-passphrase-file "$T/pass.siti"

printf 'not-the-passphrase\n' >"$T/wrong"
refuse "a wrong passphrase is refused" 1 \
	"$CV" -V "$V" -u siti --passphrase-file "$T/wrong" case list
has "the refusal says why" "$T/err" "wrong user name or passphrase"

check "a counselor opens a case with an intake" \
	as siti case open --file "$(fixture intake_valid.json)"
C=$(cat "$T/out")
has "case open prints the id" "$T/out" '^C[0-9A-Z]{10}$'
check "case open --json gives an object" as siti --json case open
has "the object names the case" "$T/out" '"case": "C[0-9A-Z]{10}"'

check "record show reads it" as siti record show "$C" 1
has "the record is shown" "$T/out" "Sari Contoh"
check "record show --lang id labels the enumerations" \
	as siti record show "$C" 1 --version 1 --lang id
has "in Indonesian" "$T/out" 'online_form \(Formulir daring \(situs Ruang Rindu\)\)'
has "inside arrays too" "$T/out" 'physical \(Fisik\)'
check "record show --lang en" as siti --json record show "$C" 1 --lang en
has "in English" "$T/out" 'spouse \(Spouse'
refuse "an amendment that changes nothing" 1 \
	as siti record amend "$C" 1 --file "$(fixture intake_valid.json)"
has "is no change" "$T/err" "no change"
sed s/2025-05-20/2025-06-01/ "$(fixture intake_valid.json)" >"$T/intake2.json"
check "record amend writes version 2" \
	as siti record amend "$C" 1 --file "$T/intake2.json"
refuse "one intake per case" 1 \
	as siti record add "$C" --type intake --file "$(fixture intake_valid.json)"
has "corrected by amendment" "$T/err" "record amend"
check "record history lists both versions" as siti --json record history "$C" 1
has "version 2 is listed" "$T/out" '"version": 2'
check "record show --version 1 shows the first" \
	as siti --json record show "$C" 1 --version 1
has "it is version 1" "$T/out" '"version": 1'

# Bad input: a clear error, and nothing written.
as siti --json case show "$C" >"$T/before" 2>/dev/null
printf '{"survivor": ' >"$T/bad.json"
refuse "malformed JSON is refused" 1 \
	as siti record add "$C" --type intake --file "$T/bad.json"
has "it says where" "$T/err" "malformed JSON at line 1"
refuse "an unknown record type is refused" 1 \
	as siti record add "$C" --type horoscope --file "$(fixture intake_valid.json)"
has "it says why" "$T/err" "unknown record type"
refuse "an unknown case is refused" 1 \
	as siti record add CZZZZZZZZZZ --type intake --file "$(fixture intake_valid.json)"
has "it says not found" "$T/err" "not found"
head -c 300000 /dev/zero | tr '\0' 'a' >"$T/big.json"
refuse "an oversized record is refused" 1 \
	as siti record add "$C" --type intake --file "$T/big.json"
has "it names the limit" "$T/err" "larger than"
refuse "a schema error is refused" 1 \
	as siti record add "$C" --type intake --file "$(fixture intake_bad_nik_short.json)"
has "it names the field and rule" "$T/err" "survivor.nik"
lacks "it does not echo the value" "$T/err" "351001520395"
as siti --json case show "$C" >"$T/after" 2>/dev/null
check "nothing was written by the refused inputs" cmp "$T/before" "$T/after"

# Need-to-know.
refuse "a social worker off the team is refused" 1 as rina record show "$C" 1
has "the refusal names the rule" "$T/err" "rule"
refuse "the admin reads no record contents" 1 as admin record show "$C" 1
check "the supervisor assigns the social worker" as kepala case assign "$C" rina
check "now she reads it" as rina record show "$C" 1
check "the supervisor removes her" as kepala case unassign "$C" rina
refuse "and her access ends at once" 1 as rina record show "$C" 1
check "--json case assign answers in JSON" as kepala --json case assign "$C" rina
has "naming whom it added" "$T/out" '"added": "rina"'
check "--json case unassign too" as kepala --json case unassign "$C" rina
has "naming whom it removed" "$T/out" '"removed": "rina"'

# Nothing in clear in any file of the vault, the audit objects included.
for m in "Sari Contoh" 3510015203950001 "Jl. Contoh" "Budi Contoh"; do
	if grep -rqa -- "$m" "$V"; then not_ok "no '$m' in the vault files"
	else ok "no '$m' in the vault files"; fi
	if git -C "$V/audit.git" cat-file --batch-all-objects --batch |
		grep -qa -- "$m"; then not_ok "no '$m' in audit objects"
	else ok "no '$m' in audit objects"; fi
done

# Erase (supervisor), backup and rotation (admin).
check "a second case" as siti case open --file "$(fixture intake_valid.json)"
C2=$(cat "$T/out")
refuse "a counselor cannot erase" 1 as siti erase "$C2"
check "the supervisor erases it" as kepala erase "$C2"
refuse "its records are gone" 1 as siti record show "$C2" 1
has "as not found" "$T/err" "not found"
check "a backup" as admin backup "$T/backup"
refuse "a backup does not overwrite" 1 as admin backup "$T/backup"
check "the backup reads the same record" \
	"$CV" -V "$T/backup" -u siti --passphrase-file "$T/pass.siti" \
	record show "$C" 1
has "the same content" "$T/out" "Sari Contoh"
check "key rotate" as admin key rotate
check "records still read after rotation" as siti record show "$C" 1
has "with their content" "$T/out" "Sari Contoh"
# Safe files: init takes only a private, empty directory and follows no
# link; every open refuses a vault that others can write or that links out.
mkdir -m 0777 "$T/open"
chmod 0777 "$T/open"
refuse "init refuses a world-writable directory" 1 \
	"$CV" init "$T/open" --admin admin --new-passphrase-file "$T/pass.admin"
has "it says why" "$T/err" "writable by group or others"
check "and leaves it empty" test -z "$(ls -A "$T/open")"
mkdir -m 0700 "$T/planted"
printf 'not yours\n' >"$T/outside"
cp "$T/outside" "$T/outside.orig"
ln -s "$T/outside" "$T/planted/store.lmdb"
refuse "init refuses a planted store.lmdb link" 1 \
	"$CV" init "$T/planted" --admin admin --new-passphrase-file "$T/pass.admin"
check "the link's target is untouched" cmp "$T/outside" "$T/outside.orig"
rm "$T/planted/store.lmdb"
ln -s "$T/made-through-link" "$T/planted/store.lmdb"
refuse "init refuses a planted link to nothing" 1 \
	"$CV" init "$T/planted" --admin admin --new-passphrase-file "$T/pass.admin"
check "and creates nothing where it points" test ! -e "$T/made-through-link"
mkdir -m 0700 "$T/full"
printf 'x\n' >"$T/full/notes"
refuse "init refuses a directory that is not empty" 1 \
	"$CV" init "$T/full" --admin admin --new-passphrase-file "$T/pass.admin"
has "it says so" "$T/err" "not empty"
mkdir -m 0755 "$T/empty"
check "init takes an empty directory" \
	"$CV" init "$T/empty" --admin admin --new-passphrase-file "$T/pass.admin"
check "and makes it private" test "$(stat -c %a "$T/empty")" = 700
find "$T/empty" -perm /077 -o -type l >"$T/loose"
check "nothing init made is open to group or others" test ! -s "$T/loose"
find "$V" -perm /077 -o -type l >"$T/loose"
check "nor anything the vault made since" test ! -s "$T/loose"

chmod 0770 "$V"
refuse "a group-writable vault is refused at open" 1 as admin user list
has "the refusal names the directory" "$T/err" "writable by group or others"
chmod 0700 "$V"
check "and opens once private again" as admin user list
chmod 0777 "$V/audit.git"
refuse "a world-writable audit.git is refused at open" 1 as admin user list
chmod 0700 "$V/audit.git"
mv "$V/store.lmdb" "$T/store.elsewhere"
ln -s "$T/store.elsewhere" "$V/store.lmdb"
cp "$T/store.elsewhere" "$T/store.orig"
refuse "a store.lmdb link is refused at open" 1 as admin user list
has "the refusal names the link" "$T/err" "store.lmdb is a symbolic link"
check "its target is untouched" cmp "$T/store.elsewhere" "$T/store.orig"
rm "$V/store.lmdb"
mv "$T/store.elsewhere" "$V/store.lmdb"
printf 'half' >"$V/audit.git/objects/pack/tmp_pack_k3Yq9Z"
check "a vault with a leftover temporary pack opens" as admin user list
check "and the leftover is gone" test ! -e "$V/audit.git/objects/pack/tmp_pack_k3Yq9Z"
check "the trail still verifies" as inspektur audit verify
find "$T/backup" -perm /077 -o -type l >"$T/loose"
check "a backup is as private as the vault" test ! -s "$T/loose"
# The store and the trail check each other: a store put back by hand and a
# trail cut back are refused at login; a restore is the audited way back.
# (The backup above was opened as a vault: its trail went its own way.)
check "a backup to restore" as admin backup "$T/backup2"
cp "$V/store.lmdb" "$T/store.old"
staff tamu counselor
cp "$V/store.lmdb" "$T/store.tamu"
cp "$T/store.old" "$V/store.lmdb"
refuse "a store put back by hand is refused" 1 as admin user list
has "as older than the trail" "$T/err" "older than its audit trail"
check "the refusal changed nothing" cmp "$V/store.lmdb" "$T/store.old"
cp "$T/store.tamu" "$V/store.lmdb"
check "the current store opens again" as admin user list
has "with the later account" "$T/out" tamu
HEAD_NOW=$(git -C "$V/audit.git" rev-parse refs/heads/main)
git -C "$V/audit.git" update-ref refs/heads/main "$HEAD_NOW~1"
refuse "a trail cut back by one commit is refused" 1 as admin user list
has "as behind the store" "$T/err" "audit trail is behind the store"
git -C "$V/audit.git" update-ref refs/heads/main "$HEAD_NOW"
refuse "a backup used as a vault is not on this trail" 1 \
	as admin restore "$T/backup"
has "saying so" "$T/err" "does not hold"
refuse "restore is the admin's" 1 as siti restore "$T/backup2"
check "restore from the backup" as admin restore "$T/backup2"
check "the restored vault opens" as admin user list
lacks "as the backup left it" "$T/out" tamu
check "the trail verifies after the restore" as inspektur audit verify
as inspektur --json audit log >"$T/log" 2>&1
has "and records the restore" "$T/log" "vault.restore"
finish
