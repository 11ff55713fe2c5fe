/* The audit group: verify the trail, list its events, mirror it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
verify_print(const struct cli *c, const json_t *j)
{
	const char *signer = json_string_value(json_object_get(j, "signer"));
	int pinned = signer != NULL && strcmp(signer, "pinned") == 0;

	printf("audit trail %s against %s: %lld commits, %lld events, "
	       "head %s",
	    json_is_true(json_object_get(j, "ok")) ? "checked" : "FAILED",
	    pinned ? "the pinned signer"
	           : "the vault's own key (not a pinned signer)",
	    (long long)json_integer_value(json_object_get(j, "commits")),
	    (long long)json_integer_value(json_object_get(j, "events")),
	    json_string_value(json_object_get(j, "head")));
	if (json_is_true(json_object_get(j, "offline")))
		printf(" (signatures and roots only)\n");
	else
		printf("; %lld record versions each have their event\n",
		    (long long)json_integer_value(
		        json_object_get(j, "record_versions")));
	if (!pinned)
		fprintf(stderr,
		    "casevault %s: to check the signer too, pin it: "
		    "--allowed-signers FILE\n",
		    c->name);
}

/*
 * Not cli_call: a failed login can still lead to a verification, made
 * here without a session (so not through the dispatcher), from the vault's
 * files and a public key alone.
 */
int
cmd_audit_verify(struct cli *c)
{
	const char *from = c->opt[OPT_FROM];
	const char *pinned = c->opt[OPT_ALLOWED_SIGNERS];
	json_t *out = NULL;
	int r;

	cli_arg_str(c, "from", from);
	cli_arg_str(c, "allowed_signers", pinned);
	if ((r = cli_run(c, NULL, &out)) > 0) {
		/*
		 * A trail that cannot be written refuses every login, the
		 * auditor's too, and so does a vault whose signer changed;
		 * its signatures and roots can still be checked with a
		 * public key alone. Only the vault on this machine: a daemon's
		 * client has no files to check.
		 */
		if (c->session_err != CV_EAUDIT && c->session_err != CV_ECRYPTO)
			return r;
		fprintf(stderr,
		    "casevault %s: verifying without logging in "
		    "(no store cross-check)\n",
		    c->name);
		r = cv_audit_verify_offline(
		    c->opt[OPT_VAULT], from, pinned, &out);
	}
	return cli_result(c, r, out, verify_print);
}

static void
log_print(const struct cli *c, const json_t *j)
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
				printf(" %s=", k);
				json_dumpf(
				    v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
			}
		}
		printf("\n");
	}
}

int
cmd_audit_log(struct cli *c)
{
	uint64_t ms;

	if (c->opt[OPT_SINCE] != NULL &&
	    cv_time_parse(c->opt[OPT_SINCE], &ms) != 0)
		return cli_usage(c,
		    "--since takes YYYY-MM-DD or "
		    "YYYY-MM-DDTHH:MM[:SS]Z");
	cli_arg_str(c, "case", c->opt[OPT_CASE]);
	cli_arg_str(c, "actor", c->opt[OPT_ACTOR]);
	cli_arg_str(c, "since", c->opt[OPT_SINCE]);
	cli_arg_flag(c, "breakglass", c->opt[OPT_BREAKGLASS] != NULL);
	return cli_call(c, NULL, log_print);
}

static void
pseudonym_print(const struct cli *c, const json_t *j)
{
	(void)c;
	printf("%s\n", json_string_value(json_object_get(j, "pseudonym")));
}

int
cmd_audit_pseudonym(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	return cli_call(c, NULL, pseudonym_print);
}

static void
pushed_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("audit trail pushed to %s\n", c->pos[0]);
}

int
cmd_audit_push(struct cli *c)
{
	cli_arg_str(c, "remote", c->pos[0]);
	return cli_call(c, NULL, pushed_print);
}
