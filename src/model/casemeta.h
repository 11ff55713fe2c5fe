/*
 * Cases: their metadata (status, team, dates; no identity), sealed under
 * the meta key, and their keys, wrapped under the key-encryption key.
 * Private to the library; in the model layer, below the gate that decides
 * on them.
 */
#ifndef CV_CASEMETA_H
#define CV_CASEMETA_H

#include <stdint.h>

#include <jansson.h>

#include "base/crypto.h"
#include "model/binding.h"

struct cv_session;
struct cv_txn;

/*
 * Load the metadata of ID into a new JSON object:
 * {"id","status","opener","team":[uid...],"opened","closed","next_record",
 *  "erased"}. CV_ENOTFOUND for an unknown or malformed id.
 */
int cv_case_load(
    struct cv_txn *txn, struct cv_session *s, const char *id, json_t **meta);
/* As cv_case_load, for a case that must be live: an erased case is
 * CV_ENOTFOUND, like an unknown one. */
int cv_case_load_live(
    struct cv_txn *txn, struct cv_session *s, const char *id, json_t **meta);

/*
 * Before the event of a write of case ID's metadata: the version this
 * write takes into *VERSION, and the write of META at that version noted
 * in the event detail *EXTRA (cv_bind_note; created when NULL). Returns 0,
 * CV_ENOMEM or a store error.
 */
int cv_case_stage(struct cv_txn *txn, struct cv_session *s, const char *id,
    const json_t *meta, json_t **extra, uint64_t *version);

/*
 * After the event SEQ that cv_case_stage prepared: store META as VERSION
 * of case ID's metadata, written by event SEQ (both bound in its clear
 * header). META must be what was staged: the digest in the event covers
 * its canonical bytes.
 */
int cv_case_save(struct cv_txn *txn, struct cv_session *s, const char *id,
    const json_t *meta, uint64_t version, uint64_t seq);

/*
 * Open the stored metadata of case ID: its clear header into *H and the
 * keyed digest of its plaintext (cv_bind_digest) into D, for the
 * reconciliation with the trail. CV_ENOTFOUND, CV_ECORRUPT, CV_ECRYPTO.
 */
int cv_case_digest(struct cv_txn *txn, struct cv_session *s, const char *id,
    struct cv_bind_hdr *h, uint8_t d[static CV_BIND_DIGESTBYTES]);

/* 1 if UID is on the team of META. */
int cv_case_on_team(const json_t *meta, uint32_t uid);

/*
 * 0 when the case of META takes changes, or CV_ESTATE with "the case is
 * closed" as the error detail. A status that is not a string counts as
 * closed: metadata that cannot be read takes no changes.
 */
int cv_case_check_open(const json_t *meta);

/* The unwrapped key of case ID into KEY (wipe it after use). */
int cv_casekey_get(struct cv_txn *txn, struct cv_session *s, const char *id,
    uint8_t key[static CV_KEYBYTES]);
/*
 * Wrap KEY under KEK, the key-encryption key of generation GEN, and store
 * it for ID. The session's own KEK (s->keys->kek, s->keys->kek_gen) for a
 * new case; the next generation's when a rotation re-wraps.
 */
int cv_casekey_put(struct cv_txn *txn, struct cv_session *s, const char *id,
    const uint8_t key[static CV_KEYBYTES],
    const uint8_t kek[static CV_KEYBYTES], uint64_t gen);

#endif
