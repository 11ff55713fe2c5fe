/*
 * The request group: legal aid asks for classes of a case, a supervisor
 * or the case counsellor decides, the requester fetches what a consent
 * still covers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void
created_print(const struct cli *c, const json_t *j)
{
	(void)c;
	printf("%s\n", json_string_value(json_object_get(j, "request")));
}

int
cmd_request_create(struct cli *c)
{
	if (c->opt[OPT_CLASSES] == NULL || c->opt[OPT_PURPOSE] == NULL)
		return cli_usage(c, "--classes and --purpose are required");
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg(c, "classes", cli_classes(c->opt[OPT_CLASSES]));
	cli_arg_str(c, "purpose", c->opt[OPT_PURPOSE]);
	return cli_call(c, NULL, created_print);
}

static void
decided_print(const struct cli *c, const json_t *j)
{
	printf("request %s %s\n", c->pos[0],
	    json_string_value(json_object_get(j, "status")));
}

int
cmd_request_approve(struct cli *c)
{
	if (c->opt[OPT_HOURS] != NULL && cli_number(c->opt[OPT_HOURS]) == 0)
		return cli_usage(c, "--hours takes a number");
	cli_arg_str(c, "request", c->pos[0]);
	cli_arg_num(c, "hours", cli_number(c->opt[OPT_HOURS]));
	return cli_call(c, NULL, decided_print);
}

int
cmd_request_deny(struct cli *c)
{
	cli_arg_str(c, "request", c->pos[0]);
	return cli_call(c, NULL, decided_print);
}

int
cmd_request_list(struct cli *c)
{
	return cli_call(c, NULL, cli_print_list);
}

void
cli_print_released(const struct cli *c, const json_t *j)
{
	const json_t *rec, *w, *x;
	size_t i, k;

	(void)c;
	json_array_foreach (json_object_get(j, "records"), i, rec) {
		printf("record %lld version %lld (%s)\n",
		    (long long)json_integer_value(
		        json_object_get(rec, "record")),
		    (long long)json_integer_value(
		        json_object_get(rec, "version")),
		    json_string_value(json_object_get(rec, "type")));
		cli_dump(json_object_get(rec, "data"));
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

int
cmd_request_fetch(struct cli *c)
{
	cli_arg_str(c, "request", c->pos[0]);
	return cli_call(c, NULL, cli_print_released);
}
