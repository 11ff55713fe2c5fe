/*
 * Layout of the audit repository: fan-out paths, tree objects, the state
 * blob and the commit message. The writer and the verifier both go through
 * here, so an honest log always verifies byte for byte; the verifier then
 * compares the ids it computes with the ids the commit claims.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "audit/layout.h"
#include "base/util.h"

#define DIR_MODE  "40000"
#define BLOB_MODE "100644"
#define ENTRY_MAX (sizeof(BLOB_MODE) + 24 + GIT_OID_RAWSZ)

/*
 * The nine digits of a seq, d1 d2..d9, name its path e/d1/d2d3/d4d5/d6d7/
 * d1..d9.json: the e tree (level 0) holds up to 10 directories, levels 1
 * to 3 and the leaf directories (level 4) up to 100 entries each. UNIT[k]
 * is the seq step between neighbouring entries of a level-k tree, so a
 * level-k tree spans UNIT[k] * 100 events.
 */
static const uint64_t unit[AUDIT_LEVELS] = {100000000, 1000000, 10000, 100, 1};
static const int width[AUDIT_LEVELS - 1] = {1, 2, 2, 2};

/* The index within its level-K tree of the entry leading to SEQ. */
static unsigned
idx(int k, uint64_t seq)
{
	return (unsigned)(seq / unit[k] % AUDIT_FANOUT);
}

void
audit_event_path(uint64_t seq, char buf[static 32])
{
	snprintf(buf, 32, "e/%u/%02u/%02u/%02u/%09" PRIu64 ".json", idx(0, seq),
	    idx(1, seq), idx(2, seq), idx(3, seq), seq);
}

void
audit_hex(const uint8_t *p, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

/* V in decimal, zero-padded to at least W digits, into P; its length. */
static size_t
decimal(char *p, uint64_t v, int w)
{
	char t[20];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n < (size_t)w)
		t[n++] = '0';
	for (i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

/* An entry's name, NUL-terminated, into BUF (ENTRY_NAME_MAX bytes): the
 * event file at the leaf level, else the digits. Its length. Written by
 * hand rather than with snprintf: the verifier spells every entry of
 * every tree on the right edge of every commit. */
#define ENTRY_NAME_MAX 24
static size_t
entry_name(int k, uint64_t base, unsigned i, char buf[ENTRY_NAME_MAX])
{
	size_t n;

	if (k == AUDIT_LEVELS - 1) {
		n = decimal(buf, base + i, 9);
		memcpy(buf + n, ".json", 6);
		return n + 5;
	}
	n = decimal(buf, i, width[k]);
	buf[n] = '\0';
	return n;
}

/*
 * Entries FROM..TO of IDS as the level-K tree whose first possible seq is
 * BASE. Git sorts tree entries by name (directories as if followed by
 * '/'); the names of one level are fixed-width digits of one kind, so
 * index order is git's order.
 */
static int
put_tree(audit_put_fn put, void *ctx, int k, uint64_t base, const git_oid *ids,
    unsigned from, unsigned to, git_oid *out)
{
	const char *mode = k == AUDIT_LEVELS - 1 ? BLOB_MODE " " : DIR_MODE " ";
	uint8_t buf[AUDIT_FANOUT * ENTRY_MAX];
	size_t len = 0, ml = strlen(mode);
	unsigned i;

	for (i = from; i <= to; i++) {
		memcpy(buf + len, mode, ml);
		len += ml;
		len += entry_name(k, base, i, (char *)buf + len) +
		    1; /* the NUL ends the name */
		memcpy(buf + len, ids[i].id, GIT_OID_RAWSZ);
		len += GIT_OID_RAWSZ;
	}
	return put(ctx, GIT_OBJECT_TREE, buf, len, out);
}

/* Seq 0 does not exist, so the very first leaf directory starts at 1. */
static unsigned
first(int k, uint64_t size)
{
	return k == AUDIT_LEVELS - 1 && size < AUDIT_FANOUT ? 1 : 0;
}

/* Write the level-K tree (K >= 1) holding event SIZE into its parent's
 * entry. */
static int
flush(struct audit_layout *l, int k, audit_put_fn put, void *ctx)
{
	uint64_t base = l->size / unit[k - 1] * unit[k - 1];

	return put_tree(put, ctx, k, base, l->ids[k], first(k, l->size),
	    idx(k, l->size), &l->ids[k - 1][idx(k - 1, l->size)]);
}

int
audit_layout_add(struct audit_layout *l, uint64_t seq, const git_oid *id,
    audit_put_fn put, void *ctx)
{
	int k, r;

	if (seq != l->size + 1 || seq > AUDIT_SEQ_MAX)
		return CV_EINVAL;
	/* Each tree that SEQ leaves behind is complete: write it once. */
	for (k = AUDIT_LEVELS - 1; k >= 1 && l->size > 0 &&
	     seq / unit[k - 1] != l->size / unit[k - 1];
	     k--)
		if ((r = flush(l, k, put, ctx)) != 0)
			return r;
	git_oid_cpy(&l->ids[AUDIT_LEVELS - 1][idx(AUDIT_LEVELS - 1, seq)], id);
	l->size = seq;
	return 0;
}

int
audit_layout_finish(struct audit_layout *l, const git_oid *state_id,
    audit_put_fn put, void *ctx, git_oid *root)
{
	uint8_t buf[2 * ENTRY_MAX];
	git_oid eid;
	size_t len;
	int k, r;

	if (l->size == 0)
		return CV_EINVAL;
	for (k = AUDIT_LEVELS - 1; k >= 1; k--)
		if ((r = flush(l, k, put, ctx)) != 0)
			return r;
	if ((r = put_tree(
	         put, ctx, 0, 0, l->ids[0], 0, idx(0, l->size), &eid)) != 0)
		return r;
	len = (size_t)sprintf((char *)buf, DIR_MODE " e") + 1;
	memcpy(buf + len, eid.id, GIT_OID_RAWSZ);
	len += GIT_OID_RAWSZ;
	len +=
	    (size_t)sprintf((char *)buf + len, BLOB_MODE " " AUDIT_STATE) + 1;
	memcpy(buf + len, state_id->id, GIT_OID_RAWSZ);
	len += GIT_OID_RAWSZ;
	return put(ctx, GIT_OBJECT_TREE, buf, len, root);
}

/* Copy the ids of entries FROM..TO of the level-K tree T (first possible
 * seq BASE), which must have exactly those names and no others, each the
 * mode the writer gives it (a blob at the leaf level, else a tree). */
static int
load_level(const git_tree *t, int k, uint64_t base, unsigned from, unsigned to,
    git_oid *ids)
{
	const git_tree_entry *te;
	char name[ENTRY_NAME_MAX];
	unsigned i;

	if (git_tree_entrycount(t) != (size_t)(to - from + 1))
		return CV_ECORRUPT;
	for (i = from; i <= to; i++) {
		entry_name(k, base, i, name);
		te = git_tree_entry_byindex(t, i - from);
		if (strcmp(git_tree_entry_name(te), name) != 0 ||
		    git_tree_entry_filemode(te) !=
		        (k == AUDIT_LEVELS - 1 ? GIT_FILEMODE_BLOB
		                               : GIT_FILEMODE_TREE))
			return CV_ECORRUPT;
		git_oid_cpy(&ids[i], git_tree_entry_id(te));
	}
	return 0;
}

static int
subtree(
    git_repository *repo, const git_tree *t, const char *name, git_tree **out)
{
	const git_tree_entry *te;

	if ((te = git_tree_entry_byname(t, name)) == NULL ||
	    git_tree_entry_type(te) != GIT_OBJECT_TREE)
		return CV_ECORRUPT;
	return git_tree_lookup(out, repo, git_tree_entry_id(te)) == 0
	    ? 0
	    : CV_ECORRUPT;
}

int
audit_layout_load(struct audit_layout *l, git_repository *repo,
    const git_tree *root, uint64_t size)
{
	git_tree *t[AUDIT_LEVELS] = {NULL};
	char name[ENTRY_NAME_MAX];
	int k, r;

	memset(l, 0, sizeof(*l));
	if (size == 0)
		return 0;
	if (size > AUDIT_SEQ_MAX)
		return CV_ECORRUPT;
	if ((r = subtree(repo, root, "e", &t[0])) != 0)
		goto out;
	for (k = 0; k < AUDIT_LEVELS; k++) {
		uint64_t base = k == 0 ? 0 : size / unit[k - 1] * unit[k - 1];
		if ((r = load_level(t[k], k, base, first(k, size), idx(k, size),
		         l->ids[k])) != 0)
			goto out;
		if (k == AUDIT_LEVELS - 1)
			break;
		entry_name(k, 0, idx(k, size), name);
		if ((r = subtree(repo, t[k], name, &t[k + 1])) != 0)
			goto out;
	}
	l->size = size;
	r = 0;
out:
	for (k = 0; k < AUDIT_LEVELS; k++)
		git_tree_free(t[k]);
	return r;
}

/*
 * The state blob, spelled directly as cv_json_canonical spells it (keys
 * sorted, no spaces; hex, digits and the time need no escaping): it is
 * written, and rebuilt by the verifier, once per commit.
 */
char *
audit_state_format(
    const struct cv_merkle *m, uint64_t last_write, uint64_t time_ms)
{
	static const char f0[] = "{\"frontier\":[", f1[] = "],\"last_write\":",
	                  f2[] = ",\"size\":", f3[] = ",\"time\":\"",
	                  f4[] = "\",\"version\":1}";
	char t[25], *s, *p;
	size_t len;
	unsigned i;

	if (m->nfront > CV_MERKLE_DEPTH_MAX)
		return NULL;
	cv_format_time(time_ms, t);
	len = sizeof(f0) + sizeof(f1) + sizeof(f2) + sizeof(f3) + sizeof(f4) +
	    (size_t)m->nfront * (2 * CV_MERKLE_HASHBYTES + 3) + 2 * 20 +
	    strlen(t);
	if ((s = malloc(len)) == NULL)
		return NULL;
	p = s;
	memcpy(p, f0, sizeof(f0) - 1);
	p += sizeof(f0) - 1;
	for (i = 0; i < m->nfront; i++) {
		if (i > 0)
			*p++ = ',';
		*p++ = '"';
		audit_hex(m->front[i], CV_MERKLE_HASHBYTES, p);
		p += 2 * CV_MERKLE_HASHBYTES;
		*p++ = '"';
	}
	memcpy(p, f1, sizeof(f1) - 1);
	p += sizeof(f1) - 1;
	p += decimal(p, last_write, 1);
	memcpy(p, f2, sizeof(f2) - 1);
	p += sizeof(f2) - 1;
	p += decimal(p, m->size, 1);
	memcpy(p, f3, sizeof(f3) - 1);
	p += sizeof(f3) - 1;
	memcpy(p, t, strlen(t));
	p += strlen(t);
	memcpy(p, f4, sizeof(f4));
	return s;
}

/* A decimal number as "%llu" prints it, at most 9 digits; *S moves past
 * it. */
static int
state_number(const char **s, const char *end, uint64_t *v)
{
	const char *q = *s;
	uint64_t x = 0;

	if (q >= end || *q < '0' || *q > '9')
		return -1;
	if (*q == '0') {
		q++;
	} else {
		while (q < end && *q >= '0' && *q <= '9') {
			if (q - *s >= 9)
				return -1;
			x = x * 10 + (uint64_t)(*q++ - '0');
		}
	}
	*s = q;
	*v = x;
	return 0;
}

static int
state_lit(const char **s, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *s) < n || memcmp(*s, lit, n) != 0)
		return -1;
	*s += n;
	return 0;
}

/*
 * A state blob in exactly the spelling audit_state_format gives, read in
 * one pass: 0, or -1 for any other text, which the full parse then
 * judges (a verified trail only ever holds this spelling: each state
 * blob's id is rebuilt from it).
 */
static int
state_quick(const char *buf, size_t len, struct cv_merkle *m,
    uint64_t *last_write, uint64_t *time_ms)
{
	uint8_t front[CV_MERKLE_DEPTH_MAX][CV_MERKLE_HASHBYTES];
	const char *s = buf, *end = buf + len, *h;
	char t[25];
	uint64_t size, lw;
	unsigned n = 0;
	size_t i;

	if (state_lit(&s, end, "{\"frontier\":[") != 0)
		return -1;
	/* "hex","hex",... or nothing */
	while (s < end && *s == '"') {
		if (n == CV_MERKLE_DEPTH_MAX ||
		    (size_t)(end - s) < 2 * CV_MERKLE_HASHBYTES + 2 ||
		    s[2 * CV_MERKLE_HASHBYTES + 1] != '"')
			return -1;
		h = s + 1;
		for (i = 0; i < 2 * CV_MERKLE_HASHBYTES; i++)
			if (!((h[i] >= '0' && h[i] <= '9') ||
			        (h[i] >= 'a' && h[i] <= 'f')))
				return -1;
		if (sodium_hex2bin(front[n], CV_MERKLE_HASHBYTES, h,
		        2 * CV_MERKLE_HASHBYTES, NULL, NULL, NULL) != 0)
			return -1;
		n++;
		s += 2 * CV_MERKLE_HASHBYTES + 2;
		if (s >= end || *s != ',')
			break;
		if (++s >= end || *s != '"')
			return -1;
	}
	if (state_lit(&s, end, "],\"last_write\":") != 0 ||
	    state_number(&s, end, &lw) != 0 ||
	    state_lit(&s, end, ",\"size\":") != 0 ||
	    state_number(&s, end, &size) != 0 ||
	    state_lit(&s, end, ",\"time\":\"") != 0 || end - s < 24)
		return -1;
	memcpy(t, s, 24);
	t[24] = '\0';
	s += 24;
	if (state_lit(&s, end, "\",\"version\":1}") != 0 || s != end)
		return -1;
	if (size > AUDIT_SEQ_MAX || lw > size || strchr(t, '"') != NULL ||
	    cv_parse_time(t, time_ms) != 0 ||
	    cv_merkle_load(m, size, (const uint8_t(*)[32])front, n) != 0)
		return -1;
	*last_write = lw;
	return 0;
}

int
audit_state_parse(const char *buf, size_t len, struct cv_merkle *m,
    uint64_t *last_write, uint64_t *time_ms)
{
	uint8_t front[CV_MERKLE_DEPTH_MAX][CV_MERKLE_HASHBYTES];
	json_t *o = NULL, *fr, *v;
	json_int_t size, lw;
	size_t i, n, hl;
	const char *ts;
	int r = CV_ECORRUPT;

	if (len <= AUDIT_STATE_MAX &&
	    state_quick(buf, len, m, last_write, time_ms) == 0)
		return 0;

	if (cv_json_parse_object(buf, len, AUDIT_STATE_MAX, &o) != 0)
		goto out;
	fr = json_object_get(o, "frontier");
	v = json_object_get(o, "version");
	if (!json_is_array(fr) || !json_is_integer(v) ||
	    json_integer_value(v) != 1 ||
	    !json_is_integer(json_object_get(o, "size")) ||
	    !json_is_integer(json_object_get(o, "last_write")) ||
	    !json_is_string(json_object_get(o, "time")))
		goto out;
	size = json_integer_value(json_object_get(o, "size"));
	lw = json_integer_value(json_object_get(o, "last_write"));
	ts = json_string_value(json_object_get(o, "time"));
	n = json_array_size(fr);
	if (size < 0 || (uint64_t)size > AUDIT_SEQ_MAX || lw < 0 || lw > size ||
	    n > CV_MERKLE_DEPTH_MAX || cv_parse_time(ts, time_ms) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		v = json_array_get(fr, i);
		if (!json_is_string(v) ||
		    sodium_hex2bin(front[i], CV_MERKLE_HASHBYTES,
		        json_string_value(v), json_string_length(v), NULL, &hl,
		        NULL) != 0 ||
		    hl != CV_MERKLE_HASHBYTES)
			goto out;
	}
	if (cv_merkle_load(m, (uint64_t)size, (const uint8_t(*)[32])front,
	        (unsigned)n) != 0)
		goto out;
	*last_write = (uint64_t)lw;
	r = 0;
out:
	json_decref(o);
	return r;
}

int
audit_message_format(char *buf, size_t size, uint64_t first, uint64_t last,
    const uint8_t root[static CV_MERKLE_HASHBYTES])
{
	char hex[2 * CV_MERKLE_HASHBYTES + 1];

	audit_hex(root, CV_MERKLE_HASHBYTES, hex);
	return cv_path(buf, size,
	    "audit: events %" PRIu64 "-%" PRIu64 "\n\n"
	    "Audit-Seq: %" PRIu64 "-%" PRIu64 "\n"
	    "Log-Size: %" PRIu64 "\n"
	    "Log-Root: %s\n",
	    first, last, first, last, last, hex);
}

static int
number(const char **s, uint64_t *v)
{
	uint64_t x = 0;
	int n = 0;

	/* No sign, no leading zero, at most 9 digits: one spelling each. */
	if (**s == '0' || **s < '0' || **s > '9')
		return CV_ECORRUPT;
	while (**s >= '0' && **s <= '9' && n < 10) {
		x = x * 10 + (uint64_t)(**s - '0');
		(*s)++;
		n++;
	}
	if (n > 9)
		return CV_ECORRUPT;
	*v = x;
	return 0;
}

int
audit_message_range(const char *msg, uint64_t *first, uint64_t *last)
{
	static const char pre[] = "audit: events ";
	const char *s = msg;

	if (strncmp(s, pre, sizeof(pre) - 1) != 0)
		return CV_ECORRUPT;
	s += sizeof(pre) - 1;
	if (number(&s, first) != 0 || *s++ != '-' || number(&s, last) != 0 ||
	    *s != '\n' || *first > *last)
		return CV_ECORRUPT;
	return 0;
}
