/*
 * The LMDB store of a vault: one environment, DIR/store.lmdb, with named
 * databases. Every process that uses the vault holds a shared lock on
 * DIR/vault.lock; compaction (erase, rotation) takes it exclusively, because
 * it replaces the data file.
 *
 * Nothing outside src/store/ sees LMDB: the store and its transactions are
 * opaque, values are struct cv_val, and the only ways to walk a database
 * are cv_store_scan, cv_store_first and cv_store_last. Every function
 * returns 0 or a negative CV_E* code; LMDB's own codes never leave.
 *
 * Memory: a struct cv_val filled in by the store points into the memory
 * map. It stays valid until the transaction ends or the next write in it
 * (cv_put, cv_del, cv_shred, cv_shred_prefix, cv_meta_put_u64), and it must
 * not be written to. Copy what must outlive that.
 */
#ifndef CV_STORE_H
#define CV_STORE_H

#include <stddef.h>
#include <stdint.h>

#define CV_SCHEMA_VERSION 2
#define CV_STORE_FILE     "store.lmdb"
#define CV_LOCK_FILE      "vault.lock"
#define CV_STORE_KEY_MAX  511 /* the longest key (LMDB's default limit) */

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

/* An open store: one per session. Opaque. */
struct cv_store;

/*
 * A transaction on a store, read-only or read-write. Opaque. A write
 * transaction is the unit of atomicity: all of it is committed durably, or
 * none of it. One write transaction at a time per vault (a second waits).
 */
struct cv_txn;

enum cv_txn_mode {
	CV_TXN_WRITE = 0,
	CV_TXN_RDONLY = 1,
};

/* A key or a value: LEN bytes at DATA (see "Memory" above). */
struct cv_val {
	const void *data;
	size_t len;
};

/* Flags of cv_put. */
#define CV_PUT_NOOVERWRITE 0x1u /* CV_EEXIST when the key is there */

/*
 * Create the store in the existing empty directory DIR, stamp the schema
 * version, and return it in *OUT (closed with cv_store_close).
 * CV_EEXIST when a store is there, CV_EUNSAFE (see cv_store_open),
 * CV_ETOOBIG for a path too long, CV_EIO, CV_ENOMEM, CV_ESTORE.
 */
int cv_store_create(const char *dir, struct cv_store **out);

/*
 * Open the store in DIR into *OUT (closed with cv_store_close).
 * CV_ENOTFOUND when there is none, CV_EVERSION for another schema,
 * CV_ECORRUPT when it is not a vault's store, CV_EUNSAFE when DIR is a
 * link, another user's or writable by group or others, or one of the
 * store's files (CV_STORE_FILE, its "-lock", CV_LOCK_FILE) is a link or
 * not a file of the caller's that only the caller can write; CV_EIO,
 * CV_ENOMEM, CV_ESTORE.
 */
int cv_store_open(const char *dir, struct cv_store **out);

/* Close ST (NULL: nothing). Every transaction on it must have ended. */
void cv_store_close(struct cv_store *st);

/*
 * Call FN(ARG) only while nothing else has the vault in DIR open: no other
 * process and no other store in this one. The vault lock is taken
 * exclusively, without waiting, for the duration of the call; the caller
 * must hold no store of DIR open itself. For housekeeping that would harm
 * a user of the vault. Returns FN's value; CV_EBUSY (FN not called) when
 * the vault is in use; CV_ENOTFOUND (no vault lock: not a vault),
 * CV_EUNSAFE, CV_ETOOBIG, CV_EIO.
 */
int cv_store_when_alone(const char *dir, int (*fn)(void *arg), void *arg);

/*
 * Begin a transaction on ST into *TXN. It ends with cv_txn_commit or
 * cv_txn_abort, which free it, and must end before ST is closed or
 * compacted. CV_ENOMEM, CV_ESTORE.
 */
int cv_txn_begin(
    struct cv_store *st, enum cv_txn_mode mode, struct cv_txn **txn);

/*
 * Commit TXN durably and free it, whatever the result (a read-only one is
 * just ended). CV_EIO for a full disk or map, CV_ESTORE otherwise.
 */
int cv_txn_commit(struct cv_txn *txn);

/* Abandon TXN and free it; nothing it wrote takes effect. NULL: nothing. */
void cv_txn_abort(struct cv_txn *txn);

/*
 * The value at key K (KLEN bytes) of DB, into *V (see "Memory" above).
 * CV_ENOTFOUND when there is none, CV_ESTORE, CV_ECORRUPT.
 */
int cv_get(struct cv_txn *txn, enum cv_db db, const void *k, size_t klen,
    struct cv_val *v);

/*
 * Store V (VLEN bytes, copied) at key K (KLEN bytes, 1 to
 * CV_STORE_KEY_MAX) of DB, replacing what is there unless FLAGS has
 * CV_PUT_NOOVERWRITE. CV_EEXIST (with CV_PUT_NOOVERWRITE), CV_EIO when
 * the map or the disk is full, CV_ESTORE (an empty or too long key too).
 */
int cv_put(struct cv_txn *txn, enum cv_db db, const void *k, size_t klen,
    const void *v, size_t vlen, unsigned flags);

/* Delete key K of DB. CV_ENOTFOUND when it is not there, CV_ESTORE. */
int cv_del(struct cv_txn *txn, enum cv_db db, const void *k, size_t klen);

/*
 * Overwrite the value at K with zeros of the same length, then delete it,
 * so the bytes do not survive in the page the key lived in. CV_ENOTFOUND
 * when it is not there, CV_ESTORE.
 */
int cv_shred(struct cv_txn *txn, enum cv_db db, const void *k, size_t klen);

/*
 * cv_shred every entry of DB whose key starts with the PLEN bytes of
 * PREFIX (PLEN >= 1). 0 also when there was none; CV_ESTORE.
 */
int cv_shred_prefix(
    struct cv_txn *txn, enum cv_db db, const void *prefix, size_t plen);

/*
 * Called by cv_store_scan for one entry: its KEY and VAL (see "Memory"
 * above) and the caller's ARG. Returns 0 to go on; anything else stops the
 * scan and is what cv_store_scan returns. A CV_E* code passes an error
 * through; a positive value is free for the caller to mean "found" or
 * "enough".
 */
typedef int (*cv_scan_fn)(
    const struct cv_val *key, const struct cv_val *val, void *arg);

/*
 * Call CB for every entry of DB whose key starts with the PLEN bytes of
 * PREFIX (PLEN 0: every entry), in key order: bytewise, a key before its
 * extensions. CB may read anything in TXN but must not write in it.
 * Returns 0 when every such entry was visited, CB's nonzero return when it
 * stopped the scan, or CV_ESTORE, CV_ENOMEM.
 */
int cv_store_scan(struct cv_txn *txn, enum cv_db db, const void *prefix,
    size_t plen, cv_scan_fn cb, void *arg);

/*
 * The entry of DB with the smallest (cv_store_first) or largest
 * (cv_store_last) key that starts with the PLEN bytes of PREFIX (PLEN 0:
 * any key): its key in *KEY and value in *VAL (see "Memory" above).
 * CV_ENOTFOUND when there is none, CV_EINVAL when PLEN exceeds
 * CV_STORE_KEY_MAX, CV_ESTORE, CV_ENOMEM.
 */
int cv_store_first(struct cv_txn *txn, enum cv_db db, const void *prefix,
    size_t plen, struct cv_val *key, struct cv_val *val);
int cv_store_last(struct cv_txn *txn, enum cv_db db, const void *prefix,
    size_t plen, struct cv_val *key, struct cv_val *val);

/* The number of entries in DB, into *N. CV_ESTORE. */
int cv_store_count(struct cv_txn *txn, enum cv_db db, size_t *n);

/*
 * Read and write a big-endian u64 at KEY in the meta database.
 * CV_ENOTFOUND when there is none, CV_ECORRUPT when it is not 8 bytes.
 */
int cv_meta_get_u64(struct cv_txn *txn, const char *key, uint64_t *v);
int cv_meta_put_u64(struct cv_txn *txn, const char *key, uint64_t v);

/*
 * Rewrite the data file with only its live pages, replace the old file,
 * and reopen. Freed pages, which may still hold shredded bytes, do not
 * survive. No transaction may be open on ST. Needs the exclusive lock:
 * CV_EBUSY when another process has the vault open; CV_EIO, CV_ESTORE.
 */
int cv_store_compact(struct cv_store *st);

/*
 * Replace the data file by the store file FROM, on the same file system
 * (renamed into place, the directory fsynced), and reopen. Once the
 * exclusive lock is held, and before anything is replaced, PREPARE(ARG)
 * runs (it may use ST); a nonzero return is returned and nothing is
 * replaced. No transaction may be open on ST when PREPARE returns.
 * Returns 0, what PREPARE returns, CV_EBUSY (another process has the
 * vault open), CV_EIO (FROM was not moved), CV_ESTORE.
 */
int cv_store_replace(struct cv_store *st, const char *from,
    int (*prepare)(void *arg), void *arg);

/*
 * A compacted hot copy of the data file into the existing directory DEST.
 * CV_EEXIST when DEST holds a store already, CV_EIO, CV_ESTORE.
 */
int cv_store_backup(struct cv_store *st, const char *dest);

#endif
