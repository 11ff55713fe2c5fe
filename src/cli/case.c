/* The case group: opening, listing, showing, the team, the service flow. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
opened_print(const struct cli *c, const json_t *j)
{
	(void)c;
	printf("%s\n", json_string_value(json_object_get(j, "case")));
}

int
cmd_case_open(struct cli *c)
{
	json_t *intake;
	int r;

	if (c->opt[OPT_FILE] != NULL) {
		if ((r = cli_read_json(c, c->opt[OPT_FILE], &intake)) != 0)
			return r;
		cli_arg(c, "intake", intake);
	}
	return cli_call(c, NULL, opened_print);
}

static void
members_print(const json_t *team)
{
	const json_t *m;
	size_t i;

	json_array_foreach (team, i, m)
		printf(
		    "%su%lld", i ? ", " : "", (long long)json_integer_value(m));
}

static void
time_print(const char *label, const json_t *ms)
{
	char t[CV_TIME_LEN + 1];

	if (!json_is_integer(ms))
		return;
	cv_time_format((uint64_t)json_integer_value(ms), t);
	printf("%-10s %s\n", label, t);
}

static void
cases_print(const struct cli *c, const json_t *j)
{
	const json_t *k;
	size_t i;
	char t[CV_TIME_LEN + 1];

	(void)c;
	printf("%-12s %-8s %-25s %s\n", "CASE", "STATUS", "OPENED", "TEAM");
	json_array_foreach (j, i, k) {
		cv_time_format(
		    (uint64_t)json_integer_value(json_object_get(k, "opened")),
		    t);
		printf("%-12s %-8s %-25s ",
		    json_string_value(json_object_get(k, "id")),
		    json_string_value(json_object_get(k, "status")), t);
		members_print(json_object_get(k, "team"));
		printf("\n");
	}
}

int
cmd_case_list(struct cli *c)
{
	return cli_call(c, NULL, cases_print);
}

static void
case_print(const struct cli *c, const json_t *j)
{
	const json_t *r;
	size_t i;

	printf(
	    "%-10s %s\n", "case", json_string_value(json_object_get(j, "id")));
	printf("%-10s %s\n", "status",
	    json_string_value(json_object_get(j, "status")));
	time_print("opened", json_object_get(j, "opened"));
	time_print("closed", json_object_get(j, "closed"));
	printf("%-10s ", "team");
	members_print(json_object_get(j, "team"));
	printf("\nrecords:\n");
	json_array_foreach (json_object_get(j, "records"), i, r)
		printf("  %lld  %-14s %lld version(s)\n",
		    (long long)json_integer_value(json_object_get(r, "record")),
		    json_string_value(json_object_get(r, "type")),
		    (long long)json_integer_value(
		        json_object_get(r, "versions")));
	cli_print_casework(c, j);
}

int
cmd_case_show(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	return cli_call(c, NULL, case_print);
}

/* A label of the case summary in the language of --lang. */
static const char *
label_in(const struct cli *c, const json_t *label, const char *fallback)
{
	const char *l = json_string_value(
	    json_object_get(label, cli_lang_id(c) ? "id" : "en"));

	return l != NULL ? l : fallback != NULL ? fallback : "-";
}

void
cli_print_casework(const struct cli *c, const json_t *show)
{
	const int id = cli_lang_id(c);
	const json_t *e, *series, *res;
	const char *k, *reason;
	size_t i;

	if (json_is_string(json_object_get(show, "step")))
		printf("%-10s %s\n", id ? "tahap" : "step",
		    label_in(c, json_object_get(show, "step_label"),
		        json_string_value(json_object_get(show, "step"))));
	if (json_array_size(json_object_get(show, "timeline")) > 0)
		printf("%s:\n", id ? "riwayat" : "timeline");
	json_array_foreach (json_object_get(show, "timeline"), i, e) {
		printf("  %-24.24s %s",
		    json_string_value(json_object_get(e, "at")),
		    label_in(c, json_object_get(e, "label"), NULL));
		if (json_is_integer(json_object_get(e, "record")))
			printf(" (record %lld)",
			    (long long)json_integer_value(
			        json_object_get(e, "record")));
		if (json_is_string(json_object_get(e, "by")))
			printf(
			    " %s", json_string_value(json_object_get(e, "by")));
		if ((reason = json_string_value(
		         json_object_get(e, "reason"))) != NULL)
			printf(": %s", reason);
		printf("\n");
	}
	if (json_object_size(json_object_get(show, "assessments")) > 0)
		printf("%s:\n", id ? "asesmen" : "assessments");
	json_object_foreach (
	    (json_t *)json_object_get(show, "assessments"), k, series) {
		printf("  %s:", k);
		json_array_foreach (json_object_get(series, "results"), i, res)
			printf("%s %lld (%s)", i ? "," : "",
			    (long long)json_integer_value(
			        json_object_get(res, "total")),
			    json_string_value(json_object_get(
			        res, id ? "severity_id" : "severity"))
			        ? json_string_value(json_object_get(
			              res, id ? "severity_id" : "severity"))
			        : "-");
		if (json_is_true(json_object_get(series, "worsened")))
			printf("  %s", id ? "MEMBURUK" : "WORSENED");
		printf("\n");
	}
}

static void
team_print(const struct cli *c, const json_t *j)
{
	int remove = json_object_get(j, "removed") != NULL;

	printf("%s %s %s the team of %s\n", remove ? "removed" : "added",
	    c->pos[1], remove ? "from" : "to", c->pos[0]);
}

int
cmd_case_assign(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "user", c->pos[1]);
	return cli_call(c, NULL, team_print);
}

int
cmd_case_unassign(struct cli *c)
{
	return cmd_case_assign(c); /* the same request, another name */
}

static void
stepped_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("%s is now at %s\n", c->pos[0], c->pos[1]);
}

int
cmd_case_step(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "step", c->pos[1]);
	cli_arg_str(c, "reason", c->opt[OPT_REASON]);
	return cli_call(c, NULL, stepped_print);
}

static void
closed_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("closed %s\n", c->pos[0]);
}

int
cmd_case_close(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "reason", c->opt[OPT_REASON]);
	return cli_call(c, NULL, closed_print);
}
