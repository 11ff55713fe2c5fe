/* The policy group: lint a directory, explain a verdict, deploy. */
#include <stdio.h>

#include "cli.h"

static void
check_print(const struct cli *c, const json_t *j)
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

/*
 * Needs no vault: the lint reads only the directory, here, so it is not a
 * request of the dispatcher.
 */
int
cmd_policy_check(struct cli *c)
{
	json_t *out = NULL;
	int r;

	if ((r = cv_policy_check(c->npos ? c->pos[0] : "policies", &out)) ==
	        0 &&
	    json_array_size(json_object_get(out, "findings")) > 0)
		r = EXIT_REFUSED;
	return cli_result(c, r, out, check_print);
}

static void
explain_print(const struct cli *c, const json_t *j)
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

/* --user here is whom to explain; log in with -u before "policy". */
int
cmd_policy_explain(struct cli *c)
{
	if (c->opt[OPT_WHO] == NULL || c->opt[OPT_ACTION] == NULL)
		return cli_usage(c, "--user and --action are required");
	cli_arg_str(c, "user", c->opt[OPT_WHO]);
	cli_arg_str(c, "action", c->opt[OPT_ACTION]);
	cli_arg_str(c, "case", c->opt[OPT_CASE]);
	cli_arg_str(c, "class", c->opt[OPT_CLASS]);
	cli_arg_str(c, "purpose", c->opt[OPT_PURPOSE]);
	return cli_call(c, NULL, explain_print);
}

static void
deployed_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("deployed the policies of %s\n", c->pos[0]);
}

int
cmd_policy_deploy(struct cli *c)
{
	cli_arg_str(c, "dir", c->pos[0]);
	return cli_call(c, NULL, deployed_print);
}
