/*
 * PLACEHOLDER: the daemon's client. This build has none: a request for
 * --socket (or CASEVAULT_SOCKET) is refused, saying so. The client that
 * connects to casevaultd, logs in and keeps its token replaces this file.
 */
#include <stdio.h>

#include "cli.h"

int
cli_remote(struct cli *c, json_t *req, json_t **resp)
{
	(void)req;
	*resp = NULL;
	fprintf(stderr,
	    "casevault %s: this build has no daemon client; run without "
	    "--socket and CASEVAULT_SOCKET\n",
	    c->name);
	return EXIT_REFUSED;
}
