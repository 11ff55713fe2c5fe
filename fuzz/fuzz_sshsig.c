/* Fuzz the SSHSIG armor and blob parser, the public key line parser and
 * the allowed_signers line parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "base/sshsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
has_key_type(const uint8_t *d, size_t n)
{
	size_t i;

	for (i = 0; i + 12 <= n; i++)
		if (memcmp(d + i, "ssh-ed25519 ", 12) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The key of tests/fixtures/sshsig/signer.pub, so that seeds reach
	 * the signature check itself. */
	static const uint8_t pk[32] = {0x7b, 0x9b, 0xb6, 0xe4, 0x09, 0x4f, 0x7d,
	    0x49, 0x77, 0xa7, 0xe6, 0x1a, 0x5f, 0xad, 0x82, 0x87, 0x28, 0x6c,
	    0x6a, 0x52, 0xf6, 0x91, 0x50, 0xc3, 0x4c, 0xb8, 0xc9, 0x93, 0x27,
	    0x44, 0xd0, 0xb3};
	static const char msg[] = "audit: events 1-3\n\nAudit-Seq: 1-3\n";
	uint8_t out[32];

	if (sodium_init() < 0)
		return 0;
	if (cv_sshsig_verify((const char *)data, size, pk, "git", msg,
	        sizeof(msg) - 1) == 0 &&
	    size < 200)
		__builtin_trap(); /* a valid signature cannot be that short */
	(void)cv_sshsig_pubkey_parse((const char *)data, size, out);
	/* A line that pins a key names it: the key parses on its own. */
	if (cv_sshsig_allowed_parse((const char *)data, size, "git", out) ==
	        0 &&
	    !has_key_type(data, size))
		__builtin_trap();
	return 0;
}
