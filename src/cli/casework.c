/* Notes, assessments, case steps and reports. */
#include <stdio.h>

#include "cli.h"

const struct cli_cmd cli_cmds_casework[] = {
	{NULL, NULL, NULL, NULL, NULL, NULL},
};
