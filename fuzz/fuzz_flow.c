/*
 * Fuzz target for the service-flow loader (forms/flow.json, read by
 * cv_flow_load). A refused definition must come back as a documented code
 * with a message that fits its buffer. A loaded one is held to the rule of
 * docs/service-flow.md, restated here from the definition itself: every
 * pair of steps, with and without a reason to close, must get the answer
 * the rule gives, and a refusal must never repeat the reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "casevault.h"
#include "base/util.h"
#include "rules/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STEPS_MAX 32

/* Upper case and a space: never part of a step key, so never in WHY. */
#define REASON "Moved Away"

struct model {
	size_t n;
	int early_close;
	const char *key[STEPS_MAX];
	int required[STEPS_MAX], repeatable[STEPS_MAX];
};

static int
blank(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (strchr(" \t\n\r", *s) == NULL)
			return 0;
	return 1;
}

/* May a case at step FROM (-1: a new case) move to step TO? */
static int
allowed(const struct model *m, int from, int to, const char *reason)
{
	int k, last = (int)m->n - 1;

	if (from < 0)
		return to == 0;
	if (from == last)
		return 0; /* closed stays closed */
	if (to <= from)
		return m->repeatable[to];
	for (k = from + 1; k < to; k++)
		if (m->required[k])
			return to == last && m->early_close && !blank(reason);
	return 1;
}

/* The definition as loaded; it parsed once, so it parses again. */
static void
read_model(const uint8_t *data, size_t size, json_t **j, struct model *m)
{
	const json_t *st;
	size_t i;

	if (cv_json_parse_object(
	        (const char *)data, size, CV_FLOW_TEXT_MAX, j) != 0)
		abort();
	m->early_close =
	    strcmp(json_string_value(json_object_get(*j, "early_close")),
	        "with_reason") == 0;
	m->n = json_array_size(json_object_get(*j, "steps"));
	if (m->n < 2 || m->n > STEPS_MAX)
		abort();
	json_array_foreach (json_object_get(*j, "steps"), i, st) {
		m->key[i] = json_string_value(json_object_get(st, "key"));
		m->required[i] = json_is_true(json_object_get(st, "required"));
		m->repeatable[i] =
		    json_is_true(json_object_get(st, "repeatable"));
	}
}

static void
check_labels(const struct cv_flow *f, const json_t *j, const struct model *m)
{
	const json_t *st;
	size_t i;

	for (i = 0; i < m->n; i++) {
		st = json_array_get(json_object_get(j, "steps"), i);
		if (strcmp(cv_flow_label(f, m->key[i], "en"),
		        json_string_value(json_object_get(st, "label"))) != 0 ||
		    strcmp(cv_flow_label(f, m->key[i], "id"),
		        json_string_value(json_object_get(st, "label_id"))) !=
		        0 ||
		    cv_flow_label(f, m->key[i], "fr") != NULL)
			abort();
	}
	if (strcmp(cv_flow_first(f), m->key[0]) != 0 ||
	    cv_flow_label(f, "Not A Step", "en") != NULL)
		abort();
}

static void
check_moves(const struct cv_flow *f, const struct model *m)
{
	static const char *const reasons[] = {NULL, " \t", REASON};
	char why[160];
	size_t r;
	int from, to, got;

	for (from = -1; from < (int)m->n; from++) {
		for (to = 0; to < (int)m->n; to++) {
			for (r = 0; r < CV_ARRAY_LEN(reasons); r++) {
				got = cv_flow_check(f,
				    from < 0 ? NULL : m->key[from], m->key[to],
				    reasons[r], why, sizeof(why));
				if (got == 0 && why[0] == '\0' &&
				    allowed(m, from, to, reasons[r]))
					continue;
				if (got != CV_ESTATE || why[0] == '\0' ||
				    allowed(m, from, to, reasons[r]) ||
				    strstr(why, REASON) != NULL)
					abort();
			}
		}
		/* An unknown step is refused without being repeated. */
		if (cv_flow_check(f, from < 0 ? NULL : m->key[from],
		        "Not A Step", NULL, why, sizeof(why)) != CV_EINVAL ||
		    strstr(why, "Not A Step") != NULL)
			abort();
	}
	/* One step at a time, a case goes from the first step to the last. */
	for (to = 1; to < (int)m->n; to++)
		if (cv_flow_check(
		        f, m->key[to - 1], m->key[to], NULL, NULL, 0) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_flow *f = NULL;
	struct model m = {0};
	json_t *j = NULL;
	char err[200], small[8 + 4];
	int r;

	if (size > 2 * CV_FLOW_TEXT_MAX)
		return 0;
	r = cv_flow_load((const char *)data, size, &f, err, sizeof(err));
	if (r != 0) {
		if (f != NULL || (r != CV_ENOMEM && err[0] == '\0') ||
		    (r != CV_ETOOBIG && r != CV_EJSON && r != CV_ESCHEMA &&
		        r != CV_ENOMEM))
			abort();
		/* The message is cut to its buffer, never beyond. */
		memcpy(small + 8, "\xa5\xa5\xa5\xa5", 4);
		if (cv_flow_load((const char *)data, size, &f, small, 8) != r ||
		    memchr(small, '\0', 8) == NULL ||
		    memcmp(small + 8, "\xa5\xa5\xa5\xa5", 4) != 0)
			abort();
		return 0;
	}
	read_model(data, size, &j, &m);
	check_labels(f, j, &m);
	check_moves(f, &m);
	json_decref(j);
	cv_flow_free(f);
	return 0;
}
