#!/bin/sh
# The audit signer pinned outside the vault: verification says which key
# it checked against, --allowed-signers checks against a pinned one, a
# vault whose signer was swapped refuses to open, and a history re-signed
# with another key fails against the pin. Abbreviated saved heads.
. tests/e2e/lib.sh

new_vault
staff siti counselor --trained
staff inspektur auditor
check "a case" as siti case open --file "$(fixture intake_valid.json)"
C=$(cat "$T/out")
as siti record show "$C" 1 >/dev/null 2>&1
G="git -C $V/audit.git"

# The pin an auditor keeps, copied at the key ceremony.
cp "$V/allowed_signers" "$T/pin"

# Without a pin the output names the vault's own key, never just "verified".
check "audit verify" as inspektur audit verify
has "says it checked against the vault's own key" "$T/out" \
	"checked against the vault's own key"
lacks "and never says just verified" "$T/out" "verified"
has "and how to pin" "$T/err" "allowed-signers"
check "audit verify --json" as inspektur --json audit verify
has "signer: vault" "$T/out" '"signer": "vault"'
check "audit verify --allowed-signers" \
	as inspektur audit verify --allowed-signers "$T/pin"
has "says it checked against the pinned signer" "$T/out" \
	"checked against the pinned signer"
check "audit verify --allowed-signers --json" \
	as inspektur --json audit verify --allowed-signers "$T/pin"
has "signer: pinned" "$T/out" '"signer": "pinned"'
has "ok" "$T/out" '"ok": true'

# A pin of another key, and files that pin nothing.
ssh-keygen -q -t ed25519 -N '' -C forger -f "$T/forger" </dev/null
printf 'audit@casevault namespaces="git" %s\n' \
	"$(cut -d' ' -f1-2 "$T/forger.pub")" >"$T/otherpin"
refuse "another pinned key fails" 1 \
	as inspektur audit verify --allowed-signers "$T/otherpin"
has "on the signature" "$T/err" "bad signature"
printf 'audit@casevault namespaces="file" %s\n' \
	"$(cut -d' ' -f1-2 "$V/audit_signer.pub")" >"$T/filepin"
refuse "a pin for another namespace pins nothing" 1 \
	as inspektur audit verify --allowed-signers "$T/filepin"
has "saying so" "$T/err" 'pins no ssh-ed25519 signer'
refuse "a missing pin file" 1 \
	as inspektur audit verify --allowed-signers "$T/nothere"

# Saved heads, abbreviated as git abbreviates them.
HEAD=$($G rev-parse HEAD)
SHORT=$(echo "$HEAD" | cut -c1-7)
check "--from takes 7 hex digits" as inspektur audit verify --from "$SHORT"
check "--from takes 12" as inspektur audit verify \
	--from "$(echo "$HEAD" | cut -c1-12)"
refuse "--from refuses 6" 2 as inspektur audit verify \
	--from "$(echo "$HEAD" | cut -c1-6)"
refuse "--from refuses what is not hex" 2 as inspektur audit verify \
	--from "zzzzzzz"
if [ "$SHORT" = 0000000 ]; then U=1111111; else U=0000000; fi
refuse "an unknown --from fails" 1 as inspektur audit verify --from "$U"
has "as a truncated or rewritten log" "$T/err" "truncated or rewritten"

# The forger: file access, no passphrase. Re-sign the whole history with
# another key, as stock git does it, keeping trees, messages and dates.
cp -r "$V" "$T/good"
resign() {
	git -C "$1" config gpg.format ssh
	git -C "$1" config user.signingkey "$T/forger"
	new=
	for c in $(git -C "$1" rev-list --reverse HEAD); do
		git -C "$1" cat-file commit "$c" | sed '1,/^$/d' >"$T/msg"
		tree=$(git -C "$1" rev-parse "$c^{tree}")
		export GIT_AUTHOR_NAME="casevault audit" \
			GIT_AUTHOR_EMAIL=audit@casevault.invalid \
			GIT_COMMITTER_NAME="casevault audit" \
			GIT_COMMITTER_EMAIL=audit@casevault.invalid \
			GIT_AUTHOR_DATE="$(git -C "$1" log -1 --format=%ad --date=raw "$c")" \
			GIT_COMMITTER_DATE="$(git -C "$1" log -1 --format=%cd --date=raw "$c")"
		new=$(git -C "$1" commit-tree -S ${new:+-p "$new"} -F "$T/msg" "$tree")
	done
	git -C "$1" update-ref refs/heads/main "$new"
}
# Replace every copy of the public key inside the vault, the store's too.
hexre() { printf '%s' "$1" | sed 's/../\\x&/g'; }
swap_key() {
	old=$(cut -d' ' -f2 "$T/good/audit_signer.pub")
	new=$(cut -d' ' -f2 "$T/forger.pub")
	case "$1" in
	files | all)
		sed -i "s|$old|$new|" "$V/audit_signer.pub" "$V/allowed_signers" ;;
	esac
	case "$1" in
	store | all)
		oh=$(echo "$old" | base64 -d | tail -c 32 | od -An -tx1 | tr -d ' \n')
		nh=$(echo "$new" | base64 -d | tail -c 32 | od -An -tx1 | tr -d ' \n')
		perl -0777 -pi -e "s/$(hexre "$oh")/$(hexre "$nh")/g" "$V/store.lmdb"
		;;
	esac
}
restore() {
	rm -rf "$V"
	cp -r "$T/good" "$V"
}

swap_key files
refuse "the public key files swapped: the vault refuses to open" 1 \
	as siti record show "$C" 1
has "saying the signer changed" "$T/err" "signer was changed"
restore
swap_key store
refuse "the store's copy swapped: refused at open" 1 as siti case show "$C"
has "naming the store" "$T/err" "in the store"
restore
check "restored, it opens" as siti case show "$C"

resign "$V/audit.git" >/dev/null 2>&1
swap_key all
check "stock git accepts the forged history with the vault's own files" \
	git -C "$V/audit.git" -c gpg.ssh.allowedSignersFile="$V/allowed_signers" \
	verify-commit HEAD
refuse "every copy swapped and the history re-signed: refused at open" 1 \
	as siti case show "$C"
has "the signer changed" "$T/err" "signer was changed"
refuse "audit verify against the pin reports the forgery" 1 \
	as inspektur audit verify --allowed-signers "$T/pin"
has "without logging in" "$T/err" "without logging in"
has "as a bad signature" "$T/err" "bad signature or not the audit key"
refuse "and so does stock git with the pin" 1 \
	git -C "$V/audit.git" -c gpg.ssh.allowedSignersFile="$T/pin" \
	verify-commit HEAD
check "without the pin the forgery checks against the vault's own key" \
	as inspektur --json audit verify
has "and the output says whose key that was" "$T/out" '"signer": "vault"'
restore
check "the real vault verifies against the pin" \
	as inspektur audit verify --allowed-signers "$T/pin"
finish
