/*
 * Data files compiled into the library at build time (tools/embed.sh):
 * the policies, record schemas, instruments and flow under policies/ and
 * forms/.
 */
#ifndef CV_EMBEDDED_H
#define CV_EMBEDDED_H

#include <stddef.h>

struct cv_embedded {
	const char *name; /* path in the repository, "forms/intake.json" */
	const unsigned char *data; /* NUL-terminated */
	size_t len;
};

/* Terminated by an entry whose name is NULL. */
extern const struct cv_embedded cv_embedded_files[];

#endif
