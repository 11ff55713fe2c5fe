/*
 * Per-case objects other than records: consents ('K'), legal-aid requests
 * ('R'), break-glass windows ('B') and disclosures ('D'). Each is a JSON
 * object sealed under the case key, so erasing the case erases them too.
 * An index maps a request or window id to its case ('I').
 */
#ifndef CV_CASEOBJ_H
#define CV_CASEOBJ_H

#include <stdint.h>

#include <jansson.h>

#include "casevault.h"
#include "base/crypto.h"
#include "model/binding.h"
#include "store/store.h"

struct cv_session;
struct cv_txn;

#define CV_CD_CONSENT    'K'
#define CV_CD_REQUEST    'R'
#define CV_CD_BREAKGLASS 'B'
#define CV_CD_DISCLOSURE 'D'
#define CV_CD_ID_MAX     32

/*
 * Before the event of a write of object ID of KIND in case CASE_ID: the
 * version this write takes into *VERSION (1 for a new object), and the
 * write of OBJ at that version noted in the event detail *EXTRA
 * (cv_bind_note; created when NULL). Returns 0, CV_EINVAL (an id too
 * long), CV_ENOMEM or a store error.
 */
int cv_casedata_stage(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const char *id, const json_t *obj,
    json_t **extra, uint64_t *version);

/*
 * After the event SEQ that cv_casedata_stage prepared: store OBJ as
 * VERSION of object ID of KIND in case CASE_ID (replacing it), version
 * and SEQ bound in its clear header. OBJ must be what was staged.
 */
int cv_casedata_put(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const char *id,
    const uint8_t key[static CV_KEYBYTES], const json_t *obj, uint64_t version,
    uint64_t seq);

/*
 * Open the per-case object stored as V at key K (a case id, a kind, an
 * id) under KEY, its case's key: its kind into *KIND, its object name
 * (cv_bind_obj_name) into NAME, its clear header into *H and the keyed
 * digest of its plaintext into D, for the reconciliation with the trail.
 * CV_ECORRUPT, CV_ECRYPTO, CV_ENOMEM.
 */
int cv_casedata_digest(struct cv_session *s, const struct cv_val *k,
    const struct cv_val *v, const uint8_t key[static CV_KEYBYTES], char *kind,
    char name[static CV_BIND_OBJ_MAX], struct cv_bind_hdr *h,
    uint8_t d[static CV_BIND_DIGESTBYTES]);

/*
 * Whether object ID of KIND is stored in case CASE_ID, without opening
 * it: 0 when it is, CV_ENOTFOUND when not, or an error of the store.
 */
int cv_casedata_exists(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const char *id);

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

/*
 * Seal OBJ as object ID of KIND in case CASE_ID, under the case's key,
 * and index ID, for the commands that later name only the id (request
 * approve, breakglass review). Returns 0 or an error of the store or the
 * case key.
 */
int cv_casedata_put_indexed(struct cv_txn *txn, struct cv_session *s,
    const char *case_id, char kind, const char *id, const json_t *obj,
    uint64_t version, uint64_t seq);

/*
 * Load the indexed object ID of KIND with what acting on it needs: its
 * case id into CASE_ID, the live case's metadata into *META, the case key
 * into KEY (wipe it after use) and the object into *OBJ (new references,
 * both NULL on failure). An ID that does not start with KIND, an unknown
 * one and one whose case was erased are CV_ENOTFOUND.
 */
int cv_casedata_get_indexed(struct cv_txn *txn, struct cv_session *s,
    const char *id, char kind, char case_id[static CV_CASE_ID_LEN + 1],
    json_t **meta, uint8_t key[static CV_KEYBYTES], json_t **obj);

/*
 * Called by cv_casedata_foreach_indexed with an object, its case id and
 * the case's metadata, all borrowed for the call. A nonzero return stops
 * the walk and is returned.
 */
typedef int (*cv_casedata_indexed_fn)(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, const json_t *obj, void *arg);

/*
 * Call CB for every indexed object of KIND across all cases, in id order.
 * Objects of erased cases, and index entries that do not load, are
 * skipped: the walk lists what is live, it does not check the store.
 */
int cv_casedata_foreach_indexed(struct cv_txn *txn, struct cv_session *s,
    char kind, cv_casedata_indexed_fn cb, void *arg);

/* A new id: PREFIX and 10 base32 characters. */
void cv_casedata_id_new(char prefix, char out[static 12]);

#endif
