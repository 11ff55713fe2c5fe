/*
 * The reference monitor. Every access to case data is decided here, by the
 * role policy, need-to-know (the case team, an approved request, an open
 * break-glass window) and the survivor's consent; the decision, allowed or
 * refused, is made durable in the audit trail before anything is returned
 * or changed; and only then is a record opened.
 */
#ifndef CV_GATE_H
#define CV_GATE_H

#include <stdint.h>

#include <jansson.h>

#include "base/classes.h"
#include "gate/decide.h"

struct cv_session;
struct cv_txn;

/* The session's own subject: who is asking, borrowed from S. */
struct cv_subject cv_gate_subject(const struct cv_session *s);

struct cv_gate_req {
	struct cv_subject who; /* who asks: cv_gate_subject() of the session */
	enum cv_action action; /* the policy or built-in action */
	const char *op;        /* what the event calls it: "record.show" */
	const char *case_id;   /* NULL for an action on no case */
	const json_t *meta;    /* the case's metadata, when case_id is set */
	cv_classmask classes;  /* classes touched; 0: an action on no class */
	const char *purpose;   /* NULL when none was stated */
	uint32_t record;       /* 0 when none */
	uint32_t version;      /* 0 when none */
	uint32_t account;      /* an action on an account: its staff id;
	                          breakglass.review: the reviewed one's actor */
	uint64_t closes;       /* breakglass.review: when the window closes */
	int write;             /* the event precedes a change to the store */
	int partial;           /* reads: allow the permitted classes only */
	const char *request;   /* a request id the access relies on, or NULL */
};

struct cv_gate_res {
	cv_classmask allowed;  /* classes the decision allowed */
	cv_classmask withheld; /* classes touched but refused */
	uint64_t seq;          /* the audit event */
	int breakglass;        /* the access relied on a break-glass window */
	char rule[64];
	char reason[160];
};

/*
 * Decide Q (cv_gate_decide() once per class, over the facts of the case
 * read in TXN) and record the decision as one event: actor and role of
 * Q->who, the action's name as "access", the case's pseudonym, record,
 * version, the classes allowed and withheld, purpose, decision, rule, the
 * consent, request and break-glass window relied on, "subject" (the staff
 * id of Q->account, when set) and EXTRA's fields where the gate set none
 * (EXTRA is borrowed and may be NULL). Q->who must be the session's own
 * subject: the gate records nobody's decisions but the session's.
 * Returns 0 when allowed, CV_EDENIED when refused (cv_error_detail() names
 * the reason and the rule), CV_EAUDIT when the decision could not be
 * recorded (then nothing may proceed either way), CV_EINVAL for a subject
 * other than the session's, an action or a class out of range, or an error
 * loading the facts. TXN is the caller's transaction: a write transaction for
 * writes, so no other write can slip between the decision and the change.
 */
int cv_gate_check(struct cv_session *s, struct cv_txn *txn,
    const struct cv_gate_req *q, const json_t *extra, struct cv_gate_res *res)
    __attribute__((warn_unused_result));

/*
 * Decide and record a read of a record version (VERSION 0: the latest) by
 * the session's subject, then open it and return the allowed part:
 * {"case","record","version","type","author","time","data","withheld":[...]}
 * in *out (owned by the caller). Returns 0, CV_EDENIED when no class of the
 * record may be read, CV_ENOTFOUND, CV_EAUDIT, or a store error.
 */
int cv_gate_read_record(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, uint32_t record, uint32_t version,
    const char *op, const char *purpose, const char *request, json_t **out)
    __attribute__((warn_unused_result));

/*
 * As cv_gate_read_record, for another policy action on data than read
 * (e.g. CV_ACTION_DISCLOSE), and restricted to the classes in ONLY (0:
 * every class of the record). CV_ENOTFOUND when the record holds none of
 * ONLY.
 */
int cv_gate_read_record_as(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, uint32_t record, uint32_t version,
    const char *op, enum cv_action action, cv_classmask only,
    const char *purpose, const char *request, json_t **out)
    __attribute__((warn_unused_result));

/*
 * `policy explain`: how the gate decides ACTION on class CLS (-1: none) of
 * case CASE_ID (NULL: none) for WHO, another account or the session's own.
 * First the session's subject is decided and recorded as one event
 * "policy.explain", naming WHO by its staff id as "subject": explaining
 * oneself is the built-in rule builtin-explain-self, explaining someone
 * else is the policy action audit.read. Only when that is allowed is the
 * case loaded and WHO's verdict worked out, over the same facts the gate
 * would use, and returned in *out (owned by the caller): {"action","role",
 * "class","team","consent","request","breakglass","decision","rule",
 * "reason"}. WHO's verdict itself is not recorded: nothing was accessed.
 * Returns 0, CV_EDENIED (the session may not explain WHO), CV_ENOTFOUND
 * (no such case), CV_EAUDIT, CV_EINVAL, CV_ENOMEM, or a store error.
 */
int cv_gate_explain(struct cv_session *s, struct cv_txn *txn,
    const struct cv_subject *who, enum cv_action action, const char *case_id,
    int cls, const char *purpose, json_t **out)
    __attribute__((warn_unused_result));

/*
 * The verdict alone, without recording it: 1 when the session's subject
 * may do ACTION on class CLS (-1: none) of the case, 0 when not or when
 * the facts cannot be read (it fails closed). Its answer never lets
 * anything through by itself; it only chooses what to put to the gate,
 * which then records it in the same transaction:
 *  - filtering a listing whose result cv_gate_check then records as one
 *    event (case list, request list);
 *  - choosing which records to open, each then opened and recorded by
 *    cv_gate_read_record (the summary of case show), so that records one
 *    may not read leave no refusal per record;
 *  - putting a refusal first, which cv_gate_check then records, before
 *    anything else about the case is looked at (case step).
 */
int cv_gate_decide_only(struct cv_session *s, struct cv_txn *txn,
    enum cv_action action, const char *case_id, const json_t *meta, int cls)
    __attribute__((warn_unused_result));

/*
 * For de-identified aggregates (the coverage indicator): decide ACTION
 * (an action on no class, e.g. CV_ACTION_REPORT_READ) once, record the
 * decision as event OP with EXTRA's fields, and when allowed open the
 * latest version of every record of TYPE (NULL: every type) of every case
 * that is not erased, passing each to CB with the case metadata. CB may
 * only aggregate: it must not keep or return what it is given. A nonzero
 * return from CB stops the walk and is returned.
 */
struct cv_rec_hdr;
int cv_gate_aggregate(struct cv_session *s, const char *op,
    enum cv_action action, const char *type, const json_t *extra,
    int (*cb)(const char *case_id, const json_t *meta, uint32_t record,
        uint32_t version, const struct cv_rec_hdr *h, const json_t *data,
        void *arg),
    void *arg) __attribute__((warn_unused_result));

#endif
