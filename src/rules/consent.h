/*
 * Consent: the survivor's (or, for a child, the guardian's) agreement to
 * share some classes of a case with one recipient for one purpose, for a
 * bounded period, until withdrawn. The object format is in docs/consent.md.
 * These functions are pure: the gate stores consents and passes them in.
 */
#ifndef CV_CONSENT_H
#define CV_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "casevault.h"
#include "rules/policy.h"

/* The longest period of one consent, in milliseconds. */
#define CV_CONSENT_PERIOD_MAX ((uint64_t)CV_CONSENT_DAYS_MAX * 24 * 3600 * 1000)
/* Bounds of the free-text fields (bytes) and of the perpetrator list. */
#define CV_CONSENT_TEXT_MAX  200
#define CV_CONSENT_ID_MAX    64
#define CV_CONSENT_PERPS_MAX 32
#define CV_CONSENT_WHY_MIN   192 /* a useful size for WHY */

/* 1 when PURPOSE (NUL-terminated, may be NULL) is in the fixed list. */
int cv_consent_purpose_valid(const char *purpose);

/* The purpose at I of the fixed list (static), or NULL past its end. */
const char *cv_consent_purpose(size_t i);

/*
 * Validate a new grant GRANT (a JSON object, borrowed) before it is stored.
 * CHILD: the case is a child's (under 18). PERPETRATORS: the intake's
 * alleged perpetrators, an array of objects with "relationship" and
 * optionally "name", or NULL. NOW: the time of the grant, ms since the epoch.
 * Refused, with a short reason in WHY (WHYLEN bytes, NUL-terminated; names a
 * field, never its value):
 *  - a field missing, of the wrong type, unknown, or "withdrawn" /
 *    "withdrawn_by" present on a new grant;
 *  - an unknown class, purpose or recipient role, or the recipient admin or
 *    auditor (they read no record contents);
 *  - "until" not after "from", "until" not after NOW, a period longer than
 *    CV_CONSENT_PERIOD_MAX;
 *  - a child's case granted by anyone but a guardian, an adult's case granted
 *    by anyone but the survivor, a guardian grant without the child's assent;
 *  - on a child's case, a guardian relationship that is not a current word
 *    of the relationship vocabulary (rules/forms.h), a guardian name that
 *    is only a title, or a guardian cv_consent_guardian_match does not
 *    find CLEAR of the perpetrators.
 * "id" is optional here (the vault assigns it); when present it must be 1 to
 * CV_CONSENT_ID_MAX bytes of [A-Za-z0-9_.-].
 * Returns 0 or CV_EINVAL.
 */
int cv_consent_validate(const json_t *grant, int child,
    const json_t *perpetrators, uint64_t now, char *why, size_t whylen);

/* How a guardian compares with the intake's alleged perpetrators. */
enum cv_guardian_match {
	CV_GUARDIAN_CLEAR = 0, /* another person than every one of them */
	CV_GUARDIAN_MAYBE,     /* not told apart from one: refused too */
	CV_GUARDIAN_SAME       /* one of them */
};

/*
 * GUARDIAN ({"name", "relationship"}, borrowed) against PERPETRATORS (as
 * for cv_consent_validate; NULL: none), the worst over the list. Names are
 * compared as words, ASCII case, spacing, dots and commas and the titles
 * in front (Pak, Bu, Bapak, Ibu, H., ...) set aside: the same words are
 * the same person, the words of one all within the other may be. The same
 * relationship that one person holds (mother, father, stepmother,
 * stepfather, spouse) is the same person; another shared relationship, or
 * an older intake's word that covers it ("parent" for mother or father,
 * "step_parent", "relative"), may be when the perpetrator has no name to
 * tell them apart. A malformed guardian or list is MAYBE. Never fails.
 */
enum cv_guardian_match cv_consent_guardian_match(
    const json_t *guardian, const json_t *perpetrators);

/*
 * Which consent of CONSENTS (a JSON array of stored consents, borrowed)
 * covers recipient USER of role ROLE, class CLS (enum cv_class) and PURPOSE
 * at NOW. A consent applies to the recipient when its "recipient" is
 * {"user": USER} or {"role": ROLE}, and to the class only when "classes"
 * names CLS (there is no wildcard, so counseling_note is covered only by a
 * consent that names it). Returns CV_CONSENT_VALID and sets *id (borrowed
 * from CONSENTS; ID may be NULL) for the first consent that applies, has
 * PURPOSE, is in its period and is not withdrawn. Otherwise *id is NULL and
 * the most informative refusal among the consents that apply to recipient
 * and class: WITHDRAWN (a "withdrawn" field is present: it takes effect at
 * once, whatever its time), then EXPIRED (NOW at or after "until", or after
 * the longest period when "until" is absent), then WRONG_PURPOSE (PURPOSE is
 * NULL or another), then NONE (also for a consent not yet in force, or one
 * that does not parse). Never fails.
 */
enum cv_consent_state cv_consent_covers(const json_t *consents,
    const char *user, const char *role, int cls, const char *purpose,
    uint64_t now, const char **id);

/*
 * Withdraw CONSENT (a stored consent object, modified in place): set
 * "withdrawn" to NOW and "withdrawn_by" to BY (a staff user id). Returns 0,
 * CV_ESTATE when it is already withdrawn, CV_EINVAL for a bad argument.
 */
int cv_consent_mark_withdrawn(json_t *consent, const char *by, uint64_t now);

#endif
