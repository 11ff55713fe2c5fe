/*
 * Building one commit under the writer lock: each event's blob and Merkle
 * leaf, the state blob and the trees, the commit object signed with
 * SSHSIG, its pack written durably, and the branch moved to it by
 * compare-and-swap. Invariants: see internal.h; the first three are kept
 * here.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/internal.h"
#include "audit/layout.h"
#include "base/gitpack.h"
#include "base/merkle.h"
#include "base/packmerge.h"
#include "base/sshsig.h"
#include "base/util.h"

#define LOCK_WAIT_MS 5000

/* Objects of the commit being built go to its pack only; nothing reads
 * them before the pack is on disk. */
static int
put_pack(
    void *ctx, git_object_t type, const void *buf, size_t len, git_oid *out)
{
	return audit_packw_add(ctx, type, buf, len, out) == 0 ? 0 : CV_EAUDIT;
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

/* Lock the trail, check that its head is ours (rebasing onto another
 * process's appends), and start a commit on top of it. */
int
audit_build_begin(struct cv_auditlog *a, struct build *b)
{
	struct tstate *nx = &a->next;
	git_oid disk;
	int r, h;

	b->lockfd = -1;
	b->n = 0;
	audit_packw_reset(a->pw);
	if ((r = lock_take(a->lockpath, &b->lockfd)) != 0)
		return r;
	if ((h = audit_read_head(a->repo, &disk)) < 0)
		return CV_EAUDIT;
	/* Another process may have appended: rebase onto its head. A head
	 * that vanished is never "empty again". */
	if (!a->loaded || h != a->st.has_head ||
	    (h && !git_oid_equal(&disk, &a->st.head))) {
		a->loaded = 0;
		if (!h && a->st.has_head)
			return CV_EAUDIT;
		a->stale = 1; /* another writer's packs */
		audit_fresh(a);
		if (h && audit_head_signed(a, &disk) != 0)
			return CV_EAUDIT;
		if (audit_load_state(a->repo, h ? &disk : NULL, &a->st) != 0)
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
int
audit_build_add(struct cv_auditlog *a, struct build *b, struct req *q)
{
	struct tstate *nx = &a->next;
	uint8_t leaf[CV_MERKLE_HASHBYTES];
	char ebuf[CV_AUDIT_EVENT_MAX];
	uint64_t seq = b->first + b->n;
	git_oid id;
	size_t len;

	if (seq > AUDIT_SEQ_MAX)
		return CV_EAUDIT;
	len = audit_event_text(q, seq, b->tbuf, ebuf);
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
int
audit_build_finish(struct cv_auditlog *a, struct build *b, int r)
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
