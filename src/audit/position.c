/*
 * Positions of the trail: where its head is, whether a position saved
 * earlier is still on it, and whether a login was recorded between two
 * positions. The store keeps the position it last committed (its anchor,
 * gate/anchor.c) and checks it against the trail with these at every open.
 *
 * A position names a commit by its id, and the Log-Size and Log-Root its
 * message carries: a trail that no longer holds that commit on the chain
 * to its head, with that message, was truncated or rewritten.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/internal.h"
#include "audit/layout.h"
#include "base/util.h"

/* The libgit2 handle is the leader's: take the role as a leader would. */
static void
lead(struct cv_auditlog *a)
{
	pthread_mutex_lock(&a->mu);
	while (a->leading)
		pthread_cond_wait(&a->cv, &a->mu);
	a->leading = 1;
	pthread_mutex_unlock(&a->mu);
}

static void
unlead(struct cv_auditlog *a)
{
	pthread_mutex_lock(&a->mu);
	a->leading = 0;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

int
cv_auditlog_head(
    struct cv_auditlog *a, struct cv_audit_pos *pos, uint64_t *last_write)
{
	struct tstate *st;
	int r;

	if (a == NULL || pos == NULL)
		return CV_EINVAL;
	if ((st = malloc(sizeof(*st))) == NULL)
		return CV_ENOMEM;
	memset(pos, 0, sizeof(*pos));
	if ((r = audit_read_current(a, st)) == 0) {
		pos->size = st->has_head ? st->mt.size : 0;
		cv_merkle_root(&st->mt, pos->root);
		if (st->has_head)
			memcpy(pos->commit, st->head.id, CV_AUDIT_COMMITBYTES);
		if (last_write != NULL)
			*last_write = st->last_write;
	}
	free(st);
	return r;
}

int
cv_auditlog_holds(struct cv_auditlog *a, const struct cv_audit_pos *pos)
{
	char want[AUDIT_MSG_MAX];
	git_commit *c = NULL;
	git_oid id, head;
	uint64_t first, last;
	const char *msg;
	int r = CV_EVERIFY, h;

	if (a == NULL || pos == NULL)
		return CV_EINVAL;
	if (pos->size == 0)
		return 0; /* the empty log is a prefix of every trail */
	lead(a);
	if ((h = audit_read_head(a->repo, &head)) < 0) {
		r = CV_EAUDIT;
		goto out;
	}
	if (h == 0)
		goto out; /* no branch: everything is gone */
	git_oid_fromraw(&id, pos->commit);
	a->stale = 1;
	audit_fresh(a);
	if (git_commit_lookup(&c, a->repo, &id) != 0)
		goto out;
	msg = git_commit_message(c);
	if (msg == NULL || audit_message_range(msg, &first, &last) != 0 ||
	    last != pos->size ||
	    audit_message_format(want, sizeof(want), first, last, pos->root) !=
	        0 ||
	    strcmp(msg, want) != 0)
		goto out;
	if (!git_oid_equal(&id, &head) &&
	    git_graph_descendant_of(a->repo, &head, &id) != 1)
		goto out;
	r = 0;
out:
	git_commit_free(c);
	unlead(a);
	return r;
}

int
cv_auditlog_scan(struct cv_auditlog *a, uint64_t from, uint64_t to,
    int (*cb)(const json_t *event, void *arg), void *arg)
{
	char path[32];
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_tree_entry *te = NULL;
	git_blob *b = NULL;
	json_t *ev = NULL;
	git_oid head;
	uint64_t seq;
	int r = CV_EAUDIT, h;

	if (a == NULL || cb == NULL)
		return CV_EINVAL;
	if (to <= from + 1)
		return 0;
	lead(a);
	if ((h = audit_read_head(a->repo, &head)) <= 0)
		goto out;
	a->stale = 1;
	audit_fresh(a);
	if (git_commit_lookup(&c, a->repo, &head) != 0 ||
	    git_commit_tree(&t, c) != 0)
		goto out;
	for (seq = from + 1; seq < to; seq++) {
		audit_event_path(seq, path);
		if (git_tree_entry_bypath(&te, t, path) != 0 ||
		    git_blob_lookup(&b, a->repo, git_tree_entry_id(te)) != 0 ||
		    cv_json_parse_object(git_blob_rawcontent(b),
		        (size_t)git_blob_rawsize(b), CV_AUDIT_EVENT_MAX,
		        &ev) != 0) {
			r = CV_ECORRUPT;
			goto out;
		}
		r = cb(ev, arg);
		json_decref(ev);
		ev = NULL;
		git_blob_free(b);
		b = NULL;
		git_tree_entry_free(te);
		te = NULL;
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	json_decref(ev);
	git_blob_free(b);
	git_tree_entry_free(te);
	git_tree_free(t);
	git_commit_free(c);
	unlead(a);
	return r;
}
