/*
 * SHA-1 (FIPS 180-4) for the checksums git requires in pack and index
 * files, computed by nettle. Git names objects and packs with SHA-1;
 * nothing in casevault relies on it for security: the trail's integrity
 * rests on the SSHSIG signatures and the SHA-256 Merkle tree.
 *
 * These wrappers keep nettle's calling convention (length before data;
 * the digest length argument, which nettle 4 drops) in one place.
 * docs/PERFORMANCE.md, "SHA-1", has the measurement behind the choice.
 */
#ifndef CV_AUDIT_SHA1_H
#define CV_AUDIT_SHA1_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha1.h>
#include <nettle/version.h>

#define AUDIT_SHA1_BYTES SHA1_DIGEST_SIZE

struct audit_sha1 {
	struct sha1_ctx ctx;
};

static inline void
audit_sha1_init(struct audit_sha1 *s)
{
	sha1_init(&s->ctx);
}

static inline void
audit_sha1_update(struct audit_sha1 *s, const void *p, size_t len)
{
	sha1_update(&s->ctx, len, p);
}

/* The digest of everything hashed since init; S is ready for reuse. */
static inline void
audit_sha1_final(struct audit_sha1 *s, uint8_t out[static 20])
{
#if NETTLE_VERSION_MAJOR >= 4
	sha1_digest(&s->ctx, out);
#else
	sha1_digest(&s->ctx, AUDIT_SHA1_BYTES, out);
#endif
}

#endif
