/*
 * The audit trail: a bare git repository DIR/audit.git with one branch,
 * refs/heads/main, of SSHSIG-signed commits, each holding one or more
 * events as canonical JSON blobs under e/AAA/BBB/AAABBBCCC.json, an RFC 6962
 * Merkle tree over all events and a state blob. The format is in
 * docs/audit-format.md; stock git and ssh-keygen verify the signatures.
 *
 * Every function returns 0 or a negative CV_E* code. Strings and JSON
 * passed in are borrowed for the duration of the call.
 */
#ifndef CV_AUDIT_H
#define CV_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Largest canonical event, "seq" and "time" included. */
#define CV_AUDIT_EVENT_MAX 8192

/* cv_auditlog_append flag: the event precedes a change to the store. */
#define CV_AUDIT_WRITE 0x1u

struct cv_auditlog; /* an open audit repository, with or without the key */

/*
 * Create VAULTDIR/audit.git (bare; HEAD -> refs/heads/main, which is
 * unborn: the first append makes the root commit), and write
 * VAULTDIR/audit_signer.pub ("ssh-ed25519 AAAA... casevault-audit") and
 * VAULTDIR/allowed_signers ("PRINCIPAL namespaces="git" ssh-ed25519
 * AAAA..."), both created exclusively and fsynced. PK is the Ed25519
 * public key. PRINCIPAL is 1..64 bytes of [A-Za-z0-9@._-].
 * Returns 0, CV_EINVAL, CV_EEXIST (any of the three exists), CV_EIO,
 * CV_EAUDIT (libgit2 failed).
 */
int cv_auditlog_create(
    const char *vaultdir, const uint8_t pk[static 32], const char *principal);

/*
 * Open VAULTDIR/audit.git. SK is the 64-byte libsodium Ed25519 secret key
 * (copied into guarded memory; the caller keeps and wipes its own copy) for
 * appending, or NULL for a read-only handle. On success *out is owned by
 * the caller (cv_auditlog_close). Returns 0, CV_EINVAL, CV_ENOMEM,
 * CV_EAUDIT (no repository, or its head cannot be read).
 */
int cv_auditlog_open(
    const char *vaultdir, const uint8_t *sk, struct cv_auditlog **out);

/* Close A and wipe its key. NULL is allowed. No append may be running. */
void cv_auditlog_close(struct cv_auditlog *a);

/*
 * Append EVENT, a JSON object that must not contain "seq", "time" or
 * "store_write". The trail adds "seq" (1, 2, 3 ... no gaps), "time" (UTC
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", never before the previous event's) and, with
 * FLAGS & CV_AUDIT_WRITE, "store_write": true, and stores the canonical
 * JSON. Returns only once the commit holding the event is signed, written
 * as a pack, fsynced and refs/heads/main moved to it by compare-and-swap.
 * Thread-safe: callers waiting at the same moment share one commit. Across
 * processes a lock file serialises appends (waits up to 5 s).
 * *seq (may be NULL) receives the event's sequence number.
 * Returns 0; CV_EINVAL (not an object, reserved key, unknown flag);
 * CV_ETOOBIG (over CV_AUDIT_EVENT_MAX); CV_ESTATE (read-only handle);
 * CV_EAUDIT (the event could not be made durable for any reason:
 * repository missing or corrupt, lock held, disk full, ref moved): the
 * caller must refuse the operation.
 */
int cv_auditlog_append(
    struct cv_auditlog *a, const json_t *event, unsigned flags, uint64_t *seq);

/*
 * cv_auditlog_last_write: *seq = the seq of the latest CV_AUDIT_WRITE event
 * (0 if none). cv_auditlog_size: *size = the number of events. Both read the
 * current head (another process may have appended). Returns 0, CV_EINVAL,
 * CV_ENOMEM or CV_EAUDIT.
 */
int cv_auditlog_last_write(struct cv_auditlog *a, uint64_t *seq);
int cv_auditlog_size(struct cv_auditlog *a, uint64_t *size);

/*
 * *ms = the time of the trail's last event, in milliseconds since the
 * epoch (0 for an empty trail), as the head's state blob records it: the
 * time no later event may fall below. Reads the current head like the two
 * above; a read-only handle will do. Returns 0, CV_EINVAL, CV_ENOMEM or
 * CV_EAUDIT.
 */
int cv_auditlog_last_time(struct cv_auditlog *a, uint64_t *ms);

/* A position of the trail: the commit after which it held SIZE events,
 * with RFC 6962 tree head ROOT (its Log-Size and Log-Root). */
#define CV_AUDIT_COMMITBYTES 20
struct cv_audit_pos {
	uint64_t size;
	uint8_t root[32];
	uint8_t commit[CV_AUDIT_COMMITBYTES]; /* zero for the empty log */
};

/*
 * The current head of the trail (read again: another process may have
 * appended) into *POS, and the seq of its latest CV_AUDIT_WRITE event into
 * *LAST_WRITE (may be NULL). An unborn branch is the empty log: size 0.
 * Returns 0, CV_EINVAL, CV_ENOMEM or CV_EAUDIT.
 */
int cv_auditlog_head(
    struct cv_auditlog *a, struct cv_audit_pos *pos, uint64_t *last_write);

/*
 * Whether the trail still holds POS: its commit is the head or an
 * ancestor of it, and carries POS's Log-Size and Log-Root. Returns 0 when
 * it does (always for size 0), CV_EVERIFY when it does not (the trail was
 * truncated, rewritten or its branch deleted), CV_EINVAL, CV_EAUDIT.
 */
int cv_auditlog_holds(struct cv_auditlog *a, const struct cv_audit_pos *pos)
    __attribute__((warn_unused_result));

/*
 * Call CB with each event whose seq is strictly between FROM and TO, in
 * order, from the current head (the event is borrowed for the call); stops
 * when CB returns nonzero and returns that value. Reads one event at a
 * time. Returns 0, the value of CB, CV_EINVAL, CV_EAUDIT (no head),
 * CV_ECORRUPT (an event in the range is missing or malformed).
 */
int cv_auditlog_scan(struct cv_auditlog *a, uint64_t from, uint64_t to,
    int (*cb)(const json_t *event, void *arg), void *arg);

/* What cv_auditlog_verify found. HEAD is the verified head (hex, "" for an
 * empty log); on failure BAD_COMMIT names the first bad commit (or is "")
 * and REASON says what is wrong, without any event content. */
struct cv_auditlog_report {
	uint64_t commits, events;
	char head[41];
	char bad_commit[41];
	char reason[160];
};

/* The shortest abbreviated commit id accepted as a saved head. */
#define CV_AUDIT_FROM_MIN 7

/*
 * Verify the whole trail in VAULTDIR against the Ed25519 public key PK:
 * every commit's SSHSIG signature (namespace "git"), no merges, Audit-Seq
 * ranges contiguous from 1, each commit's tree exactly its parent's plus
 * its new events and state blob, each event's "seq" matching its path,
 * times never decreasing, canonical JSON, Log-Size and Log-Root recomputed.
 * FROM_COMMIT (NULL, or a commit id of CV_AUDIT_FROM_MIN to 40 hex
 * digits that is a unique prefix in the repository), a head saved
 * earlier, must be on the chain (the log only grew). The walk goes from
 * the head to the root holding one commit's state, so memory does not
 * grow with the trail; it stops at the first failure found walking down
 * (the newest bad commit).
 * Returns 0 (REP filled), CV_EVERIFY (REP says where and why; also a
 * FROM_COMMIT the repository does not hold), CV_EINVAL (FROM_COMMIT is
 * not such an id, or is ambiguous: the error detail says so), CV_ENOMEM.
 */
int cv_auditlog_verify(const char *vaultdir, const uint8_t pk[static 32],
    const char *from_commit, struct cv_auditlog_report *rep);

/*
 * cv_auditlog_verify with NPK (at least 1) accepted signers PKS: each
 * commit must be signed by one of them, as with an allowed_signers file
 * holding several keys for the namespace "git".
 */
int cv_auditlog_verify_keys(const char *vaultdir, const uint8_t (*pks)[32],
    size_t npk, const char *from_commit, struct cv_auditlog_report *rep);

/*
 * Call CB with every event in sequence order (the event is borrowed for
 * the call). Stops when CB returns nonzero and returns that value.
 * Does not check signatures (use cv_auditlog_verify). Returns 0, the value
 * of CB, CV_EAUDIT (no repository), CV_ECORRUPT (malformed trail).
 */
int cv_auditlog_foreach(
    const char *vaultdir, int (*cb)(const json_t *event, void *arg), void *arg);

/*
 * How often cv_auditlog_verify and cv_auditlog_foreach reopen the
 * repository, letting go of what libgit2 keeps of the packs they read
 * (the pages of the pack indexes, its caches of delta bases), which
 * would otherwise grow with the trail: every COMMITS commits verified,
 * every LEAVES leaf directories of 100 events read. 0 keeps a value as
 * it is. Process-wide and not thread-safe: for tests and benchmarks; the
 * defaults suit every trail.
 */
void cv_auditlog_set_reopen(unsigned commits, unsigned leaves);

/*
 * Push refs/heads/main to REMOTE: a filesystem path (a bare repository is
 * created there if missing, with receive.denyNonFastForwards and
 * receive.denyDeletes set so that stock git cannot rewrite or delete its
 * branch either) or a file:// URL. Only fast-forwards: a mirror whose
 * branch is not an ancestor of ours is refused before anything is sent.
 * Returns 0, CV_EINVAL, CV_EAUDIT (push failed or refused; the error
 * detail says which).
 */
int cv_auditlog_push(const char *vaultdir, const char *remote);

#endif
