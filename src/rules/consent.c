/*
 * Consent grants: validation of a new grant, the coverage check the gate
 * asks for every classed access, and withdrawal. The format and the reasons
 * behind each rule are in docs/consent.md.
 *
 * Invariants:
 *  - a consent covers a class only by naming it: no wildcard exists, so the
 *    counselling notes are never shared by a consent that forgot them;
 *  - a "withdrawn" field ends a consent for every check, whatever its time
 *    and whether or not it parses: doubt about a withdrawal means withdrawn;
 *  - every consent ends: "until", or CV_CONSENT_PERIOD_MAX after "from";
 *  - WHY names the rule that failed and the field, never a field's value.
 */
#include <string.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/consent.h"
#include "rules/forms.h"
#include "rules/policy.h"
#include "base/util.h"

static const char *const purposes[] = {
    "counselling",
    "medical_referral",
    "legal_proceeding",
    "police_report",
    "social_service",
    "deidentified_statistics",
};

static const char *const fields[] = {
    "id",
    "grantor",
    "guardian",
    "assent",
    "recipient",
    "classes",
    "purpose",
    "from",
    "until",
    "recorded_by",
    "form_ref",
    "withdrawn",
    "withdrawn_by",
};

int
cv_consent_purpose_valid(const char *purpose)
{
	size_t i;

	if (purpose == NULL)
		return 0;
	for (i = 0; i < CV_ARRAY_LEN(purposes); i++)
		if (strcmp(purpose, purposes[i]) == 0)
			return 1;
	return 0;
}

const char *
cv_consent_purpose(size_t i)
{
	return i < CV_ARRAY_LEN(purposes) ? purposes[i] : NULL;
}

static int
refuse(char *why, size_t whylen, const char *reason)
{
	if (why != NULL && whylen > 0) {
		strncpy(why, reason, whylen - 1);
		why[whylen - 1] = '\0';
	}
	return CV_EINVAL;
}

/* A string of 1..MAX bytes without control characters, or NULL. */
static const char *
text_field(const json_t *obj, const char *key, size_t max)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	size_t i, n;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > max || strlen(s) != n)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
	return s;
}

static int
id_valid(const char *s)
{
	return cv_token_valid(s, CV_CONSENT_ID_MAX, "_.-", 0);
}

/*
 * Normalise a name or relationship for comparison: ASCII letters folded to
 * lower case, runs of white space to one space, none at either end. Bytes
 * above 0x7f are kept as they are. Returns 0, or -1 when it does not fit.
 */
static int
normalise(const char *s, char *out, size_t size)
{
	size_t o = 0;
	int space = 0;

	for (; *s != '\0'; s++) {
		char c = *s;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			space = o > 0;
			continue;
		}
		if (space) {
			if (o + 1 >= size)
				return -1;
			out[o++] = ' ';
			space = 0;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (o + 1 >= size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Titles said before a name in Indonesia (Pak Sugeng, Bu Siti, H. Ahmad):
 * the same person is written with or without them, so they are set aside
 * before names compare. Lower case, without the trailing dot.
 */
static const char *const titles[] = {"pak", "bapak", "bpk", "bp", "bu", "ibu",
    "bunda", "mas", "mbak", "mba", "kak", "kakak", "dik", "adik", "bang",
    "abang", "tante", "om", "oom", "pakde", "bude", "budhe", "paman", "bibi",
    "nenek", "kakek", "mbah", "eyang", "h", "haji", "hj", "hajjah", "sdr",
    "sdri", "saudara", "saudari", "tuan", "nyonya", "ny", "nona", "nn", "dr",
    "drs", "ir", "ustaz", "ustadz", "ustazah", "ustadzah", "kyai", "kiai", "mr",
    "mrs", "ms"};

/* Relationships one person holds at a time: the same word is the same
 * person, whatever name the intake gives. */
static const char *const one_holder[] = {
    "mother", "father", "stepmother", "stepfather", "spouse"};

/* The words of older intakes (retired in forms/intake.json) and the
 * current words each may stand for. */
static const char *const old_parent[] = {"mother", "father", NULL};
static const char *const old_step_parent[] = {"stepmother", "stepfather", NULL};
static const char *const old_relative[] = {"grandmother", "grandfather", "aunt",
    "uncle", "sibling", "step_sibling", "cousin", "other_relative", NULL};
static const struct {
	const char *word;
	const char *const *covers;
} retired[] = {
    {"parent", old_parent},
    {"step_parent", old_step_parent},
    {"relative", old_relative},
};

/*
 * The longest name compared, in bytes: an intake's name is bounded in
 * characters (200, each up to 4 bytes), a guardian's to
 * CV_CONSENT_TEXT_MAX bytes.
 */
#define NAME_BYTES_MAX (4 * CV_CONSENT_TEXT_MAX)
#define NAME_WORDS_MAX (NAME_BYTES_MAX / 2 + 1)

/* A name as its words: lower case, titles in front set aside. */
struct name {
	char buf[NAME_BYTES_MAX + 1];
	const char *w[NAME_WORDS_MAX];
	size_t n;
};

static int
in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] != NULL && strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/*
 * Split S into the words of NM: ASCII letters folded to lower case, words
 * separated by white space, dots and commas, the leading titles dropped.
 * Bytes above 0x7f are kept as they are. Returns 0, or -1 when S is longer
 * than NAME_BYTES_MAX bytes.
 */
static int
name_parse(const char *s, struct name *nm)
{
	size_t len = strlen(s), i;
	char *p, *start;

	nm->n = 0;
	if (len > NAME_BYTES_MAX)
		return -1;
	for (i = 0; i <= len; i++) {
		char c = s[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '.' || c == ',')
			c = '\0';
		else if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		nm->buf[i] = c;
	}
	for (p = nm->buf; p < nm->buf + len;) {
		if (*p == '\0') {
			p++;
			continue;
		}
		start = p;
		p += strlen(p);
		if (nm->n == 0 && in_list(start, titles, CV_ARRAY_LEN(titles)))
			continue;
		nm->w[nm->n++] = start; /* at most len / 2 + 1 words */
	}
	return 0;
}

/* Is every word of A among the words of B? */
static int
words_within(const struct name *a, const struct name *b)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++)
			if (strcmp(a->w[i], b->w[j]) == 0)
				break;
		if (j == b->n)
			return 0;
	}
	return 1;
}

static int
same_words(const struct name *a, const struct name *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->w[i], b->w[i]) != 0)
			return 0;
	return 1;
}

enum name_cmp { NAME_NONE, NAME_DIFFERENT, NAME_PART, NAME_SAME };

/* GUARDIAN's name against the perpetrator P's, when the intake has one. */
static enum name_cmp
name_compare(const struct name *guardian, const json_t *p)
{
	struct name pn;
	const json_t *v = json_object_get(p, "name");

	if (!json_is_string(v))
		return NAME_NONE;
	/* A name too long to compare cannot be ruled out. */
	if (name_parse(json_string_value(v), &pn) != 0)
		return NAME_PART;
	if (pn.n == 0)
		return NAME_NONE;
	if (same_words(guardian, &pn))
		return NAME_SAME;
	if (words_within(guardian, &pn) || words_within(&pn, guardian))
		return NAME_PART;
	return NAME_DIFFERENT;
}

/* Does perpetrator relationship PREL (normalised) stand for REL? */
static int
relationship_covers(const char *prel, const char *rel)
{
	size_t i, j;

	if (strcmp(prel, rel) == 0)
		return 1;
	for (i = 0; i < CV_ARRAY_LEN(retired); i++) {
		if (strcmp(prel, retired[i].word) != 0)
			continue;
		for (j = 0; retired[i].covers[j] != NULL; j++)
			if (strcmp(retired[i].covers[j], rel) == 0)
				return 1;
	}
	return 0;
}

/*
 * The guardian (REL, a word of the vocabulary, and NAME parsed) against
 * one alleged perpetrator P. The rule is in docs/consent.md:
 *  - the same name (after titles, case and spacing) is the same person;
 *  - the same relationship that one person holds (mother, father,
 *    stepmother, stepfather, spouse) is the same person;
 *  - a name that is part of the other, or a relationship that matches (or
 *    an older intake's word that covers it) with no name to tell them
 *    apart, may be the same person;
 *  - anything else is another person: a stepfather and a father are the
 *    same person only when their names match.
 */
static enum cv_guardian_match
match_one(const char *rel, const struct name *name, const json_t *p)
{
	char prel[CV_CONSENT_TEXT_MAX + 1];
	const json_t *v = json_object_get(p, "relationship");
	enum name_cmp nc = name_compare(name, p);
	int related = 0;

	if (nc == NAME_SAME)
		return CV_GUARDIAN_SAME;
	if (json_is_string(v) && json_string_length(v) <= CV_CONSENT_TEXT_MAX &&
	    normalise(json_string_value(v), prel, sizeof(prel)) == 0) {
		if (strcmp(prel, rel) == 0 &&
		    in_list(rel, one_holder, CV_ARRAY_LEN(one_holder)))
			return CV_GUARDIAN_SAME;
		related = relationship_covers(prel, rel);
	}
	if (nc == NAME_PART || (related && nc == NAME_NONE))
		return CV_GUARDIAN_MAYBE;
	return CV_GUARDIAN_CLEAR;
}

enum cv_guardian_match
cv_consent_guardian_match(const json_t *guardian, const json_t *perps)
{
	enum cv_guardian_match worst = CV_GUARDIAN_CLEAR, m;
	const char *rel, *name;
	struct name nm;
	const json_t *p;
	size_t i;

	if (!json_is_object(guardian) ||
	    (rel = text_field(guardian, "relationship", CV_CONSENT_TEXT_MAX)) ==
	        NULL ||
	    (name = text_field(guardian, "name", CV_CONSENT_TEXT_MAX)) ==
	        NULL ||
	    name_parse(name, &nm) != 0 || nm.n == 0)
		return CV_GUARDIAN_MAYBE;
	if (perps == NULL)
		return CV_GUARDIAN_CLEAR;
	if (!json_is_array(perps) ||
	    json_array_size(perps) > CV_CONSENT_PERPS_MAX)
		return CV_GUARDIAN_MAYBE;
	json_array_foreach (perps, i, p) {
		if (!json_is_object(p))
			return CV_GUARDIAN_MAYBE;
		if ((m = match_one(rel, &nm, p)) > worst)
			worst = m;
	}
	return worst;
}

static int
check_recipient(const json_t *rcpt, char *why, size_t whylen)
{
	const char *s;
	int role;

	if (!json_is_object(rcpt) || json_object_size(rcpt) != 1)
		return refuse(why, whylen,
		    "recipient must be {\"role\": R} or {\"user\": U}");
	if ((s = text_field(rcpt, "user", CV_NAME_MAX)) != NULL) {
		if (!cv_name_valid(s))
			return refuse(why, whylen, "recipient: bad user id");
		return 0;
	}
	if ((s = text_field(rcpt, "role", CV_NAME_MAX)) == NULL)
		return refuse(why, whylen,
		    "recipient must be {\"role\": R} or {\"user\": U}");
	if ((role = cv_role_parse(s)) < 0)
		return refuse(why, whylen, "recipient: unknown role");
	if (role == CV_ROLE_ADMIN || role == CV_ROLE_AUDITOR)
		return refuse(why, whylen,
		    "recipient: this role reads no record contents");
	return 0;
}

static int
check_classes(const json_t *classes, char *why, size_t whylen)
{
	const json_t *v;
	cv_classmask seen = 0;
	size_t i;
	int c;

	if (!json_is_array(classes) || json_array_size(classes) == 0 ||
	    json_array_size(classes) > CV_CLASS_COUNT)
		return refuse(why, whylen,
		    "classes must be a non-empty array of class names");
	json_array_foreach (classes, i, v) {
		if (!json_is_string(v) ||
		    (c = cv_class_parse(json_string_value(v))) < 0)
			return refuse(why, whylen, "classes: unknown class");
		if (seen & CV_CLASS_BIT(c))
			return refuse(why, whylen, "classes: duplicate class");
		seen |= CV_CLASS_BIT(c);
	}
	return 0;
}

static int
check_period(const json_t *grant, uint64_t now, char *why, size_t whylen)
{
	const char *s;
	uint64_t from, until;

	if ((s = text_field(grant, "from", 32)) == NULL ||
	    cv_parse_time(s, &from) != 0)
		return refuse(why, whylen, "from: missing or not a UTC time");
	if (json_object_get(grant, "until") == NULL)
		until = from + CV_CONSENT_PERIOD_MAX;
	else if ((s = text_field(grant, "until", 32)) == NULL ||
	    cv_parse_time(s, &until) != 0)
		return refuse(why, whylen, "until: not a UTC time");
	if (until <= from)
		return refuse(why, whylen, "until is not after from");
	if (until - from > CV_CONSENT_PERIOD_MAX)
		return refuse(
		    why, whylen, "period longer than the maximum of 366 days");
	if (until <= now)
		return refuse(why, whylen, "the period is already over");
	return 0;
}

/*
 * Who may grant: the survivor for an adult, a guardian for a child, with
 * the child's assent, and never a guardian the intake names as an alleged
 * perpetrator.
 */
static int
check_grantor(const json_t *grant, int child, const json_t *perps, char *why,
    size_t whylen)
{
	const json_t *g, *assent, *p;
	const char *grantor;
	struct name nm;
	size_t i;

	grantor = text_field(grant, "grantor", 16);
	g = json_object_get(grant, "guardian");
	assent = json_object_get(grant, "assent");
	if (grantor == NULL ||
	    (strcmp(grantor, "survivor") != 0 &&
	        strcmp(grantor, "guardian") != 0))
		return refuse(why, whylen,
		    "grantor must be \"survivor\" or \"guardian\"");
	if (strcmp(grantor, "survivor") == 0) {
		if (child)
			return refuse(why, whylen,
			    "a child's case is granted by a guardian");
		if (g != NULL || assent != NULL)
			return refuse(why, whylen,
			    "guardian and assent are for a guardian grant");
		return 0;
	}
	if (!child)
		return refuse(
		    why, whylen, "an adult's case is granted by the survivor");
	if (!json_is_object(g) ||
	    text_field(g, "name", CV_CONSENT_TEXT_MAX) == NULL ||
	    text_field(g, "relationship", CV_CONSENT_TEXT_MAX) == NULL ||
	    json_object_size(g) != 2)
		return refuse(why, whylen,
		    "guardian must be {\"name\", \"relationship\"}");
	if (!cv_forms_relationship_valid(
	        json_string_value(json_object_get(g, "relationship"))))
		return refuse(why, whylen,
		    "guardian.relationship: not a word of the relationship "
		    "vocabulary");
	if (name_parse(json_string_value(json_object_get(g, "name")), &nm) !=
	        0 ||
	    nm.n == 0)
		return refuse(why, whylen,
		    "guardian.name: a name is needed, not only a title");
	if (!json_is_boolean(assent))
		return refuse(
		    why, whylen, "assent: the child's assent is required");
	if (!json_is_true(assent))
		return refuse(why, whylen, "the child did not assent");
	if (perps != NULL &&
	    (!json_is_array(perps) ||
	        json_array_size(perps) > CV_CONSENT_PERPS_MAX))
		return refuse(why, whylen, "malformed perpetrator list");
	json_array_foreach (perps, i, p) {
		if (!json_is_object(p))
			return refuse(
			    why, whylen, "malformed perpetrator list");
	}
	switch (cv_consent_guardian_match(g, perps)) {
	case CV_GUARDIAN_CLEAR:
		return 0;
	case CV_GUARDIAN_SAME:
		return refuse(why, whylen,
		    "the guardian is recorded as an alleged perpetrator; "
		    "a supervisor may disclose on a legal basis (disclose)");
	default:
		return refuse(why, whylen,
		    "the guardian may be an alleged perpetrator (relationship "
		    "or name not told apart); correct the intake, or a "
		    "supervisor may disclose on a legal basis (disclose)");
	}
}

int
cv_consent_validate(const json_t *grant, int child, const json_t *perpetrators,
    uint64_t now, char *why, size_t whylen)
{
	const char *key, *s;
	const json_t *v;
	size_t i;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (!json_is_object(grant))
		return refuse(why, whylen, "a consent is a JSON object");
	json_object_foreach ((json_t *)grant, key, v) {
		for (i = 0; i < CV_ARRAY_LEN(fields); i++)
			if (strcmp(key, fields[i]) == 0)
				break;
		if (i == CV_ARRAY_LEN(fields))
			return refuse(why, whylen, "unknown field");
	}
	(void)v;
	if (json_object_get(grant, "withdrawn") != NULL ||
	    json_object_get(grant, "withdrawn_by") != NULL)
		return refuse(why, whylen, "a new grant cannot be withdrawn");
	if (json_object_get(grant, "id") != NULL &&
	    ((s = text_field(grant, "id", CV_CONSENT_ID_MAX)) == NULL ||
	        !id_valid(s)))
		return refuse(why, whylen, "id: bad consent id");
	if ((r = check_grantor(grant, child, perpetrators, why, whylen)) != 0)
		return r;
	if ((r = check_recipient(
	         json_object_get(grant, "recipient"), why, whylen)) != 0)
		return r;
	if ((r = check_classes(
	         json_object_get(grant, "classes"), why, whylen)) != 0)
		return r;
	if (!cv_consent_purpose_valid(text_field(grant, "purpose", 32)))
		return refuse(why, whylen, "purpose: missing or unknown");
	if ((r = check_period(grant, now, why, whylen)) != 0)
		return r;
	if ((s = text_field(grant, "recorded_by", CV_NAME_MAX)) == NULL ||
	    !cv_name_valid(s))
		return refuse(
		    why, whylen, "recorded_by: missing or bad user id");
	if (text_field(grant, "form_ref", CV_CONSENT_TEXT_MAX) == NULL)
		return refuse(
		    why, whylen, "form_ref: the signed form is required");
	return 0;
}

static int
recipient_matches(const json_t *c, const char *user, const char *role)
{
	const json_t *rcpt = json_object_get(c, "recipient"), *v;

	if (!json_is_object(rcpt) || json_object_size(rcpt) != 1)
		return 0;
	if ((v = json_object_get(rcpt, "user")) != NULL)
		return user != NULL && json_is_string(v) &&
		    strcmp(json_string_value(v), user) == 0;
	if ((v = json_object_get(rcpt, "role")) != NULL)
		return role != NULL && json_is_string(v) &&
		    strcmp(json_string_value(v), role) == 0;
	return 0;
}

static int
names_class(const json_t *c, const char *cls)
{
	const json_t *classes = json_object_get(c, "classes"), *v;
	size_t i;

	if (!json_is_array(classes))
		return 0;
	json_array_foreach (classes, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), cls) == 0)
			return 1;
	}
	return 0;
}

/* Refusals ranked by how much they tell the user; VALID is never ranked. */
static int
rank(enum cv_consent_state s)
{
	switch (s) {
	case CV_CONSENT_WITHDRAWN:
		return 3;
	case CV_CONSENT_EXPIRED:
		return 2;
	case CV_CONSENT_WRONG_PURPOSE:
		return 1;
	default:
		return 0;
	}
}

/* The state of one consent that applies to the recipient and the class. */
static enum cv_consent_state
state_of(const json_t *c, const char *purpose, uint64_t now)
{
	const json_t *p = json_object_get(c, "purpose");
	const char *s;
	uint64_t from, until, end;

	if (purpose == NULL || !json_is_string(p) ||
	    strcmp(json_string_value(p), purpose) != 0)
		return CV_CONSENT_WRONG_PURPOSE;
	if (json_object_get(c, "withdrawn") != NULL)
		return CV_CONSENT_WITHDRAWN;
	if ((s = json_string_value(json_object_get(c, "from"))) == NULL ||
	    cv_parse_time(s, &from) != 0)
		return CV_CONSENT_NONE;
	end = from + CV_CONSENT_PERIOD_MAX;
	if (json_object_get(c, "until") != NULL) {
		if ((s = json_string_value(json_object_get(c, "until"))) ==
		        NULL ||
		    cv_parse_time(s, &until) != 0)
			return CV_CONSENT_NONE;
		if (until < end)
			end = until;
	}
	if (now < from)
		return CV_CONSENT_NONE;
	if (now >= end)
		return CV_CONSENT_EXPIRED;
	return CV_CONSENT_VALID;
}

enum cv_consent_state
cv_consent_covers(const json_t *consents, const char *user, const char *role,
    int cls, const char *purpose, uint64_t now, const char **id)
{
	enum cv_consent_state best = CV_CONSENT_NONE, s;
	const char *clsname = cv_class_name((enum cv_class)cls);
	const json_t *c;
	size_t i;

	if (id != NULL)
		*id = NULL;
	if (!json_is_array(consents) || clsname == NULL)
		return CV_CONSENT_NONE;
	json_array_foreach (consents, i, c) {
		if (!json_is_object(c) || !recipient_matches(c, user, role) ||
		    !names_class(c, clsname))
			continue;
		s = state_of(c, purpose, now);
		if (s == CV_CONSENT_VALID) {
			if (id != NULL)
				*id =
				    json_string_value(json_object_get(c, "id"));
			return CV_CONSENT_VALID;
		}
		if (rank(s) > rank(best))
			best = s;
	}
	return best;
}

int
cv_consent_mark_withdrawn(json_t *consent, const char *by, uint64_t now)
{
	char t[25];

	if (!json_is_object(consent) || by == NULL || !cv_name_valid(by))
		return CV_EINVAL;
	if (json_object_get(consent, "withdrawn") != NULL)
		return CV_ESTATE;
	cv_format_time(now, t);
	if (json_object_set_new(consent, "withdrawn", json_string(t)) != 0 ||
	    json_object_set_new(consent, "withdrawn_by", json_string(by)) !=
	        0) {
		json_object_del(consent, "withdrawn");
		json_object_del(consent, "withdrawn_by");
		return CV_ENOMEM;
	}
	return 0;
}
