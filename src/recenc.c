/* The CBOR encoding of a record's data; see recenc.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <sodium.h>

#include "casevault.h"
#include "recenc.h"

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
	json_t *c;   /* borrowed: owned by its parent or the root */
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
	json_t *root;
	struct frame st[CV_RECENC_DEPTH_MAX];
};

/*
 * The head rules libcbor does not enforce: the shortest argument, no
 * reserved or indefinite lengths, no byte strings, tags or simple values
 * other than false, true, null and float64, and a text string that fits.
 */
static int
head_ok(const uint8_t *p, const uint8_t *end)
{
	static const uint64_t least[4] = {24, 0x100, 0x10000, 0x100000000};
	unsigned major = p[0] >> 5, ai = p[0] & 0x1f;
	size_t i, n, avail = (size_t)(end - p) - 1;
	uint64_t v;

	if (major == 7)
		return ai == 20 || ai == 21 || ai == 22 || ai == 27;
	if (major == 2 || major == 6 || ai > 27)
		return 0;
	if (ai < 24)
		return 1;
	n = (size_t)1 << (ai - 24);
	if (avail < n)
		return 0;
	for (v = 0, i = 0; i < n; i++)
		v = v << 8 | p[1 + i];
	if (v < least[ai - 24])
		return 0;
	return major != 3 || v <= avail - n;
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

/* Place V (a reference transferred) where the next value goes. */
static int
attach(struct dec *d, json_t *v)
{
	struct frame *f;

	if (v == NULL)
		return CV_ENOMEM;
	if (d->depth == 0) {
		if (!json_is_object(v)) {
			json_decref(v);
			return CV_ECORRUPT;
		}
		d->root = v;
		return 0;
	}
	f = &d->st[d->depth - 1];
	if (!f->map)
		return json_array_append_new(f->c, v) == 0 ? 0 : CV_ENOMEM;
	if (!f->havekey) {
		json_decref(v); /* a map key that is not a text string */
		return CV_ECORRUPT;
	}
	f->havekey = 0;
	/* The key passed text_ok when it was read. */
	return json_object_setn_new_nocheck(
	           f->c, (const char *)f->key, f->keylen, v) == 0
	    ? 0
	    : CV_ENOMEM;
}

static void
scalar(struct dec *d, json_t *v)
{
	int r;

	if (d->err != 0) {
		json_decref(v);
		return;
	}
	if ((r = attach(d, v)) != 0)
		d->err = r;
	else
		complete(d);
}

static void
container(struct dec *d, json_t *c, size_t n, int map)
{
	struct frame *f;
	int r;

	if (d->err != 0) {
		json_decref(c);
		return;
	}
	/* The same bound as the encoder's, empty containers included. */
	if (d->depth == CV_RECENC_DEPTH_MAX) {
		json_decref(c);
		d->err = CV_ECORRUPT;
		return;
	}
	if ((r = attach(d, c)) != 0) {
		d->err = r;
		return;
	}
	if (n == 0) {
		complete(d);
		return;
	}
	f = &d->st[d->depth++];
	memset(f, 0, sizeof(*f));
	f->c = c;
	f->left = n;
	f->map = map;
}

static void
bad(void *ctx)
{
	((struct dec *)ctx)->err = CV_ECORRUPT;
}

static void
bad_u64(void *ctx, uint64_t v)
{
	(void)v;
	bad(ctx);
}

static void
bad_bytes(void *ctx, cbor_data s, size_t n)
{
	(void)s;
	(void)n;
	bad(ctx);
}

static void
bad_float(void *ctx, float f)
{
	(void)f;
	bad(ctx);
}

static void
on_uint8(void *ctx, uint8_t v)
{
	scalar(ctx, json_integer(v));
}

static void
on_uint16(void *ctx, uint16_t v)
{
	scalar(ctx, json_integer(v));
}

static void
on_uint32(void *ctx, uint32_t v)
{
	scalar(ctx, json_integer(v));
}

static void
on_uint64(void *ctx, uint64_t v)
{
	if (v > INT64_MAX)
		bad(ctx);
	else
		scalar(ctx, json_integer((json_int_t)v));
}

/* A CBOR negative integer carries N for the value -1 - N. */
static void
on_negint8(void *ctx, uint8_t n)
{
	scalar(ctx, json_integer(-1 - (json_int_t)n));
}

static void
on_negint16(void *ctx, uint16_t n)
{
	scalar(ctx, json_integer(-1 - (json_int_t)n));
}

static void
on_negint32(void *ctx, uint32_t n)
{
	scalar(ctx, json_integer(-1 - (json_int_t)n));
}

static void
on_negint64(void *ctx, uint64_t n)
{
	if (n > INT64_MAX)
		bad(ctx);
	else
		scalar(ctx, json_integer(-1 - (json_int_t)n));
}

static void
on_string(void *ctx, cbor_data s, size_t n)
{
	struct dec *d = ctx;
	struct frame *f = d->depth > 0 ? &d->st[d->depth - 1] : NULL;

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
	scalar(d, json_stringn_nocheck((const char *)s, n));
}

static void
on_array(void *ctx, size_t n)
{
	struct dec *d = ctx;

	/* Every element takes a byte at least. */
	if (n > (size_t)(d->end - d->cur))
		bad(ctx);
	else
		container(d, json_array(), n, 0);
}

static void
on_map(void *ctx, size_t n)
{
	struct dec *d = ctx;

	if (n > (size_t)(d->end - d->cur) / 2)
		bad(ctx);
	else
		container(d, json_object(), n, 1);
}

static void
on_float8(void *ctx, double v)
{
	/* JSON has no NaN or infinity. */
	if (!isfinite(v))
		bad(ctx);
	else
		scalar(ctx, json_real(v));
}

static void
on_null(void *ctx)
{
	scalar(ctx, json_null());
}

static void
on_bool(void *ctx, bool v)
{
	scalar(ctx, json_boolean(v));
}

static const struct cbor_callbacks callbacks = {
    .uint8 = on_uint8,
    .uint16 = on_uint16,
    .uint32 = on_uint32,
    .uint64 = on_uint64,
    .negint64 = on_negint64,
    .negint32 = on_negint32,
    .negint16 = on_negint16,
    .negint8 = on_negint8,
    .byte_string_start = bad,
    .byte_string = bad_bytes,
    .string = on_string,
    .string_start = bad,
    .indef_array_start = bad,
    .array_start = on_array,
    .indef_map_start = bad,
    .map_start = on_map,
    .tag = bad_u64,
    .float2 = bad_float,
    .float4 = bad_float,
    .float8 = on_float8,
    .undefined = bad,
    .null = on_null,
    .boolean = on_bool,
    .indef_break = bad,
};

int
cv_rec_decode(const uint8_t *buf, size_t len, json_t **out)
{
	struct cbor_decoder_result res;
	struct dec d;
	const uint8_t *p;
	int r = CV_ECORRUPT;

	*out = NULL;
	if (len == 0 || len > CV_RECENC_MAX)
		return CV_ECORRUPT;
	/* The frames are set as they are pushed; the rest starts at zero. */
	d.end = buf + len;
	d.items = 0;
	d.depth = d.done = d.err = 0;
	d.root = NULL;
	/* libcbor decodes one head (a string with its bytes) per call. */
	for (p = buf; p < d.end; p += res.read) {
		if (d.done || ++d.items > CV_RECENC_ITEMS_MAX ||
		    !head_ok(p, d.end))
			goto out;
		d.cur = p;
		res =
		    cbor_stream_decode(p, (size_t)(d.end - p), &callbacks, &d);
		if (d.err != 0) {
			r = d.err;
			goto out;
		}
		if (res.status != CBOR_DECODER_FINISHED || res.read == 0)
			goto out;
	}
	if (!d.done)
		goto out;
	*out = d.root; /* transferred */
	d.root = NULL;
	r = 0;
out:
	json_decref(d.root);
	return r;
}
