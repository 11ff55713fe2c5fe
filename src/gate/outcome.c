/* The outcome of audited writes; see outcome.h. */
#include <stdio.h>

#include <jansson.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "base/error.h"
#include "gate/event.h"
#include "gate/outcome.h"
#include "model/session.h"
#include "store/store.h"

int
cv_outcome_settle(struct cv_txn *txn, struct cv_session *s, int *changed)
{
	uint64_t last = 0, applied = 0;
	json_t *ev;
	int r;

	if ((r = cv_auditlog_last_write(s->audit, &last)) != 0)
		return r == CV_ENOMEM ? r : CV_EAUDIT;
	r = cv_meta_get_u64(txn, "applied", &applied);
	if (r != 0 && r != CV_ENOTFOUND)
		return r;
	if (last <= applied)
		return 0;
	if ((ev = cv_event_new(s, "audit.outcome")) == NULL)
		return CV_ENOMEM;
	json_object_set_new(ev, "ref_seq", json_integer((json_int_t)last));
	json_object_set_new(ev, "outcome", json_string("not_applied"));
	if ((r = cv_event_commit(s, ev, 0, NULL)) != 0)
		return r;
	*changed = 1;
	return cv_event_applied(txn, s, last);
}

int
cv_outcome_txn_begin(struct cv_session *s, struct cv_txn **txn)
{
	int r, changed = 0;

	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, txn)) != 0) {
		*txn = NULL;
		return r;
	}
	if ((r = cv_outcome_settle(*txn, s, &changed)) != 0)
		goto fail;
	if (!changed)
		return 0;
	/* The outcome is committed on its own, so the write that follows
	 * failing cannot take the mark back with it. */
	r = cv_txn_commit(*txn);
	*txn = NULL;
	if (r != 0)
		return r;
	if ((r = cv_txn_begin(s->st, CV_TXN_WRITE, txn)) != 0)
		*txn = NULL;
	return r;
fail:
	cv_txn_abort(*txn);
	*txn = NULL;
	return r;
}

void
cv_outcome_failed(struct cv_session *s, struct cv_txn **txn)
{
	struct cv_txn *t;
	char detail[256];

	if (*txn != NULL) {
		cv_txn_abort(*txn);
		*txn = NULL;
	}
	/* The caller's error detail is what the user is told. */
	snprintf(detail, sizeof(detail), "%s", cv_error_detail());
	if (cv_outcome_txn_begin(s, &t) == 0)
		cv_txn_abort(t);
	if (detail[0] != '\0')
		cv_error_set("%s", detail);
	else
		cv_error_clear();
}

void
cv_outcome_end(struct cv_session *s, struct cv_txn **txn, int r)
{
	if (r != 0) {
		cv_outcome_failed(s, txn);
		return;
	}
	cv_txn_abort(*txn);
	*txn = NULL;
}
