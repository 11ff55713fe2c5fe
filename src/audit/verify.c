/*
 * Verification and reading of the audit trail. Needs only the public key.
 *
 * The verifier replays the log from the root commit: for each commit it
 * checks the signature over the exact bytes git signs, reads the events
 * the message claims, recomputes the Merkle head, the state blob and every
 * tree id with the writer's own layout code, and compares them with what
 * the commit holds. A tree id that matches means the commit added exactly
 * those events and changed nothing else.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <sodium.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/layout.h"
#include "base/merkle.h"
#include "base/sshsig.h"
#include "base/util.h"

struct vctx {
	git_repository *repo;
	const uint8_t *pk;
	struct cv_auditlog_report *rep;
	struct cv_merkle mt;
	struct audit_layout lay;
	uint64_t last_time, last_write;
};

static int
hash_only(
    void *ctx, git_object_t type, const void *buf, size_t len, git_oid *out)
{
	(void)ctx;
	return git_odb_hash(out, buf, len, type) == 0 ? 0 : CV_ENOMEM;
}

static int
fail(struct cv_auditlog_report *rep, const git_oid *id, const char *why)
{
	if (id != NULL)
		git_oid_tostr(rep->bad_commit, sizeof(rep->bad_commit), id);
	snprintf(rep->reason, sizeof(rep->reason), "%s", why);
	return CV_EVERIFY;
}

static int
open_repo(const char *vaultdir, git_repository **repo)
{
	char gitdir[4096];

	if (cv_path(gitdir, sizeof(gitdir), "%s/audit.git", vaultdir) != 0)
		return CV_EINVAL;
	return git_repository_open_bare(repo, gitdir) == 0 ? 0 : CV_EAUDIT;
}

/* Check one event blob and return its parsed form in *out. */
static const char *
check_event(const git_blob *b, uint64_t seq, uint64_t *time_ms, json_t **out)
{
	const char *buf = git_blob_rawcontent(b);
	size_t len = (size_t)git_blob_rawsize(b);
	json_t *o = NULL, *v;
	const char *why = NULL;
	char *canon = NULL;

	*out = NULL;
	if (len > CV_AUDIT_EVENT_MAX)
		return "event larger than the limit";
	if (cv_json_parse_object(buf, len, CV_AUDIT_EVENT_MAX, &o) != 0)
		return "event is not a JSON object";
	v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) != seq) {
		why = "event seq does not match its path";
		goto out;
	}
	v = json_object_get(o, "time");
	if (!json_is_string(v) || json_string_length(v) != 24 ||
	    cv_parse_time(json_string_value(v), time_ms) != 0) {
		why = "event time malformed";
		goto out;
	}
	v = json_object_get(o, "store_write");
	if (v != NULL && !json_is_true(v)) {
		why = "event store_write malformed";
		goto out;
	}
	/* One spelling per event: what is hashed is what is read. */
	if ((canon = cv_json_canonical(o)) == NULL || strlen(canon) != len ||
	    memcmp(canon, buf, len) != 0) {
		why = "event is not canonical JSON";
		goto out;
	}
	*out = o;
	o = NULL;
out:
	free(canon);
	json_decref(o);
	return why;
}

static int
verify_commit(struct vctx *v, const git_oid *cid, int is_root)
{
	git_buf sig = GIT_BUF_INIT, signed_data = GIT_BUF_INIT;
	uint8_t leaf[CV_MERKLE_HASHBYTES], root[CV_MERKLE_HASHBYTES];
	char msg[AUDIT_MSG_MAX], path[32];
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_tree_entry *te = NULL;
	git_blob *b = NULL;
	const git_signature *who;
	const char *why = NULL;
	char *state = NULL;
	uint64_t first, last, seq, tm;
	json_t *ev = NULL;
	git_oid id, sid, tid;
	int r = CV_EVERIFY;

	if (git_commit_lookup(&c, v->repo, cid) != 0) {
		why = "commit unreadable";
		goto out;
	}
	if (git_commit_parentcount(c) > 1 ||
	    (is_root != (git_commit_parentcount(c) == 0))) {
		why = "merge commit";
		goto out;
	}
	if (git_commit_extract_signature(
	        &sig, &signed_data, v->repo, (git_oid *)cid, "gpgsig") != 0) {
		why = "commit not signed";
		goto out;
	}
	if (cv_sshsig_verify(sig.ptr, sig.size, v->pk, AUDIT_NS,
	        signed_data.ptr, signed_data.size) != 0) {
		why = "bad signature or not the audit key";
		goto out;
	}
	who = git_commit_committer(c);
	if (strcmp(who->name, AUDIT_NAME) != 0 ||
	    strcmp(who->email, AUDIT_EMAIL) != 0) {
		why = "committer is not the audit identity";
		goto out;
	}
	if (audit_message_range(git_commit_message_raw(c), &first, &last) !=
	    0) {
		why = "commit message malformed";
		goto out;
	}
	if (first != v->mt.size + 1) {
		why = "Audit-Seq not contiguous with the parent";
		goto out;
	}
	if (last - first >= AUDIT_BATCH_MAX || last > AUDIT_SEQ_MAX) {
		why = "Audit-Seq range too large";
		goto out;
	}
	if (git_commit_tree(&t, c) != 0) {
		why = "tree unreadable";
		goto out;
	}
	for (seq = first; seq <= last; seq++) {
		audit_event_path(seq, path);
		if (git_tree_entry_bypath(&te, t, path) != 0 ||
		    git_tree_entry_filemode(te) != GIT_FILEMODE_BLOB ||
		    git_blob_lookup(&b, v->repo, git_tree_entry_id(te)) != 0) {
			why = "event named by Audit-Seq missing";
			goto out;
		}
		if ((why = check_event(b, seq, &tm, &ev)) != NULL)
			goto out;
		if (tm < v->last_time) {
			why = "event time goes backwards";
			goto out;
		}
		v->last_time = tm;
		if (json_is_true(json_object_get(ev, "store_write")))
			v->last_write = seq;
		cv_merkle_leaf_hash(
		    git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), leaf);
		git_oid_cpy(&id, git_tree_entry_id(te));
		json_decref(ev);
		ev = NULL;
		git_blob_free(b);
		b = NULL;
		git_tree_entry_free(te);
		te = NULL;
		if (cv_merkle_append(&v->mt, leaf) != 0 ||
		    audit_layout_add(&v->lay, seq, &id, hash_only, NULL) != 0) {
			why = "log too large";
			goto out;
		}
	}
	cv_merkle_root(&v->mt, root);
	if (audit_message_format(msg, sizeof(msg), first, last, root) != 0 ||
	    strcmp(msg, git_commit_message_raw(c)) != 0) {
		why = "Log-Size, Log-Root or trailers do not match the events";
		goto out;
	}
	if ((state = audit_state_format(&v->mt, v->last_write, v->last_time)) ==
	    NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if (hash_only(NULL, GIT_OBJECT_BLOB, state, strlen(state), &sid) != 0 ||
	    audit_layout_finish(&v->lay, &sid, hash_only, NULL, &tid) != 0) {
		r = CV_ENOMEM;
		goto out;
	}
	if (!git_oid_equal(&tid, git_commit_tree_id(c))) {
		why = "tree is not the parent's plus the new events";
		goto out;
	}
	v->rep->commits++;
	v->rep->events = v->mt.size;
	r = 0;
out:
	if (why != NULL)
		r = fail(v->rep, cid, why);
	json_decref(ev);
	free(state);
	git_blob_free(b);
	git_tree_entry_free(te);
	git_tree_free(t);
	git_commit_free(c);
	git_buf_dispose(&sig);
	git_buf_dispose(&signed_data);
	return r;
}

/* First-parent chain from HEAD back to the root, oldest first. */
static int
collect_chain(git_repository *repo, const git_oid *head,
    struct cv_auditlog_report *rep, git_oid **out, size_t *count)
{
	git_oid *ids = NULL, *nids, cur;
	size_t n = 0, cap = 0, i;
	git_commit *c = NULL;
	int r = CV_EVERIFY;

	git_oid_cpy(&cur, head);
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nids = realloc(ids, cap * sizeof(*ids))) == NULL) {
				r = CV_ENOMEM;
				goto out;
			}
			ids = nids;
		}
		git_oid_cpy(&ids[n++], &cur);
		if (git_commit_lookup(&c, repo, &cur) != 0) {
			r = fail(rep, &cur, "commit unreadable");
			goto out;
		}
		if (git_commit_parentcount(c) > 1) {
			r = fail(rep, &cur, "merge commit");
			goto out;
		}
		if (git_commit_parentcount(c) == 0)
			break;
		git_oid_cpy(&cur, git_commit_parent_id(c, 0));
		git_commit_free(c);
		c = NULL;
	}
	for (i = 0; i < n / 2; i++) {
		git_oid t = ids[i];
		ids[i] = ids[n - 1 - i];
		ids[n - 1 - i] = t;
	}
	*out = ids;
	*count = n;
	ids = NULL;
	r = 0;
out:
	git_commit_free(c);
	free(ids);
	return r;
}

int
cv_auditlog_verify(const char *vaultdir, const uint8_t pk[static 32],
    const char *from_commit, struct cv_auditlog_report *rep)
{
	git_repository *repo = NULL;
	struct vctx *v = NULL;
	git_oid head, from, *chain = NULL;
	size_t n = 0, i;
	int r, e, found = 0;

	if (vaultdir == NULL || rep == NULL)
		return CV_EINVAL;
	memset(rep, 0, sizeof(*rep));
	if (from_commit != NULL &&
	    (strlen(from_commit) != GIT_OID_HEXSZ ||
	        git_oid_fromstr(&from, from_commit) != 0))
		return CV_EINVAL;
	git_libgit2_init();
	if (open_repo(vaultdir, &repo) != 0) {
		r = fail(rep, NULL, "no audit repository");
		goto out;
	}
	e = git_reference_name_to_id(&head, repo, AUDIT_REF);
	if (e == GIT_ENOTFOUND) {
		r = from_commit == NULL
		    ? 0
		    : fail(
		          rep, NULL, "log is empty but a saved head was given");
		goto out;
	}
	if (e != 0) {
		r = fail(rep, NULL, "branch unreadable");
		goto out;
	}
	git_oid_tostr(rep->head, sizeof(rep->head), &head);
	if ((r = collect_chain(repo, &head, rep, &chain, &n)) != 0)
		goto out;
	if (from_commit != NULL) {
		for (i = 0; i < n && !found; i++)
			found = git_oid_equal(&chain[i], &from);
		if (!found) {
			r = fail(rep, &from,
			    "saved head is not in the history: "
			    "the log was truncated or rewritten");
			goto out;
		}
	}
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	v->repo = repo;
	v->pk = pk;
	v->rep = rep;
	cv_merkle_init(&v->mt);
	for (i = 0; i < n; i++)
		if ((r = verify_commit(v, &chain[i], i == 0)) != 0)
			goto out;
	r = 0;
out:
	free(v);
	free(chain);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}

/* Events of the level-K tree T in path order, which is sequence order;
 * *SEQ counts them. K is at most AUDIT_LEVELS - 1, so recursion is
 * bounded. */
static int
walk_level(git_repository *repo, const git_tree *t, int k, uint64_t size,
    uint64_t *seq, int (*cb)(const json_t *, void *), void *arg)
{
	const git_tree_entry *te;
	git_tree *sub = NULL;
	git_blob *b = NULL;
	json_t *ev = NULL;
	uint64_t tm;
	size_t i;
	int r = 0;

	for (i = 0; i < git_tree_entrycount(t) && r == 0; i++) {
		te = git_tree_entry_byindex(t, i);
		if (k < AUDIT_LEVELS - 1) {
			if (git_tree_lookup(
			        &sub, repo, git_tree_entry_id(te)) != 0)
				return CV_ECORRUPT;
			r = walk_level(repo, sub, k + 1, size, seq, cb, arg);
			git_tree_free(sub);
			sub = NULL;
			continue;
		}
		if (++*seq > size ||
		    git_blob_lookup(&b, repo, git_tree_entry_id(te)) != 0 ||
		    check_event(b, *seq, &tm, &ev) != NULL) {
			git_blob_free(b);
			return CV_ECORRUPT;
		}
		git_blob_free(b);
		b = NULL;
		r = cb(ev, arg);
		json_decref(ev);
		ev = NULL;
	}
	return r;
}

/* Walk the tree of HEAD in path order, which is sequence order. */
static int
walk_events(git_repository *repo, const git_tree *root, uint64_t size,
    int (*cb)(const json_t *, void *), void *arg)
{
	const git_tree_entry *te;
	git_tree *e = NULL;
	uint64_t seq = 0;
	int r = CV_ECORRUPT;

	if ((te = git_tree_entry_byname(root, "e")) == NULL ||
	    git_tree_lookup(&e, repo, git_tree_entry_id(te)) != 0)
		return CV_ECORRUPT;
	if ((r = walk_level(repo, e, 0, size, &seq, cb, arg)) == 0 &&
	    seq != size)
		r = CV_ECORRUPT;
	git_tree_free(e);
	return r;
}

int
cv_auditlog_foreach(
    const char *vaultdir, int (*cb)(const json_t *, void *), void *arg)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_blob *b = NULL;
	const git_tree_entry *te;
	struct cv_merkle *mt = NULL;
	uint64_t lw, tm;
	git_oid head;
	int r, e;

	if (vaultdir == NULL || cb == NULL)
		return CV_EINVAL;
	git_libgit2_init();
	if ((r = open_repo(vaultdir, &repo)) != 0)
		goto out;
	e = git_reference_name_to_id(&head, repo, AUDIT_REF);
	if (e == GIT_ENOTFOUND) {
		r = 0;
		goto out;
	}
	r = CV_ECORRUPT;
	if (e != 0 || git_commit_lookup(&c, repo, &head) != 0 ||
	    git_commit_tree(&t, c) != 0 ||
	    (te = git_tree_entry_byname(t, AUDIT_STATE)) == NULL ||
	    git_blob_lookup(&b, repo, git_tree_entry_id(te)) != 0)
		goto out;
	if ((mt = malloc(sizeof(*mt))) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if (audit_state_parse(git_blob_rawcontent(b),
	        (size_t)git_blob_rawsize(b), mt, &lw, &tm) != 0)
		goto out;
	r = walk_events(repo, t, mt->size, cb, arg);
out:
	free(mt);
	git_blob_free(b);
	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}
