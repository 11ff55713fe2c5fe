/* Keeping the number of packs in audit.git small. */
#ifndef CV_AUDIT_PACK_H
#define CV_AUDIT_PACK_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "base/gitpack.h"

/* Below this many packs nothing is merged. */
#ifndef AUDIT_PACKS_MIN
#define AUDIT_PACKS_MIN 32
#endif

/* A merge reads and rewrites at most this many bytes of packs: its time
 * and memory stay bounded however long the log grows. */
#ifndef AUDIT_MERGE_MAX
#define AUDIT_MERGE_MAX (64L * 1024 * 1024)
#endif

/*
 * Merge the smallest packs of PACKDIR (objects/pack) into one so that the
 * remaining packs grow geometrically (each at least twice the size of all
 * smaller ones together), as long as the packs merged hold at most
 * AUDIT_MERGE_MAX bytes: every object is rewritten O(log n) times until
 * its pack reaches that size, and lookups stay fast. W is an empty pack
 * writer (left empty). Trees are stored as deltas against earlier versions
 * of the same directory, and events a commit stored undeflated are
 * deflated (see packmerge.c). The merged pack is written with
 * audit_packw_write (fsynced, directory fsynced) before the packs it
 * replaces are removed; every object is checked on the way, against its
 * id or against the CRC32 its index recorded. The caller holds the pack
 * directory's lock. Returns 0, CV_ENOMEM or CV_EIO; a failure loses
 * nothing.
 */
int audit_pack_compact(struct audit_packw *w, const char *packdir);

/* One object of a pack as its index describes it. */
struct audit_pack_ent {
	git_oid id;
	uint32_t crc;
	uint64_t off, len; /* its entry's bytes in the pack */
};

/*
 * Check the version 2 index IDX (ILEN bytes) against the pack PACK (PLEN
 * bytes) and list the pack's entries in pack order: magic and version,
 * fan-out consistent with strictly increasing ids, offsets inside the pack
 * and distinct, a pack header "PACK" version 2 with the same count, and
 * the pack checksum the index names equal to the pack's trailer. Does not
 * inflate anything. *OUT (malloc'd, *N entries) is owned by the caller.
 * Returns 0, CV_ECORRUPT, CV_ENOMEM.
 */
int audit_pack_entries(const uint8_t *idx, size_t ilen, const uint8_t *pack,
    size_t plen, struct audit_pack_ent **out, size_t *n);

#endif
