/*
 * casevault: the command. main() alone lives here, so that everything
 * else of the command (the table, the parser, the commands) links into
 * the fuzz target too.
 */
#include <stdio.h>
#include <sys/resource.h>

#include "cli.h"

int
main(int argc, char **argv)
{
	static const struct rlimit nocore = {0, 0};
	int r;

	/* A core dump would hold keys and records. */
	setrlimit(RLIMIT_CORE, &nocore);
	if ((r = cv_library_init()) != 0) {
		fprintf(stderr, "casevault: cannot start: %s%s%s\n",
		    cv_strerror(r), *cv_error_detail() ? ": " : "",
		    cv_error_detail());
		return EXIT_REFUSED;
	}
	return cli_main(argc, argv);
}
