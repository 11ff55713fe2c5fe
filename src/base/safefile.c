/*
 * Checks on a vault's own files: see safefile.h for why a check by path
 * before the open is enough once the directory is the caller's alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "casevault.h"
#include "base/error.h"
#include "base/safefile.h"

/* What every vault entry must be: not a link, of TYPE (S_IFDIR or
 * S_IFREG), the caller's, not writable by anyone else. */
static int
check_stat(const struct stat *sb, const char *path, mode_t type)
{
	if (S_ISLNK(sb->st_mode)) {
		cv_error_set("%s is a symbolic link", path);
		return CV_EUNSAFE;
	}
	if ((sb->st_mode & S_IFMT) != type) {
		cv_error_set("%s is not a %s", path,
		    type == S_IFDIR ? "directory" : "regular file");
		return CV_EUNSAFE;
	}
	if (sb->st_uid != geteuid()) {
		cv_error_set("%s is owned by another user (uid %u)", path,
		    (unsigned)sb->st_uid);
		return CV_EUNSAFE;
	}
	if ((sb->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		cv_error_set("%s is writable by group or others (mode %04o)",
		    path, (unsigned)(sb->st_mode & 07777));
		return CV_EUNSAFE;
	}
	return 0;
}

static int
safe_entry(const char *path, mode_t type)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? CV_ENOTFOUND : CV_EIO;
	return check_stat(&sb, path, type);
}

int
cv_safe_dir(const char *path)
{
	return safe_entry(path, S_IFDIR);
}

int
cv_safe_file(const char *path)
{
	return safe_entry(path, S_IFREG);
}

static int
safe_fd(int fd, const char *path, mode_t type)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return CV_EIO;
	return check_stat(&sb, path, type);
}

int
cv_safe_dirfd(int fd, const char *path)
{
	return safe_fd(fd, path, S_IFDIR);
}

int
cv_safe_filefd(int fd, const char *path)
{
	return safe_fd(fd, path, S_IFREG);
}

static int
make_private(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	mode_t mode;

	(void)f;
	if (type == FTW_D)
		mode = 0700;
	else if (type == FTW_F && S_ISREG(sb->st_mode))
		mode = (sb->st_mode & S_IWUSR) ? 0600 : 0400;
	else if (type == FTW_DNR || type == FTW_NS)
		return CV_EIO;
	else {
		cv_error_set("%s is not a regular file or directory", path);
		return CV_EUNSAFE;
	}
	return chmod(path, mode) == 0 ? 0 : CV_EIO;
}

int
cv_tree_private(const char *dir)
{
	int r = nftw(dir, make_private, 16, FTW_PHYS);

	return r == -1 ? CV_EIO : r;
}
