/*
 * SHA-1 (FIPS 180-4) for the checksums git requires in pack and index
 * files. Git names objects and packs with SHA-1; nothing in casevault
 * relies on it for security: the trail's integrity rests on the SSHSIG
 * signatures and the SHA-256 Merkle tree.
 */
#ifndef CV_AUDIT_SHA1_H
#define CV_AUDIT_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_SHA1_BYTES 20

struct audit_sha1 {
	uint32_t h[5];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	size_t n; /* bytes waiting in buf */
};

void audit_sha1_init(struct audit_sha1 *s);
void audit_sha1_update(struct audit_sha1 *s, const void *p, size_t len);
void audit_sha1_final(struct audit_sha1 *s, uint8_t out[static 20]);

#endif
