/* casevault init: a new vault, before any session exists. */
#include <stdio.h>

#include "cli.h"

static void
init_print(const struct cli *c, const json_t *j)
{
	(void)c;
	printf("initialised vault %s, administrator %s\n",
	    json_string_value(json_object_get(j, "vault")),
	    json_string_value(json_object_get(j, "admin")));
}

int
cmd_init(struct cli *c)
{
	const char *admin = c->opt[OPT_ADMIN];
	struct cv_session *s;
	char *pass;
	size_t len;
	int r;

	if (admin == NULL)
		return cli_usage(c, "--admin NAME is required");
	if ((r = cli_new_pass(c, admin, &pass, &len)) != 0)
		return r;
	r = cv_vault_create(c->pos[0], admin, pass, len, &s);
	cli_secret_free(pass);
	if (r != 0)
		return cli_fail(c, r);
	cv_session_close(s);
	return cli_result(c, 0,
	    json_pack("{s:s, s:s}", "vault", c->pos[0], "admin", admin),
	    init_print);
}
