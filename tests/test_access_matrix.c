/*
 * The access matrix: tests/fixtures/access-matrix.tsv is the oracle, written
 * by hand from the role and class tables of docs/policy.md. Every row is
 * checked against cv_policy_decide() over the shipped policies/; then every
 * combination of role, action, class, team, consent, request and break-glass
 * is decided and must be refused unless the table lists it as allowed. Run
 * from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/policy.h"
#include "ops/policy.h"
#include "base/util.h"

#define TABLE "tests/fixtures/access-matrix.tsv"

#define NCLS     (CV_CLASS_COUNT + 1) /* index 0 is "no class" */
#define NCONSENT 5
#define NREQUEST 4
#define NCOMBO                                                                 \
	((size_t)CV_ROLE_COUNT * CV_ACTION_COUNT * NCLS * 2 * NCONSENT *       \
	 NREQUEST * 2)

static const char *const consent_names[NCONSENT] = {
    "none", "valid", "expired", "withdrawn", "wrong_purpose",
};
static const enum cv_consent_state consent_vals[NCONSENT] = {
    CV_CONSENT_NONE,      CV_CONSENT_VALID,         CV_CONSENT_EXPIRED,
    CV_CONSENT_WITHDRAWN, CV_CONSENT_WRONG_PURPOSE,
};
static const char *const request_names[NREQUEST] = {
    "none",
    "pending",
    "approved",
    "expired",
};
static const enum cv_request_state request_vals[NREQUEST] = {
    CV_REQUEST_NONE,
    CV_REQUEST_PENDING,
    CV_REQUEST_APPROVED,
    CV_REQUEST_EXPIRED,
};
static const char *const yesno[2] = {"no", "yes"};

struct combo {
	int role, action, cls, team, consent, request, bg;
};

/* Set while a test expects mismatches: no messages then. */
static int quiet;

/* 0: unlisted, 1: listed allow, 2: listed deny. */
static unsigned char *listed;

static size_t
combo_index(const struct combo *c)
{
	size_t i = (size_t)c->role;

	i = i * CV_ACTION_COUNT + (size_t)c->action;
	i = i * NCLS + (size_t)(c->cls + 1);
	i = i * 2 + (size_t)c->team;
	i = i * NCONSENT + (size_t)c->consent;
	i = i * NREQUEST + (size_t)c->request;
	return i * 2 + (size_t)c->bg;
}

/* The inverse of combo_index(). */
static void
combo_at(size_t i, struct combo *c)
{
	c->bg = (int)(i % 2);
	i /= 2;
	c->request = (int)(i % NREQUEST);
	i /= NREQUEST;
	c->consent = (int)(i % NCONSENT);
	i /= NCONSENT;
	c->team = (int)(i % 2);
	i /= 2;
	c->cls = (int)(i % NCLS) - 1;
	i /= NCLS;
	c->action = (int)(i % CV_ACTION_COUNT);
	c->role = (int)(i / CV_ACTION_COUNT);
}

static void
combo_text(const struct combo *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s %s team=%s consent=%s request=%s bg=%s",
	         cv_role_name(c->role), cv_action_name(c->action),
	         c->cls < 0 ? "-" : cv_class_name((enum cv_class)c->cls),
	         yesno[c->team], consent_names[c->consent],
	         request_names[c->request], yesno[c->bg]);
}

static int
decide(const struct cv_policy_set *set, const struct combo *c,
       struct cv_decision *d)
{
	struct cv_access a;

	a.role = cv_role_name(c->role);
	a.action = cv_action_name(c->action);
	a.cls = c->cls;
	a.on_team = c->team;
	a.consent = consent_vals[c->consent];
	a.request = request_vals[c->request];
	a.breakglass = c->bg;
	assert_int_equal(cv_policy_decide(set, &a, d), 0);
	return d->allow;
}

/* A column value: its index in NAMES, or -1 for "*"; -2 when unknown. */
static int
column(const char *tok, const char *const *names, int n)
{
	int i;

	if (strcmp(tok, "*") == 0)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(tok, names[i]) == 0)
			return i;
	return -2;
}

struct row {
	int line;
	int role, action, cls;          /* cls: -1 none, -2 every class */
	int team, consent, request, bg; /* -1: every value */
	int allow;
};

static int
parse_row(char *line, int lineno, struct row *r)
{
	char *tok[9], *save = NULL, *s;
	int n = 0;

	memset(r, 0, sizeof(*r));
	for (s = strtok_r(line, " \t\r", &save); s != NULL && n < 9;
	     s = strtok_r(NULL, " \t\r", &save))
		tok[n++] = s;
	if (n != 8)
		fail_msg(TABLE ":%d: want 8 columns", lineno);
	r->line = lineno;
	if ((r->role = cv_role_parse(tok[0])) < 0 ||
	    (r->action = cv_action_parse(tok[1])) < 0)
		fail_msg(TABLE ":%d: unknown role or action", lineno);
	if (strcmp(tok[2], "-") == 0)
		r->cls = -1;
	else if (strcmp(tok[2], "*") == 0)
		r->cls = -2;
	else if ((r->cls = cv_class_parse(tok[2])) < 0)
		fail_msg(TABLE ":%d: unknown class", lineno);
	if ((r->team = column(tok[3], yesno, 2)) < -1 ||
	    (r->consent = column(tok[4], consent_names, NCONSENT)) < -1 ||
	    (r->request = column(tok[5], request_names, NREQUEST)) < -1 ||
	    (r->bg = column(tok[6], yesno, 2)) < -1)
		fail_msg(TABLE ":%d: bad column value", lineno);
	if (strcmp(tok[7], "allow") == 0)
		r->allow = 1;
	else if (strcmp(tok[7], "deny") == 0)
		r->allow = 0;
	else
		fail_msg(TABLE ":%d: verdict must be allow or deny", lineno);
	return 0;
}

/* Check every expansion of R; returns the number of mismatches. */
static int
check_row(const struct cv_policy_set *set, const struct row *r,
          size_t *expanded)
{
	struct cv_decision d;
	struct combo c;
	char text[200];
	size_t i, first;
	int bad = 0;

	/* Every combination of this row's role and action. */
	first = ((size_t)r->role * CV_ACTION_COUNT + (size_t)r->action) * NCLS *
	        2 * NCONSENT * NREQUEST * 2;
	for (i = first; i < first + NCLS * 2 * NCONSENT * NREQUEST * 2; i++) {
		combo_at(i, &c);
		if ((r->cls == -2 && c.cls < 0) ||
		    (r->cls != -2 && c.cls != r->cls) ||
		    (r->team >= 0 && c.team != r->team) ||
		    (r->consent >= 0 && c.consent != r->consent) ||
		    (r->request >= 0 && c.request != r->request) ||
		    (r->bg >= 0 && c.bg != r->bg))
			continue;
		if (listed[i] != 0 && listed[i] != (r->allow ? 1 : 2)) {
			combo_text(&c, text, sizeof(text));
			print_error(TABLE ":%d: contradicts an earlier row: "
			                  "%s\n",
			            r->line, text);
			bad++;
		}
		listed[i] = r->allow ? 1 : 2;
		(*expanded)++;
		if (decide(set, &c, &d) != r->allow) {
			if (!quiet) {
				combo_text(&c, text, sizeof(text));
				print_error(TABLE ":%d: %s: want %s, got %s "
				                  "by %s (%s)\n",
				            r->line, text,
				            r->allow ? "allow" : "deny",
				            d.allow ? "allow" : "deny", d.rule,
				            d.reason);
			}
			bad++;
		}
	}
	return bad;
}

static int
run_matrix(const struct cv_policy_set *set)
{
	struct cv_decision d;
	struct combo c;
	struct row r;
	char *text, *line, *next, text2[200];
	size_t i, len, expanded = 0, checked = 0, allowed = 0;
	int lineno = 0, rows = 0, bad = 0, perrole[CV_ROLE_COUNT] = {0};

	assert_non_null(listed = calloc(NCOMBO, 1));
	assert_int_equal(cv_read_file(TABLE, 1 << 20, &text, &len), 0);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		parse_row(line, lineno, &r);
		bad += check_row(set, &r, &expanded);
		perrole[r.role]++;
		rows++;
	}
	free(text);
	if (!quiet)
		print_message("%d rows, %zu expanded cases\n", rows, expanded);
	assert_true(rows >= 300);
	for (c.role = 0; c.role < CV_ROLE_COUNT; c.role++)
		assert_true(perrole[c.role] >= 20);

	/* Everything the table does not allow must be refused. */
	for (i = 0; i < NCOMBO; i++) {
		int want = listed[i] == 1;
		combo_at(i, &c);
		assert_int_equal(combo_index(&c), i);
		checked++;
		allowed += (size_t)want;
		if (decide(set, &c, &d) != want) {
			if (!quiet) {
				combo_text(&c, text2, sizeof(text2));
				print_error("%s %s: want %s, got %s by %s\n",
				            listed[i] ? "listed" : "unlisted",
				            text2, want ? "allow" : "deny",
				            d.allow ? "allow" : "deny", d.rule);
			}
			bad++;
		}
		/* Every verdict names its rule and gives a reason. */
		if (d.rule[0] == '\0' || d.reason[0] == '\0')
			bad++;
	}
	if (!quiet)
		print_message("%zu combinations, %zu allowed\n", checked,
		              allowed);
	assert_int_equal(checked, NCOMBO);
	assert_true(allowed > 0);
	free(listed);
	listed = NULL;
	return bad;
}

static void
test_matrix(void **state)
{
	struct cv_policy_set *set;
	char err[256];

	(void)state;
	assert_int_equal(cv_policy_load_dir("policies", &set, err, sizeof(err)),
	                 0);
	assert_int_equal(run_matrix(set), 0);
	cv_policy_set_free(set);
}

/*
 * The check must be able to fail: the shipped set plus one extra allow
 * (social workers opening cases), or minus one file, disagrees with the
 * table.
 */
static void
test_matrix_detects_change(void **state)
{
	static const char extra[] = "policy social_worker version 9\n"
	                            "rule sw-extra allow case.open when true\n";
	static const char *const files[] = {
	    "admin",     "auditor",      "counselor",
	    "legal_aid", "psychologist", "social_worker",
	};
	struct cv_policy_set *set;
	char err[256], path[128], *text;
	size_t i, len;

	(void)state;
	assert_int_equal(cv_policy_load_dir("policies", &set, err, sizeof(err)),
	                 0);
	assert_int_equal(cv_policy_set_add(set, "extra.policy", extra,
	                                   strlen(extra), err, sizeof(err)),
	                 0);
	quiet = 1;
	assert_true(run_matrix(set) > 0);
	cv_policy_set_free(set);

	/* Without supervisor.policy. */
	assert_int_equal(cv_policy_set_new(&set), 0);
	for (i = 0; i < CV_ARRAY_LEN(files); i++) {
		snprintf(path, sizeof(path), "policies/%s.policy", files[i]);
		assert_int_equal(cv_read_file(path, 1 << 20, &text, &len), 0);
		assert_int_equal(cv_policy_set_add(set, path + 9, text, len,
		                                   err, sizeof(err)),
		                 0);
		free(text);
	}
	assert_true(run_matrix(set) > 0);
	quiet = 0;
	cv_policy_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matrix),
	    cmocka_unit_test(test_matrix_detects_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
