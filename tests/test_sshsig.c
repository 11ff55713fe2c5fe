/*
 * SSHSIG: interoperability with OpenSSH's ssh-keygen in both directions,
 * and forgeries that must be refused with the right code.
 * Fixtures in tests/fixtures/sshsig/ were made once with
 *	ssh-keygen -t ed25519 -C casevault-test-only
 *	ssh-keygen -Y sign -n git -f key message.txt
 * (and -O hashalg=sha256, and -n file); only the public key is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "casevault.h"
#include "base/sshsig.h"
#include "base/util.h"

#define FX "tests/fixtures/sshsig/"

static char *
slurp(const char *path, size_t *len)
{
	char *buf;

	assert_int_equal(cv_read_file(path, 1 << 16, &buf, len), 0);
	return buf;
}

static void
fixture_pk(uint8_t pk[32])
{
	size_t len;
	char *line = slurp(FX "signer.pub", &len);

	assert_int_equal(cv_sshsig_pubkey_parse(line, len, pk), 0);
	free(line);
}

static void
test_ssh_keygen_signature_verifies(void **state)
{
	uint8_t pk[32];
	size_t ml, sl, s2l;
	char *msg, *sig, *sig2;

	(void)state;
	fixture_pk(pk);
	msg = slurp(FX "message.txt", &ml);
	sig = slurp(FX "message.txt.sig", &sl);
	sig2 = slurp(FX "message.sha256.sig", &s2l);
	assert_int_equal(cv_sshsig_verify(sig, sl, pk, "git", msg, ml), 0);
	assert_int_equal(cv_sshsig_verify(sig2, s2l, pk, "git", msg, ml), 0);
	/* Another message under the same signature. */
	msg[0] ^= 1;
	assert_int_equal(
	    cv_sshsig_verify(sig, sl, pk, "git", msg, ml), CV_EVERIFY);
	free(msg);
	free(sig);
	free(sig2);
}

static void
test_forgeries_refused(void **state)
{
	uint8_t pk[32], other_pk[32], other_sk[64];
	size_t ml, sl, fl, i;
	char *msg, *sig, *fsig, *copy;
	int flipped_refused = 1;

	(void)state;
	fixture_pk(pk);
	msg = slurp(FX "message.txt", &ml);
	sig = slurp(FX "message.txt.sig", &sl);
	fsig = slurp(FX "message.file-ns.sig", &fl);

	/* Wrong namespace: valid for "file", not for "git". */
	assert_int_equal(
	    cv_sshsig_verify(fsig, fl, pk, "git", msg, ml), CV_EVERIFY);
	assert_int_equal(cv_sshsig_verify(fsig, fl, pk, "file", msg, ml), 0);
	assert_int_equal(
	    cv_sshsig_verify(sig, sl, pk, "file", msg, ml), CV_EVERIFY);

	/* Another key. */
	crypto_sign_keypair(other_pk, other_sk);
	assert_int_equal(
	    cv_sshsig_verify(sig, sl, other_pk, "git", msg, ml), CV_EVERIFY);

	/* Every base64 character of the body changed: never accepted. */
	copy = malloc(sl + 1);
	for (i = 30; i < sl - 30; i++) {
		if (sig[i] == '\n' || sig[i] == '=')
			continue;
		memcpy(copy, sig, sl + 1);
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		if (cv_sshsig_verify(copy, sl, pk, "git", msg, ml) == 0)
			flipped_refused = 0;
	}
	assert_true(flipped_refused);

	/* Truncated armor: cut anywhere. */
	for (i = 0; i < sl - 2; i++)
		assert_int_not_equal(
		    cv_sshsig_verify(sig, i, pk, "git", msg, ml), 0);
	assert_int_equal(
	    cv_sshsig_verify(sig, sl - 10, pk, "git", msg, ml), CV_ECORRUPT);

	/* Version 2: "SSHSIG" then 00 00 00 02 in the first base64 line. */
	memcpy(copy, sig, sl + 1);
	/* "U1NIU0lHAAAAAQ" encodes SSHSIG 00 00 00 01; ...Ag is 02. */
	assert_memory_equal(copy + 30, "U1NIU0lHAAAAAQ", 14);
	memcpy(copy + 30, "U1NIU0lHAAAAAg", 14);
	assert_int_equal(
	    cv_sshsig_verify(copy, sl, pk, "git", msg, ml), CV_EVERSION);

	/* CRLF, junk after END, oversize input. */
	assert_int_equal(cv_sshsig_verify("-----BEGIN SSH SIGNATURE-----\r\n",
	                     31, pk, "git", msg, ml),
	    CV_ECORRUPT);
	{
		char big[CV_SSHSIG_ARMOR_MAX + 2];
		memset(big, 'A', sizeof(big));
		assert_int_equal(
		    cv_sshsig_verify(big, sizeof(big), pk, "git", msg, ml),
		    CV_ETOOBIG);
	}
	free(copy);
	free(msg);
	free(sig);
	free(fsig);
}

static void
test_our_signature_verifies_with_ssh_keygen(void **state)
{
	char dir[] = "/tmp/cv_sshsig_XXXXXX", path[512], line[200], cmd[2048],
	     allowed[300];
	uint8_t pk[32], sk[64];
	const char *m = "tree 0123\n\nhello auditors\n";
	char *sig;
	size_t siglen;

	(void)state;
	assert_non_null(mkdtemp(dir));
	crypto_sign_keypair(pk, sk);
	assert_int_equal(
	    cv_sshsig_sign(sk, "git", m, strlen(m), &sig, &siglen), 0);
	assert_int_equal(
	    cv_sshsig_verify(sig, siglen, pk, "git", m, strlen(m)), 0);
	assert_int_equal(
	    cv_sshsig_pubkey_line(pk, NULL, line, sizeof(line)), 0);
	snprintf(allowed, sizeof(allowed),
	    "auditor@test namespaces=\"git\" %s\n", line);
	snprintf(path, sizeof(path), "%s/allowed", dir);
	assert_int_equal(
	    cv_write_file_excl(path, allowed, strlen(allowed), 0644), 0);
	snprintf(path, sizeof(path), "%s/msg", dir);
	assert_int_equal(cv_write_file_excl(path, m, strlen(m), 0644), 0);
	snprintf(path, sizeof(path), "%s/msg.sig", dir);
	assert_int_equal(cv_write_file_excl(path, sig, siglen, 0644), 0);
	snprintf(cmd, sizeof(cmd),
	    "ssh-keygen -Y verify -f %s/allowed -I auditor@test -n git "
	    "-s %s/msg.sig < %s/msg >/dev/null 2>&1",
	    dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	/* ssh-keygen refuses it under another namespace: the check is real. */
	snprintf(cmd, sizeof(cmd),
	    "ssh-keygen -Y verify -f %s/allowed -I auditor@test -n file "
	    "-s %s/msg.sig < %s/msg >/dev/null 2>&1",
	    dir, dir, dir);
	assert_int_not_equal(system(cmd), 0);
	/* The round trip of the public key line. */
	{
		uint8_t back[32];
		assert_int_equal(
		    cv_sshsig_pubkey_parse(line, strlen(line), back), 0);
		assert_memory_equal(back, pk, 32);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	sodium_memzero(sk, sizeof(sk));
	free(sig);
}

static void
test_pubkey_line_known_answer(void **state)
{
	/* RFC 8032 test 1 public key; the expected line is the base64 of
	 * string "ssh-ed25519" || string pk, worked out by hand. */
	static const uint8_t pk[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a,
	    0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1,
	    0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7,
	    0x07, 0x51, 0x1a};
	char line[CV_SSHSIG_PUBLINE_MAX];

	(void)state;
	assert_int_equal(
	    cv_sshsig_pubkey_line(pk, "casevault-audit", line, sizeof(line)),
	    0);
	assert_string_equal(line,
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINda"
	    "mAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea casevault-audit");
	assert_int_equal(
	    cv_sshsig_pubkey_line(pk, "two words", line, sizeof(line)),
	    CV_EINVAL);
	assert_int_equal(cv_sshsig_pubkey_line(pk, NULL, line, 20), CV_ETOOBIG);
}

/* allowed_signers lines as ssh-keygen reads them: what pins a key for
 * "git", and what must never be read as such a pin. */
static void
test_allowed_signers_lines(void **state)
{
#define K "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHubtuQJT31Jd6fmGl+tgocobGpS9pFQw0y4yZMnRNCz"
	static const struct {
		const char *line;
		int want;
	} cases[] = {
	    {"audit@casevault namespaces=\"git\" " K "\n", 0},
	    {"audit@casevault " K " a comment", 0},
	    {"a@x,b@y namespaces=\"file,git\" " K, 0},
	    {"\"a b\"@x namespaces=\"*\" " K, 0},
	    {"  a@x\tNAMESPACES=\"git\" " K "\r\n", 0},
	    {"a@x namespaces=\"file\" " K, CV_ENOTFOUND},
	    {"a@x namespaces=\"gitx\" " K, CV_ENOTFOUND},
	    {"a@x cert-authority " K, CV_ENOTFOUND},
	    {"a@x namespaces=\"git\",valid-before=\"2020\" " K,
	        CV_ENOTFOUND},
	    {"a@x ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ", CV_ENOTFOUND},
	    {"# a comment", CV_ENOTFOUND},
	    {"   ", CV_ENOTFOUND},
	    {"a@x", CV_ECORRUPT},
	    {"a@x namespaces=\"git " K, CV_ECORRUPT},
	    {"a@x ssh-ed25519 AAAA!!!!", CV_ECORRUPT},
	    {"\"a@x " K, CV_ECORRUPT},
	};
	uint8_t pk[32], want[32];
	char big[2048];
	size_t i;

	(void)state;
	fixture_pk(want);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(pk, 0, sizeof(pk));
		if (cv_sshsig_allowed_parse(cases[i].line,
		        strlen(cases[i].line), "git", pk) != cases[i].want)
			fail_msg("line %zu: %s", i, cases[i].line);
		if (cases[i].want == 0)
			assert_memory_equal(pk, want, 32);
	}
	memset(big, 'a', sizeof(big));
	assert_int_equal(cv_sshsig_allowed_parse(big, sizeof(big), "git", pk),
	    CV_ETOOBIG);
	assert_int_equal(
	    cv_sshsig_allowed_parse(K, strlen(K), "", pk), CV_EINVAL);
#undef K
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ssh_keygen_signature_verifies),
	    cmocka_unit_test(test_forgeries_refused),
	    cmocka_unit_test(test_our_signature_verifies_with_ssh_keygen),
	    cmocka_unit_test(test_pubkey_line_known_answer),
	    cmocka_unit_test(test_allowed_signers_lines),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
