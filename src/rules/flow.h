/*
 * The service flow of a case: the ordered steps of social rehabilitation
 * (forms/flow.json) and the rule for moving a case from one step to
 * another. The steps, their labels and which of them may be skipped or
 * repeated are data; the rule is code. See docs/service-flow.md.
 */
#ifndef CV_FLOW_H
#define CV_FLOW_H

#include <stddef.h>

/* Largest flow definition accepted, in bytes. */
#define CV_FLOW_TEXT_MAX (32 * 1024)

struct cv_flow;

/*
 * Parse the flow definition TEXT (LEN bytes). On success *out is owned by
 * the caller (cv_flow_free). CV_ETOOBIG, CV_EJSON, or CV_ESCHEMA with the
 * rule broken in ERR (ERRLEN bytes, may be NULL/0); CV_EINVAL for NULLs.
 */
int cv_flow_load(const char *text, size_t len, struct cv_flow **out, char *err,
    size_t errlen);

/* Free a flow. NULL is allowed. */
void cv_flow_free(struct cv_flow *f);

/*
 * May a case at step FROM (NULL: a new case) move to step TO? REASON is the
 * reason recorded with the move, needed to close a case before its
 * follow-up recommendation (may be NULL otherwise). Returns 0 when allowed;
 * CV_ESTATE when not, with the reason in WHY (WHYLEN bytes, may be NULL/0),
 * e.g. "cannot move from initial_counselling to family_tracing:
 * schedule_agreed must come first"; CV_EINVAL for an unknown step or NULL
 * F or TO. WHY names steps of the flow only, never REASON or unknown input.
 */
int cv_flow_check(const struct cv_flow *f, const char *from, const char *to,
    const char *reason, char *why, size_t whylen);

/*
 * The label of STEP in LANG ("en" or "id"), borrowed for the flow's
 * lifetime, or NULL for an unknown step or language.
 */
const char *cv_flow_label(
    const struct cv_flow *f, const char *step, const char *lang);

/* The step every new case starts at ("referral_received"). */
const char *cv_flow_first(const struct cv_flow *f);

/*
 * The key of the step at I, in the flow's order, borrowed for the flow's
 * lifetime; NULL past the last step or for a NULL F.
 */
const char *cv_flow_step(const struct cv_flow *f, size_t i);

#endif
