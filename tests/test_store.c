#define _GNU_SOURCE
/*
 * The store's walking primitives, on a store of planted keys chosen at the
 * edges a prefix has: a key equal to the prefix, its extensions, the next
 * key up, and 0xff bytes where "the key after the prefix" has to carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "casevault.h"
#include "store/store.h"
#include "base/util.h"

#include "helpers.h"
#include "helpers.c.inc"

/* ---- walks ---- */

static const char *const planted[] = {
    "a", "ab", "abc", "abd", "b", "a\xff\x01", "\xff", "\xff\xff"};

struct fx {
	char tmp[32];
	struct cv_store *st;
};

static int
store_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cv_txn *txn;
	size_t i;

	snprintf(f->tmp, sizeof(f->tmp), "/tmp/cvstore.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	assert_int_equal(cv_store_create(f->tmp, &f->st), 0);
	assert_int_equal(cv_txn_begin(f->st, CV_TXN_WRITE, &txn), 0);
	for (i = 0; i < CV_ARRAY_LEN(planted); i++)
		assert_int_equal(cv_put(txn, CV_DB_CASEDATA, planted[i],
		    strlen(planted[i]), "v", 1, 0), 0);
	assert_int_equal(cv_txn_commit(txn), 0);
	*state = f;
	return 0;
}

static int
store_teardown(void **state)
{
	struct fx *f = *state;

	cv_store_close(f->st);
	test_rm_rf(f->tmp);
	free(f);
	return 0;
}

struct seen {
	char keys[16][8];
	size_t n;
	size_t stop_at; /* return 7 at this visit (1-based); 0: never */
};

static int
record_key(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(v->len, 1);
	assert_true(k->len < sizeof(s->keys[0]));
	assert_true(s->n < 16);
	memcpy(s->keys[s->n], k->data, k->len);
	s->keys[s->n][k->len] = '\0';
	s->n++;
	return s->n == s->stop_at ? 7 : 0;
}

static void
scan_visits_the_prefix_in_order(void **state)
{
	struct fx *f = *state;
	struct cv_txn *txn;
	struct seen s;

	assert_int_equal(cv_txn_begin(f->st, CV_TXN_RDONLY, &txn), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, "ab", 2, record_key, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "ab");
	assert_string_equal(s.keys[1], "abc");
	assert_string_equal(s.keys[2], "abd");

	/* No prefix: everything, in key order. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, NULL, 0, record_key, &s), 0);
	assert_int_equal(s.n, CV_ARRAY_LEN(planted));
	assert_string_equal(s.keys[0], "a");
	assert_string_equal(s.keys[4], "a\xff\x01");
	assert_string_equal(s.keys[5], "b");
	assert_string_equal(s.keys[7], "\xff\xff");

	/* A prefix nothing has; one past the last key. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, "ac", 2, record_key, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(cv_store_scan(txn, CV_DB_CASEDATA, "\xff\xff\xff", 3,
	                     record_key, &s),
	    0);
	assert_int_equal(s.n, 0);

	/* The callback's nonzero return stops the walk and comes back. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, "a", 1, record_key, &s), 7);
	assert_int_equal(s.n, 2);
	s.stop_at = 0;
	assert_int_equal(cv_store_scan(txn, CV_DB_CASEDATA, "a",
	                     CV_STORE_KEY_MAX + 1, record_key, &s),
	    CV_EINVAL);
	cv_txn_abort(txn);
}

static void
expect_end(struct cv_txn *txn, int last, const char *prefix, size_t plen,
    const char *want)
{
	struct cv_val k = {NULL, 0}, v;
	int r;

	r = last ? cv_store_last(txn, CV_DB_CASEDATA, prefix, plen, &k, &v)
	         : cv_store_first(txn, CV_DB_CASEDATA, prefix, plen, &k, &v);
	if (want == NULL) {
		assert_int_equal(r, CV_ENOTFOUND);
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(k.len, strlen(want));
	assert_memory_equal(k.data, want, k.len);
	assert_int_equal(v.len, 1);
}

static void
first_and_last_of_a_prefix(void **state)
{
	struct fx *f = *state;
	struct cv_txn *txn;

	assert_int_equal(cv_txn_begin(f->st, CV_TXN_RDONLY, &txn), 0);
	expect_end(txn, 0, "ab", 2, "ab");
	expect_end(txn, 1, "ab", 2, "abd");
	expect_end(txn, 0, "a", 1, "a");
	expect_end(txn, 1, "a", 1, "a\xff\x01"); /* the raised byte carries */
	expect_end(txn, 1, "a\xff", 2, "a\xff\x01");
	expect_end(txn, 1, "abd", 3, "abd"); /* the prefix is the key */
	expect_end(txn, 0, "b", 1, "b");
	expect_end(txn, 1, "b", 1, "b");
	expect_end(txn, 1, "\xff", 1, "\xff\xff"); /* nothing above it */
	expect_end(txn, 0, "\xff", 1, "\xff");
	expect_end(txn, 0, NULL, 0, "a");
	expect_end(txn, 1, NULL, 0, "\xff\xff");
	expect_end(txn, 0, "ac", 2, NULL);
	expect_end(txn, 1, "ac", 2, NULL);
	expect_end(txn, 1, "0", 1, NULL); /* below every key */
	expect_end(txn, 0, "c", 1, NULL);
	cv_txn_abort(txn);
}

static void
shred_prefix_takes_only_the_prefix(void **state)
{
	struct fx *f = *state;
	struct cv_txn *txn;
	struct seen s;
	size_t n;

	assert_int_equal(cv_txn_begin(f->st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(cv_shred_prefix(txn, CV_DB_CASEDATA, "ab", 2), 0);
	assert_int_equal(cv_shred_prefix(txn, CV_DB_CASEDATA, "zz", 2), 0);
	assert_int_equal(
	    cv_shred_prefix(txn, CV_DB_CASEDATA, NULL, 0), CV_EINVAL);
	assert_int_equal(cv_txn_commit(txn), 0);

	assert_int_equal(cv_txn_begin(f->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_store_count(txn, CV_DB_CASEDATA, &n), 0);
	assert_int_equal(n, CV_ARRAY_LEN(planted) - 3);
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    cv_store_scan(txn, CV_DB_CASEDATA, "a", 1, record_key, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "a");
	assert_string_equal(s.keys[1], "a\xff\x01");
	cv_txn_abort(txn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        scan_visits_the_prefix_in_order, store_setup, store_teardown),
	    cmocka_unit_test_setup_teardown(
	        first_and_last_of_a_prefix, store_setup, store_teardown),
	    cmocka_unit_test_setup_teardown(shred_prefix_takes_only_the_prefix,
	        store_setup, store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
