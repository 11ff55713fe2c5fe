/*
 * Assessment instruments (HAM-D-17, HAM-A, MMSE) and their scoring.
 *
 * An instrument is a versioned data file (forms/instruments/NAME.json): its
 * items with their score ranges, the severity bands over the total, and
 * which direction of the total is worse. The loader parses that text from a
 * buffer; scoring checks an answer set against it and returns the stored
 * form of the assessment, which names the instrument version it was scored
 * with. See docs/assessments.md.
 */
#ifndef CV_ASSESS_H
#define CV_ASSESS_H

#include <stddef.h>

#include <jansson.h>

/* Largest instrument definition accepted, in bytes. */
#define CV_INSTRUMENT_TEXT_MAX (64 * 1024)
/* Largest answer set accepted by the command line, in bytes. */
#define CV_ANSWERS_TEXT_MAX (16 * 1024)

struct cv_instrument;

/*
 * Parse the instrument definition TEXT (LEN bytes, need not be
 * NUL-terminated). On success *out is a new instrument owned by the caller
 * (cv_instrument_free). Returns CV_ETOOBIG above CV_INSTRUMENT_TEXT_MAX,
 * CV_EJSON for malformed JSON, CV_ESCHEMA for a definition that breaks a
 * rule, with the rule in ERR (ERRLEN bytes, may be NULL/0); CV_EINVAL for a
 * NULL argument.
 */
int cv_instrument_load(const char *text, size_t len, struct cv_instrument **out,
    char *err, size_t errlen);

/* Free an instrument. NULL is allowed. */
void cv_instrument_free(struct cv_instrument *in);

/* The instrument's name ("hamd"), borrowed for the instrument's lifetime. */
const char *cv_instrument_name(const struct cv_instrument *in);

/* The version of the definition it was loaded from. */
unsigned cv_instrument_version(const struct cv_instrument *in);

/*
 * Score ANSWERS, an object {"items": [N, ...]} with one integer per item in
 * the instrument's order. ANSWERS is borrowed. On success *out is a new
 * reference owned by the caller:
 *   {"instrument", "version", "items": [...], "total", "severity",
 *    "severity_id"}
 * where "severity" is the band's English key and "severity_id" its
 * Indonesian label. Returns CV_ESCHEMA for a bad answer set with the item
 * and the rule in ERR ("item 4: must be 0-2", "items: expected 17, got 18");
 * ERR never holds an answer value. CV_EINVAL for NULL arguments, CV_ENOMEM.
 */
int cv_assess_score(const struct cv_instrument *in, const json_t *answers,
    json_t **out, char *err, size_t errlen);

/*
 * Did the survivor's condition worsen between OLDER and NEWER, two outputs
 * of cv_assess_score for this instrument? Worse is a higher total for
 * HAM-D and HAM-A and a lower one for MMSE, as the definition's "worse"
 * says. Returns 1 when NEWER is worse, 0 when it is not, CV_EINVAL when
 * either is not a scored assessment of this instrument.
 */
int cv_assess_worse(
    const struct cv_instrument *in, const json_t *older, const json_t *newer);

#endif
