/* The consent group (docs/consent.md): grant, withdraw, list. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The grant the options describe, as cv_consent_grant takes it. */
static json_t *
grant_new(const struct cli *c)
{
	const char *by = c->opt[OPT_BY];
	json_t *g, *cl;

	if ((cl = cli_classes(c->opt[OPT_CLASSES])) == NULL)
		return NULL;
	g = json_pack("{s:{s:s}, s:o, s:s, s:s, s:s}", "recipient",
	    cv_role_valid(c->opt[OPT_TO]) ? "role" : "user", c->opt[OPT_TO],
	    "classes", cl, "purpose", c->opt[OPT_PURPOSE], "grantor",
	    by ? "guardian" : "survivor", "form_ref", c->opt[OPT_FORM]);
	if (g == NULL)
		return NULL;
	if (c->opt[OPT_UNTIL] != NULL)
		json_object_set_new(g, "until", json_string(c->opt[OPT_UNTIL]));
	if (c->opt[OPT_FROM] != NULL)
		json_object_set_new(g, "from", json_string(c->opt[OPT_FROM]));
	if (by != NULL) {
		json_object_set_new(g, "guardian",
		    json_pack("{s:s, s:s}", "name", by + strlen("guardian:"),
		        "relationship",
		        c->opt[OPT_RELATIONSHIP] ? c->opt[OPT_RELATIONSHIP]
		                                 : "other"));
		json_object_set_new(
		    g, "assent", json_boolean(c->opt[OPT_ASSENT] != NULL));
	}
	return g;
}

static int
grant_call(struct cli *c, struct cv_session *s, json_t **out)
{
	char id[CV_OBJECT_ID_LEN + 1];
	int r;

	if ((r = cv_consent_grant(s, c->pos[0], c->in, id)) == 0)
		*out =
		    json_pack("{s:s, s:s}", "case", c->pos[0], "consent", id);
	return r;
}

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
	if ((c->in = grant_new(c)) == NULL)
		return cli_fail(c, CV_ENOMEM);
	return cli_call(c, grant_call, granted_print);
}

static int
withdraw_call(struct cli *c, struct cv_session *s, json_t **out)
{
	int r;

	if ((r = cv_consent_withdraw(s, c->pos[0], c->pos[1])) == 0)
		*out = json_pack(
		    "{s:s, s:s}", "case", c->pos[0], "withdrawn", c->pos[1]);
	return r;
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
	return cli_call(c, withdraw_call, withdrawn_print);
}

static int
list_call(struct cli *c, struct cv_session *s, json_t **out)
{
	return cv_consent_list(s, c->pos[0], out);
}

int
cmd_consent_list(struct cli *c)
{
	return cli_call(c, list_call, cli_print_list);
}
