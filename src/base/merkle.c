/* RFC 6962 Merkle tree hashing, compact right edge, consistency proofs. */
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/merkle.h"

#define HB CV_MERKLE_HASHBYTES

void
cv_merkle_leaf_hash(const void *data, size_t len, uint8_t out[static HB])
{
	crypto_hash_sha256_state st;
	const uint8_t pre = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &pre, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void
cv_merkle_node_hash(const uint8_t l[static HB], const uint8_t r[static HB],
    uint8_t out[static HB])
{
	uint8_t buf[1 + 2 * HB];

	buf[0] = 0x01;
	memcpy(buf + 1, l, HB);
	memcpy(buf + 1 + HB, r, HB);
	crypto_hash_sha256(out, buf, sizeof(buf));
}

void
cv_merkle_init(struct cv_merkle *m)
{
	memset(m, 0, sizeof(*m));
}

static unsigned
popcount64(uint64_t v)
{
	unsigned n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

/*
 * The frontier holds one root per set bit of size, so appending a leaf is
 * binary increment: each trailing one bit of the old size is a carry that
 * merges the smallest subtree with the new one.
 */
int
cv_merkle_append(struct cv_merkle *m, const uint8_t leaf[static HB])
{
	uint8_t h[HB];
	uint64_t n;

	if (m->size >= (UINT64_C(1) << 63))
		return CV_ETOOBIG;
	memcpy(h, leaf, HB);
	for (n = m->size; n & 1; n >>= 1)
		cv_merkle_node_hash(m->front[--m->nfront], h, h);
	memcpy(m->front[m->nfront++], h, HB);
	m->size++;
	return 0;
}

/*
 * Folding the frontier from the right gives MTH: at each level the left
 * part is the largest power of two below the size, which is exactly the
 * next larger subtree of the decomposition.
 */
void
cv_merkle_root(const struct cv_merkle *m, uint8_t out[static HB])
{
	uint8_t h[HB];
	unsigned i;

	if (m->size == 0) {
		crypto_hash_sha256(out, (const uint8_t *)"", 0);
		return;
	}
	memcpy(h, m->front[m->nfront - 1], HB);
	for (i = m->nfront - 1; i-- > 0;)
		cv_merkle_node_hash(m->front[i], h, h);
	memcpy(out, h, HB);
}

int
cv_merkle_load(struct cv_merkle *m, uint64_t size, const uint8_t (*front)[HB],
    unsigned nfront)
{
	if (size >= (UINT64_C(1) << 63) || popcount64(size) != nfront)
		return CV_ECORRUPT;
	cv_merkle_init(m);
	m->size = size;
	m->nfront = nfront;
	if (nfront > 0)
		memcpy(m->front, front, (size_t)nfront * HB);
	return 0;
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

void
cv_merkle_root_of(
    const uint8_t (*leaves)[HB], uint64_t n, uint8_t out[static HB])
{
	uint8_t l[HB], r[HB];
	uint64_t k;

	if (n == 0) {
		crypto_hash_sha256(out, (const uint8_t *)"", 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], HB);
		return;
	}
	k = split(n);
	cv_merkle_root_of(leaves, k, l);
	cv_merkle_root_of(leaves + k, n - k, r);
	cv_merkle_node_hash(l, r, out);
}

static int
subproof(const uint8_t (*d)[HB], uint64_t m, uint64_t n, int whole,
    uint8_t (*proof)[HB], size_t max, size_t *count)
{
	uint64_t k;
	int r;

	if (m == n) {
		if (whole)
			return 0;
		if (*count >= max)
			return CV_ETOOBIG;
		cv_merkle_root_of(d, n, proof[(*count)++]);
		return 0;
	}
	k = split(n);
	if (m <= k) {
		if ((r = subproof(d, m, k, whole, proof, max, count)) != 0)
			return r;
		if (*count >= max)
			return CV_ETOOBIG;
		cv_merkle_root_of(d + k, n - k, proof[(*count)++]);
	} else {
		if ((r = subproof(d + k, m - k, n - k, 0, proof, max, count)) !=
		    0)
			return r;
		if (*count >= max)
			return CV_ETOOBIG;
		cv_merkle_root_of(d, k, proof[(*count)++]);
	}
	return 0;
}

int
cv_merkle_consistency_proof(const uint8_t (*leaves)[HB], uint64_t m, uint64_t n,
    uint8_t (*proof)[HB], size_t max, size_t *count)
{
	*count = 0;
	if (m > n)
		return CV_EINVAL;
	if (m == 0 || m == n)
		return 0;
	return subproof(leaves, m, n, 1, proof, max, count);
}

int
cv_merkle_consistency_verify(uint64_t m, uint64_t n,
    const uint8_t root_m[static HB], const uint8_t root_n[static HB],
    const uint8_t (*proof)[HB], size_t count)
{
	uint8_t fr[HB], sr[HB];
	uint64_t fn, sn;
	size_t i = 0;

	if (m > n)
		return CV_EINVAL;
	if (m == n)
		return count == 0 && memcmp(root_m, root_n, HB) == 0
		    ? 0
		    : CV_EVERIFY;
	if (m == 0)
		return count == 0 ? 0 : CV_EVERIFY;
	if (count == 0 || count > 2 * CV_MERKLE_DEPTH_MAX)
		return CV_EVERIFY;
	/* A power-of-two first tree is itself a node of the second. */
	if ((m & (m - 1)) == 0) {
		memcpy(fr, root_m, HB);
	} else {
		memcpy(fr, proof[0], HB);
		i = 1;
	}
	memcpy(sr, fr, HB);
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < count; i++) {
		if (sn == 0)
			return CV_EVERIFY;
		if ((fn & 1) || fn == sn) {
			cv_merkle_node_hash(proof[i], fr, fr);
			cv_merkle_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			cv_merkle_node_hash(sr, proof[i], sr);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, root_m, HB) != 0 ||
	    memcmp(sr, root_n, HB) != 0)
		return CV_EVERIFY;
	return 0;
}
