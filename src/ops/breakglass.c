/*
 * Break-glass windows and the review queue: open a window, list the
 * windows and disclosures not yet reviewed, mark one reviewed. A window
 * is a sealed per-case object, indexed by its id (model/caseobj.h); each
 * step is a gate decision, audited before it takes effect.
 */
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/error.h"
#include "base/util.h"
#include "gate/clock.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "model/caseobj.h"
#include "model/session.h"
#include "ops/case_txn.h"
#include "store/store.h"

/* What a new window is made of, checked before the case is opened. */
struct new_window {
	uint64_t now;
	unsigned minutes;
	const char *reason;
};

static void
build_window(struct cv_session *s, const char *id, const void *arg, json_t **bg,
    json_t **ev)
{
	const struct new_window *w = arg;

	*bg = json_pack("{s:s, s:I, s:I, s:I, s:s, s:b}", "id", id, "user",
	    (json_int_t)s->uid, "opened", (json_int_t)w->now, "until",
	    (json_int_t)(w->now + (uint64_t)w->minutes * 60000), "reason",
	    w->reason, "reviewed", 0);
	/* The reason stays sealed in the case; the event says only that
	 * there is one. */
	*ev = json_pack(
	    "{s:s, s:I}", "breakglass", id, "minutes", (json_int_t)w->minutes);
}

int
cv_breakglass_open(struct cv_session *s, const char *case_id,
    const char *reason, unsigned minutes, char id[static CV_OBJECT_ID_LEN + 1])
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_BREAKGLASS_OPEN,
	    .op = "breakglass.open",
	    .case_id = case_id,
	    .write = 1};
	struct new_window w = {0, minutes, reason};
	size_t n = reason ? strlen(reason) : 0;
	int r;

	cv_error_clear();
	id[0] = '\0';
	if (w.minutes == 0)
		w.minutes = CV_BREAKGLASS_MINUTES_DEFAULT;
	if (w.minutes > CV_BREAKGLASS_MINUTES_MAX ||
	    n < CV_BREAKGLASS_REASON_MIN || n > CV_BREAKGLASS_REASON_MAX) {
		cv_error_set("a break-glass window needs a reason of %d to %d "
		             "characters and lasts at most %d minutes",
		    CV_BREAKGLASS_REASON_MIN, CV_BREAKGLASS_REASON_MAX,
		    CV_BREAKGLASS_MINUTES_MAX);
		return CV_EINVAL;
	}
	/* The window runs on the vault's time, the time the gate judges it
	 * by: opened with the clock set back, it is not over before it
	 * began. */
	if ((r = cv_clock_session(s, &w.now)) != 0)
		return r;
	return cv_case_txn_create(
	    s, &q, CV_CD_BREAKGLASS, build_window, &w, id);
}

struct bg_list {
	json_t *out;
	int all;
};

static int
list_window(struct cv_session *s, struct cv_txn *txn, const char *case_id,
    const json_t *meta, const json_t *obj, void *arg)
{
	struct bg_list *l = arg;
	json_t *o;

	(void)s;
	(void)txn;
	(void)meta;
	if (!l->all && json_is_true(json_object_get(obj, "reviewed")))
		return 0;
	if ((o = json_deep_copy(obj)) == NULL)
		return CV_ENOMEM;
	json_object_set_new(o, "case", json_string(case_id));
	json_object_set_new(o, "kind",
	    json_string(json_string_value(json_object_get(obj, "id"))[0] == 'D'
	            ? "disclosure"
	            : "breakglass"));
	json_array_append_new(l->out, o);
	return 0;
}

int
cv_breakglass_list(struct cv_session *s, unsigned flags, json_t **out)
{
	int all = (flags & CV_BREAKGLASS_ALL) != 0;
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_BREAKGLASS_REVIEW,
	    .op = "breakglass.list"};
	struct cv_gate_res res;
	struct bg_list l = {NULL, all};
	struct cv_txn *txn;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((flags & ~CV_BREAKGLASS_ALL) != 0) {
		cv_error_set("unknown flag");
		return CV_EINVAL;
	}
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_gate_check(s, txn, &q, NULL, &res)) != 0)
		goto out;
	if ((l.out = json_array()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_casedata_foreach_indexed(
	         txn, s, CV_CD_BREAKGLASS, list_window, &l)) != 0 ||
	    (r = cv_casedata_foreach_indexed(
	         txn, s, CV_CD_DISCLOSURE, list_window, &l)) != 0)
		goto out;
	*out = l.out;
	l.out = NULL;
out:
	cv_txn_abort(txn);
	json_decref(l.out);
	return r;
}

int
cv_breakglass_review(struct cv_session *s, const char *id)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_BREAKGLASS_REVIEW,
	    .op = "breakglass.review",
	    .write = 1};
	uint8_t key[CV_KEYBYTES];
	char cid[CV_CASE_ID_LEN + 1];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *obj = NULL, *ev = NULL;
	char kind = id[0] == 'D' ? CV_CD_DISCLOSURE : CV_CD_BREAKGLASS;
	int r;

	cv_error_clear();
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		return r;
	if ((r = cv_casedata_get_indexed(
	         txn, s, id, kind, cid, &meta, key, &obj)) != 0)
		goto out;
	if (json_is_true(json_object_get(obj, "reviewed"))) {
		cv_error_set("already reviewed");
		r = CV_ESTATE;
		goto out;
	}
	json_object_set_new(obj, "reviewed", json_true());
	json_object_set_new(obj, "reviewed_by", json_string(s->actor));
	json_object_set_new(
	    obj, "reviewed_at", json_integer((json_int_t)cv_now_ms()));
	/* Who opened it and when it closes: the gate keeps a review to
	 * someone else, once the window is over. */
	q.case_id = cid;
	q.meta = meta;
	q.account = (uint32_t)json_integer_value(json_object_get(obj, "user"));
	if (kind == CV_CD_BREAKGLASS)
		q.closes =
		    (uint64_t)json_integer_value(json_object_get(obj, "until"));
	ev = json_pack("{s:s}",
	    kind == CV_CD_DISCLOSURE ? "disclosure" : "breakglass", id);
	r = cv_case_txn_decide_put(s, &txn, &q, cid, kind, id, key, obj, &ev);
out:
	sodium_memzero(key, sizeof(key));
	cv_outcome_end(s, &txn, r);
	json_decref(meta);
	json_decref(obj);
	json_decref(ev);
	return r;
}
