/* The record group: add, show, amend and the history of a record. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int
cmd_record_add(struct cli *c)
{
	json_t *input;
	int r;

	if (c->opt[OPT_TYPE] == NULL)
		return cli_usage(c, "--type TYPE is required");
	if ((r = cli_read_json(c, c->opt[OPT_FILE], &input)) != 0)
		return r;
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "type", c->opt[OPT_TYPE]);
	cli_arg(c, "input", input);
	return cli_call(c, NULL, cli_print_record_id);
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

/*
 * With --lang, show each enumeration value with its label: the request is
 * the same in every language, and the labels are the command's to add.
 */
static void
localize(const struct cli *c, json_t *rec)
{
	json_t *l;

	if (cv_record_localize(json_string_value(json_object_get(rec, "type")),
	        json_object_get(rec, "data"), c->opt[OPT_LANG], &l) == 0)
		json_object_set_new(rec, "data", l);
}

int
cmd_record_show(struct cli *c)
{
	const char *version = c->opt[OPT_VERSION];
	json_t *out, *rec;
	size_t i;
	int r;

	if (c->npos == 2 && cli_number(c->pos[1]) == 0)
		return cli_usage(c, "RECORD is a record number");
	if (version != NULL && (cli_number(version) == 0 || c->npos < 2))
		return cli_usage(c, "--version takes a number and a RECORD");
	cli_arg_str(c, "case", c->pos[0]);
	if (c->npos == 2)
		cli_arg_num(c, "record", cli_number(c->pos[1]));
	cli_arg_num(c, "version", cli_number(version));
	cli_arg_str(c, "purpose", c->opt[OPT_PURPOSE]);
	if ((r = cli_run(c, NULL, &out)) == 0 && c->opt[OPT_LANG] != NULL) {
		if (json_is_object(out))
			localize(c, out);
		json_array_foreach (out, i, rec)
			localize(c, rec);
	}
	return cli_result(c, r, out, records_print);
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
	json_t *input;
	int r;

	if (cli_number(c->pos[1]) == 0)
		return cli_usage(c, "RECORD is a record number");
	if ((r = cli_read_json(c, c->opt[OPT_FILE], &input)) != 0)
		return r;
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_num(c, "record", cli_number(c->pos[1]));
	cli_arg(c, "input", input);
	return cli_call(c, NULL, amended_print);
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
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_num(c, "record", cli_number(c->pos[1]));
	return cli_call(c, NULL, history_print);
}
