#define _GNU_SOURCE
/*
 * The dispatcher, driven directly on a real vault: a malformed request is
 * refused with CV_EPROTO before anything runs (the trail and the store
 * keep their size and bytes, and a request that would reach the gate and
 * be refused, and so recorded, records nothing); a well-formed one gives
 * what the library's function gives called directly, its refusals
 * included; a passphrase in a request is used and never repeated; and
 * the table agrees with itself and with docs/protocol.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/auditlog.h"
#include "base/util.h"
#include "casevault.h"
#include "dispatch/dispatch.h"
#include "model/session.h"

#include "helpers.h"
#include "helpers.c.inc"

#define NEW_PASS "a-new-passphrase-for-nina"

/* What a request could have changed: the trail's size, the store's bytes. */
struct mark {
	uint64_t events;
	char *store;
	size_t len;
};

static void
mark_take(struct cv_session *s, const char *dir, struct mark *m)
{
	char path[128];

	assert_int_equal(cv_auditlog_size(s->audit, &m->events), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, CV_STORE_FILE);
	assert_int_equal(cv_read_file(path, 64u << 20, &m->store, &m->len), 0);
}

/* 1 when nothing changed since A was taken. */
static int
mark_same(struct cv_session *s, const char *dir, struct mark *a)
{
	struct mark b;
	int same;

	mark_take(s, dir, &b);
	same = a->events == b.events && a->len == b.len &&
	       memcmp(a->store, b.store, a->len) == 0;
	free(b.store);
	return same;
}

static uint64_t
events(struct cv_session *s)
{
	uint64_t n;

	assert_int_equal(cv_auditlog_size(s->audit, &n), 0);
	return n;
}

/* A request from JSON text, printf-style (the case id for "%s"). */
static json_t *req_text(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static json_t *
req_text(const char *fmt, ...)
{
	char text[1024];
	json_error_t e;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	j = json_loads(text, JSON_DECODE_ANY, &e);
	if (j == NULL)
		fail_msg("bad test request %s: %s", text, e.text);
	return j;
}

/* Dispatch REQ (consumed) as S; the result in *OUT. */
static int
run(struct cv_session *s, json_t *req, json_t **out)
{
	int r = cv_dispatch(s, req, out);

	json_decref(req);
	return r;
}

/* REQ (consumed) is refused as malformed, with a detail holding WHY. */
static void
refused(struct cv_session *s, json_t *req, const char *why)
{
	json_t *out = (json_t *)1;

	assert_int_equal(run(s, req, &out), CV_EPROTO);
	assert_null(out);
	if (strstr(cv_error_detail(), why) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", cv_error_detail(), why);
}

/* {"cmd": CMD, "args": {NAME: V}} with V consumed. */
static json_t *
req_one(const char *cmd, const char *name, json_t *v)
{
	json_t *req = json_pack("{s:s, s:{s:o}}", "cmd", cmd, "args", name, v);

	assert_non_null(req);
	return req;
}

static int
setup(void **state)
{
	return test_fx_setup(
	    state, test_staff_team, TEST_COUNT(test_staff_team));
}

/*
 * rina, a social worker not on the case team: "note show" on the case is
 * refused by the gate and the refusal recorded, one event. Each malformed
 * form of that request, and of others, records nothing and changes no
 * byte of the store: no gate was asked.
 */
static void
test_malformed(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	const char *cid = f->cid;
	char big[300], *huge;
	struct mark m;
	json_t *out;
	uint64_t n;

	/* The positive control: the well-formed request reaches the gate. */
	n = events(s);
	assert_int_equal(run(s,
	                     req_text("{\"cmd\": \"note show\", \"args\": "
	                              "{\"case\": \"%s\"}}",
	                         cid),
	                     &out),
	    CV_EDENIED);
	assert_null(out);
	assert_int_equal(events(s), n + 1);

	mark_take(s, f->dir, &m);
	/* Not a request. */
	refused(s, json_array(), "a request is a JSON object");
	refused(s, json_string("note show"), "a request is a JSON object");
	refused(s, json_null(), "a request is a JSON object");
	refused(s, json_integer(42), "a request is a JSON object");
	/* cmd and args themselves. */
	refused(s, req_text("{\"args\": {\"case\": \"%s\"}}", cid), "cmd:");
	refused(s, req_text("{\"cmd\": 7, \"args\": {}}"), "cmd:");
	refused(s, req_text("{\"cmd\": \"note delete\", \"args\": {}}"),
	    "cmd: unknown command note delete");
	refused(s, req_text("{\"cmd\": \"init\", \"args\": {}}"),
	    "cmd: unknown command");
	refused(s, req_text("{\"cmd\": \"policy check\", \"args\": {}}"),
	    "cmd: unknown command");
	refused(s, req_text("{\"cmd\": \"NOTE SHOW\", \"args\": {}}"),
	    "cmd: unknown command");
	refused(s, req_text("{\"cmd\": \"note show\"}"), "args:");
	refused(s, req_text("{\"cmd\": \"note show\", \"args\": [\"%s\"]}", cid),
	    "args:");
	refused(s,
	    req_text("{\"cmd\": \"note show\", \"args\": {\"case\": \"%s\"}, "
	             "\"token\": \"t\"}",
	        cid),
	    "nothing else");
	/* Arguments: unknown, missing, mistyped. */
	refused(s,
	    req_text("{\"cmd\": \"note show\", \"args\": {\"case\": \"%s\", "
	             "\"all\": true}}",
	        cid),
	    "note show takes no argument all");
	refused(s, req_text("{\"cmd\": \"note show\", \"args\": {}}"),
	    "args.case: required");
	refused(s, req_one("note show", "case", json_integer(5)), "args.case:");
	refused(s, req_one("note show", "case", json_null()), "args.case:");
	refused(s,
	    req_text("{\"cmd\": \"record show\", \"args\": {\"case\": \"%s\", "
	             "\"record\": \"1\"}}",
	        cid),
	    "args.record: an integer");
	refused(s,
	    req_text("{\"cmd\": \"record show\", \"args\": {\"case\": \"%s\", "
	             "\"record\": 1.0}}",
	        cid),
	    "args.record: an integer");
	refused(s, req_one("breakglass list", "all", json_integer(1)),
	    "args.all: true or false");
	refused(s,
	    req_text("{\"cmd\": \"request create\", \"args\": {\"case\": "
	             "\"%s\", \"classes\": \"incident\", \"purpose\": "
	             "\"legal_proceeding\"}}",
	        cid),
	    "args.classes:");
	refused(s,
	    req_text("{\"cmd\": \"request create\", \"args\": {\"case\": "
	             "\"%s\", \"classes\": [\"incident\", 3], \"purpose\": "
	             "\"legal_proceeding\"}}",
	        cid),
	    "args.classes:");
	refused(s,
	    req_text("{\"cmd\": \"record add\", \"args\": {\"case\": \"%s\", "
	             "\"type\": \"note\", \"input\": []}}",
	        cid),
	    "args.input: an object");
	/* Bounds: an oversize string, integers out of range. */
	memset(big, 'C', 257);
	big[257] = '\0';
	refused(s, req_one("note show", "case", json_string(big)),
	    "args.case: a string of 0 to 256 bytes");
	assert_non_null(huge = calloc(1, CV_RECORD_MAX + 2));
	memset(huge, 'a', CV_RECORD_MAX + 1);
	refused(s,
	    json_pack("{s:s, s:{s:s, s:s}}", "cmd", "note add", "args", "case",
	        cid, "text", huge),
	    "args.text:");
	free(huge);
	refused(s,
	    json_pack("{s:s, s:{s:s, s:i}}", "cmd", "record show", "args",
	        "case", cid, "record", -1),
	    "args.record: an integer from 1 to 4294967295");
	refused(s,
	    json_pack("{s:s, s:{s:s, s:i}}", "cmd", "record show", "args",
	        "case", cid, "record", 0),
	    "args.record:");
	refused(s,
	    json_pack("{s:s, s:{s:s, s:I}}", "cmd", "record show", "args",
	        "case", cid, "record", (json_int_t)UINT32_MAX + 1),
	    "args.record:");
	refused(s,
	    json_pack("{s:s, s:{s:s, s:I}}", "cmd", "record history", "args",
	        "case", cid, "record", (json_int_t)1 << 62),
	    "args.record:");
	refused(s, req_one("report indicator", "year", json_integer(-2026)),
	    "args.year:");
	refused(s,
	    req_one("report indicator", "year",
	        json_integer((json_int_t)INT32_MAX + 1)),
	    "args.year:");
	/* An embedded NUL, which jansson can hold, in an argument and in cmd. */
	refused(s, req_one("note show", "case", json_stringn("C\0X", 3)),
	    "no NUL");
	refused(s,
	    json_pack("{s:o, s:{s:s}}", "cmd", json_stringn("note show\0x", 11),
	        "args", "case", cid),
	    "cmd: unknown command");
	refused(s,
	    json_pack("{s:s, s:{s:s, s:[s, o], s:s}}", "cmd", "request create",
	        "args", "case", cid, "classes", "incident",
	        json_stringn("legal\0x", 7), "purpose", "legal_proceeding"),
	    "args.classes:");
	/* What one argument cannot say alone. */
	refused(s,
	    json_pack("{s:s, s:{s:s, s:i}}", "cmd", "record show", "args",
	        "case", cid, "version", 1),
	    "args.version: only with args.record");
	refused(s,
	    json_pack("{s:s, s:{s:s, s:s, s:[s], s:s, s:s, s:b}}", "cmd",
	        "consent grant", "args", "case", cid, "to", "legal_aid",
	        "classes", "legal", "purpose", "legal_proceeding", "form",
	        "F-1", "assent", 1),
	    "only with args.guardian");
	refused(s, req_one("audit log", "since", json_string("yesterday")),
	    "args.since:");
	/* A name that is no plain word is not repeated. */
	refused(s,
	    req_text("{\"cmd\": \"note show\", \"args\": {\"case\": \"%s\", "
	             "\"Siti Aminah 0812\": 1}}",
	        cid),
	    "note show takes no such argument");
	assert_null(strstr(cv_error_detail(), "Siti"));
	refused(s, req_text("{\"cmd\": \"Siti Aminah\", \"args\": {}}"),
	    "cmd: unknown command");
	assert_null(strstr(cv_error_detail(), "Siti"));

	assert_true(mark_same(s, f->dir, &m));
	free(m.store);
	cv_session_close(s);
}

/* A request checked alone, as the fuzzer does: no session needed. */
static void
test_check_alone(void **state)
{
	const struct cv_command *k = NULL;
	json_t *req;

	(void)state;
	assert_int_equal(cv_library_init(), 0);
	req = req_text("{\"cmd\": \"record show\", \"args\": {\"case\": "
	               "\"%s\", \"record\": 2, \"version\": 1}}",
	    "C0000000000");
	assert_int_equal(cv_dispatch_check(req, &k), 0);
	assert_non_null(k);
	assert_string_equal(k->name, "record show");
	json_decref(req);
	req = req_text("{\"cmd\": \"record show\", \"args\": {\"case\": "
	               "\"%s\", \"record\": 0}}",
	    "C0000000000");
	assert_int_equal(cv_dispatch_check(req, &k), CV_EPROTO);
	assert_null(k);
	json_decref(req);
}

/* OUT (consumed) equals EXPECT (consumed). */
static void
same(json_t *out, json_t *expect)
{
	char *a, *b;

	assert_non_null(out);
	assert_non_null(expect);
	if (!json_equal(out, expect)) {
		a = json_dumps(out, JSON_SORT_KEYS);
		b = json_dumps(expect, JSON_SORT_KEYS);
		fail_msg("dispatched %s\ndirect     %s", a, b);
	}
	json_decref(out);
	json_decref(expect);
}

/* The same reads through the dispatcher and directly give the same. */
static void
test_same_reads(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "kepala", TEST_PASS_STAFF);
	char p[CV_PSEUDONYM_LEN + 1];
	json_t *out, *direct;

	assert_int_equal(
	    run(s, req_text("{\"cmd\": \"case list\", \"args\": {}}"),
	        &out),
	    0);
	assert_int_equal(cv_case_list(s, &direct), 0);
	assert_int_equal(json_array_size(direct), 1);
	same(out, direct);
	cv_session_close(s);

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(run(s,
	                     req_text("{\"cmd\": \"case show\", \"args\": "
	                              "{\"case\": \"%s\"}}",
	                         f->cid),
	                     &out),
	    0);
	assert_int_equal(cv_case_show(s, f->cid, &direct), 0);
	same(out, direct);

	assert_int_equal(run(s,
	                     req_text("{\"cmd\": \"record show\", \"args\": "
	                              "{\"case\": \"%s\", \"record\": 1}}",
	                         f->cid),
	                     &out),
	    0);
	assert_int_equal(cv_record_show(s, f->cid, 1, 0, NULL, &direct), 0);
	same(out, direct);

	assert_int_equal(run(s,
	                     req_text("{\"cmd\": \"record show\", \"args\": "
	                              "{\"case\": \"%s\"}}",
	                         f->cid),
	                     &out),
	    0);
	assert_int_equal(cv_record_list(s, f->cid, NULL, &direct), 0);
	same(out, direct);

	assert_int_equal(run(s,
	                     req_text("{\"cmd\": \"record history\", \"args\": "
	                              "{\"case\": \"%s\", \"record\": 1}}",
	                         f->cid),
	                     &out),
	    0);
	assert_int_equal(cv_record_history(s, f->cid, 1, &direct), 0);
	same(out, direct);

	cv_session_close(s);

	/* The auditor's query of the trail. */
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(run(s,
	                     req_text("{\"cmd\": \"audit pseudonym\", \"args\": "
	                              "{\"case\": \"%s\"}}",
	                         f->cid),
	                     &out),
	    0);
	assert_int_equal(cv_audit_pseudonym(s, f->cid, p), 0);
	same(out, json_pack("{s:s, s:s}", "case", f->cid, "pseudonym", p));
	cv_session_close(s);
}

/* Writes through the dispatcher: their result, and the change made. */
static void
test_writes(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	json_t *out, *in = test_fixture("followup_valid.json"), *direct;

	assert_int_equal(run(s,
	                     json_pack("{s:s, s:{s:s, s:s, s:O}}", "cmd",
	                         "record add", "args", "case", f->cid, "type",
	                         "followup", "input", in),
	                     &out),
	    0);
	same(out,
	    json_pack("{s:s, s:i, s:i}", "case", f->cid, "record", 2,
	        "version", 1));
	/* What was stored reads back directly as given. */
	assert_int_equal(cv_record_show(s, f->cid, 2, 0, NULL, &direct), 0);
	assert_true(json_equal(json_object_get(direct, "data"), in));
	json_decref(direct);
	json_decref(in);

	assert_int_equal(run(s,
	                     json_pack("{s:s, s:{s:s, s:s, s:s}}", "cmd",
	                         "note add", "args", "case", f->cid, "text",
	                         "Second session.", "kind", "follow_up"),
	                     &out),
	    0);
	same(out, json_pack("{s:s, s:i}", "case", f->cid, "record", 3));
	assert_int_equal(cv_note_show(s, f->cid, &direct), 0);
	assert_int_equal(json_array_size(direct), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(direct, 0), "data"),
	                        "text")),
	    "Second session.");
	json_decref(direct);
	cv_session_close(s);
}

/*
 * A refusal through the dispatcher is the library's own: the same code
 * and detail as the direct call, and recorded as one.
 */
static void
test_same_refusal(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "rina", TEST_PASS_STAFF);
	char detail[512];
	json_t *out, *direct;
	uint64_t n;
	int r;

	n = events(s);
	assert_int_equal(run(s,
	                     req_text("{\"cmd\": \"record show\", \"args\": "
	                              "{\"case\": \"%s\", \"record\": 1}}",
	                         f->cid),
	                     &out),
	    CV_EDENIED);
	assert_null(out);
	snprintf(detail, sizeof(detail), "%s", cv_error_detail());
	assert_true(detail[0] != '\0');
	assert_int_equal(events(s), n + 1);
	assert_int_equal(
	    cv_record_show(s, f->cid, 1, 0, NULL, &direct), CV_EDENIED);
	assert_string_equal(cv_error_detail(), detail);
	assert_int_equal(events(s), n + 2);

	/* An unknown case: the library's answer, not the dispatcher's. */
	r = run(s,
	    req_text("{\"cmd\": \"case show\", \"args\": {\"case\": \"%s\"}}",
	        "C0000000000"),
	    &out);
	assert_true(r != 0 && r != CV_EPROTO);
	assert_null(out);
	snprintf(detail, sizeof(detail), "%s", cv_error_detail());
	assert_int_equal(cv_case_show(s, "C0000000000", &direct), r);
	assert_null(direct);
	assert_string_equal(cv_error_detail(), detail);
	cv_session_close(s);
}

/*
 * A passphrase in a request: the account works with it, and neither a
 * refusal's detail nor a result nor a file of the vault holds it.
 */
static void
test_passphrase(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	char longpass[CV_PASSPHRASE_MAX + 2];
	json_t *out;
	char *dump;

	assert_int_equal(run(s,
	                     json_pack("{s:s, s:{s:s, s:s, s:s}}", "cmd",
	                         "user add", "args", "name", "nina", "role",
	                         "counselor", "passphrase", NEW_PASS),
	                     &out),
	    0);
	dump = json_dumps(out, JSON_ENCODE_ANY);
	assert_null(strstr(dump, NEW_PASS));
	free(dump);
	same(out,
	    json_pack("{s:s, s:s, s:b}", "name", "nina", "role", "counselor",
	        "trained", 0));
	/* Added again: the library's refusal, which names no passphrase. */
	assert_int_equal(run(s,
	                     json_pack("{s:s, s:{s:s, s:s, s:s}}", "cmd",
	                         "user add", "args", "name", "nina", "role",
	                         "counselor", "passphrase", NEW_PASS),
	                     &out),
	    CV_EEXIST);
	assert_null(strstr(cv_error_detail(), NEW_PASS));
	/* Too long, and too short: the dispatcher's, naming none either. */
	memset(longpass, 'p', sizeof(longpass) - 1);
	longpass[sizeof(longpass) - 1] = '\0';
	refused(s,
	    json_pack("{s:s, s:{s:s, s:s}}", "cmd", "user passwd", "args",
	        "name", "nina", "passphrase", longpass),
	    "args.passphrase:");
	assert_null(strstr(cv_error_detail(), "pppp"));
	refused(s,
	    json_pack("{s:s, s:{s:s, s:s}}", "cmd", "user passwd", "args",
	        "name", "nina", "passphrase", "short-pw"),
	    "args.passphrase:");
	assert_null(strstr(cv_error_detail(), "short-pw"));
	cv_session_close(s);

	cv_session_close(test_login(f->dir, "nina", NEW_PASS));
	assert_false(test_dir_contains(f->dir, NEW_PASS, strlen(NEW_PASS)));
}

/*
 * The table: names unique, every command with a handler, its arguments
 * unique and of sane bounds, and each command and argument listed in
 * docs/protocol.md under "## Commands".
 */
static void
test_table(void **state)
{
	const struct cv_command *k, *j;
	const struct cv_argspec *a, *b;
	char *doc, *cmds, *sec, *end, head[96], arg[96];
	size_t len, n = 0;

	(void)state;
	assert_int_equal(
	    cv_read_file("docs/protocol.md", 1 << 20, &doc, &len), 0);
	assert_non_null(cmds = strstr(doc, "\n## Commands\n"));
	for (k = cv_commands; k->name != NULL; k++, n++) {
		assert_non_null(k->fn);
		for (j = cv_commands; j != k; j++)
			assert_string_not_equal(j->name, k->name);
		snprintf(head, sizeof(head), "\n### `%s`\n", k->name);
		if ((sec = strstr(cmds, head)) == NULL)
			fail_msg("docs/protocol.md lists no %s", k->name);
		/* The command's section alone: up to the next heading. */
		if ((end = strstr(sec + 1, "\n#")) != NULL)
			*end = '\0';
		for (a = k->args; a < k->args + CV_ARGS_MAX && a->name; a++) {
			for (b = k->args; b != a; b++)
				assert_string_not_equal(a->name, b->name);
			assert_true(a->min <= a->max);
			snprintf(arg, sizeof(arg), "| `%s` |", a->name);
			if (strstr(sec, arg) == NULL)
				fail_msg("docs/protocol.md: %s lacks %s",
				    k->name, a->name);
		}
		if (end != NULL)
			*end = '\n';
	}
	assert_true(n >= 40);
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_malformed, setup, test_fx_teardown),
	    cmocka_unit_test(test_check_alone),
	    cmocka_unit_test_setup_teardown(
	        test_same_reads, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_writes, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_same_refusal, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_passphrase, setup, test_fx_teardown),
	    cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
