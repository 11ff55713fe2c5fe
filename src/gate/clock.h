/*
 * The vault's time: the later of the system clock and the time of the
 * last event in the audit trail. Every decision that depends on time
 * (consent and request expiry, break-glass windows, the login back-off)
 * and every time such a decision is later compared with (a window's
 * opening and end, an approval's end, a consent's start) is taken from
 * it, so setting the system clock back revives nothing that expired and
 * opens nothing that closed. The trail's writer keeps the same rule for
 * the events' own times (audit/auditlog.h). A clock set ahead is taken
 * as it is: nothing can tell it from time passing (SECURITY.md).
 * Private to the library.
 */
#ifndef CV_CLOCK_H
#define CV_CLOCK_H

#include <stdint.h>

#include <jansson.h>

struct cv_auditlog;
struct cv_session;

/*
 * How far the system clock may be behind the trail before events and the
 * user are told: clocks of one machine drift and are stepped by NTP, and
 * the trail's time can be a little ahead of this process's after another
 * process's append. Five minutes.
 */
#define CV_CLOCK_TOLERANCE_MS ((uint64_t)5 * 60 * 1000)

/*
 * The vault's time by the trail A (NULL: the system clock alone) into
 * *now; into *behind (may be NULL) how far the system clock is behind
 * the trail's last event, 0 when it is not. Returns 0, or CV_EAUDIT when
 * the trail's head cannot be read: the caller then decides nothing.
 */
int cv_clock_now(struct cv_auditlog *a, uint64_t *now, uint64_t *behind)
    __attribute__((warn_unused_result));

/*
 * cv_clock_now of the session's trail, for a decision of the session.
 * When the clock is behind by more than CV_CLOCK_TOLERANCE_MS the session
 * keeps the largest such lag (cv_session_clock_behind()).
 */
int cv_clock_session(struct cv_session *s, uint64_t *now)
    __attribute__((warn_unused_result));

/*
 * Before EV is committed: when the system clock is behind the trail by
 * more than the tolerance, add "clock_behind_ms" (how far) to EV, and
 * keep it in the session as cv_clock_session does. Returns 0 or
 * CV_EAUDIT.
 */
int cv_clock_mark(struct cv_session *s, json_t *ev)
    __attribute__((warn_unused_result));

#endif
