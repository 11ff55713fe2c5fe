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
cv_classes_parse(const json_t *list, cv_classmask *mask)
{
	const json_t *v;
	const char *name;
	size_t i;
	int c;

	*mask = 0;
	if (!json_is_array(list) || json_array_size(list) == 0)
		return CV_EINVAL;
	json_array_foreach (list, i, v) {
		/* A name with a NUL inside is no class, whatever precedes it.
		 */
		if ((name = json_string_value(v)) == NULL ||
		    strlen(name) != json_string_length(v) ||
		    (c = cv_class_parse(name)) < 0) {
			*mask = 0;
			return CV_EINVAL;
		}
		*mask |= CV_CLASS_BIT(c);
	}
	return 0;
}

json_t *
cv_classes_json(cv_classmask mask)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a != NULL && i < CV_CLASS_COUNT; i++)
		if (mask & CV_CLASS_BIT(i))
			json_array_append_new(
			    a, json_string(cv_class_name((enum cv_class)i)));
	return a;
}
