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

struct cv_session;
struct cv_txn;

struct cv_gate_req {
	const char *op;       /* what the event calls it: "record.show" */
	const char *access;   /* the policy action: "read" */
	const char *case_id;  /* NULL for an action on no case */
	const json_t *meta;   /* the case's metadata, when case_id is set */
	cv_classmask classes; /* classes touched; 0: an action on no class */
	const char *purpose;  /* NULL when none was stated */
	uint32_t record;      /* 0 when none */
	uint32_t version;     /* 0 when none */
	int write;            /* the event precedes a change to the store */
	int partial;          /* reads: allow the permitted classes only */
	const char *request;  /* a request id the access relies on, or NULL */
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
 * Decide Q for the session, record the decision (with EXTRA's fields added
 * to the event; EXTRA is borrowed and may be NULL), and return 0 when
 * allowed, CV_EDENIED when refused, CV_EAUDIT when the decision could not
 * be recorded (then nothing may proceed either way). TXN is the caller's
 * transaction: a write transaction for writes, so no other write can slip
 * between the decision and the change.
 */
int cv_gate_check(struct cv_session *s, struct cv_txn *txn,
    const struct cv_gate_req *q, const json_t *extra, struct cv_gate_res *res);

/*
 * Decide and record a read of a record version (VERSION 0: the latest),
 * then open it and return the allowed part: {"case","record","version",
 * "type","author","time","data","withheld":[...]} in *out.
 */
int cv_gate_read_record(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, uint32_t record, uint32_t version,
    const char *op, const char *purpose, const char *request, json_t **out);

/*
 * As cv_gate_read_record, for another policy action than "read" (e.g.
 * "disclose"), and restricted to the classes in ONLY (0: every class of
 * the record). CV_ENOTFOUND when the record holds none of ONLY.
 */
int cv_gate_read_record_as(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, uint32_t record, uint32_t version,
    const char *op, const char *access, cv_classmask only, const char *purpose,
    const char *request, json_t **out);

/*
 * The verdict alone, for `policy explain`: each gate's answer for one
 * action on one case and class, recorded as an explain event.
 */
int cv_gate_explain(struct cv_session *s, struct cv_txn *txn,
    const char *action, const char *case_id, const json_t *meta, int cls,
    const char *purpose, json_t **out);

/*
 * The verdict alone, without recording it: 1 when ACTION on class CLS of
 * the case is allowed. Used only to filter listings whose result is then
 * recorded as one event by cv_gate_check.
 */
int cv_gate_decide_only(struct cv_session *s, struct cv_txn *txn,
    const char *action, const char *case_id, const json_t *meta, int cls);
/*
 * For de-identified aggregates (the coverage indicator): decide ACCESS
 * (an action on no class, e.g. "report.read") once, record the decision
 * as event OP with EXTRA's fields, and when allowed open the latest
 * version of every record of TYPE (NULL: every type) of every case that
 * is not erased, passing each to CB with the case metadata. CB may only
 * aggregate: it must not keep or return what it is given. A nonzero
 * return from CB stops the walk and is returned.
 */
struct cv_rec_hdr;
int cv_gate_aggregate(struct cv_session *s, const char *op, const char *access,
    const char *type, const json_t *extra,
    int (*cb)(const char *case_id, const json_t *meta, uint32_t record,
        uint32_t version, const struct cv_rec_hdr *h, const json_t *data,
        void *arg),
    void *arg);

#endif
