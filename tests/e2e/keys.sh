#!/bin/sh
# keys/ holds the public keys auditors pin (keys/README.md), never a
# private one: no PEM or OpenSSH private key, no raw 64-byte secret key in
# base64 or hex, nothing but the README, .allowed_signers and .pub files.
# The check is first shown to catch keys planted in a copy.
. tests/e2e/lib.sh

# private_material DIR: the files under DIR that hold, or may hold,
# private key material, one per line.
private_material() {
	find "$1" -type f | while read -r f; do
		case "$f" in
		*/README.md | *.allowed_signers | *.pub) ;;
		*)
			echo "$f: not a README, .allowed_signers or .pub file"
			continue
			;;
		esac
		if grep -aqE 'PRIVATE KEY|openssh-key-v1|b3BlbnNzaC1rZXktdjE' "$f"; then
			echo "$f: a private key"
		elif grep -aqE '[A-Za-z0-9+/]{86}' "$f"; then
			echo "$f: a base64 blob of 64 bytes or more"
		elif grep -aqiE '[0-9a-f]{64}' "$f"; then
			echo "$f: a hex string of 32 bytes or more"
		fi
	done
	find "$1" ! -type f ! -type d | sed 's/$/: not a regular file/'
}

check "keys/ has its README" test -f keys/README.md

# Plants, in copies: each must be caught; a public pin must not be.
ssh-keygen -q -t ed25519 -N '' -C plant -f "$T/plant" </dev/null
cp -r keys "$T/k1"
cp "$T/plant" "$T/k1/auditor.pub"
private_material "$T/k1" >"$T/found"
has "an OpenSSH private key planted as a .pub is caught" "$T/found" \
	'auditor.pub: a private key'
cp -r keys "$T/k2"
openssl genpkey -algorithm ed25519 2>/dev/null >"$T/k2/pem.pub" ||
	printf -- '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n' >"$T/k2/pem.pub"
private_material "$T/k2" >"$T/found"
has "a PEM private key is caught" "$T/found" 'pem.pub: a private key'
cp -r keys "$T/k3"
printf 'seed %s\n' "$(head -c 64 /dev/urandom | base64 -w0)" >"$T/k3/raw.pub"
private_material "$T/k3" >"$T/found"
has "a raw 64-byte secret in base64 is caught" "$T/found" 'raw.pub: a base64 blob'
cp -r keys "$T/k4"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/k4/seed.pub"
private_material "$T/k4" >"$T/found"
has "a 32-byte seed in hex is caught" "$T/found" 'seed.pub: a hex string'
cp -r keys "$T/k5"
cp "$T/plant" "$T/k5/id_ed25519"
private_material "$T/k5" >"$T/found"
has "a file of another kind is caught" "$T/found" 'id_ed25519: not a README'
cp -r keys "$T/k6"
printf 'audit@casevault namespaces="git" %s\n' \
	"$(cut -d' ' -f1-2 "$T/plant.pub")" >"$T/k6/vault.allowed_signers"
cp "$T/plant.pub" "$T/k6/vault.pub"
private_material "$T/k6" >"$T/found"
check "a public pin is not mistaken for a private key" test ! -s "$T/found"

private_material keys >"$T/found"
if [ -s "$T/found" ]; then
	not_ok "nothing under keys/ is private key material"
	sed 's/^/    /' "$T/found"
else
	ok "nothing under keys/ is private key material"
fi
finish
