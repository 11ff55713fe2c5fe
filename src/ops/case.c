/*
 * The case commands: open, list, show, assign and close, each decided by
 * the gate. The metadata and keys they act on are in model/casemeta.c.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "model/casemeta.h"
#include "model/caseobj.h"
#include "ops/case_txn.h"
#include "ops/case_summary.h"
#include "casevault.h"
#include "base/error.h"
#include "base/crypto.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "rules/policy.h"
#include "model/recstore.h"
#include "ops/record.h"
#include "store/store.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"

int
cv_case_open(struct cv_session *s, const json_t *intake,
    char id[static CV_CASE_ID_LEN + 1])
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_CASE_OPEN,
	    .op = "case.open",
	    .write = 1};
	struct cv_gate_res res;
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *probe = NULL, *ev = NULL;
	cv_classmask classes;
	uint64_t version;
	char err[256];
	uint32_t rid;
	int r;

	cv_error_clear();
	id[0] = '\0';
	/* Bad intake changes nothing: check it before the case exists. */
	if (intake != NULL &&
	    (r = cv_record_validate(
	         "intake", intake, &classes, err, sizeof(err))) != 0) {
		cv_error_set("%s", err);
		return r;
	}
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		return r;
	do {
		json_decref(probe);
		probe = NULL;
		cv_case_id_new(id);
	} while (cv_case_load(txn, s, id, &probe) != CV_ENOTFOUND);
	meta = json_pack("{s:s, s:s, s:I, s:[I], s:I, s:n, s:i, s:b}", "id", id,
	    "status", "open", "opener", (json_int_t)s->uid, "team",
	    (json_int_t)s->uid, "opened", (json_int_t)cv_now_ms(), "closed",
	    "next_record", 1, "erased", 0);
	if (meta == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_case_stage(txn, s, id, meta, &ev, &version)) != 0)
		goto out;
	q.case_id = id;
	q.meta = meta;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	cv_random(key, sizeof(key));
	if ((r = cv_casekey_put(
	         txn, s, id, key, s->keys->kek, s->keys->kek_gen)) != 0 ||
	    (r = cv_case_txn_save(s, &txn, id, meta, version, res.seq)) != 0)
		goto out;
	if (intake != NULL)
		r = cv_record_add(s, id, "intake", intake, &rid);
out:
	sodium_memzero(key, sizeof(key));
	cv_outcome_end(s, &txn, r);
	json_decref(meta);
	json_decref(ev);
	return r;
}

struct list_ctx {
	struct cv_session *s;
	struct cv_txn *txn;
	json_t *arr;
};

/*
 * A case is listed when its case_admin may be read; the decision for
 * each case is made, but one event records the listing as a whole.
 */
static int
list_case(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct list_ctx *l = arg;
	char id[CV_CASE_ID_LEN + 1];
	json_t *meta;

	(void)v;
	if (k->len != CV_CASE_ID_LEN)
		return 0;
	memcpy(id, k->data, CV_CASE_ID_LEN);
	id[CV_CASE_ID_LEN] = '\0';
	if (cv_case_load_live(l->txn, l->s, id, &meta) != 0)
		return 0;
	if (cv_gate_decide_only(
	        l->s, l->txn, CV_ACTION_READ, id, meta, CV_CLASS_CASE_ADMIN))
		json_array_append(l->arr, meta);
	json_decref(meta);
	return 0;
}

int
cv_case_list(struct cv_session *s, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_CASE_LIST,
	    .op = "case.list"};
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	struct list_ctx l;
	json_t *arr = NULL, *ev;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((arr = json_array()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	l.s = s;
	l.txn = txn;
	l.arr = arr;
	if ((r = cv_store_scan(txn, CV_DB_CASES, NULL, 0, list_case, &l)) != 0)
		goto out;
	/* One event for the listing, by the built-in rule; each case in it
	 * was decided by the policy's "read" of its case_admin. */
	ev = json_pack("{s:I}", "count", (json_int_t)json_array_size(arr));
	r = cv_gate_check(s, txn, &q, ev, &res);
	json_decref(ev);
	if (r != 0)
		goto out;
	*out = arr;
	arr = NULL;
out:
	cv_txn_abort(txn);
	json_decref(arr);
	return r;
}

static int
add_version(
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h, void *arg)
{
	json_t *recs = arg, *e;
	char key[16];

	snprintf(key, sizeof(key), "%u", (unsigned)record);
	e = json_pack("{s:I, s:s, s:I, s:I}", "record", (json_int_t)record,
	    "type", h->type, "versions", (json_int_t)version, "author",
	    (json_int_t)h->author);
	if (e != NULL)
		json_object_set_new(recs, key, e);
	return 0;
}

int
cv_case_show(struct cv_session *s, const char *case_id, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_READ,
	    .op = "case.show",
	    .classes = CV_CLASS_BIT(CV_CLASS_CASE_ADMIN),
	    .case_id = case_id};
	struct cv_txn *txn;
	json_t *meta, *recs = NULL, *list, *e;
	const char *k;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_case_txn_begin_read(s, &q, &txn, &meta)) != 0)
		return r;
	if ((recs = json_object()) == NULL || (list = json_array()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_rec_foreach(txn, s, case_id, add_version, recs)) != 0) {
		json_decref(list);
		goto out;
	}
	json_object_foreach (recs, k, e)
		json_array_append(list, e);
	json_object_set_new(meta, "records", list);
	if ((r = cv_case_summary(s, txn, case_id, meta, meta)) != 0)
		goto out;
	*out = meta;
	meta = NULL;
out:
	cv_txn_abort(txn);
	json_decref(meta);
	json_decref(recs);
	return r;
}

/* Add USER to the team of CASE_ID, or with REMOVE take them off it. */
static int
team_change(
    struct cv_session *s, const char *case_id, const char *user, int remove)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_ASSIGN,
	    .op = remove ? "case.unassign" : "case.assign",
	    .case_id = case_id,
	    .write = 1};
	struct cv_user u;
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *next = NULL, *team, *m, *ev = NULL;
	size_t i;
	int r, found;

	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	if ((r = cv_user_get(txn, user, &u)) != 0)
		goto out;
	/* Whoever joins must be as casevault wrote them; an edited account
	 * can still be taken off. */
	if (!remove && (r = cv_user_check(txn, s, &u)) != 0)
		goto out;
	team = json_object_get(meta, "team");
	found = cv_case_on_team(meta, u.id);
	if ((!remove && found) || (remove && !found)) {
		r = remove ? CV_ENOTFOUND : CV_EEXIST;
		goto out;
	}
	if (!remove && (u.disabled || json_array_size(team) >= CV_TEAM_MAX)) {
		r = u.disabled ? CV_EDISABLED : CV_ETOOBIG;
		goto out;
	}
	/* The gate decides on the team as it is; the event names the team
	 * as it will be. */
	if ((next = json_deep_copy(meta)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	team = json_object_get(next, "team");
	if (remove) {
		json_array_foreach (team, i, m)
			if (json_integer_value(m) == u.id) {
				json_array_remove(team, i);
				break;
			}
	} else {
		json_array_append_new(team, json_integer(u.id));
	}
	q.meta = meta;
	ev = json_pack("{s:o}", "member", json_sprintf("u%u", (unsigned)u.id));
	r = cv_case_txn_decide_save(s, &txn, &q, case_id, next, &ev);
out:
	cv_outcome_end(s, &txn, r);
	json_decref(meta);
	json_decref(next);
	json_decref(ev);
	return r;
}

int
cv_case_assign(struct cv_session *s, const char *case_id, const char *user)
{
	cv_error_clear();
	return team_change(s, case_id, user, 0);
}

int
cv_case_unassign(struct cv_session *s, const char *case_id, const char *user)
{
	cv_error_clear();
	return team_change(s, case_id, user, 1);
}

int
cv_case_close(struct cv_session *s, const char *case_id, const char *reason)
{
	cv_error_clear();
	/* One way to close, so neither can get round the flow's rule. */
	return cv_case_step(s, case_id, "closed", reason);
}
