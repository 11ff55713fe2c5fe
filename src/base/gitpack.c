/*
 * Direct pack writer. Invariants:
 * - The arena holds exactly the pack's entries, in the order added, each a
 *   type/size header and one zlib stream; the pack is "PACK", version 2,
 *   the entry count, the arena and the SHA-1 of all that.
 * - No object id appears twice (git's index format forbids it).
 * - A delta entry (OFS_DELTA) comes after its base's entry, as git
 *   requires, and the base is an object of the same pack.
 * - Nothing becomes visible under a pack-* name before both files are
 *   complete and durable; the index, which is what readers look for, is
 *   renamed last.
 */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "casevault.h"
#include "base/sha1.h"
#include "base/gitpack.h"
#include "base/util.h"

#define PACK_LIMIT  UINT64_C(0xffffffff) /* keeps offsets and sizes simple */
#define IDX_MAGIC   "\377tOc"
#define LARGE_FLAG  UINT32_C(0x80000000)
#define ENTRY_HDMAX 10 /* type/size header of a 64-bit size */

struct ent {
	git_oid id;
	uint32_t crc;
	uint64_t off; /* from the start of the pack file */
};

struct audit_packw {
	int level;
	z_stream z;  /* LEVEL */
	z_stream z0; /* level 0, below AUDIT_STORE_BELOW bytes */
	int zinit;
	uint8_t *arena;
	size_t alen, acap;
	struct ent *ents;
	size_t n, ecap;
	uint32_t *set;      /* open addressing: index + 1 into ents, 0 free */
	audit_take_fn take; /* spare files, or NULL */
	void *take_ctx;
	size_t setcap; /* a power of two, more than twice n */
};

int
audit_packw_new(int level, struct audit_packw **out)
{
	struct audit_packw *w;

	*out = NULL;
	if (level < 0 || level > 9)
		return CV_EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return CV_ENOMEM;
	w->level = level;
	if (deflateInit(&w->z, level) != Z_OK) {
		free(w);
		return CV_ENOMEM;
	}
	if (deflateInit(&w->z0, 0) != Z_OK) {
		deflateEnd(&w->z);
		free(w);
		return CV_ENOMEM;
	}
	w->zinit = 1;
	*out = w;
	return 0;
}

void
audit_packw_free(struct audit_packw *w)
{
	if (w == NULL)
		return;
	if (w->zinit) {
		deflateEnd(&w->z);
		deflateEnd(&w->z0);
	}
	free(w->arena);
	free(w->ents);
	free(w->set);
	free(w);
}

void
audit_packw_reset(struct audit_packw *w)
{
	w->alen = 0;
	w->n = 0;
	if (w->set != NULL)
		memset(w->set, 0, w->setcap * sizeof(*w->set));
}

size_t
audit_packw_count(const struct audit_packw *w)
{
	return w->n;
}

static size_t
slot(const git_oid *id, size_t cap)
{
	/* Object ids are uniformly distributed: any 4 bytes hash well. */
	return (size_t)cv_get_be32(id->id) & (cap - 1);
}

/* The entry holding ID, or the free slot where it would go. */
static uint32_t *
find(struct audit_packw *w, const git_oid *id)
{
	size_t i = slot(id, w->setcap);

	while (w->set[i] != 0 && !git_oid_equal(&w->ents[w->set[i] - 1].id, id))
		i = (i + 1) & (w->setcap - 1);
	return &w->set[i];
}

static int
grow_set(struct audit_packw *w)
{
	size_t cap = w->setcap ? w->setcap * 2 : 1024, i, j;
	uint32_t *s;

	if ((s = calloc(cap, sizeof(*s))) == NULL)
		return CV_ENOMEM;
	for (i = 0; i < w->n; i++) {
		j = slot(&w->ents[i].id, cap);
		while (s[j] != 0)
			j = (j + 1) & (cap - 1);
		s[j] = (uint32_t)i + 1;
	}
	free(w->set);
	w->set = s;
	w->setcap = cap;
	return 0;
}

int
audit_packw_has(struct audit_packw *w, const git_oid *id)
{
	return w->setcap != 0 && *find(w, id) != 0;
}

static int
reserve(struct audit_packw *w, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (w->alen + more <= w->acap)
		return 0;
	if (w->alen + more > PACK_LIMIT)
		return CV_ETOOBIG;
	cap = w->acap ? w->acap : 65536;
	while (cap < w->alen + more)
		cap *= 2;
	if ((p = realloc(w->arena, cap)) == NULL)
		return CV_ENOMEM;
	w->arena = p;
	w->acap = cap;
	return 0;
}

/* Add one object, deflated by Z. */
static int
add_with(struct audit_packw *w, z_stream *z, git_object_t type, const void *buf,
    size_t len, git_oid *id)
{
	struct ent *e;
	uint32_t *s;
	uint8_t *h;
	size_t hl, bound;
	uint64_t sz = len;
	int r;

	if (type != GIT_OBJECT_COMMIT && type != GIT_OBJECT_TREE &&
	    type != GIT_OBJECT_BLOB && type != GIT_OBJECT_TAG)
		return CV_EINVAL;
	if (len > PACK_LIMIT)
		return CV_ETOOBIG;
	if (git_odb_hash(id, buf, len, type) != 0)
		return CV_ENOMEM;
	if (2 * (w->n + 1) > w->setcap && (r = grow_set(w)) != 0)
		return r;
	if (*(s = find(w, id)) != 0)
		return 0;
	if (w->n == w->ecap) {
		size_t cap = w->ecap ? w->ecap * 2 : 256;
		if ((e = realloc(w->ents, cap * sizeof(*e))) == NULL)
			return CV_ENOMEM;
		w->ents = e;
		w->ecap = cap;
	}
	bound = deflateBound(z, (uLong)len);
	if ((r = reserve(w, ENTRY_HDMAX + bound)) != 0)
		return r;
	/* Type in bits 4-6 of the first byte, the size little-endian in 4
	 * bits and then 7-bit groups, the high bit meaning "more". */
	h = w->arena + w->alen;
	h[0] = (uint8_t)((unsigned)type << 4 | (sz & 0x0f));
	sz >>= 4;
	for (hl = 1; sz != 0; hl++) {
		h[hl - 1] |= 0x80;
		h[hl] = (uint8_t)(sz & 0x7f);
		sz >>= 7;
	}
	if (deflateReset(z) != Z_OK)
		return CV_ENOMEM;
	z->next_in = (Bytef *)(uintptr_t)buf;
	z->avail_in = (uInt)len;
	z->next_out = h + hl;
	z->avail_out = (uInt)bound;
	if (deflate(z, Z_FINISH) != Z_STREAM_END)
		return CV_ENOMEM;
	hl += bound - z->avail_out;
	e = &w->ents[w->n];
	git_oid_cpy(&e->id, id);
	e->off = 12 + (uint64_t)w->alen;
	e->crc = (uint32_t)crc32(0, h, (uInt)hl);
	w->alen += hl;
	*s = (uint32_t)++w->n;
	return 0;
}

int
audit_packw_add(struct audit_packw *w, git_object_t type, const void *buf,
    size_t len, git_oid *id)
{
	return add_with(
	    w, len < AUDIT_STORE_BELOW ? &w->z0 : &w->z, type, buf, len, id);
}

int
audit_packw_add_deflated(struct audit_packw *w, git_object_t type,
    const void *buf, size_t len, git_oid *id)
{
	return add_with(w, &w->z, type, buf, len, id);
}

int
audit_packw_add_raw(struct audit_packw *w, const git_oid *id,
    const uint8_t *entry, size_t len, uint32_t crc)
{
	struct ent *e;
	uint32_t *s;
	int r;

	if (len == 0 || len > PACK_LIMIT)
		return CV_EINVAL;
	if (2 * (w->n + 1) > w->setcap && (r = grow_set(w)) != 0)
		return r;
	if (*(s = find(w, id)) != 0)
		return 0;
	if (w->n == w->ecap) {
		size_t cap = w->ecap ? w->ecap * 2 : 256;
		if ((e = realloc(w->ents, cap * sizeof(*e))) == NULL)
			return CV_ENOMEM;
		w->ents = e;
		w->ecap = cap;
	}
	if ((r = reserve(w, len)) != 0)
		return r;
	memcpy(w->arena + w->alen, entry, len);
	e = &w->ents[w->n];
	git_oid_cpy(&e->id, id);
	e->off = 12 + (uint64_t)w->alen;
	e->crc = crc;
	w->alen += len;
	*s = (uint32_t)++w->n;
	return 0;
}

/*
 * The common start of an OFS_DELTA entry: with BASE in the pack, an entry
 * slot for ID and room for MORE bytes after its header, which is written
 * at the arena's end into *HL bytes: type 6 and the delta's size DSIZE,
 * then the distance back to the base's entry in git's offset encoding
 * (7-bit groups, most significant first, each continuation adding one).
 * 1 when ID is already in the pack (nothing to do), 0 ready, or CV_E*.
 */
static int
delta_begin(struct audit_packw *w, const git_oid *id, const git_oid *base,
    uint64_t dsize, size_t more, uint32_t **sp, size_t *hl)
{
	uint8_t *h, ofs[10];
	uint64_t rel;
	uint32_t *b;
	struct ent *e;
	size_t n, k;
	int r;

	if (dsize == 0 || dsize > PACK_LIMIT || more > PACK_LIMIT)
		return CV_EINVAL;
	if (2 * (w->n + 1) > w->setcap && (r = grow_set(w)) != 0)
		return r;
	if (*(*sp = find(w, id)) != 0)
		return 1;
	if (*(b = find(w, base)) == 0)
		return CV_EINVAL; /* OFS_DELTA needs its base earlier here */
	if (w->n == w->ecap) {
		size_t cap = w->ecap ? w->ecap * 2 : 256;
		if ((e = realloc(w->ents, cap * sizeof(*e))) == NULL)
			return CV_ENOMEM;
		w->ents = e;
		w->ecap = cap;
	}
	if ((r = reserve(w, 2 * ENTRY_HDMAX + more)) != 0)
		return r;
	/* The slots point into the set, which neither the entries' realloc
	 * nor reserve() moves. Every entry so far lies before this one. */
	rel = 12 + (uint64_t)w->alen - w->ents[*b - 1].off;
	h = w->arena + w->alen;
	h[0] = (uint8_t)(6u << 4 | (dsize & 0x0f));
	dsize >>= 4;
	for (n = 1; dsize != 0; n++) {
		h[n - 1] |= 0x80;
		h[n] = (uint8_t)(dsize & 0x7f);
		dsize >>= 7;
	}
	k = sizeof(ofs) - 1;
	ofs[k] = (uint8_t)(rel & 0x7f);
	while (rel >>= 7)
		ofs[--k] = (uint8_t)(0x80 | (--rel & 0x7f));
	memcpy(h + n, ofs + k, sizeof(ofs) - k);
	*hl = n + sizeof(ofs) - k;
	return 0;
}

/* Record the entry of ID that delta_begin started, HL bytes long. */
static void
delta_end(struct audit_packw *w, const git_oid *id, uint32_t *s, size_t hl)
{
	struct ent *e = &w->ents[w->n];

	git_oid_cpy(&e->id, id);
	e->off = 12 + (uint64_t)w->alen;
	e->crc = (uint32_t)crc32(0, w->arena + w->alen, (uInt)hl);
	w->alen += hl;
	*s = (uint32_t)++w->n;
}

int
audit_packw_add_delta(struct audit_packw *w, const git_oid *id,
    const git_oid *base, const void *delta, size_t dlen)
{
	z_stream *z;
	uint32_t *s;
	size_t hl, bound;
	int r;

	z = dlen < AUDIT_STORE_BELOW ? &w->z0 : &w->z;
	bound = deflateBound(z, (uLong)dlen);
	if ((r = delta_begin(w, id, base, dlen, bound, &s, &hl)) != 0)
		return r < 0 ? r : 0;
	if (deflateReset(z) != Z_OK)
		return CV_ENOMEM;
	z->next_in = (Bytef *)(uintptr_t)delta;
	z->avail_in = (uInt)dlen;
	z->next_out = w->arena + w->alen + hl;
	z->avail_out = (uInt)bound;
	if (deflate(z, Z_FINISH) != Z_STREAM_END)
		return CV_ENOMEM;
	delta_end(w, id, s, hl + bound - z->avail_out);
	return 0;
}

int
audit_packw_add_delta_raw(struct audit_packw *w, const git_oid *id,
    const git_oid *base, uint64_t dsize, const uint8_t *zdata, size_t zlen)
{
	uint32_t *s;
	size_t hl;
	int r;

	if (zlen == 0)
		return CV_EINVAL;
	if ((r = delta_begin(w, id, base, dsize, zlen, &s, &hl)) != 0)
		return r < 0 ? r : 0;
	memcpy(w->arena + w->alen + hl, zdata, zlen);
	delta_end(w, id, s, hl + zlen);
	return 0;
}

static int
by_id(const void *a, const void *b)
{
	return git_oid_cmp(
	    &((const struct ent *)a)->id, &((const struct ent *)b)->id);
}

static void
pack_head(const struct audit_packw *w, uint8_t h[12])
{
	memcpy(h, "PACK", 4);
	cv_put_be32(h + 4, 2);
	cv_put_be32(h + 8, (uint32_t)w->n);
}

static void
pack_sum(const struct audit_packw *w, uint8_t sum[static 20])
{
	struct audit_sha1 s;
	uint8_t h[12];

	pack_head(w, h);
	audit_sha1_init(&s);
	audit_sha1_update(&s, h, sizeof(h));
	audit_sha1_update(&s, w->arena, w->alen);
	audit_sha1_final(&s, sum);
}

/* The version 2 index: fan-out, sorted ids, CRC32s, 31-bit offsets (or a
 * flagged index into the 64-bit table), the pack's and its own SHA-1. */
static int
make_idx(const struct audit_packw *w, const uint8_t sum[static 20],
    uint8_t **out, size_t *olen)
{
	struct ent *s;
	struct audit_sha1 h;
	size_t i, nlarge = 0, len;
	uint8_t *p, *ids, *crcs, *offs, *large;
	uint32_t fan[256];

	*out = NULL;
	if ((s = malloc(w->n * sizeof(*s))) == NULL)
		return CV_ENOMEM;
	memcpy(s, w->ents, w->n * sizeof(*s));
	qsort(s, w->n, sizeof(*s), by_id);
	for (i = 0; i < w->n; i++)
		if (s[i].off >= LARGE_FLAG)
			nlarge++;
	len = 8 + sizeof(fan) + w->n * (GIT_OID_RAWSZ + 8) + nlarge * 8 + 40;
	if ((p = malloc(len)) == NULL) {
		free(s);
		return CV_ENOMEM;
	}
	memset(fan, 0, sizeof(fan));
	for (i = 0; i < w->n; i++)
		fan[s[i].id.id[0]]++;
	for (i = 1; i < 256; i++)
		fan[i] += fan[i - 1];
	memcpy(p, IDX_MAGIC, 4);
	cv_put_be32(p + 4, 2);
	for (i = 0; i < 256; i++)
		cv_put_be32(p + 8 + 4 * i, fan[i]);
	ids = p + 8 + sizeof(fan);
	crcs = ids + w->n * GIT_OID_RAWSZ;
	offs = crcs + w->n * 4;
	large = offs + w->n * 4;
	nlarge = 0;
	for (i = 0; i < w->n; i++) {
		memcpy(ids + i * GIT_OID_RAWSZ, s[i].id.id, GIT_OID_RAWSZ);
		cv_put_be32(crcs + 4 * i, s[i].crc);
		if (s[i].off < LARGE_FLAG)
			cv_put_be32(offs + 4 * i, (uint32_t)s[i].off);
		else {
			cv_put_be32(
			    offs + 4 * i, LARGE_FLAG | (uint32_t)nlarge);
			cv_put_be64(large + 8 * nlarge++, s[i].off);
		}
	}
	memcpy(large + 8 * nlarge, sum, 20);
	audit_sha1_init(&h);
	audit_sha1_update(&h, p, len - 20);
	audit_sha1_final(&h, p + len - 20);
	free(s);
	*out = p;
	*olen = len;
	return 0;
}

int
audit_packw_build(struct audit_packw *w, uint8_t **pack, size_t *plen,
    uint8_t **idx, size_t *ilen, uint8_t checksum[static 20])
{
	uint8_t *p;
	int r;

	*pack = *idx = NULL;
	if (w->n == 0)
		return CV_EINVAL;
	pack_sum(w, checksum);
	if ((p = malloc(12 + w->alen + 20)) == NULL)
		return CV_ENOMEM;
	pack_head(w, p);
	memcpy(p + 12, w->arena, w->alen);
	memcpy(p + 12 + w->alen, checksum, 20);
	if ((r = make_idx(w, checksum, idx, ilen)) != 0) {
		free(p);
		return r;
	}
	*pack = p;
	*plen = 12 + w->alen + 20;
	return 0;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return CV_EIO;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
audit_spare_make(const char *packdir, int *fd, char *path, size_t size)
{
	int r;

	if ((r = cv_path(
	         path, size, "%s/" AUDIT_TMP_PREFIX "XXXXXX", packdir)) != 0)
		return r;
	if ((*fd = mkstemp(path)) == -1) {
		path[0] = '\0';
		return CV_EIO;
	}
	return 0;
}

void
audit_packw_spares(struct audit_packw *w, audit_take_fn take, void *ctx)
{
	w->take = take;
	w->take_ctx = ctx;
}

/* A temporary file in DIR (a spare if there is one) holding the LEN bytes
 * of the pieces, read-only like git's own pack files and, like every file
 * of a vault, for its owner only; left open in *FDP for make_durable. */
static int
write_tmp(struct audit_packw *w, const char *dir, const uint8_t *const *pieces,
    const size_t *lens, int npieces, char *path, size_t pathsize, int *fdp)
{
	int fd, i, r;

	if ((w->take == NULL ||
	        w->take(w->take_ctx, &fd, path, pathsize) != 0) &&
	    (r = audit_spare_make(dir, &fd, path, pathsize)) != 0)
		return r;
	*fdp = fd;
	r = 0;
	for (i = 0; i < npieces && r == 0; i++)
		r = write_all(fd, pieces[i], lens[i]);
	if (r == 0 && fchmod(fd, 0400) != 0)
		r = CV_EIO;
	return r;
}

/*
 * Make the pack and index files (contents, sizes, modes) durable with one
 * flush of the disk's cache: syncfs writes back every dirty inode and
 * block of the filesystem and then flushes once, where fsync of each file
 * flushes once per file. Since Linux 5.8 syncfs reports any writeback
 * error on the filesystem since FD was opened, so an error refuses the
 * commit even if it was not ours. Where there is no syncfs, each file is
 * fsynced.
 */
static int
make_durable(int fp, int fi)
{
	if (syncfs(fp) == 0)
		return 0;
	if (errno != ENOSYS)
		return CV_EIO;
	return fsync(fp) == 0 && fsync(fi) == 0 ? 0 : CV_EIO;
}

int
audit_packw_write(struct audit_packw *w, const char *packdir, char *name)
{
	char tp[4096], ti[4096], fp[4096], fi[4096];
	char hex[2 * AUDIT_SHA1_BYTES + 1];
	uint8_t head[12], sum[20], *idx = NULL;
	const uint8_t *pieces[3];
	size_t lens[3], ilen = 0, i;
	int r, pfd = -1, ifd = -1;

	tp[0] = ti[0] = '\0';
	if (w->n == 0)
		return CV_EINVAL;
	pack_head(w, head);
	pack_sum(w, sum);
	if ((r = make_idx(w, sum, &idx, &ilen)) != 0)
		goto out;
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	pieces[0] = head;
	lens[0] = sizeof(head);
	pieces[1] = w->arena;
	lens[1] = w->alen;
	pieces[2] = sum;
	lens[2] = sizeof(sum);
	if ((r = write_tmp(
	         w, packdir, pieces, lens, 3, tp, sizeof(tp), &pfd)) != 0)
		goto out;
	pieces[0] = idx;
	lens[0] = ilen;
	if ((r = write_tmp(
	         w, packdir, pieces, lens, 1, ti, sizeof(ti), &ifd)) != 0 ||
	    (r = make_durable(pfd, ifd)) != 0)
		goto out;
	r = close(pfd) | close(ifd);
	pfd = ifd = -1;
	if (r != 0) {
		r = CV_EIO;
		goto out;
	}
	if ((r = cv_path(fp, sizeof(fp), "%s/pack-%s.pack", packdir, hex)) !=
	        0 ||
	    (r = cv_path(fi, sizeof(fi), "%s/pack-%s.idx", packdir, hex)) != 0)
		goto out;
	r = CV_EIO;
	if (rename(tp, fp) != 0)
		goto out;
	tp[0] = '\0';
	if (rename(ti, fi) != 0)
		goto out; /* an orphan .pack without index is never read */
	ti[0] = '\0';
	if (cv_fsync_dir(packdir) != 0)
		goto out;
	if (name != NULL)
		snprintf(name, AUDIT_PACK_NAME_MAX, "pack-%s", hex);
	r = 0;
out:
	if (pfd != -1)
		close(pfd);
	if (ifd != -1)
		close(ifd);
	if (tp[0] != '\0')
		unlink(tp);
	if (ti[0] != '\0')
		unlink(ti);
	free(idx);
	return r;
}
