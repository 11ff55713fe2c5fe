/* Data classes: names and sets. */
#include <string.h>

#include "casevault.h"
#include "base/classes.h"

static const char *const names[CV_CLASS_COUNT] = {
    "identity",
    "contact",
    "incident",
    "health",
    "assessment",
    "counseling_note",
    "services",
    "legal",
    "case_admin",
};

const char *
cv_class_name(enum cv_class c)
{
	if ((unsigned)c >= CV_CLASS_COUNT)
		return NULL;
	return names[c];
}

int
cv_class_parse(const char *name)
{
	int i;

	for (i = 0; i < CV_CLASS_COUNT; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int
cv_classes_parse(const char *list, cv_classmask *mask)
{
	char item[32];
	const char *p = list, *comma;
	size_t n;
	int c;

	*mask = 0;
	if (*list == '\0')
		return CV_EINVAL;
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof(item))
			return CV_EINVAL;
		memcpy(item, p, n);
		item[n] = '\0';
		if ((c = cv_class_parse(item)) < 0)
			return CV_EINVAL;
		*mask |= CV_CLASS_BIT(c);
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}
