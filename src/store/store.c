/*
 * The LMDB store. Transactions are the unit of atomicity: a change to a
 * vault is one write transaction, committed durably (no MDB_NOSYNC), so a
 * crash leaves either all of it or none of it.
 *
 * LMDB opens its data and lock files by path and follows links. Before it
 * does, the directory must be the caller's alone and none of the store's
 * files a link (base/safefile.h): then no one else can plant one between
 * the check and the open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "casevault.h"
#include "store/store.h"
#include "base/error.h"
#include "base/safefile.h"
#include "base/util.h"

#define MAP_SIZE ((size_t)1 << 34) /* 16 GiB of address space, sparse */

struct cv_store {
	MDB_env *env;
	MDB_dbi dbi[CV_DB_COUNT];
	int lockfd;
	char dir[4096];
};

/* Knows its store, so no caller passes the two apart and mismatched. */
struct cv_txn {
	struct cv_store *st;
	MDB_txn *txn;
};

static const char *const db_names[CV_DB_COUNT] = {
    "meta",
    "slots",
    "users",
    "cases",
    "casekeys",
    "records",
    "casedata",
    "pending",
};

/* Translate an LMDB (or errno) return code. */
static int
store_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return CV_ENOTFOUND;
	case MDB_KEYEXIST:
		return CV_EEXIST;
	case MDB_MAP_FULL:
	case ENOSPC:
		return CV_EIO;
	case ENOMEM:
		return CV_ENOMEM;
	case MDB_VERSION_MISMATCH:
		return CV_EVERSION;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_PAGE_NOTFOUND:
		return CV_ECORRUPT;
	default:
		return CV_ESTORE;
	}
}

/* Open the vault lock file PATH (FLAGS: O_CREAT or 0) into *FDP, never
 * through a link (nor hanging on a FIFO put in its place): CV_EUNSAFE for
 * a link or anything but a file owned by the caller that no one else can
 * write, CV_ENOTFOUND, CV_EIO. */
static int
lock_file_open(const char *path, int flags, int *fdp)
{
	int fd, r;

	fd = open(
	    path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | flags, 0600);
	if (fd == -1) {
		if (errno == ENOENT)
			return CV_ENOTFOUND;
		if (errno != ELOOP)
			return CV_EIO;
		cv_error_set("%s is a symbolic link", path);
		return CV_EUNSAFE;
	}
	if ((r = cv_safe_filefd(fd, path)) != 0) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

/* Take the vault lock: shared for use, exclusive for compaction. */
static int
lock_open(struct cv_store *st)
{
	char path[4200];
	int fd, r;

	if (cv_path(path, sizeof(path), "%s/%s", st->dir, CV_LOCK_FILE) != 0)
		return CV_ETOOBIG;
	if ((r = lock_file_open(path, O_CREAT, &fd)) != 0)
		return r;
	if (flock(fd, LOCK_SH) != 0) {
		close(fd);
		return CV_EIO;
	}
	st->lockfd = fd;
	return 0;
}

/*
 * The files LMDB is about to open in DIR: the data file, there unless
 * CREATE (then it must not be), and its lock file, if there, each a file
 * of the caller's, not a link, not writable by others. Returns 0,
 * CV_ENOTFOUND, CV_EEXIST, CV_EUNSAFE, CV_ETOOBIG, CV_EIO.
 */
static int
store_files_safe(const char *dir, int create)
{
	char path[4200];
	int r;

	if (cv_path(path, sizeof(path), "%s/%s", dir, CV_STORE_FILE) != 0)
		return CV_ETOOBIG;
	r = cv_safe_file(path);
	if (create && r == 0)
		return CV_EEXIST;
	if (r != (create ? CV_ENOTFOUND : 0))
		return r;
	if (cv_path(path, sizeof(path), "%s/%s-lock", dir, CV_STORE_FILE) != 0)
		return CV_ETOOBIG;
	r = cv_safe_file(path);
	return r == CV_ENOTFOUND ? 0 : r;
}

static int
env_open(struct cv_store *st, int create)
{
	char path[4200];
	MDB_txn *txn = NULL;
	int i, rc;

	if ((rc = store_files_safe(st->dir, create)) != 0)
		return rc;
	if (cv_path(path, sizeof(path), "%s/%s", st->dir, CV_STORE_FILE) != 0)
		return CV_ETOOBIG;
	if ((rc = mdb_env_create(&st->env)) != 0)
		return store_err(rc);
	mdb_env_set_maxdbs(st->env, CV_DB_COUNT + 2);
	mdb_env_set_mapsize(st->env, MAP_SIZE);
	mdb_env_set_maxreaders(st->env, 256);
	rc = mdb_env_open(st->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
	if (rc != 0)
		goto fail;
	if ((rc = mdb_txn_begin(
	         st->env, NULL, create ? 0 : MDB_RDONLY, &txn)) != 0)
		goto fail;
	for (i = 0; i < CV_DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i],
		         create ? MDB_CREATE : 0, &st->dbi[i])) != 0)
			goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(st->env);
	st->env = NULL;
	return rc == MDB_NOTFOUND ? CV_ECORRUPT : store_err(rc);
}

static int
store_new(const char *dir, struct cv_store **out)
{
	struct cv_store *st;
	int r;

	*out = NULL;
	if ((r = cv_safe_dir(dir)) != 0)
		return r;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return CV_ENOMEM;
	st->lockfd = -1;
	if (cv_path(st->dir, sizeof(st->dir), "%s", dir) != 0) {
		free(st);
		return CV_ETOOBIG;
	}
	*out = st;
	return 0;
}

int
cv_store_create(const char *dir, struct cv_store **out)
{
	struct cv_store *st = NULL;
	struct cv_txn *txn = NULL;
	int r;

	*out = NULL;
	if ((r = store_new(dir, &st)) != 0)
		return r;
	/* Before the lock file is made: nothing is created beside a store
	 * that is there, or a link planted in its place. */
	if ((r = store_files_safe(dir, 1)) != 0)
		goto out;
	if ((r = lock_open(st)) != 0 || (r = env_open(st, 1)) != 0)
		goto out;
	if ((r = cv_txn_begin(st, CV_TXN_WRITE, &txn)) != 0)
		goto out;
	if ((r = cv_meta_put_u64(txn, "schema", CV_SCHEMA_VERSION)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	if (r != 0)
		goto out;
	*out = st;
	st = NULL;
out:
	cv_txn_abort(txn);
	cv_store_close(st);
	return r;
}

int
cv_store_open(const char *dir, struct cv_store **out)
{
	struct cv_store *st = NULL;
	struct cv_txn *txn = NULL;
	uint64_t v;
	int r;

	*out = NULL;
	if ((r = store_new(dir, &st)) != 0)
		return r;
	if ((r = lock_open(st)) != 0 || (r = env_open(st, 0)) != 0)
		goto out;
	if ((r = cv_txn_begin(st, CV_TXN_RDONLY, &txn)) != 0)
		goto out;
	if ((r = cv_meta_get_u64(txn, "schema", &v)) != 0) {
		r = CV_ECORRUPT;
		goto out;
	}
	if (v != CV_SCHEMA_VERSION) {
		r = CV_EVERSION;
		goto out;
	}
	*out = st;
	st = NULL;
out:
	cv_txn_abort(txn);
	cv_store_close(st);
	return r;
}

void
cv_store_close(struct cv_store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lockfd != -1)
		close(st->lockfd);
	free(st);
}

int
cv_store_when_alone(const char *dir, int (*fn)(void *arg), void *arg)
{
	char path[4200];
	int fd, r;

	if ((r = cv_safe_dir(dir)) != 0)
		return r;
	if (cv_path(path, sizeof(path), "%s/%s", dir, CV_LOCK_FILE) != 0)
		return CV_ETOOBIG;
	if ((r = lock_file_open(path, 0, &fd)) != 0)
		return r;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		r = errno == EWOULDBLOCK ? CV_EBUSY : CV_EIO;
	else
		r = fn(arg);
	close(fd); /* releases the lock */
	return r;
}

int
cv_txn_begin(struct cv_store *st, enum cv_txn_mode mode, struct cv_txn **out)
{
	struct cv_txn *t;
	int rc;

	*out = NULL;
	if ((t = malloc(sizeof(*t))) == NULL)
		return CV_ENOMEM;
	t->st = st;
	rc = mdb_txn_begin(
	    st->env, NULL, mode == CV_TXN_RDONLY ? MDB_RDONLY : 0, &t->txn);
	if (rc != 0) {
		free(t);
		return store_err(rc);
	}
	*out = t;
	return 0;
}

int
cv_txn_commit(struct cv_txn *t)
{
	int rc = mdb_txn_commit(t->txn);

	free(t);
	return store_err(rc);
}

void
cv_txn_abort(struct cv_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

static struct cv_val
val_of(const MDB_val *v)
{
	struct cv_val r = {v->mv_data, v->mv_size};

	return r;
}

int
cv_get(struct cv_txn *t, enum cv_db db, const void *k, size_t klen,
    struct cv_val *v)
{
	MDB_val key = {klen, (void *)k}, val;
	int rc;

	if ((rc = mdb_get(t->txn, t->st->dbi[db], &key, &val)) != 0)
		return store_err(rc);
	*v = val_of(&val);
	return 0;
}

int
cv_put(struct cv_txn *t, enum cv_db db, const void *k, size_t klen,
    const void *v, size_t vlen, unsigned flags)
{
	MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};

	return store_err(mdb_put(t->txn, t->st->dbi[db], &key, &val,
	    flags & CV_PUT_NOOVERWRITE ? MDB_NOOVERWRITE : 0));
}

int
cv_del(struct cv_txn *t, enum cv_db db, const void *k, size_t klen)
{
	MDB_val key = {klen, (void *)k};

	return store_err(mdb_del(t->txn, t->st->dbi[db], &key, NULL));
}

int
cv_shred(struct cv_txn *t, enum cv_db db, const void *k, size_t klen)
{
	MDB_val key = {klen, (void *)k}, val;
	MDB_dbi dbi = t->st->dbi[db];
	int rc;

	if ((rc = mdb_get(t->txn, dbi, &key, &val)) != 0)
		return store_err(rc);
	/*
	 * A same-size put overwrites the value in its (copied) page; the
	 * delete then leaves only zeros behind in that page's free gap.
	 * The page that held the old bytes goes to the free list, which
	 * compaction does not copy.
	 */
	val.mv_data = NULL;
	if ((rc = mdb_put(t->txn, dbi, &key, &val, MDB_RESERVE)) != 0)
		return store_err(rc);
	memset(val.mv_data, 0, val.mv_size);
	return store_err(mdb_del(t->txn, dbi, &key, NULL));
}

static int
has_prefix(const MDB_val *k, const void *prefix, size_t plen)
{
	return plen == 0 ||
	    (k->mv_size >= plen && memcmp(k->mv_data, prefix, plen) == 0);
}

int
cv_shred_prefix(
    struct cv_txn *t, enum cv_db db, const void *prefix, size_t plen)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (plen == 0 || plen > CV_STORE_KEY_MAX)
		return CV_EINVAL;
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[db], &c)) != 0)
		return store_err(rc);
	/* Seek afresh after each delete: the cursor then never has to step
	 * over an entry that is gone. Zeroing is as in cv_shred. */
	for (;;) {
		k.mv_data = (void *)prefix;
		k.mv_size = plen;
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (!has_prefix(&k, prefix, plen))
			break;
		if ((rc = mdb_cursor_put(
		         c, &k, &v, MDB_CURRENT | MDB_RESERVE)) != 0)
			break;
		memset(v.mv_data, 0, v.mv_size);
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

int
cv_store_scan(struct cv_txn *t, enum cv_db db, const void *prefix, size_t plen,
    cv_scan_fn cb, void *arg)
{
	MDB_cursor *c;
	MDB_val k = {plen, (void *)prefix}, v;
	struct cv_val key, val;
	int rc, r = 0;

	if (plen > CV_STORE_KEY_MAX)
		return CV_EINVAL;
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[db], &c)) != 0)
		return store_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	     rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (!has_prefix(&k, prefix, plen))
			break;
		key = val_of(&k);
		val = val_of(&v);
		if ((r = cb(&key, &val, arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		r = store_err(rc);
	return r;
}

int
cv_store_first(struct cv_txn *t, enum cv_db db, const void *prefix, size_t plen,
    struct cv_val *key, struct cv_val *val)
{
	MDB_cursor *c;
	MDB_val k = {plen, (void *)prefix}, v;
	int rc;

	if (plen > CV_STORE_KEY_MAX)
		return CV_EINVAL;
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[db], &c)) != 0)
		return store_err(rc);
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	mdb_cursor_close(c);
	if (rc != 0)
		return store_err(rc);
	if (!has_prefix(&k, prefix, plen))
		return CV_ENOTFOUND;
	*key = val_of(&k);
	*val = val_of(&v);
	return 0;
}

int
cv_store_last(struct cv_txn *t, enum cv_db db, const void *prefix, size_t plen,
    struct cv_val *key, struct cv_val *val)
{
	uint8_t next[CV_STORE_KEY_MAX];
	MDB_cursor *c;
	MDB_val k, v;
	size_t n = plen;
	int rc;

	if (plen > CV_STORE_KEY_MAX)
		return CV_EINVAL;
	/*
	 * NEXT is the least key above every key with the prefix: the prefix
	 * with its trailing 0xff bytes dropped and its last byte raised. The
	 * entry before it, if it has the prefix, is the last one; with no
	 * such key (an empty or all-0xff prefix) it is the last of all.
	 */
	if (plen > 0)
		memcpy(next, prefix, plen);
	while (n > 0 && next[n - 1] == 0xff)
		n--;
	if (n > 0)
		next[n - 1]++;
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[db], &c)) != 0)
		return store_err(rc);
	k.mv_data = next;
	k.mv_size = n;
	rc = n > 0 ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND;
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc != 0)
		return store_err(rc);
	if (!has_prefix(&k, prefix, plen))
		return CV_ENOTFOUND;
	*key = val_of(&k);
	*val = val_of(&v);
	return 0;
}

int
cv_store_count(struct cv_txn *t, enum cv_db db, size_t *n)
{
	MDB_stat ms;
	int rc;

	if ((rc = mdb_stat(t->txn, t->st->dbi[db], &ms)) != 0)
		return store_err(rc);
	*n = ms.ms_entries;
	return 0;
}

int
cv_meta_get_u64(struct cv_txn *t, const char *key, uint64_t *v)
{
	struct cv_val val = {NULL, 0};
	int r;

	if ((r = cv_get(t, CV_DB_META, key, strlen(key), &val)) != 0)
		return r;
	if (val.len != 8)
		return CV_ECORRUPT;
	*v = cv_get_be64(val.data);
	return 0;
}

int
cv_meta_put_u64(struct cv_txn *t, const char *key, uint64_t v)
{
	uint8_t b[8];

	cv_put_be64(b, v);
	return cv_put(t, CV_DB_META, key, strlen(key), b, sizeof(b), 0);
}

static int
copy_compact(MDB_env *env, const char *path)
{
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return errno == EEXIST ? CV_EEXIST : CV_EIO;
	rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
	if (rc == 0 && fsync(fd) != 0)
		rc = EIO;
	close(fd);
	if (rc != 0) {
		unlink(path);
		return store_err(rc);
	}
	return 0;
}

int
cv_store_compact(struct cv_store *st)
{
	char path[4200], tmp[4200];
	struct timespec ts = {0, 50 * 1000 * 1000};
	int r, i;

	if ((r = cv_path(
	         path, sizeof(path), "%s/%s", st->dir, CV_STORE_FILE)) != 0 ||
	    (r = cv_path(tmp, sizeof(tmp), "%s/%s.compact", st->dir,
	         CV_STORE_FILE)) != 0)
		return r;
	/* Other users of the vault map the old file: wait for them. */
	for (i = 0; flock(st->lockfd, LOCK_EX | LOCK_NB) != 0; i++) {
		if (errno != EWOULDBLOCK || i >= 100)
			return CV_EBUSY;
		nanosleep(&ts, NULL);
	}
	unlink(tmp);
	if ((r = copy_compact(st->env, tmp)) != 0)
		goto out;
	mdb_env_close(st->env);
	st->env = NULL;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		r = CV_EIO;
	} else {
		r = cv_fsync_dir(st->dir);
	}
	i = env_open(st, 0);
	if (r == 0)
		r = i;
out:
	flock(st->lockfd, LOCK_SH);
	return r;
}

int
cv_store_replace(
    struct cv_store *st, const char *from, int (*prepare)(void *arg), void *arg)
{
	char path[4200];
	struct timespec ts = {0, 50 * 1000 * 1000};
	int r, i;

	if ((r = cv_path(
	         path, sizeof(path), "%s/%s", st->dir, CV_STORE_FILE)) != 0)
		return r;
	/* Other users of the vault map the old file: wait for them. */
	for (i = 0; flock(st->lockfd, LOCK_EX | LOCK_NB) != 0; i++) {
		if (errno != EWOULDBLOCK || i >= 100)
			return CV_EBUSY;
		nanosleep(&ts, NULL);
	}
	if ((r = prepare(arg)) != 0) {
		flock(st->lockfd, LOCK_SH);
		return r;
	}
	mdb_env_close(st->env);
	st->env = NULL;
	if (rename(from, path) != 0)
		r = CV_EIO;
	else
		r = cv_fsync_dir(st->dir);
	i = env_open(st, 0);
	if (r == 0)
		r = i;
	flock(st->lockfd, LOCK_SH);
	return r;
}

int
cv_store_backup(struct cv_store *st, const char *dest)
{
	char path[4200];
	int r;

	if ((r = cv_path(path, sizeof(path), "%s/%s", dest, CV_STORE_FILE)) !=
	    0)
		return r;
	if ((r = copy_compact(st->env, path)) != 0)
		return r;
	return cv_fsync_dir(dest);
}
