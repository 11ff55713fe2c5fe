/* The breakglass group: emergency windows on a case, and their review. */
#include <stdio.h>

#include "cli.h"

static int
open_call(struct cli *c, struct cv_session *s, json_t **out)
{
	unsigned m = cli_number(c->opt[OPT_MINUTES]);
	char id[CV_OBJECT_ID_LEN + 1];
	int r;

	if (m == 0)
		m = CV_BREAKGLASS_MINUTES_DEFAULT;
	if ((r = cv_breakglass_open(s, c->pos[0], c->opt[OPT_REASON], m, id)) ==
	    0)
		*out = json_pack("{s:s, s:s, s:I}", "case", c->pos[0],
		    "breakglass", id, "minutes", (json_int_t)m);
	return r;
}

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
	return cli_call(c, open_call, opened_print);
}

static int
list_call(struct cli *c, struct cv_session *s, json_t **out)
{
	return cv_breakglass_list(
	    s, c->opt[OPT_ALL] != NULL ? CV_BREAKGLASS_ALL : 0, out);
}

int
cmd_breakglass_list(struct cli *c)
{
	return cli_call(c, list_call, cli_print_list);
}

static int
review_call(struct cli *c, struct cv_session *s, json_t **out)
{
	int r;

	if ((r = cv_breakglass_review(s, c->pos[0])) == 0)
		*out = json_pack("{s:s}", "reviewed", c->pos[0]);
	return r;
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
	return cli_call(c, review_call, reviewed_print);
}
