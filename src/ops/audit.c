/*
 * The audit commands: verification (the trail's own checks plus the
 * cross-check against the store), the filtered log, pseudonyms, mirroring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/auditlog.h"
#include "base/sshsig.h"
#include "casevault.h"
#include "base/error.h"
#include "gate/gate.h"
#include "store/store.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"
#include "ops/reconcile.h"

static int
audit_gate(struct cv_session *s, const char *op, const json_t *extra)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_AUDIT_READ,
	    .op = op};
	struct cv_gate_res res;
	struct cv_txn *txn;
	int r;

	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	r = cv_gate_check(s, txn, &q, extra, &res);
	cv_txn_abort(txn);
	return r;
}

/* One line for the first problem the reconciliation found. */
static void
describe(const json_t *problems, char *why, size_t whylen)
{
	const json_t *p = json_array_get(problems, 0);
	const char *problem = json_string_value(json_object_get(p, "problem"));
	const char *what;

	if (problem == NULL)
		return;
	if (strcmp(problem, "missing") == 0)
		what = "written by an audit event, is missing from the store";
	else if (strcmp(problem, "replayed") == 0)
		what = "is an older value than its audit events wrote";
	else if (strcmp(problem, "digest_mismatch") == 0)
		what = "is not what its audit event wrote";
	else
		what = "has no matching audit event";
	if (json_object_get(p, "case") == NULL) /* an account */
		snprintf(why, whylen, "a stored %s (%s) %s",
		    json_string_value(json_object_get(p, "kind")),
		    json_string_value(json_object_get(p, "id")), what);
	else
		snprintf(why, whylen, "a stored %s (case %s, %s) %s",
		    json_string_value(json_object_get(p, "kind")),
		    json_string_value(json_object_get(p, "case")),
		    json_string_value(json_object_get(p, "id")), what);
}

/* The accounts, as the verification sees them. */
struct accounts_ctx {
	struct cv_session *s;
	struct cv_txn *txn;
	json_t *bad; /* [{"uid": n, "kind": k}], naming no one */
};

static int
tampered_add(json_t *bad, uint32_t uid, const char *kind)
{
	json_t *o = json_pack("{s:s}", "kind", kind);

	if (o == NULL)
		return CV_ENOMEM;
	if (uid != 0)
		json_object_set_new(o, "uid", json_integer((json_int_t)uid));
	return json_array_append_new(bad, o) == 0 ? 0 : CV_ENOMEM;
}

static int
check_account(const struct cv_val *k, const struct cv_val *v, void *arg)
{
	struct accounts_ctx *c = arg;
	char name[CV_NAME_MAX + 1];
	struct cv_user u;
	int r;

	(void)v;
	if (k->len == 0 || k->len > CV_NAME_MAX)
		return tampered_add(c->bad, 0, "account_edited");
	memcpy(name, k->data, k->len);
	name[k->len] = '\0';
	if ((r = cv_user_get(c->txn, name, &u)) != 0)
		return r == CV_ECORRUPT || r == CV_ENOTFOUND
		    ? tampered_add(c->bad, 0, "account_edited")
		    : r;
	if ((r = cv_user_check(c->txn, c->s, &u)) == CV_ECRYPTO)
		return tampered_add(c->bad, u.id, "account_edited");
	if (r != 0)
		return r;
	/* Failures already signed into the trail cannot be undone. */
	if (u.failures < u.signed_failures)
		return tampered_add(c->bad, u.id, "failures_reset");
	return 0;
}

/*
 * Every account must carry the MAC casevault wrote, and no failure count
 * may be below the failures already signed into the trail. *BAD (NULL when
 * all is well) lists what is not, by account id and kind. The failed-login
 * queue is checked by the login that flushes it, which signs what it finds
 * into the trail; this session's own login has done so already.
 */
static int
check_accounts(struct cv_session *s, json_t **bad, char *why, size_t whylen)
{
	struct accounts_ctx c = {s, NULL, NULL};
	const json_t *first;
	int r;

	*bad = NULL;
	if ((c.bad = json_array()) == NULL)
		return CV_ENOMEM;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &c.txn)) != 0)
		goto out;
	if ((r = cv_store_scan(
	         c.txn, CV_DB_USERS, NULL, 0, check_account, &c)) != 0)
		goto out;
	if (json_array_size(c.bad) == 0)
		goto out;
	first = json_array_get(c.bad, 0);
	if (json_object_get(first, "uid") != NULL)
		snprintf(why, whylen, "account u%lld: %s",
		    (long long)json_integer_value(
		        json_object_get(first, "uid")),
		    json_string_value(json_object_get(first, "kind")));
	else
		snprintf(why, whylen, "an account: %s",
		    json_string_value(json_object_get(first, "kind")));
	*bad = c.bad;
	c.bad = NULL;
	r = CV_EVERIFY;
out:
	if (c.txn != NULL)
		cv_txn_abort(c.txn);
	json_decref(c.bad);
	return r;
}

/*
 * The accounts the reconciliation found not bound to the trail as it says
 * (an older account and slot put back: "replayed"; "missing";
 * "unaudited"), added to *TAMPERED (created when NULL) by account id.
 * A digest mismatch is left out: check_accounts names the account edited.
 */
static int
account_problems(const json_t *problems, json_t **tampered)
{
	const char *kind, *id, *problem;
	const json_t *p;
	unsigned long uid;
	size_t i;
	int r;

	json_array_foreach (problems, i, p) {
		kind = json_string_value(json_object_get(p, "kind"));
		id = json_string_value(json_object_get(p, "id"));
		problem = json_string_value(json_object_get(p, "problem"));
		if (kind == NULL || id == NULL || problem == NULL ||
		    strcmp(kind, "account") != 0 ||
		    strcmp(problem, "digest_mismatch") == 0 ||
		    strncmp(id, "user/", 5) != 0)
			continue;
		uid = strtoul(id + 5, NULL, 10);
		if (*tampered == NULL && (*tampered = json_array()) == NULL)
			return CV_ENOMEM;
		if ((r = tampered_add(*tampered, (uint32_t)uid, problem)) != 0)
			return r;
	}
	return 0;
}

#define PINNED_MAX      16
#define PINNED_FILE_MAX (64 * 1024)

/*
 * The signers pinned in the allowed_signers file PATH, kept outside the
 * vault: every ssh-ed25519 key the file allows for the namespace "git",
 * into PKS (at most PINNED_MAX), *N of them. A file that pins none is an
 * error, never an empty set that checks nothing.
 */
static int
pinned_signers(const char *path, uint8_t pks[PINNED_MAX][32], size_t *n)
{
	char *buf = NULL, *line, *nl;
	size_t len, lineno = 0;
	int r, e;

	*n = 0;
	if ((r = cv_read_file(path, PINNED_FILE_MAX, &buf, &len)) != 0) {
		cv_error_set(
		    "the allowed signers file %s cannot be read", path);
		return r == CV_ETOOBIG ? CV_EINVAL : CV_EIO;
	}
	r = 0;
	for (line = buf; line < buf + len && r == 0; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) ==
		    NULL)
			nl = buf + len;
		e = cv_sshsig_allowed_parse(
		    line, (size_t)(nl - line), "git", pks[*n]);
		if (e == CV_ENOTFOUND)
			continue;
		if (e != 0) {
			cv_error_set(
			    "%s, line %zu: not an allowed signers line", path,
			    lineno);
			r = CV_EINVAL;
		} else if (++*n == PINNED_MAX) {
			cv_error_set("%s pins more than %d signers", path,
			    PINNED_MAX - 1);
			r = CV_EINVAL;
		}
	}
	if (r == 0 && *n == 0) {
		cv_error_set("%s pins no ssh-ed25519 signer for the namespace "
		             "\"git\"",
		    path);
		r = CV_EINVAL;
	}
	free(buf);
	return r;
}

/*
 * Verify the trail in DIR against the pinned signers in ALLOWED (a path)
 * or, with ALLOWED NULL, against the vault's own key PK; *SIGNER says
 * which, for the report.
 */
static int
verify_trail(const char *dir, const uint8_t pk[static 32], const char *allowed,
    const char *from, struct cv_auditlog_report *rep, const char **signer)
{
	uint8_t pks[PINNED_MAX][32];
	size_t n;
	int r;

	memset(rep, 0, sizeof(*rep));
	*signer = "vault";
	if (allowed == NULL)
		return cv_auditlog_verify(dir, pk, from, rep);
	if ((r = pinned_signers(allowed, pks, &n)) != 0)
		return r;
	*signer = "pinned";
	return cv_auditlog_verify_keys(
	    dir, (const uint8_t(*)[32])pks, n, from, rep);
}

int
cv_audit_verify(struct cv_session *s, const char *from,
    const char *allowed_signers, json_t **out)
{
	struct cv_auditlog_report rep;
	json_t *tampered = NULL, *problems = NULL;
	const char *signer;
	uint8_t pk[32];
	uint64_t versions = 0, objects = 0, nproblems = 0;
	char why[200] = "";
	struct cv_txn *txn;
	struct cv_val v;
	json_t *o;
	int r, vr;

	cv_error_clear();
	*out = NULL;
	if ((r = audit_gate(s, "audit.verify", NULL)) != 0)
		return r;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	r = cv_get(txn, CV_DB_META, "audit_pk", 8, &v);
	if (r == 0 && v.len == sizeof(pk))
		memcpy(pk, v.data, sizeof(pk));
	else
		r = CV_ECORRUPT;
	cv_txn_abort(txn);
	if (r != 0)
		return r;
	vr = verify_trail(s->dir, pk, allowed_signers, from, &rep, &signer);
	if (vr == 0) {
		if ((r = cv_reconcile(
		         s, &problems, &nproblems, &objects, &versions)) != 0)
			return r;
		/* The accounts' MACs first: an edit is named as such. */
		vr = check_accounts(s, &tampered, why, sizeof(why));
		if (vr == 0 && nproblems > 0)
			describe(problems, why, sizeof(why));
		if (vr == 0 || vr == CV_EVERIFY)
			r = account_problems(problems, &tampered);
		if (r != 0 && vr == 0)
			vr = r;
		if (vr == 0 && nproblems > 0)
			vr = CV_EVERIFY;
	}
	if (vr != 0 && vr != CV_EVERIFY) {
		json_decref(tampered);
		json_decref(problems);
		return vr;
	}
	o = json_pack("{s:b, s:s, s:I, s:I, s:s, s:I, s:I}", "ok", vr == 0,
	    "signer", signer, "commits", (json_int_t)rep.commits, "events",
	    (json_int_t)rep.events, "head", rep.head, "record_versions",
	    (json_int_t)versions, "objects", (json_int_t)objects);
	if (o == NULL) {
		json_decref(tampered);
		json_decref(problems);
		return CV_ENOMEM;
	}
	if (tampered != NULL)
		json_object_set_new(o, "tampered", tampered);
	if (nproblems > 0) {
		json_object_set_new(o, "problems", problems);
		json_object_set_new(
		    o, "problem_count", json_integer((json_int_t)nproblems));
	} else {
		json_decref(problems);
	}
	if (vr != 0) {
		json_object_set_new(
		    o, "bad_commit", json_string(rep.bad_commit));
		json_object_set_new(
		    o, "reason", json_string(why[0] ? why : rep.reason));
		cv_error_set("%s%s%s", why[0] ? why : rep.reason,
		    rep.bad_commit[0] ? " at commit " : "", rep.bad_commit);
	}
	*out = o;
	return vr;
}

int
cv_audit_verify_offline(const char *dir, const char *from,
    const char *allowed_signers, json_t **out)
{
	struct cv_auditlog_report rep;
	const char *signer;
	struct cv_store *st;
	uint8_t pk[32];
	struct cv_txn *txn;
	struct cv_val v;
	int r, vr;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_store_open(dir, &st)) != 0)
		return r;
	if ((r = cv_txn_begin(st, CV_TXN_RDONLY, &txn)) == 0) {
		r = cv_get(txn, CV_DB_META, "audit_pk", 8, &v);
		if (r == 0 && v.len == sizeof(pk))
			memcpy(pk, v.data, sizeof(pk));
		else
			r = CV_ECORRUPT;
		cv_txn_abort(txn);
	}
	cv_store_close(st);
	if (r != 0)
		return r;
	vr = verify_trail(dir, pk, allowed_signers, from, &rep, &signer);
	if (vr != 0 && vr != CV_EVERIFY)
		return vr;
	*out = json_pack("{s:b, s:b, s:s, s:I, s:I, s:s}", "ok", vr == 0,
	    "offline", 1, "signer", signer, "commits", (json_int_t)rep.commits,
	    "events", (json_int_t)rep.events, "head", rep.head);
	if (*out == NULL)
		return CV_ENOMEM;
	if (vr != 0) {
		json_object_set_new(
		    *out, "bad_commit", json_string(rep.bad_commit));
		json_object_set_new(*out, "reason", json_string(rep.reason));
		cv_error_set("%s%s%s", rep.reason,
		    rep.bad_commit[0] ? " at commit " : "", rep.bad_commit);
	}
	return vr;
}

struct log_filter {
	const char *pseudonym;
	const char *actor;
	uint64_t since;
	int breakglass;
	json_t *out;
};

static int
filter_event(const json_t *ev, void *arg)
{
	struct log_filter *f = arg;
	const char *t = json_string_value(json_object_get(ev, "time"));
	const char *v;
	uint64_t ms;

	if (f->pseudonym != NULL &&
	    ((v = json_string_value(json_object_get(ev, "case"))) == NULL ||
	        strcmp(v, f->pseudonym) != 0))
		return 0;
	if (f->actor != NULL &&
	    ((v = json_string_value(json_object_get(ev, "actor"))) == NULL ||
	        strcmp(v, f->actor) != 0))
		return 0;
	if (f->since != 0 &&
	    (t == NULL || cv_parse_time(t, &ms) != 0 || ms < f->since))
		return 0;
	if (f->breakglass && json_object_get(ev, "breakglass") == NULL &&
	    strncmp(json_string_value(json_object_get(ev, "action"))
	            ? json_string_value(json_object_get(ev, "action"))
	            : "",
	        "breakglass.", 11) != 0)
		return 0;
	json_array_append(f->out, (json_t *)ev);
	return 0;
}

int
cv_audit_log(struct cv_session *s, const char *case_id, const char *actor,
    uint64_t since, unsigned flags, json_t **out)
{
	int breakglass = (flags & CV_AUDIT_BREAKGLASS) != 0;
	struct log_filter f = {NULL, NULL, since, breakglass, NULL};
	char p[CV_PSEUDONYM_LEN + 1], a[16];
	struct cv_user u;
	struct cv_txn *txn;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((flags & ~CV_AUDIT_BREAKGLASS) != 0) {
		cv_error_set("unknown flag");
		return CV_EINVAL;
	}
	if ((r = audit_gate(s, "audit.log", NULL)) != 0)
		return r;
	if (case_id != NULL) {
		cv_pseudonym(s->keys->pseudo, case_id, p);
		f.pseudonym = p;
	}
	if (actor != NULL) {
		if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
			return r;
		r = cv_user_get(txn, actor, &u);
		cv_txn_abort(txn);
		if (r != 0)
			return r;
		snprintf(a, sizeof(a), "u%u", (unsigned)u.id);
		f.actor = a;
	}
	if ((f.out = json_array()) == NULL)
		return CV_ENOMEM;
	if ((r = cv_auditlog_foreach(s->dir, filter_event, &f)) != 0) {
		json_decref(f.out);
		return r == CV_ECORRUPT ? CV_EVERIFY : r;
	}
	*out = f.out;
	return 0;
}

int
cv_audit_pseudonym(struct cv_session *s, const char *case_id,
    char out[static CV_PSEUDONYM_LEN + 1])
{
	int r;

	cv_error_clear();
	if (!cv_case_id_valid(case_id))
		return CV_EINVAL;
	if ((r = audit_gate(s, "audit.pseudonym", NULL)) != 0)
		return r;
	cv_pseudonym(s->keys->pseudo, case_id, out);
	return 0;
}

int
cv_audit_push(struct cv_session *s, const char *remote)
{
	int r;

	cv_error_clear();
	if ((r = audit_gate(s, "audit.push", NULL)) != 0)
		return r;
	return cv_auditlog_push(s->dir, remote) == 0 ? 0 : CV_EAUDIT;
}
