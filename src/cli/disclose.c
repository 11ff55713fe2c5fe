/* casevault disclose: release on a legal basis other than consent. */
#include "cli.h"

static int
disclose_call(struct cli *c, struct cv_session *s, json_t **out)
{
	return cv_case_disclose(s, c->pos[0], c->in, c->opt[OPT_LEGAL_BASIS],
	    c->opt[OPT_TO], c->opt[OPT_NOTE], out);
}

int
cmd_disclose(struct cli *c)
{
	if (c->opt[OPT_CLASSES] == NULL || c->opt[OPT_LEGAL_BASIS] == NULL ||
	    c->opt[OPT_TO] == NULL)
		return cli_usage(c,
		    "--classes, --legal-basis and --to are "
		    "required");
	if ((c->in = cli_classes(c->opt[OPT_CLASSES])) == NULL)
		return cli_fail(c, CV_ENOMEM);
	return cli_call(c, disclose_call, cli_print_released);
}
