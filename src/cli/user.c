/* The user group: staff accounts. */
#include <stdio.h>

#include "cli.h"

static int
add_call(struct cli *c, struct cv_session *s, json_t **out)
{
	int trained = c->opt[OPT_TRAINED] != NULL, r;
	char *pass;
	size_t len;

	/* Logged in first: a refused administrator types no new passphrase. */
	if ((r = cli_new_pass(c, c->pos[0], &pass, &len)) != 0)
		return r;
	r = cv_user_add(s, c->pos[0], c->opt[OPT_ROLE],
	    trained ? CV_USER_TRAINED : 0, pass, len);
	cli_secret_free(pass);
	if (r == 0)
		*out = json_pack("{s:s, s:s, s:b}", "name", c->pos[0], "role",
		    c->opt[OPT_ROLE], "trained", trained);
	return r;
}

static void
added_print(const struct cli *c, const json_t *j)
{
	(void)c;
	printf("added %s (%s%s)\n",
	    json_string_value(json_object_get(j, "name")),
	    json_string_value(json_object_get(j, "role")),
	    json_is_true(json_object_get(j, "trained")) ? ", trained" : "");
}

int
cmd_user_add(struct cli *c)
{
	if (c->opt[OPT_ROLE] == NULL)
		return cli_usage(c, "--role ROLE is required");
	return cli_call(c, add_call, added_print);
}

static int
list_call(struct cli *c, struct cv_session *s, json_t **out)
{
	(void)c;
	return cv_user_list(s, out);
}

static void
users_print(const struct cli *c, const json_t *j)
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
cmd_user_list(struct cli *c)
{
	return cli_call(c, list_call, users_print);
}

static int
passwd_call(struct cli *c, struct cv_session *s, json_t **out)
{
	char *pass;
	size_t len;
	int r;

	if ((r = cli_new_pass(c, c->pos[0], &pass, &len)) != 0)
		return r;
	r = cv_user_passwd(s, c->pos[0], pass, len);
	cli_secret_free(pass);
	if (r == 0)
		*out = json_pack("{s:s}", "changed", c->pos[0]);
	return r;
}

static void
changed_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("passphrase of %s changed\n", c->pos[0]);
}

int
cmd_user_passwd(struct cli *c)
{
	return cli_call(c, passwd_call, changed_print);
}

static int
disable_call(struct cli *c, struct cv_session *s, json_t **out)
{
	int r;

	if ((r = cv_user_disable(s, c->pos[0])) == 0)
		*out = json_pack("{s:s}", "disabled", c->pos[0]);
	return r;
}

static void
disabled_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("disabled %s\n", c->pos[0]);
}

int
cmd_user_disable(struct cli *c)
{
	return cli_call(c, disable_call, disabled_print);
}
