/* Record operations shared by the case, note and assessment commands. */
#ifndef CV_RECORD_H
#define CV_RECORD_H

#include <jansson.h>

#include "base/classes.h"

/*
 * Check DATA against the schema of TYPE and return the classes it holds.
 * CV_EINVAL for an unknown type, CV_ETOOBIG for an oversized record,
 * CV_ESCHEMA with the field and rule in ERR.
 */
int cv_record_validate(const char *type, const json_t *data,
    cv_classmask *classes, char *err, size_t errlen);

#endif
