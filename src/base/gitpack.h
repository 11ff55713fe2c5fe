/*
 * A git pack written directly: the objects of one audit commit (or of the
 * packs being merged) deflated into pack version 2 with its version 2
 * index, both fsynced and renamed into objects/pack. A commit's objects
 * are stored whole, so writing needs no search; a merge may store trees as
 * deltas against an earlier tree of the same pack (audit_packw_add_delta).
 * Stock git reads, verifies and repacks the result (see
 * docs/audit-format.md, "Packs").
 */
#ifndef CV_AUDIT_WRITE_H
#define CV_AUDIT_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

/* "pack-" and 40 hex digits. */
#define AUDIT_PACK_NAME_MAX 46

/* The name of every temporary file in a pack directory starts so. */
#define AUDIT_TMP_PREFIX "tmp_pack_"

struct audit_packw; /* objects gathered for one pack */

/*
 * Objects shorter than this are stored in zlib's stored blocks (level 0):
 * for an event of a few hundred bytes, deflate's fixed cost (its tables
 * are reset for every object) is many times its copy, for about a quarter
 * of its size.
 */
#define AUDIT_STORE_BELOW 1024

/*
 * A new, empty writer (zlib level LEVEL, 0..9, for objects of at least
 * AUDIT_STORE_BELOW bytes) owned by the caller (audit_packw_free).
 * Returns 0 or CV_ENOMEM.
 */
int audit_packw_new(int level, struct audit_packw **out);
void audit_packw_free(struct audit_packw *w);

/* Forget every object gathered; the memory is kept for the next pack. */
void audit_packw_reset(struct audit_packw *w);

/*
 * Deflate one object of TYPE (commit, tree, blob or tag) holding LEN bytes
 * of BUF into the pack. *ID receives its git object id. An object already
 * in the pack is not stored twice. Returns 0, CV_EINVAL (bad type),
 * CV_ENOMEM, CV_ETOOBIG (the pack would pass 4 GiB).
 */
int audit_packw_add(struct audit_packw *w, git_object_t type, const void *buf,
    size_t len, git_oid *id);

/*
 * As audit_packw_add, but deflated at the writer's level whatever its
 * size: for a merge, which has the time that a commit has not.
 */
int audit_packw_add_deflated(struct audit_packw *w, git_object_t type,
    const void *buf, size_t len, git_oid *id);

/*
 * Copy one whole (undeltified) pack entry of object ID, its type/size
 * header and zlib stream, LEN bytes at ENTRY, as it stands in another pack;
 * CRC is its CRC32 from that pack's index, which the caller has checked.
 * An object already in the pack is not stored twice. Returns 0, CV_EINVAL,
 * CV_ENOMEM, CV_ETOOBIG.
 */
int audit_packw_add_raw(struct audit_packw *w, const git_oid *id,
    const uint8_t *entry, size_t len, uint32_t crc);

/*
 * Store object ID as a delta (git's OFS_DELTA entry) against BASE, which
 * must already be in the pack, so that its entry comes first. DELTA holds
 * DLEN bytes of git's delta instructions (the base's size and the
 * object's, then copy and insert operations) that turn BASE into ID; they
 * are deflated like an object. The caller has checked that applying them
 * gives ID. An object already in the pack is not stored twice.
 * Returns 0, CV_EINVAL (BASE not in the pack, DLEN 0), CV_ENOMEM,
 * CV_ETOOBIG.
 */
int audit_packw_add_delta(struct audit_packw *w, const git_oid *id,
    const git_oid *base, const void *delta, size_t dlen);

/*
 * Copy an OFS_DELTA entry of object ID from another pack: ZLEN bytes at
 * ZDATA are its zlib stream of DSIZE bytes of delta, and BASE, the object
 * it applies to, is already in this pack. The distance to the base is
 * written anew for this pack. Returns as audit_packw_add_delta.
 */
int audit_packw_add_delta_raw(struct audit_packw *w, const git_oid *id,
    const git_oid *base, uint64_t dsize, const uint8_t *zdata, size_t zlen);

/* Whether object ID is in the pack already. */
int audit_packw_has(struct audit_packw *w, const git_oid *id);

/* Number of objects gathered so far. */
size_t audit_packw_count(const struct audit_packw *w);

/*
 * Lay out the pack and its index in memory: *PACK (PLEN bytes) and *IDX
 * (ILEN bytes) are malloc'd and owned by the caller; CHECKSUM receives
 * the pack's trailing SHA-1 (which names it). At least one object must
 * have been added. Returns 0, CV_EINVAL, CV_ENOMEM.
 */
int audit_packw_build(struct audit_packw *w, uint8_t **pack, size_t *plen,
    uint8_t **idx, size_t *ilen, uint8_t checksum[static 20]);

/*
 * Files for packs can be made ahead of time: an empty temporary file in
 * the pack directory, open for writing. audit_spare_make creates one
 * (mode 0600, named AUDIT_TMP_PREFIX and six random characters, as git's
 * own temporary packs) into *FD and
 * PATH (SIZE bytes); returns 0 or CV_EIO. A writer given a TAKE function
 * asks it for a file before creating one; TAKE returns 0 with a spare or
 * nonzero when it has none. Creating a file can cost a millisecond on a
 * filesystem that scans recently freed inodes; a spare moves that cost
 * off the commit's path.
 */
typedef int (*audit_take_fn)(void *ctx, int *fd, char *path, size_t size);
int audit_spare_make(const char *packdir, int *fd, char *path, size_t size);
void audit_packw_spares(struct audit_packw *w, audit_take_fn take, void *ctx);

/*
 * Write the pack durably into PACKDIR (objects/pack of a repository):
 * pack and index go to temporary files, both are fsynced, then renamed to
 * pack-<checksum>.pack and, last, pack-<checksum>.idx (so a reader that
 * sees the index finds its pack), and PACKDIR is fsynced. NAME (may be
 * NULL) receives "pack-<checksum>". On failure no new pack is visible.
 * Returns 0, CV_EINVAL (nothing added), CV_ENOMEM, CV_EIO.
 */
int audit_packw_write(struct audit_packw *w, const char *packdir, char *name);

#endif
