/* A transaction on one live case; see case_txn.h. */
#include "casevault.h"
#include "gate/event.h"
#include "model/casemeta.h"
#include "model/session.h"
#include "ops/case_txn.h"

int
cv_case_txn_begin(struct cv_session *s, const char *case_id,
    enum cv_txn_mode mode, struct cv_txn **txn, json_t **meta)
{
	int r;

	*meta = NULL;
	if ((r = cv_txn_begin(s->st, mode, txn)) != 0)
		return r;
	if ((r = cv_case_load_live(*txn, s, case_id, meta)) != 0) {
		cv_txn_abort(*txn);
		*txn = NULL;
	}
	return r;
}

int
cv_case_txn_commit(struct cv_session *s, struct cv_txn **txn, uint64_t seq)
{
	int r;

	if ((r = cv_event_applied(*txn, s, seq)) != 0)
		return r;
	r = cv_txn_commit(*txn);
	*txn = NULL;
	return r;
}
