/* The record group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cmd_record_add(struct cli *c, int argc, char **argv)
{
	const char *type = NULL, *file = NULL, *pos[1];
	struct cli_opt o[] = {
	    {"type", 't', &type, NULL}, {"file", 'f', &file, NULL}, {0}};
	struct cv_session *s;
	json_t *data;
	uint32_t id;
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 1, &n)) != 0)
		return r;
	if (type == NULL)
		return cli_usage(c, "--type TYPE is required");
	if ((r = cli_read_json(c, file, &data)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0) {
		json_decref(data);
		return r;
	}
	r = cv_record_add(s, pos[0], type, data, &id);
	json_decref(data);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (c->json)
		return cli_out(c,
		    json_pack("{s:s, s:I, s:I}", "case", pos[0], "record",
		        (json_int_t)id, "version", (json_int_t)1),
		    NULL);
	printf("%u\n", (unsigned)id);
	return EXIT_OK;
}

static void
record_print(const json_t *rec)
{
	const json_t *w = json_object_get(rec, "withheld"), *x;
	char *data;
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
	data = json_dumps(
	    json_object_get(rec, "data"), JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", data ? data : "{}");
	free(data);
	if (json_array_size(w) > 0) {
		printf("withheld (not allowed for you): ");
		json_array_foreach (w, i, x)
			printf("%s%s", i ? ", " : "", json_string_value(x));
		printf("\n");
	}
}

static void
records_human(struct cli *c, const json_t *j)
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
localize_one(struct cli *c, json_t *rec)
{
	json_t *l;

	if (cv_record_localize(json_string_value(json_object_get(rec, "type")),
	        json_object_get(rec, "data"), c->lang, &l) == 0)
		json_object_set_new(rec, "data", l);
}

static void
localize_all(struct cli *c, json_t *out)
{
	json_t *rec;
	size_t i;

	if (json_is_object(out))
		localize_one(c, out);
	json_array_foreach (out, i, rec)
		localize_one(c, rec);
}

int
cmd_record_show(struct cli *c, int argc, char **argv)
{
	const char *purpose = NULL, *version = NULL, *pos[2];
	struct cli_opt o[] = {{"purpose", 0, &purpose, NULL},
	    {"version", 0, &version, NULL}, {0}};
	struct cv_session *s;
	unsigned rid = 0, ver = 0;
	json_t *out;
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 2, &n)) != 0)
		return r;
	if (n == 2 && (rid = cli_number(pos[1])) == 0)
		return cli_usage(c, "RECORD is a record number");
	if (version != NULL && ((ver = cli_number(version)) == 0 || n < 2))
		return cli_usage(c, "--version takes a number and a RECORD");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	if (n == 2)
		r = cv_record_show(s, pos[0], rid, ver, purpose, &out);
	else
		r = cv_record_list(s, pos[0], purpose, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (c->lang != NULL)
		localize_all(c, out);
	return cli_out(c, out, records_human);
}

int
cmd_record_amend(struct cli *c, int argc, char **argv)
{
	const char *file = NULL, *pos[2];
	struct cli_opt o[] = {{"file", 'f', &file, NULL}, {0}};
	struct cv_session *s;
	uint32_t ver;
	unsigned rid;
	json_t *data;
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 2, 2, &n)) != 0)
		return r;
	if ((rid = cli_number(pos[1])) == 0)
		return cli_usage(c, "RECORD is a record number");
	if ((r = cli_read_json(c, file, &data)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0) {
		json_decref(data);
		return r;
	}
	r = cv_record_amend(s, pos[0], rid, data, &ver);
	json_decref(data);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (c->json)
		return cli_out(c,
		    json_pack("{s:s, s:I, s:I}", "case", pos[0], "record",
		        (json_int_t)rid, "version", (json_int_t)ver),
		    NULL);
	printf("record %u of %s is now at version %u\n", rid, pos[0],
	    (unsigned)ver);
	return EXIT_OK;
}

static void
history_human(struct cli *c, const json_t *j)
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
cmd_record_history(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[2];
	unsigned rid;
	json_t *out;
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 2, 2, &n)) != 0)
		return r;
	if ((rid = cli_number(pos[1])) == 0)
		return cli_usage(c, "RECORD is a record number");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_record_history(s, pos[0], rid, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, history_human);
}
