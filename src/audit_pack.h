/* Keeping the number of packs in audit.git small. */
#ifndef CV_AUDIT_PACK_H
#define CV_AUDIT_PACK_H

#include <git2.h>

/* Below this many packs nothing is merged. */
#ifndef AUDIT_PACKS_MIN
#define AUDIT_PACKS_MIN 32
#endif

/*
 * Merge the smallest packs of GITDIR/objects/pack into one so that the
 * remaining packs grow geometrically (each at least twice the size of all
 * smaller ones together): every object is rewritten O(log n) times over the
 * life of the log, and lookups stay fast. The merged pack is written and
 * fsynced before the packs it replaces are removed. The caller holds the
 * writer lock. Returns 0 or CV_EIO; a failure loses nothing.
 */
int audit_pack_compact(git_repository *repo, const char *gitdir);

#endif
