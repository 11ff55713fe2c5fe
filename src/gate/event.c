/*
 * Audit events of a session. An event names people by staff id and role,
 * the session, the policy set in force by its hash, and a case only by its
 * keyed pseudonym, never by its id. A session of the daemon adds who is at
 * the other end of its socket ("peer"), and a session opened with a
 * one-time passphrase says so ("reset_credential").
 */
#include <jansson.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "base/crypto.h"
#include "gate/clock.h"
#include "gate/anchor.h"
#include "gate/event.h"
#include "model/session.h"
#include "store/store.h"

json_t *
cv_event_new(const struct cv_session *s, const char *action)
{
	json_t *ev;

	ev = json_pack("{s:s, s:s, s:s, s:s}", "action", action, "actor",
	    s->actor, "role", s->role, "session", s->session_id);
	if (ev == NULL)
		return NULL;
	if (s->policy_hash[0] != '\0')
		json_object_set_new(ev, "policy", json_string(s->policy_hash));
	/* Who is at the daemon's socket, for every event of its session. */
	if (s->has_peer)
		json_object_set_new(ev, "peer",
		    json_pack("{s:I, s:I, s:I}", "pid", (json_int_t)s->peer.pid,
		        "uid", (json_int_t)s->peer.uid, "gid",
		        (json_int_t)s->peer.gid));
	if (s->reset_credential)
		json_object_set_new(ev, "reset_credential", json_true());
	return ev;
}

void
cv_event_case(const struct cv_session *s, json_t *ev, const char *case_id)
{
	char p[CV_PSEUDONYM_LEN + 1];

	cv_pseudonym(s->keys->pseudo, case_id, p);
	json_object_set_new(ev, "case", json_string(p));
}

int
cv_event_commit(struct cv_session *s, json_t *ev, int write, uint64_t *seq)
{
	int r;

	if (ev == NULL)
		return CV_ENOMEM;
	if ((r = cv_clock_mark(s, ev)) != 0) {
		json_decref(ev);
		return r;
	}
	r = cv_auditlog_append(s->audit, ev, write ? CV_AUDIT_WRITE : 0, seq);
	json_decref(ev);
	return r == 0 ? 0 : (r == CV_ETOOBIG || r == CV_ENOMEM ? r : CV_EAUDIT);
}

int
cv_event_applied(struct cv_txn *txn, struct cv_session *s, uint64_t seq)
{
	int r;

	/* The anchor moves in the same transaction as the change. */
	if ((r = cv_meta_put_u64(txn, "applied", seq)) != 0)
		return r;
	return cv_anchor_advance(txn, s);
}
