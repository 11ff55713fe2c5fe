/*
 * The audit trail writer: group commit of events into signed git commits.
 *
 * Invariants:
 * - An append returns 0 only after the pack holding its commit and the
 *   pack's index are fsynced, renamed into objects/pack and that directory
 *   fsynced, and refs/heads/main points at that commit (libgit2 fsyncs the
 *   ref file and its directory once GIT_OPT_ENABLE_FSYNC_GITDIR is on).
 *   Anything else is CV_EAUDIT and the in-memory state is left at the last
 *   head that is known durable.
 * - The ref only ever moves from the head this writer built on to a commit
 *   whose parent is that head (compare-and-swap under the lock file), so the
 *   branch never forks or rewinds.
 * - Each commit's objects go to disk as one pack written directly
 *   (base/gitpack.c), never as loose objects: a commit costs a fixed number
 *   of files and no work proportional to the log.
 * - One leader at a time talks to libgit2; other threads queue their events
 *   and sleep until the leader's commit has settled them. The leader waits
 *   a bounded moment for the writers of the previous batch to queue again,
 *   so that concurrent writers share commits instead of taking turns.
 *
 * The writer's files, which share struct cv_auditlog through this header
 * and nothing else includes:
 * - repo.c: create, open, close and push the repository; read the head
 *   and the trail's state as of a head.
 * - event.c: an event's canonical text, serialised by its writer and
 *   completed with "seq" and "time" by the leader.
 * - queue.c: the append queue, the leader and its group commit.
 * - commit.c: a commit's events, trees, state blob and signed commit
 *   object, its pack made durable and the branch moved to it.
 * - housekeep.c: the thread that merges packs and keeps spare pack files.
 */
#ifndef CV_AUDIT_INTERNAL_H
#define CV_AUDIT_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>
#include <jansson.h>

#include "audit/layout.h"
#include "base/gitpack.h"
#include "base/merkle.h"

#define LOCK_FILE "casevault.lock"
#define SPARES    8 /* two files per commit */

/*
 * An event waiting to be committed, serialised by its writer: the
 * canonical JSON with "seq" and "time" left out, cut where their values
 * go, so that the leader only copies bytes. text holds pre, mid and post
 * one after another: pre ends with "\"seq\":", mid runs from the comma
 * after the number to "\"time\":\"", post from the closing quote on.
 */
struct req {
	char *text; /* malloc'd */
	size_t pre, mid, post;
	unsigned flags;
	uint64_t seq;
	int r;
	int done;
	struct req *next;
};

/* The trail as of a durable head. */
struct tstate {
	int has_head;
	git_oid head;
	struct cv_merkle mt;
	uint64_t last_write;
	uint64_t last_time;
	struct audit_layout lay;
};

struct cv_auditlog {
	char *gitdir;
	char *lockpath;
	char *refpath;     /* the branch's loose ref file */
	char *reflockpath; /* git's lock on it */
	uint8_t *sk;       /* sodium_malloc'd, NULL when read-only */
	git_repository *repo;
	git_odb *odb;
	struct audit_packw *pw; /* the pack of the commit being built */
	char *packdir;

	pthread_mutex_t mu;
	pthread_cond_t cv;     /* a batch settled, or the leader left */
	pthread_cond_t arrive; /* a request was queued */
	struct req *qhead, *qtail;
	size_t queued;
	size_t last_batch; /* requests in the previous commit */
	int leading;
	size_t gathering; /* the leader waits on arrive for this many queued */

	/* Pack merging, off the commit path: a thread started at the first
	 * merge that is due, woken under mu; close merges what is left. */
	pthread_t hk;
	pthread_cond_t hk_cv;
	int hk_started, hk_due, hk_stop;
	struct audit_packw *hkw; /* the merged pack being built */
	/* Spare pack files the housekeeper keeps ready once appends come
	 * in batches (not for a command that appends a few events). */
	int spare_fd[SPARES];
	char *spare_path[SPARES];
	int nspare, spares_on, hk_refill;

	/* Leader only (or under mu with no leader). */
	int loaded;
	int stale;     /* packs were added since libgit2 last listed them */
	int committed; /* a commit since the last merge check */
	int merge_due;
	unsigned since_compact;
	struct tstate st;
	struct tstate next; /* scratch for the commit being built */
};

/* The commit a leader is building. */
struct build {
	int lockfd;
	uint64_t first, now; /* its first seq; its time */
	char tbuf[25];
	size_t n; /* events added */
};

/* repo.c */
int audit_load_state(
    git_repository *repo, const git_oid *head, struct tstate *st);
int audit_head_signed(struct cv_auditlog *a, const git_oid *id);
int audit_read_head(git_repository *repo, git_oid *id);
void audit_fresh(struct cv_auditlog *a);

/* event.c */
int audit_event_prepare(const json_t *event, unsigned flags, struct req *q);
size_t audit_event_text(
    const struct req *q, uint64_t seq, const char *time, char *buf);

/* queue.c */
int audit_read_current(struct cv_auditlog *a, struct tstate *st);

/* commit.c */
int audit_build_begin(struct cv_auditlog *a, struct build *b);
int audit_build_add(struct cv_auditlog *a, struct build *b, struct req *q);
int audit_build_finish(struct cv_auditlog *a, struct build *b, int r);

/* housekeep.c */
int audit_take_spare(void *ctx, int *fd, char *path, size_t size);
void audit_merge_soon(struct cv_auditlog *a);
void audit_spares_maybe(struct cv_auditlog *a, size_t n);
void audit_housekeep_stop(struct cv_auditlog *a);

#endif
