/*
 * Policy parser, set hash and lint. Run from the repository root: it reads
 * policies/ and tests/fixtures/policies-bad/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/policy.h"
#include "ops/policy.h"
#include "base/util.h"

static const char *const shipped[] = {
    "admin",        "auditor",       "counselor",  "legal_aid",
    "psychologist", "social_worker", "supervisor",
};

static char *
slurp(const char *path, size_t *len)
{
	char *buf;

	assert_int_equal(cv_read_file(path, 1 << 20, &buf, len), 0);
	return buf;
}

static int
add_text(struct cv_policy_set *set, const char *name, const char *text,
         char *err, size_t errlen)
{
	return cv_policy_set_add(set, name, text, strlen(text), err, errlen);
}

static void
test_shipped_parse(void **state)
{
	struct cv_policy_set *set;
	const char *name, *text;
	char err[256], path[128];
	size_t i, len;

	(void)state;
	assert_int_equal(cv_policy_load_dir("policies", &set, err, sizeof(err)),
	                 0);
	assert_int_equal(cv_policy_set_count(set), CV_ARRAY_LEN(shipped));
	for (i = 0; i < CV_ARRAY_LEN(shipped); i++) {
		assert_int_equal(cv_policy_set_file(set, i, &name, &text, &len),
		                 0);
		snprintf(path, sizeof(path), "%s.policy", shipped[i]);
		assert_string_equal(name, path);
		assert_int_equal(strlen(text), len);
		assert_true(len > 0);
	}
	assert_int_equal(cv_policy_set_file(set, i, &name, &text, &len),
	                 CV_ENOTFOUND);
	cv_policy_set_free(set);
}

/* Each shipped file also parses on its own, by the same name. */
static void
test_shipped_each(void **state)
{
	struct cv_policy_set *set;
	char err[256], path[128], *text;
	size_t i, len;

	(void)state;
	for (i = 0; i < CV_ARRAY_LEN(shipped); i++) {
		snprintf(path, sizeof(path), "policies/%s.policy", shipped[i]);
		text = slurp(path, &len);
		assert_int_equal(cv_policy_set_new(&set), 0);
		assert_int_equal(cv_policy_set_add(set, path + 9, text, len,
		                                   err, sizeof(err)),
		                 0);
		cv_policy_set_free(set);
		free(text);
	}
}

static const struct {
	const char *file;
	int code;
	const char *err;
} bad[] = {
    {"unknown_class.policy", CV_EPOLICY,
     "unknown_class.policy:3: unknown class 'idnetity'"},
    {"unknown_action.policy", CV_EPOLICY,
     "unknown_action.policy:2: unknown action 'raed'"},
    {"duplicate_id.policy", CV_EPOLICY,
     "duplicate_id.policy:4: duplicate rule id 'la-r' (line 3)"},
    {"missing_id.policy", CV_EPOLICY,
     "missing_id.policy:2: rule without an id"},
    {"long_line.policy", CV_EPOLICY,
     "long_line.policy:2: line longer than 512 bytes"},
    {"too_many_rules.policy", CV_EPOLICY,
     "too_many_rules.policy:130: more than 128 rules"},
    {"oversize.policy", CV_EPOLICY,
     "oversize.policy:0: text larger than 65536 bytes"},
    {"garbage.policy", CV_EPOLICY, "garbage.policy:1: invalid byte 0x89"},
    {"nul_byte.policy", CV_EPOLICY, "nul_byte.policy:2: NUL byte"},
    {"unknown_role.policy", CV_EPOLICY,
     "unknown_role.policy:2: unknown role 'janitor'"},
    {"no_header.policy", CV_EPOLICY,
     "no_header.policy:0: no 'policy ROLE version N' line"},
    {"rule_before_header.policy", CV_EPOLICY,
     "rule_before_header.policy:1: rule before the 'policy' line"},
    {"classes_on_classless.policy", CV_EPOLICY,
     "classes_on_classless.policy:2: these actions take no classes, "
     "got 'identity'"},
    {"no_classes.policy", CV_EPOLICY,
     "no_classes.policy:2: actions on data need classes or '*'"},
    {"mixed_actions.policy", CV_EPOLICY,
     "mixed_actions.policy:2: rule mixes actions with and without "
     "classes"},
    {"allow_without_when.policy", CV_EPOLICY,
     "allow_without_when.policy:2: allow rule without 'when' (use "
     "'when true')"},
    {"unknown_condition.policy", CV_EPOLICY,
     "unknown_condition.policy:2: unknown condition 'tuesday'"},
    {"true_combined.policy", CV_EPOLICY,
     "true_combined.policy:2: 'true' cannot be combined with "
     "conditions"},
    {"bad_version.policy", CV_EPOLICY,
     "bad_version.policy:1: bad version '0x1'"},
    {"two_headers.policy", CV_EPOLICY,
     "two_headers.policy:2: second 'policy' line"},
};

static void
test_bad_inputs(void **state)
{
	struct cv_policy_set *set;
	char err[256], path[256], *text;
	size_t i, len, nfiles = 0;
	uint8_t before[32], after[32];
	struct stat st;

	(void)state;
	assert_int_equal(cv_policy_set_new(&set), 0);
	assert_int_equal(add_text(set, "admin.policy",
	                          "policy admin version 1\n"
	                          "rule ad-ops allow backup when true\n",
	                          err, sizeof(err)),
	                 0);
	cv_policy_set_hash(set, before);
	for (i = 0; i < CV_ARRAY_LEN(bad); i++) {
		snprintf(path, sizeof(path), "tests/fixtures/policies-bad/%s",
		         bad[i].file);
		text = slurp(path, &len);
		memset(err, 'x', sizeof(err));
		if (cv_policy_set_add(set, bad[i].file, text, len, err,
		                      sizeof(err)) != bad[i].code ||
		    strcmp(err, bad[i].err) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].file,
			         err, bad[i].err);
		free(text);
		/* Refused input leaves nothing behind. */
		assert_int_equal(cv_policy_set_count(set), 1);
		cv_policy_set_hash(set, after);
		assert_memory_equal(before, after, 32);
	}
	/* Every fixture in the directory is in the table above. */
	for (i = 0; i < CV_ARRAY_LEN(bad); i++) {
		snprintf(path, sizeof(path), "tests/fixtures/policies-bad/%s",
		         bad[i].file);
		assert_int_equal(stat(path, &st), 0);
		nfiles++;
	}
	assert_int_equal(nfiles, CV_ARRAY_LEN(bad));
	cv_policy_set_free(set);
}

static void
test_bad_misc(void **state)
{
	struct cv_policy_set *set;
	char err[256];

	(void)state;
	assert_int_equal(cv_policy_set_new(&set), 0);
	assert_int_equal(add_text(set, "a.policy",
	                          "policy admin version 1\n"
	                          "rule r1 allow backup when true\n",
	                          err, sizeof(err)),
	                 0);
	/* A rule id is unique across the whole set, not only its file. */
	assert_int_equal(add_text(set, "b.policy",
	                          "policy auditor version 1\n"
	                          "rule r1 allow audit.read when true\n",
	                          err, sizeof(err)),
	                 CV_EPOLICY);
	assert_string_equal(err, "b.policy:2: duplicate rule id 'r1' (in "
	                         "a.policy)");
	/* The same file name twice is refused before parsing. */
	assert_int_equal(add_text(set, "a.policy", "policy admin version 1\n",
	                          err, sizeof(err)),
	                 CV_EINVAL);
	assert_int_equal(
	    add_text(set, "../x", "policy admin version 1\n", err, sizeof(err)),
	    CV_EINVAL);
	assert_int_equal(add_text(set, "c.policy",
	                          "policy admin version 1\n"
	                          "rule default-deny deny read *\n",
	                          err, sizeof(err)),
	                 CV_EPOLICY);
	assert_string_equal(err, "c.policy:2: bad rule id 'default-deny'");
	assert_int_equal(add_text(set, "c.policy",
	                          "policy admin version 1\n"
	                          "rule x deny read identity,,legal\n",
	                          err, sizeof(err)),
	                 CV_EPOLICY);
	assert_string_equal(err, "c.policy:2: empty item in class list");
	assert_int_equal(add_text(set, "c.policy",
	                          "policy admin version 1\n"
	                          "rule x deny read identity,*\n",
	                          err, sizeof(err)),
	                 CV_EPOLICY);
	assert_string_equal(err, "c.policy:2: '*' must stand alone");
	assert_int_equal(add_text(set, "c.policy",
	                          "policy admin version 1\n"
	                          "rule x allow read legal when team and\n",
	                          err, sizeof(err)),
	                 CV_EPOLICY);
	assert_string_equal(err, "c.policy:2: 'and' without a condition");
	assert_int_equal(add_text(set, "c.policy",
	                          "policy admin version 1\n"
	                          "rule x allow read legal when team team\n",
	                          err, sizeof(err)),
	                 CV_EPOLICY);
	assert_string_equal(err, "c.policy:2: expected 'and', got 'team'");
	/* CRLF line ends and UTF-8 in comments are fine. */
	assert_int_equal(add_text(set, "d.policy",
	                          "# Kebijakan \xc3\xa9\r\n"
	                          "policy auditor version 3\r\n"
	                          "rule d1 allow audit.read when true # ok\r\n",
	                          err, sizeof(err)),
	                 0);
	assert_int_equal(cv_policy_set_count(set), 2);
	cv_policy_set_free(set);
}

/* A failed directory load hands back nothing; the old set is untouched. */
static void
test_failed_load_keeps_old(void **state)
{
	struct cv_policy_set *old, *fresh = (struct cv_policy_set *)1;
	char dir[] = "/tmp/cv-policy-XXXXXX", path[256], err[256];
	uint8_t before[32], after[32];
	struct cv_access acc = {"admin",         "backup",        -1, 0,
	                        CV_CONSENT_NONE, CV_REQUEST_NONE, 0};
	struct cv_decision d;
	FILE *f;

	(void)state;
	assert_int_equal(cv_policy_load_dir("policies", &old, err, sizeof(err)),
	                 0);
	cv_policy_set_hash(old, before);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/admin.policy", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("policy admin version 2\nrule ad-all allow read * when true\n",
	      f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/legal_aid.policy", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("policy legal_aid version 2\nrule la-x allow read idnetity "
	      "when consent\n",
	      f);
	fclose(f);
	assert_int_equal(cv_policy_load_dir(dir, &fresh, err, sizeof(err)),
	                 CV_EPOLICY);
	assert_null(fresh);
	assert_string_equal(err,
	                    "legal_aid.policy:2: unknown class 'idnetity'");
	cv_policy_set_hash(old, after);
	assert_memory_equal(before, after, 32);
	assert_int_equal(cv_policy_decide(old, &acc, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_string_equal(d.rule, "ad-ops");
	/* Other files are ignored; an empty directory is an error. */
	unlink(path);
	snprintf(path, sizeof(path), "%s/admin.policy", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/README", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("not a policy\n", f);
	fclose(f);
	assert_int_equal(cv_policy_load_dir(dir, &fresh, err, sizeof(err)),
	                 CV_EPOLICY);
	assert_null(fresh);
	unlink(path);
	rmdir(dir);
	assert_int_equal(cv_policy_load_dir("/nonexistent/policies", &fresh,
	                                    err, sizeof(err)),
	                 CV_EIO);
	cv_policy_set_free(old);
}

static void
test_hash(void **state)
{
	struct cv_policy_set *a, *b;
	char *texts[CV_ARRAY_LEN(shipped)], path[128], name[64], err[256];
	size_t lens[CV_ARRAY_LEN(shipped)], i, n = CV_ARRAY_LEN(shipped);
	uint8_t ha[32], hb[32], hc[32], he[32];
	struct cv_policy_set *e;

	(void)state;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "policies/%s.policy", shipped[i]);
		texts[i] = slurp(path, &lens[i]);
	}
	assert_int_equal(cv_policy_set_new(&a), 0);
	assert_int_equal(cv_policy_set_new(&b), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.policy", shipped[i]);
		assert_int_equal(cv_policy_set_add(a, name, texts[i], lens[i],
		                                   err, sizeof(err)),
		                 0);
		snprintf(name, sizeof(name), "%s.policy", shipped[n - 1 - i]);
		assert_int_equal(cv_policy_set_add(b, name, texts[n - 1 - i],
		                                   lens[n - 1 - i], err,
		                                   sizeof(err)),
		                 0);
	}
	cv_policy_set_hash(a, ha);
	cv_policy_set_hash(b, hb);
	assert_memory_equal(ha, hb, 32);
	cv_policy_set_free(b);

	/* A rule edit (the version of one file) changes the hash. */
	assert_int_equal(cv_policy_set_new(&b), 0);
	for (i = 0; i < n; i++) {
		char *t = texts[i];
		size_t l = lens[i];
		char *edited = NULL;
		snprintf(name, sizeof(name), "%s.policy", shipped[i]);
		if (i == 3) { /* legal_aid: "version 1" -> "version 2" */
			char *v;
			assert_non_null(edited = strdup(t));
			assert_non_null(v = strstr(edited, "version 1"));
			v[8] = '2';
			t = edited;
		}
		assert_int_equal(
		    cv_policy_set_add(b, name, t, l, err, sizeof(err)), 0);
		free(edited);
	}
	cv_policy_set_hash(b, hc);
	assert_memory_not_equal(ha, hc, 32);
	cv_policy_set_free(b);

	/* So does any other byte: here the last newline of one file. */
	assert_int_equal(cv_policy_set_new(&b), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.policy", shipped[i]);
		assert_int_equal(
		    cv_policy_set_add(b, name, texts[i],
		                      i == 0 ? lens[i] - 1 : lens[i], err,
		                      sizeof(err)),
		    0);
	}
	cv_policy_set_hash(b, hc);
	assert_memory_not_equal(ha, hc, 32);
	cv_policy_set_free(b);

	/* The empty set has a hash of its own. */
	assert_int_equal(cv_policy_set_new(&e), 0);
	cv_policy_set_hash(e, he);
	assert_memory_not_equal(ha, he, 32);
	cv_policy_set_free(e);

	cv_policy_set_free(a);
	for (i = 0; i < n; i++)
		free(texts[i]);
}

/*
 * Known answer: SHA-256 of "casevault-policy-set-v1\0" || be32(8) ||
 * "a.policy" || be64(23) || "policy admin version 1\n", worked out with
 * `printf ... | sha256sum`.
 */
static void
test_hash_known(void **state)
{
	static const uint8_t want[32] = {
	    0xaf, 0x67, 0x47, 0x90, 0xeb, 0x82, 0x0b, 0x18, 0xec, 0x19, 0xd0,
	    0x8e, 0x5f, 0x38, 0x4f, 0x2f, 0x50, 0xc9, 0xe5, 0x2c, 0x23, 0xe1,
	    0xc6, 0x63, 0x13, 0x71, 0x67, 0xe0, 0x97, 0x98, 0x97, 0x19};
	struct cv_policy_set *s;
	uint8_t h[32];
	char err[128];

	(void)state;
	assert_int_equal(cv_policy_set_new(&s), 0);
	assert_int_equal(add_text(s, "a.policy", "policy admin version 1\n",
	                          err, sizeof(err)),
	                 0);
	cv_policy_set_hash(s, h);
	assert_memory_equal(h, want, 32);
	cv_policy_set_free(s);
}

static int
has_finding(const json_t *f, const char *needle)
{
	const json_t *v;
	size_t i;

	json_array_foreach(f, i, v) if (strstr(json_string_value(v), needle) !=
	                                NULL) return 1;
	return 0;
}

static void
test_lint_shipped_clean(void **state)
{
	struct cv_policy_set *set;
	json_t *f = json_array();
	char err[256], *dump;
	int n;

	(void)state;
	assert_int_equal(cv_policy_load_dir("policies", &set, err, sizeof(err)),
	                 0);
	n = cv_policy_lint(set, f);
	if (n != 0) {
		dump = json_dumps(f, JSON_INDENT(1));
		fail_msg("shipped policies have %d findings: %s", n, dump);
	}
	assert_int_equal(json_array_size(f), 0);
	assert_int_equal(cv_policy_lint(set, NULL), CV_EINVAL);
	json_decref(f);
	cv_policy_set_free(set);
}

static void
test_lint_findings(void **state)
{
	struct cv_policy_set *set;
	json_t *f = json_array();
	char err[256];
	int n;

	(void)state;
	assert_int_equal(cv_policy_set_new(&set), 0);
	/* Reads everything on break-glass alone, counselling notes too. */
	assert_int_equal(add_text(set, "supervisor.policy",
	                          "policy supervisor version 1\n"
	                          "rule s-all allow read * when breakglass\n"
	                          "rule s-legal allow read legal when true\n",
	                          err, sizeof(err)),
	                 0);
	/* Shadowed wholly and partly by a deny. */
	assert_int_equal(
	    add_text(set, "social_worker.policy",
	             "policy social_worker version 1\n"
	             "rule w-notes allow read counseling_note when team\n"
	             "rule w-some allow read legal,services when team\n"
	             "rule w-deny deny read counseling_note,legal\n"
	             "rule w-cond allow case.close when consent\n",
	             err, sizeof(err)),
	    0);
	/* Two files for one role, neither with rules, one misnamed. */
	assert_int_equal(add_text(set, "auditor.policy",
	                          "policy auditor version 1\n", err,
	                          sizeof(err)),
	                 0);
	assert_int_equal(add_text(set, "auditor2.policy",
	                          "policy auditor version 1\n", err,
	                          sizeof(err)),
	                 0);
	n = cv_policy_lint(set, f);
	assert_int_equal(n, (int)json_array_size(f));
	assert_true(has_finding(f, "role supervisor can read every class "
	                           "without the case team or a consent"));
	assert_true(has_finding(f, "supervisor.policy:2: rule s-all allows "
	                           "counseling_note without the case team"));
	assert_true(has_finding(f, "social_worker.policy:2: rule w-notes can "
	                           "never apply: denied by rule w-deny"));
	assert_true(has_finding(f, "social_worker.policy:3: rule w-some is "
	                           "partly shadowed by deny rule w-deny"));
	assert_true(has_finding(f, "social_worker.policy:5: rule w-cond: "
	                           "'consent' and 'request' never hold"));
	assert_true(has_finding(f, "role auditor has 2 policy files"));
	assert_true(has_finding(f, "role auditor has no rules"));
	assert_true(has_finding(f, "auditor2.policy: declares role auditor"));
	/* Roles without a file have no rules either. */
	assert_true(has_finding(f, "role admin has no rules"));
	assert_false(has_finding(f, "role social_worker can read every"));
	/* The invariant s-all breaks, which deploy would refuse. */
	assert_true(has_finding(f, "supervisor.policy:2: rule s-all gives "
	                           "counseling_note without the case team or "
	                           "a consent that names it; deploy refuses"));
	/* The 10 above, and no rules for counselor, psychologist, legal_aid. */
	assert_int_equal(n, 13);
	json_decref(f);
	cv_policy_set_free(set);
}

/* Verdicts and reasons of cv_policy_decide beyond the access matrix. */
static void
test_decide_reasons(void **state)
{
	struct cv_policy_set *set;
	struct cv_access a;
	struct cv_decision d;
	char err[256];

	(void)state;
	assert_int_equal(cv_policy_load_dir("policies", &set, err, sizeof(err)),
	                 0);
	memset(&a, 0, sizeof(a));
	a.role = "legal_aid";
	a.action = "read";
	a.cls = CV_CLASS_LEGAL;
	a.consent = CV_CONSENT_EXPIRED;
	a.request = CV_REQUEST_PENDING;
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_string_equal(d.rule, "default-deny");
	assert_string_equal(d.reason, "no valid consent: expired; no approved "
	                              "request: pending");
	a.consent = CV_CONSENT_VALID;
	a.request = CV_REQUEST_APPROVED;
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_string_equal(d.rule, "la-read");
	a.action = "write";
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_string_equal(d.rule, "la-no-write");
	assert_string_equal(d.reason, "explicitly denied by role policy");

	/* A deny wins even when an allow holds too. */
	a.role = "social_worker";
	a.action = "read";
	a.cls = CV_CLASS_COUNSELING_NOTE;
	a.on_team = 1;
	a.breakglass = 1;
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_string_equal(d.rule, "sw-no-notes");

	a.cls = CV_CLASS_SERVICES;
	a.on_team = 0;
	a.breakglass = 0;
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_string_equal(d.reason, "not on the case team");

	a.role = "psychologist";
	a.cls = CV_CLASS_COUNSELING_NOTE;
	a.on_team = 1;
	a.consent = CV_CONSENT_WITHDRAWN;
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_string_equal(d.reason, "no valid consent: withdrawn");

	/* Unknown role: no policy; class on a classless action: no rule. */
	a.role = "janitor";
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_string_equal(d.reason, "no policy for this role");
	a.role = "admin";
	a.action = "backup";
	a.cls = CV_CLASS_IDENTITY;
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_string_equal(d.rule, "default-deny");
	a.cls = -1;
	assert_int_equal(cv_policy_decide(set, &a, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_string_equal(d.rule, "ad-ops");

	/* Bad arguments are errors and still leave a deny behind. */
	a.action = "fly";
	d.allow = 1;
	assert_int_equal(cv_policy_decide(set, &a, &d), CV_EINVAL);
	assert_int_equal(d.allow, 0);
	a.action = "read";
	a.cls = CV_CLASS_COUNT;
	d.allow = 1;
	assert_int_equal(cv_policy_decide(set, &a, &d), CV_EINVAL);
	assert_int_equal(d.allow, 0);
	assert_int_equal(cv_policy_decide(NULL, &a, &d), CV_EINVAL);
	cv_policy_set_free(set);
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < CV_ACTION_COUNT; i++)
		assert_int_equal(cv_action_parse(cv_action_name(i)), i);
	for (i = 0; i < CV_ROLE_COUNT; i++)
		assert_int_equal(cv_role_parse(cv_role_name(i)), i);
	assert_int_equal(cv_action_parse("audit.read"), CV_ACTION_AUDIT_READ);
	assert_int_equal(cv_action_parse("READ"), -1);
	assert_true(cv_action_has_class(CV_ACTION_DISCLOSE));
	assert_false(cv_action_has_class(CV_ACTION_ERASE));
	assert_false(cv_action_has_class(CV_ACTION_COUNT));
	assert_null(cv_action_name(CV_ACTION_COUNT));
	assert_null(cv_role_name(-1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_parse),
	    cmocka_unit_test(test_shipped_each),
	    cmocka_unit_test(test_bad_inputs),
	    cmocka_unit_test(test_bad_misc),
	    cmocka_unit_test(test_failed_load_keeps_old),
	    cmocka_unit_test(test_hash),
	    cmocka_unit_test(test_hash_known),
	    cmocka_unit_test(test_lint_shipped_clean),
	    cmocka_unit_test(test_lint_findings),
	    cmocka_unit_test(test_decide_reasons),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
