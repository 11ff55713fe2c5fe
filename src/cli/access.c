/* Consent, legal-aid requests, break-glass, disclosure and policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/util.h"

static int
done(struct cli *c, json_t *j, const char *human)
{
	if (c->json)
		return cli_out(c, j, NULL);
	json_decref(j);
	printf("%s\n", human);
	return EXIT_OK;
}

static int
cmd_consent_grant(struct cli *c, int argc, char **argv)
{
	const char *to = NULL, *classes = NULL, *purpose = NULL, *until = NULL,
	           *by = NULL, *rel = NULL, *form = NULL, *from = NULL, *pos[1];
	int assent = 0, n, r;
	struct cli_opt o[] = {{"to", 0, &to, NULL},
	    {"classes", 0, &classes, NULL}, {"purpose", 0, &purpose, NULL},
	    {"until", 0, &until, NULL}, {"from", 0, &from, NULL},
	    {"by", 0, &by, NULL}, {"relationship", 0, &rel, NULL},
	    {"assent", 0, NULL, &assent}, {"form", 0, &form, NULL}, {0}};
	struct cv_session *s;
	char id[12], msg[96];
	const char *p, *q, *kind = "user";
	json_t *g, *cl;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 1, &n)) != 0)
		return r;
	if (to == NULL || classes == NULL || purpose == NULL || form == NULL)
		return cli_usage(c,
		    "--to, --classes, --purpose and --form "
		    "are required");
	if (by != NULL && strncmp(by, "guardian:", 9) != 0)
		return cli_usage(c, "--by takes guardian:NAME");
	cl = json_array();
	for (p = classes; *p != '\0'; p = *q ? q + 1 : q) {
		q = strchr(p, ',');
		if (q == NULL)
			q = p + strlen(p);
		json_array_append_new(cl, json_stringn(p, (size_t)(q - p)));
	}
	if (cv_role_valid(to))
		kind = "role";
	g = json_pack("{s:{s:s}, s:o, s:s, s:s, s:s}", "recipient", kind, to,
	    "classes", cl, "purpose", purpose, "grantor",
	    by ? "guardian" : "survivor", "form_ref", form);
	if (g == NULL)
		return cli_fail(c, CV_ENOMEM);
	if (until != NULL)
		json_object_set_new(g, "until", json_string(until));
	if (from != NULL)
		json_object_set_new(g, "from", json_string(from));
	if (by != NULL) {
		json_object_set_new(g, "guardian",
		    json_pack("{s:s, s:s}", "name", by + 9, "relationship",
		        rel ? rel : "other"));
		json_object_set_new(g, "assent", json_boolean(assent));
	}
	if ((r = cli_session(c, &s)) != 0) {
		json_decref(g);
		return r;
	}
	r = cv_case_consent_grant(s, pos[0], g, id);
	json_decref(g);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	snprintf(msg, sizeof(msg), "%s", id);
	return done(
	    c, json_pack("{s:s, s:s}", "case", pos[0], "consent", id), msg);
}

static int
cmd_consent_withdraw(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[2];
	char msg[96];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 2, 2, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_case_consent_withdraw(s, pos[0], pos[1]);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	snprintf(msg, sizeof(msg),
	    "consent %s withdrawn: it covers nothing "
	    "from now on",
	    pos[1]);
	return done(c,
	    json_pack("{s:s, s:s}", "case", pos[0], "withdrawn", pos[1]), msg);
}

static void
list_human(struct cli *c, const json_t *j)
{
	const json_t *o;
	size_t i;

	(void)c;
	if (json_array_size(j) == 0)
		printf("(none)\n");
	json_array_foreach (j, i, o) {
		cli_print_object(o, 0);
		printf("\n");
	}
}

static int
cmd_consent_list(struct cli *c, int argc, char **argv)
{
	return cli_case_query(c, argc, argv, cv_case_consent_list, list_human);
}

static int
cmd_request_create(struct cli *c, int argc, char **argv)
{
	const char *classes = NULL, *purpose = NULL, *pos[1];
	struct cli_opt o[] = {{"classes", 0, &classes, NULL},
	    {"purpose", 0, &purpose, NULL}, {0}};
	struct cv_session *s;
	char id[12];
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 1, &n)) != 0)
		return r;
	if (classes == NULL || purpose == NULL)
		return cli_usage(c, "--classes and --purpose are required");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_request_create(s, pos[0], classes, purpose, id);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return done(c,
	    json_pack("{s:s, s:s, s:s}", "case", pos[0], "request", id,
	        "status", "pending"),
	    id);
}

static int
decide(struct cli *c, int argc, char **argv, int approve)
{
	const char *hours = NULL, *pos[1];
	struct cli_opt o[] = {{"hours", 0, &hours, NULL}, {0}};
	struct cv_session *s;
	unsigned h = 0;
	char msg[96];
	int n, r;

	if ((r = cli_parse(c, argc, argv, approve ? o : NULL, pos, 1, 1, &n)) !=
	    0)
		return r;
	if (hours != NULL && (h = cli_number(hours)) == 0)
		return cli_usage(c, "--hours takes a number");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_request_decide(s, pos[0], approve, h);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	snprintf(msg, sizeof(msg), "request %s %s", pos[0],
	    approve ? "approved" : "denied");
	return done(c,
	    json_pack("{s:s, s:s}", "request", pos[0], "status",
	        approve ? "approved" : "denied"),
	    msg);
}

static int
cmd_request_approve(struct cli *c, int argc, char **argv)
{
	return decide(c, argc, argv, 1);
}

static int
cmd_request_deny(struct cli *c, int argc, char **argv)
{
	return decide(c, argc, argv, 0);
}

static int
cmd_request_list(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	json_t *out;
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 0, 0, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_request_list(s, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, list_human);
}

static void
released_human(struct cli *c, const json_t *j)
{
	const json_t *rec, *w, *x;
	char *d;
	size_t i, k;

	(void)c;
	json_array_foreach (json_object_get(j, "records"), i, rec) {
		printf("record %lld version %lld (%s)\n",
		    (long long)json_integer_value(
		        json_object_get(rec, "record")),
		    (long long)json_integer_value(
		        json_object_get(rec, "version")),
		    json_string_value(json_object_get(rec, "type")));
		d = json_dumps(json_object_get(rec, "data"),
		    JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", d ? d : "{}");
		free(d);
	}
	w = json_object_get(j, "withheld");
	if (json_array_size(w) > 0) {
		printf("withheld: ");
		json_array_foreach (w, k, x)
			printf("%s%s", k ? ", " : "", json_string_value(x));
		printf(" (%s)\n",
		    json_string_value(json_object_get(j, "note"))
		        ? json_string_value(json_object_get(j, "note"))
		        : "not covered");
	}
}

static int
cmd_request_fetch(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	json_t *out;
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_request_fetch(s, pos[0], &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, released_human);
}

static int
cmd_breakglass(struct cli *c, int argc, char **argv)
{
	const char *reason = NULL, *minutes = NULL, *pos[1];
	struct cli_opt o[] = {
	    {"reason", 0, &reason, NULL}, {"minutes", 0, &minutes, NULL}, {0}};
	struct cv_session *s;
	unsigned m = 0;
	char id[12], msg[128];
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 1, &n)) != 0)
		return r;
	if (reason == NULL)
		return cli_usage(c, "--reason TEXT is required");
	if (minutes != NULL && (m = cli_number(minutes)) == 0)
		return cli_usage(c, "--minutes takes a number");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_breakglass_open(s, pos[0], reason, m, id);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	snprintf(msg, sizeof(msg),
	    "break-glass window %s open on %s for %u "
	    "minutes; every access is flagged and will be reviewed",
	    id, pos[0], m ? m : 60);
	return done(c,
	    json_pack("{s:s, s:s, s:I}", "case", pos[0], "breakglass", id,
	        "minutes", (json_int_t)(m ? m : 60)),
	    msg);
}

static int
cmd_breakglass_list(struct cli *c, int argc, char **argv)
{
	int all = 0, n, r;
	struct cli_opt o[] = {{"all", 0, NULL, &all}, {0}};
	struct cv_session *s;
	const char *pos[1];
	json_t *out;

	if ((r = cli_parse(c, argc, argv, o, pos, 0, 0, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_breakglass_list(s, all, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, list_human);
}

static int
cmd_breakglass_review(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	char msg[96];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_breakglass_review(s, pos[0]);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	snprintf(msg, sizeof(msg), "%s marked reviewed", pos[0]);
	return done(c, json_pack("{s:s}", "reviewed", pos[0]), msg);
}

static int
cmd_disclose(struct cli *c, int argc, char **argv)
{
	const char *classes = NULL, *basis = NULL, *to = NULL, *note = NULL,
	           *pos[1];
	struct cli_opt o[] = {{"classes", 0, &classes, NULL},
	    {"legal-basis", 0, &basis, NULL}, {"to", 0, &to, NULL},
	    {"note", 0, &note, NULL}, {0}};
	struct cv_session *s;
	json_t *out;
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 1, &n)) != 0)
		return r;
	if (classes == NULL || basis == NULL || to == NULL)
		return cli_usage(c,
		    "--classes, --legal-basis and --to are "
		    "required");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_disclose(s, pos[0], classes, basis, to, note, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, released_human);
}

static void
check_human(struct cli *c, const json_t *j)
{
	const json_t *f;
	size_t i;

	(void)c;
	printf("%lld policy files, set hash %s\n",
	    (long long)json_integer_value(json_object_get(j, "files")),
	    json_string_value(json_object_get(j, "hash")));
	json_array_foreach (json_object_get(j, "findings"), i, f)
		printf("finding: %s\n", json_string_value(f));
	if (json_array_size(json_object_get(j, "findings")) == 0)
		printf("no findings\n");
}

static int
cmd_policy_check(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	json_t *out;
	int n, r, bad;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 0, 1, &n)) != 0)
		return r;
	if ((r = cv_policy_check(n ? pos[0] : "policies", &out)) != 0)
		return cli_fail(c, r);
	bad = json_array_size(json_object_get(out, "findings")) > 0;
	r = cli_out(c, out, check_human);
	return r != 0 ? r : bad ? EXIT_REFUSED : EXIT_OK;
}

static void
explain_human(struct cli *c, const json_t *j)
{
	(void)c;
	printf("%s (%s) %s %s on %s:\n",
	    json_string_value(json_object_get(j, "user")),
	    json_string_value(json_object_get(j, "role")),
	    json_string_value(json_object_get(j, "action")),
	    json_string_value(json_object_get(j, "class"))
	        ? json_string_value(json_object_get(j, "class"))
	        : "(no class)",
	    json_string_value(json_object_get(j, "case"))
	        ? json_string_value(json_object_get(j, "case"))
	        : "(no case)");
	printf("  role policy : %s by rule %s\n",
	    json_string_value(json_object_get(j, "decision")),
	    json_string_value(json_object_get(j, "rule")));
	printf("  need-to-know: on the team: %s; request: %s; break-glass: "
	       "%s\n",
	    json_is_true(json_object_get(j, "team")) ? "yes" : "no",
	    json_string_value(json_object_get(j, "request")),
	    json_is_true(json_object_get(j, "breakglass")) ? "open" : "none");
	printf("  consent     : %s\n",
	    json_string_value(json_object_get(j, "consent")));
	printf("  verdict     : %s%s%s\n",
	    json_string_value(json_object_get(j, "decision")),
	    json_string_value(json_object_get(j, "reason"))[0] ? " - " : "",
	    json_string_value(json_object_get(j, "reason")));
}

static int
cmd_policy_explain(struct cli *c, int argc, char **argv)
{
	const char *user = NULL, *action = NULL, *cas = NULL, *cls = NULL,
	           *purpose = NULL, *pos[1];
	struct cli_opt o[] = {{"user", 0, &user, NULL},
	    {"action", 0, &action, NULL}, {"case", 0, &cas, NULL},
	    {"class", 0, &cls, NULL}, {"purpose", 0, &purpose, NULL}, {0}};
	struct cv_session *s;
	json_t *out;
	int n, r;

	/* --user here is whom to explain; log in with -u before "policy". */
	if ((r = cli_parse(c, argc, argv, o, pos, 0, 0, &n)) != 0)
		return r;
	if (user == NULL || action == NULL)
		return cli_usage(c, "--user and --action are required");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_policy_explain(s, user, action, cas, cls, purpose, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, explain_human);
}

static int
cmd_policy_deploy(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	char msg[160];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_policy_deploy(s, pos[0]);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	snprintf(msg, sizeof(msg), "deployed the policies of %s", pos[0]);
	return done(c, json_pack("{s:s}", "deployed", pos[0]), msg);
}

const struct cli_cmd cli_cmds_access[] = {
    {"consent", "grant", cmd_consent_grant,
        "consent grant CASE --to ROLE|USER --classes C1,C2 --purpose P "
        "--form REF [--until DATE] [--by guardian:NAME --relationship R "
        "--assent]",
        "Record the survivor's (or a guardian's) consent; prints its id.",
        "PURPOSE is one of counselling, medical_referral, legal_proceeding,\n"
        "police_report, social_service, deidentified_statistics. REF points\n"
        "to the signed form. A consent lasts until DATE, at most 366 days.\n"
        "On a child's case only a guardian grants, with --assent for the\n"
        "child's agreement; a guardian recorded as the alleged perpetrator\n"
        "is refused. counseling_note is shared only when named. See\n"
        "docs/consent.md."},
    {"consent", "withdraw", cmd_consent_withdraw,
        "consent withdraw CASE CONSENT",
        "Withdraw a consent; it covers nothing from that moment on.", ""},
    {"consent", "list", cmd_consent_list, "consent list CASE",
        "List the consents of a case.", ""},
    {"request", "create", cmd_request_create,
        "request create CASE --classes C1,C2 --purpose P",
        "Ask for records of a case (legal aid); prints the request id.",
        "The request waits for a supervisor or the case counsellor, who can\n"
        "approve it only when a valid consent covers the classes, the\n"
        "purpose and you."},
    {"request", "approve", cmd_request_approve,
        "request approve ID [--hours N]",
        "Approve a request for N hours (default 72).", ""},
    {"request", "deny", cmd_request_deny, "request deny ID", "Deny a request.",
        ""},
    {"request", "list", cmd_request_list, "request list",
        "Your requests, and those you may decide.", ""},
    {"request", "fetch", cmd_request_fetch, "request fetch ID",
        "Receive what an approved request covers.",
        "Only the approved classes that a valid consent still covers are\n"
        "returned; the rest is named as withheld. Each fetch is recorded\n"
        "as a disclosure with a keyed hash of every version released."},
    {"breakglass", "list", cmd_breakglass_list, "breakglass list [--all]",
        "The review queue: break-glass windows and disclosures not yet "
        "reviewed.",
        "Supervisors and auditors. The reasons are shown."},
    {"breakglass", "review", cmd_breakglass_review, "breakglass review ID",
        "Mark a break-glass window or a disclosure reviewed.", ""},
    {"breakglass", NULL, cmd_breakglass,
        "breakglass CASE --reason TEXT [--minutes N]",
        "Open an emergency window on a case you are not assigned to.",
        "For the roles the policies allow. The window lasts N minutes\n"
        "(default 60, at most 240); it lets you read what a safety decision\n"
        "needs, never counselling notes. The reason is stored encrypted;\n"
        "every access is flagged in the audit trail and the window waits\n"
        "for review."},
    {"disclose", NULL, cmd_disclose,
        "disclose CASE --classes C1,C2 --legal-basis BASIS --to KIND "
        "[--note TEXT]",
        "Disclose on a legal basis other than consent (supervisors).",
        "BASIS is one of tpks_police_report (UU 12/2022 art. 41),\n"
        "court_order, child_protection, medical_emergency, law_enforcement.\n"
        "KIND is police, court, prosecutor, health_service, social_service\n"
        "or other. The note is stored encrypted. Every disclosure is\n"
        "recorded with keyed hashes of what left and joins the review\n"
        "queue."},
    {"policy", "check", cmd_policy_check, "policy check [DIR]",
        "Parse and lint a policy directory (default ./policies).",
        "Reports files that do not parse (file:line: reason), rules that\n"
        "can never apply, and roles that can read every class. Exit 1 on\n"
        "any finding. Needs no vault."},
    {"policy", "explain", cmd_policy_explain,
        "policy explain --user U --action A [--case CASE] [--class C] "
        "[--purpose P]",
        "Show each gate's verdict for one access.",
        "Log in with -u before 'policy'; --user names whom to explain\n"
        "(yourself, or anyone for an auditor)."},
    {"policy", "deploy", cmd_policy_deploy, "policy deploy DIR",
        "Replace the vault's policies with those of DIR (admin).",
        "All files must load, or the vault keeps the policy it had. The\n"
        "deployment is audited with the old and new set hashes; every\n"
        "event carries the hash of the set in force."},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
