/*
 * casevault: an encrypted vault of case records for services that support
 * women and child survivors of violence and trafficking.
 *
 * The public C API. Every function returns 0 on success or a negative CV_E*
 * code; cv_strerror() names it. Types are opaque. Data going out of the
 * library is a jansson json_t owned by the caller (json_decref it); data going
 * in is borrowed for the duration of the call.
 *
 * The one rule every caller relies on: a decrypted record is returned only by
 * the functions below that take a session, and each of them decides access in
 * the gate (src/gate.c) and makes the audit event durable before returning
 * anything.
 */
#ifndef CASEVAULT_H
#define CASEVAULT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CV_VERSION_STRING "0.1.0"

/* Error codes. The range -1000..-1099 is reserved for casevault. */
#define CV_OK        0
#define CV_EINVAL    (-1001) /* bad argument or input; nothing changed */
#define CV_ENOMEM    (-1002) /* out of memory */
#define CV_EIO       (-1003) /* a file could not be read or written */
#define CV_ECRYPTO   (-1004) /* integrity check failed: data was altered */
#define CV_EAUTH     (-1005) /* wrong user name or passphrase */
#define CV_EDENIED   (-1006) /* refused by the access gate */
#define CV_ENOTFOUND (-1007) /* no such case, record, user or version */
#define CV_EEXIST    (-1008) /* already exists */
#define CV_EAUDIT    (-1009) /* the audit trail cannot be written: refused */
#define CV_ECORRUPT  (-1010) /* the store or a file is malformed */
#define CV_ELOCKED   (-1011) /* too many failed logins: wait and retry */
#define CV_ESTORE    (-1012) /* the LMDB store failed */
#define CV_ETOOBIG   (-1013) /* input larger than the limit */
#define CV_EJSON     (-1014) /* malformed JSON */
#define CV_ESCHEMA   (-1015) /* input does not match the record schema */
#define CV_EPOLICY   (-1016) /* malformed policy */
#define CV_EVERSION  (-1017) /* unsupported format or schema version */
#define CV_EDISABLED (-1018) /* the account is disabled */
#define CV_EVERIFY   (-1019) /* audit trail verification failed */
#define CV_ESTATE    (-1020) /* not allowed in the current state */
#define CV_EBUSY     (-1021) /* the vault is in use by another process */
#define CV_ESEALED   (-1022) /* the vault is sealed: no key is unlocked */
#define CV_EUNSAFE   (-1023) /* a vault file is a link or others can write */

/* Limits. */
#define CV_NAME_MAX       64           /* user names, record types */
#define CV_RECORD_MAX     (256 * 1024) /* plaintext JSON of one record */
#define CV_PASSPHRASE_MAX 1024
#define CV_PASSPHRASE_MIN 10
#define CV_CASE_ID_LEN    11 /* "C" and 10 base32 characters */

struct cv_vault;   /* an open vault directory */
struct cv_session; /* an authenticated user on an open vault */

/*
 * Initialise the library (libsodium, libgit2) and install jansson
 * allocation functions that wipe every block they free, so decrypted data
 * held as json_t does not outlive its value. Call once before anything
 * else. Returns 0; CV_ECRYPTO when libsodium cannot start; CV_ECORRUPT
 * when a built-in record schema, instrument or the service flow does not
 * load (cv_error_detail() names it); CV_EAUDIT when libgit2 cannot start.
 */
int cv_library_init(void);

/* A static English message for an error code. Never contains data. */
const char *cv_strerror(int err);

/*
 * More about the last error of this thread, when there is more to say:
 * the field and rule a record broke, the file and line of a bad policy, the
 * gate's reason for a refusal. Never a value from a record. "" when none.
 */
const char *cv_error_detail(void);

/*
 * Times. The vault keeps times as milliseconds since the Unix epoch, UTC,
 * and shows them as "YYYY-MM-DDTHH:MM:SS.mmmZ" (CV_TIME_LEN characters).
 *
 * cv_time_format writes MS in that form into BUF, NUL-terminated; a year
 * past 9999 is shown as 9999. It cannot fail.
 *
 * cv_time_parse reads TEXT, "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS[.mmm]]Z",
 * as UTC into *MS. A date must exist and lie in the years 1900-9999.
 * Returns 0, or CV_EINVAL for anything else (*MS is then unchanged).
 */
#define CV_TIME_LEN 24
void cv_time_format(uint64_t ms, char buf[static CV_TIME_LEN + 1]);
int cv_time_parse(const char *text, uint64_t *ms);

/*
 * Create a vault in DIR (which must not exist or be empty): the LMDB store,
 * the root key wrapped for ADMIN under PASS, the audit repository and its
 * signing key. PASS is borrowed and never stored. An existing DIR must be a
 * directory, not a link, owned by the caller and not writable by group or
 * others; everything the vault is made of is left 0700 or 0600 (0400 for
 * read-only pack files). On success *out is an authenticated session of
 * ADMIN, owned by the caller (cv_session_close).
 * Returns CV_EEXIST when DIR holds a vault or anything else, CV_EUNSAFE
 * when DIR is a link, another user's or writable by others, CV_EINVAL for
 * a bad name or a passphrase shorter than CV_PASSPHRASE_MIN.
 */
int cv_vault_create(const char *dir, const char *admin, const char *pass,
    size_t passlen, struct cv_session **out);

/*
 * Open the vault in DIR and authenticate USER with PASS. On success *out
 * owns the open vault and the unlocked key material. A wrong passphrase is
 * CV_EAUTH, recorded in the user's failure count and the audit trail; after
 * repeated failures the user is held off with CV_ELOCKED until the back-off
 * expires. A disabled account is CV_EDISABLED.
 */
int cv_session_open(const char *dir, const char *user, const char *pass,
    size_t passlen, struct cv_session **out);

/* Close a session, wipe its keys and close the vault. NULL is allowed. */
void cv_session_close(struct cv_session *s);

/* The session's user name and role (borrowed, valid until close). */
const char *cv_session_user(const struct cv_session *s);
const char *cv_session_role(const struct cv_session *s);

/* 1 if ROLE is one of DESIGN.md's roles (counselor ... admin), else 0. */
int cv_role_valid(const char *role);

/* Users (admin only). Roles are the names in DESIGN.md. */
int cv_user_add(struct cv_session *s, const char *name, const char *role,
    int trained, const char *pass, size_t passlen);
int cv_user_list(struct cv_session *s, json_t **out);
/* Change NAME's passphrase: the user themselves, or an admin. */
int cv_user_passwd(
    struct cv_session *s, const char *name, const char *pass, size_t passlen);
int cv_user_disable(struct cv_session *s, const char *name);

/* Cases. *id receives a NUL-terminated case id (CV_CASE_ID_LEN + 1). */
int cv_case_open(struct cv_session *s, const json_t *intake,
    char id[static CV_CASE_ID_LEN + 1]);
int cv_case_list(struct cv_session *s, json_t **out);
int cv_case_show(struct cv_session *s, const char *case_id, json_t **out);
int cv_case_assign(
    struct cv_session *s, const char *case_id, const char *user, int remove);
int cv_case_close(struct cv_session *s, const char *case_id);

/*
 * Records. A record is a JSON object of at most CV_RECORD_MAX bytes,
 * sealed under its case key. cv_record_add writes version 1 and sets
 * *record_id; cv_record_amend writes the next version. cv_record_show
 * returns version VERSION (0: the latest) as {"case","record","version",
 * "type","author","time","data"}; PURPOSE may be NULL.
 */
int cv_record_add(struct cv_session *s, const char *case_id, const char *type,
    const json_t *data, uint32_t *record_id);
int cv_record_amend(struct cv_session *s, const char *case_id,
    uint32_t record_id, const json_t *data, uint32_t *version);
int cv_record_show(struct cv_session *s, const char *case_id,
    uint32_t record_id, uint32_t version, const char *purpose, json_t **out);
int cv_record_list(struct cv_session *s, const char *case_id,
    const char *purpose, json_t **out);
int cv_record_history(struct cv_session *s, const char *case_id,
    uint32_t record_id, json_t **out);

/*
 * For display: a copy of DATA, a record of TYPE, in which every
 * enumeration value KEY is replaced by "KEY (label)" in LANG ("id" or
 * "en"), from the record schema. Nothing is stored.
 */
int cv_record_localize(
    const char *type, const json_t *data, const char *lang, json_t **out);

/*
 * Crypto-shred CASE: destroy its key and records and compact the store so
 * neither remains in any file of the vault.
 */
int cv_case_erase(struct cv_session *s, const char *case_id);

/* A compacted hot copy of the vault into DEST, which must not exist. */
int cv_vault_backup(struct cv_session *s, const char *dest);

/* A new key-encryption key; every case key is re-wrapped under it. */
int cv_key_rotate(struct cv_session *s);

/*
 * Consent (docs/consent.md). GRANT is {"recipient": {"role": R} or
 * {"user": U}, "classes": [...], "purpose": P, "from"?, "until"?,
 * "grantor": "survivor"|"guardian", "guardian"?: {"name", "relationship"},
 * "assent"?: bool, "form_ref": REF}; the vault adds the id, the time and
 * who recorded it. The survivor's age (from the intake) decides who may
 * grant; a guardian recorded as the alleged perpetrator is refused.
 * A consent covers at most CV_CONSENT_DAYS_MAX days from its start.
 * Withdrawal takes effect for every later access at once.
 */
#define CV_CONSENT_DAYS_MAX 366
int cv_case_consent_grant(struct cv_session *s, const char *case_id,
    const json_t *grant, char id[static 12]);
int cv_case_consent_withdraw(
    struct cv_session *s, const char *case_id, const char *consent_id);
int cv_case_consent_list(
    struct cv_session *s, const char *case_id, json_t **out);

/*
 * Legal-aid requests. A request names classes ("incident,legal") and a
 * purpose; a supervisor or the case counsellor approves it only when a
 * valid consent covers those classes, the purpose and the requester, for
 * HOURS (0: CV_REQUEST_HOURS_DEFAULT, at most CV_REQUEST_HOURS_MAX); the
 * requester then fetches, within that window, only the approved classes,
 * each fetch recorded as a disclosure.
 */
#define CV_REQUEST_HOURS_DEFAULT 72
#define CV_REQUEST_HOURS_MAX     720
int cv_request_create(struct cv_session *s, const char *case_id,
    const char *classes, const char *purpose, char id[static 12]);
int cv_request_decide(
    struct cv_session *s, const char *request_id, int approve, unsigned hours);
int cv_request_list(struct cv_session *s, json_t **out);
int cv_request_fetch(
    struct cv_session *s, const char *request_id, json_t **out);

/*
 * Break-glass: a time-boxed window (MINUTES, 0: CV_BREAKGLASS_MINUTES_DEFAULT,
 * at most CV_BREAKGLASS_MINUTES_MAX) on a case the user is not assigned to,
 * for the roles the policies allow. REASON is
 * stored encrypted, readable by supervisors and auditors; every access
 * inside the window is flagged in the trail; every window waits in the
 * review queue until a supervisor or auditor marks it reviewed.
 */
#define CV_BREAKGLASS_MINUTES_DEFAULT 60
#define CV_BREAKGLASS_MINUTES_MAX     240
int cv_breakglass_open(struct cv_session *s, const char *case_id,
    const char *reason, unsigned minutes, char id[static 12]);
int cv_breakglass_list(struct cv_session *s, int all, json_t **out);
int cv_breakglass_review(struct cv_session *s, const char *id);

/*
 * Disclosure on a legal basis other than consent (supervisors): BASIS from
 * the fixed list in docs/consent.md, RECIPIENT a kind (police, court,
 * prosecutor, health_service, social_service, other), NOTE free text kept
 * sealed (may be NULL). Returns the disclosed records, redacted to
 * CLASSES, and joins the review queue.
 */
int cv_disclose(struct cv_session *s, const char *case_id, const char *classes,
    const char *basis, const char *recipient, const char *note, json_t **out);

/*
 * Policies. cv_policy_check lints the *.policy files of DIR (no vault
 * needed; *out lists the findings; CV_EPOLICY with file:line in
 * cv_error_detail() for a file that does not parse). cv_policy_explain
 * shows each gate's verdict for USER (yourself, or anyone for an
 * auditor); cv_policy_deploy replaces the vault's policy set (admin),
 * keeping the old one when the new does not load.
 */
int cv_policy_check(const char *dir, json_t **out);
int cv_policy_explain(struct cv_session *s, const char *user,
    const char *action, const char *case_id, const char *cls,
    const char *purpose, json_t **out);
int cv_policy_deploy(struct cv_session *s, const char *dir);

/*
 * Case work (docs/records.md, docs/assessments.md, docs/service-flow.md).
 *
 * cv_note_add stores a counselling note (record type "note", class
 * counseling_note) of TEXT (LEN bytes, UTF-8) with KIND (NULL: "follow_up")
 * and DATE ("YYYY-MM-DD", NULL: today) and sets *record_id.
 * cv_note_show returns the notes of the case the gate lets the user read.
 */
int cv_note_add(struct cv_session *s, const char *case_id, const char *text,
    size_t len, const char *kind, const char *date, uint32_t *record_id);
int cv_note_show(struct cv_session *s, const char *case_id, json_t **out);

/*
 * Score ANSWERS ({"items": [...]}) with INSTRUMENT ("hamd", "hama",
 * "mmse"), store the scored assessment as a record of type "assessment"
 * and return {"instrument","version","total","severity",...} in *result
 * and its record id in *record_id. CV_ESCHEMA names the bad item.
 */
int cv_assess(struct cv_session *s, const char *case_id, const char *instrument,
    const json_t *answers, json_t **result, uint32_t *record_id);

/*
 * Move the case to STEP of the service flow (docs/service-flow.md);
 * REASON (at most CV_STEP_REASON_MAX bytes) may be NULL where the flow
 * needs none. A step that skips a required one is CV_ESTATE with the
 * reason in cv_error_detail().
 */
#define CV_STEP_REASON_MAX 500
int cv_case_step(struct cv_session *s, const char *case_id, const char *step,
    const char *reason);

/*
 * The coverage indicator for YEAR (docs/indicator.md), for supervisors:
 * de-identified counts only. The production of the report is audited.
 */
int cv_report_indicator(struct cv_session *s, int year, json_t **out);

/*
 * REPORT, as cv_report_indicator returned it (borrowed), as CSV for
 * publication: the header "year,breakdown,group,numerator,denominator,
 * percent" and one row for the total, each age group and each violence
 * type; a suppressed value reads "suppressed". Needs no session: the
 * report holds counts only. On success *CSV is a NUL-terminated string
 * owned by the caller (free it); on failure *CSV is NULL. Returns 0,
 * CV_EINVAL when REPORT is not shaped like such a report, or CV_ENOMEM
 * when memory runs out (also reported for a report whose cells were
 * altered).
 */
int cv_report_indicator_csv(const json_t *report, char **csv);

/*
 * The audit trail, for auditors (policy action audit.read).
 * cv_audit_verify checks every signature against the vault's audit key,
 * the sequence, the times, every Log-Root, growth since FROM (a commit id
 * saved earlier, or NULL), and that every record version in the store has
 * its audit event. *out is a report {"ok","commits","events","head",
 * "record_versions", and on failure "bad_commit","reason"}; the return is
 * CV_EVERIFY when the trail fails.
 */
int cv_audit_verify(struct cv_session *s, const char *from, json_t **out);

/*
 * The trail's own checks alone, without logging in: for a trail that
 * refuses writes (and so logins), e.g. after tampering. Needs only the
 * public key kept in the store; skips the store cross-check.
 */
int cv_audit_verify_offline(const char *dir, const char *from, json_t **out);

/*
 * The events, oldest first, filtered by case (turned into its pseudonym),
 * actor (a user name), time (SINCE in ms, 0 for all) and, with BREAKGLASS,
 * only accesses made under a break-glass window.
 */
int cv_audit_log(struct cv_session *s, const char *case_id, const char *actor,
    uint64_t since, int breakglass, json_t **out);

/* The pseudonym the trail uses for CASE_ID. */
int cv_audit_pseudonym(
    struct cv_session *s, const char *case_id, char out[static 33]);

/* Push the trail to a mirror: a path or file:// URL (fast-forward only). */
int cv_audit_push(struct cv_session *s, const char *remote);

#endif /* CASEVAULT_H */
