/*
 * RFC 6962 Merkle tree hash over SHA-256:
 *	leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right),
 *	MTH({}) = SHA-256(""), and MTH(D[n]) splits at the largest power of two
 *	smaller than n.
 * struct cv_merkle keeps only the right edge (one hash per set bit of the
 * size), so appending is O(log n) and the whole log never sits in memory.
 */
#ifndef CV_MERKLE_H
#define CV_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define CV_MERKLE_HASHBYTES 32
#define CV_MERKLE_DEPTH_MAX 64

struct cv_merkle {
	uint64_t size;   /* leaves appended so far */
	unsigned nfront; /* number of frontier hashes = popcount(size) */
	/* Roots of the perfect subtrees of the size's binary decomposition,
	 * largest (leftmost) first. */
	uint8_t front[CV_MERKLE_DEPTH_MAX][CV_MERKLE_HASHBYTES];
};

/* The leaf hash of the LEN bytes at DATA. */
void cv_merkle_leaf_hash(
    const void *data, size_t len, uint8_t out[static CV_MERKLE_HASHBYTES]);

/* The interior node hash of L and R (OUT may alias either). */
void cv_merkle_node_hash(const uint8_t l[static CV_MERKLE_HASHBYTES],
    const uint8_t r[static CV_MERKLE_HASHBYTES],
    uint8_t out[static CV_MERKLE_HASHBYTES]);

/* An empty tree. */
void cv_merkle_init(struct cv_merkle *m);

/* Append the leaf hash LEAF. Returns 0, or CV_ETOOBIG at 2^63 leaves. */
int cv_merkle_append(
    struct cv_merkle *m, const uint8_t leaf[static CV_MERKLE_HASHBYTES]);

/* The tree head MTH of everything appended so far. */
void cv_merkle_root(
    const struct cv_merkle *m, uint8_t out[static CV_MERKLE_HASHBYTES]);

/*
 * Rebuild M from a stored frontier: SIZE leaves and NFRONT hashes at FRONT,
 * largest subtree first. Returns 0, or CV_ECORRUPT when NFRONT is not the
 * number of set bits of SIZE.
 */
int cv_merkle_load(struct cv_merkle *m, uint64_t size,
    const uint8_t (*front)[CV_MERKLE_HASHBYTES], unsigned nfront);

/*
 * MTH of the N leaf hashes at LEAVES, computed directly from the
 * definition (a reference for tests and proofs; O(n) time, O(log n) stack).
 */
void cv_merkle_root_of(const uint8_t (*leaves)[CV_MERKLE_HASHBYTES], uint64_t n,
    uint8_t out[static CV_MERKLE_HASHBYTES]);

/*
 * The RFC 6962 consistency proof PROOF(m, D[n]) from the N leaf hashes at
 * LEAVES: up to MAX hashes into PROOF, their number in *count.
 * Returns 0, CV_EINVAL (m > n), CV_ETOOBIG (more than MAX hashes).
 */
int cv_merkle_consistency_proof(const uint8_t (*leaves)[CV_MERKLE_HASHBYTES],
    uint64_t m, uint64_t n, uint8_t (*proof)[CV_MERKLE_HASHBYTES], size_t max,
    size_t *count);

/*
 * Check that ROOT_N, a tree of N leaves, extends ROOT_M, a tree of its first
 * M leaves, with the COUNT hashes of PROOF (RFC 9162 section 2.1.4.2).
 * M = N needs an empty proof and equal roots; M = 0 needs an empty proof.
 * Returns 0 when consistent, CV_EVERIFY when not, CV_EINVAL for M > N.
 */
int cv_merkle_consistency_verify(uint64_t m, uint64_t n,
    const uint8_t root_m[static CV_MERKLE_HASHBYTES],
    const uint8_t root_n[static CV_MERKLE_HASHBYTES],
    const uint8_t (*proof)[CV_MERKLE_HASHBYTES], size_t count)
    __attribute__((warn_unused_result));

#endif
