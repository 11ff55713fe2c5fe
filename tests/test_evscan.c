/*
 * The verifier's quick readings against the full paths they stand in for.
 * Events (src/audit/evscan.c): whatever the scan accepts, jansson must
 * parse and dump back byte for byte, with the same seq, time and
 * store_write. State blobs (src/audit/layout.c): the direct spelling is
 * jansson's canonical one, and what the one-pass parse accepts, the full
 * parse reads alike. Each test below can fail: a quick path accepting a
 * text the full path rejects, or refusing the plain texts the trail
 * holds, which would make it useless.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/evscan.h"
#include "audit/layout.h"
#include "base/merkle.h"
#include "base/util.h"

/* Events the gate and the session code write, seq 42. */
static const char *const good[] = {
    "{\"access\":\"read\",\"action\":\"record.read\",\"actor\":\"u0042\","
    "\"case\":\"3f0a9c5d2e7b41f68a0c9e1d5b7f23a4\",\"classes\":[\"identity\","
    "\"incident\",\"services\"],\"decision\":\"allow\",\"outcome\":"
    "\"success\",\"policy\":\"3f0a9c5d\",\"purpose\":\"case_management\","
    "\"record\":17,\"role\":\"counselor\",\"rule\":\"team.member\",\"seq\":42,"
    "\"session\":\"5eed0000abcdef01\",\"time\":\"2026-12-02T17:12:01.123Z\","
    "\"version\":3}",
    "{\"action\":\"record.add\",\"seq\":42,\"store_write\":true,\"time\":"
    "\"2026-12-02T17:12:01.123Z\"}",
    "{\"a\":{},\"b\":[],\"c\":[[1,-2],{\"x\":null,\"y\":false}],\"seq\":42,"
    "\"time\":\"2026-12-02T17:12:01.123Z\",\"z\":\"\"}",
};

/* What the full path says of BUF: 1 canonical with these fields. */
static int
full(const char *buf, size_t len, uint64_t seq, uint64_t *tm, int *sw)
{
	json_t *o = NULL, *v;
	char *c = NULL;
	int ok = 0;

	if (cv_json_parse_object(buf, len, CV_AUDIT_EVENT_MAX, &o) != 0)
		return 0;
	v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) != seq)
		goto out;
	v = json_object_get(o, "time");
	if (!json_is_string(v) || json_string_length(v) != 24 ||
	    cv_parse_time(json_string_value(v), tm) != 0)
		goto out;
	v = json_object_get(o, "store_write");
	if (v != NULL && !json_is_true(v))
		goto out;
	*sw = v != NULL;
	c = cv_json_canonical(o);
	ok = c != NULL && strlen(c) == len && memcmp(c, buf, len) == 0;
out:
	free(c);
	json_decref(o);
	return ok;
}

/* Whenever the scan accepts BUF, the full path does too, alike. */
static int
agree(const char *buf, size_t len, uint64_t seq)
{
	uint64_t t1 = 0, t2 = 0;
	int s1 = -1, s2 = -1;

	if (!audit_event_scan(buf, len, seq, &t1, &s1))
		return 0;
	assert_true(full(buf, len, seq, &t2, &s2));
	assert_true(t1 == t2);
	assert_int_equal(s1, s2);
	return 1;
}

static void
test_plain_events_accepted(void **state)
{
	uint64_t tm;
	size_t i;
	int sw;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(agree(good[i], strlen(good[i]), 42));
		assert_true(audit_event_scan(
		    good[i], strlen(good[i]), 42, &tm, &sw));
		assert_int_equal(sw, i == 1);
		/* Another seq is not this event's. */
		assert_false(audit_event_scan(
		    good[i], strlen(good[i]), 43, &tm, &sw));
	}
}

/* Texts the full path rejects or that lie outside the subset. */
static void
test_unsure_cases(void **state)
{
	static const char *const bad[] = {
	    /* not canonical */
	    "{\"seq\":42, \"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"time\":\"2026-12-02T17:12:01.123Z\",\"seq\":42}",
	    "{\"seq\":42,\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"a\":-0,\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"a\":01,\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"a\":+1,\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"seq\":042,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"} ",
	    "{\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}{}",
	    "{\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\",}",
	    "{\"a\":[1,],\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"ab\":1,\"a\":1,\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    /* outside the subset, which the full path judges */
	    "{\"a\":\"\\u0041\",\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"a\":1.5,\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"a\":1e3,\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"a\":1234567890123456789,\"seq\":42,"
	    "\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"a\":\"\xc3\xa9\",\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]],\"seq\":42,"
	    "\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    /* fields the verifier reads */
	    "{\"seq\":\"42\",\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"seq\":-42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"seq\":42}",
	    "{\"seq\":42,\"time\":\"2026-12-02T17:12:01.12Z\"}",
	    "{\"seq\":42,\"time\":\"2026-13-02T17:12:01.123Z\"}",
	    "{\"seq\":42,\"time\":1}",
	    "{\"seq\":42,\"store_write\":false,"
	    "\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"seq\":42,\"store_write\":[],"
	    "\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"seq\":42,\"store_write\":\"true\","
	    "\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "{\"seq\":42,\"store_write\":truex,"
	    "\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    "[{\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}]",
	    "",
	    "{",
	};
	uint64_t tm;
	size_t i;
	int sw;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (audit_event_scan(bad[i], strlen(bad[i]), 42, &tm, &sw))
			fail_msg("accepted: %s", bad[i]);
	}
	/* A NUL inside the text. */
	assert_false(audit_event_scan(
	    "{\"a\":\"\0\",\"seq\":42,\"time\":\"2026-12-02T17:12:01.123Z\"}",
	    50, 42, &tm, &sw));
}

/*
 * Mutations of the plain events: every byte replaced by each of a set of
 * bytes that matter to JSON, deleted, or doubled. Whatever the scan
 * accepts, the full path must accept alike.
 */
static void
test_mutations_agree(void **state)
{
	static const char alphabet[] = "{}[]\":,\\ -0123456789.etrufalsn\x01\x7f"
	                               "\x80";
	char buf[1024];
	size_t i, j, k, n;
	unsigned accepted = 0, tried = 0;

	(void)state;
	for (k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		n = strlen(good[k]);
		assert_true(n + 1 < sizeof(buf));
		for (i = 0; i < n; i++) {
			for (j = 0; j < sizeof(alphabet) - 1; j++) {
				memcpy(buf, good[k], n);
				buf[i] = alphabet[j];
				accepted += (unsigned)agree(buf, n, 42);
				tried++;
			}
			/* delete byte i */
			memcpy(buf, good[k], i);
			memcpy(buf + i, good[k] + i + 1, n - i - 1);
			accepted += (unsigned)agree(buf, n - 1, 42);
			/* double byte i */
			memcpy(buf, good[k], i + 1);
			memcpy(buf + i + 1, good[k] + i, n - i);
			accepted += (unsigned)agree(buf, n + 1, 42);
			tried += 2;
		}
	}
	/* Some mutations stay canonical (a digit for a digit, a letter in a
	 * value), most do not. */
	assert_true(accepted > 0);
	assert_true(accepted < tried);
}

/* The state blob as jansson spells it canonically (the reference). */
static char *
state_ref(const struct cv_merkle *m, uint64_t lw, uint64_t tm)
{
	char hex[2 * CV_MERKLE_HASHBYTES + 1], t[25];
	json_t *o = json_object(), *fr = json_array();
	char *s;
	unsigned i;

	assert_non_null(o);
	assert_non_null(fr);
	for (i = 0; i < m->nfront; i++) {
		audit_hex(m->front[i], CV_MERKLE_HASHBYTES, hex);
		assert_int_equal(json_array_append_new(fr, json_string(hex)), 0);
	}
	cv_format_time(tm, t);
	assert_int_equal(json_object_set_new(o, "frontier", fr), 0);
	assert_int_equal(json_object_set_new(o, "last_write",
	                     json_integer((json_int_t)lw)),
	    0);
	assert_int_equal(json_object_set_new(o, "size",
	                     json_integer((json_int_t)m->size)),
	    0);
	assert_int_equal(json_object_set_new(o, "time", json_string(t)), 0);
	assert_int_equal(json_object_set_new(o, "version", json_integer(1)), 0);
	s = cv_json_canonical(o);
	json_decref(o);
	assert_non_null(s);
	return s;
}

/* The full parse (jansson), as audit_state_parse made it alone: 1 and
 * the values, or 0. */
static int
state_full(const char *buf, size_t len, uint64_t *size, uint64_t *lw,
    uint64_t *tm, uint8_t front[CV_MERKLE_DEPTH_MAX][32], size_t *n)
{
	json_t *o = NULL, *fr, *v;
	size_t i, hl;
	int ok = 0;

	if (cv_json_parse_object(buf, len, AUDIT_STATE_MAX, &o) != 0)
		return 0;
	fr = json_object_get(o, "frontier");
	v = json_object_get(o, "version");
	if (!json_is_array(fr) || !json_is_integer(v) ||
	    json_integer_value(v) != 1 ||
	    !json_is_integer(json_object_get(o, "size")) ||
	    !json_is_integer(json_object_get(o, "last_write")) ||
	    !json_is_string(json_object_get(o, "time")) ||
	    json_integer_value(json_object_get(o, "size")) < 0 ||
	    json_integer_value(json_object_get(o, "last_write")) < 0)
		goto out;
	*size = (uint64_t)json_integer_value(json_object_get(o, "size"));
	*lw = (uint64_t)json_integer_value(json_object_get(o, "last_write"));
	*n = json_array_size(fr);
	if (*n > CV_MERKLE_DEPTH_MAX ||
	    cv_parse_time(
	        json_string_value(json_object_get(o, "time")), tm) != 0)
		goto out;
	for (i = 0; i < *n; i++) {
		v = json_array_get(fr, i);
		if (!json_is_string(v) ||
		    sodium_hex2bin(front[i], 32, json_string_value(v),
		        json_string_length(v), NULL, &hl, NULL) != 0 ||
		    hl != 32)
			goto out;
	}
	ok = 1;
out:
	json_decref(o);
	return ok;
}

/* Whenever audit_state_parse accepts BUF, the full parse reads the same
 * values. */
static int
state_agree(const char *buf, size_t len)
{
	uint8_t front[CV_MERKLE_DEPTH_MAX][32];
	struct cv_merkle m;
	uint64_t lw, tm, size2 = 0, lw2 = 0, tm2 = 0;
	size_t n2 = 0, i;

	if (audit_state_parse(buf, len, &m, &lw, &tm) != 0)
		return 0;
	assert_true(state_full(buf, len, &size2, &lw2, &tm2, front, &n2));
	assert_true(m.size == size2);
	assert_true(lw == lw2);
	assert_true(tm == tm2);
	assert_int_equal(m.nfront, n2);
	for (i = 0; i < n2; i++)
		assert_memory_equal(m.front[i], front[i], 32);
	return 1;
}

static void
test_state_spelling_and_parse(void **state)
{
	static const char alphabet[] = "{}[]\":,\\ -0123456789abcdefABCDEF.xZ";
	struct cv_merkle m;
	uint8_t leaf[32];
	char buf[AUDIT_STATE_MAX + 2], *a, *b;
	uint64_t i, lw, tm;
	size_t len, k, j;
	unsigned accepted = 0, tried = 0;

	(void)state;
	cv_merkle_init(&m);
	for (i = 0; i <= 300; i++) {
		lw = i / 3;
		tm = UINT64_C(1764694321123) + i * 997;
		a = audit_state_format(&m, lw, tm);
		b = state_ref(&m, lw, tm);
		assert_non_null(a);
		assert_string_equal(a, b);
		assert_true(state_agree(a, strlen(a)));
		/* A few sizes: every byte mutated, deleted or doubled. */
		if (i == 0 || i == 1 || i == 7 || i == 300) {
			len = strlen(a);
			for (k = 0; k < len; k++) {
				for (j = 0; j < sizeof(alphabet) - 1; j++) {
					memcpy(buf, a, len);
					buf[k] = alphabet[j];
					accepted += (unsigned)state_agree(buf, len);
					tried++;
				}
				memcpy(buf, a, k);
				memcpy(buf + k, a + k + 1, len - k - 1);
				accepted += (unsigned)state_agree(buf, len - 1);
				memcpy(buf, a, k + 1);
				memcpy(buf + k + 1, a + k, len - k);
				accepted += (unsigned)state_agree(buf, len + 1);
				tried += 2;
			}
		}
		free(a);
		free(b);
		randombytes_buf(leaf, sizeof(leaf));
		assert_int_equal(cv_merkle_append(&m, leaf), 0);
	}
	assert_true(accepted > 0);
	assert_true(accepted < tried);
	/* Another spelling of a state is still read, by the full parse. */
	cv_merkle_init(&m);
	a = audit_state_format(&m, 0, UINT64_C(1764694321123));
	snprintf(buf, sizeof(buf), "{\"version\": 1, %.*s}", (int)(strlen(a) - 14),
	    a + 1);
	assert_true(state_agree(buf, strlen(buf)));
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_events_accepted),
	    cmocka_unit_test(test_unsure_cases),
	    cmocka_unit_test(test_mutations_agree),
	    cmocka_unit_test(test_state_spelling_and_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
