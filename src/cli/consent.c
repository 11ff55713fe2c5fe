/* The consent group (docs/consent.md): grant, withdraw, list. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
granted_print(const struct cli *c, const json_t *j)
{
	(void)c;
	printf("%s\n", json_string_value(json_object_get(j, "consent")));
}

int
cmd_consent_grant(struct cli *c)
{
	if (c->opt[OPT_TO] == NULL || c->opt[OPT_CLASSES] == NULL ||
	    c->opt[OPT_PURPOSE] == NULL || c->opt[OPT_FORM] == NULL)
		return cli_usage(c,
		    "--to, --classes, --purpose and --form "
		    "are required");
	if (c->opt[OPT_BY] != NULL &&
	    strncmp(c->opt[OPT_BY], "guardian:", strlen("guardian:")) != 0)
		return cli_usage(c, "--by takes guardian:NAME");
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "to", c->opt[OPT_TO]);
	cli_arg(c, "classes", cli_classes(c->opt[OPT_CLASSES]));
	cli_arg_str(c, "purpose", c->opt[OPT_PURPOSE]);
	cli_arg_str(c, "form", c->opt[OPT_FORM]);
	cli_arg_str(c, "from", c->opt[OPT_FROM]);
	cli_arg_str(c, "until", c->opt[OPT_UNTIL]);
	if (c->opt[OPT_BY] != NULL) {
		/* A relationship and an assent are said of a guardian. */
		cli_arg_str(
		    c, "guardian", c->opt[OPT_BY] + strlen("guardian:"));
		cli_arg_str(c, "relationship", c->opt[OPT_RELATIONSHIP]);
		cli_arg(c, "assent", json_boolean(c->opt[OPT_ASSENT] != NULL));
	}
	return cli_call(c, NULL, granted_print);
}

static void
withdrawn_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf(
	    "consent %s withdrawn: it covers nothing from now on\n", c->pos[1]);
}

int
cmd_consent_withdraw(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "consent", c->pos[1]);
	return cli_call(c, NULL, withdrawn_print);
}

int
cmd_consent_list(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	return cli_call(c, NULL, cli_print_list);
}
