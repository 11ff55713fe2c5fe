/* Lookup in the data files compiled into the library. */
#include <string.h>

#include "base/embedded.h"

const struct cv_embedded *
cv_embedded_find(const char *name)
{
	const struct cv_embedded *e;

	for (e = cv_embedded_files; e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}
