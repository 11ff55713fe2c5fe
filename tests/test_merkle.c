/*
 * RFC 6962 Merkle tree against the published known answers.
 * Leaves, subtree hashes and roots: transparency-dev/merkle,
 * testonly/constants.go (LeafInputs, NodeHashes, RootHashes), the same
 * vectors as google/certificate-transparency's merkle_tree_test.
 * Consistency proofs (1,8), (6,8), (2,5): the certificate-transparency
 * reference proofs, built from those node hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "casevault.h"
#include "base/merkle.h"

static const char *inputs[8] = {"", "00", "10", "2021", "3031", "40414243",
    "5051525354555657", "606162636465666768696a6b6c6d6e6f"};

static const char *roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void
unhex(const char *h, uint8_t *out, size_t *len)
{
	size_t n;

	assert_int_equal(
	    sodium_hex2bin(out, 64, h, strlen(h), NULL, &n, NULL), 0);
	if (len != NULL)
		*len = n;
}

static void
leaves8(uint8_t l[8][32])
{
	uint8_t buf[64];
	size_t i, n;

	for (i = 0; i < 8; i++) {
		unhex(inputs[i], buf, &n);
		cv_merkle_leaf_hash(buf, n, l[i]);
	}
}

static void
test_roots_known_answers(void **state)
{
	uint8_t l[8][32], want[32], got[32];
	struct cv_merkle m;
	size_t i;

	(void)state;
	leaves8(l);
	cv_merkle_init(&m);
	for (i = 0; i <= 8; i++) {
		unhex(roots[i], want, NULL);
		cv_merkle_root(&m, got);
		assert_memory_equal(got, want, 32);
		cv_merkle_root_of((const uint8_t(*)[32])l, i, got);
		assert_memory_equal(got, want, 32);
		if (i < 8)
			assert_int_equal(cv_merkle_append(&m, l[i]), 0);
	}
	/* The frontier of 7 leaves is nh[2][0], nh[1][2], nh[0][6]. */
	unhex(
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	    want, NULL);
	cv_merkle_init(&m);
	for (i = 0; i < 7; i++)
		assert_int_equal(cv_merkle_append(&m, l[i]), 0);
	assert_int_equal(m.nfront, 3);
	assert_memory_equal(m.front[0], want, 32);
	unhex(
	    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	    want, NULL);
	assert_memory_equal(m.front[2], want, 32);
}

struct cvec {
	uint64_t m, n;
	size_t count;
	const char *proof[3];
};

static const struct cvec cvecs[] = {
    {1, 1, 0, {NULL}},
    {1, 8, 3,
        {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
            "4"}},
    {6, 8, 3,
        {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
            "7"}},
    {2, 5, 2,
        {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
            "b"}},
};

static void
test_consistency_known_answers(void **state)
{
	uint8_t l[8][32], proof[16][32], want[32], rm[32], rn[32];
	size_t i, j, count;

	(void)state;
	leaves8(l);
	for (i = 0; i < sizeof(cvecs) / sizeof(cvecs[0]); i++) {
		const struct cvec *v = &cvecs[i];

		assert_int_equal(
		    cv_merkle_consistency_proof(
		        (const uint8_t(*)[32])l, v->m, v->n, proof, 16, &count),
		    0);
		assert_int_equal(count, v->count);
		for (j = 0; j < count; j++) {
			unhex(v->proof[j], want, NULL);
			assert_memory_equal(proof[j], want, 32);
		}
		unhex(roots[v->m], rm, NULL);
		unhex(roots[v->n], rn, NULL);
		assert_int_equal(cv_merkle_consistency_verify(v->m, v->n, rm,
		                     rn, (const uint8_t(*)[32])proof, count),
		    0);
		if (count > 0) {
			proof[count - 1][5] ^= 1;
			assert_int_equal(
			    cv_merkle_consistency_verify(v->m, v->n, rm, rn,
			        (const uint8_t(*)[32])proof, count),
			    CV_EVERIFY);
		}
	}
}

/* Every pair m <= n up to 40 leaves: proofs verify; a wrong old root, a
 * truncated proof or an extended one do not. */
static void
test_consistency_all_sizes(void **state)
{
	uint8_t l[40][32], proof[64][32], roots_[41][32];
	uint8_t b[2];
	size_t i, count;
	uint64_t m, n;

	(void)state;
	for (i = 0; i < 40; i++) {
		b[0] = (uint8_t)i;
		b[1] = (uint8_t)(i * 7);
		cv_merkle_leaf_hash(b, 2, l[i]);
	}
	for (n = 0; n <= 40; n++)
		cv_merkle_root_of((const uint8_t(*)[32])l, n, roots_[n]);
	for (n = 1; n <= 40; n++) {
		for (m = 1; m <= n; m++) {
			assert_int_equal(
			    cv_merkle_consistency_proof((const uint8_t(*)[32])l,
			        m, n, proof, 63, &count),
			    0);
			assert_int_equal(
			    cv_merkle_consistency_verify(m, n, roots_[m],
			        roots_[n], (const uint8_t(*)[32])proof, count),
			    0);
			if (m == n)
				continue;
			assert_int_equal(
			    cv_merkle_consistency_verify(m, n, roots_[m - 1],
			        roots_[n], (const uint8_t(*)[32])proof, count),
			    CV_EVERIFY);
			assert_int_equal(
			    cv_merkle_consistency_verify(m, n, roots_[m],
			        roots_[n], (const uint8_t(*)[32])proof,
			        count - 1),
			    CV_EVERIFY);
			memset(proof[count], 0xcd, 32);
			assert_int_equal(
			    cv_merkle_consistency_verify(m, n, roots_[m],
			        roots_[n], (const uint8_t(*)[32])proof,
			        count + 1),
			    CV_EVERIFY);
		}
	}
	assert_int_equal(cv_merkle_consistency_verify(5, 4, roots_[5],
	                     roots_[4], (const uint8_t(*)[32])proof, 0),
	    CV_EINVAL);
}

static void
test_load_rejects_bad_frontier(void **state)
{
	uint8_t f[2][32] = {{0}};
	struct cv_merkle m;

	(void)state;
	assert_int_equal(cv_merkle_load(&m, 3, (const uint8_t(*)[32])f, 2), 0);
	assert_int_equal(
	    cv_merkle_load(&m, 4, (const uint8_t(*)[32])f, 2), CV_ECORRUPT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roots_known_answers),
	    cmocka_unit_test(test_consistency_known_answers),
	    cmocka_unit_test(test_consistency_all_sizes),
	    cmocka_unit_test(test_load_rejects_bad_frontier),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
