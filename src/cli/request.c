/*
 * The request group: legal aid asks for classes of a case, a supervisor
 * or the case counsellor decides, the requester fetches what a consent
 * still covers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static int
create_call(struct cli *c, struct cv_session *s, json_t **out)
{
	char id[CV_OBJECT_ID_LEN + 1];
	int r;

	if ((r = cv_request_create(
	         s, c->pos[0], c->in, c->opt[OPT_PURPOSE], id)) == 0)
		*out = json_pack("{s:s, s:s, s:s}", "case", c->pos[0],
		    "request", id, "status", "pending");
	return r;
}

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
	if ((c->in = cli_classes(c->opt[OPT_CLASSES])) == NULL)
		return cli_fail(c, CV_ENOMEM);
	return cli_call(c, create_call, created_print);
}

static int
decide(struct cli *c, struct cv_session *s, json_t **out, int approve)
{
	int r;

	r = approve
	    ? cv_request_approve(s, c->pos[0], cli_number(c->opt[OPT_HOURS]))
	    : cv_request_deny(s, c->pos[0]);
	if (r == 0)
		*out = json_pack("{s:s, s:s}", "request", c->pos[0], "status",
		    approve ? "approved" : "denied");
	return r;
}

static int
approve_call(struct cli *c, struct cv_session *s, json_t **out)
{
	return decide(c, s, out, 1);
}

static int
deny_call(struct cli *c, struct cv_session *s, json_t **out)
{
	return decide(c, s, out, 0);
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
	return cli_call(c, approve_call, decided_print);
}

int
cmd_request_deny(struct cli *c)
{
	return cli_call(c, deny_call, decided_print);
}

static int
list_call(struct cli *c, struct cv_session *s, json_t **out)
{
	(void)c;
	return cv_request_list(s, out);
}

int
cmd_request_list(struct cli *c)
{
	return cli_call(c, list_call, cli_print_list);
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

static int
fetch_call(struct cli *c, struct cv_session *s, json_t **out)
{
	return cv_request_fetch(s, c->pos[0], out);
}

int
cmd_request_fetch(struct cli *c)
{
	return cli_call(c, fetch_call, cli_print_released);
}
