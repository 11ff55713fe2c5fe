/*
 * Geometric pack merging for the audit repository. Each commit arrives as
 * its own small pack; without merging, every object lookup and every pack
 * directory refresh would cost time proportional to the number of commits.
 * The merged pack is written by the same direct writer as commits: every
 * object is read whole from its pack (deltas in packs made by stock git
 * are resolved by libgit2) and stored whole.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <zlib.h>

#include "casevault.h"
#include "base/packmerge.h"
#include "base/util.h"

#define PACKS_MAX 4096
#define IDX_MIN   (8 + 1024 + 40)

struct pk {
	char name[64]; /* "pack-<hex>" */
	off_t size;    /* of the .idx */
	off_t bytes;   /* of the .pack */
};

struct copy {
	git_odb_backend *from;
	struct audit_packw *to;
	int r;
};

static int
by_size(const void *a, const void *b)
{
	const struct pk *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

/* Copy one object, refusing one whose content does not match its id. */
static int
copy_one(const git_oid *id, void *arg)
{
	struct copy *c = arg;
	git_object_t type;
	git_oid got;
	size_t len;
	void *data = NULL;

	if (c->from->read(&data, &len, &type, c->from, id) != 0) {
		c->r = CV_EIO;
		return -1;
	}
	c->r = audit_packw_add(c->to, type, data, len, &got);
	git_odb_backend_data_free(c->from, data);
	if (c->r == 0 && !git_oid_equal(&got, id))
		c->r = CV_EIO;
	return c->r == 0 ? 0 : -1;
}

static int
by_off(const void *a, const void *b)
{
	const struct audit_pack_ent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int
audit_pack_entries(const uint8_t *idx, size_t ilen, const uint8_t *pack,
    size_t plen, struct audit_pack_ent **out, size_t *np)
{
	const uint8_t *ids, *crcs, *offs, *large;
	struct audit_pack_ent *e = NULL;
	size_t n, i, nlarge, base, k;
	uint32_t fan[256], prev = 0, v;

	*out = NULL;
	*np = 0;
	if (ilen < IDX_MIN || memcmp(idx, "\377tOc", 4) != 0 ||
	    cv_get_be32(idx + 4) != 2 || plen < 32 ||
	    memcmp(pack, "PACK", 4) != 0 || cv_get_be32(pack + 4) != 2)
		return CV_ECORRUPT;
	for (i = 0; i < 256; i++) {
		fan[i] = cv_get_be32(idx + 8 + 4 * i);
		if (fan[i] < prev)
			return CV_ECORRUPT;
		prev = fan[i];
	}
	n = fan[255];
	/* Every entry takes at least two bytes of the pack. */
	if (n == 0 || n != cv_get_be32(pack + 8) || n > (plen - 32) / 2)
		return CV_ECORRUPT;
	base = 8 + 1024 + n * (GIT_OID_RAWSZ + 8);
	if (ilen < base + 40 || (ilen - base - 40) % 8 != 0)
		return CV_ECORRUPT;
	nlarge = (ilen - base - 40) / 8;
	if (memcmp(idx + ilen - 40, pack + plen - 20, 20) != 0)
		return CV_ECORRUPT;
	ids = idx + 8 + 1024;
	crcs = ids + n * GIT_OID_RAWSZ;
	offs = crcs + 4 * n;
	large = offs + 4 * n;
	if ((e = calloc(n, sizeof(*e))) == NULL)
		return CV_ENOMEM;
	for (i = 0, k = 0; i < n; i++) {
		const uint8_t *id = ids + i * GIT_OID_RAWSZ;
		/* Strictly increasing ids, each in its fan-out bucket. */
		if ((i > 0 &&
		        memcmp(id - GIT_OID_RAWSZ, id, GIT_OID_RAWSZ) >= 0) ||
		    i >= fan[id[0]] || (id[0] > 0 && i < fan[id[0] - 1]))
			goto bad;
		memcpy(e[i].id.id, id, GIT_OID_RAWSZ);
		e[i].crc = cv_get_be32(crcs + 4 * i);
		v = cv_get_be32(offs + 4 * i);
		if (v & UINT32_C(0x80000000)) {
			v &= UINT32_C(0x7fffffff);
			if (v >= nlarge)
				goto bad;
			e[i].off = cv_get_be64(large + 8 * v);
			k++;
		} else
			e[i].off = v;
		if (e[i].off < 12 || e[i].off >= plen - 20)
			goto bad;
	}
	qsort(e, n, sizeof(*e), by_off);
	for (i = 0; i < n; i++) {
		uint64_t end = i + 1 < n ? e[i + 1].off : plen - 20;
		if (end <= e[i].off || (i == 0 && e[i].off != 12))
			goto bad;
		e[i].len = end - e[i].off;
	}
	*out = e;
	*np = n;
	return 0;
bad:
	free(e);
	return CV_ECORRUPT;
}

/*
 * Copy the objects of the pack NAME whole when every entry is undeltified
 * (as audit_packw writes them) and matches the CRC32 its index recorded:
 * no inflating, no deflating. 1 when the pack needs the slow path (deltas,
 * or too large to hold), 0 when copied, or a CV_E* code.
 */
static int
copy_raw(struct audit_packw *w, const char *dir, const char *name)
{
	char path[4096];
	struct audit_pack_ent *e = NULL;
	char *idx = NULL, *pack = NULL;
	size_t ilen, plen, n, i;
	const uint8_t *p;
	int r = CV_EIO, t;

	if (cv_path(path, sizeof(path), "%s/%s.idx", dir, name) != 0 ||
	    cv_read_file_nofollow(path, AUDIT_MERGE_MAX, &idx, &ilen) != 0)
		goto out;
	if (cv_path(path, sizeof(path), "%s/%s.pack", dir, name) != 0)
		goto out;
	if ((r = cv_read_file_nofollow(path, AUDIT_MERGE_MAX, &pack, &plen)) !=
	    0) {
		r = r == CV_ETOOBIG ? 1 : CV_EIO;
		goto out;
	}
	if ((r = audit_pack_entries(
	         (uint8_t *)idx, ilen, (uint8_t *)pack, plen, &e, &n)) != 0) {
		r = r == CV_ENOMEM ? r : CV_EIO;
		goto out;
	}
	for (i = 0; i < n; i++) {
		p = (const uint8_t *)pack + e[i].off;
		t = p[0] >> 4 & 7;
		if (t < GIT_OBJECT_COMMIT || t > GIT_OBJECT_TAG) {
			r = 1; /* a delta: stock git repacked */
			goto out;
		}
		if ((uint32_t)crc32(0, p, (uInt)e[i].len) != e[i].crc) {
			r = CV_EIO;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		p = (const uint8_t *)pack + e[i].off;
		if ((r = audit_packw_add_raw(
		         w, &e[i].id, p, e[i].len, e[i].crc)) != 0)
			goto out;
	}
	r = 0;
out:
	free(e);
	free(idx);
	free(pack);
	return r;
}

static int
list_packs(const char *dir, struct pk *p, size_t *n)
{
	char path[4096];
	struct dirent *de;
	struct stat sb, sp;
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
		/* Only plain files: a link is neither merged nor removed. */
		if (cv_path(path, sizeof(path), "%s/%s", dir, de->d_name) !=
		        0 ||
		    lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		memcpy(path + strlen(path) - 4, ".pack", 6);
		if (lstat(path, &sp) != 0 || !S_ISREG(sp.st_mode))
			continue;
		memcpy(p[*n].name, de->d_name, len - 4);
		p[*n].name[len - 4] = '\0';
		p[*n].size = sb.st_size;
		p[*n].bytes = sp.st_size;
		(*n)++;
	}
	closedir(d);
	return 0;
}

int
audit_pack_compact(struct audit_packw *w, const char *packdir)
{
	char path[4096], name[AUDIT_PACK_NAME_MAX];
	git_odb_backend *one = NULL;
	struct copy c;
	struct pk *p = NULL;
	size_t n, i, k;
	off_t sum, bytes;
	int r = CV_EIO;

	audit_packw_reset(w);
	if ((p = calloc(PACKS_MAX, sizeof(*p))) == NULL)
		return CV_ENOMEM;
	if (list_packs(packdir, p, &n) != 0)
		goto out;
	if (n < AUDIT_PACKS_MIN) {
		r = 0;
		goto out;
	}
	qsort(p, n, sizeof(*p), by_size);
	/* Merge everything up to the last pack that is smaller than twice
	 * the packs below it; what stays is a geometric progression. Packs
	 * past the size bound are left as they are. */
	k = 0;
	sum = p[0].size;
	bytes = p[0].bytes;
	for (i = 1; i < n; i++) {
		bytes += p[i].bytes;
		if (bytes > AUDIT_MERGE_MAX)
			break;
		if (p[i].size < 2 * sum)
			k = i;
		sum += p[i].size;
	}
	if (k == 0) {
		r = 0;
		goto out;
	}
	c.to = w;
	for (i = 0; i <= k; i++) {
		if ((r = copy_raw(w, packdir, p[i].name)) < 0)
			goto out;
		if (r == 0)
			continue;
		r = CV_EIO;
		if (cv_path(path, sizeof(path), "%s/%s.idx", packdir,
		        p[i].name) != 0 ||
		    git_odb_backend_one_pack(&one, path) != 0)
			goto out;
		c.from = one;
		c.r = 0;
		if (one->foreach(one, copy_one, &c) != 0) {
			r = c.r != 0 ? c.r : CV_EIO;
			goto out;
		}
		one->free(one);
		one = NULL;
	}
	if ((r = audit_packw_write(w, packdir, name)) != 0)
		goto out;
	for (i = 0; i <= k; i++) {
		if (strcmp(p[i].name, name) == 0)
			continue; /* the merge produced an identical pack */
		/* The index first: a pack without its index is never read. */
		if (cv_path(path, sizeof(path), "%s/%s.idx", packdir,
		        p[i].name) == 0)
			unlink(path);
		if (cv_path(path, sizeof(path), "%s/%s.pack", packdir,
		        p[i].name) == 0)
			unlink(path);
	}
	(void)cv_fsync_dir(packdir);
	r = 0;
out:
	if (one != NULL)
		one->free(one);
	audit_packw_reset(w);
	free(p);
	return r;
}
