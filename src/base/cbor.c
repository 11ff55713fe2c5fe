/* The CBOR encoding of a record's data; see base/cbor.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <sodium.h>

#include "casevault.h"
#include "base/cbor.h"

/* Writing. */

struct enc {
	uint8_t *b;
	size_t len;
	size_t cap;
	size_t items;
};

/* Room for N more bytes. The buffer holds plaintext: a grown copy wipes
 * the old one rather than leaving it to realloc. */
static int
reserve(struct enc *e, size_t n)
{
	uint8_t *nb;
	size_t cap;

	if (n > CV_RECENC_MAX - e->len)
		return CV_ETOOBIG;
	if (n <= e->cap - e->len)
		return 0;
	for (cap = e->cap; cap - e->len < n; cap *= 2)
		;
	if (cap > CV_RECENC_MAX)
		cap = CV_RECENC_MAX;
	if ((nb = malloc(cap)) == NULL)
		return CV_ENOMEM;
	memcpy(nb, e->b, e->len);
	sodium_memzero(e->b, e->cap);
	free(e->b);
	e->b = nb;
	e->cap = cap;
	return 0;
}

/* A head is at most 9 bytes; libcbor picks the shortest form. */
#define HEAD_MAX 9

static int
put_text(struct enc *e, const char *s, size_t n)
{
	int r;

	if (memchr(s, '\0', n) != NULL)
		return CV_EINVAL;
	if ((r = reserve(e, HEAD_MAX + n)) != 0)
		return r;
	e->len += cbor_encode_string_start(n, e->b + e->len, e->cap - e->len);
	memcpy(e->b + e->len, s, n);
	e->len += n;
	return 0;
}

struct member {
	const char *key;
	size_t len;
	json_t *value;
};

/* The order of canonical JSON (jansson's JSON_SORT_KEYS): bytewise, a
 * prefix first. */
static int
keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	return keycmp(
	    (const uint8_t *)x->key, x->len, (const uint8_t *)y->key, y->len);
}

static int encode_value(struct enc *e, const json_t *j, int depth);

static int
encode_object(struct enc *e, const json_t *j, int depth)
{
	struct member *m = NULL;
	size_t i, n = json_object_size(j);
	void *it;
	int r;

	if ((r = reserve(e, HEAD_MAX)) != 0)
		return r;
	e->len += cbor_encode_map_start(n, e->b + e->len, e->cap - e->len);
	if (n == 0)
		return 0;
	if ((m = calloc(n, sizeof(*m))) == NULL)
		return CV_ENOMEM;
	i = 0;
	for (it = json_object_iter((json_t *)j); it != NULL && i < n;
	     it = json_object_iter_next((json_t *)j, it), i++) {
		m[i].key = json_object_iter_key(it);
		m[i].len = json_object_iter_key_len(it);
		m[i].value = json_object_iter_value(it);
	}
	qsort(m, i, sizeof(*m), member_cmp);
	for (n = i, i = 0; i < n; i++) {
		if (++e->items > CV_RECENC_ITEMS_MAX) {
			r = CV_ETOOBIG;
			goto out;
		}
		if ((r = put_text(e, m[i].key, m[i].len)) != 0 ||
		    (r = encode_value(e, m[i].value, depth + 1)) != 0)
			goto out;
	}
	r = 0;
out:
	free(m);
	return r;
}

/* DEPTH is the nesting level J would have as a container, the top one 1. */
static int
encode_value(struct enc *e, const json_t *j, int depth)
{
	json_int_t v;
	size_t i, n;
	int r;

	if (++e->items > CV_RECENC_ITEMS_MAX)
		return CV_ETOOBIG;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if (depth > CV_RECENC_DEPTH_MAX)
			return CV_EINVAL;
		return encode_object(e, j, depth);
	case JSON_ARRAY:
		if (depth > CV_RECENC_DEPTH_MAX)
			return CV_EINVAL;
		n = json_array_size(j);
		if ((r = reserve(e, HEAD_MAX)) != 0)
			return r;
		e->len +=
		    cbor_encode_array_start(n, e->b + e->len, e->cap - e->len);
		for (i = 0; i < n; i++)
			if ((r = encode_value(
			         e, json_array_get(j, i), depth + 1)) != 0)
				return r;
		return 0;
	case JSON_STRING:
		return put_text(e, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		if ((r = reserve(e, HEAD_MAX)) != 0)
			return r;
		v = json_integer_value(j);
		/* -1 - v cannot overflow for any negative v. */
		e->len += v >= 0 ? cbor_encode_uint((uint64_t)v, e->b + e->len,
		                       e->cap - e->len)
		                 : cbor_encode_negint((uint64_t)(-1 - v),
		                       e->b + e->len, e->cap - e->len);
		return 0;
	case JSON_REAL:
		if ((r = reserve(e, HEAD_MAX)) != 0)
			return r;
		e->len += cbor_encode_double(
		    json_real_value(j), e->b + e->len, e->cap - e->len);
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		if ((r = reserve(e, 1)) != 0)
			return r;
		e->len += cbor_encode_bool(
		    json_is_true(j), e->b + e->len, e->cap - e->len);
		return 0;
	case JSON_NULL:
		if ((r = reserve(e, 1)) != 0)
			return r;
		e->len += cbor_encode_null(e->b + e->len, e->cap - e->len);
		return 0;
	}
	return CV_EINVAL;
}

int
cv_rec_encode(const json_t *data, uint8_t **buf, size_t *len)
{
	struct enc e = {NULL, 0, 0, 0};
	int r;

	*buf = NULL;
	*len = 0;
	if (!json_is_object(data))
		return CV_EINVAL;
	e.cap = 1024;
	if ((e.b = malloc(e.cap)) == NULL)
		return CV_ENOMEM;
	if ((r = encode_value(&e, data, 1)) != 0) {
		sodium_memzero(e.b, e.cap);
		free(e.b);
		return r;
	}
	*buf = e.b; /* transferred */
	*len = e.len;
	return 0;
}

/* Reading. */

struct frame {
	size_t last; /* the container's last child so far, 0 for none */
	size_t left; /* values still due */
	int map;
	int havekey;        /* a key is waiting for its value */
	int haveprev;       /* a key was read: the next must sort after it */
	const uint8_t *key; /* into the input, which outlives the decode */
	size_t keylen;
};

struct dec {
	const uint8_t *cur; /* the head of the item being decoded */
	const uint8_t *end;
	size_t items;
	int depth;
	int done;
	int err;
	struct cv_doc *doc;
	struct frame st[CV_RECENC_DEPTH_MAX];
};

/*
 * The head at *PP (before END): its major type and argument, *PP moved
 * past it. Only what the writer writes passes: the shortest argument, no
 * reserved or indefinite lengths, no byte strings, no tags, and of major
 * type 7 only false, true, null and float64 (*AI 20, 21, 22 or 27; a
 * float64's argument is its bits). Returns 1, or 0 for anything else.
 */
static int
head(const uint8_t **pp, const uint8_t *end, unsigned *major, unsigned *ai,
    uint64_t *arg)
{
	static const uint64_t least[4] = {24, 0x100, 0x10000, 0x100000000};
	const uint8_t *p = *pp;
	size_t n, i;
	uint64_t v;

	*major = p[0] >> 5;
	*ai = p[0] & 0x1f;
	p++;
	if (*major == 7) {
		if (*ai >= 20 && *ai <= 22) {
			*arg = *ai;
			*pp = p;
			return 1;
		}
		if (*ai != 27)
			return 0;
	} else if (*major == 2 || *major == 6 || *ai > 27)
		return 0;
	if (*ai < 24) {
		*arg = *ai;
		*pp = p;
		return 1;
	}
	n = (size_t)1 << (*ai - 24);
	if ((size_t)(end - p) < n)
		return 0;
	for (v = 0, i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (*major != 7 && v < least[*ai - 24])
		return 0;
	*arg = v;
	*pp = p + n;
	return 1;
}

/*
 * Text as jansson keeps it: UTF-8 as RFC 3629 has it (no overlong forms,
 * no surrogates, nothing past U+10FFFF) and no NUL. Checked here, eight
 * ASCII bytes at a time, rather than by jansson's byte-at-a-time check:
 * on long free text it is most of the cost of a read.
 */
static int
text_ok(const uint8_t *s, size_t n)
{
	const uint64_t hi = 0x8080808080808080ULL, lo = 0x0101010101010101ULL;
	size_t i = 0, k;
	uint64_t w;
	uint8_t c, min, max;

	while (i < n) {
		if (n - i >= 8) {
			memcpy(&w, s + i, 8);
			/* All ASCII and no zero byte. */
			if (((w | ((w - lo) & ~w)) & hi) == 0) {
				i += 8;
				continue;
			}
		}
		c = s[i++];
		if (c < 0x80) {
			if (c == 0)
				return 0;
			continue;
		}
		min = 0x80;
		max = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				min = 0xa0; /* overlong */
			else if (c == 0xed)
				max = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				min = 0x90; /* overlong */
			else if (c == 0xf4)
				max = 0x8f; /* past U+10FFFF */
		} else
			return 0;
		if (n - i < k || s[i] < min || s[i] > max)
			return 0;
		for (i++, k--; k > 0; k--, i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
	}
	return 1;
}

/* One item, scalar or closed container, is complete: close the containers
 * it fills. */
static void
complete(struct dec *d)
{
	while (d->depth > 0) {
		if (--d->st[d->depth - 1].left > 0)
			return;
		d->depth--;
	}
	d->done = 1;
}

/* Room for one more node. The nodes hold the record's numbers: a grown
 * array wipes the old one rather than leaving it to realloc. */
static int
grow(struct cv_doc *doc)
{
	struct cv_doc_node *n;
	size_t cap;

	if (doc->count < doc->cap)
		return 0;
	cap = doc->cap * 2;
	if ((n = malloc(cap * sizeof(*n))) == NULL)
		return CV_ENOMEM;
	memcpy(n, doc->n, doc->count * sizeof(*n));
	sodium_memzero(doc->n, doc->count * sizeof(*n));
	if (doc->n != doc->in)
		free(doc->n);
	doc->n = n;
	doc->cap = cap;
	return 0;
}

/* A new node of TYPE where the next value goes; its index, or 0 with
 * d->err set. */
static size_t
attach(struct dec *d, int type)
{
	struct cv_doc *doc = d->doc;
	struct cv_doc_node *n;
	struct frame *f = d->depth > 0 ? &d->st[d->depth - 1] : NULL;
	size_t i;
	int r;

	if (d->err != 0)
		return 0;
	if (f == NULL && type != CV_DOC_OBJECT) {
		d->err = CV_ECORRUPT; /* the top level is an object */
		return 0;
	}
	if (f != NULL && f->map && !f->havekey) {
		d->err = CV_ECORRUPT; /* a map key that is not a text string */
		return 0;
	}
	if ((r = grow(doc)) != 0) {
		d->err = r;
		return 0;
	}
	i = doc->count++;
	n = &doc->n[i];
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	if (f != NULL) {
		if (f->map) {
			/* The key passed text_ok when it was read. */
			n->key = (const char *)f->key;
			n->keylen = (uint32_t)f->keylen;
			f->havekey = 0;
		}
		if (f->last != 0)
			doc->n[f->last].next = (uint32_t)i;
		f->last = i;
	}
	return i;
}

static void
scalar(struct dec *d, int type, int64_t iv, double rv)
{
	size_t i = attach(d, type);

	if (d->err != 0)
		return;
	if (type == CV_DOC_INTEGER)
		d->doc->n[i].v.i = iv;
	else if (type == CV_DOC_REAL)
		d->doc->n[i].v.r = rv;
	complete(d);
}

static void
container(struct dec *d, size_t n, int map)
{
	struct frame *f;
	size_t i;

	/* The same bound as the encoder's, empty containers included. */
	if (d->err == 0 && d->depth == CV_RECENC_DEPTH_MAX)
		d->err = CV_ECORRUPT;
	i = attach(d, map ? CV_DOC_OBJECT : CV_DOC_ARRAY);
	if (d->err != 0)
		return;
	d->doc->n[i].len = (uint32_t)n;
	if (n == 0) {
		complete(d);
		return;
	}
	f = &d->st[d->depth++];
	memset(f, 0, sizeof(*f));
	f->left = n;
	f->map = map;
}

static void
on_string(struct dec *d, const uint8_t *s, size_t n)
{
	struct frame *f = d->depth > 0 ? &d->st[d->depth - 1] : NULL;
	size_t i;

	if (d->err != 0)
		return;
	if (!text_ok(s, n)) {
		d->err = CV_ECORRUPT;
		return;
	}
	if (f != NULL && f->map && !f->havekey) {
		/* Strictly ascending keys: canonical, and no duplicates. */
		if (f->haveprev && keycmp(f->key, f->keylen, s, n) >= 0) {
			d->err = CV_ECORRUPT;
			return;
		}
		f->key = s;
		f->keylen = n;
		f->havekey = f->haveprev = 1;
		return;
	}
	i = attach(d, CV_DOC_STRING);
	if (d->err != 0)
		return;
	d->doc->n[i].v.s = (const char *)s;
	d->doc->n[i].len = (uint32_t)n;
	complete(d);
}

int
cv_doc_parse(const uint8_t *buf, size_t len, struct cv_doc *doc)
{
	struct dec d;
	const uint8_t *p;

	doc->n = doc->in;
	doc->count = 0;
	doc->cap = CV_DOC_INLINE;
	doc->own = NULL;
	doc->ownlen = 0;
	if (len == 0 || len > CV_RECENC_MAX)
		return CV_ECORRUPT;
	/* The frames are set as they are pushed; the rest starts at zero. */
	d.end = buf + len;
	d.items = 0;
	d.depth = d.done = d.err = 0;
	d.doc = doc;
	for (p = buf; p < d.end;) {
		unsigned major, ai;
		uint64_t v;
		double r;

		if (d.done || ++d.items > CV_RECENC_ITEMS_MAX)
			return CV_ECORRUPT;
		d.cur = p;
		if (!head(&p, d.end, &major, &ai, &v))
			return CV_ECORRUPT;
		switch (major) {
		case 0:
		case 1:
			if (v > INT64_MAX)
				return CV_ECORRUPT;
			/* A negative integer carries N for -1 - N. */
			scalar(&d, CV_DOC_INTEGER,
			    major == 0 ? (int64_t)v : -1 - (int64_t)v, 0);
			break;
		case 3:
			if (v > (uint64_t)(d.end - p))
				return CV_ECORRUPT;
			on_string(&d, p, (size_t)v);
			p += v;
			break;
		case 4:
			/* Every element takes a byte at least. */
			if (v > (uint64_t)(d.end - d.cur))
				return CV_ECORRUPT;
			container(&d, (size_t)v, 0);
			break;
		case 5:
			if (v > (uint64_t)(d.end - d.cur) / 2)
				return CV_ECORRUPT;
			container(&d, (size_t)v, 1);
			break;
		case 7:
			/* ai is 20, 21 or 22 (v the same), or 27: float64. */
			if (ai == 20 || ai == 21)
				scalar(&d,
				    ai == 21 ? CV_DOC_TRUE : CV_DOC_FALSE, 0,
				    0);
			else if (ai == 22)
				scalar(&d, CV_DOC_NULL, 0, 0);
			else {
				memcpy(&r, &v, sizeof(r));
				/* JSON has no NaN or infinity. */
				if (!isfinite(r))
					return CV_ECORRUPT;
				scalar(&d, CV_DOC_REAL, 0, r);
			}
			break;
		default:
			return CV_ECORRUPT;
		}
		if (d.err != 0)
			return d.err;
	}
	return d.done ? 0 : CV_ECORRUPT;
}

void
cv_doc_free(struct cv_doc *doc)
{
	if (doc->n == NULL)
		return;
	sodium_memzero(doc->n, doc->count * sizeof(*doc->n));
	if (doc->n != doc->in)
		free(doc->n);
	doc->n = NULL;
	doc->count = 0;
	if (doc->own != NULL) {
		sodium_memzero(doc->own, doc->ownlen);
		free(doc->own);
		doc->own = NULL;
	}
}

json_t *
cv_doc_json(const struct cv_doc *doc, size_t i)
{
	const struct cv_doc_node *n = &doc->n[i];
	json_t *c, *v;
	size_t k;

	switch (n->type) {
	case CV_DOC_STRING:
		return json_stringn_nocheck(n->v.s, n->len);
	case CV_DOC_INTEGER:
		return json_integer((json_int_t)n->v.i);
	case CV_DOC_REAL:
		return json_real(n->v.r);
	case CV_DOC_TRUE:
		return json_true();
	case CV_DOC_FALSE:
		return json_false();
	case CV_DOC_NULL:
		return json_null();
	case CV_DOC_ARRAY:
	case CV_DOC_OBJECT:
		break;
	default:
		return NULL;
	}
	if ((c = n->type == CV_DOC_OBJECT ? json_object() : json_array()) ==
	    NULL)
		return NULL;
	for (k = n->len > 0 ? i + 1 : 0; k != 0; k = doc->n[k].next) {
		if ((v = cv_doc_json(doc, k)) == NULL ||
		    (n->type == CV_DOC_OBJECT
		            ? json_object_setn_new_nocheck(
		                  c, doc->n[k].key, doc->n[k].keylen, v)
		            : json_array_append_new(c, v)) != 0) {
			json_decref(c);
			return NULL;
		}
	}
	return c;
}

int
cv_rec_decode(const uint8_t *buf, size_t len, json_t **out)
{
	struct cv_doc doc;
	int r;

	*out = NULL;
	if ((r = cv_doc_parse(buf, len, &doc)) == 0 &&
	    (*out = cv_doc_json(&doc, 0)) == NULL)
		r = CV_ENOMEM;
	cv_doc_free(&doc);
	return r;
}
