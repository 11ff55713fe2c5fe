/* The record group: add, show, amend and the history of a record. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static int
add_call(struct cli *c, struct cv_session *s, json_t **out)
{
	uint32_t id;
	int r;

	if ((r = cv_record_add(s, c->pos[0], c->opt[OPT_TYPE], c->in, &id)) ==
	    0)
		*out = json_pack("{s:s, s:I, s:I}", "case", c->pos[0], "record",
		    (json_int_t)id, "version", (json_int_t)1);
	return r;
}

int
cmd_record_add(struct cli *c)
{
	int r;

	if (c->opt[OPT_TYPE] == NULL)
		return cli_usage(c, "--type TYPE is required");
	if ((r = cli_read_json(c, c->opt[OPT_FILE], &c->in)) != 0)
		return r;
	return cli_call(c, add_call, cli_print_record_id);
}

static void
record_print(const json_t *rec)
{
	const json_t *w = json_object_get(rec, "withheld"), *x;
	size_t i;

	printf("case %s  record %lld  version %lld  type %s  author u%lld  "
	       "%s%s\n",
	    json_string_value(json_object_get(rec, "case")),
	    (long long)json_integer_value(json_object_get(rec, "record")),
	    (long long)json_integer_value(json_object_get(rec, "version")),
	    json_string_value(json_object_get(rec, "type")),
	    (long long)json_integer_value(json_object_get(rec, "author")),
	    json_string_value(json_object_get(rec, "time")),
	    json_is_true(json_object_get(rec, "breakglass")) ? "  [BREAK-GLASS]"
	                                                     : "");
	cli_dump(json_object_get(rec, "data"));
	if (json_array_size(w) > 0) {
		printf("withheld (not allowed for you): ");
		json_array_foreach (w, i, x)
			printf("%s%s", i ? ", " : "", json_string_value(x));
		printf("\n");
	}
}

static void
records_print(const struct cli *c, const json_t *j)
{
	const json_t *rec;
	size_t i;

	(void)c;
	if (json_is_object(j)) {
		record_print(j);
		return;
	}
	json_array_foreach (j, i, rec) {
		if (i > 0)
			printf("\n");
		record_print(rec);
	}
}

/* With --lang, show each enumeration value with its label. */
static void
localize(const struct cli *c, json_t *rec)
{
	json_t *l;

	if (cv_record_localize(json_string_value(json_object_get(rec, "type")),
	        json_object_get(rec, "data"), c->opt[OPT_LANG], &l) == 0)
		json_object_set_new(rec, "data", l);
}

static int
show_call(struct cli *c, struct cv_session *s, json_t **out)
{
	json_t *rec;
	size_t i;
	int r;

	if (c->npos == 2)
		r = cv_record_show(s, c->pos[0], cli_number(c->pos[1]),
		    cli_number(c->opt[OPT_VERSION]), c->opt[OPT_PURPOSE], out);
	else
		r = cv_record_list(s, c->pos[0], c->opt[OPT_PURPOSE], out);
	if (r != 0 || c->opt[OPT_LANG] == NULL)
		return r;
	if (json_is_object(*out))
		localize(c, *out);
	json_array_foreach (*out, i, rec)
		localize(c, rec);
	return 0;
}

int
cmd_record_show(struct cli *c)
{
	const char *version = c->opt[OPT_VERSION];

	if (c->npos == 2 && cli_number(c->pos[1]) == 0)
		return cli_usage(c, "RECORD is a record number");
	if (version != NULL && (cli_number(version) == 0 || c->npos < 2))
		return cli_usage(c, "--version takes a number and a RECORD");
	return cli_call(c, show_call, records_print);
}

static int
amend_call(struct cli *c, struct cv_session *s, json_t **out)
{
	unsigned rid = cli_number(c->pos[1]);
	uint32_t ver;
	int r;

	if ((r = cv_record_amend(s, c->pos[0], rid, c->in, &ver)) == 0)
		*out = json_pack("{s:s, s:I, s:I}", "case", c->pos[0], "record",
		    (json_int_t)rid, "version", (json_int_t)ver);
	return r;
}

static void
amended_print(const struct cli *c, const json_t *j)
{
	printf("record %lld of %s is now at version %lld\n",
	    (long long)json_integer_value(json_object_get(j, "record")),
	    c->pos[0],
	    (long long)json_integer_value(json_object_get(j, "version")));
}

int
cmd_record_amend(struct cli *c)
{
	int r;

	if (cli_number(c->pos[1]) == 0)
		return cli_usage(c, "RECORD is a record number");
	if ((r = cli_read_json(c, c->opt[OPT_FILE], &c->in)) != 0)
		return r;
	return cli_call(c, amend_call, amended_print);
}

static int
history_call(struct cli *c, struct cv_session *s, json_t **out)
{
	return cv_record_history(s, c->pos[0], cli_number(c->pos[1]), out);
}

static void
history_print(const struct cli *c, const json_t *j)
{
	const json_t *v;
	size_t i;

	(void)c;
	printf(
	    "%-8s %-25s %-8s %s\n", "VERSION", "TIME", "AUTHOR", "AUDIT EVENT");
	json_array_foreach (j, i, v)
		printf("%-8lld %-25s u%-7lld %lld\n",
		    (long long)json_integer_value(
		        json_object_get(v, "version")),
		    json_string_value(json_object_get(v, "time")),
		    (long long)json_integer_value(json_object_get(v, "author")),
		    (long long)json_integer_value(
		        json_object_get(v, "audit_seq")));
}

int
cmd_record_history(struct cli *c)
{
	if (cli_number(c->pos[1]) == 0)
		return cli_usage(c, "RECORD is a record number");
	return cli_call(c, history_call, history_print);
}
