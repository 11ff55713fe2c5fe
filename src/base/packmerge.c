/*
 * Geometric pack merging for the audit repository. Each commit arrives as
 * its own small pack; without merging, every object lookup and every pack
 * directory refresh would cost time proportional to the number of commits.
 * The merged pack is written by the same direct writer as commits.
 *
 * Each commit's pack holds whole copies of the trees on the path to its
 * new events, a few KiB each, although each differs from the same
 * directory's tree one commit earlier in an entry or two: stored whole,
 * they would be most of the trail. The merge stores such a tree as a delta
 * (OFS_DELTA) against the most similar of the trees it stored last. Trees
 * are similar where they are versions of one directory: entries are
 * sorted by name and new events get ever larger names, so one version is
 * another with entries appended and the last entry's id changed; the
 * measure is the bytes a version shares with another at both ends, and
 * the delta copies those and inserts the rest. Invariants:
 * - Packs are copied oldest first (by modification time), so a tree's
 *   predecessor is usually among the last WINDOW trees.
 * - A delta's base is an entry of the merged pack written before it, and
 *   no chain of deltas is longer than DEPTH_MAX.
 * - An entry that already is a delta (a pack merged before) is copied as
 *   it is, its base found by id; the whole trees of such a pack are copied
 *   whole (other entries may be deltas against them), and may be bases.
 * - Every object is checked against its id or its index's CRC32 before
 *   it is copied; a delta is made only from bytes whose id was checked.
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
#define WINDOW    16 /* trees a new tree is compared with */
/* The longest chain of deltas. A reader rebuilds a tree by applying the
 * deltas of its chain, so a walk over every commit, as verify is, pays for
 * depth: at git's 50 verify ran at half the speed it has at 10, where the
 * trail is only a few percent larger (bench/bench_trail.c). */
#ifndef DEPTH_MAX
#define DEPTH_MAX 10
#endif
#define TREE_MAX      (64 * 1024) /* larger trees are stored whole */
#define OBJ_OFS_DELTA 6

struct pk {
	char name[64];         /* "pack-<hex>" */
	off_t size;            /* of the .idx */
	off_t bytes;           /* of the .pack */
	struct timespec mtime; /* of the .pack */
};

/* A tree recently stored, which later trees may be deltas against. */
struct recent {
	git_oid id;
	uint8_t *data;
	size_t len, cap;
	int depth; /* deltas between it and a whole entry */
};

struct merge {
	struct audit_packw *w;
	struct recent win[WINDOW];
	size_t next, nwin;
	uint8_t *delta, *buf;
	size_t dcap, bcap;
};

struct copy {
	git_odb_backend *from;
	struct merge *m;
	int r;
};

static size_t
put_size(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			p[n] |= 0x80;
		n++;
	} while (v != 0);
	return n;
}

/* A copy instruction: LEN (1..0xffff) bytes from OFF of the base. */
static size_t
put_copy(uint8_t *p, uint64_t off, size_t len)
{
	size_t n = 1;
	int i;

	p[0] = 0x80;
	for (i = 0; i < 4; i++)
		if ((off >> 8 * i) & 0xff) {
			p[n++] = (uint8_t)(off >> 8 * i);
			p[0] |= (uint8_t)(1u << i);
		}
	for (i = 0; i < 2; i++)
		if ((len >> 8 * i) & 0xff) {
			p[n++] = (uint8_t)(len >> 8 * i);
			p[0] |= (uint8_t)(0x10u << i);
		}
	return n;
}

static size_t
put_copies(uint8_t *p, uint64_t off, size_t len)
{
	size_t n = 0, k;

	while (len > 0) {
		k = len < 0xffff ? len : 0xffff;
		n += put_copy(p + n, off, k);
		off += k;
		len -= k;
	}
	return n;
}

/* Room for the delta of a TL-byte tree against a BL-byte one. */
static size_t
delta_bound(size_t bl, size_t tl)
{
	return 2 * 10 + 2 * 7 * (bl / 0xffff + 1) + tl + tl / 127 + 1;
}

/*
 * Git's delta from base B (BL bytes) to T (TL bytes) that share PRE bytes
 * at the start and SUF at the end (PRE + SUF at most either length):
 * copy the prefix, insert the middle, copy the suffix. Its length.
 */
static size_t
make_delta(uint8_t *out, size_t bl, const uint8_t *t, size_t tl, size_t pre,
    size_t suf)
{
	size_t n, mid = tl - pre - suf, k, at = pre;

	n = put_size(out, bl);
	n += put_size(out + n, tl);
	n += put_copies(out + n, 0, pre);
	while (mid > 0) {
		k = mid < 127 ? mid : 127;
		out[n++] = (uint8_t)k;
		memcpy(out + n, t + at, k);
		n += k;
		at += k;
		mid -= k;
	}
	n += put_copies(out + n, bl - suf, suf);
	return n;
}

static int
grow(uint8_t **p, size_t *cap, size_t need)
{
	uint8_t *q;

	if (need <= *cap)
		return 0;
	if ((q = realloc(*p, need)) == NULL)
		return CV_ENOMEM;
	*p = q;
	*cap = need;
	return 0;
}

/* Keep tree ID (LEN bytes of DATA, DEPTH deltas deep) as a base for the
 * trees after it. */
static int
remember(struct merge *m, const git_oid *id, const uint8_t *data, size_t len,
    int depth)
{
	struct recent *r = &m->win[m->next];
	int rc;

	if ((rc = grow(&r->data, &r->cap, len ? len : 1)) != 0)
		return rc;
	memcpy(r->data, data, len);
	r->len = len;
	r->depth = depth;
	git_oid_cpy(&r->id, id);
	m->next = (m->next + 1) % WINDOW;
	if (m->nwin < WINDOW)
		m->nwin++;
	return 0;
}

/*
 * Store tree ID (LEN bytes of DATA, already checked against ID) as a delta
 * against the recent tree it shares most bytes with at both ends, when the
 * delta is less than half its size; whole otherwise. Either way it becomes
 * a base for the trees after it.
 */
static int
add_tree(struct merge *m, const git_oid *id, const uint8_t *data, size_t len)
{
	const struct recent *b = NULL, *r;
	size_t i, mn, pre, suf, best = 0, bpre = 0, bsuf = 0, dl;
	git_oid got;
	int rc;

	if (audit_packw_has(m->w, id))
		return 0;
	if (len > TREE_MAX)
		return audit_packw_add(m->w, GIT_OBJECT_TREE, data, len, &got);
	for (i = 0; i < m->nwin; i++) {
		r = &m->win[i];
		if (r->depth >= DEPTH_MAX)
			continue;
		mn = r->len < len ? r->len : len;
		for (pre = 0; pre < mn && r->data[pre] == data[pre]; pre++)
			;
		for (suf = 0; suf < mn - pre &&
		     r->data[r->len - 1 - suf] == data[len - 1 - suf];
		     suf++)
			;
		if (pre + suf > best) {
			best = pre + suf;
			bpre = pre;
			bsuf = suf;
			b = r;
		}
	}
	if (b != NULL && 2 * (len - best + len / 127 + 40) < len) {
		if ((rc = grow(
		         &m->delta, &m->dcap, delta_bound(b->len, len))) != 0)
			return rc;
		dl = make_delta(m->delta, b->len, data, len, bpre, bsuf);
		if ((rc = audit_packw_add_delta(
		         m->w, id, &b->id, m->delta, dl)) != 0)
			return rc;
		return remember(m, id, data, len, b->depth + 1);
	}
	if ((rc = audit_packw_add(m->w, GIT_OBJECT_TREE, data, len, &got)) != 0)
		return rc;
	if (!git_oid_equal(&got, id))
		return CV_EIO;
	return remember(m, id, data, len, 0);
}

static void
merge_free(struct merge *m)
{
	size_t i;

	for (i = 0; i < WINDOW; i++)
		free(m->win[i].data);
	free(m->delta);
	free(m->buf);
}

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
	if (type == GIT_OBJECT_TREE) {
		/* Checked here: add_tree trusts its bytes to be ID. */
		if (git_odb_hash(&got, data, len, type) != 0 ||
		    !git_oid_equal(&got, id))
			c->r = CV_EIO;
		else
			c->r = add_tree(c->m, id, data, len);
	} else {
		c->r = audit_packw_add(c->m->w, type, data, len, &got);
		if (c->r == 0 && !git_oid_equal(&got, id))
			c->r = CV_EIO;
	}
	git_odb_backend_data_free(c->from, data);
	return c->r == 0 ? 0 : -1;
}

static int
by_mtime(const void *a, const void *b)
{
	const struct pk *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return x->mtime.tv_nsec < y->mtime.tv_nsec
	    ? -1
	    : x->mtime.tv_nsec > y->mtime.tv_nsec;
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
 * The header of the pack entry at P (LEN bytes): its type, its size (of
 * the object, or of the delta) and, for OFS_DELTA, *REL, the distance
 * back to its base's entry; *HL is the header's length, the zlib stream
 * follows. 0 or CV_EIO.
 */
static int
entry_head(const uint8_t *p, size_t len, int *type, uint64_t *size,
    uint64_t *rel, size_t *hl)
{
	unsigned shift = 4;
	size_t n = 1;
	uint8_t c;

	if (len < 2)
		return CV_EIO;
	c = p[0];
	*type = c >> 4 & 7;
	*size = c & 0x0f;
	while (c & 0x80) {
		if (n >= len || shift > 57)
			return CV_EIO;
		c = p[n++];
		*size |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	}
	*rel = 0;
	if (*type == OBJ_OFS_DELTA) {
		if (n >= len)
			return CV_EIO;
		c = p[n++];
		*rel = c & 0x7f;
		while (c & 0x80) {
			if (n >= len || *rel >= UINT64_C(1) << 56)
				return CV_EIO;
			c = p[n++];
			*rel = (*rel + 1) << 7 | (c & 0x7f);
		}
		if (*rel == 0)
			return CV_EIO;
	}
	if (n >= len)
		return CV_EIO;
	*hl = n;
	return 0;
}

/* Inflate the SIZE-byte object of TYPE in the zlib stream Z (ZLEN bytes)
 * into m->buf and check it against ID. 0, CV_ENOMEM or CV_EIO. */
static int
inflate_obj(struct merge *m, const uint8_t *z, size_t zlen, int type,
    size_t size, const git_oid *id)
{
	z_stream s;
	git_oid got;
	int rc, ok;

	if (grow(&m->buf, &m->bcap, size) != 0)
		return CV_ENOMEM;
	memset(&s, 0, sizeof(s));
	if (inflateInit(&s) != Z_OK)
		return CV_ENOMEM;
	s.next_in = (Bytef *)(uintptr_t)z;
	s.avail_in = (uInt)zlen;
	s.next_out = m->buf;
	s.avail_out = (uInt)size;
	rc = inflate(&s, Z_FINISH);
	ok = rc == Z_STREAM_END && s.total_out == size;
	inflateEnd(&s);
	if (!ok || git_odb_hash(&got, m->buf, size, (git_object_t)type) != 0 ||
	    !git_oid_equal(&got, id))
		return CV_EIO;
	return 0;
}

/* The entry of E (N, sorted by offset) at offset OFF, or NULL. */
static const struct audit_pack_ent *
at_offset(const struct audit_pack_ent *e, size_t n, uint64_t off)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (e[mid].off == off)
			return &e[mid];
		if (e[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Copy the objects of the pack NAME from their stored bytes when every
 * entry is whole or an OFS_DELTA (as audit_packw and a merge write them)
 * and matches the CRC32 its index recorded. Other objects are copied
 * without inflating or deflating, except trees, inflated, checked against
 * their ids and, in a pack without deltas, stored through add_tree, and
 * small blobs a commit stored in zlib's stored blocks (events), checked
 * and deflated. 1
 * when the pack needs the slow path (REF_DELTA, or too large to hold), 0
 * when copied, or a CV_E* code.
 */
static int
copy_raw(struct merge *m, const char *dir, const char *name)
{
	char path[4096];
	struct audit_pack_ent *e = NULL;
	const struct audit_pack_ent *base;
	char *idx = NULL, *pack = NULL;
	size_t ilen, plen, n, i, hl;
	uint64_t size, rel;
	const uint8_t *p;
	git_oid got;
	int r = CV_EIO, t, deltas = 0;

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
		if (t == OBJ_OFS_DELTA)
			deltas = 1;
		else if (t < GIT_OBJECT_COMMIT || t > GIT_OBJECT_TAG) {
			r = 1; /* REF_DELTA: stock git repacked */
			goto out;
		}
		if ((uint32_t)crc32(0, p, (uInt)e[i].len) != e[i].crc) {
			r = CV_EIO;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		p = (const uint8_t *)pack + e[i].off;
		if ((r = entry_head(p, e[i].len, &t, &size, &rel, &hl)) != 0)
			goto out;
		if (t == OBJ_OFS_DELTA) {
			/* Its base comes before it, in this pack. */
			r = CV_EIO;
			if (rel > e[i].off ||
			    (base = at_offset(e, i, e[i].off - rel)) == NULL)
				goto out;
			r = audit_packw_add_delta_raw(m->w, &e[i].id, &base->id,
			    size, p + hl, e[i].len - hl);
		} else if (t == GIT_OBJECT_TREE && size > 0 &&
		    size <= TREE_MAX) {
			if ((r = inflate_obj(m, p + hl, e[i].len - hl, t,
			         (size_t)size, &e[i].id)) != 0)
				goto out;
			if (!deltas)
				r = add_tree(m, &e[i].id, m->buf, (size_t)size);
			else if (!audit_packw_has(m->w, &e[i].id) &&
			    (r = audit_packw_add_raw(
			         m->w, &e[i].id, p, e[i].len, e[i].crc)) == 0)
				r = remember(
				    m, &e[i].id, m->buf, (size_t)size, 0);
		} else if (t == GIT_OBJECT_BLOB && size > 0 &&
		    size < AUDIT_STORE_BELOW && e[i].len - hl >= size) {
			/* An event a commit stored without deflating. */
			if ((r = inflate_obj(m, p + hl, e[i].len - hl, t,
			         (size_t)size, &e[i].id)) != 0 ||
			    (r = audit_packw_add_deflated(m->w, GIT_OBJECT_BLOB,
			         m->buf, (size_t)size, &got)) != 0)
				goto out;
			if (!git_oid_equal(&got, &e[i].id))
				r = CV_EIO;
		} else
			r = audit_packw_add_raw(
			    m->w, &e[i].id, p, e[i].len, e[i].crc);
		if (r != 0)
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
		p[*n].mtime = sp.st_mtim;
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
	struct merge m;
	struct copy c;
	struct pk *p = NULL;
	size_t n, i, k;
	off_t sum, bytes;
	int r = CV_EIO;

	memset(&m, 0, sizeof(m));
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
	/* Oldest first, so that a tree follows its predecessors. */
	qsort(p, k + 1, sizeof(*p), by_mtime);
	m.w = w;
	c.m = &m;
	for (i = 0; i <= k; i++) {
		if ((r = copy_raw(&m, packdir, p[i].name)) < 0)
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
	merge_free(&m);
	free(p);
	return r;
}
