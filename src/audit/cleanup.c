/*
 * Leftover temporary pack files. A pack reaches the trail only by its
 * rename to pack-<checksum>.pack, so a temporary file is never read: one
 * left behind is only space, and safe to remove once no writer can still
 * be holding it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "casevault.h"
#include "audit/cleanup.h"
#include "base/error.h"
#include "base/gitpack.h"
#include "base/util.h"

int
cv_auditlog_clean(const char *vaultdir)
{
	const size_t plen = strlen(AUDIT_TMP_PREFIX);
	char path[4200];
	struct dirent *de;
	DIR *d;
	int fd, n = 0;

	if (cv_path(
	        path, sizeof(path), "%s/audit.git/objects/pack", vaultdir) != 0)
		return CV_ETOOBIG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ELOOP && errno != ENOTDIR)
			return CV_EIO;
		cv_error_set("%s is a symbolic link or not a directory", path);
		return CV_EUNSAFE;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return CV_EIO;
	}
	while ((de = readdir(d)) != NULL)
		/* unlinkat removes a link itself, never what it names. */
		if (strncmp(de->d_name, AUDIT_TMP_PREFIX, plen) == 0 &&
		    unlinkat(fd, de->d_name, 0) == 0)
			n++;
	if (n > 0)
		(void)fsync(fd);
	closedir(d); /* closes fd */
	return n;
}
