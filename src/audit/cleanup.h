/*
 * Housekeeping of the audit repository that must not run beside a writer.
 */
#ifndef CV_AUDIT_CLEANUP_H
#define CV_AUDIT_CLEANUP_H

/*
 * Remove the temporary pack files (AUDIT_TMP_PREFIX*) left in
 * VAULTDIR/audit.git/objects/pack by a writer that died: one killed
 * between writing a pack and renaming it, or holding spares. A live writer
 * keeps its spares there for as long as it runs, so the caller must know
 * that none runs (the vault lock held exclusively). The directory is not
 * followed if it is a link. Removes nothing else; what cannot be removed
 * is left. Returns the number of files removed, or CV_EUNSAFE (a link),
 * CV_ETOOBIG, CV_EIO.
 */
int cv_auditlog_clean(const char *vaultdir);

#endif
