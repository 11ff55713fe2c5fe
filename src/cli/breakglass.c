/* The breakglass group: emergency windows on a case, and their review. */
#include <stdio.h>

#include "cli.h"

static void
opened_print(const struct cli *c, const json_t *j)
{
	printf("break-glass window %s open on %s for %lld minutes; every "
	       "access is flagged and will be reviewed\n",
	    json_string_value(json_object_get(j, "breakglass")), c->pos[0],
	    (long long)json_integer_value(json_object_get(j, "minutes")));
}

int
cmd_breakglass(struct cli *c)
{
	if (c->opt[OPT_REASON] == NULL)
		return cli_usage(c, "--reason TEXT is required");
	if (c->opt[OPT_MINUTES] != NULL && cli_number(c->opt[OPT_MINUTES]) == 0)
		return cli_usage(c, "--minutes takes a number");
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "reason", c->opt[OPT_REASON]);
	cli_arg_num(c, "minutes", cli_number(c->opt[OPT_MINUTES]));
	return cli_call(c, NULL, opened_print);
}

int
cmd_breakglass_list(struct cli *c)
{
	cli_arg_flag(c, "all", c->opt[OPT_ALL] != NULL);
	return cli_call(c, NULL, cli_print_list);
}

static void
reviewed_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("%s marked reviewed\n", c->pos[0]);
}

int
cmd_breakglass_review(struct cli *c)
{
	cli_arg_str(c, "id", c->pos[0]);
	return cli_call(c, NULL, reviewed_print);
}
