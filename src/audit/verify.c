/*
 * Verification and reading of the audit trail. Needs only the public key.
 *
 * The verifier walks the first-parent chain from the head down to the
 * root: for each commit it checks the signature over the exact bytes git
 * signs, reads the events the message claims, and from the parent's state
 * (its state blob and the right edge of its tree) recomputes the Merkle
 * head, the state blob and every tree id with the writer's own layout
 * code, and compares them with what the commit holds. A tree id that
 * matches means the commit added exactly those events to its parent and
 * changed nothing else; the root's parent is the empty log. Each parent
 * is checked in its turn, so by induction from the root the whole chain
 * is, while only one commit's state is held at a time.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <sodium.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/evscan.h"
#include "audit/layout.h"
#include "base/error.h"
#include "base/merkle.h"
#include "base/sshsig.h"
#include "base/util.h"

#define CACHE_MAX          (8 << 20)
#define MWINDOW_SIZE       (4 << 20)
#define MWINDOW_MAPPED_MAX (16 << 20)
#define REOPEN_COMMITS     512
#define REOPEN_LEAVES      64

static unsigned reopen_commits = REOPEN_COMMITS;
static unsigned reopen_leaves = REOPEN_LEAVES;

/*
 * Signatures are checked on a thread of their own while the walk goes on:
 * an Ed25519 verification per commit is a fifth of the work, and needs
 * nothing but the bytes the walk hands over. Jobs are checked in walk
 * order; the first whose signature fails is kept. Before the walk
 * reports anything, it waits for every job it queued (sigq_settle): a
 * bad signature is then reported as the single-threaded walk did, at
 * the first commit down from the head where anything is wrong.
 */
#define SIGQ 64

struct sigjob {
	git_buf sig, data;
	git_oid id;
};

struct sigq {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a job queued or checked, or stop */
	struct sigjob job[SIGQ];
	uint64_t head, tail; /* jobs head..tail-1 wait; job n is the nth */
	uint64_t bad;        /* the first job whose signature failed, or 0 */
	git_oid bad_id;
	int stop;
	const uint8_t (*pks)[32];
	size_t npk;
};

struct vctx {
	git_repository *repo;
	struct sigq *sq; /* NULL: signatures checked in the walk */
	const uint8_t (*pks)[32];
	size_t npk;
	struct cv_auditlog_report *rep;
	/* The parent's state, made this commit's as its events are added. */
	struct cv_merkle mt;
	struct audit_layout lay;
	uint64_t last_time, last_write;
	/* The right edge of the tree of commit EDGE_OF as read, the parent
	 * of the commit checked last, which is the next to be checked: its
	 * events are found there instead of by path from its root. Its
	 * parent's, read meanwhile, goes to the other buffer. */
	struct audit_layout edges[2], *edge, *pedge;
	git_oid edge_of, pedge_of;
	int has_edge, has_pedge;
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

/*
 * Check one event blob: its seq, time (into *TIME_MS), store_write (*SW,
 * 1 when true) and canonical spelling; its parsed form in *OUT when OUT
 * is not NULL. Most events are recognised in one pass over their bytes
 * (audit_event_scan); any other goes through the full path, which gives
 * the reason when one is wrong.
 */
static const char *
check_event(
    const git_blob *b, uint64_t seq, uint64_t *time_ms, int *sw, json_t **out)
{
	const char *buf = git_blob_rawcontent(b);
	size_t len = (size_t)git_blob_rawsize(b);
	json_t *o = NULL, *v;
	const char *why = NULL;
	char *canon = NULL;

	if (out != NULL)
		*out = NULL;
	if (len > CV_AUDIT_EVENT_MAX)
		return "event larger than the limit";
	if (audit_event_scan(buf, len, seq, time_ms, sw)) {
		if (out == NULL)
			return NULL;
		/* Canonical, so jansson reads it; its form for the caller. */
		if (cv_json_parse_object(buf, len, CV_AUDIT_EVENT_MAX, out) !=
		    0)
			return "event is not a JSON object";
		return NULL;
	}
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
	*sw = v != NULL;
	/* One spelling per event: what is hashed is what is read. */
	if ((canon = cv_json_canonical(o)) == NULL || strlen(canon) != len ||
	    memcmp(canon, buf, len) != 0) {
		why = "event is not canonical JSON";
		goto out;
	}
	if (out != NULL) {
		*out = o;
		o = NULL;
	}
out:
	free(canon);
	json_decref(o);
	return why;
}

static int
signed_by_any(const uint8_t (*pks)[32], size_t npk, const git_buf *sig,
    const git_buf *data)
{
	size_t i;

	for (i = 0; i < npk; i++)
		if (cv_sshsig_verify(sig->ptr, sig->size, pks[i], AUDIT_NS,
		        data->ptr, data->size) == 0)
			return 1;
	return 0;
}

static void *
sigq_main(void *arg)
{
	struct sigq *q = arg;
	struct sigjob *j;
	int ok;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == q->tail && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->head == q->tail)
			break;
		j = &q->job[q->head % SIGQ];
		pthread_mutex_unlock(&q->mu);
		ok = signed_by_any(q->pks, q->npk, &j->sig, &j->data);
		git_buf_dispose(&j->sig);
		git_buf_dispose(&j->data);
		memset(&j->sig, 0, sizeof(j->sig));
		memset(&j->data, 0, sizeof(j->data));
		pthread_mutex_lock(&q->mu);
		q->head++;
		if (!ok && q->bad == 0) {
			q->bad = q->head;
			git_oid_cpy(&q->bad_id, &j->id);
		}
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* A checker thread for PKS, or NULL if none can be had (the walk then
 * checks signatures itself). */
static struct sigq *
sigq_start(const uint8_t (*pks)[32], size_t npk)
{
	struct sigq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->pks = pks;
	q->npk = npk;
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		free(q);
		return NULL;
	}
	if (pthread_cond_init(&q->cv, NULL) != 0) {
		pthread_mutex_destroy(&q->mu);
		free(q);
		return NULL;
	}
	if (pthread_create(&q->th, NULL, sigq_main, q) != 0) {
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return NULL;
	}
	return q;
}

/* Queue the signature SIG over DATA of commit ID, taking both buffers
 * (left empty), once a slot is free. */
static void
sigq_push(struct sigq *q, git_buf *sig, git_buf *data, const git_oid *id)
{
	struct sigjob *j;

	pthread_mutex_lock(&q->mu);
	while (q->tail - q->head == SIGQ)
		pthread_cond_wait(&q->cv, &q->mu);
	j = &q->job[q->tail % SIGQ];
	j->sig = *sig;
	j->data = *data;
	git_oid_cpy(&j->id, id);
	q->tail++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	memset(sig, 0, sizeof(*sig));
	memset(data, 0, sizeof(*data));
}

/*
 * Wait until every queued signature is checked. If one failed, it is the
 * first failure down from the head (every job queued is of a commit the
 * walk reached before whatever else it found): report it as the walk
 * would have, and return CV_EVERIFY; else R.
 */
static int
sigq_settle(struct sigq *q, struct cv_auditlog_report *rep, int r)
{
	pthread_mutex_lock(&q->mu);
	while (q->head != q->tail)
		pthread_cond_wait(&q->cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
	if (q->bad == 0)
		return r;
	/* What the walk had counted when it stopped at that commit. */
	rep->commits = q->bad - 1;
	if (q->bad == 1)
		rep->events = 0;
	return fail(rep, &q->bad_id, "bad signature or not the audit key");
}

static void
sigq_stop(struct sigq *q)
{
	size_t i;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	for (i = 0; i < SIGQ; i++) {
		git_buf_dispose(&q->job[i].sig);
		git_buf_dispose(&q->job[i].data);
	}
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/*
 * Load into V the state the parent P of a commit left: its Merkle
 * frontier, last write and time from its state blob, and the right edge of
 * its tree. P is checked in its turn (its tree id, which names the state
 * blob, is recomputed from its own parent's), so what is read here is
 * trusted once the whole chain has passed. A state that cannot be read
 * means P's tree is not what its events make: that is P's failure.
 */
static const char *
load_parent(struct vctx *v, const git_commit *p)
{
	git_tree *t = NULL;
	git_blob *b = NULL;
	const git_tree_entry *te;
	const char *why = "tree is not the parent's plus the new events";

	v->has_pedge = 0;
	if (p == NULL) {
		cv_merkle_init(&v->mt);
		memset(&v->lay, 0, sizeof(v->lay));
		v->last_time = v->last_write = 0;
		return NULL;
	}
	if (git_commit_tree(&t, p) != 0 ||
	    (te = git_tree_entry_byname(t, AUDIT_STATE)) == NULL ||
	    git_tree_entry_filemode(te) != GIT_FILEMODE_BLOB ||
	    git_blob_lookup(&b, v->repo, git_tree_entry_id(te)) != 0 ||
	    git_blob_rawsize(b) > AUDIT_STATE_MAX ||
	    audit_state_parse(git_blob_rawcontent(b),
	        (size_t)git_blob_rawsize(b), &v->mt, &v->last_write,
	        &v->last_time) != 0 ||
	    audit_layout_load(&v->lay, v->repo, t, v->mt.size) != 0)
		goto out;
	memcpy(v->pedge, &v->lay, sizeof(*v->pedge));
	git_oid_cpy(&v->pedge_of, git_commit_id(p));
	v->has_pedge = 1;
	why = NULL;
out:
	git_blob_free(b);
	git_tree_free(t);
	return why;
}

/*
 * The blob of event SEQ in the commit tree T, into *B and its id *ID:
 * from the right edge read before (v->edge) when EDGE, else by path.
 * CV_EVERIFY when there is none.
 */
static int
event_blob(struct vctx *v, int edge, const git_tree *t, uint64_t seq,
    git_blob **b, git_oid *id)
{
	git_tree_entry *te = NULL;
	char path[32];
	int r = CV_EVERIFY;

	if (edge) {
		git_oid_cpy(
		    id, &v->edge->ids[AUDIT_LEVELS - 1][seq % AUDIT_FANOUT]);
		return git_blob_lookup(b, v->repo, id) == 0 ? 0 : CV_EVERIFY;
	}
	audit_event_path(seq, path);
	if (git_tree_entry_bypath(&te, t, path) == 0 &&
	    git_tree_entry_filemode(te) == GIT_FILEMODE_BLOB &&
	    git_blob_lookup(b, v->repo, git_tree_entry_id(te)) == 0) {
		git_oid_cpy(id, git_tree_entry_id(te));
		r = 0;
	}
	git_tree_entry_free(te);
	return r;
}

/*
 * Check commit CID against its parent's state: signature, identity,
 * Audit-Seq contiguous with the parent, its events, the Log-Root and its
 * tree id. On success *PARENT is its parent and *HAS_PARENT says whether
 * it has one. The walk goes from the head down, so only one commit's
 * state is held at a time, whatever the length of the trail.
 */
static int
verify_commit(
    struct vctx *v, const git_oid *cid, git_oid *parent, int *has_parent)
{
	git_buf sig = GIT_BUF_INIT, signed_data = GIT_BUF_INIT;
	uint8_t leaf[CV_MERKLE_HASHBYTES], root[CV_MERKLE_HASHBYTES];
	char msg[AUDIT_MSG_MAX];
	struct audit_layout *swap;
	git_commit *c = NULL, *p = NULL;
	git_tree *t = NULL;
	git_blob *b = NULL;
	const git_signature *who;
	const char *why = NULL;
	char *state = NULL;
	uint64_t first, last, seq, tm;
	git_oid id, sid, tid;
	int r = CV_EVERIFY, sw, edge;

	if (git_commit_lookup(&c, v->repo, cid) != 0) {
		why = "commit unreadable";
		goto out;
	}
	if (git_commit_parentcount(c) > 1) {
		why = "merge commit";
		goto out;
	}
	*has_parent = git_commit_parentcount(c) == 1;
	if (*has_parent) {
		git_oid_cpy(parent, git_commit_parent_id(c, 0));
		if (git_commit_lookup(&p, v->repo, parent) != 0) {
			r = fail(v->rep, parent, "commit unreadable");
			goto out;
		}
	}
	if (git_commit_extract_signature(
	        &sig, &signed_data, v->repo, (git_oid *)cid, "gpgsig") != 0) {
		why = "commit not signed";
		goto out;
	}
	if (v->sq != NULL)
		sigq_push(v->sq, &sig, &signed_data, cid);
	else if (!signed_by_any(v->pks, v->npk, &sig, &signed_data)) {
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
	/* Its tree's right edge, read when it was the parent, holds all its
	 * events if they share the last one's leaf directory. */
	edge = v->has_edge && git_oid_equal(&v->edge_of, cid) &&
	    v->edge->size == last &&
	    first / AUDIT_FANOUT == last / AUDIT_FANOUT;
	if ((why = load_parent(v, p)) != NULL) {
		r = fail(v->rep, parent, why);
		why = NULL;
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
		if ((r = event_blob(v, edge, t, seq, &b, &id)) != 0) {
			if (r == CV_EVERIFY)
				why = "event named by Audit-Seq missing";
			goto out;
		}
		if ((why = check_event(b, seq, &tm, &sw, NULL)) != NULL)
			goto out;
		if (tm < v->last_time) {
			why = "event time goes backwards";
			goto out;
		}
		v->last_time = tm;
		if (sw)
			v->last_write = seq;
		cv_merkle_leaf_hash(
		    git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), leaf);
		git_blob_free(b);
		b = NULL;
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
	/* The parent is checked next: its edge becomes the one to use. */
	swap = v->edge;
	v->edge = v->pedge;
	v->pedge = swap;
	git_oid_cpy(&v->edge_of, &v->pedge_of);
	v->has_edge = v->has_pedge;
	r = 0;
out:
	if (why != NULL)
		r = fail(v->rep, cid, why);
	free(state);
	git_blob_free(b);
	git_tree_free(t);
	git_commit_free(p);
	git_commit_free(c);
	git_buf_dispose(&sig);
	git_buf_dispose(&signed_data);
	return r;
}

static int
hex_prefix_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < CV_AUDIT_FROM_MIN || n > GIT_OID_HEXSZ)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f') ||
		        (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

/*
 * The commit a saved head FROM (a unique prefix) names. Unknown is not a
 * usage error: a head saved from this trail that the repository no
 * longer holds means the trail was truncated or rewritten.
 */
static int
resolve_from(git_repository *repo, const char *from, git_oid *out,
    struct cv_auditlog_report *rep)
{
	git_object *o = NULL;
	git_oid p;
	size_t n = strlen(from);
	int e;

	if (git_oid_fromstrn(&p, from, n) != 0)
		return CV_EINVAL;
	e = git_object_lookup_prefix(&o, repo, &p, n, GIT_OBJECT_COMMIT);
	if (e == 0) {
		git_oid_cpy(out, git_object_id(o));
		git_object_free(o);
		return 0;
	}
	if (e == GIT_EAMBIGUOUS) {
		cv_error_set("the commit id %s is ambiguous in the trail: give "
		             "more of its digits",
		    from);
		snprintf(rep->reason, sizeof(rep->reason),
		    "saved head %s is ambiguous", from);
		return CV_EINVAL;
	}
	snprintf(rep->bad_commit, sizeof(rep->bad_commit), "%s", from);
	snprintf(rep->reason, sizeof(rep->reason),
	    "saved head is not in the trail's repository: "
	    "the log was truncated or rewritten");
	return CV_EVERIFY;
}

/*
 * The walk reads each object once, so what libgit2 keeps grows with the
 * trail unless capped: its object cache (256 MiB by default) and the
 * windows it maps of the pack files (up to 8 GiB), each page of which,
 * once read, counts as resident. These caps are process-wide; they are
 * far above what a writer, which works from the right edge, ever holds.
 */
static void
bound_memory(void)
{
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)CACHE_MAX);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)MWINDOW_SIZE);
	git_libgit2_opts(
	    GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)MWINDOW_MAPPED_MAX);
}

void
cv_auditlog_set_reopen(unsigned commits, unsigned leaves)
{
	if (commits != 0)
		reopen_commits = commits;
	if (leaves != 0)
		reopen_leaves = leaves;
}

int
cv_auditlog_verify(const char *vaultdir, const uint8_t pk[static 32],
    const char *from_commit, struct cv_auditlog_report *rep)
{
	return cv_auditlog_verify_keys(
	    vaultdir, (const uint8_t(*)[32])pk, 1, from_commit, rep);
}

int
cv_auditlog_verify_keys(const char *vaultdir, const uint8_t (*pks)[32],
    size_t npk, const char *from_commit, struct cv_auditlog_report *rep)
{
	git_repository *repo = NULL;
	struct vctx *v = NULL;
	git_oid head, from, cur, parent;
	int r, e, found = 0, has_parent = 1;

	if (vaultdir == NULL || rep == NULL || pks == NULL || npk == 0)
		return CV_EINVAL;
	memset(rep, 0, sizeof(*rep));
	if (from_commit != NULL && !hex_prefix_valid(from_commit))
		return CV_EINVAL;
	git_libgit2_init();
	bound_memory();
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
	if (from_commit != NULL &&
	    (r = resolve_from(repo, from_commit, &from, rep)) != 0)
		goto out;
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	v->repo = repo;
	v->edge = &v->edges[0];
	v->pedge = &v->edges[1];
	v->pks = pks;
	v->npk = npk;
	v->rep = rep;
	/* Newest to oldest, each commit against its parent's state: the
	 * memory held is one commit's, the root must start at 1. */
	git_oid_cpy(&cur, &head);
	v->sq = sigq_start(pks, npk);
	r = 0;
	while (has_parent) {
		if ((r = verify_commit(v, &cur, &parent, &has_parent)) != 0)
			break;
		if (rep->commits == 1)
			rep->events = v->mt.size;
		if (from_commit != NULL && git_oid_equal(&cur, &from))
			found = 1;
		git_oid_cpy(&cur, &parent);
		if (has_parent && rep->commits % reopen_commits == 0) {
			git_repository_free(repo);
			v->repo = repo = NULL;
			if (open_repo(vaultdir, &repo) != 0) {
				r = fail(rep, NULL, "no audit repository");
				break;
			}
			v->repo = repo;
		}
	}
	if (r == 0 && from_commit != NULL && !found)
		r = fail(rep, &from,
		    "saved head is not in the history: "
		    "the log was truncated or rewritten");
	if (v->sq != NULL)
		r = sigq_settle(v->sq, rep, r);
out:
	if (v != NULL)
		sigq_stop(v->sq);
	free(v);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}

/* A walk over the events of one head, in sequence order. */
struct walk {
	const char *vaultdir;
	git_repository *repo;
	uint64_t size, seq;
	unsigned leaves; /* leaf directories read since the last reopening */
	int (*cb)(const json_t *, void *);
	void *arg;
};

/* The ids of the entries of tree ID (at most AUDIT_FANOUT, as the writer
 * makes them) into IDS and their count into *N; the tree is let go. */
static int
tree_ids(git_repository *repo, const git_oid *id, git_oid *ids, size_t *n)
{
	git_tree *t = NULL;
	size_t i;

	if (git_tree_lookup(&t, repo, id) != 0)
		return CV_ECORRUPT;
	*n = git_tree_entrycount(t);
	if (*n > AUDIT_FANOUT) {
		git_tree_free(t);
		return CV_ECORRUPT;
	}
	for (i = 0; i < *n; i++)
		git_oid_cpy(
		    &ids[i], git_tree_entry_id(git_tree_entry_byindex(t, i)));
	git_tree_free(t);
	return 0;
}

/* The events of leaf directory IDS[0..N) in order. */
static int
walk_leaf(struct walk *w, const git_oid *ids, size_t n)
{
	git_blob *b = NULL;
	json_t *ev = NULL;
	uint64_t tm;
	size_t i;
	int r = 0, sw;

	for (i = 0; i < n && r == 0; i++) {
		if (++w->seq > w->size ||
		    git_blob_lookup(&b, w->repo, &ids[i]) != 0 ||
		    check_event(b, w->seq, &tm, &sw, &ev) != NULL) {
			git_blob_free(b);
			return CV_ECORRUPT;
		}
		git_blob_free(b);
		b = NULL;
		r = w->cb(ev, w->arg);
		json_decref(ev);
		ev = NULL;
	}
	return r;
}

/*
 * Events of the level-K tree ID in path order, which is sequence order.
 * K is at most AUDIT_LEVELS - 1, so recursion is bounded. No object is
 * held across the recursion (each tree's ids are copied first), so the
 * repository can be reopened between leaf directories: what libgit2
 * keeps of the packs it read (the pages of their indexes, its caches of
 * delta bases) is then let go every REOPEN_LEAVES directories instead of
 * growing with the trail.
 */
static int
walk_level(struct walk *w, const git_oid *id, int k)
{
	git_oid ids[AUDIT_FANOUT];
	size_t n, i;
	int r;

	if ((r = tree_ids(w->repo, id, ids, &n)) != 0)
		return r;
	if (k == AUDIT_LEVELS - 1) {
		if ((r = walk_leaf(w, ids, n)) != 0)
			return r;
		if (++w->leaves % reopen_leaves == 0) {
			git_repository_free(w->repo);
			w->repo = NULL;
			if (open_repo(w->vaultdir, &w->repo) != 0)
				return CV_EAUDIT;
		}
		return 0;
	}
	for (i = 0; i < n; i++)
		if ((r = walk_level(w, &ids[i], k + 1)) != 0)
			return r;
	return 0;
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
	struct walk w;
	uint64_t lw, tm;
	git_oid head, eid;
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
	if ((te = git_tree_entry_byname(t, "e")) == NULL)
		goto out;
	git_oid_cpy(&eid, git_tree_entry_id(te));
	/* The walk may reopen the repository: nothing read so far is held
	 * across it. */
	git_blob_free(b);
	b = NULL;
	git_tree_free(t);
	t = NULL;
	git_commit_free(c);
	c = NULL;
	memset(&w, 0, sizeof(w));
	w.vaultdir = vaultdir;
	w.repo = repo;
	w.size = mt->size;
	w.cb = cb;
	w.arg = arg;
	if ((r = walk_level(&w, &eid, 0)) == 0 && w.seq != w.size)
		r = CV_ECORRUPT;
	repo = w.repo;
out:
	free(mt);
	git_blob_free(b);
	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}
