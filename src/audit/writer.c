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
 *   (audit_write.c), never as loose objects: a commit costs a fixed number
 *   of files and no work proportional to the log.
 * - One leader at a time talks to libgit2; other threads queue their events
 *   and sleep until the leader's commit has settled them. The leader waits
 *   a bounded moment for the writers of the previous batch to queue again,
 *   so that concurrent writers share commits instead of taking turns.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <sodium.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/layout.h"
#include "base/packmerge.h"
#include "base/gitpack.h"
#include "base/merkle.h"
#include "base/sshsig.h"
#include "base/util.h"

#define LOCK_FILE     "casevault.lock"
#define LOCK_WAIT_MS  5000
#define SPARES        8 /* two files per commit */
#define PRINCIPAL_MAX 64
#define ZLEVEL                                                                 \
	1 /* events and trees: level 1 is ~4x faster than 6                    \
	     for a few percent of size */

/* Group commit: how long a leader may wait for the writers of the last
 * batch to queue again before it commits what it has. */
#ifndef AUDIT_GATHER_US
#define AUDIT_GATHER_US 1000
#endif
/* ... and how many arrivals wake it to add them to the commit. */
#define AUDIT_GATHER_STEP 8

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

static int take_spare(void *ctx, int *fd, char *path, size_t size);

static int
principal_valid(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || n > PRINCIPAL_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '@' || c == '.' ||
		        c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static void
fsync_on(void)
{
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
}

int
cv_auditlog_create(
    const char *vaultdir, const uint8_t pk[static 32], const char *principal)
{
	char gitdir[4096], path[4096], line[CV_SSHSIG_PUBLINE_MAX];
	char as[CV_SSHSIG_PUBLINE_MAX + PRINCIPAL_MAX + 32];
	git_repository_init_options o;
	git_repository *repo = NULL;
	int r, fd, inited = 0;
	struct stat sb;

	if (vaultdir == NULL || principal == NULL ||
	    !principal_valid(principal))
		return CV_EINVAL;
	if ((r = cv_path(gitdir, sizeof(gitdir), "%s/audit.git", vaultdir)) !=
	    0)
		return r;
	if (stat(gitdir, &sb) == 0)
		return CV_EEXIST;
	git_libgit2_init();
	inited = 1;
	fsync_on();
	git_repository_init_options_init(
	    &o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT |
	    GIT_REPOSITORY_INIT_MKPATH;
	o.initial_head = "main";
	o.description = "casevault audit trail";
	if (git_repository_init_ext(&repo, gitdir, &o) != 0) {
		r = CV_EAUDIT;
		goto out;
	}
	if ((r = cv_path(path, sizeof(path), "%s/" LOCK_FILE, gitdir)) != 0)
		goto out;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		r = CV_EIO;
		goto out;
	}
	close(fd);
	if ((r = cv_fsync_dir(gitdir)) != 0)
		goto out;
	if ((r = cv_sshsig_pubkey_line(
	         pk, "casevault-audit", line, sizeof(line))) != 0)
		goto out;
	if ((r = cv_path(
	         path, sizeof(path), "%s/audit_signer.pub", vaultdir)) != 0 ||
	    (r = cv_path(as, sizeof(as), "%s\n", line)) != 0 ||
	    (r = cv_write_file_excl(path, as, strlen(as), 0644)) != 0)
		goto out;
	if ((r = cv_sshsig_pubkey_line(pk, NULL, line, sizeof(line))) != 0 ||
	    (r = cv_path(path, sizeof(path), "%s/allowed_signers", vaultdir)) !=
	        0 ||
	    (r = cv_path(as, sizeof(as), "%s namespaces=\"git\" %s\n",
	         principal, line)) != 0 ||
	    (r = cv_write_file_excl(path, as, strlen(as), 0644)) != 0)
		goto out;
	r = 0;
out:
	git_repository_free(repo);
	if (inited)
		git_libgit2_shutdown();
	return r;
}

/* Read the trail's state as of commit HEAD (or the empty log). */
static int
load_state(git_repository *repo, const git_oid *head, struct tstate *st)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_blob *b = NULL;
	const git_tree_entry *te;
	int r = CV_EAUDIT;

	memset(st, 0, sizeof(*st));
	cv_merkle_init(&st->mt);
	if (head == NULL)
		return 0;
	if (git_commit_lookup(&c, repo, head) != 0 ||
	    git_commit_tree(&t, c) != 0 ||
	    (te = git_tree_entry_byname(t, AUDIT_STATE)) == NULL ||
	    git_blob_lookup(&b, repo, git_tree_entry_id(te)) != 0)
		goto out;
	if (audit_state_parse(git_blob_rawcontent(b),
	        (size_t)git_blob_rawsize(b), &st->mt, &st->last_write,
	        &st->last_time) != 0)
		goto out;
	if (audit_layout_load(&st->lay, repo, t, st->mt.size) != 0)
		goto out;
	st->has_head = 1;
	git_oid_cpy(&st->head, head);
	r = 0;
out:
	git_blob_free(b);
	git_tree_free(t);
	git_commit_free(c);
	return r;
}

/*
 * A writer extends only a head signed with its own key: an unsigned or
 * foreign commit put on top of the trail is refused, not built upon.
 * (The public key is the second half of a libsodium Ed25519 secret key.)
 */
static int
head_signed(struct cv_auditlog *a, const git_oid *id)
{
	git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
	int r = CV_EAUDIT;

	if (git_commit_extract_signature(
	        &sig, &data, a->repo, (git_oid *)id, NULL) != 0)
		return CV_EAUDIT;
	if (cv_sshsig_verify(
	        sig.ptr, sig.size, a->sk + 32, "git", data.ptr, data.size) == 0)
		r = 0;
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return r;
}

/* The branch head: 1 and *id, 0 when unborn, or CV_EAUDIT. */
static int
read_head(git_repository *repo, git_oid *id)
{
	int e = git_reference_name_to_id(id, repo, AUDIT_REF);

	if (e == 0)
		return 1;
	return e == GIT_ENOTFOUND ? 0 : CV_EAUDIT;
}

int
cv_auditlog_open(
    const char *vaultdir, const uint8_t *sk, struct cv_auditlog **out)
{
	struct cv_auditlog *a = NULL;
	char path[4096];
	git_oid head;
	int r = CV_ENOMEM, h;

	*out = NULL;
	if (vaultdir == NULL)
		return CV_EINVAL;
	git_libgit2_init();
	fsync_on();
	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto fail;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		a = NULL;
		goto fail;
	}
	pthread_cond_init(&a->cv, NULL);
	pthread_cond_init(&a->arrive, NULL);
	pthread_cond_init(&a->hk_cv, NULL);
	if ((r = cv_path(path, sizeof(path), "%s/audit.git", vaultdir)) != 0)
		goto fail;
	r = CV_ENOMEM;
	if ((a->gitdir = strdup(path)) == NULL)
		goto fail;
	if (cv_path(path, sizeof(path), "%s/" LOCK_FILE, a->gitdir) != 0 ||
	    (a->lockpath = strdup(path)) == NULL)
		goto fail;
	if (cv_path(path, sizeof(path), "%s/" AUDIT_REF, a->gitdir) != 0 ||
	    (a->refpath = strdup(path)) == NULL)
		goto fail;
	if (cv_path(path, sizeof(path), "%s/" AUDIT_REF ".lock", a->gitdir) !=
	        0 ||
	    (a->reflockpath = strdup(path)) == NULL)
		goto fail;
	if (cv_path(path, sizeof(path), "%s/objects/pack", a->gitdir) != 0 ||
	    (a->packdir = strdup(path)) == NULL)
		goto fail;
	if (sk != NULL) {
		if ((a->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) ==
		        NULL ||
		    audit_packw_new(ZLEVEL, &a->pw) != 0 ||
		    audit_packw_new(ZLEVEL, &a->hkw) != 0)
			goto fail;
		audit_packw_spares(a->pw, take_spare, a);
		memcpy(a->sk, sk, crypto_sign_SECRETKEYBYTES);
		sodium_mprotect_readonly(a->sk);
	}
	r = CV_EAUDIT;
	if (git_repository_open_bare(&a->repo, a->gitdir) != 0 ||
	    git_repository_odb(&a->odb, a->repo) != 0)
		goto fail;
	if ((h = read_head(a->repo, &head)) < 0)
		goto fail;
	/* A writer starts only from a head signed with its key. */
	if (h && a->sk != NULL && head_signed(a, &head) != 0)
		goto fail;
	if (load_state(a->repo, h ? &head : NULL, &a->st) != 0)
		goto fail;
	a->loaded = 1;
	*out = a;
	return 0;
fail:
	cv_auditlog_close(a);
	if (a == NULL)
		git_libgit2_shutdown();
	return r;
}

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
static int
take_spare(void *ctx, int *fd, char *path, size_t size)
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
static void
merge_soon(struct cv_auditlog *a)
{
	if (hk_start(a) != 0)
		return;
	a->hk_due = 1;
	pthread_cond_signal(&a->hk_cv);
}

/* With a->mu held, after a batch of N: once appends arrive in batches,
 * keep spare files ready. */
static void
spares_maybe(struct cv_auditlog *a, size_t n)
{
	if (a->spares_on || n < 2 || hk_start(a) != 0)
		return;
	a->spares_on = 1;
	a->hk_refill = 1;
	pthread_cond_signal(&a->hk_cv);
}

void
cv_auditlog_close(struct cv_auditlog *a)
{
	if (a == NULL)
		return;
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
	if (a->sk != NULL)
		sodium_free(a->sk); /* wipes */
	audit_packw_free(a->pw);
	audit_packw_free(a->hkw);
	git_odb_free(a->odb);
	git_repository_free(a->repo);
	free(a->gitdir);
	free(a->lockpath);
	free(a->refpath);
	free(a->reflockpath);
	free(a->packdir);
	pthread_cond_destroy(&a->hk_cv);
	pthread_cond_destroy(&a->arrive);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
	git_libgit2_shutdown();
}

/* Objects of the commit being built go to its pack only; nothing reads
 * them before the pack is on disk. */
static int
put_pack(
    void *ctx, git_object_t type, const void *buf, size_t len, git_oid *out)
{
	return audit_packw_add(ctx, type, buf, len, out) == 0 ? 0 : CV_EAUDIT;
}

/* libgit2 lists a repository's packs once and again only on a miss; after
 * our own writes, list them before reading so a lookup never pays for the
 * miss (and so that packs merged away are forgotten). */
static void
fresh(struct cv_auditlog *a)
{
	if (a->stale && git_odb_refresh(a->odb) == 0)
		a->stale = 0;
}

static int
lock_take(const char *path, int *fdp)
{
	struct timespec ts = {0, 1000000};
	int fd, i;

	/* No O_CREAT: a missing lock file means a missing repository. */
	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return CV_EAUDIT;
	for (i = 0; i < LOCK_WAIT_MS; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*fdp = fd;
			return 0;
		}
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&ts, NULL);
	}
	close(fd);
	return CV_EAUDIT;
}

/*
 * Move the branch from OLD to NEW, with the writer lock held and NEW's
 * pack already durable. The loose ref file is rewritten in place: its 41
 * bytes (the id and a newline) are compared with OLD and overwritten with
 * NEW, then fdatasync'd. No lock file is created and no inode is freed,
 * which on this trail's disks is what a commit pays most for. The write
 * lies in the file's first sector, which a disk writes whole, so after a
 * crash the file holds OLD or NEW, and both are signed heads whose objects
 * are on disk. Every casevault writer takes the writer lock first; git's
 * own lock file (main.lock) is honoured by refusing while it exists.
 * A branch kept only in packed-refs goes through libgit2's compare-and-swap.
 */
static int
ref_move(struct cv_auditlog *a, const git_oid *old, const git_oid *new)
{
	char want[GIT_OID_HEXSZ + 1], cur[GIT_OID_HEXSZ + 1];
	char line[GIT_OID_HEXSZ + 1];
	git_reference *ref = NULL;
	struct stat sb;
	int fd, r = CV_EAUDIT;

	if (lstat(a->reflockpath, &sb) == 0 || errno != ENOENT)
		return CV_EAUDIT;
	if ((fd = open(a->refpath, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			return CV_EAUDIT;
		r = git_reference_create_matching(
		    &ref, a->repo, AUDIT_REF, new, 1, old, "audit: append");
		git_reference_free(ref);
		return r == 0 ? 0 : CV_EAUDIT;
	}
	git_oid_fmt(want, old);
	want[GIT_OID_HEXSZ] = '\n';
	git_oid_fmt(line, new);
	line[GIT_OID_HEXSZ] = '\n';
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size != (off_t)sizeof(cur) ||
	    pread(fd, cur, sizeof(cur), 0) != (ssize_t)sizeof(cur) ||
	    memcmp(cur, want, sizeof(cur)) != 0)
		goto out;
	if (pwrite(fd, line, sizeof(line), 0) != (ssize_t)sizeof(line) ||
	    fdatasync(fd) != 0)
		goto out;
	r = 0;
out:
	if (close(fd) != 0)
		r = CV_EAUDIT;
	return r;
}

/*
 * The commit object exactly as git_commit_create_with_signature() lays it
 * out: the headers of the signed content, "gpgsig " and the signature with
 * every line after the first continued by a space, then the blank line and
 * the message. SIG has no trailing newline. *OUT is malloc'd.
 */
static int
commit_format(const char *hdr, const char *sig, const char *msg, char **out,
    size_t *outlen)
{
	size_t hl = strlen(hdr), sl = strlen(sig), ml = strlen(msg), n = 0, i;
	char *p;

	if ((p = malloc(hl + 8 + 2 * sl + 2 + ml)) == NULL)
		return CV_ENOMEM;
	memcpy(p, hdr, hl);
	n = hl;
	memcpy(p + n, "gpgsig ", 7);
	n += 7;
	for (i = 0; i < sl; i++) {
		p[n++] = sig[i];
		if (sig[i] == '\n')
			p[n++] = ' ';
	}
	p[n++] = '\n';
	p[n++] = '\n';
	memcpy(p + n, msg, ml);
	n += ml;
	*out = p;
	*outlen = n;
	return 0;
}

/* Byte order of object keys, as jansson sorts them for canonical JSON. */
static int
key_cmp(const char *k, size_t kl, const char *ref)
{
	size_t rl = strlen(ref), m = kl < rl ? kl : rl;
	int c = memcmp(k, ref, m);

	return c != 0 ? c : (kl > rl) - (kl < rl);
}

/* Append the members of canonical object text O (without its braces) to
 * the buffer at P, after a comma if SEP; returns the new end. */
static char *
members(char *p, const char *o, int sep)
{
	size_t n = strlen(o);

	if (n <= 2)
		return p;
	if (sep)
		*p++ = ',';
	memcpy(p, o + 1, n - 2);
	return p + n - 2;
}

/*
 * Serialise EVENT into Q in the writer's own thread: its keys split
 * around "seq" and "time" into three objects dumped canonically, joined
 * around the places of the two values (see struct req). The size is
 * checked with the widest values the leader can put there, so the leader
 * never has to refuse an event it has already numbered.
 */
static int
event_prepare(const json_t *event, unsigned flags, struct req *q)
{
	json_t *part[3] = {NULL, NULL, NULL};
	char *dump[3] = {NULL, NULL, NULL}, *p;
	const char *k;
	json_t *v;
	size_t kl, n;
	int i, r = CV_ENOMEM;

	q->text = NULL;
	if (!json_is_object(event) || (flags & ~CV_AUDIT_WRITE) != 0)
		return CV_EINVAL;
	for (i = 0; i < 3; i++)
		if ((part[i] = json_object()) == NULL)
			goto out;
	json_object_keylen_foreach((json_t *)event, k, kl, v)
	{
		int seq = key_cmp(k, kl, "seq"), tm = key_cmp(k, kl, "time");
		if (seq == 0 || tm == 0 || key_cmp(k, kl, "store_write") == 0) {
			r = CV_EINVAL;
			goto out;
		}
		i = seq < 0 ? 0 : tm < 0 ? 1 : 2;
		if (json_object_setn_nocheck(part[i], k, kl, v) != 0)
			goto out;
	}
	if ((flags & CV_AUDIT_WRITE) &&
	    json_object_set_new(part[1], "store_write", json_true()) != 0)
		goto out;
	for (i = 0; i < 3; i++)
		if ((dump[i] = cv_json_canonical(part[i])) == NULL)
			goto out;
	n = strlen(dump[0]) + strlen(dump[1]) + strlen(dump[2]) + 32;
	if ((q->text = malloc(n)) == NULL)
		goto out;
	p = q->text;
	*p++ = '{';
	p = members(p, dump[0], 0);
	if (p > q->text + 1)
		*p++ = ',';
	memcpy(p, "\"seq\":", 6);
	p += 6;
	q->pre = (size_t)(p - q->text);
	p = members(p, dump[1], 1);
	memcpy(p, ",\"time\":\"", 9);
	p += 9;
	q->mid = (size_t)(p - q->text) - q->pre;
	*p++ = '"';
	p = members(p, dump[2], 1);
	*p++ = '}';
	q->post = (size_t)(p - q->text) - q->pre - q->mid;
	r = 0;
	/* The widest seq has 9 digits; a time is always 24 characters. */
	if (q->pre + q->mid + q->post + 9 + 24 > CV_AUDIT_EVENT_MAX) {
		free(q->text);
		q->text = NULL;
		r = CV_ETOOBIG;
	}
out:
	for (i = 0; i < 3; i++) {
		free(dump[i]);
		json_decref(part[i]);
	}
	return r;
}

/* The event of Q with SEQ and TIME (24 characters) into BUF, which holds
 * CV_AUDIT_EVENT_MAX bytes; returns its length. */
static size_t
event_text(const struct req *q, uint64_t seq, const char *time, char *buf)
{
	size_t n = q->pre;

	memcpy(buf, q->text, q->pre);
	n += (size_t)sprintf(buf + n, "%" PRIu64, seq);
	memcpy(buf + n, q->text + q->pre, q->mid);
	n += q->mid;
	memcpy(buf + n, time, 24);
	n += 24;
	memcpy(buf + n, q->text + q->pre + q->mid, q->post);
	return n + q->post;
}

/* The commit a leader is building. */
struct build {
	int lockfd;
	uint64_t first, now; /* its first seq; its time */
	char tbuf[25];
	size_t n; /* events added */
};

/* Lock the trail, check that its head is ours (rebasing onto another
 * process's appends), and start a commit on top of it. */
static int
build_begin(struct cv_auditlog *a, struct build *b)
{
	struct tstate *nx = &a->next;
	git_oid disk;
	int r, h;

	b->lockfd = -1;
	b->n = 0;
	audit_packw_reset(a->pw);
	if ((r = lock_take(a->lockpath, &b->lockfd)) != 0)
		return r;
	if ((h = read_head(a->repo, &disk)) < 0)
		return CV_EAUDIT;
	/* Another process may have appended: rebase onto its head. A head
	 * that vanished is never "empty again". */
	if (!a->loaded || h != a->st.has_head ||
	    (h && !git_oid_equal(&disk, &a->st.head))) {
		a->loaded = 0;
		if (!h && a->st.has_head)
			return CV_EAUDIT;
		a->stale = 1; /* another writer's packs */
		fresh(a);
		if (h && head_signed(a, &disk) != 0)
			return CV_EAUDIT;
		if (load_state(a->repo, h ? &disk : NULL, &a->st) != 0)
			return CV_EAUDIT;
		a->loaded = 1;
	}
	*nx = a->st;
	b->first = nx->mt.size + 1;
	b->now = cv_now_ms();
	if (b->now < nx->last_time)
		b->now = nx->last_time; /* the clock stepped back */
	cv_format_time(b->now, b->tbuf);
	return 0;
}

/* Q as the commit's next event. */
static int
build_add(struct cv_auditlog *a, struct build *b, struct req *q)
{
	struct tstate *nx = &a->next;
	uint8_t leaf[CV_MERKLE_HASHBYTES];
	char ebuf[CV_AUDIT_EVENT_MAX];
	uint64_t seq = b->first + b->n;
	git_oid id;
	size_t len;

	if (seq > AUDIT_SEQ_MAX)
		return CV_EAUDIT;
	len = event_text(q, seq, b->tbuf, ebuf);
	if (put_pack(a->pw, GIT_OBJECT_BLOB, ebuf, len, &id) != 0)
		return CV_EAUDIT;
	cv_merkle_leaf_hash(ebuf, len, leaf);
	if (cv_merkle_append(&nx->mt, leaf) != 0 ||
	    audit_layout_add(&nx->lay, seq, &id, put_pack, a->pw) != 0)
		return CV_EAUDIT;
	if (q->flags & CV_AUDIT_WRITE)
		nx->last_write = seq;
	q->seq = seq;
	b->n++;
	return 0;
}

/*
 * Unless R (a failure so far) is set: write the state blob and the trees,
 * sign the commit, write its pack durably and move the branch to it; on
 * success a->st is the new head. Always releases the trail's lock.
 */
static int
build_finish(struct cv_auditlog *a, struct build *b, int r)
{
	struct tstate *nx = &a->next;
	char msg[AUDIT_MSG_MAX], hex[GIT_OID_HEXSZ + 1];
	char *sig = NULL, *state = NULL, *content = NULL, *obj = NULL;
	uint8_t root[CV_MERKLE_HASHBYTES];
	char phex[GIT_OID_HEXSZ + 1];
	git_oid tree, sid, cid;
	git_reference *ref = NULL;
	size_t siglen, clen, hlen, olen;

	if (r != 0 || b->n == 0)
		goto out;
	r = CV_EAUDIT;
	nx->last_time = b->now;
	if ((state = audit_state_format(&nx->mt, nx->last_write, b->now)) ==
	        NULL ||
	    put_pack(a->pw, GIT_OBJECT_BLOB, state, strlen(state), &sid) != 0 ||
	    audit_layout_finish(&nx->lay, &sid, put_pack, a->pw, &tree) != 0)
		goto out;
	cv_merkle_root(&nx->mt, root);
	if (audit_message_format(
	        msg, sizeof(msg), b->first, b->first + b->n - 1, root) != 0)
		goto out;
	git_oid_tostr(hex, sizeof(hex), &tree);
	if (nx->has_head)
		git_oid_tostr(phex, sizeof(phex), &nx->head);
	clen = 256 + sizeof(msg);
	if ((content = malloc(clen)) == NULL)
		goto out;
	/* The headers, then the signed content: headers, blank line, message
	 * (what git verify-commit checks the signature against). */
	if (cv_path(content, clen,
	        "tree %s\n%s%s%s"
	        "author " AUDIT_NAME " <" AUDIT_EMAIL "> %" PRIu64 " +0000\n"
	        "committer " AUDIT_NAME " <" AUDIT_EMAIL "> %" PRIu64
	        " +0000\n",
	        hex, nx->has_head ? "parent " : "", nx->has_head ? phex : "",
	        nx->has_head ? "\n" : "", b->now / 1000, b->now / 1000) != 0)
		goto out;
	hlen = strlen(content);
	if (cv_path(content + hlen, clen - hlen, "\n%s", msg) != 0)
		goto out;
	if (cv_sshsig_sign(
	        a->sk, AUDIT_NS, content, strlen(content), &sig, &siglen) != 0)
		goto out;
	/* Each line of the header is continued below; a trailing newline
	 * would leave an empty continuation line. */
	sig[siglen - 1] = '\0';
	content[hlen] = '\0';
	if (commit_format(content, sig, msg, &obj, &olen) != 0 ||
	    put_pack(a->pw, GIT_OBJECT_COMMIT, obj, olen, &cid) != 0)
		goto out;
	if (audit_packw_write(a->pw, a->packdir, NULL) != 0)
		goto out;
	a->stale = 1;
	if (nx->has_head) {
		if (ref_move(a, &nx->head, &cid) != 0)
			goto out;
	} else if (git_reference_create(
	               &ref, a->repo, AUDIT_REF, &cid, 0, "audit: append") != 0)
		goto out;
	nx->has_head = 1;
	git_oid_cpy(&nx->head, &cid);
	a->st = *nx;
	r = 0;
	/* The events are durable. Merging packs is housekeeping, done by
	 * the housekeeper so that no writer waits for it. */
	a->committed = 1;
	if (++a->since_compact >= AUDIT_PACKS_MIN) {
		a->since_compact = 0;
		a->merge_due = 1;
	}
out:
	audit_packw_reset(a->pw);
	git_reference_free(ref);
	free(obj);
	free(content);
	free(sig);
	free(state);
	if (b->lockfd != -1)
		close(b->lockfd); /* releases the flock */
	b->lockfd = -1;
	if (r != 0)
		a->loaded = 0; /* re-read the head before the next try */
	return r;
}

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
				r = build_add(a, b, batch[i]);
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
	if ((r = event_prepare(event, flags, &q)) != 0)
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
		r = build_begin(a, &b);
		pthread_mutex_lock(&a->mu);
		r = collect(a, &b, batch, &n, r);
		a->last_batch = n0 = n;
		pthread_mutex_unlock(&a->mu);
		r = build_finish(a, &b, r);
		pthread_mutex_lock(&a->mu);
		while (n-- > 0) {
			p = batch[n];
			p->r = r == 0 ? 0 : CV_EAUDIT;
			if (r != 0)
				p->seq = 0;
			p->done = 1;
		}
		a->leading = 0;
		spares_maybe(a, n0);
		if (a->merge_due) {
			a->merge_due = 0;
			merge_soon(a);
		}
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	free(q.text);
	if (q.r == 0 && seq != NULL)
		*seq = q.seq;
	return q.r;
}

/* Read the head with the libgit2 handle to ourselves, as a leader would. */
static int
read_current(struct cv_auditlog *a, struct tstate *st)
{
	git_oid disk;
	int h, r = CV_EAUDIT;

	pthread_mutex_lock(&a->mu);
	while (a->leading)
		pthread_cond_wait(&a->cv, &a->mu);
	a->leading = 1;
	pthread_mutex_unlock(&a->mu);
	if ((h = read_head(a->repo, &disk)) >= 0) {
		if (a->loaded && h == a->st.has_head &&
		    (!h || git_oid_equal(&disk, &a->st.head)))
			r = 0;
		else {
			a->stale = 1; /* another writer's packs */
			fresh(a);
			if (load_state(a->repo, h ? &disk : NULL, &a->st) ==
			    0) {
				a->loaded = 1;
				r = 0;
			} else
				a->loaded = 0;
		}
	}
	if (r == 0) {
		st->mt.size = a->st.mt.size;
		st->last_write = a->st.last_write;
	}
	pthread_mutex_lock(&a->mu);
	a->leading = 0;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return r;
}

int
cv_auditlog_last_write(struct cv_auditlog *a, uint64_t *seq)
{
	struct tstate *st;
	int r;

	if (a == NULL || seq == NULL)
		return CV_EINVAL;
	if ((st = malloc(sizeof(*st))) == NULL)
		return CV_ENOMEM;
	if ((r = read_current(a, st)) == 0)
		*seq = st->last_write;
	free(st);
	return r;
}

int
cv_auditlog_size(struct cv_auditlog *a, uint64_t *size)
{
	struct tstate *st;
	int r;

	if (a == NULL || size == NULL)
		return CV_EINVAL;
	if ((st = malloc(sizeof(*st))) == NULL)
		return CV_ENOMEM;
	if ((r = read_current(a, st)) == 0)
		*size = st->mt.size;
	free(st);
	return r;
}

static int
push_status(const char *refname, const char *status, void *data)
{
	(void)refname;
	if (status != NULL)
		*(int *)data = 1;
	return 0;
}

int
cv_auditlog_push(const char *vaultdir, const char *remote)
{
	char gitdir[4096];
	const char *spec = AUDIT_REF ":" AUDIT_REF;
	git_strarray specs = {(char **)&spec, 1};
	git_remote_create_options ro;
	git_push_options po;
	git_repository *repo = NULL, *mirror = NULL;
	git_remote *rem = NULL;
	int r = CV_EAUDIT, rejected = 0;
	struct stat sb;

	if (vaultdir == NULL || remote == NULL || *remote == '\0' ||
	    remote[0] == '-')
		return CV_EINVAL;
	if (strstr(remote, "://") != NULL && strncmp(remote, "file://", 7) != 0)
		return CV_EINVAL;
	if ((r = cv_path(gitdir, sizeof(gitdir), "%s/audit.git", vaultdir)) !=
	    0)
		return r;
	r = CV_EAUDIT;
	git_libgit2_init();
	fsync_on();
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	if (strncmp(remote, "file://", 7) != 0 && stat(remote, &sb) != 0) {
		/* A new mirror's HEAD names the trail's branch, so it opens
		 * (and a backup of the vault works) like the original. */
		git_repository_init_options io;
		git_repository_init_options_init(
		    &io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		io.flags = GIT_REPOSITORY_INIT_BARE |
		    GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
		io.initial_head = "main";
		if (git_repository_init_ext(&mirror, remote, &io) != 0)
			goto out;
	}
	if (git_repository_open_bare(&repo, gitdir) != 0)
		goto out;
	/* A mirror is named exactly: no url.*.insteadOf rewriting. */
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&rem, remote, &ro) != 0)
		goto out;
	po.callbacks.push_update_reference = push_status;
	po.callbacks.payload = &rejected;
	if (git_remote_push(rem, &specs, &po) != 0 || rejected)
		goto out;
	r = 0;
out:
	git_remote_free(rem);
	git_repository_free(mirror);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}
