/* The case group. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "base/util.h"

/* One session, one call, one close: the shape of most case commands. */
static int
with_session(
    struct cli *c, int (*fn)(struct cv_session *s, void *arg), void *arg)
{
	struct cv_session *s;
	int r;

	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = fn(s, arg);
	cv_session_close(s);
	return r == 0 ? 0 : cli_fail(c, r);
}

struct open_arg {
	json_t *intake;
	char id[CV_CASE_ID_LEN + 1];
};

static int
do_open(struct cv_session *s, void *arg)
{
	struct open_arg *a = arg;

	return cv_case_open(s, a->intake, a->id);
}

int
cmd_case_open(struct cli *c, int argc, char **argv)
{
	const char *file = NULL, *pos[1];
	struct cli_opt o[] = {{"file", 'f', &file, NULL}, {0}};
	struct open_arg a = {NULL, ""};
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 0, 0, &n)) != 0)
		return r;
	if (file != NULL && (r = cli_read_json(c, file, &a.intake)) != 0)
		return r;
	r = with_session(c, do_open, &a);
	json_decref(a.intake);
	if (r != 0)
		return r;
	if (c->json)
		return cli_out(c, json_pack("{s:s}", "case", a.id), NULL);
	printf("%s\n", a.id);
	return EXIT_OK;
}

static void
team_print(const json_t *team)
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
	char t[25];

	if (!json_is_integer(ms))
		return;
	cv_format_time((uint64_t)json_integer_value(ms), t);
	printf("%-10s %s\n", label, t);
}

static void
cases_human(struct cli *c, const json_t *j)
{
	const json_t *k;
	size_t i;
	char t[25];

	(void)c;
	printf("%-12s %-8s %-25s %s\n", "CASE", "STATUS", "OPENED", "TEAM");
	json_array_foreach (j, i, k) {
		cv_format_time(
		    (uint64_t)json_integer_value(json_object_get(k, "opened")),
		    t);
		printf("%-12s %-8s %-25s ",
		    json_string_value(json_object_get(k, "id")),
		    json_string_value(json_object_get(k, "status")), t);
		team_print(json_object_get(k, "team"));
		printf("\n");
	}
}

static int
do_list(struct cv_session *s, void *arg)
{
	return cv_case_list(s, (json_t **)arg);
}

int
cmd_case_list(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	json_t *out = NULL;
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 0, 0, &n)) != 0)
		return r;
	if ((r = with_session(c, do_list, &out)) != 0)
		return r;
	return cli_out(c, out, cases_human);
}

static void
case_human(struct cli *c, const json_t *j)
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
	team_print(json_object_get(j, "team"));
	printf("\nrecords:\n");
	json_array_foreach (json_object_get(j, "records"), i, r)
		printf("  %lld  %-14s %lld version(s)\n",
		    (long long)json_integer_value(json_object_get(r, "record")),
		    json_string_value(json_object_get(r, "type")),
		    (long long)json_integer_value(
		        json_object_get(r, "versions")));
	cli_casework_print(c, j);
}

int
cmd_case_show(struct cli *c, int argc, char **argv)
{
	return cli_case_query(c, argc, argv, cv_case_show, case_human);
}

struct assign_arg {
	const char *id, *user;
	int remove;
};

static int
do_assign(struct cv_session *s, void *arg)
{
	struct assign_arg *a = arg;

	return cv_case_assign(s, a->id, a->user, a->remove);
}

static int
assign(struct cli *c, int argc, char **argv, int remove)
{
	struct assign_arg a;
	const char *pos[2];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 2, 2, &n)) != 0)
		return r;
	a.id = pos[0];
	a.user = pos[1];
	a.remove = remove;
	if ((r = with_session(c, do_assign, &a)) != 0)
		return r;
	if (c->json)
		return cli_out(c,
		    json_pack("{s:s, s:s, s:s}", "case", a.id,
		        remove ? "removed" : "added", a.user),
		    NULL);
	printf("%s %s %s the team of %s\n", remove ? "removed" : "added",
	    a.user, remove ? "from" : "to", a.id);
	return EXIT_OK;
}

int
cmd_case_assign(struct cli *c, int argc, char **argv)
{
	return assign(c, argc, argv, 0);
}

int
cmd_case_unassign(struct cli *c, int argc, char **argv)
{
	return assign(c, argc, argv, 1);
}

static int
do_close(struct cv_session *s, void *arg)
{
	return cv_case_close(s, arg);
}

int
cmd_case_close(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = with_session(c, do_close, (void *)pos[0])) != 0)
		return r;
	if (c->json)
		return cli_out(c, json_pack("{s:s}", "closed", pos[0]), NULL);
	printf("closed %s\n", pos[0]);
	return EXIT_OK;
}

static int
do_erase(struct cv_session *s, void *arg)
{
	return cv_case_erase(s, arg);
}

int
cmd_erase(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = with_session(c, do_erase, (void *)pos[0])) != 0)
		return r;
	if (c->json)
		return cli_out(c, json_pack("{s:s}", "erased", pos[0]), NULL);
	printf("erased %s: its key and records are destroyed\n", pos[0]);
	return EXIT_OK;
}

static int
do_backup(struct cv_session *s, void *arg)
{
	return cv_vault_backup(s, arg);
}

int
cmd_backup(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = with_session(c, do_backup, (void *)pos[0])) != 0)
		return r;
	if (c->json)
		return cli_out(c, json_pack("{s:s}", "backup", pos[0]), NULL);
	printf("backed up to %s\n", pos[0]);
	return EXIT_OK;
}

static int
do_rotate(struct cv_session *s, void *arg)
{
	(void)arg;
	return cv_key_rotate(s);
}

int
cmd_key_rotate(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 0, 0, &n)) != 0)
		return r;
	if ((r = with_session(c, do_rotate, NULL)) != 0)
		return r;
	if (c->json)
		return cli_out(c, json_pack("{s:b}", "rotated", 1), NULL);
	printf("key-encryption key rotated; every case key re-wrapped\n");
	return EXIT_OK;
}
