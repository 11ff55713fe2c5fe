/*
 * Housekeeping, off the commit path: a thread, started when first needed,
 * that merges packs once enough have gathered and, once appends come in
 * batches, keeps spare pack files ready for the commits to take. Its
 * flags and the spare files are under a->mu; a merge runs without it.
 * A failure here changes nothing and is not reported.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "audit/internal.h"
#include "base/gitpack.h"
#include "base/packmerge.h"
#include "base/util.h"

/*
 * Merge packs (audit_pack_compact) if no other merge runs: one merger at a
 * time across threads and processes, by flock on the pack directory. A
 * merge needs no writer lock: it only adds a pack holding objects that
 * are already there and then removes the packs it copied, so a commit
 * being written meanwhile loses nothing. Housekeeping: a failure changes
 * nothing and is not reported.
 */
static void
merge_packs(struct cv_auditlog *a)
{
	int fd;

	if ((fd = open(a->packdir,
	         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		(void)audit_pack_compact(a->hkw, a->packdir);
	close(fd); /* releases the flock */
}

static void *
housekeeper(void *arg)
{
	struct cv_auditlog *a = arg;
	char path[4096];
	int fd;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->hk_due && !a->hk_refill && !a->hk_stop)
			pthread_cond_wait(&a->hk_cv, &a->mu);
		if (a->hk_refill && !a->hk_stop) {
			a->hk_refill = 0;
			while (a->nspare < SPARES) {
				pthread_mutex_unlock(&a->mu);
				fd = -1;
				if (audit_spare_make(a->packdir, &fd, path,
				        sizeof(path)) != 0) {
					pthread_mutex_lock(&a->mu);
					break;
				}
				pthread_mutex_lock(&a->mu);
				if ((a->spare_path[a->nspare] = strdup(path)) ==
				    NULL) {
					close(fd);
					unlink(path);
					break;
				}
				a->spare_fd[a->nspare++] = fd;
			}
			continue;
		}
		if (!a->hk_due)
			break;
		a->hk_due = 0;
		pthread_mutex_unlock(&a->mu);
		merge_packs(a);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* audit_take_fn for the commit's pack writer: a spare, if one is ready;
 * asks for more when half are used. */
int
audit_take_spare(void *ctx, int *fd, char *path, size_t size)
{
	struct cv_auditlog *a = ctx;
	int r = 1;

	pthread_mutex_lock(&a->mu);
	if (a->nspare > 0 &&
	    cv_path(path, size, "%s", a->spare_path[a->nspare - 1]) == 0) {
		a->nspare--;
		*fd = a->spare_fd[a->nspare];
		free(a->spare_path[a->nspare]);
		r = 0;
	}
	if (a->spares_on && a->nspare <= SPARES / 2 && a->hk_started) {
		a->hk_refill = 1;
		pthread_cond_signal(&a->hk_cv);
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

/* With a->mu held: start the housekeeper if it is not running. */
static int
hk_start(struct cv_auditlog *a)
{
	if (!a->hk_started) {
		if (pthread_create(&a->hk, NULL, housekeeper, a) != 0)
			return -1;
		a->hk_started = 1;
	}
	return 0;
}

/* With a->mu held: have the housekeeper merge packs. If it cannot be
 * started, the merge waits for cv_auditlog_close. */
void
audit_merge_soon(struct cv_auditlog *a)
{
	if (hk_start(a) != 0)
		return;
	a->hk_due = 1;
	pthread_cond_signal(&a->hk_cv);
}

/* With a->mu held, after a batch of N: once appends arrive in batches,
 * keep spare files ready. */
void
audit_spares_maybe(struct cv_auditlog *a, size_t n)
{
	if (a->spares_on || n < 2 || hk_start(a) != 0)
		return;
	a->spares_on = 1;
	a->hk_refill = 1;
	pthread_cond_signal(&a->hk_cv);
}

/* For cv_auditlog_close: stop the thread, merge if this handle committed,
 * and remove the spare files. */
void
audit_housekeep_stop(struct cv_auditlog *a)
{
	if (a->hk_started) {
		pthread_mutex_lock(&a->mu);
		a->hk_stop = 1;
		pthread_cond_signal(&a->hk_cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->hk, NULL);
	}
	/* A process that appends a few events and exits (every command
	 * line) merges here, once enough packs have gathered. */
	if (a->committed)
		merge_packs(a);
	while (a->nspare > 0) {
		a->nspare--;
		close(a->spare_fd[a->nspare]);
		unlink(a->spare_path[a->nspare]);
		free(a->spare_path[a->nspare]);
	}
}
