/*
 * The service flow. A case moves forward through the steps in order; a
 * forward move may pass over optional steps but never over a required one,
 * so every closed case has been through every required step (or was closed
 * early with a recorded reason). Backward moves are allowed only to steps
 * marked repeatable: counselling and interventions happen in rounds and a
 * survivor may need the safe house again, but a referral, the initial
 * examination and the agreement on rights happen once per case. A closed
 * case stays closed; a survivor who comes back is a new referral.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "casevault.h"
#include "base/util.h"
#include "rules/flow.h"

#define STEPS_MAX   32
#define TEXT_MAX    256
#define VERSION_MAX 1000000

struct step {
	char key[CV_NAME_MAX + 1];
	char label[TEXT_MAX + 1];
	char label_id[TEXT_MAX + 1];
	int required;
	int repeatable;
};

struct cv_flow {
	unsigned version;
	int early_close;
	size_t n;
	struct step steps[STEPS_MAX];
};

static int
load_steps(struct cv_flow *f, const json_t *steps, char *err, size_t errlen)
{
	static const char *const keys[] = {
	    "key", "label", "label_id", "required", "repeatable"};
	struct step *s;
	size_t i, j, n;
	json_t *it, *req, *rep;

	if (!json_is_array(steps) || (n = json_array_size(steps)) < 2 ||
	    n > STEPS_MAX) {
		cv_errf(err, errlen, "steps: need an array of 2-%d steps",
		    STEPS_MAX);
		return CV_ESCHEMA;
	}
	for (i = 0; i < n; i++) {
		it = json_array_get(steps, i);
		s = &f->steps[i];
		if (!json_is_object(it) ||
		    cv_json_only_keys(it, keys, CV_ARRAY_LEN(keys)) != 0 ||
		    cv_json_text(it, "key", 1, CV_NAME_MAX, s->key) != 0 ||
		    !cv_name_valid(s->key) ||
		    cv_json_text(it, "label", 1, TEXT_MAX, s->label) != 0 ||
		    cv_json_text(it, "label_id", 1, TEXT_MAX, s->label_id) !=
		        0) {
			cv_errf(err, errlen,
			    "step %zu: needs a key, a label and a label_id",
			    i + 1);
			return CV_ESCHEMA;
		}
		req = json_object_get(it, "required");
		rep = json_object_get(it, "repeatable");
		if (!json_is_boolean(req) || !json_is_boolean(rep)) {
			cv_errf(err, errlen,
			    "step %zu: required and repeatable must be "
			    "true or false",
			    i + 1);
			return CV_ESCHEMA;
		}
		s->required = json_is_true(req);
		s->repeatable = json_is_true(rep);
		for (j = 0; j < i; j++) {
			if (strcmp(s->key, f->steps[j].key) == 0) {
				cv_errf(err, errlen, "step %zu: duplicate key",
				    i + 1);
				return CV_ESCHEMA;
			}
		}
	}
	/* Every case starts at the first step and ends at the last. */
	if (!f->steps[0].required || !f->steps[n - 1].required ||
	    f->steps[n - 1].repeatable) {
		cv_errf(err, errlen,
		    "steps: the first and last steps must be "
		    "required and the last not repeatable");
		return CV_ESCHEMA;
	}
	f->n = n;
	return 0;
}

int
cv_flow_load(const char *text, size_t len, struct cv_flow **out, char *err,
    size_t errlen)
{
	static const char *const keys[] = {
	    "flow", "version", "early_close", "steps"};
	char name[CV_NAME_MAX + 1];
	struct cv_flow *f = NULL;
	json_t *j = NULL, *v, *ec;
	int r = CV_EINVAL;

	cv_errf(err, errlen, "%s", "");
	if (out != NULL)
		*out = NULL;
	if (text == NULL || out == NULL)
		goto out;
	if (len > CV_FLOW_TEXT_MAX) {
		cv_errf(err, errlen, "flow: larger than %d bytes",
		    CV_FLOW_TEXT_MAX);
		r = CV_ETOOBIG;
		goto out;
	}
	if ((r = cv_json_parse_object(text, len, CV_FLOW_TEXT_MAX, &j)) != 0) {
		cv_errf(err, errlen, "flow: not a JSON object");
		goto out;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	r = CV_ESCHEMA;
	if (cv_json_only_keys(j, keys, CV_ARRAY_LEN(keys)) != 0) {
		cv_errf(err, errlen, "flow: unknown field");
		goto out;
	}
	if (cv_json_text(j, "flow", 1, CV_NAME_MAX, name) != 0 ||
	    !cv_name_valid(name)) {
		cv_errf(err, errlen, "flow: needs a valid name");
		goto out;
	}
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > VERSION_MAX) {
		cv_errf(err, errlen, "version: must be an integer 1-%d",
		    VERSION_MAX);
		goto out;
	}
	f->version = (unsigned)json_integer_value(v);
	ec = json_object_get(j, "early_close");
	if (json_is_string(ec) &&
	    strcmp(json_string_value(ec), "with_reason") == 0)
		f->early_close = 1;
	else if (json_is_string(ec) &&
	    strcmp(json_string_value(ec), "never") == 0)
		f->early_close = 0;
	else {
		cv_errf(err, errlen,
		    "early_close: must be \"with_reason\" or \"never\"");
		goto out;
	}
	if ((r = load_steps(f, json_object_get(j, "steps"), err, errlen)) != 0)
		goto out;
	*out = f;
	f = NULL; /* transferred */
	r = 0;
out:
	free(f);
	json_decref(j);
	return r;
}

void
cv_flow_free(struct cv_flow *f)
{
	free(f);
}

static int
find(const struct cv_flow *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->steps[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* A reason counts only if it says something: not NULL, not blank. */
static int
has_reason(const char *s)
{
	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 1;
	return 0;
}

int
cv_flow_check(const struct cv_flow *f, const char *from, const char *to,
    const char *reason, char *why, size_t whylen)
{
	const struct step *s = f != NULL ? f->steps : NULL;
	int fi = -1, ti, k, last;

	cv_errf(why, whylen, "%s", "");
	if (f == NULL || to == NULL)
		return CV_EINVAL;
	last = (int)f->n - 1;
	if ((ti = find(f, to)) < 0 ||
	    (from != NULL && (fi = find(f, from)) < 0)) {
		cv_errf(why, whylen, "unknown step");
		return CV_EINVAL;
	}
	if (from == NULL) {
		if (ti == 0)
			return 0;
		cv_errf(why, whylen, "a new case starts at %s", s[0].key);
		return CV_ESTATE;
	}
	if (fi == last) {
		cv_errf(why, whylen,
		    "the case is closed: a new referral opens a new case");
		return CV_ESTATE;
	}
	if (ti <= fi) {
		if (s[ti].repeatable)
			return 0;
		if (ti == fi)
			cv_errf(why, whylen, "the case is already at %s",
			    s[ti].key);
		else
			cv_errf(why, whylen,
			    "cannot move from %s back to %s: %s is not "
			    "repeated",
			    s[fi].key, s[ti].key, s[ti].key);
		return CV_ESTATE;
	}
	for (k = fi + 1; k < ti; k++)
		if (s[k].required)
			break;
	if (k == ti)
		return 0;
	/* An early close skips steps, but never without a stated reason. */
	if (ti == last && f->early_close) {
		if (has_reason(reason))
			return 0;
		cv_errf(why, whylen,
		    "closing a case before %s needs a recorded reason",
		    s[last - 1].key);
		return CV_ESTATE;
	}
	cv_errf(why, whylen, "cannot move from %s to %s: %s must come first",
	    s[fi].key, s[ti].key, s[k].key);
	return CV_ESTATE;
}

const char *
cv_flow_label(const struct cv_flow *f, const char *step, const char *lang)
{
	int i;

	if (f == NULL || step == NULL || lang == NULL ||
	    (i = find(f, step)) < 0)
		return NULL;
	if (strcmp(lang, "en") == 0)
		return f->steps[i].label;
	if (strcmp(lang, "id") == 0)
		return f->steps[i].label_id;
	return NULL;
}

const char *
cv_flow_first(const struct cv_flow *f)
{
	return f != NULL ? f->steps[0].key : NULL;
}

const char *
cv_flow_step(const struct cv_flow *f, size_t i)
{
	return f != NULL && i < f->n ? f->steps[i].key : NULL;
}
