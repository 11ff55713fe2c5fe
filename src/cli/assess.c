/* casevault assess: score an instrument's answers and store the result. */
#include <stdio.h>

#include "cli.h"

static int
assess_call(struct cli *c, struct cv_session *s, json_t **out)
{
	uint32_t id;
	int r;

	if ((r = cv_assessment_add(s, c->pos[0], c->pos[1], c->in, out, &id)) ==
	    0) {
		json_object_set_new(*out, "case", json_string(c->pos[0]));
		json_object_set_new(*out, "record", json_integer(id));
	}
	return r;
}

static void
assess_print(const struct cli *c, const json_t *j)
{
	const char *sev = json_string_value(json_object_get(j, "severity"));
	const char *sev_id =
	    json_string_value(json_object_get(j, "severity_id"));

	printf("record   %lld\n",
	    (long long)json_integer_value(json_object_get(j, "record")));
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
	int r;

	if ((r = cli_read_json(c, c->opt[OPT_FILE], &c->in)) != 0)
		return r;
	return cli_call(c, assess_call, assess_print);
}
