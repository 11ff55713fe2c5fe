/* casevault init, and the user group. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int
new_pass(struct cli *c, const char *who, char **pass, size_t *len)
{
	char prompt[128];
	int r;

	snprintf(prompt, sizeof(prompt), "New passphrase for %s: ", who);
	if ((r = cli_pass_read(c->newpassfile, prompt, 1, pass, len)) != 0)
		return cli_fail(c, r);
	if (*len < CV_PASSPHRASE_MIN) {
		fprintf(stderr,
		    "casevault %s: a passphrase needs at least %d "
		    "characters\n",
		    c->name, CV_PASSPHRASE_MIN);
		cli_pass_free(*pass);
		*pass = NULL;
		return EXIT_REFUSED;
	}
	return 0;
}

int
cmd_init(struct cli *c, int argc, char **argv)
{
	const char *admin = NULL, *pos[1];
	struct cli_opt o[] = {{"admin", 0, &admin, NULL}, {0}};
	struct cv_session *s;
	char *pass;
	size_t len;
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 1, &n)) != 0)
		return r;
	if (admin == NULL)
		return cli_usage(c, "--admin NAME is required");
	if ((r = new_pass(c, admin, &pass, &len)) != 0)
		return r;
	r = cv_vault_create(pos[0], admin, pass, len, &s);
	cli_pass_free(pass);
	if (r != 0)
		return cli_fail(c, r);
	cv_session_close(s);
	if (c->json)
		return cli_out(c,
		    json_pack("{s:s, s:s}", "vault", pos[0], "admin", admin),
		    NULL);
	printf("initialised vault %s, administrator %s\n", pos[0], admin);
	return EXIT_OK;
}

int
cmd_user_add(struct cli *c, int argc, char **argv)
{
	const char *role = NULL, *pos[1];
	int trained = 0, n, r;
	struct cli_opt o[] = {
	    {"role", 0, &role, NULL}, {"trained", 0, NULL, &trained}, {0}};
	struct cv_session *s;
	char *pass;
	size_t len;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 1, &n)) != 0)
		return r;
	if (role == NULL)
		return cli_usage(c, "--role ROLE is required");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	if ((r = new_pass(c, pos[0], &pass, &len)) != 0) {
		cv_session_close(s);
		return r;
	}
	r = cv_user_add(s, pos[0], role, trained, pass, len);
	cli_pass_free(pass);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (c->json)
		return cli_out(c,
		    json_pack("{s:s, s:s, s:b}", "name", pos[0], "role", role,
		        "trained", trained),
		    NULL);
	printf("added %s (%s%s)\n", pos[0], role, trained ? ", trained" : "");
	return EXIT_OK;
}

static void
users_human(struct cli *c, const json_t *j)
{
	const json_t *u;
	size_t i;

	(void)c;
	printf("%-4s %-20s %-14s %-8s %s\n", "ID", "NAME", "ROLE", "TRAINED",
	    "STATE");
	json_array_foreach (j, i, u)
		printf("%-4lld %-20s %-14s %-8s %s\n",
		    (long long)json_integer_value(json_object_get(u, "id")),
		    json_string_value(json_object_get(u, "name")),
		    json_string_value(json_object_get(u, "role")),
		    json_is_true(json_object_get(u, "trained")) ? "yes" : "no",
		    json_is_true(json_object_get(u, "disabled")) ? "disabled"
		                                                 : "active");
}

int
cmd_user_list(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	json_t *out;
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 0, 0, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_user_list(s, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, users_human);
}

int
cmd_user_passwd(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	char *pass;
	size_t len;
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	if ((r = new_pass(c, pos[0], &pass, &len)) != 0) {
		cv_session_close(s);
		return r;
	}
	r = cv_user_passwd(s, pos[0], pass, len);
	cli_pass_free(pass);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (!c->json)
		printf("passphrase of %s changed\n", pos[0]);
	else
		return cli_out(c, json_pack("{s:s}", "changed", pos[0]), NULL);
	return EXIT_OK;
}

int
cmd_user_disable(struct cli *c, int argc, char **argv)
{
	struct cv_session *s;
	const char *pos[1];
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_user_disable(s, pos[0]);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (c->json)
		return cli_out(c, json_pack("{s:s}", "disabled", pos[0]), NULL);
	printf("disabled %s\n", pos[0]);
	return EXIT_OK;
}
