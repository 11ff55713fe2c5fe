/*
 * The sealed record format. A record version is stored under the key
 * (case id, record id, version) as a clear header followed by the sealed
 * payload, the record's data in the encoding the header's format byte
 * names: 1, canonical JSON text (still read); 2, CBOR (src/base/cbor.h), the
 * one written. The header holds only what the gate must know before it opens
 * anything (type, classes, author, time, audit sequence); the whole header
 * and the key are the associated data of the seal, so neither can be
 * changed, nor the ciphertext moved to another vault, case, record or
 * version, without the open failing.
 *
 * cv_rec_decrypt is called by the gate alone (src/gate.c): a test checks
 * that no other file names it.
 */
#ifndef CV_RECFMT_H
#define CV_RECFMT_H

#include <stdint.h>

#include <jansson.h>

#include "casevault.h"
#include "base/classes.h"
#include "base/crypto.h"
#include "base/cbor.h"
#include "model/binding.h"

#define CV_REC_FORMAT_JSON 1
#define CV_REC_FORMAT_CBOR 2
#define CV_REC_FORMAT      CV_REC_FORMAT_CBOR /* what new versions use */
#define CV_REC_KEYLEN      (CV_CASE_ID_LEN + 8)

struct cv_session;
struct cv_txn;

struct cv_rec_hdr {
	char type[CV_NAME_MAX + 1];
	uint32_t author;      /* staff user id */
	uint64_t time;        /* ms, UTC */
	cv_classmask classes; /* the classes present in the data */
	uint64_t seq;         /* the audit event of this version */
	int format;           /* CV_REC_FORMAT_*: set when read, ignored when
	                         written (always CV_REC_FORMAT) */
};

void cv_rec_key(uint8_t k[static CV_REC_KEYLEN], const char *case_id,
    uint32_t record, uint32_t version);

/*
 * Seal PAYLOAD (LEN bytes from cv_rec_encode) under CASEKEY and store it
 * as format CV_REC_FORMAT. CV_ETOOBIG past CV_RECENC_MAX bytes; CV_EEXIST
 * when the version is there already.
 */
int cv_rec_put(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h,
    const uint8_t casekey[static CV_KEYBYTES], const uint8_t *payload,
    size_t len);

/*
 * Before the event that writes VERSION of RECORD of CASE_ID: note the
 * write of PAYLOAD (LEN bytes, what cv_rec_put will seal) in the event
 * detail *EXTRA (cv_bind_note, object "rec/RECORD"; created when NULL).
 * The version's own header carries the event's seq. CV_ENOMEM.
 */
int cv_rec_stage(struct cv_session *s, const char *case_id, uint32_t record,
    uint32_t version, const uint8_t *payload, size_t len, json_t **extra);

/*
 * Open VERSION of RECORD under CASEKEY only to digest it: its object name
 * into NAME and the keyed digest of its payload (cv_bind_digest) into D,
 * for the reconciliation with the trail. The payload is wiped here.
 * Returns as cv_rec_decrypt.
 */
int cv_rec_digest(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version,
    const uint8_t casekey[static CV_KEYBYTES],
    char name[static CV_BIND_OBJ_MAX], uint8_t d[static CV_BIND_DIGESTBYTES]);

/*
 * 1 when VERSION of RECORD, opened under CASEKEY, holds exactly PAYLOAD
 * (LEN bytes), 0 when it holds something else; the plaintext is wiped
 * here. Returns as cv_rec_decrypt otherwise.
 */
int cv_rec_same(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version,
    const uint8_t casekey[static CV_KEYBYTES], const uint8_t *payload,
    size_t len);

/* The header of a version, without opening it. */
int cv_rec_header(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t version, struct cv_rec_hdr *h);

/* The latest version of RECORD (CV_ENOTFOUND when there is none). */
int cv_rec_latest(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    uint32_t record, uint32_t *version);

/*
 * Open a version into a new buffer (*payload of *len bytes, followed by a
 * NUL; freed by the caller after sodium_memzero) and give its encoding in
 * *format (CV_REC_FORMAT_*). CV_ECRYPTO when it was altered or moved.
 * Only the gate calls this.
 */
int cv_rec_decrypt(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, uint32_t record, uint32_t version,
    const uint8_t casekey[static CV_KEYBYTES], uint8_t **payload, size_t *len,
    int *format);

/*
 * Parse an opened payload of FORMAT into a new JSON object *OUT (owned by
 * the caller). CV_ECORRUPT when it is not a well-formed object of that
 * encoding or the format is unknown, CV_ENOMEM.
 */
int cv_rec_parse(int format, const uint8_t *payload, size_t len, json_t **out);

/*
 * Parse an opened payload of FORMAT into *DOC (base/cbor.h), which points
 * into PAYLOAD for format 2 (keep PAYLOAD until cv_doc_free) and owns a
 * re-encoded copy for format 1. Release DOC with cv_doc_free whatever this
 * returns. CV_ECORRUPT when it is not a well-formed object of that
 * encoding or the format is unknown, CV_ENOMEM.
 */
int cv_rec_parse_doc(
    int format, const uint8_t *payload, size_t len, struct cv_doc *doc);

/*
 * Call CB for every version of every record of CASE_ID, in key order.
 * A nonzero return from CB stops the walk and is returned.
 */
int cv_rec_foreach(struct cv_txn *txn, struct cv_session *s,
    const char *case_id,
    int (*cb)(uint32_t record, uint32_t version, const struct cv_rec_hdr *h,
        void *arg),
    void *arg);

/*
 * The records of CASE_ID, each named once, from their clear headers and
 * without opening any: a new array [[record, type]...] in record order
 * into *OUT, owned by the caller. TYPE NULL lists every record, else only
 * those of TYPE. Returns 0, CV_ENOMEM or a store error (*OUT NULL).
 */
int cv_rec_list(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    const char *type, json_t **out);

#endif
