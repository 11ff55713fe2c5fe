/* A transaction on one live case; see case_txn.h. */
#include "casevault.h"
#include "gate/event.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "model/casemeta.h"
#include "model/caseobj.h"
#include "model/session.h"
#include "ops/case_txn.h"

int
cv_case_txn_begin(struct cv_session *s, const char *case_id,
    enum cv_txn_mode mode, struct cv_txn **txn, json_t **meta)
{
	int r;

	*meta = NULL;
	r = mode == CV_TXN_WRITE ? cv_outcome_txn_begin(s, txn)
	                         : cv_txn_begin(s->st, mode, txn);
	if (r != 0)
		return r;
	if ((r = cv_case_load_live(*txn, s, case_id, meta)) != 0) {
		cv_txn_abort(*txn);
		*txn = NULL;
	}
	return r;
}

int
cv_case_txn_begin_read(struct cv_session *s, struct cv_gate_req *q,
    struct cv_txn **txn, json_t **meta)
{
	struct cv_gate_res res;
	int r;

	if ((r = cv_case_txn_begin(s, q->case_id, CV_TXN_RDONLY, txn, meta)) !=
	    0)
		return r;
	q->meta = *meta;
	if ((r = cv_gate_check(s, *txn, q, NULL, &res)) != 0) {
		cv_txn_abort(*txn);
		*txn = NULL;
		json_decref(*meta);
		*meta = NULL;
		q->meta = NULL;
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

int
cv_case_txn_save(struct cv_session *s, struct cv_txn **txn, const char *case_id,
    const json_t *meta, uint64_t version, uint64_t seq)
{
	int r;

	if ((r = cv_case_save(*txn, s, case_id, meta, version, seq)) != 0)
		return r;
	return cv_case_txn_commit(s, txn, seq);
}

int
cv_case_txn_put(struct cv_session *s, struct cv_txn **txn, const char *case_id,
    char kind, const char *id, const uint8_t key[static CV_KEYBYTES],
    const json_t *obj, uint64_t version, uint64_t seq)
{
	int r;

	if ((r = cv_casedata_put(
	         *txn, s, case_id, kind, id, key, obj, version, seq)) != 0)
		return r;
	return cv_case_txn_commit(s, txn, seq);
}

int
cv_case_txn_decide_save(struct cv_session *s, struct cv_txn **txn,
    const struct cv_gate_req *q, const char *case_id, const json_t *next,
    json_t **ev)
{
	struct cv_gate_res res;
	uint64_t version;
	int r;

	if ((r = cv_case_stage(*txn, s, case_id, next, ev, &version)) != 0 ||
	    (r = cv_gate_check(s, *txn, q, *ev, &res)) != 0)
		return r;
	return cv_case_txn_save(s, txn, case_id, next, version, res.seq);
}

int
cv_case_txn_decide_put(struct cv_session *s, struct cv_txn **txn,
    const struct cv_gate_req *q, const char *case_id, char kind, const char *id,
    const uint8_t key[static CV_KEYBYTES], const json_t *obj, json_t **ev)
{
	struct cv_gate_res res;
	uint64_t version;
	int r;

	if ((r = cv_casedata_stage(
	         *txn, s, case_id, kind, id, obj, ev, &version)) != 0 ||
	    (r = cv_gate_check(s, *txn, q, *ev, &res)) != 0)
		return r;
	return cv_case_txn_put(
	    s, txn, case_id, kind, id, key, obj, version, res.seq);
}

int
cv_case_txn_put_indexed(struct cv_session *s, struct cv_txn **txn,
    const char *case_id, char kind, const char *id, const json_t *obj,
    uint64_t version, uint64_t seq)
{
	int r;

	if ((r = cv_casedata_put_indexed(
	         *txn, s, case_id, kind, id, obj, version, seq)) != 0)
		return r;
	return cv_case_txn_commit(s, txn, seq);
}

int
cv_case_txn_new_id(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, char kind, char id[static CV_OBJECT_ID_LEN + 1])
{
	char cid[CV_CASE_ID_LEN + 1];
	int r, tries;

	/* Ids are random: one taken already is all but impossible, and is
	 * never replaced. Indexed ids are unique in the vault. */
	for (tries = 0; tries < 8; tries++) {
		cv_casedata_id_new(kind, id);
		r = cv_casedata_lookup(txn, s, id, cid);
		if (r == CV_ENOTFOUND)
			r = cv_casedata_exists(txn, s, case_id, kind, id);
		if (r == CV_ENOTFOUND)
			return 0;
		if (r != 0)
			break;
	}
	id[0] = '\0';
	return CV_EEXIST;
}

int
cv_case_txn_create(struct cv_session *s, struct cv_gate_req *q, char kind,
    cv_case_obj_build_fn build, const void *arg,
    char id[static CV_OBJECT_ID_LEN + 1])
{
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *obj = NULL, *ev = NULL;
	uint64_t version;
	int r;

	id[0] = '\0';
	if ((r = cv_case_txn_begin(s, q->case_id, CV_TXN_WRITE, &txn, &meta)) !=
	    0)
		return r;
	/* Decided under the write lock, so no other writer takes it before
	 * the put. */
	if ((r = cv_case_txn_new_id(s, txn, q->case_id, kind, id)) != 0)
		goto out;
	build(s, id, arg, &obj, &ev);
	if (obj == NULL || ev == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_casedata_stage(
	         txn, s, q->case_id, kind, id, obj, &ev, &version)) != 0)
		goto out;
	q->meta = meta;
	if ((r = cv_gate_check(s, txn, q, ev, &res)) != 0)
		goto out;
	r = cv_case_txn_put_indexed(
	    s, &txn, q->case_id, kind, id, obj, version, res.seq);
out:
	q->meta = NULL;
	if (r != 0) {
		cv_outcome_failed(s, &txn);
		id[0] = '\0';
	}
	json_decref(meta);
	json_decref(obj);
	json_decref(ev);
	return r;
}
