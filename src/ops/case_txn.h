/*
 * A transaction on one live case, the frame shared by the operations on
 * a case and its objects: begun with the case's metadata loaded, and, for
 * a write, ended by recording that the audited change took effect in the
 * same commit that makes it.
 */
#ifndef CV_CASE_TXN_H
#define CV_CASE_TXN_H

#include <stdint.h>

#include <jansson.h>

#include "casevault.h"
#include "base/crypto.h"
#include "store/store.h"

struct cv_gate_req;

struct cv_gate_req;
struct cv_session;

/*
 * Begin a transaction of MODE on the session's store into *TXN and load
 * the metadata of the live case CASE_ID into *META (a new reference). A
 * write transaction begins with no write event open (cv_outcome_txn_begin).
 * On failure nothing is left open: *TXN and *META are NULL.
 * Returns 0, CV_ENOTFOUND (no case CASE_ID, or it was erased), or an
 * error of the store.
 */
int cv_case_txn_begin(struct cv_session *s, const char *case_id,
    enum cv_txn_mode mode, struct cv_txn **txn, json_t **meta);

/*
 * Begin a read of the live case Q->case_id: a read-only transaction and
 * the case's metadata as cv_case_txn_begin, then the gate's decision on
 * Q, given that metadata in Q->meta, recorded as an event without further
 * detail. On a refusal or a failure nothing is left open (*TXN and *META
 * NULL). Returns 0, CV_ENOTFOUND, the gate's answers or a store error.
 */
int cv_case_txn_begin_read(struct cv_session *s, struct cv_gate_req *q,
    struct cv_txn **txn, json_t **meta);

/*
 * Mark the change audited as event SEQ applied (cv_event_applied) and
 * commit *TXN with it. When the mark fails *TXN is left for the caller to
 * abort; once the commit is tried, committed or not, *TXN is NULL.
 * Returns 0 or an error of the store.
 */
int cv_case_txn_commit(struct cv_session *s, struct cv_txn **txn, uint64_t seq);

/*
 * The last step of an operation that changes the case's metadata, staged
 * as VERSION (cv_case_stage) and allowed by the gate as event SEQ: save
 * META as the metadata of CASE_ID (cv_case_save) and commit as
 * cv_case_txn_commit. Returns 0 or an error of the store.
 */
int cv_case_txn_save(struct cv_session *s, struct cv_txn **txn,
    const char *case_id, const json_t *meta, uint64_t version, uint64_t seq);

/*
 * The last step of an operation that writes one per-case object, staged
 * as VERSION (cv_casedata_stage) and allowed by the gate as event SEQ: seal
 * OBJ as object ID of KIND in case
 * CASE_ID under KEY, the case key (cv_casedata_put, replacing it), and
 * commit as cv_case_txn_commit. Returns 0 or an error of the store.
 */
int cv_case_txn_put(struct cv_session *s, struct cv_txn **txn,
    const char *case_id, char kind, const char *id,
    const uint8_t key[static CV_KEYBYTES], const json_t *obj, uint64_t version,
    uint64_t seq);

/*
 * The whole of a write of the case's metadata once it is built: stage NEXT
 * as case CASE_ID's new metadata (its version and digest noted in *EV,
 * made when NULL), decide Q with that event, and when allowed save NEXT
 * and commit (cv_case_txn_save). Returns 0, CV_EDENIED and the gate's
 * other refusals, CV_EAUDIT, or an error of the store.
 */
int cv_case_txn_decide_save(struct cv_session *s, struct cv_txn **txn,
    const struct cv_gate_req *q, const char *case_id, const json_t *next,
    json_t **ev) __attribute__((warn_unused_result));

/*
 * The same for one per-case object: stage OBJ as object ID of KIND in
 * case CASE_ID, decide Q, and when allowed seal it under KEY and commit
 * (cv_case_txn_put).
 */
int cv_case_txn_decide_put(struct cv_session *s, struct cv_txn **txn,
    const struct cv_gate_req *q, const char *case_id, char kind, const char *id,
    const uint8_t key[static CV_KEYBYTES], const json_t *obj, json_t **ev)
    __attribute__((warn_unused_result));

/*
 * As cv_case_txn_put for a new object that commands name by its id alone
 * (cv_casedata_put_indexed: sealed under the case key, which it fetches,
 * and indexed).
 */
int cv_case_txn_put_indexed(struct cv_session *s, struct cv_txn **txn,
    const char *case_id, char kind, const char *id, const json_t *obj,
    uint64_t version, uint64_t seq);

/*
 * A new id for an object of KIND in case CASE_ID (KIND and 10 base32
 * characters) into ID, taken by no object of the vault's index nor of the
 * case, as seen by TXN: a write transaction, so no other writer can take
 * it before the caller's put. Returns 0, CV_EEXIST (no free id found; ID
 * is ""), or an error of the store.
 */
int cv_case_txn_new_id(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, char kind, char id[static CV_OBJECT_ID_LEN + 1]);

/*
 * Build, for the new id ID, the object cv_case_txn_create adds and the
 * detail of its event, as new references in *OBJ and *EV (ARG is the
 * caller's); either is NULL when out of memory.
 */
typedef void (*cv_case_obj_build_fn)(struct cv_session *s, const char *id,
    const void *arg, json_t **obj, json_t **ev);

/*
 * Add a new object of KIND, named by its id alone, to the live case
 * Q->case_id, in one write transaction: a new id (KIND and 10 base32
 * characters) into ID, the object and the event's detail from BUILD, the
 * gate's decision on Q (given the case's metadata in Q->meta) recorded
 * with that detail, and, when allowed, the object sealed, indexed and
 * committed with the decision marked applied. ID is "" on failure.
 * Returns 0, CV_ENOTFOUND (no live case), CV_ENOMEM, the gate's answers,
 * or a store or integrity error.
 */
int cv_case_txn_create(struct cv_session *s, struct cv_gate_req *q, char kind,
    cv_case_obj_build_fn build, const void *arg,
    char id[static CV_OBJECT_ID_LEN + 1]);

#endif
