/*
 * Binding stored objects to the audit events that wrote them. Every case
 * metadata, per-case object and record version is written under an event
 * that names it (by a name-free object name under the case's pseudonym),
 * its version counter and a keyed digest of what was written; case
 * metadata and per-case objects carry, in a clear header bound into their
 * associated data, that version and the sequence of the event:
 *
 *   u64 version (1 for the first write, then one more each write)
 *   u64 seq     (the audit event that wrote this value)
 *
 * A record version's own header already holds its seq; its version is in
 * its key. So an older sealed value copied back still opens only as what
 * it was, and `audit verify` can tell it is not the one the trail says is
 * current. Private to the library.
 */
#ifndef CV_BINDING_H
#define CV_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/crypto.h"

struct cv_session;

#define CV_BIND_HDRBYTES    16
#define CV_BIND_DIGESTBYTES 32
#define CV_BIND_OBJ_MAX     48 /* the longest object name, with its NUL */

/* The clear header of a bound object. */
struct cv_bind_hdr {
	uint64_t version;
	uint64_t seq;
};

void cv_bind_hdr_encode(
    const struct cv_bind_hdr *h, uint8_t out[static CV_BIND_HDRBYTES]);
void cv_bind_hdr_decode(
    const uint8_t in[static CV_BIND_HDRBYTES], struct cv_bind_hdr *h);

/*
 * The keyed digest of writing M (MLEN bytes, the object's plaintext) as
 * VERSION of object OBJ of case CASE_ID: BLAKE2b-256 keyed with a subkey
 * of the meta key, over the case id, the object name, the version and the
 * plaintext. Only holders of the vault's keys can make or check one.
 */
void cv_bind_digest(const struct cv_session *s, const char *case_id,
    const char *obj, uint64_t version, const uint8_t *m, size_t mlen,
    uint8_t d[static CV_BIND_DIGESTBYTES]);

/*
 * Add the write of OBJ at VERSION with digest D to the event detail
 * *EXTRA (created when NULL) as an element of its "writes" array:
 * {"obj": OBJ, "version": VERSION, "digest": hex}. CV_ENOMEM.
 */
int cv_bind_note(json_t **extra, const char *obj, uint64_t version,
    const uint8_t d[static CV_BIND_DIGESTBYTES]);

/* The object name of a per-case object: KIND '/' ID, into OUT. */
int cv_bind_obj_name(
    char out[static CV_BIND_OBJ_MAX], char kind, const char *id);

#define CV_BIND_OBJ_CASE "meta" /* a case's metadata */

#endif
