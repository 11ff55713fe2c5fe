/*
 * The audit trail: appends, stock git and OpenSSH verification, tampering
 * detected, failing closed, group commit, mirrors. Each test works in its
 * own temporary vault directory and runs git/ssh-keygen for real.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>
#include <sodium.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/layout.h"
#include "base/packmerge.h"
#include "base/sha1.h"
#include "base/gitpack.h"
#include "base/sshsig.h"
#include "base/util.h"

struct vault {
	char dir[64];
	uint8_t pk[32], sk[64];
	git_oid c[8]; /* commits 1..n as appended, one event each */
	int n;
};

static void
vault_new(struct vault *v, int events)
{
	struct cv_auditlog *a;
	json_t *e;
	uint64_t seq;
	int i;

	memset(v, 0, sizeof(*v));
	strcpy(v->dir, "/tmp/cv_audit_XXXXXX");
	assert_non_null(mkdtemp(v->dir));
	crypto_sign_keypair(v->pk, v->sk);
	assert_int_equal(
	    cv_auditlog_create(v->dir, v->pk, "audit@casevault"), 0);
	assert_int_equal(cv_auditlog_open(v->dir, v->sk, &a), 0);
	for (i = 0; i < events; i++) {
		git_repository *r;

		e = json_pack("{s:s, s:s, s:s, s:i}", "action", "record.read",
		    "actor", "u7", "case", "P3KQ2Z", "record", i);
		assert_int_equal(
		    cv_auditlog_append(a, e, i == 2 ? CV_AUDIT_WRITE : 0, &seq),
		    0);
		assert_int_equal(seq, (uint64_t)i + 1);
		json_decref(e);
		assert_int_equal(
		    git_repository_open_bare(&r,
		        strcat(strcpy((char[128]){0}, v->dir), "/audit.git")),
		    0);
		assert_int_equal(
		    git_reference_name_to_id(&v->c[i], r, "refs/heads/main"),
		    0);
		git_repository_free(r);
	}
	v->n = events;
	cv_auditlog_close(a);
}

static void
vault_free(struct vault *v)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", v->dir);
	assert_int_equal(system(cmd), 0);
	sodium_memzero(v->sk, sizeof(v->sk));
}

static git_repository *
vault_repo(struct vault *v)
{
	char p[128];
	git_repository *r;

	snprintf(p, sizeof(p), "%s/audit.git", v->dir);
	assert_int_equal(git_repository_open_bare(&r, p), 0);
	return r;
}

/* Run a shell command, return its first line of output in OUT. */
static int
run(char *out, size_t size, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	if (out != NULL) {
		size_t n = fread(out, 1, size - 1, f);
		out[n] = '\0';
	} else {
		char junk[4096];
		while (fread(junk, 1, sizeof(junk), f) > 0)
			;
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
expect_bad(struct vault *v, const char *from, const char *reason)
{
	struct cv_auditlog_report rep;

	assert_int_equal(
	    cv_auditlog_verify(v->dir, v->pk, from, &rep), CV_EVERIFY);
	assert_non_null(strstr(rep.reason, reason));
}

/*
 * Write a commit as an attacker would: TREE, PARENTS, MESSAGE, signed
 * with SK (NULL: unsigned), and point the branch at it.
 */
static git_oid
forge(git_repository *r, const git_oid *tree, const git_oid *parents, int np,
    const char *message, const uint8_t *sk, int set_ref)
{
	git_signature *who;
	git_tree *t;
	git_commit *p[2] = {NULL, NULL};
	git_buf buf = GIT_BUF_INIT;
	git_reference *ref;
	git_oid id;
	char *sig;
	size_t sl;
	int i;

	assert_int_equal(git_signature_new(&who, "casevault audit",
	                     "audit@casevault.invalid", 1700000000, 0),
	    0);
	assert_int_equal(git_tree_lookup(&t, r, tree), 0);
	for (i = 0; i < np; i++)
		assert_int_equal(git_commit_lookup(&p[i], r, &parents[i]), 0);
	assert_int_equal(git_commit_create_buffer(&buf, r, who, who, NULL,
	                     message, t, (size_t)np, (const git_commit **)p),
	    0);
	if (sk != NULL) {
		assert_int_equal(
		    cv_sshsig_sign(sk, "git", buf.ptr, buf.size, &sig, &sl), 0);
		sig[sl - 1] = '\0';
		assert_int_equal(git_commit_create_with_signature(
		                     &id, r, buf.ptr, sig, "gpgsig"),
		    0);
		free(sig);
	} else
		assert_int_equal(git_commit_create_with_signature(
		                     &id, r, buf.ptr, NULL, NULL),
		    0);
	if (set_ref) {
		assert_int_equal(git_reference_create(&ref, r,
		                     "refs/heads/main", &id, 1, "tamper"),
		    0);
		git_reference_free(ref);
	}
	git_buf_dispose(&buf);
	for (i = 0; i < np; i++)
		git_commit_free(p[i]);
	git_tree_free(t);
	git_signature_free(who);
	return id;
}

/* Copy commit C (tree and message) onto PARENT (NULL: root), re-signed. */
static git_oid
recommit(git_repository *r, const git_oid *c, const git_oid *parent,
    const uint8_t *sk, int set_ref)
{
	git_commit *o;
	git_oid id;

	assert_int_equal(git_commit_lookup(&o, r, c), 0);
	id = forge(r, git_commit_tree_id(o), parent, parent ? 1 : 0,
	    git_commit_message_raw(o), sk, set_ref);
	git_commit_free(o);
	return id;
}

static int
collect(const json_t *ev, void *arg)
{
	uint64_t *n = arg;
	json_t *s = json_object_get(ev, "seq");

	if (!json_is_integer(s) || (uint64_t)json_integer_value(s) != *n + 1)
		return 99;
	if (!json_is_string(json_object_get(ev, "time")))
		return 98;
	(*n)++;
	return 0;
}

static void
test_append_verify_read(void **state)
{
	struct cv_auditlog_report rep;
	struct cv_auditlog *a, *ro;
	struct vault v;
	char out[4096], want[256], line[CV_SSHSIG_PUBLINE_MAX];
	uint64_t n = 0, lw, seq;
	json_t *e;

	(void)state;
	vault_new(&v, 5);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.commits, 5);
	assert_int_equal(rep.events, 5);
	assert_int_equal(strlen(rep.head), 40);
	assert_int_equal(cv_auditlog_foreach(v.dir, collect, &n), 0);
	assert_int_equal(n, 5);

	/* The key files, and the event at its fan-out path. */
	assert_int_equal(
	    cv_sshsig_pubkey_line(v.pk, NULL, line, sizeof(line)), 0);
	snprintf(want, sizeof(want), "audit@casevault namespaces=\"git\" %s\n",
	    line);
	assert_int_equal(
	    run(out, sizeof(out), "cat %s/allowed_signers", v.dir), 0);
	assert_string_equal(out, want);
	snprintf(want, sizeof(want), "%s casevault-audit\n", line);
	assert_int_equal(
	    run(out, sizeof(out), "cat %s/audit_signer.pub", v.dir), 0);
	assert_string_equal(out, want);
	assert_int_equal(run(out, sizeof(out),
	                     "git --git-dir=%s/audit.git "
	                     "show main:e/0/00/00/00/000000003.json",
	                     v.dir),
	    0);
	assert_non_null(
	    strstr(out, "\"seq\":3,\"store_write\":true,\"time\":"));
	assert_int_equal(out[0], '{');
	assert_int_equal(run(out, sizeof(out),
	                     "git --git-dir=%s/audit.git "
	                     "log -1 --format=%%B main",
	                     v.dir),
	    0);
	assert_non_null(strstr(out,
	    "audit: events 5-5\n\nAudit-Seq: 5-5\n"
	    "Log-Size: 5\nLog-Root: "));
	/* Packs only: no loose object directories. */
	assert_int_equal(run(out, sizeof(out),
	                     "ls %s/audit.git/objects | "
	                     "grep -c '^[0-9a-f][0-9a-f]$'",
	                     v.dir),
	    1);
	assert_string_equal(out, "0\n");

	assert_int_equal(cv_auditlog_open(v.dir, NULL, &ro), 0);
	assert_int_equal(cv_auditlog_last_write(ro, &lw), 0);
	assert_int_equal(lw, 3);
	e = json_pack("{s:s}", "action", "x");
	assert_int_equal(cv_auditlog_append(ro, e, 0, &seq), CV_ESTATE);
	cv_auditlog_close(ro);

	/* Bad events change nothing. */
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);
	json_object_set_new(e, "seq", json_integer(9));
	assert_int_equal(cv_auditlog_append(a, e, 0, NULL), CV_EINVAL);
	json_object_del(e, "seq");
	json_object_set_new(e, "time", json_string("2020-01-01"));
	assert_int_equal(cv_auditlog_append(a, e, 0, NULL), CV_EINVAL);
	json_object_del(e, "time");
	assert_int_equal(cv_auditlog_append(a, e, 0x80, NULL), CV_EINVAL);
	{
		char *big = malloc(CV_AUDIT_EVENT_MAX);
		memset(big, 'x', CV_AUDIT_EVENT_MAX - 1);
		big[CV_AUDIT_EVENT_MAX - 1] = '\0';
		json_object_set_new(e, "pad", json_string(big));
		free(big);
	}
	assert_int_equal(cv_auditlog_append(a, e, 0, NULL), CV_ETOOBIG);
	json_object_del(e, "pad");
	assert_int_equal(cv_auditlog_append(a, e, CV_AUDIT_WRITE, &seq), 0);
	assert_int_equal(seq, 6);
	assert_int_equal(cv_auditlog_last_write(a, &lw), 0);
	assert_int_equal(lw, 6);
	json_decref(e);
	cv_auditlog_close(a);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 6);
	vault_free(&v);
}

static void
test_stock_git_verifies(void **state)
{
	struct vault v;
	char out[8192], *p;
	int lines = 0;

	(void)state;
	vault_new(&v, 4);
	assert_int_equal(
	    run(out, sizeof(out),
	        "git -c gpg.ssh.allowedSignersFile=%s/allowed_signers "
	        "--git-dir=%s/audit.git log --format='%%H %%G?' main",
	        v.dir, v.dir),
	    0);
	for (p = out; (p = strchr(p, '\n')) != NULL; p++) {
		assert_memory_equal(p - 2, " G", 2);
		lines++;
	}
	assert_int_equal(lines, 4);
	assert_int_equal(
	    run(NULL, 0,
	        "git -c gpg.ssh.allowedSignersFile=%s/allowed_signers "
	        "--git-dir=%s/audit.git verify-commit main 2>&1",
	        v.dir, v.dir),
	    0);
	/* And git would notice another key. */
	assert_int_equal(
	    run(NULL, 0,
	        "echo 'x@y namespaces=\"git\" "
	        "ssh-ed25519 "
	        "AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qY"
	        "jJa8CGmj3B1Ea' > %s/other_signers",
	        v.dir),
	    0);
	assert_int_not_equal(
	    run(NULL, 0,
	        "git -c gpg.ssh.allowedSignersFile=%s/other_signers "
	        "--git-dir=%s/audit.git verify-commit main 2>&1",
	        v.dir, v.dir),
	    0);
	vault_free(&v);
}

static void
test_tamper_edited_event(void **state)
{
	git_tree_update up;
	git_repository *r;
	git_commit *head;
	git_tree *t;
	git_oid blob, nt;
	const char *forged = "{\"action\":\"record.read\",\"actor\":\"u9\","
	                     "\"case\":\"P3KQ2Z\",\"record\":1,\"seq\":2,"
	                     "\"time\":\"2024-01-01T00:00:00.000Z\"}";
	struct vault v;
	char out[256];

	(void)state;
	vault_new(&v, 4);
	r = vault_repo(&v);
	/* Event 2 rewritten in the head's tree; a new, correctly signed
	 * commit on top carries it. */
	assert_int_equal(
	    git_blob_create_from_buffer(&blob, r, forged, strlen(forged)), 0);
	assert_int_equal(git_commit_lookup(&head, r, &v.c[3]), 0);
	assert_int_equal(git_commit_tree(&t, head), 0);
	memset(&up, 0, sizeof(up));
	up.action = GIT_TREE_UPDATE_UPSERT;
	up.id = blob;
	up.filemode = GIT_FILEMODE_BLOB;
	up.path = "e/0/00/00/00/000000002.json";
	assert_int_equal(git_tree_create_updated(&nt, r, t, 1, &up), 0);
	forge(r, &nt, &v.c[3], 1, git_commit_message_raw(head), v.sk, 1);
	expect_bad(&v, NULL, "Audit-Seq");
	/* Same edit replacing the head commit itself (same message). */
	forge(r, &nt, &v.c[2], 1, git_commit_message_raw(head), v.sk, 1);
	expect_bad(&v, NULL, "");
	/* Stock git sees a good signature here: only the log check can
	 * tell, which is why auditors run both. */
	assert_int_equal(
	    run(out, sizeof(out),
	        "git -c gpg.ssh.allowedSignersFile=%s/allowed_signers "
	        "--git-dir=%s/audit.git log -1 --format='%%G?' main",
	        v.dir, v.dir),
	    0);
	assert_string_equal(out, "G\n");
	git_tree_free(t);
	git_commit_free(head);
	git_repository_free(r);
	vault_free(&v);
}

/*
 * Saved heads abbreviated: a unique prefix of 7 or more digits names its
 * commit; an ambiguous one (two objects planted to share 7 digits) and a
 * short or non-hex one are CV_EINVAL; several keys, any one signing.
 */
static void
test_from_prefix_and_keys(void **state)
{
	static uint32_t seen[1 << 16][2];
	uint8_t opk[32], keys[2][32];
	struct cv_auditlog_report rep;
	git_repository *r;
	struct vault v;
	char hex[41], buf[32];
	git_oid id, got;
	uint32_t i, pre, slot;
	int len, found = 0;

	(void)state;
	vault_new(&v, 3);
	git_oid_tostr(hex, sizeof(hex), &v.c[1]);
	hex[7] = '\0';
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, hex, &rep), 0);
	hex[6] = '\0';
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, hex, &rep), CV_EINVAL);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, "xyzxyzx", &rep), CV_EINVAL);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, "0000000", &rep), CV_EVERIFY);
	assert_non_null(strstr(rep.reason, "truncated or rewritten"));

	/* Two blobs whose ids share their first 28 bits: a birthday search
	 * over small blobs, bucketed by the first 16 bits. */
	memset(seen, 0, sizeof(seen));
	for (i = 1; !found && i < 4000000; i++) {
		len = snprintf(buf, sizeof(buf), "%u", i);
		assert_int_equal(
		    git_odb_hash(&id, buf, (size_t)len, GIT_OBJECT_BLOB), 0);
		pre = (uint32_t)id.id[0] << 20 | (uint32_t)id.id[1] << 12 |
		    (uint32_t)id.id[2] << 4 | (uint32_t)id.id[3] >> 4;
		slot = pre >> 12;
		if (seen[slot][0] != 0 && seen[slot][1] == pre) {
			r = vault_repo(&v);
			assert_int_equal(git_blob_create_from_buffer(
			                     &got, r, buf, (size_t)len),
			    0);
			len = snprintf(buf, sizeof(buf), "%u", seen[slot][0]);
			assert_int_equal(git_blob_create_from_buffer(
			                     &got, r, buf, (size_t)len),
			    0);
			git_repository_free(r);
			found = 1;
		} else {
			seen[slot][0] = i;
			seen[slot][1] = pre;
		}
	}
	assert_true(found);
	git_oid_tostr(hex, sizeof(hex), &id);
	hex[7] = '\0';
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, hex, &rep), CV_EINVAL);
	assert_non_null(strstr(rep.reason, "ambiguous"));
	assert_non_null(strstr(cv_error_detail(), "ambiguous"));
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);

	/* Several pinned keys: any one of them may sign; none is refused. */
	crypto_sign_keypair(opk, (uint8_t[64]){0});
	memcpy(keys[0], opk, 32);
	memcpy(keys[1], v.pk, 32);
	assert_int_equal(cv_auditlog_verify_keys(
	                     v.dir, (const uint8_t(*)[32])keys, 2, NULL, &rep),
	    0);
	assert_int_equal(rep.events, 3);
	assert_int_equal(cv_auditlog_verify_keys(
	                     v.dir, (const uint8_t(*)[32])keys, 1, NULL, &rep),
	    CV_EVERIFY);
	assert_non_null(strstr(rep.reason, "bad signature"));
	assert_int_equal(cv_auditlog_verify_keys(
	                     v.dir, (const uint8_t(*)[32])keys, 0, NULL, &rep),
	    CV_EINVAL);
	vault_free(&v);
}

static void
test_tamper_history(void **state)
{
	uint8_t opk[32], osk[64];
	git_repository *r;
	struct cv_auditlog_report rep;
	struct vault v;
	git_oid a, b, c, d, two[2];
	char hex[41], out[4096];
	git_commit *h;

	(void)state;
	crypto_sign_keypair(opk, osk);
	vault_new(&v, 4);
	r = vault_repo(&v);
	git_oid_tostr(hex, sizeof(hex), &v.c[3]);

	/* Dropped commit 2, the rest re-signed with the right key. */
	a = recommit(r, &v.c[2], &v.c[0], v.sk, 0);
	recommit(r, &v.c[3], &a, v.sk, 1);
	expect_bad(&v, NULL, "Audit-Seq not contiguous");

	/* Commits 2 and 3 swapped. */
	a = recommit(r, &v.c[2], &v.c[0], v.sk, 0);
	b = recommit(r, &v.c[1], &a, v.sk, 0);
	recommit(r, &v.c[3], &b, v.sk, 1);
	expect_bad(&v, NULL, "Audit-Seq not contiguous");

	/* The whole history rewritten and signed with another key. */
	a = recommit(r, &v.c[0], NULL, osk, 0);
	b = recommit(r, &v.c[1], &a, osk, 0);
	c = recommit(r, &v.c[2], &b, osk, 0);
	d = recommit(r, &v.c[3], &c, osk, 1);
	expect_bad(&v, NULL, "bad signature");
	assert_int_equal(
	    run(out, sizeof(out),
	        "git -c gpg.ssh.allowedSignersFile=%s/allowed_signers "
	        "--git-dir=%s/audit.git log --format='%%G?' main | grep -c G",
	        v.dir, v.dir),
	    1);
	assert_string_equal(out, "0\n");
	(void)d;

	/* Truncated to commit 2: fine alone, caught against the saved head. */
	a = v.c[1];
	{
		git_reference *ref;
		assert_int_equal(git_reference_create(&ref, r,
		                     "refs/heads/main", &a, 1, "truncate"),
		    0);
		git_reference_free(ref);
	}
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 2);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, hex, &rep), CV_EVERIFY);
	assert_string_equal(rep.bad_commit, hex);
	assert_non_null(strstr(rep.reason, "truncated"));

	/* A merge on top. */
	two[0] = v.c[3];
	two[1] = v.c[1];
	assert_int_equal(git_commit_lookup(&h, r, &v.c[3]), 0);
	forge(r, git_commit_tree_id(h), two, 2, git_commit_message_raw(h), v.sk,
	    1);
	expect_bad(&v, NULL, "merge");

	/* A changed trailer on the head, re-signed. */
	{
		char msg[512];
		char *p;

		snprintf(msg, sizeof(msg), "%s", git_commit_message_raw(h));
		p = strstr(msg, "Log-Size: 4");
		assert_non_null(p);
		p[10] = '5';
		forge(r, git_commit_tree_id(h), &v.c[2], 1, msg, v.sk, 1);
		expect_bad(&v, NULL, "Log-Size, Log-Root");
	}

	/* An unsigned commit on top. */
	forge(r, git_commit_tree_id(h), &v.c[3], 1,
	    "audit: events 5-5\n\nAudit-Seq: 5-5\n", NULL, 1);
	expect_bad(&v, NULL, "not signed");
	assert_int_equal(
	    run(out, sizeof(out),
	        "git -c gpg.ssh.allowedSignersFile=%s/allowed_signers "
	        "--git-dir=%s/audit.git log -1 --format='%%G?' main",
	        v.dir, v.dir),
	    0);
	assert_string_equal(out, "N\n");

	/* Put the real head back: verifies, and the saved head is on it. */
	{
		git_reference *ref;
		assert_int_equal(git_reference_create(&ref, r,
		                     "refs/heads/main", &v.c[3], 1, "restore"),
		    0);
		git_reference_free(ref);
	}
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, hex, &rep), 0);
	git_commit_free(h);
	git_repository_free(r);
	sodium_memzero(osk, sizeof(osk));
	vault_free(&v);
}

static void
test_fail_closed(void **state)
{
	struct cv_auditlog_report rep;
	struct cv_auditlog *a;
	struct vault v;
	char p[256];
	uint64_t seq = 0;
	json_t *e = json_pack("{s:s}", "action", "record.read");
	int fd;

	(void)state;
	vault_new(&v, 2);
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);

	/* The branch ref locked by someone else. */
	snprintf(p, sizeof(p), "%s/audit.git/refs/heads/main.lock", v.dir);
	assert_int_equal(cv_write_file_excl(p, "x", 1, 0644), 0);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_EAUDIT);
	unlink(p);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 2);
	/* The failed event left no gap. */
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
	assert_int_equal(seq, 3);

	/* Another process holds the writer lock (bounded wait, then no). */
	snprintf(p, sizeof(p), "%s/audit.git/casevault.lock", v.dir);
	fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_EAUDIT);
	close(fd);

	/* The branch ref corrupted. */
	snprintf(p, sizeof(p), "%s/audit.git/refs/heads/main", v.dir);
	assert_int_equal(
	    run(NULL, 0, "cp %s %s.bak && echo junk > %s", p, p, p), 0);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_EAUDIT);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, NULL, &rep), CV_EVERIFY);
	assert_int_equal(run(NULL, 0, "mv %s.bak %s", p, p), 0);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 3);

	/* The ref deleted: never treated as a fresh, empty log. */
	assert_int_equal(run(NULL, 0, "mv %s %s.bak", p, p), 0);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_EAUDIT);
	assert_int_equal(run(NULL, 0, "mv %s.bak %s", p, p), 0);

	/* The whole repository removed. */
	assert_int_equal(run(NULL, 0, "rm -rf %s/audit.git", v.dir), 0);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_EAUDIT);
	cv_auditlog_close(a);
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), CV_EAUDIT);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, NULL, &rep), CV_EVERIFY);
	json_decref(e);
	vault_free(&v);
}

#define NTHREADS 8
#define PER      25

struct worker {
	struct cv_auditlog *a;
	uint64_t seqs[PER];
	int bad;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < PER; i++) {
		json_t *e =
		    json_pack("{s:s, s:i}", "action", "record.read", "i", i);
		if (cv_auditlog_append(w->a, e, 0, &w->seqs[i]) != 0)
			w->bad++;
		json_decref(e);
	}
	return NULL;
}

static void
test_group_commit(void **state)
{
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct cv_auditlog_report rep;
	struct cv_auditlog *a, *b;
	static uint8_t seen[NTHREADS * PER + 2];
	struct vault v;
	uint64_t seq;
	int i, j;

	(void)state;
	vault_new(&v, 0);
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].a = a;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(w[i].bad, 0);
		for (j = 0; j < PER; j++) {
			assert_true(w[i].seqs[j] >= 1 &&
			    w[i].seqs[j] <= NTHREADS * PER);
			assert_int_equal(seen[w[i].seqs[j]], 0);
			seen[w[i].seqs[j]] = 1;
		}
	}
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, NTHREADS * PER);
	assert_true(rep.commits <= NTHREADS * PER);
	/* Packs are merged as they accumulate: far fewer than commits. */
	{
		char out[64];
		assert_int_equal(run(out, sizeof(out),
		                     "ls %s/audit.git/"
		                     "objects/pack | grep -c 'pack$'",
		                     v.dir),
		    0);
		assert_true(atoi(out) <= 40);
	}

	/* A second writer (as another process would) continues the log. */
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &b), 0);
	{
		json_t *e = json_pack("{s:s}", "action", "x");
		assert_int_equal(cv_auditlog_append(b, e, 0, &seq), 0);
		assert_int_equal(seq, NTHREADS * PER + 1);
		assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
		assert_int_equal(seq, NTHREADS * PER + 2);
		json_decref(e);
	}
	cv_auditlog_close(b);
	cv_auditlog_close(a);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, NTHREADS * PER + 2);
	vault_free(&v);
}

static void
test_push(void **state)
{
	struct cv_auditlog *a;
	struct vault v;
	char mirror[128], out[128], head[64];
	json_t *e = json_pack("{s:s}", "action", "x");

	(void)state;
	vault_new(&v, 2);
	snprintf(mirror, sizeof(mirror), "%s/mirror.git", v.dir);
	assert_int_equal(cv_auditlog_push(v.dir, mirror), 0);
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);
	assert_int_equal(cv_auditlog_append(a, e, 0, NULL), 0);
	assert_int_equal(cv_auditlog_push(v.dir, mirror), 0);
	assert_int_equal(run(head, sizeof(head),
	                     "git --git-dir=%s/audit.git "
	                     "rev-parse main",
	                     v.dir),
	    0);
	assert_int_equal(run(out, sizeof(out),
	                     "git --git-dir=%s rev-parse "
	                     "main",
	                     mirror),
	    0);
	assert_string_equal(out, head);
	/* The mirror moved elsewhere: a push that is not a fast-forward is
	 * refused. */
	assert_int_equal(
	    run(NULL, 0,
	        "git --git-dir=%s update-ref "
	        "refs/heads/main $(git --git-dir=%s commit-tree -m x "
	        "main^{tree})",
	        mirror, mirror),
	    0);
	assert_int_equal(cv_auditlog_append(a, e, 0, NULL), 0);
	assert_int_equal(cv_auditlog_push(v.dir, mirror), CV_EAUDIT);
	assert_int_equal(
	    cv_auditlog_push(v.dir, "https://example.invalid/x"), CV_EINVAL);
	cv_auditlog_close(a);
	json_decref(e);
	vault_free(&v);
}

static void
sha1_hex(const void *p, size_t n, size_t chunk, char out[41])
{
	struct audit_sha1 s;
	uint8_t d[20];
	size_t i, k;

	audit_sha1_init(&s);
	for (i = 0; i < n; i += k) {
		k = n - i < chunk ? n - i : chunk;
		audit_sha1_update(&s, (const uint8_t *)p + i, k);
	}
	audit_sha1_final(&s, d);
	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* FIPS 180-2 appendix A examples, fed in odd-sized pieces. */
static void
test_sha1_known_answers(void **state)
{
	static const char two[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[41], *m;

	(void)state;
	sha1_hex("", 0, 1, hex);
	assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	sha1_hex("abc", 3, 1, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1_hex(two, strlen(two), 7, hex);
	assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	assert_non_null(m = malloc(1000000));
	memset(m, 'a', 1000000);
	sha1_hex(m, 1000000, 4093, hex);
	assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(m);
}

static void
write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/*
 * The writer's pack, indexed by stock git (index-pack), gives byte for
 * byte the index the writer made; the object ids are git's own (the id of
 * "hello\n" as a blob is well known).
 */
static void
test_pack_writer_matches_git(void **state)
{
	struct audit_packw *w;
	struct audit_pack_ent *e;
	uint8_t *pack, *idx, sum[20];
	size_t plen, ilen, n, i;
	char dir[64], path[128], cmd[512], hex[41], *gidx;
	size_t glen;
	git_oid id, tid;
	uint8_t tree[64];

	(void)state;
	strcpy(dir, "/tmp/cv_pack_XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(audit_packw_new(1, &w), 0);
	assert_int_equal(
	    audit_packw_add(w, GIT_OBJECT_BLOB, "hello\n", 6, &id), 0);
	git_oid_tostr(hex, sizeof(hex), &id);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
	/* A second copy is not stored twice. */
	assert_int_equal(
	    audit_packw_add(w, GIT_OBJECT_BLOB, "hello\n", 6, &id), 0);
	assert_int_equal(audit_packw_count(w), 1);
	memcpy(tree, "100644 h\0", 9);
	memcpy(tree + 9, id.id, 20);
	assert_int_equal(
	    audit_packw_add(w, GIT_OBJECT_TREE, tree, 29, &tid), 0);
	/* A large object takes a multi-byte size header. */
	{
		char *big = malloc(200000);
		assert_non_null(big);
		for (i = 0; i < 200000; i++)
			big[i] = (char)('a' + i % 23);
		assert_int_equal(
		    audit_packw_add(w, GIT_OBJECT_BLOB, big, 200000, &id), 0);
		free(big);
	}
	assert_int_equal(
	    audit_packw_add(w, (git_object_t)6, "x", 1, &id), CV_EINVAL);
	assert_int_equal(audit_packw_count(w), 3);
	assert_int_equal(
	    audit_packw_build(w, &pack, &plen, &idx, &ilen, sum), 0);
	snprintf(path, sizeof(path), "%s/g.pack", dir);
	write_bytes(path, pack, plen);
	snprintf(cmd, sizeof(cmd),
	    "cd %s && git index-pack -o g.idx g.pack && git verify-pack -v "
	    "g.idx",
	    dir);
	assert_int_equal(run(NULL, 0, "%s", cmd), 0);
	snprintf(path, sizeof(path), "%s/g.idx", dir);
	assert_int_equal(cv_read_file(path, 1 << 20, &gidx, &glen), 0);
	assert_int_equal(glen, ilen);
	assert_memory_equal(gidx, idx, ilen);
	free(gidx);

	/* The index reads back; damage to either file is refused. */
	assert_int_equal(audit_pack_entries(idx, ilen, pack, plen, &e, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].off, 12);
	assert_int_equal(e[2].off + e[2].len, plen - 20);
	free(e);
	assert_int_equal(
	    audit_pack_entries(idx, ilen - 8, pack, plen, &e, &n), CV_ECORRUPT);
	pack[plen - 1] ^= 1;
	assert_int_equal(
	    audit_pack_entries(idx, ilen, pack, plen, &e, &n), CV_ECORRUPT);
	pack[plen - 1] ^= 1;
	idx[8 + 1024] ^= 0x80; /* an id outside its fan-out bucket */
	assert_int_equal(
	    audit_pack_entries(idx, ilen, pack, plen, &e, &n), CV_ECORRUPT);
	idx[8 + 1024] ^= 0x80;
	free(pack);
	free(idx);

	/* Written into a directory: named after its checksum, fsynced, no
	 * temporary file left. */
	{
		char name[AUDIT_PACK_NAME_MAX], out[64];
		assert_int_equal(audit_packw_write(w, dir, name), 0);
		for (i = 0; i < 20; i++)
			snprintf(hex + 2 * i, 3, "%02x", sum[i]);
		assert_string_equal(name + 5, hex);
		assert_int_equal(run(out, sizeof(out),
		                     "cd %s && git verify-pack %s.idx && "
		                     "ls | grep -c tmp_",
		                     dir, name),
		    1);
		assert_string_equal(out, "0\n");
	}
	audit_packw_reset(w);
	assert_int_equal(audit_packw_write(w, dir, NULL), CV_EINVAL);
	assert_int_equal(
	    audit_packw_write(w, "/nonexistent/pack", NULL), CV_EINVAL);
	assert_int_equal(audit_packw_add(w, GIT_OBJECT_BLOB, "x", 1, &id), 0);
	assert_int_equal(
	    audit_packw_write(w, "/nonexistent/pack", NULL), CV_EIO);
	audit_packw_free(w);
	assert_int_equal(run(NULL, 0, "rm -rf %s", dir), 0);
}

/*
 * Many commits, one event each: every pack (commit packs and merged ones)
 * passes git fsck and verify-pack, the packs stay few, and libgit2 in the
 * same process reads the new packs at once.
 */
static void
test_packs_stock_git(void **state)
{
	struct cv_auditlog_report rep;
	struct cv_auditlog *a;
	struct vault v;
	char out[256];
	uint64_t seq, size;
	int i;

	(void)state;
	vault_new(&v, 0);
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);
	for (i = 0; i < 3 * AUDIT_PACKS_MIN + 5; i++) {
		json_t *e = json_pack("{s:s, s:i}", "action", "x", "i", i);
		assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
		assert_int_equal(seq, (uint64_t)i + 1);
		json_decref(e);
	}
	/* Another writer appends; ours reads its pack. */
	{
		struct cv_auditlog *b;
		json_t *e = json_pack("{s:s}", "action", "y");
		assert_int_equal(cv_auditlog_open(v.dir, v.sk, &b), 0);
		assert_int_equal(
		    cv_auditlog_append(b, e, CV_AUDIT_WRITE, &seq), 0);
		cv_auditlog_close(b);
		assert_int_equal(cv_auditlog_size(a, &size), 0);
		assert_int_equal(size, seq);
		assert_int_equal(cv_auditlog_last_write(a, &size), 0);
		assert_int_equal(size, seq);
		assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
		assert_int_equal(seq, size + 1);
		json_decref(e);
	}
	cv_auditlog_close(a);
	assert_int_equal(
	    run(NULL, 0, "git --git-dir=%s/audit.git fsck --full --strict",
	        v.dir),
	    0);
	assert_int_equal(run(out, sizeof(out),
	                     "cd %s/audit.git/objects/pack && for i in *.idx; "
	                     "do git verify-pack $i || echo bad; done | "
	                     "grep -c bad",
	                     v.dir),
	    1);
	assert_string_equal(out, "0\n");
	assert_int_equal(
	    run(out, sizeof(out),
	        "ls %s/audit.git/objects/pack | grep -c 'pack$'", v.dir),
	    0);
	assert_true(atoi(out) < AUDIT_PACKS_MIN + 8);
	assert_int_equal(
	    run(out, sizeof(out), "ls %s/audit.git/objects/pack | grep -c tmp_",
	        v.dir),
	    1);
	assert_string_equal(out, "0\n");
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 3 * AUDIT_PACKS_MIN + 7);
	assert_int_equal(rep.commits, 3 * AUDIT_PACKS_MIN + 7);
	vault_free(&v);
}

/*
 * Merging refuses a pack whose bytes no longer match the CRC32 its index
 * recorded, and removes nothing; undamaged, the packs merge into one that
 * stock git accepts, holding every object.
 */
static void
test_merge_checks(void **state)
{
	struct audit_packw *w;
	char dir[64], pdir[96], out[256], name[AUDIT_PACK_NAME_MAX];
	char first[AUDIT_PACK_NAME_MAX];
	git_oid id;
	int i;

	(void)state;
	strcpy(dir, "/tmp/cv_merge_XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(run(NULL, 0, "git init -q --bare %s/r.git", dir), 0);
	snprintf(pdir, sizeof(pdir), "%s/r.git/objects/pack", dir);
	assert_int_equal(audit_packw_new(1, &w), 0);
	for (i = 0; i < AUDIT_PACKS_MIN; i++) {
		char blob[64];
		snprintf(blob, sizeof(blob), "event %d of the merge test\n", i);
		assert_int_equal(audit_packw_add(w, GIT_OBJECT_BLOB, blob,
		                     strlen(blob), &id),
		    0);
		assert_int_equal(audit_packw_write(w, pdir, name), 0);
		if (i == 0)
			strcpy(first, name);
		audit_packw_reset(w);
	}
	/* Flip one bit inside the first pack's only entry. */
	assert_int_equal(run(NULL, 0,
	                     "cd %s && chmod u+w %s.pack && printf '\\001' | "
	                     "dd of=%s.pack bs=1 seek=14 conv=notrunc "
	                     "2>/dev/null",
	                     pdir, first, first),
	    0);
	assert_int_equal(audit_pack_compact(w, pdir), CV_EIO);
	assert_int_equal(
	    run(out, sizeof(out), "ls %s | grep -c 'idx$'", pdir), 0);
	assert_int_equal(atoi(out), AUDIT_PACKS_MIN);
	/* Without the damaged pack (and one more to reach the threshold). */
	assert_int_equal(run(NULL, 0, "rm -f %s/%s.*", pdir, first), 0);
	assert_int_equal(audit_packw_add(w, GIT_OBJECT_BLOB, "x", 1, &id), 0);
	assert_int_equal(audit_packw_write(w, pdir, NULL), 0);
	audit_packw_reset(w);
	assert_int_equal(audit_pack_compact(w, pdir), 0);
	assert_int_equal(
	    run(out, sizeof(out), "ls %s | grep -c 'idx$'", pdir), 0);
	assert_int_equal(atoi(out), 1);
	assert_int_equal(run(out, sizeof(out),
	                     "git --git-dir=%s/r.git count-objects -v | "
	                     "grep in-pack",
	                     dir),
	    0);
	snprintf(name, sizeof(name), "in-pack: %d\n", AUDIT_PACKS_MIN);
	assert_string_equal(out, name);
	assert_int_equal(run(NULL, 0,
	                     "cd %s && git verify-pack *.idx && git "
	                     "--git-dir=%s/r.git cat-file -e %s",
	                     pdir, dir, git_oid_tostr_s(&id)),
	    0);
	audit_packw_free(w);
	assert_int_equal(run(NULL, 0, "rm -rf %s", dir), 0);
}

/*
 * Pack I of the delta test: blobs for entries 3I-2..3I and the tree of
 * entries 1..3I, the next version of one growing directory, as a commit's
 * pack holds them. *TREE receives the tree's id.
 */
static void
delta_pack(struct audit_packw *w, const char *pdir, int i, git_oid *tree)
{
	uint8_t buf[16384];
	char blob[32];
	git_oid id;
	size_t len = 0;
	int k;

	audit_packw_reset(w);
	for (k = 1; k <= 3 * i; k++) {
		snprintf(blob, sizeof(blob), "event %d\n", k);
		assert_int_equal(audit_packw_add(w, GIT_OBJECT_BLOB, blob,
		                     strlen(blob), &id),
		    0);
		len += (size_t)snprintf(
		    (char *)buf + len, sizeof(buf) - len, "100644 e%05d", k);
		buf[len++] = '\0';
		memcpy(buf + len, id.id, GIT_OID_RAWSZ);
		len += GIT_OID_RAWSZ;
	}
	assert_int_equal(
	    audit_packw_add(w, GIT_OBJECT_TREE, buf, len, tree), 0);
	assert_int_equal(audit_packw_write(w, pdir, NULL), 0);
	audit_packw_reset(w);
}

/*
 * Merged packs store the versions of a tree as deltas (OFS_DELTA) that
 * stock git and libgit2 read: git fsck --full and verify-pack pass, some
 * objects are deltas, chains are no longer than 10, and libgit2 reads
 * every tree back. A second merge copies the first one's deltas into a
 * new pack; after a merge that stopped before removing the packs it
 * copied (a crash), the next merge keeps every object once.
 */
static void
test_merge_deltas(void **state)
{
	struct audit_packw *w;
	git_repository *repo;
	git_odb *odb;
	git_odb_object *o;
	git_oid trees[4 * AUDIT_PACKS_MIN];
	char dir[64], pdir[128], rdir[96], out[256];
	int i, n = 0;

	(void)state;
	strcpy(dir, "/tmp/cv_delta_XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(run(NULL, 0, "git init -q --bare %s/r.git", dir), 0);
	snprintf(rdir, sizeof(rdir), "%s/r.git", dir);
	snprintf(pdir, sizeof(pdir), "%s/objects/pack", rdir);
	assert_int_equal(audit_packw_new(1, &w), 0);
	for (i = 0; i < AUDIT_PACKS_MIN; i++, n++)
		delta_pack(w, pdir, n + 1, &trees[n]);
	assert_int_equal(audit_pack_compact(w, pdir), 0);
	assert_int_equal(
	    run(out, sizeof(out), "ls %s | grep -c 'idx$'", pdir), 0);
	assert_int_equal(atoi(out), 1);
	/* Deltas, none deeper than 10, all resolved by stock git. */
	assert_int_equal(run(out, sizeof(out),
	                     "cd %s && git verify-pack -v *.idx | "
	                     "awk '$2 == \"tree\" && NF == 7' | wc -l",
	                     pdir),
	    0);
	assert_true(atoi(out) > AUDIT_PACKS_MIN / 2);
	assert_int_equal(run(out, sizeof(out),
	                     "cd %s && git verify-pack -v *.idx | "
	                     "awk '$2 == \"tree\" && NF == 7 && $6 > 10' | "
	                     "wc -l",
	                     pdir),
	    0);
	assert_string_equal(out, "0\n");
	assert_int_equal(
	    run(NULL, 0, "git --git-dir=%s fsck --full --strict 2>&1", rdir),
	    0);

	/* Keep the merged pack's sources aside, as a crash between the
	 * merge's rename and its unlinks would leave them. */
	for (i = 0; i < AUDIT_PACKS_MIN - 1; i++, n++)
		delta_pack(w, pdir, n + 1, &trees[n]);
	assert_int_equal(
	    run(NULL, 0, "mkdir %s/aside && cp -p %s/pack-* %s/aside/", dir,
	        pdir, dir),
	    0);
	/* A second merge, of the first one's deltas and new packs. */
	assert_int_equal(audit_pack_compact(w, pdir), 0);
	assert_int_equal(
	    run(out, sizeof(out), "ls %s | grep -c 'idx$'", pdir), 0);
	assert_int_equal(atoi(out), 1);
	assert_int_equal(run(NULL, 0,
	                     "cd %s && git verify-pack *.idx && git "
	                     "--git-dir=%s fsck --full --strict 2>&1",
	                     pdir, rdir),
	    0);
	assert_int_equal(run(out, sizeof(out),
	                     "cd %s && git verify-pack -v *.idx | "
	                     "awk '$2 == \"tree\" && NF == 7' | wc -l",
	                     pdir),
	    0);
	assert_true(atoi(out) > AUDIT_PACKS_MIN);
	/* The crash: the copied packs are back beside the merged one. */
	assert_int_equal(run(NULL, 0, "cp -p %s/aside/* %s/ && rm -r %s/aside",
	                     dir, pdir, dir),
	    0);
	for (i = 0; i < AUDIT_PACKS_MIN; i++, n++)
		delta_pack(w, pdir, n + 1, &trees[n]);
	assert_int_equal(audit_pack_compact(w, pdir), 0);
	assert_int_equal(run(NULL, 0,
	                     "cd %s && git verify-pack *.idx && git "
	                     "--git-dir=%s fsck --full --strict 2>&1",
	                     pdir, rdir),
	    0);
	assert_int_equal(run(out, sizeof(out),
	                     "cd %s && git verify-pack -v *.idx | "
	                     "awk '$2 == \"tree\"' | wc -l",
	                     pdir),
	    0);
	/* Every tree, once in every pack that remains. */
	assert_true(atoi(out) >= n);
	assert_int_equal(git_repository_open_bare(&repo, rdir), 0);
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(git_odb_read(&o, odb, &trees[i]), 0);
		assert_int_equal(git_odb_object_type(o), GIT_OBJECT_TREE);
		assert_int_equal(git_odb_object_size(o),
		    (size_t)(3 * (i + 1)) * (7 + 6 + 1 + GIT_OID_RAWSZ));
		git_odb_object_free(o);
	}
	git_odb_free(odb);
	git_repository_free(repo);
	/* A pack of stock git's, all objects, its deltas (OFS_DELTA)
	 * chosen by git, is merged with ours. */
	assert_int_equal(
	    run(NULL, 0,
	        "cd %s && old=$(ls objects/pack/pack-*) && git cat-file "
	        "--batch-all-objects --batch-check='%%(objectname)' | git "
	        "pack-objects -q --delta-base-offset objects/pack/pack && "
	        "rm -f $old",
	        rdir),
	    0);
	assert_int_equal(run(out, sizeof(out),
	                     "cd %s && git verify-pack -v *.idx | "
	                     "awk 'NF == 7' | wc -l",
	                     pdir),
	    0);
	assert_true(atoi(out) > 0);
	for (i = 0; i < AUDIT_PACKS_MIN; i++, n++)
		delta_pack(w, pdir, n + 1, &trees[n]);
	assert_int_equal(audit_pack_compact(w, pdir), 0);
	assert_int_equal(
	    run(out, sizeof(out), "ls %s | grep -c 'idx$'", pdir), 0);
	assert_int_equal(atoi(out), 1);
	assert_int_equal(run(NULL, 0,
	                     "cd %s && git verify-pack *.idx && git "
	                     "--git-dir=%s fsck --full --strict 2>&1",
	                     pdir, rdir),
	    0);
	assert_int_equal(run(out, sizeof(out),
	                     "git --git-dir=%s cat-file --batch-all-objects "
	                     "--batch-check | grep -c tree",
	                     rdir),
	    0);
	assert_int_equal(atoi(out), n);
	audit_packw_free(w);
	assert_int_equal(run(NULL, 0, "rm -rf %s", dir), 0);
}

/*
 * The branch moves in place: the loose ref keeps its inode from commit
 * to commit. A branch packed by `git pack-refs` still moves (through
 * libgit2), and a ref file that is not the plain 41 bytes, or a symlink,
 * is refused with nothing changed.
 */
static void
test_ref_in_place(void **state)
{
	struct cv_auditlog_report rep;
	struct cv_auditlog *a;
	struct vault v;
	struct stat before, after;
	char p[128], q[160], keep[64];
	json_t *e = json_pack("{s:s}", "action", "record.read");
	uint64_t seq;
	int fd;

	(void)state;
	vault_new(&v, 2);
	snprintf(p, sizeof(p), "%s/audit.git/refs/heads/main", v.dir);
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);
	assert_int_equal(stat(p, &before), 0);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
	assert_int_equal(stat(p, &after), 0);
	assert_true(before.st_ino == after.st_ino);
	assert_int_equal(after.st_size, 41);

	/* Packed by stock git: the loose file is gone, the append works. */
	assert_int_equal(
	    run(NULL, 0, "git --git-dir=%s/audit.git pack-refs --all", v.dir),
	    0);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 4);

	/* An extra byte after the id: refused, the file untouched. */
	assert_int_equal(run(keep, sizeof(keep), "cat %s", p), 0);
	fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_EAUDIT);
	assert_int_equal(run(q, sizeof(q), "cat %s", p), 0);
	assert_int_equal(strlen(q), 42);
	assert_memory_equal(q, keep, 41);
	assert_int_equal(truncate(p, 41), 0);

	/* A symlink in its place: refused. */
	snprintf(q, sizeof(q), "%s.real", p);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_EAUDIT);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rename(q, p), 0);

	/* Restored, the log goes on without a gap. */
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
	assert_int_equal(seq, 5);
	cv_auditlog_close(a);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 5);
	json_decref(e);
	vault_free(&v);
}

/*
 * Writers serialise their events before the leader numbers them; the
 * leader only splices "seq" and "time" in. Keys on either side of "seq",
 * "store_write" and "time" in byte order, an empty event, a nested "seq",
 * and the size limit at its exact edge.
 */
static void
test_event_splice(void **state)
{
	struct cv_auditlog_report rep;
	struct cv_auditlog *a;
	struct vault v;
	char out[512], want[512], tm[25], *big, *t;
	json_t *e;
	uint64_t seq;
	size_t len;

	(void)state;
	vault_new(&v, 0);
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);
	e = json_pack("{s:i, s:s, s:b, s:i, s:i, s:i, s:{s:i}, s:s}", "a", 1,
	    "sep", "x", "seq0", 1, "sz", 2, "ti", 3, "timez", 4, "z", "seq", 1,
	    "st", "y");
	assert_int_equal(cv_auditlog_append(a, e, CV_AUDIT_WRITE, &seq), 0);
	json_decref(e);
	e = json_object();
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
	assert_int_equal(seq, 2);
	/* Reserved keys, at the top level only. */
	json_object_set_new(e, "time", json_string("x"));
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_EINVAL);
	json_decref(e);

	/* The size limit: the widest event that fits, and one byte more. */
	e = json_pack("{s:s, s:i, s:s}", "x", "", "seq", 999999999, "time",
	    "2026-01-01T00:00:00.000Z");
	t = cv_json_canonical(e);
	len = CV_AUDIT_EVENT_MAX - strlen(t);
	free(t);
	json_decref(e);
	big = malloc(len + 2);
	memset(big, 'q', len + 1);
	big[len] = '\0';
	e = json_pack("{s:s}", "x", big);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
	json_decref(e);
	big[len] = 'q';
	big[len + 1] = '\0';
	e = json_pack("{s:s}", "x", big);
	assert_int_equal(cv_auditlog_append(a, e, 0, &seq), CV_ETOOBIG);
	json_decref(e);
	free(big);
	cv_auditlog_close(a);

	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 3);
	assert_int_equal(run(out, sizeof(out),
	                     "git --git-dir=%s/audit.git show "
	                     "main:e/0/00/00/00/000000001.json",
	                     v.dir),
	    0);
	assert_non_null(t = strstr(out, "\"time\":\""));
	snprintf(tm, sizeof(tm), "%s", t + 8);
	snprintf(want, sizeof(want),
	    "{\"a\":1,\"sep\":\"x\",\"seq\":1,\"seq0\":true,\"st\":\"y\","
	    "\"store_write\":true,\"sz\":2,\"ti\":3,\"time\":\"%s\","
	    "\"timez\":4,\"z\":{\"seq\":1}}",
	    tm);
	assert_string_equal(out, want);
	assert_int_equal(run(out, sizeof(out),
	                     "git --git-dir=%s/audit.git show "
	                     "main:e/0/00/00/00/000000002.json",
	                     v.dir),
	    0);
	snprintf(want, sizeof(want), "{\"seq\":2,\"time\":\"%.24s\"}",
	    strstr(out, "\"time\":\"") + 8);
	assert_string_equal(out, want);
	vault_free(&v);
}

static int
count_packs(const char *dir)
{
	char out[64];

	assert_int_equal(
	    run(out, sizeof(out),
	        "ls %s/audit.git/objects/pack | grep -c 'pack$'", dir),
	    0);
	return atoi(out);
}

/*
 * Each command line opens the trail, appends a few events and closes it:
 * one pack per command. Closing merges them once enough have gathered,
 * so their number stays bounded and the log still verifies.
 */
static void
test_packs_merged_across_opens(void **state)
{
	struct cv_auditlog_report rep;
	struct cv_auditlog *a;
	struct vault v;
	json_t *e = json_pack("{s:s}", "action", "record.read");
	uint64_t seq;
	int i;

	(void)state;
	vault_new(&v, 0);
	for (i = 0; i < 2 * AUDIT_PACKS_MIN; i++) {
		assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);
		assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
		cv_auditlog_close(a);
		assert_true(count_packs(v.dir) < AUDIT_PACKS_MIN + 1);
	}
	assert_true(count_packs(v.dir) < AUDIT_PACKS_MIN);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.events, 2 * AUDIT_PACKS_MIN);
	json_decref(e);
	vault_free(&v);
}

static int
put_w(void *ctx, git_object_t type, const void *buf, size_t len, git_oid *out)
{
	return audit_packw_add(ctx, type, buf, len, out);
}

static int
put_hash(
    void *ctx, git_object_t type, const void *buf, size_t len, git_oid *out)
{
	(void)ctx;
	return git_odb_hash(out, buf, len, type);
}

/* Add event SEQ (a blob of its number) to L through PUT. */
static void
layout_event(struct audit_layout *l, uint64_t seq, audit_put_fn put, void *ctx)
{
	char blob[24];
	git_oid id;

	snprintf(blob, sizeof(blob), "%" PRIu64, seq);
	assert_int_equal(put(ctx, GIT_OBJECT_BLOB, blob, strlen(blob), &id), 0);
	assert_int_equal(audit_layout_add(l, seq, &id, put, ctx), 0);
}

/*
 * The fan-out layout across leaf (100) and third-level (10 000)
 * boundaries: at each stop, stock git lists every event at its documented
 * path in sequence order, and a layout loaded back from the tree continues
 * exactly as the one that wrote it.
 */
static void
test_layout_boundaries(void **state)
{
	static const uint64_t stops[] = {
	    1, 99, 100, 101, 199, 200, 9999, 10000, 10001, 10100, 10101};
	struct audit_layout *l, *m, *c;
	struct audit_packw *w;
	git_repository *repo;
	git_tree *t;
	git_oid sid, root, r1, r2;
	char dir[] = "/tmp/cv_layout_XXXXXX", pdir[64], hex[41], path[32];
	FILE *f;
	uint64_t seq, i;
	size_t s;

	(void)state;
	l = calloc(1, sizeof(*l));
	m = calloc(1, sizeof(*m));
	c = calloc(1, sizeof(*c));
	assert_true(l != NULL && m != NULL && c != NULL);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(git_repository_init(&repo, dir, 1), 0);
	snprintf(pdir, sizeof(pdir), "%s/objects/pack", dir);
	assert_int_equal(audit_packw_new(0, &w), 0);
	for (seq = 1, s = 0; s < CV_ARRAY_LEN(stops); seq++) {
		layout_event(l, seq, put_w, w);
		if (seq != stops[s])
			continue;
		s++;
		assert_int_equal(
		    put_w(w, GIT_OBJECT_BLOB, "state", 5, &sid), 0);
		assert_int_equal(
		    audit_layout_finish(l, &sid, put_w, w, &root), 0);
		assert_int_equal(audit_packw_write(w, pdir, NULL), 0);
		audit_packw_reset(w);

		/* Loaded back, the layout continues as the original. */
		assert_int_equal(git_tree_lookup(&t, repo, &root), 0);
		assert_int_equal(audit_layout_load(m, repo, t, seq), 0);
		git_tree_free(t);
		*c = *l;
		layout_event(c, seq + 1, put_hash, NULL);
		layout_event(m, seq + 1, put_hash, NULL);
		assert_int_equal(
		    audit_layout_finish(c, &sid, put_hash, NULL, &r1), 0);
		assert_int_equal(
		    audit_layout_finish(m, &sid, put_hash, NULL, &r2), 0);
		assert_true(git_oid_equal(&r1, &r2));
		/* A wrong size does not load. */
		assert_int_equal(git_tree_lookup(&t, repo, &root), 0);
		assert_int_not_equal(audit_layout_load(m, repo, t, seq + 1), 0);
		git_tree_free(t);

		/* Stock git's listing is the documented paths, in order. */
		snprintf(
		    path, sizeof(path), "/tmp/cv_layout_%d", (int)getpid());
		assert_non_null(f = fopen(path, "w"));
		for (i = 1; i <= seq; i++) {
			char p[32];
			audit_event_path(i, p);
			fprintf(f, "%s\n", p);
		}
		fprintf(f, "state.json\n");
		assert_int_equal(fclose(f), 0);
		git_oid_tostr(hex, sizeof(hex), &root);
		assert_int_equal(
		    run(NULL, 0,
		        "git --git-dir=%s ls-tree -r --name-only %s"
		        " | cmp -s - %s",
		        dir, hex, path),
		    0);
		unlink(path);
	}
	{
		char p[32];
		audit_event_path(12345, p);
		assert_string_equal(p, "e/0/00/01/23/000012345.json");
		audit_event_path(AUDIT_SEQ_MAX, p);
		assert_string_equal(p, "e/9/99/99/99/999999999.json");
	}
	audit_packw_free(w);
	git_repository_free(repo);
	assert_int_equal(run(NULL, 0, "rm -rf %s", dir), 0);
	free(c);
	free(m);
	free(l);
}

/*
 * Signatures are checked beside the walk; what is reported is still the
 * first thing wrong walking down from the head. Here the commit signed
 * with another key comes before (above) a root that is also wrong, and
 * in the second case is itself wrong in another way as well: both times
 * the bad signature is what is reported, at that commit.
 */
static void
test_signature_found_first(void **state)
{
	uint8_t opk[32], osk[64];
	struct cv_auditlog_report rep;
	struct vault v;
	git_repository *r;
	git_oid a, b;
	char hex[41];

	(void)state;
	crypto_sign_keypair(opk, osk);
	vault_new(&v, 5);
	r = vault_repo(&v);

	/* A root starting at event 2, then commit 3 signed with another
	 * key, then the rest signed right. */
	a = recommit(r, &v.c[1], NULL, v.sk, 0);
	b = recommit(r, &v.c[2], &a, osk, 0);
	git_oid_tostr(hex, sizeof(hex), &b);
	a = recommit(r, &v.c[3], &b, v.sk, 0);
	recommit(r, &v.c[4], &a, v.sk, 1);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, NULL, &rep), CV_EVERIFY);
	assert_non_null(strstr(rep.reason, "bad signature"));
	assert_string_equal(rep.bad_commit, hex);
	assert_int_equal(rep.commits, 2);
	assert_int_equal(rep.events, 5);

	/* Commit 3 signed with another key and not contiguous with its
	 * parent (commit 2 dropped). */
	a = recommit(r, &v.c[0], NULL, v.sk, 0);
	b = recommit(r, &v.c[2], &a, osk, 0);
	git_oid_tostr(hex, sizeof(hex), &b);
	a = recommit(r, &v.c[3], &b, v.sk, 0);
	recommit(r, &v.c[4], &a, v.sk, 1);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, NULL, &rep), CV_EVERIFY);
	assert_non_null(strstr(rep.reason, "bad signature"));
	assert_string_equal(rep.bad_commit, hex);

	/* The head itself: no events counted. */
	recommit(r, &v.c[4], &v.c[3], osk, 1);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, NULL, &rep), CV_EVERIFY);
	assert_non_null(strstr(rep.reason, "bad signature"));
	assert_int_equal(rep.commits, 0);
	assert_int_equal(rep.events, 0);
	git_repository_free(r);
	vault_free(&v);
}

/*
 * Verify and foreach reopen the repository as they go, to let go of what
 * libgit2 keeps of the packs; here every 3 commits and every leaf
 * directory, over a trail of 158 commits in two leaf directories. The
 * walk still checks every commit and finds one signed with another key
 * at the root, the last commit it reaches.
 */
#define REOPEN_N 150
static void
test_verify_reopens(void **state)
{
	static git_oid ids[8 + REOPEN_N];
	uint8_t opk[32], osk[64];
	struct cv_auditlog_report rep;
	struct cv_auditlog *a;
	struct vault v;
	git_repository *r;
	git_commit *c;
	git_oid id, prev;
	char hex[41];
	uint64_t n = 0, seq;
	json_t *e;
	int i, total = 8 + REOPEN_N;

	(void)state;
	vault_new(&v, 8);
	assert_int_equal(cv_auditlog_open(v.dir, v.sk, &a), 0);
	for (i = 0; i < REOPEN_N; i++) {
		e = json_pack("{s:s, s:i}", "action", "record.read", "record", i);
		assert_int_equal(cv_auditlog_append(a, e, 0, &seq), 0);
		json_decref(e);
	}
	cv_auditlog_close(a);
	cv_auditlog_set_reopen(3, 1);
	assert_int_equal(cv_auditlog_verify(v.dir, v.pk, NULL, &rep), 0);
	assert_int_equal(rep.commits, total);
	assert_int_equal(rep.events, total);
	assert_int_equal(cv_auditlog_foreach(v.dir, collect, &n), 0);
	assert_int_equal(n, total);

	/* The chain, newest first, then rewritten from a root signed with
	 * another key, every other commit re-signed with the right one. */
	r = vault_repo(&v);
	assert_int_equal(git_reference_name_to_id(&id, r, "refs/heads/main"), 0);
	for (i = total - 1; i >= 0; i--) {
		ids[i] = id;
		assert_int_equal(git_commit_lookup(&c, r, &id), 0);
		if (i > 0)
			git_oid_cpy(&id, git_commit_parent_id(c, 0));
		git_commit_free(c);
	}
	crypto_sign_keypair(opk, osk);
	prev = recommit(r, &ids[0], NULL, osk, 0);
	git_oid_tostr(hex, sizeof(hex), &prev);
	for (i = 1; i < total; i++)
		prev = recommit(r, &ids[i], &prev, v.sk, i == total - 1);
	git_repository_free(r);
	assert_int_equal(
	    cv_auditlog_verify(v.dir, v.pk, NULL, &rep), CV_EVERIFY);
	assert_non_null(strstr(rep.reason, "bad signature"));
	assert_string_equal(rep.bad_commit, hex);
	assert_int_equal(rep.commits, total - 1);
	cv_auditlog_set_reopen(512, 64);
	vault_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_verify_read),
	    cmocka_unit_test(test_stock_git_verifies),
	    cmocka_unit_test(test_tamper_edited_event),
	    cmocka_unit_test(test_tamper_history),
	    cmocka_unit_test(test_from_prefix_and_keys),
	    cmocka_unit_test(test_fail_closed),
	    cmocka_unit_test(test_group_commit),
	    cmocka_unit_test(test_push),
	    cmocka_unit_test(test_sha1_known_answers),
	    cmocka_unit_test(test_pack_writer_matches_git),
	    cmocka_unit_test(test_packs_stock_git),
	    cmocka_unit_test(test_merge_checks),
	    cmocka_unit_test(test_merge_deltas),
	    cmocka_unit_test(test_layout_boundaries),
	    cmocka_unit_test(test_ref_in_place),
	    cmocka_unit_test(test_event_splice),
	    cmocka_unit_test(test_packs_merged_across_opens),
	    cmocka_unit_test(test_verify_reopens),
	    cmocka_unit_test(test_signature_found_first),
	};
	int r;

	if (sodium_init() < 0)
		return 1;
	git_libgit2_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return r;
}
