/*
 * The binary encoding of a record's data: CBOR (RFC 8949), written
 * deterministically and read into a document: an index of its values laid
 * out in one array, pointing into the decrypted bytes, which the gate
 * redacts before any jansson value is made.
 *
 * What is written: definite lengths only; the shortest head for every
 * integer and length; JSON strings as text strings (major type 3); object
 * keys in the order canonical JSON uses (bytewise on the UTF-8 key); JSON
 * integers as CBOR integers (major types 0 and 1); reals as float64;
 * true, false and null as the simple values 20, 21 and 22.
 *
 * What is read: exactly that and nothing else. Tags, byte strings,
 * indefinite lengths, half and single floats, undefined, other simple
 * values, non-shortest heads, non-string or unsorted or duplicate map keys,
 * invalid UTF-8 or NUL in a string, integers outside the int64 range, a
 * top-level value that is not a map, and trailing bytes are all CV_ECORRUPT.
 */
#ifndef CV_RECENC_H
#define CV_RECENC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "casevault.h"

/*
 * Bounds. A record is validated as at most CV_RECORD_MAX bytes of canonical
 * JSON; its CBOR form is at most 2.25 times that (a float64 takes 9 bytes
 * where "0.0," takes 4), so 3 times bounds every valid record. Every JSON
 * value takes at least one byte, so a valid record has fewer items than
 * CV_RECORD_MAX.
 */
#define CV_RECENC_MAX       (3 * (size_t)CV_RECORD_MAX)
#define CV_RECENC_ITEMS_MAX ((size_t)CV_RECORD_MAX)
#define CV_RECENC_DEPTH_MAX 32

/*
 * Encode DATA (a JSON object) into a new buffer *BUF of *LEN bytes; the
 * caller wipes it with sodium_memzero and frees it. Returns 0, CV_EINVAL
 * when DATA is not an object, is nested deeper than CV_RECENC_DEPTH_MAX or
 * holds a NUL in a string or key, CV_ETOOBIG past CV_RECENC_MAX bytes or
 * CV_RECENC_ITEMS_MAX items, CV_ENOMEM. On error *BUF is NULL.
 */
int cv_rec_encode(const json_t *data, uint8_t **buf, size_t *len);

/* A value of a document. */
enum cv_doc_type {
	CV_DOC_OBJECT = 1,
	CV_DOC_ARRAY,
	CV_DOC_STRING,
	CV_DOC_INTEGER,
	CV_DOC_REAL,
	CV_DOC_TRUE,
	CV_DOC_FALSE,
	CV_DOC_NULL
};

/*
 * Values in document order: a container's first child (if len > 0) is the
 * next node, and each child names its next sibling (0 after the last).
 * Strings and keys point into the decoded bytes and are not NUL-terminated;
 * they passed the UTF-8 and no-NUL check.
 */
struct cv_doc_node {
	const char *key; /* member name, in an object; NULL otherwise */
	union {
		const char *s;
		int64_t i;
		double r;
	} v;
	uint32_t keylen;
	uint32_t len;  /* string bytes, or a container's children */
	uint32_t next; /* the next sibling, 0 for none */
	uint8_t type;  /* enum cv_doc_type */
};

#define CV_DOC_INLINE 64

struct cv_doc {
	struct cv_doc_node *n; /* the inline nodes, or a malloc'd array */
	size_t count, cap;
	uint8_t
	    *own; /* bytes the nodes point into, if the document owns them */
	size_t ownlen;
	struct cv_doc_node in[CV_DOC_INLINE];
};

/*
 * Read LEN bytes of BUF (untrusted) into *DOC, whose root (node 0) is an
 * object. The nodes point into BUF, which must outlive the document.
 * Returns 0, CV_ECORRUPT on anything outside the encoding above or beyond
 * its bounds, CV_ENOMEM. Whatever it returns, release DOC with
 * cv_doc_free, which wipes the nodes (they hold the record's numbers);
 * cv_doc_free does nothing to a document whose n is NULL, so a caller may
 * set only that on a path that might not parse.
 */
int cv_doc_parse(const uint8_t *buf, size_t len, struct cv_doc *doc);
void cv_doc_free(struct cv_doc *doc);

/* Node I and its subtree as a new jansson value, or NULL (no memory). */
json_t *cv_doc_json(const struct cv_doc *doc, size_t i);

/*
 * Decode LEN bytes of BUF (untrusted) into a new JSON object *OUT, owned by
 * the caller: cv_doc_parse, then cv_doc_json. Returns 0, CV_ECORRUPT on
 * anything outside the encoding above or beyond its bounds, CV_ENOMEM. On
 * error *OUT is NULL.
 */
int cv_rec_decode(const uint8_t *buf, size_t len, json_t **out);

#endif
