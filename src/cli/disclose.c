/* casevault disclose: release on a legal basis other than consent. */
#include "cli.h"

int
cmd_disclose(struct cli *c)
{
	if (c->opt[OPT_CLASSES] == NULL || c->opt[OPT_LEGAL_BASIS] == NULL ||
	    c->opt[OPT_TO] == NULL)
		return cli_usage(c,
		    "--classes, --legal-basis and --to are "
		    "required");
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg(c, "classes", cli_classes(c->opt[OPT_CLASSES]));
	cli_arg_str(c, "legal_basis", c->opt[OPT_LEGAL_BASIS]);
	cli_arg_str(c, "to", c->opt[OPT_TO]);
	cli_arg_str(c, "note", c->opt[OPT_NOTE]);
	return cli_call(c, NULL, cli_print_released);
}
