/*
 * Fuzz target for a consent grant: the input, parsed as JSON the way the
 * vault parses its inputs, is validated by cv_consent_validate for an adult's
 * and a child's case, with and without a perpetrator list, and checked by
 * cv_consent_covers as if it were stored. A refusal must say why within
 * its buffer. A grant that validates is held to docs/consent.md: it
 * survives a canonical round trip; it is refused on the other kind of case
 * and once its guardian is listed as a perpetrator; stored, it covers
 * exactly the classes it names, for its recipient and purpose, from "from"
 * to its end, and nothing once withdrawn.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "casevault.h"
#include "base/classes.h"
#include "base/util.h"
#include "rules/consent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A grant is a few hundred bytes; far larger input is not a grant. */
#define GRANT_TEXT_MAX (16 * 1024)
/* 2024-03-01T00:00:00Z. */
#define NOW 1709251200000ULL

static const char *const perps_text =
    "[{\"relationship\": \"stepfather\", \"name\": \"Joko Santoso\"}]";

static void
check_refusal(
    const json_t *g, int child, const json_t *perps, int r, const char *why)
{
	char small[8 + 4];

	if (r != CV_EINVAL || why[0] == '\0')
		abort();
	memcpy(small + 8, "\xa5\xa5\xa5\xa5", 4);
	if (cv_consent_validate(g, child, perps, NOW, small, 8) != r ||
	    memchr(small, '\0', 8) == NULL ||
	    memcmp(small + 8, "\xa5\xa5\xa5\xa5", 4) != 0)
		abort();
}

/* Validates the same after a canonical encoding and a parse. */
static void
check_round_trip(const json_t *g, int child, const json_t *perps)
{
	char *text, *again;
	json_t *g2;

	if ((text = cv_json_canonical(g)) == NULL)
		abort();
	if (cv_json_parse_object(text, strlen(text), GRANT_TEXT_MAX * 2, &g2) !=
	        0 ||
	    !json_equal(g, g2) || (again = cv_json_canonical(g2)) == NULL)
		abort();
	if (strcmp(text, again) != 0 ||
	    cv_consent_validate(g2, child, perps, NOW, NULL, 0) != 0)
		abort();
	free(again);
	free(text);
	json_decref(g2);
}

/* TEXT in upper case with spaces around, as a clerk might type it. */
static json_t *
retyped(const char *text)
{
	char buf[CV_CONSENT_TEXT_MAX + 1];
	size_t i, n = strlen(text);

	if (n + 2 > CV_CONSENT_TEXT_MAX)
		return json_string(text);
	buf[0] = ' ';
	for (i = 0; i < n; i++)
		buf[i + 1] = (text[i] >= 'a' && text[i] <= 'z')
		    ? (char)(text[i] - 'a' + 'A')
		    : text[i];
	buf[n + 1] = ' ';
	buf[n + 2] = '\0';
	return json_string(buf);
}

/* A guardian the intake names as a perpetrator may not consent. */
static void
check_guardian_perpetrator(const json_t *g)
{
	static const char *const keys[] = {"relationship", "name"};
	const json_t *guardian = json_object_get(g, "guardian");
	const char *v;
	json_t *perps;
	size_t i;

	for (i = 0; i < CV_ARRAY_LEN(keys); i++) {
		v = json_string_value(json_object_get(guardian, keys[i]));
		if (v == NULL)
			abort();
		if (strspn(v, " ") == strlen(v))
			continue; /* nothing to compare */
		perps = json_pack("[{s:o}]", keys[i], retyped(v));
		if (perps == NULL ||
		    cv_consent_validate(g, 1, perps, NOW, NULL, 0) == 0)
			abort();
		json_decref(perps);
	}
}

/* Who asks: a user id and a role; "X" matches no recipient. */
struct who {
	const char *user, *role;
};

static enum cv_consent_state
covers(const json_t *consents, const struct who *w, int cls,
    const char *purpose, uint64_t at, const char **id)
{
	return cv_consent_covers(
	    consents, w->user, w->role, cls, purpose, at, id);
}

static int
names(const json_t *g, int cls)
{
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(g, "classes"), i, v)
		if (strcmp(json_string_value(v),
		        cv_class_name((enum cv_class)cls)) == 0)
			return 1;
	return 0;
}

/* Stored, the grant covers what it names in its period, and no more. */
static void
check_coverage(const json_t *g)
{
	const json_t *rcpt = json_object_get(g, "recipient");
	struct who w = {"X", "X"}, other = {"X", "X"};
	const char *purpose, *other_purpose = "counselling", *id;
	json_t *c, *one, *withdrawn, *both;
	uint64_t from, end;
	int cls, in;

	if ((c = json_deep_copy(g)) == NULL)
		abort();
	if (json_object_get(c, "id") == NULL)
		json_object_set_new(c, "id", json_string("K1"));
	if (json_object_get(rcpt, "user") != NULL)
		w.user = json_string_value(json_object_get(rcpt, "user"));
	else
		w.role = json_string_value(json_object_get(rcpt, "role"));
	purpose = json_string_value(json_object_get(g, "purpose"));
	if (strcmp(purpose, "counselling") == 0)
		other_purpose = "social_service";
	if (cv_parse_time(
	        json_string_value(json_object_get(g, "from")), &from) != 0)
		abort();
	end = from + CV_CONSENT_PERIOD_MAX;
	if (json_object_get(g, "until") != NULL &&
	    cv_parse_time(
	        json_string_value(json_object_get(g, "until")), &end) != 0)
		abort();
	/* The period rules, as docs/consent.md states them. */
	if (end <= from || end <= NOW || end - from > CV_CONSENT_PERIOD_MAX)
		abort();
	withdrawn = json_deep_copy(c);
	if (withdrawn == NULL ||
	    cv_consent_mark_withdrawn(withdrawn, "sw.dewi", from) != 0 ||
	    cv_consent_mark_withdrawn(withdrawn, "sw.dewi", from) != CV_ESTATE ||
	    cv_consent_validate(withdrawn, 0, NULL, NOW, NULL, 0) == 0 ||
	    cv_consent_validate(withdrawn, 1, NULL, NOW, NULL, 0) == 0)
		abort();
	one = json_pack("[O]", c);
	both = json_pack("[O, O]", withdrawn, c);
	if (one == NULL || both == NULL)
		abort();
	for (cls = 0; cls < CV_CLASS_COUNT; cls++) {
		in = names(g, cls);
		if (covers(one, &w, cls, purpose, from, &id) !=
		        (in ? CV_CONSENT_VALID : CV_CONSENT_NONE) ||
		    (in &&
		        strcmp(
		            id, json_string_value(json_object_get(c, "id"))) !=
		            0) ||
		    covers(one, &w, cls, purpose, end - 1, NULL) !=
		        (in ? CV_CONSENT_VALID : CV_CONSENT_NONE) ||
		    covers(both, &w, cls, purpose, from, NULL) !=
		        (in ? CV_CONSENT_VALID : CV_CONSENT_NONE))
			abort();
		if (covers(one, &w, cls, purpose, end, NULL) !=
		        (in ? CV_CONSENT_EXPIRED : CV_CONSENT_NONE) ||
		    (from > 0 &&
		        covers(one, &w, cls, purpose, from - 1, NULL) !=
		            CV_CONSENT_NONE) ||
		    covers(one, &w, cls, other_purpose, from, NULL) !=
		        (in ? CV_CONSENT_WRONG_PURPOSE : CV_CONSENT_NONE) ||
		    covers(one, &w, cls, NULL, from, NULL) !=
		        (in ? CV_CONSENT_WRONG_PURPOSE : CV_CONSENT_NONE) ||
		    covers(one, &other, cls, purpose, from, NULL) !=
		        CV_CONSENT_NONE)
			abort();
		json_array_remove(both, 1);
		if (covers(both, &w, cls, purpose, from, NULL) !=
		    (in ? CV_CONSENT_WITHDRAWN : CV_CONSENT_NONE))
			abort();
		json_array_append(both, c);
	}
	json_decref(both);
	json_decref(one);
	json_decref(withdrawn);
	json_decref(c);
}

static void
check_valid(const json_t *g, int child, const json_t *perps)
{
	if (cv_consent_validate(g, !child, perps, NOW, NULL, 0) == 0)
		abort(); /* survivor for an adult, guardian for a child */
	check_round_trip(g, child, perps);
	if (child)
		check_guardian_perpetrator(g);
	check_coverage(g);
}

/* Whatever is stored, coverage answers with a state and never fails. */
static void
check_any_stored(const json_t *g)
{
	const char *id;
	json_t *consents;
	int cls, s;

	if ((consents = json_pack("[O]", g)) == NULL)
		abort();
	for (cls = 0; cls < CV_CLASS_COUNT; cls++) {
		s = cv_consent_covers(consents, "la.budi", "psychologist", cls,
		    "counselling", NOW, &id);
		if (s < CV_CONSENT_NONE || s > CV_CONSENT_WRONG_PURPOSE ||
		    (s != CV_CONSENT_VALID && id != NULL))
			abort();
	}
	json_decref(consents);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *g = NULL, *perps[2] = {NULL, NULL};
	char why[CV_CONSENT_WHY_MIN];
	int child, p, r;

	if (cv_json_parse_object(
	        (const char *)data, size, GRANT_TEXT_MAX, &g) != 0)
		return 0;
	if ((perps[1] = json_loads(perps_text, 0, NULL)) == NULL)
		abort();
	check_any_stored(g);
	for (child = 0; child <= 1; child++) {
		for (p = 0; p <= 1; p++) {
			r = cv_consent_validate(
			    g, child, perps[p], NOW, why, sizeof(why));
			if (r != 0)
				check_refusal(g, child, perps[p], r, why);
			else
				check_valid(g, child, perps[p]);
		}
	}
	json_decref(perps[1]);
	json_decref(g);
	return 0;
}
