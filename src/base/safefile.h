/*
 * Checks on a vault's own files and directories. LMDB and libgit2 open
 * their files by path, so O_NOFOLLOW cannot reach every open; instead,
 * before any of them runs, the vault directory must be owned by the caller
 * and writable by no one else, and the files in it must not be symbolic
 * links. Once that holds, only the caller (or root) can plant or swap an
 * entry, so what was checked is what is opened.
 *
 * Every function returns 0 or a negative CV_E* code. CV_EUNSAFE comes with
 * an error detail naming the path and what is wrong with it.
 */
#ifndef CV_SAFEFILE_H
#define CV_SAFEFILE_H

/*
 * PATH must be a directory, not a symbolic link, owned by the effective
 * user, with no write permission for group or others.
 * Returns 0, CV_ENOTFOUND (nothing there), CV_EUNSAFE, CV_EIO.
 */
int cv_safe_dir(const char *path);

/*
 * PATH must be a regular file, not a symbolic link, owned by the effective
 * user, with no write permission for group or others.
 * Returns 0, CV_ENOTFOUND (nothing there), CV_EUNSAFE, CV_EIO.
 */
int cv_safe_file(const char *path);

/* cv_safe_dir and cv_safe_file for what is open at FD (opened with
 * O_NOFOLLOW), named PATH in the detail. Returns 0, CV_EUNSAFE, CV_EIO. */
int cv_safe_dirfd(int fd, const char *path);
int cv_safe_filefd(int fd, const char *path);

/*
 * Make everything under DIR, DIR included, private: directories 0700,
 * regular files 0600, or 0400 when the owner could not write them (git's
 * read-only packs). Does not follow links; meeting a symbolic link or
 * anything but a file or directory stops the walk with CV_EUNSAFE, leaving
 * what was already changed. For a tree the caller just created.
 * Returns 0, CV_EUNSAFE, CV_EIO.
 */
int cv_tree_private(const char *dir);

#endif
