/*
 * Per-case objects other than records: consents ('K'), legal-aid requests
 * ('R'), break-glass windows ('B') and disclosures ('D'). Each is a JSON
 * object sealed under the case key, so erasing the case erases them too.
 * An index maps a request or window id to its case ('I').
 */
#ifndef CV_CASEDATA_H
#define CV_CASEDATA_H

#include <stdint.h>

#include <jansson.h>

#include "casevault.h"
#include "base/crypto.h"

struct cv_session;
struct cv_txn;

#define CV_CD_CONSENT    'K'
#define CV_CD_REQUEST    'R'
#define CV_CD_BREAKGLASS 'B'
#define CV_CD_DISCLOSURE 'D'
#define CV_CD_ID_MAX     32

/* Store OBJ as object ID of KIND in case CASE_ID (replacing it). */
int cv_casedata_put(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const char *id,
    const uint8_t key[static CV_KEYBYTES], const json_t *obj);

/* The object ID of KIND, new reference in *out. */
int cv_casedata_get(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const char *id,
    const uint8_t key[static CV_KEYBYTES], json_t **out);

/* Every object of KIND in the case, as a new array. */
int cv_casedata_list(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const uint8_t key[static CV_KEYBYTES],
    json_t **out);

/* Shred every object of the case (erasure). */
int cv_casedata_shred(
    struct cv_txn *txn, struct cv_session *s, const char *case_id);

/* Index: id -> case, for commands that name only the id. */
int cv_casedata_index(struct cv_txn *txn, struct cv_session *s, const char *id,
    const char *case_id);
int cv_casedata_lookup(struct cv_txn *txn, struct cv_session *s, const char *id,
    char case_id[static CV_CASE_ID_LEN + 1]);

/* A new id: PREFIX and 10 base32 characters. */
void cv_casedata_id_new(char prefix, char out[static 12]);

#endif
