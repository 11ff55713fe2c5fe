/*
 * The vault's time; see clock.h. The trail's last event time is read
 * from the current head each time, not from what this process last saw,
 * so that a later event by another process counts as well.
 */
#include <jansson.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "base/util.h"
#include "gate/clock.h"
#include "model/session.h"

int
cv_clock_now(struct cv_auditlog *a, uint64_t *now, uint64_t *behind)
{
	uint64_t sys = cv_now_ms(), last = 0;

	if (a != NULL && cv_auditlog_last_time(a, &last) != 0)
		return CV_EAUDIT;
	*now = sys < last ? last : sys;
	if (behind != NULL)
		*behind = sys < last ? last - sys : 0;
	return 0;
}

/* Keep BEHIND in S when it is past the tolerance. */
static void
note_behind(struct cv_session *s, uint64_t behind)
{
	if (behind > CV_CLOCK_TOLERANCE_MS && behind > s->clock_behind)
		s->clock_behind = behind;
}

int
cv_clock_session(struct cv_session *s, uint64_t *now)
{
	uint64_t behind;
	int r;

	if ((r = cv_clock_now(s->audit, now, &behind)) != 0)
		return r;
	note_behind(s, behind);
	return 0;
}

int
cv_clock_mark(struct cv_session *s, json_t *ev)
{
	uint64_t now, behind;
	int r;

	if ((r = cv_clock_now(s->audit, &now, &behind)) != 0)
		return r;
	note_behind(s, behind);
	if (behind > CV_CLOCK_TOLERANCE_MS &&
	    json_object_set_new(
	        ev, "clock_behind_ms", json_integer((json_int_t)behind)) != 0)
		return CV_ENOMEM;
	return 0;
}
