/* The user group: staff accounts. */
#include <stdio.h>

#include "cli.h"

/*
 * The new passphrase of the account named first, into the request's
 * arguments: the string there is the only copy, in memory the library's
 * allocator wipes when it is freed.
 */
static int
new_pass_ask(struct cli *c)
{
	char *pass;
	size_t len;
	int r;

	if ((r = cli_new_pass(c, c->pos[0], &pass, &len)) != 0)
		return r;
	cli_arg(c, "passphrase", json_stringn(pass, len));
	cli_secret_free(pass);
	return 0;
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
	cli_arg_str(c, "name", c->pos[0]);
	cli_arg_str(c, "role", c->opt[OPT_ROLE]);
	cli_arg_flag(c, "trained", c->opt[OPT_TRAINED] != NULL);
	return cli_call(c, new_pass_ask, added_print);
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
	return cli_call(c, NULL, users_print);
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
	cli_arg_str(c, "name", c->pos[0]);
	return cli_call(c, new_pass_ask, changed_print);
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
	cli_arg_str(c, "name", c->pos[0]);
	return cli_call(c, NULL, disabled_print);
}
