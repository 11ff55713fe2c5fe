/*
 * The LMDB store of a vault: one environment, DIR/store.lmdb, with named
 * databases. Every process that uses the vault holds a shared lock on
 * DIR/vault.lock; compaction (erase, rotation) takes it exclusively, because
 * it replaces the data file.
 */
#ifndef CV_STORE_H
#define CV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#define CV_SCHEMA_VERSION 1
#define CV_STORE_FILE     "store.lmdb"
#define CV_LOCK_FILE      "vault.lock"

enum cv_db {
	CV_DB_META,     /* vault id, schema version, KEK generation, ... */
	CV_DB_SLOTS,    /* user name -> keyslot (root key wrapped) */
	CV_DB_USERS,    /* user name -> account JSON (no secret but a hash) */
	CV_DB_CASES,    /* case id -> sealed case metadata */
	CV_DB_CASEKEYS, /* case id -> case key wrapped under the KEK */
	CV_DB_RECORDS,  /* case id, record, version -> sealed record */
	CV_DB_CASEDATA, /* case id, kind, id -> sealed consents, requests... */
	CV_DB_PENDING,  /* audit events waiting for an unlocked writer */
	CV_DB_COUNT
};

struct cv_store {
	MDB_env *env;
	MDB_dbi dbi[CV_DB_COUNT];
	int lockfd;
	char dir[4096];
};

/*
 * Create the store in the existing empty directory DIR and stamp the schema
 * version. CV_EEXIST when a store is there.
 */
int cv_store_create(const char *dir, struct cv_store **out);

/* Open the store in DIR. CV_ENOTFOUND, CV_EVERSION for another schema. */
int cv_store_open(const char *dir, struct cv_store **out);

void cv_store_close(struct cv_store *st);

/* Begin a transaction (read-only when RDONLY). */
int cv_txn_begin(struct cv_store *st, int rdonly, MDB_txn **txn);

/* Commit; CV_ESTORE (or CV_EIO for a full disk) on failure. */
int cv_txn_commit(MDB_txn *txn);

/* Translate an LMDB return code. */
int cv_store_err(int rc);

/* mdb_get/mdb_put/mdb_del with translated errors (CV_ENOTFOUND). */
int cv_get(MDB_txn *txn, struct cv_store *st, enum cv_db db, const void *k,
    size_t klen, MDB_val *v);
int cv_put(MDB_txn *txn, struct cv_store *st, enum cv_db db, const void *k,
    size_t klen, const void *v, size_t vlen, unsigned flags);
int cv_del(MDB_txn *txn, struct cv_store *st, enum cv_db db, const void *k,
    size_t klen);

/*
 * Overwrite the value at K with zeros of the same length, then delete it,
 * so the bytes do not survive in the page the key lived in.
 */
int cv_shred(MDB_txn *txn, struct cv_store *st, enum cv_db db, const void *k,
    size_t klen);

/* Read and write a big-endian u64 in the meta database. */
int cv_meta_get_u64(
    MDB_txn *txn, struct cv_store *st, const char *key, uint64_t *v);
int cv_meta_put_u64(
    MDB_txn *txn, struct cv_store *st, const char *key, uint64_t v);

/*
 * Rewrite the data file with only its live pages (mdb_env_copy2 with
 * MDB_CP_COMPACT), replace the old file, and reopen. Freed pages, which
 * may still hold shredded bytes, do not survive. Needs the exclusive lock:
 * CV_EBUSY when another process has the vault open.
 */
int cv_store_compact(struct cv_store *st);

/* A compacted hot copy of the data file into the directory DEST. */
int cv_store_backup(struct cv_store *st, const char *dest);

#endif
