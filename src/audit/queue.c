/*
 * The append queue and its leader. Writers queue their prepared events;
 * one of them at a time leads: it begins a commit, gathers the queue into
 * it, finishes it and settles every request it took, while the others
 * sleep on a->cv. Invariants: see internal.h; the last is kept here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <git2.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/internal.h"
#include "audit/layout.h"

/* Group commit: how long a leader may wait for the writers of the last
 * batch to queue again before it commits what it has. */
#ifndef AUDIT_GATHER_US
#define AUDIT_GATHER_US 1000
#endif
/* ... and how many arrivals wake it to add them to the commit. */
#define AUDIT_GATHER_STEP 8

/*
 * Called by a new leader with a->mu held, its commit begun (or failed
 * with R): take the queued requests into BATCH and add each to the commit
 * as it arrives. The writers settled by the previous commit usually come
 * straight back with their next event; a leader that committed at once
 * would take one or two of them and leave the rest to queue behind its
 * commit, so batches would stay at half the writer count. So it collects
 * until it has as many requests as the previous batch held, for at most
 * AUDIT_GATHER_US, adding the ones that have arrived (without a->mu)
 * while the others are on their way. A lone writer (previous batch of
 * one) never waits, and neither does a batch that is already full.
 * Returns R or the first failure; *NP is the number taken, all of which
 * share the commit's fate.
 */
static int
collect(struct cv_auditlog *a, struct build *b, struct req **batch, size_t *np,
    int r)
{
	struct timespec dl;
	size_t want = a->last_batch, n = 0, from, i;
	int late = 0;

	if (want > AUDIT_BATCH_MAX)
		want = AUDIT_BATCH_MAX;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += AUDIT_GATHER_US * 1000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	for (;;) {
		for (from = n; n < AUDIT_BATCH_MAX && a->qhead != NULL; n++) {
			batch[n] = a->qhead;
			a->qhead = a->qhead->next;
			a->queued--;
		}
		if (a->qhead == NULL)
			a->qtail = NULL;
		if (n > from && r == 0) {
			pthread_mutex_unlock(&a->mu);
			for (i = from; i < n && r == 0; i++)
				r = audit_build_add(a, b, batch[i]);
			pthread_mutex_lock(&a->mu);
		}
		if (r != 0 || n >= want || n == AUDIT_BATCH_MAX || late)
			break;
		if (a->qhead != NULL)
			continue;
		/* Wake for a handful at a time, to add them while the
		 * rest arrive. */
		a->gathering =
		    want - n < AUDIT_GATHER_STEP ? want - n : AUDIT_GATHER_STEP;
		if (pthread_cond_timedwait(&a->arrive, &a->mu, &dl) ==
		    ETIMEDOUT)
			late = 1;
		a->gathering = 0;
	}
	*np = n;
	return r;
}

int
cv_auditlog_append(
    struct cv_auditlog *a, const json_t *event, unsigned flags, uint64_t *seq)
{
	struct req q, *batch[AUDIT_BATCH_MAX], *p;
	struct build b;
	size_t n, n0;
	int r;

	if (a == NULL)
		return CV_EINVAL;
	if (a->sk == NULL)
		return CV_ESTATE;
	if ((r = audit_event_prepare(event, flags, &q)) != 0)
		return r;
	q.flags = flags;
	q.seq = 0;
	q.r = CV_EAUDIT;
	q.done = 0;
	q.next = NULL;

	pthread_mutex_lock(&a->mu);
	if (a->qtail != NULL)
		a->qtail->next = &q;
	else
		a->qhead = &q;
	a->qtail = &q;
	a->queued++;
	/* Wake a gathering leader when the arrivals it waits for are in. */
	if (a->gathering != 0 && a->queued == a->gathering)
		pthread_cond_signal(&a->arrive);
	while (!q.done) {
		if (a->leading) {
			pthread_cond_wait(&a->cv, &a->mu);
			continue;
		}
		/* Lead: begin a commit, then take what is waiting, ours
		 * included, and what arrives while the batch fills. */
		a->leading = 1;
		pthread_mutex_unlock(&a->mu);
		r = audit_build_begin(a, &b);
		pthread_mutex_lock(&a->mu);
		r = collect(a, &b, batch, &n, r);
		a->last_batch = n0 = n;
		pthread_mutex_unlock(&a->mu);
		r = audit_build_finish(a, &b, r);
		pthread_mutex_lock(&a->mu);
		while (n-- > 0) {
			p = batch[n];
			p->r = r == 0 ? 0 : CV_EAUDIT;
			if (r != 0)
				p->seq = 0;
			p->done = 1;
		}
		a->leading = 0;
		audit_spares_maybe(a, n0);
		if (a->merge_due) {
			a->merge_due = 0;
			audit_merge_soon(a);
		}
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	free(q.text);
	if (q.r == 0 && seq != NULL)
		*seq = q.seq;
	return q.r;
}

/* Read the head with the libgit2 handle to ourselves, as a leader would:
 * ST gets the head, its Merkle tree and its last write (not the layout). */
int
audit_read_current(struct cv_auditlog *a, struct tstate *st)
{
	git_oid disk;
	int h, r = CV_EAUDIT;

	pthread_mutex_lock(&a->mu);
	while (a->leading)
		pthread_cond_wait(&a->cv, &a->mu);
	a->leading = 1;
	pthread_mutex_unlock(&a->mu);
	if ((h = audit_read_head(a->repo, &disk)) >= 0) {
		if (a->loaded && h == a->st.has_head &&
		    (!h || git_oid_equal(&disk, &a->st.head)))
			r = 0;
		else {
			a->stale = 1; /* another writer's packs */
			audit_fresh(a);
			if (audit_load_state(
			        a->repo, h ? &disk : NULL, &a->st) == 0) {
				a->loaded = 1;
				r = 0;
			} else
				a->loaded = 0;
		}
	}
	if (r == 0) {
		st->has_head = a->st.has_head;
		git_oid_cpy(&st->head, &a->st.head);
		st->mt = a->st.mt;
		st->last_write = a->st.last_write;
		st->last_time = a->st.last_time;
	}
	pthread_mutex_lock(&a->mu);
	a->leading = 0;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return r;
}

/*
 * The current head's state into a new *ST, freed by the caller; OUT is the
 * caller's result pointer, checked here so the three readers below do not.
 */
static int
current(struct cv_auditlog *a, const void *out, struct tstate **st)
{
	int r;

	*st = NULL;
	if (a == NULL || out == NULL)
		return CV_EINVAL;
	if ((*st = malloc(sizeof(**st))) == NULL)
		return CV_ENOMEM;
	if ((r = audit_read_current(a, *st)) != 0) {
		free(*st);
		*st = NULL;
	}
	return r;
}

int
cv_auditlog_last_write(struct cv_auditlog *a, uint64_t *seq)
{
	struct tstate *st;
	int r;

	if ((r = current(a, seq, &st)) == 0) {
		*seq = st->last_write;
		free(st);
	}
	return r;
}

int
cv_auditlog_size(struct cv_auditlog *a, uint64_t *size)
{
	struct tstate *st;
	int r;

	if ((r = current(a, size, &st)) == 0) {
		*size = st->mt.size;
		free(st);
	}
	return r;
}

int
cv_auditlog_last_time(struct cv_auditlog *a, uint64_t *ms)
{
	struct tstate *st;
	int r;

	if ((r = current(a, ms, &st)) == 0) {
		*ms = st->last_time;
		free(st);
	}
	return r;
}
