#define _GNU_SOURCE
/*
 * The gate over planted facts. tests/fixtures/gate-matrix.tsv is the oracle,
 * written by hand from the shipped policies and docs/policy.md and
 * docs/consent.md: it plants consents, requests and break-glass windows
 * and lists, for a subject in a role, a question and the facts of one
 * case, the verdict, the rule that must make it and the ids it must rely
 * on. Every row is put to cv_gate_decide() over the shipped policies/.
 * Then a few accesses go through cv_gate_check on a real vault, and the
 * audit events they leave are read back: decision, rule, actor, role.
 * Run from the repository root.
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
#include "base/classes.h"
#include "base/util.h"
#include "casevault.h"
#include "gate/decide.h"
#include "gate/gate.h"
#include "model/caseobj.h"
#include "model/session.h"
#include "model/casemeta.h"
#include "rules/policy.h"
#include "ops/policy.h"
#include "store/store.h"

#include "helpers.h"
#include "helpers.c.inc"

#define TABLE "tests/fixtures/gate-matrix.tsv"

/* The subject of every row, and the someone else the facts may name. */
#define SUBJECT_UID  7
#define SUBJECT_USER "ani"
#define OTHER_UID    8

/* ---- the table ---- */

struct row {
	int line;
	char role[32];
	int action; /* enum cv_action, built-ins included */
	int cls;    /* -1: none */
	int team;
	char consents[160], requests[160], windows[160];
	char purpose[32]; /* "" for none */
	char ask[96];     /* "-", or account=, only=, closes= items */
	int allow;
	char rule[64];
	char relied[200];
};

struct table {
	uint64_t now;
	json_t *consents; /* name -> stored object */
	json_t *requests;
	json_t *windows;
	struct row *rows;
	size_t nrows;
};

/* Set while a test expects mismatches: no messages then. */
static int quiet;

static int
action_parse(const char *name)
{
	int a;

	for (a = 0; a < CV_ACTION_BUILTIN_END; a++)
		if (cv_gate_action_name((enum cv_action)a) != NULL &&
		    strcmp(cv_gate_action_name((enum cv_action)a), name) == 0)
			return a;
	return -1;
}

/* Requests and windows are stored with times in ms: convert FIELD. */
static void
time_field(json_t *o, const char *field, int lineno)
{
	const char *t = json_string_value(json_object_get(o, field));
	uint64_t ms;

	if (t == NULL)
		return;
	if (cv_parse_time(t, &ms) != 0)
		fail_msg(TABLE ":%d: bad time in %s", lineno, field);
	json_object_set_new(o, field, json_integer((json_int_t)ms));
}

static void
parse_fact(struct table *t, char *line, int lineno)
{
	char kind[16], name[48];
	json_t *o, *into;
	int n = 0;

	if (sscanf(line, "%15s %47s %n", kind, name, &n) != 2 || n == 0)
		fail_msg(TABLE ":%d: want KIND NAME JSON", lineno);
	if ((o = json_loads(line + n, 0, NULL)) == NULL || !json_is_object(o))
		fail_msg(TABLE ":%d: bad JSON", lineno);
	if (strcmp(kind, "consent") == 0) {
		into = t->consents;
	} else if (strcmp(kind, "request") == 0) {
		into = t->requests;
		time_field(o, "created", lineno);
		time_field(o, "until", lineno);
	} else {
		into = t->windows;
		time_field(o, "opened", lineno);
		time_field(o, "until", lineno);
	}
	if (json_object_get(into, name) != NULL)
		fail_msg(TABLE ":%d: %s %s planted twice", lineno, kind, name);
	json_object_set_new(into, name, o);
}

static void
parse_row(struct table *t, char *line, int lineno)
{
	char *tok[13], *save = NULL, *s;
	struct row *r;
	int n = 0;

	for (s = strtok_r(line, "\t", &save); s != NULL && n < 13;
	     s = strtok_r(NULL, "\t", &save))
		tok[n++] = s;
	if (n != 12)
		fail_msg(TABLE ":%d: want 12 tab-separated columns", lineno);
	t->rows = realloc(t->rows, (t->nrows + 1) * sizeof(*t->rows));
	assert_non_null(t->rows);
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof(*r));
	r->line = lineno;
	if (cv_role_parse(tok[0]) < 0 || (r->action = action_parse(tok[1])) < 0)
		fail_msg(TABLE ":%d: unknown role or action", lineno);
	snprintf(r->role, sizeof(r->role), "%s", tok[0]);
	if (strcmp(tok[2], "-") == 0)
		r->cls = -1;
	else if ((r->cls = cv_class_parse(tok[2])) < 0)
		fail_msg(TABLE ":%d: unknown class", lineno);
	if (strcmp(tok[3], "yes") != 0 && strcmp(tok[3], "no") != 0)
		fail_msg(TABLE ":%d: team is yes or no", lineno);
	r->team = strcmp(tok[3], "yes") == 0;
	snprintf(r->consents, sizeof(r->consents), "%s", tok[4]);
	snprintf(r->requests, sizeof(r->requests), "%s", tok[5]);
	snprintf(r->windows, sizeof(r->windows), "%s", tok[6]);
	if (strcmp(tok[7], "-") != 0)
		snprintf(r->purpose, sizeof(r->purpose), "%s", tok[7]);
	snprintf(r->ask, sizeof(r->ask), "%s", tok[8]);
	if (strcmp(tok[9], "allow") != 0 && strcmp(tok[9], "deny") != 0)
		fail_msg(TABLE ":%d: verdict must be allow or deny", lineno);
	r->allow = strcmp(tok[9], "allow") == 0;
	snprintf(r->rule, sizeof(r->rule), "%s", tok[10]);
	snprintf(r->relied, sizeof(r->relied), "%s", tok[11]);
}

static void
table_load(struct table *t)
{
	char *text, *line, *next;
	size_t len;
	int lineno = 0;

	memset(t, 0, sizeof(*t));
	t->consents = json_object();
	t->requests = json_object();
	t->windows = json_object();
	assert_int_equal(cv_read_file(TABLE, 1 << 20, &text, &len), 0);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if (strncmp(line, "now\t", 4) == 0) {
			if (cv_parse_time(line + 4, &t->now) != 0)
				fail_msg(TABLE ":%d: bad time", lineno);
		} else if (strncmp(line, "consent\t", 8) == 0 ||
		    strncmp(line, "request\t", 8) == 0 ||
		    strncmp(line, "window\t", 7) == 0) {
			parse_fact(t, line, lineno);
		} else {
			parse_row(t, line, lineno);
		}
	}
	free(text);
	assert_true(t->now != 0);
}

static void
table_free(struct table *t)
{
	json_decref(t->consents);
	json_decref(t->requests);
	json_decref(t->windows);
	free(t->rows);
}

/* The planted objects named in LIST ("-" or "a,b"), in that order. */
static json_t *
planted(const json_t *catalogue, const char *list, const char *skip, int lineno)
{
	json_t *arr = json_array(), *o;
	char buf[160], *s, *save = NULL;

	if (strcmp(list, "-") == 0)
		return arr;
	snprintf(buf, sizeof(buf), "%s", list);
	for (s = strtok_r(buf, ",", &save); s != NULL;
	     s = strtok_r(NULL, ",", &save)) {
		if ((o = json_object_get(catalogue, s)) == NULL)
			fail_msg(TABLE ":%d: nothing planted as %s", lineno, s);
		if (skip == NULL || strcmp(s, skip) != 0)
			json_array_append(arr, o);
	}
	return arr;
}

static const char *
planted_id(const json_t *catalogue, const char *name, int lineno)
{
	const char *id = json_string_value(
	    json_object_get(json_object_get(catalogue, name), "id"));

	if (id == NULL)
		fail_msg(TABLE ":%d: nothing planted as %s", lineno, name);
	return id;
}

/* The id the row says the verdict relies on for KIND, or NULL. */
static const char *
relied_id(const struct table *t, const struct row *r, const char *kind)
{
	const json_t *cat = strcmp(kind, "consent") == 0 ? t->consents
	    : strcmp(kind, "request") == 0               ? t->requests
	                                                 : t->windows;
	char buf[200], *s, *save = NULL, *colon;

	if (strcmp(r->relied, "-") == 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", r->relied);
	for (s = strtok_r(buf, ",", &save); s != NULL;
	     s = strtok_r(NULL, ",", &save)) {
		if ((colon = strchr(s, ':')) == NULL)
			fail_msg(TABLE ":%d: relied is kind:NAME", r->line);
		*colon = '\0';
		if (strcmp(s, kind) == 0)
			return planted_id(cat, colon + 1, r->line);
	}
	return NULL;
}

/*
 * Decide row R over the planted facts, leaving out the fact named
 * SKIP_KIND:SKIP (both NULL: leave out nothing), into *V.
 */

/* The row's ask: "-", or items joined by ",": account=self|other,
 * only=NAME, closes=TIME. */
static void
ask_parse(const struct table *t, const struct row *r, struct cv_gate_ask *ask)
{
	char buf[sizeof(r->ask)], *item, *save = NULL;

	if (strcmp(r->ask, "-") == 0)
		return;
	snprintf(buf, sizeof(buf), "%s", r->ask);
	for (item = strtok_r(buf, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if (strcmp(item, "account=self") == 0)
			ask->account = SUBJECT_UID;
		else if (strcmp(item, "account=other") == 0)
			ask->account = OTHER_UID;
		else if (strncmp(item, "only=", 5) == 0)
			ask->request = planted_id(t->requests, item + 5, r->line);
		else if (strncmp(item, "closes=", 7) == 0) {
			if (cv_parse_time(item + 7, &ask->closes) != 0)
				fail_msg(TABLE ":%d: bad time", r->line);
		} else
			fail_msg(TABLE ":%d: unknown ask", r->line);
	}
}

static void
decide_row(const struct cv_policy_set *set, const struct table *t,
    const struct row *r, const char *skip_kind, const char *skip,
    struct cv_gate_verdict *v)
{
	struct cv_subject who = {.uid = SUBJECT_UID,
	    .user = SUBJECT_USER,
	    .role = r->role,
	    .actor = "u7"};
	struct cv_gate_ask ask = {.action = (enum cv_action)r->action,
	    .cls = r->cls,
	    .purpose = r->purpose[0] != '\0' ? r->purpose : NULL};
	struct cv_gate_facts f = {.on_team = r->team, .now = t->now};
	json_t *consents, *requests, *windows;
	int sk = skip_kind != NULL;

	consents = planted(t->consents, r->consents,
	    sk && strcmp(skip_kind, "consent") == 0 ? skip : NULL, r->line);
	requests = planted(t->requests, r->requests,
	    sk && strcmp(skip_kind, "request") == 0 ? skip : NULL, r->line);
	windows = planted(t->windows, r->windows,
	    sk && strcmp(skip_kind, "window") == 0 ? skip : NULL, r->line);
	f.consents = consents;
	f.requests = requests;
	f.windows = windows;
	ask_parse(t, r, &ask);
	assert_int_equal(cv_gate_decide(set, &who, &f, &ask, v), 0);
	json_decref(consents);
	json_decref(requests);
	json_decref(windows);
}

static int
same_id(const char *want, const char *got)
{
	if (want == NULL || got == NULL)
		return want == got;
	return strcmp(want, got) == 0;
}

/* Check row R (WANT_ALLOW and WANT_RULE as given); 1 on a mismatch. */
static int
check_row(const struct cv_policy_set *set, const struct table *t,
    const struct row *r, int want_allow, const char *want_rule)
{
	static const char *const kinds[] = {"consent", "request", "window"};
	struct cv_gate_verdict v;
	const char *got[3], *want;
	int bad = 0, i;

	decide_row(set, t, r, NULL, NULL, &v);
	got[0] = v.consent;
	got[1] = v.request;
	got[2] = v.window;
	if (v.d.allow != want_allow || strcmp(v.d.rule, want_rule) != 0)
		bad = 1;
	for (i = 0; i < 3; i++) {
		want = relied_id(t, r, kinds[i]);
		if (!same_id(want, got[i]))
			bad = 1;
	}
	/* A window named means the access is flagged, and only then. */
	if ((v.window != NULL) != (v.by_window != 0))
		bad = 1;
	if (v.d.rule[0] == '\0' || v.d.reason[0] == '\0')
		bad = 1;
	if (bad && !quiet)
		print_error(TABLE ":%d: %s %s: want %s by %s relying on %s; "
		                  "got %s by %s (%s), consent %s, request %s, "
		                  "window %s\n",
		    r->line, r->role, cv_gate_action_name(r->action),
		    want_allow ? "allow" : "deny", want_rule, r->relied,
		    v.d.allow ? "allow" : "deny", v.d.rule, v.d.reason,
		    v.consent ? v.consent : "-", v.request ? v.request : "-",
		    v.window ? v.window : "-");
	return bad;
}

static struct cv_policy_set *
shipped(void)
{
	struct cv_policy_set *set;
	char err[256];

	assert_int_equal(
	    cv_policy_load_dir("policies", &set, err, sizeof(err)), 0);
	return set;
}

static void
matrix(void **state)
{
	struct cv_policy_set *set = shipped();
	int perrole[CV_ROLE_COUNT] = {0}, allowed = 0, bad = 0;
	struct table t;
	size_t i;

	(void)state;
	table_load(&t);
	for (i = 0; i < t.nrows; i++) {
		bad += check_row(
		    set, &t, &t.rows[i], t.rows[i].allow, t.rows[i].rule);
		perrole[cv_role_parse(t.rows[i].role)]++;
		allowed += t.rows[i].allow;
	}
	print_message("%zu rows, %d allowed\n", t.nrows, allowed);
	assert_int_equal(bad, 0);
	assert_true(t.nrows >= 120);
	assert_true(allowed > 0 && (size_t)allowed < t.nrows);
	for (i = 0; i < CV_ROLE_COUNT; i++)
		assert_true(perrole[i] >= 4);
	table_free(&t);
	cv_policy_set_free(set);
}

/*
 * The check can fail: every row with its verdict turned round, or with
 * another rule, is reported.
 */
static void
matrix_detects_wrong_rows(void **state)
{
	struct cv_policy_set *set = shipped();
	struct table t;
	size_t i;

	(void)state;
	table_load(&t);
	quiet = 1;
	for (i = 0; i < t.nrows; i++) {
		const struct row *r = &t.rows[i];
		if (!check_row(set, &t, r, !r->allow, r->rule) ||
		    !check_row(set, &t, r, r->allow, "no-such-rule"))
			fail_msg(
			    TABLE ":%d: a wrong verdict went unseen", r->line);
	}
	quiet = 0;
	table_free(&t);
	cv_policy_set_free(set);
}

/*
 * What a verdict relies on is what allowed it: with any one of those facts
 * taken away, every such row is refused.
 */
static void
relied_facts_matter(void **state)
{
	static const char *const kinds[] = {"consent", "request", "window"};
	struct cv_policy_set *set = shipped();
	struct cv_gate_verdict v;
	char buf[200], *s, *save;
	struct table t;
	size_t i, tried = 0;
	int k;

	(void)state;
	table_load(&t);
	for (i = 0; i < t.nrows; i++) {
		const struct row *r = &t.rows[i];
		if (strcmp(r->relied, "-") == 0)
			continue;
		snprintf(buf, sizeof(buf), "%s", r->relied);
		save = NULL;
		for (s = strtok_r(buf, ",", &save); s != NULL;
		     s = strtok_r(NULL, ",", &save)) {
			char *name = strchr(s, ':');
			if (name == NULL)
				fail_msg(
				    TABLE ":%d: relied is kind:NAME", r->line);
			*name++ = '\0';
			for (k = 0; k < 3; k++)
				if (strcmp(s, kinds[k]) == 0)
					break;
			assert_true(k < 3);
			decide_row(set, &t, r, kinds[k], name, &v);
			if (v.d.allow)
				fail_msg(TABLE ":%d: allowed without %s %s",
				    r->line, kinds[k], name);
			tried++;
		}
	}
	assert_true(tried >= 20);
	table_free(&t);
	cv_policy_set_free(set);
}

/* Arguments the decision cannot take are refused, with a default deny. */
static void
decide_refuses_bad_questions(void **state)
{
	struct cv_policy_set *set = shipped();
	struct cv_subject who = {
	    .uid = 7, .user = "ani", .role = "counselor", .actor = "u7"};
	struct cv_gate_facts f = {.on_team = 1};
	struct cv_gate_ask ask = {.action = CV_ACTION_READ, .cls = 0};
	struct cv_gate_verdict v;

	(void)state;
	assert_int_equal(cv_gate_decide(set, &who, &f, &ask, &v), 0);
	assert_true(v.d.allow);
	ask.cls = CV_CLASS_COUNT;
	assert_int_equal(cv_gate_decide(set, &who, &f, &ask, &v), CV_EINVAL);
	assert_false(v.d.allow);
	assert_string_equal(v.d.rule, "default-deny");
	ask.cls = 0;
	ask.action = CV_ACTION_BUILTIN_END;
	assert_int_equal(cv_gate_decide(set, &who, &f, &ask, &v), CV_EINVAL);
	assert_false(v.d.allow);
	ask.action = CV_ACTION_READ;
	assert_int_equal(cv_gate_decide(NULL, &who, &f, &ask, &v), CV_EINVAL);
	assert_int_equal(cv_gate_decide(set, NULL, &f, &ask, &v), CV_EINVAL);
	assert_int_equal(cv_gate_decide(set, &who, NULL, &ask, &v), CV_EINVAL);
	assert_false(v.d.allow);
	cv_policy_set_free(set);
}

/* ---- through cv_gate_check on a vault ---- */

static void
plant(const char *dir, const char *cid, char kind, const char *id, json_t *obj)
{
	struct cv_session *s = test_login(dir, "siti", TEST_PASS_STAFF);
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn;

	assert_int_equal(cv_txn_begin(s->st, CV_TXN_WRITE, &txn), 0);
	assert_int_equal(cv_casekey_get(txn, s, cid, key), 0);
	assert_int_equal(cv_casedata_put(txn, s, cid, kind, id, key, obj, 1, 0), 0);
	if (kind != CV_CD_CONSENT)
		assert_int_equal(cv_casedata_index(txn, s, id, cid), 0);
	assert_int_equal(cv_txn_commit(txn), 0);
	cv_session_close(s);
	json_decref(obj);
}

static const struct test_staff staff[] = {
	{"siti", "counselor", 1}, /* u2 */
	{"andi", "legal_aid", 0}, /* u3 */
	{"kepala", "supervisor", 0}, /* u4 */
	{"inspektur", "auditor", 0}, /* u5 */
	{"dewi", "counselor", 0}, /* u6 */
};

static int
setup(void **state)
{
	struct test_fx *f;
	uint64_t now = cv_now_ms();

	test_fx_setup(state, staff, TEST_COUNT(staff));
	f = *state;
	plant(f->dir, f->cid, CV_CD_CONSENT, "K0000000001",
	    json_pack("{s:s, s:s, s:{s:s}, s:[s], s:s, s:s, s:s, s:s, s:s}",
	        "id", "K0000000001", "grantor", "survivor", "recipient", "role",
	        "legal_aid", "classes", "incident", "purpose",
	        "legal_proceeding", "from", "2026-01-01", "until", "2999-01-01",
	        "recorded_by", "u2", "form_ref", "F-1"));
	plant(f->dir, f->cid, CV_CD_REQUEST, "R0000000001",
	    json_pack("{s:s, s:I, s:s, s:[s], s:s, s:s, s:I, s:I}", "id",
	        "R0000000001", "requester", (json_int_t)3, "requester_role",
	        "legal_aid", "classes", "incident", "purpose",
	        "legal_proceeding", "status", "approved", "created",
	        (json_int_t)(now - 60000), "until",
	        (json_int_t)(now + 3600000)));
	return 0;
}

struct find {
	uint64_t seq; /* 0: the last event */
	uint64_t count;
	json_t *ev;
};

static int
find_event(const json_t *ev, void *arg)
{
	struct find *f = arg;

	f->count++;
	if (f->seq == 0 ||
	    (uint64_t)json_integer_value(json_object_get(ev, "seq")) ==
	        f->seq) {
		json_decref(f->ev);
		f->ev = json_deep_copy(ev);
	}
	return 0;
}

/* The event SEQ (0: the last) of the vault's trail; the caller frees it. */
static json_t *
event_at(const char *dir, uint64_t seq, uint64_t *count)
{
	struct find f = {seq, 0, NULL};

	assert_int_equal(cv_auditlog_foreach(dir, find_event, &f), 0);
	if (count != NULL)
		*count = f.count;
	assert_non_null(f.ev);
	return f.ev;
}

static void
assert_field(const json_t *ev, const char *key, const char *want)
{
	const char *got = json_string_value(json_object_get(ev, key));

	if (want == NULL) {
		if (json_object_get(ev, key) != NULL)
			fail_msg("event field %s present, wanted none", key);
		return;
	}
	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("event field %s: want %s, got %s", key, want,
		    got ? got : "(none)");
}

struct via_check {
	const char *user;
	enum cv_action action;
	cv_classmask classes;
	const char *purpose;
	int want_r;
	const char *decision, *rule, *actor, *role;
	const char *consent, *request, *breakglass;
};

/* Put one access to cv_gate_check as USER and check its event. */
static void
via_check(const struct test_fx *f, const struct via_check *c)
{
	struct cv_session *s = test_login(f->dir, c->user, TEST_PASS_STAFF);
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = c->action,
	    .op = "test.gate",
	    .case_id = f->cid,
	    .classes = c->classes,
	    .purpose = c->purpose};
	struct cv_gate_res res;
	struct cv_txn *txn;
	json_t *meta = NULL, *ev;

	assert_int_equal(cv_txn_begin(s->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_case_load(txn, s, f->cid, &meta), 0);
	q.meta = meta;
	assert_int_equal(cv_gate_check(s, txn, &q, NULL, &res), c->want_r);
	cv_txn_abort(txn);
	json_decref(meta);
	cv_session_close(s);
	assert_true(res.seq > 0);
	ev = event_at(f->dir, res.seq, NULL);
	assert_field(ev, "action", "test.gate");
	assert_field(ev, "decision", c->decision);
	assert_field(ev, "rule", c->rule);
	assert_field(ev, "actor", c->actor);
	assert_field(ev, "role", c->role);
	assert_field(ev, "consent", c->consent);
	assert_field(ev, "request", c->request);
	assert_field(ev, "breakglass", c->breakglass);
	assert_field(ev, "access", cv_gate_action_name(c->action));
	json_decref(ev);
}

static void
events_name_rule_actor_role(void **state)
{
	struct test_fx *f = *state;
	const cv_classmask id = CV_CLASS_BIT(CV_CLASS_IDENTITY),
	                   inc = CV_CLASS_BIT(CV_CLASS_INCIDENT),
	                   notes = CV_CLASS_BIT(CV_CLASS_COUNSELING_NOTE);
	const struct via_check rows[] = {
	    /* user, action, classes, purpose, result, decision, rule, actor,
	     * role, consent, request, breakglass */
	    {"siti", CV_ACTION_READ, id, NULL, 0, "allow", "co-team-rw", "u2",
	        "counselor", NULL, NULL, NULL},
	    {"dewi", CV_ACTION_READ, id, NULL, CV_EDENIED, "deny",
	        "default-deny", "u6", "counselor", NULL, NULL, NULL},
	    {"andi", CV_ACTION_READ, inc, "legal_proceeding", 0, "allow",
	        "la-read", "u3", "legal_aid", "K0000000001", "R0000000001",
	        NULL},
	    {"andi", CV_ACTION_READ, inc, "counselling", CV_EDENIED, "deny",
	        "default-deny", "u3", "legal_aid", NULL, NULL, NULL},
	    {"kepala", CV_ACTION_READ, notes, NULL, CV_EDENIED, "deny",
	        "su-no-notes", "u4", "supervisor", NULL, NULL, NULL},
	    {"inspektur", CV_ACTION_AUDIT_READ, 0, NULL, 0, "allow", "au-audit",
	        "u5", "auditor", NULL, NULL, NULL},
	};
	struct via_check bg = {"dewi", CV_ACTION_READ, id, NULL, 0, "allow",
	    "co-bg-read", "u6", "counselor", NULL, NULL, "B0000000001"};
	uint64_t now = cv_now_ms();
	size_t i;

	for (i = 0; i < CV_ARRAY_LEN(rows); i++)
		via_check(f, &rows[i]);
	/* dewi, off the team, with a window open: the event flags it. */
	plant(f->dir, f->cid, CV_CD_BREAKGLASS, "B0000000001",
	    json_pack("{s:s, s:I, s:I, s:I, s:s, s:b}", "id", "B0000000001",
	        "user", (json_int_t)6, "opened", (json_int_t)(now - 60000),
	        "until", (json_int_t)(now + 3600000), "reason",
	        "a planted window", "reviewed", 0));
	via_check(f, &bg);
}

/*
 * The gate records the session's own decisions, nobody else's, and refuses
 * a question it cannot decide, recording nothing.
 */
static void
subject_must_be_the_session(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "dewi", TEST_PASS_STAFF);
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_READ,
	    .op = "test.gate",
	    .case_id = f->cid,
	    .classes = CV_CLASS_BIT(CV_CLASS_IDENTITY)};
	struct cv_gate_res res;
	uint64_t before, after;
	struct cv_txn *txn;
	json_t *meta = NULL, *ev;

	ev = event_at(f->dir, 0, &before);
	json_decref(ev);
	assert_int_equal(cv_txn_begin(s->st, CV_TXN_RDONLY, &txn), 0);
	assert_int_equal(cv_case_load(txn, s, f->cid, &meta), 0);
	q.meta = meta;
	/* dewi's session presenting siti (u2, on the team) as the subject */
	q.who.uid = 2;
	q.who.user = "siti";
	q.who.actor = "u2";
	assert_int_equal(cv_gate_check(s, txn, &q, NULL, &res), CV_EINVAL);
	q.who = cv_gate_subject(s);
	q.who.role = "supervisor";
	assert_int_equal(cv_gate_check(s, txn, &q, NULL, &res), CV_EINVAL);
	/* Nor is a class that does not exist (it used to count as allowed). */
	q.who = cv_gate_subject(s);
	q.classes = CV_CLASS_BIT(CV_CLASS_COUNT);
	assert_int_equal(cv_gate_check(s, txn, &q, NULL, &res), CV_EINVAL);
	cv_txn_abort(txn);
	json_decref(meta);
	cv_session_close(s);
	/* Refused before anything was decided: nothing recorded since the
	 * login. */
	ev = event_at(f->dir, 0, &after);
	assert_field(ev, "action", "session.open");
	assert_int_equal(after, before);
	json_decref(ev);
}

/*
 * policy explain: one event by the explainer, naming the account
 * explained by staff id; a built-in rule for oneself, the auditor's policy
 * for someone else.
 */
static void
explain_event_names_the_explainer(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s;
	uint64_t before, after;
	json_t *out = NULL, *ev;

	ev = event_at(f->dir, 0, &before);
	json_decref(ev);
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_policy_explain(s, "andi", "read", f->cid,
	                     "incident", "legal_proceeding", &out),
	    0);
	cv_session_close(s);
	/* The verdict is andi's, in andi's role. */
	assert_string_equal(
	    json_string_value(json_object_get(out, "role")), "legal_aid");
	assert_string_equal(
	    json_string_value(json_object_get(out, "rule")), "la-read");
	json_decref(out);
	ev = event_at(f->dir, 0, &after);
	assert_int_equal(after, before + 2); /* login, explain */
	assert_field(ev, "action", "policy.explain");
	assert_field(ev, "decision", "allow");
	assert_field(ev, "rule", "au-audit");
	assert_field(ev, "actor", "u5");
	assert_field(ev, "role", "auditor");
	assert_field(ev, "subject", "u3");
	assert_field(ev, "user", NULL);
	json_decref(ev);

	/* For oneself: oversight's built-in rule; legal aid is refused. */
	s = test_login(f->dir, "andi", TEST_PASS_STAFF);
	assert_int_equal(cv_policy_explain(s, "andi", "read", f->cid,
	                     "incident", "legal_proceeding", &out),
	    CV_EDENIED);
	cv_session_close(s);
	ev = event_at(f->dir, 0, NULL);
	assert_field(ev, "rule", "default-deny");
	assert_field(ev, "actor", "u3");
	assert_field(ev, "role", "legal_aid");
	assert_field(ev, "subject", "u3");
	json_decref(ev);
	s = test_login(f->dir, "inspektur", TEST_PASS_STAFF);
	assert_int_equal(cv_policy_explain(s, "inspektur", "read", f->cid,
	                     "incident", NULL, &out),
	    0);
	cv_session_close(s);
	json_decref(out);
	ev = event_at(f->dir, 0, NULL);
	assert_field(ev, "rule", "builtin-explain-self");
	assert_field(ev, "actor", "u5");
	assert_field(ev, "subject", "u5");
	json_decref(ev);

	s = test_login(f->dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(cv_policy_explain(
	                     s, "andi", "read", f->cid, "incident", NULL, &out),
	    CV_EDENIED);
	cv_session_close(s);
	assert_null(out);
	ev = event_at(f->dir, 0, NULL);
	assert_field(ev, "decision", "deny");
	assert_field(ev, "rule", "default-deny");
	assert_field(ev, "actor", "u2");
	assert_field(ev, "role", "counselor");
	json_decref(ev);
}

/* The request list and a fetch: decisions with a built-in or policy rule. */
static void
list_and_release_name_their_rule(void **state)
{
	struct test_fx *f = *state;
	struct cv_session *s = test_login(f->dir, "andi", TEST_PASS_STAFF);
	json_t *out = NULL, *ev;

	assert_int_equal(cv_request_list(s, &out), 0);
	assert_int_equal(json_array_size(out), 1);
	json_decref(out);
	ev = event_at(f->dir, 0, NULL);
	assert_field(ev, "action", "request.list");
	assert_field(ev, "access", "request.list");
	assert_field(ev, "rule", "builtin-request-list");
	assert_field(ev, "actor", "u3");
	assert_field(ev, "role", "legal_aid");
	json_decref(ev);

	assert_int_equal(cv_request_fetch(s, "R0000000001", &out), 0);
	json_decref(out);
	ev = event_at(f->dir, 0, NULL);
	assert_field(ev, "action", "disclosure");
	assert_field(ev, "decision", "allow");
	assert_field(ev, "rule", "la-read");
	assert_field(ev, "actor", "u3");
	assert_field(ev, "consent", "K0000000001");
	assert_field(ev, "request", "R0000000001");
	assert_non_null(json_object_get(ev, "records"));
	json_decref(ev);
	cv_session_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matrix),
	    cmocka_unit_test(matrix_detects_wrong_rows),
	    cmocka_unit_test(relied_facts_matter),
	    cmocka_unit_test(decide_refuses_bad_questions),
	    cmocka_unit_test_setup_teardown(
	        events_name_rule_actor_role, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        subject_must_be_the_session, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        explain_event_names_the_explainer, setup, test_fx_teardown),
	    cmocka_unit_test_setup_teardown(
	        list_and_release_name_their_rule, setup, test_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
