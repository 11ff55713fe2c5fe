/*
 * Loads every embedded definition at first use. They are immutable after
 * loading, so the tables are shared by every thread without locking.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rules/instrument.h"
#include "casevault.h"
#include "base/embedded.h"
#include "rules/flow.h"
#include "rules/forms.h"
#include "rules/schema.h"

#define MAX_SCHEMAS     32
#define MAX_INSTRUMENTS 8

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct cv_schema *schemas[MAX_SCHEMAS];
static size_t nschemas;
static struct cv_instrument *instruments[MAX_INSTRUMENTS];
static size_t ninstruments;
static struct cv_flow *flow;
static int status;
static char error[320]; /* which definition failed, and why */

static void
load_all(void)
{
	const struct cv_embedded *e;
	const char *slash;
	char err[256];

	for (e = cv_embedded_files; e->name != NULL; e++) {
		if (strncmp(e->name, "forms/instruments/", 18) == 0) {
			if (ninstruments == MAX_INSTRUMENTS ||
			    cv_instrument_load((const char *)e->data, e->len,
			        &instruments[ninstruments], err,
			        sizeof(err)) != 0)
				status = CV_ECORRUPT;
			else
				ninstruments++;
		} else if (strcmp(e->name, "forms/flow.json") == 0) {
			if (cv_flow_load((const char *)e->data, e->len, &flow,
			        err, sizeof(err)) != 0)
				status = CV_ECORRUPT;
		} else if (strncmp(e->name, "forms/", 6) == 0 &&
		    (slash = strrchr(e->name, '/')) == e->name + 5) {
			if (nschemas == MAX_SCHEMAS ||
			    cv_schema_load((const char *)e->data, e->len,
			        &schemas[nschemas], err, sizeof(err)) != 0)
				status = CV_ECORRUPT;
			else
				nschemas++;
		}
		if (status != 0) {
			snprintf(error, sizeof(error),
			    "built-in definition %s: %s", e->name, err);
			return;
		}
	}
}

int
cv_forms_status(const char **why)
{
	pthread_once(&once, load_all);
	if (why != NULL)
		*why = error;
	return status;
}

const struct cv_schema *
cv_forms_schema(const char *type)
{
	size_t i;

	pthread_once(&once, load_all);
	for (i = 0; i < nschemas; i++)
		if (strcmp(cv_schema_type(schemas[i]), type) == 0)
			return schemas[i];
	return NULL;
}

const struct cv_instrument *
cv_forms_instrument(const char *name)
{
	size_t i;

	pthread_once(&once, load_all);
	for (i = 0; i < ninstruments; i++)
		if (strcmp(cv_instrument_name(instruments[i]), name) == 0)
			return instruments[i];
	return NULL;
}

const char *
cv_forms_instrument_name(size_t i)
{
	pthread_once(&once, load_all);
	return i < ninstruments ? cv_instrument_name(instruments[i]) : NULL;
}

const char *
cv_forms_relationship(size_t i)
{
	return cv_schema_value(
	    cv_forms_schema("intake"), CV_FORMS_RELATIONSHIP, i);
}

int
cv_forms_relationship_valid(const char *rel)
{
	const char *w;
	size_t i;

	if (rel == NULL)
		return 0;
	for (i = 0; (w = cv_forms_relationship(i)) != NULL; i++)
		if (strcmp(w, rel) == 0)
			return 1;
	return 0;
}

const struct cv_flow *
cv_forms_flow(void)
{
	pthread_once(&once, load_all);
	return flow;
}
