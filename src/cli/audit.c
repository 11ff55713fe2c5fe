/* The audit group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/util.h"

static void
verify_human(struct cli *c, const json_t *j)
{
	(void)c;
	if (json_is_true(json_object_get(j, "offline"))) {
		printf("audit trail %s: %lld commits, %lld events, head %s "
		       "(signatures and roots only)\n",
		    json_is_true(json_object_get(j, "ok")) ? "verified"
		                                           : "FAILED",
		    (long long)json_integer_value(
		        json_object_get(j, "commits")),
		    (long long)json_integer_value(json_object_get(j, "events")),
		    json_string_value(json_object_get(j, "head")));
		return;
	}
	printf("audit trail %s: %lld commits, %lld events, head %s; "
	       "%lld record versions each have their event\n",
	    json_is_true(json_object_get(j, "ok")) ? "verified" : "FAILED",
	    (long long)json_integer_value(json_object_get(j, "commits")),
	    (long long)json_integer_value(json_object_get(j, "events")),
	    json_string_value(json_object_get(j, "head")),
	    (long long)json_integer_value(
	        json_object_get(j, "record_versions")));
}

int
cmd_audit_verify(struct cli *c, int argc, char **argv)
{
	const char *from = NULL, *pos[1];
	struct cli_opt o[] = {{"from", 0, &from, NULL}, {0}};
	struct cv_session *s;
	json_t *out = NULL;
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 0, 0, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0) {
		/*
		 * A trail that cannot be written refuses every login, the
		 * auditor's too; its signatures and roots can still be
		 * checked with the public key alone.
		 */
		if (c->session_err != CV_EAUDIT)
			return r;
		fprintf(stderr,
		    "casevault %s: verifying without logging in "
		    "(no store cross-check)\n",
		    c->name);
		r = cv_audit_verify_offline(c->vault, from, &out);
	} else {
		r = cv_audit_verify(s, from, &out);
		cv_session_close(s);
	}
	if (r == CV_EVERIFY && out != NULL) {
		if (c->json)
			cli_out(c, out, NULL);
		else
			json_decref(out);
		return cli_fail(c, r);
	}
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, verify_human);
}

static void
log_human(struct cli *c, const json_t *j)
{
	const json_t *ev, *v;
	const char *k;
	size_t i;

	(void)c;
	json_array_foreach (j, i, ev) {
		printf("%6lld %s %-5s %-16s %s",
		    (long long)json_integer_value(json_object_get(ev, "seq")),
		    json_string_value(json_object_get(ev, "time")),
		    json_string_value(json_object_get(ev, "decision"))
		        ? json_string_value(json_object_get(ev, "decision"))
		        : "-",
		    json_string_value(json_object_get(ev, "action")),
		    json_string_value(json_object_get(ev, "actor")));
		json_object_foreach ((json_t *)ev, k, v) {
			if (strcmp(k, "seq") == 0 || strcmp(k, "time") == 0 ||
			    strcmp(k, "decision") == 0 ||
			    strcmp(k, "action") == 0 ||
			    strcmp(k, "actor") == 0 ||
			    strcmp(k, "session") == 0 ||
			    strcmp(k, "policy") == 0)
				continue;
			if (json_is_string(v)) {
				printf(" %s=%s", k, json_string_value(v));
			} else {
				char *d = json_dumps(
				    v, JSON_COMPACT | JSON_ENCODE_ANY);
				printf(" %s=%s", k, d ? d : "?");
				free(d);
			}
		}
		printf("\n");
	}
}

int
cmd_audit_log(struct cli *c, int argc, char **argv)
{
	const char *cas = NULL, *actor = NULL, *since = NULL, *pos[1];
	int bg = 0, n, r;
	struct cli_opt o[] = {{"case", 0, &cas, NULL},
	    {"actor", 0, &actor, NULL}, {"since", 0, &since, NULL},
	    {"breakglass", 0, NULL, &bg}, {0}};
	struct cv_session *s;
	uint64_t ms = 0;
	json_t *out;

	if ((r = cli_parse(c, argc, argv, o, pos, 0, 0, &n)) != 0)
		return r;
	if (since != NULL && cv_parse_time(since, &ms) != 0)
		return cli_usage(c,
		    "--since takes YYYY-MM-DD or "
		    "YYYY-MM-DDTHH:MM[:SS]Z");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_audit_log(s, cas, actor, ms, bg, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, log_human);
}

int
cmd_audit_pseudonym(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	char p[33];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_audit_pseudonym(s, pos[0], p);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (c->json)
		return cli_out(c,
		    json_pack("{s:s, s:s}", "case", pos[0], "pseudonym", p),
		    NULL);
	printf("%s\n", p);
	return EXIT_OK;
}

int
cmd_audit_push(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_audit_push(s, pos[0]);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (c->json)
		return cli_out(c, json_pack("{s:s}", "pushed", pos[0]), NULL);
	printf("audit trail pushed to %s\n", pos[0]);
	return EXIT_OK;
}
