/*
 * Geometric pack merging for the audit repository. Each commit arrives as
 * its own small pack; without merging, every object lookup and every pack
 * directory refresh would cost time proportional to the number of commits.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "casevault.h"
#include "audit_pack.h"
#include "util.h"

#define PACKS_MAX 4096

struct pk {
	char name[64]; /* "pack-<hex>" */
	off_t size;
};

static int
by_size(const void *a, const void *b)
{
	const struct pk *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

static int
insert_one(const git_oid *id, void *payload)
{
	return git_packbuilder_insert(payload, id, NULL);
}

static int
list_packs(const char *dir, struct pk *p, size_t *n)
{
	char path[4096];
	struct dirent *de;
	struct stat sb;
	size_t len;
	DIR *d;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return CV_EIO;
	while ((de = readdir(d)) != NULL && *n < PACKS_MAX) {
		len = strlen(de->d_name);
		/* The index's size is proportional to the object count,
		 * which is what a merge costs; pack sizes vary with deltas. */
		if (len < 9 || len >= sizeof(p->name) + 4 ||
		    strncmp(de->d_name, "pack-", 5) != 0 ||
		    strcmp(de->d_name + len - 4, ".idx") != 0)
			continue;
		if (cv_path(path, sizeof(path), "%s/%s", dir, de->d_name) !=
		        0 ||
		    stat(path, &sb) != 0)
			continue;
		memcpy(p[*n].name, de->d_name, len - 4);
		p[*n].name[len - 4] = '\0';
		p[*n].size = sb.st_size;
		(*n)++;
	}
	closedir(d);
	return 0;
}

int
audit_pack_compact(git_repository *repo, const char *gitdir)
{
	char dir[4096], path[4096];
	git_packbuilder *pb = NULL;
	git_odb_backend *one = NULL;
	struct pk *p = NULL;
	size_t n, i, k;
	off_t sum;
	int r = CV_EIO;

	if (cv_path(dir, sizeof(dir), "%s/objects/pack", gitdir) != 0)
		return CV_EIO;
	if ((p = calloc(PACKS_MAX, sizeof(*p))) == NULL)
		return CV_ENOMEM;
	if (list_packs(dir, p, &n) != 0)
		goto out;
	if (n < AUDIT_PACKS_MIN) {
		r = 0;
		goto out;
	}
	qsort(p, n, sizeof(*p), by_size);
	/* Merge everything up to the last pack that is smaller than twice
	 * the packs below it; what stays is a geometric progression. */
	k = 0;
	sum = p[0].size;
	for (i = 1; i < n; i++) {
		if (p[i].size < 2 * sum)
			k = i;
		sum += p[i].size;
	}
	if (k == 0) {
		r = 0;
		goto out;
	}
	if (git_packbuilder_new(&pb, repo) != 0)
		goto out;
	for (i = 0; i <= k; i++) {
		if (cv_path(path, sizeof(path), "%s/%s.idx", dir, p[i].name) !=
		        0 ||
		    git_odb_backend_one_pack(&one, path) != 0)
			goto out;
		if (one->foreach(one, insert_one, pb) != 0)
			goto out;
		one->free(one);
		one = NULL;
	}
	/* Written through the indexer, fsynced when the repository fsyncs. */
	if (git_packbuilder_write(pb, dir, 0, NULL, NULL) != 0)
		goto out;
	for (i = 0; i <= k; i++) {
		if (strcmp(p[i].name + 5, git_packbuilder_name(pb)) == 0)
			continue; /* the merge produced an identical pack */
		if (cv_path(path, sizeof(path), "%s/%s.pack", dir, p[i].name) ==
		    0)
			unlink(path);
		if (cv_path(path, sizeof(path), "%s/%s.idx", dir, p[i].name) ==
		    0)
			unlink(path);
	}
	(void)cv_fsync_dir(dir);
	r = 0;
out:
	if (one != NULL)
		one->free(one);
	git_packbuilder_free(pb);
	free(p);
	return r;
}
