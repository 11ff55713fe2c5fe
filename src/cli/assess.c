/* casevault assess: score an instrument's answers and store the result. */
#include <stdio.h>

#include "cli.h"

static void
assess_print(const struct cli *c, const json_t *j)
{
	const char *sev = json_string_value(json_object_get(j, "severity"));
	const char *sev_id =
	    json_string_value(json_object_get(j, "severity_id"));

	printf("record   %lld\n",
	    (long long)json_integer_value(json_object_get(j, "record")));
	if (json_object_get(j, "record_version") != NULL)
		printf("version  %lld\n",
		    (long long)json_integer_value(
		        json_object_get(j, "record_version")));
	printf("total    %lld\n",
	    (long long)json_integer_value(json_object_get(j, "total")));
	printf("severity %s\n",
	    cli_lang_id(c) && sev_id != NULL ? sev_id
	        : sev != NULL                ? sev
	                                     : "-");
}

int
cmd_assess(struct cli *c)
{
	json_t *answers;
	int r;

	if (c->opt[OPT_RECORD] != NULL && cli_number(c->opt[OPT_RECORD]) == 0)
		return cli_usage(c, "--record takes a record number");
	if ((r = cli_read_json(c, c->opt[OPT_FILE], &answers)) != 0)
		return r;
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "instrument", c->pos[1]);
	cli_arg(c, "answers", answers);
	/* --record N: the record's next version, scored again. */
	cli_arg_num(c, "record", cli_number(c->opt[OPT_RECORD]));
	return cli_call(c, NULL, assess_print);
}
