/*
 * casevault: an encrypted vault of case records for services that support
 * women and child survivors of violence and trafficking.
 *
 * The public C API. The one rule every caller relies on: a decrypted record
 * is returned only by the functions below that take a session, and each of
 * them decides access in the gate (src/gate/gate.c) and makes the audit
 * event durable before returning anything.
 *
 * Conventions, which hold for every function unless its comment says
 * otherwise:
 *
 *  - Names are cv_<object>_<verb>. The casevault command is built on this
 *    header alone.
 *  - Pointer arguments must not be NULL. Strings are NUL-terminated UTF-8.
 *  - Everything passed in is borrowed for the duration of the call: the
 *    library neither keeps nor changes it.
 *  - JSON comes out as a new reference in *out, owned by the caller, who
 *    releases it with json_decref(). On failure *out is NULL. Values that
 *    hold decrypted data are wiped when freed (see cv_library_init).
 *  - Ids come out in caller arrays of a fixed size (CV_CASE_ID_LEN + 1,
 *    CV_OBJECT_ID_LEN + 1), NUL-terminated; "" on failure (cv_case_open
 *    excepted). A record id or version comes out as a uint32_t, 0 on
 *    failure.
 *  - A list of data classes is a JSON array of class names, such as
 *    ["incident", "legal"], in and out. The names are those of docs/policy.md:
 *    identity, contact, incident, health, assessment, counseling_note,
 *    services, legal, case_admin.
 *  - In the shapes of JSON below, "key"? is a key that may be absent;
 *    ms is a time in milliseconds since the Unix epoch (UTC), and a "time"
 *    the text of cv_time_format(); <id> is an account's number and
 *    "u<id>" the staff id by which the trail names it.
 *  - A mode is a flag word of CV_<OBJECT>_* bits; an unknown bit is
 *    CV_EINVAL.
 *  - A live case is one that exists and was not erased (cv_case_erase).
 *  - A session is used by one thread at a time.
 *
 * Return codes. Every function that returns int returns 0 or a negative
 * CV_E* code (cv_strerror() names it, cv_error_detail() may say more), and
 * its comment lists every code it returns. Three groups recur and are
 * listed by name:
 *
 *  - the gate's answers, for a call decided by the gate under the policy
 *    action its comment names: CV_EDENIED, refused (the refusal is recorded
 *    in the audit trail and cv_error_detail() gives the reason and the
 *    rule); CV_EAUDIT, the decision could not be made durable in the audit
 *    trail, so the call did nothing and shows nothing;
 *  - store errors: CV_ESTORE (LMDB failed), CV_ECORRUPT (LMDB found its
 *    data file damaged) and CV_ENOMEM, and for a call that changes the
 *    store CV_EIO (the disk or the store's map is full);
 *  - integrity errors: CV_ECORRUPT (a value in the store is malformed) and
 *    CV_ECRYPTO (a sealed value does not open: it was altered, or moved
 *    from where it was sealed). Either means the vault's files were
 *    damaged or tampered with.
 *
 * A call that fails changes nothing in the store (a refusal is still
 * recorded in the trail), except where its comment says what stays done.
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
#define CV_EJSON     (-1014) /* malformed JSON (no function here returns it) */
#define CV_ESCHEMA   (-1015) /* input does not match the record schema */
#define CV_EPOLICY   (-1016) /* malformed policy */
#define CV_EVERSION  (-1017) /* unsupported format or schema version */
#define CV_EDISABLED (-1018) /* the account is disabled */
#define CV_EVERIFY   (-1019) /* audit trail verification failed */
#define CV_ESTATE    (-1020) /* not allowed in the current state */
#define CV_EBUSY     (-1021) /* the vault is in use by another process */
#define CV_ESEALED   (-1022) /* sealed: no custodian has unlocked the daemon */
#define CV_EUNSAFE   (-1023) /* a vault file is a link or others can write */
#define CV_EROLLBACK (-1024) /* the store is older than its audit trail */
#define CV_ETRUNC    (-1025) /* the audit trail is behind the store */
#define CV_ESERVED   (-1026) /* served vault: only the daemon opens it */
#define CV_EPROTO    (-1027) /* malformed protocol frame or request */
#define CV_ETIMEDOUT (-1028) /* the peer sent or took nothing in time */
#define CV_ESESSION  (-1029) /* no such daemon session, or it expired */

/* Limits and sizes. */
#define CV_NAME_MAX       64           /* user names, record types */
#define CV_RECORD_MAX     (256 * 1024) /* plaintext JSON of one record */
#define CV_PASSPHRASE_MAX 1024
#define CV_PASSPHRASE_MIN 10
#define CV_CASE_ID_LEN    11 /* "C" and 10 base32 characters */
#define CV_OBJECT_ID_LEN  11 /* K, R, B or D and 10 base32 characters */
#define CV_PSEUDONYM_LEN  32 /* hex characters */

struct cv_session; /* an authenticated user on an open vault */

/* ---- the library ---- */

/*
 * Initialise the library (libsodium, libgit2) and install jansson
 * allocation functions that wipe every block they free, so decrypted data
 * held as json_t does not outlive its value, and load the built-in record
 * schemas, instruments and service flow. Call once, before anything else
 * and before any json_t is made.
 * Returns 0, or:
 *   CV_ECRYPTO   libsodium cannot start
 *   CV_ECORRUPT  a built-in record schema, instrument or the service flow
 *                does not load (cv_error_detail() names it)
 *   CV_EAUDIT    libgit2 cannot start
 */
int cv_library_init(void);

/*
 * A static English message for the code ERR ("unknown error" for a value
 * that is no code). Never NULL; never holds data.
 */
const char *cv_strerror(int err);

/*
 * More about the calling thread's last failure, when the failing call had
 * more to say: the field and rule a record broke, the file and line of a
 * bad policy, the gate's reason and rule for a refusal. Never a value from
 * a record or a secret. "" when none was ever set. A call that succeeds,
 * or fails with nothing more to say, does not clear it, so it may still
 * describe an earlier failure: read it right after a failure, as a hint.
 * The string belongs to the thread and changes with its next failure.
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
 * Returns 0, or CV_EINVAL for anything else, NULL arguments included (*MS
 * is then unchanged).
 */
#define CV_TIME_LEN 24
void cv_time_format(uint64_t ms, char buf[static CV_TIME_LEN + 1]);
int cv_time_parse(const char *text, uint64_t *ms);

/* ---- vaults and sessions ---- */

/*
 * Create a vault in DIR: the LMDB store, a random root key wrapped for
 * ADMIN under PASS, the audit repository (DIR/audit.git) and its signing
 * key, whose public half is written to DIR/audit_signer.pub and
 * DIR/allowed_signers. The vault's creation is the trail's first event.
 *   DIR      a directory that does not exist (it is made, mode 0700), or
 *            an empty directory, not a link, owned by the caller and not
 *            writable by group or others
 *   ADMIN    the first account, role admin: 1 to CV_NAME_MAX characters
 *            of a-z 0-9 _ . -
 *   PASS     PASSLEN bytes, CV_PASSPHRASE_MIN to CV_PASSPHRASE_MAX, no
 *            NUL; never stored (an Argon2id hash and the wrapped key are)
 *   OUT      on success, a session of ADMIN, owned by the caller
 *            (cv_session_close)
 * Everything the vault is made of is left 0700 or 0600 (0400 for read-only
 * pack files). On failure a DIR that the call made is removed again; in a
 * DIR that existed, whatever the call made in it is.
 * Returns 0, or:
 *   CV_EINVAL    ADMIN or PASS is not acceptable
 *   CV_EEXIST    DIR holds a vault's store already, or anything else
 *   CV_EUNSAFE   DIR is a link, another user's, or writable by group or
 *                others
 *   CV_EAUDIT    the audit repository cannot be made (also when DIR holds
 *                one already) or its first event written
 *   CV_EIO       DIR cannot be made, or a file in it written
 *   CV_ETOOBIG   the path DIR is too long
 *   CV_ESTORE, CV_ENOMEM
 */
int cv_vault_create(const char *dir, const char *admin, const char *pass,
    size_t passlen, struct cv_session **out);

/*
 * Open the vault in DIR and authenticate USER with PASS (PASSLEN bytes,
 * never stored), with one Argon2id: PASS opens the account's keyslot and
 * so the keys (an account without one, disabled or a served vault's
 * staff, is checked against its Argon2id verifier, then refused). A key
 * custodian may open a served vault so, for maintenance: the login event
 * says "maintenance": true. Events that
 * waited for a writer (refused logins) enter the trail, a write that was
 * audited but never applied (its writer died) is closed with a recorded
 * outcome, as every write does first, and the
 * login is recorded. A refused login is recorded too, when the next one
 * succeeds; a wrong passphrase counts towards a back-off: after repeated
 * failures USER is held off until it expires (up to 15 minutes). On
 * success *OUT owns the open vault and the unlocked keys
 * (cv_session_close).
 * Returns 0, or:
 *   CV_EAUTH      no account USER, or a wrong passphrase (the two are not
 *                 told apart, and cost the same time), or PASSLEN over
 *                 CV_PASSPHRASE_MAX
 *   CV_ELOCKED    USER is held off after repeated failures: retry later
 *   CV_EDISABLED  the account is disabled
 *   CV_ESERVED    the vault is served and USER is no key custodian: log
 *                 in through the daemon (told only after a right
 *                 passphrase; refused logins are recorded as others)
 *   CV_ENOTFOUND  DIR holds no vault, or does not exist
 *   CV_EUNSAFE    DIR, audit.git or a file of the vault is a link, is
 *                 another user's, or is writable by group or others
 *                 (cv_error_detail() names it)
 *   CV_EVERSION   the store is of another format version
 *   CV_EROLLBACK  the store is older than the trail: the trail records a
 *                 login and a change after the position the store last
 *                 committed (an older copy was put back), or the store's
 *                 anchor was removed; nothing changed
 *   CV_ETRUNC     the trail no longer holds the position the store last
 *                 committed: it was truncated, rewritten, or its branch is
 *                 missing; nothing changed, no new trail is started
 *   CV_EAUDIT     the audit trail cannot be opened or written: while it
 *                 refuses writes, every login is refused (see
 *                 cv_audit_verify_offline); also a trail whose head is
 *                 not signed by the vault's sealed signing key
 *   CV_ECRYPTO    also: the vault's mode of custody was edited or
 *                 removed;
 *                 a copy of the audit signer's public key in the
 *                 vault (the store's, audit_signer.pub, allowed_signers)
 *                 is not the public half of the sealed signing key: the
 *                 signer changed without a recorded rotation
 *                 (cv_error_detail() names the copy)
 *   CV_EIO        the vault's lock file cannot be made or locked
 *   CV_ETOOBIG    the path DIR is too long
 *   integrity and store errors
 */
int cv_session_open(const char *dir, const char *user, const char *pass,
    size_t passlen, struct cv_session **out);

/*
 * Close S, wipe its keys and close the vault. A session that logged in
 * first anchors the store at the trail's head (best effort), so that the
 * events of its reads cannot be cut off the trail unnoticed. NULL is
 * allowed.
 */
void cv_session_close(struct cv_session *s);

/*
 * The user name and the role of the session's account, as they were at
 * login. Borrowed from S, valid until cv_session_close.
 */
const char *cv_session_user(const struct cv_session *s);
const char *cv_session_role(const struct cv_session *s);

/*
 * How far, in milliseconds, the system clock was found behind the time of
 * the audit trail's last event during the session (its login included),
 * when by more than five minutes; 0 when it never was. Decisions that
 * depend on time then run on the trail's time, never the clock's, and
 * each event says how far behind the clock was ("clock_behind_ms",
 * docs/audit-format.md). The library prints nothing: the caller warns.
 */
uint64_t cv_session_clock_behind(const struct cv_session *s);

/*
 * 1 if ROLE is one of the roles of docs/policy.md (counselor, social_worker,
 * psychologist, legal_aid, supervisor, auditor, admin), else 0.
 */
int cv_role_valid(const char *role);

/*
 * The names the library accepts, one vocabulary at a time, for callers
 * that show or offer them (the command's help): taken from where the
 * library keeps each list, so a caller never writes one again.
 *   CV_VOCAB_ROLES        account roles (cv_role_valid, cv_user_add)
 *   CV_VOCAB_CLASSES      data classes (every list of classes)
 *   CV_VOCAB_PURPOSES     consent and request purposes (cv_consent_grant)
 *   CV_VOCAB_STEPS        steps of the service flow, in order
 *                         (cv_case_step)
 *   CV_VOCAB_NOTE_KINDS   kinds of counselling session (cv_note_add)
 *   CV_VOCAB_INSTRUMENTS  assessment instruments (cv_assessment_add)
 *   CV_VOCAB_LEGAL_BASES  legal bases of a disclosure (cv_case_disclose)
 *   CV_VOCAB_RECIPIENTS   recipient kinds of a disclosure
 *                         (cv_case_disclose)
 *   CV_VOCAB_RELATIONSHIPS relationships to the survivor: a guardian's in
 *                         a consent (cv_consent_grant) and an alleged
 *                         perpetrator's in the intake, one list
 * Needs no session. On success *OUT is a new non-empty JSON array of
 * strings in the library's own order, owned by the caller; on failure
 * *OUT is NULL.
 * Returns 0, or:
 *   CV_EINVAL    WHAT is no vocabulary
 *   CV_ECORRUPT  the built-in definition that holds the list did not load
 *                (cv_library_init reports it)
 *   CV_ENOMEM
 */
enum cv_vocabulary {
	CV_VOCAB_ROLES = 0,
	CV_VOCAB_CLASSES,
	CV_VOCAB_PURPOSES,
	CV_VOCAB_STEPS,
	CV_VOCAB_NOTE_KINDS,
	CV_VOCAB_INSTRUMENTS,
	CV_VOCAB_LEGAL_BASES,
	CV_VOCAB_RECIPIENTS,
	CV_VOCAB_RELATIONSHIPS,
	CV_VOCAB_COUNT
};
int cv_vocabulary_list(enum cv_vocabulary what, json_t **out);

/* ---- accounts ---- */

/*
 * Add the account NAME with role ROLE and passphrase PASS (PASSLEN bytes,
 * never stored), with a keyslot of its own in an embedded vault; in a
 * served one only a custodian gets one, and a staff account keeps only
 * the Argon2id verifier of PASS. Policy action user.manage (the shipped
 * policies: administrators).
 *   FLAGS  0, or CV_USER_TRAINED: a social rehabilitation officer who
 *          completed the training the coverage indicator counts; and/or
 *          CV_USER_CUSTODIAN: a key custodian (ROLE must be admin; see
 *          the served mode below)
 * Returns 0, or:
 *   CV_EINVAL   an unknown flag; NAME not 1 to CV_NAME_MAX characters of
 *               a-z 0-9 _ . -; ROLE not a role (cv_role_valid); PASS not
 *               CV_PASSPHRASE_MIN to CV_PASSPHRASE_MAX bytes without NUL
 *   CV_EEXIST   an account NAME exists, disabled ones included
 *   the gate's answers; store and integrity errors
 */
#define CV_USER_TRAINED   0x1u
#define CV_USER_CUSTODIAN 0x2u
int cv_user_add(struct cv_session *s, const char *name, const char *role,
    unsigned flags, const char *pass, size_t passlen);

/*
 * Every account, in byte order of name, as an array of
 *   {"id": <id>, "name", "role", "trained": bool, "disabled": bool,
 *    "custodian": bool, "reset": bool (a one-time passphrase not yet
 *    changed), "failures": <failed logins since the last success>}
 * Policy action user.manage.
 * Returns 0, the gate's answers, or a store error.
 */
int cv_user_list(struct cv_session *s, json_t **out);

/*
 * Set the passphrase of account NAME to PASS (PASSLEN bytes, never
 * stored) and re-wrap its keyslot (a staff account of a served vault has
 * none: only its verifier changes); its failed-login count starts again.
 * One's own passphrase needs no policy (the built-in rule
 * builtin-own-passphrase); anyone else's needs user.manage.
 * Returns 0, or:
 *   CV_EINVAL     PASS not CV_PASSPHRASE_MIN to CV_PASSPHRASE_MAX bytes
 *                 without NUL
 *   CV_ENOTFOUND  no account NAME
 *   CV_EDISABLED  the account is disabled
 *   the gate's answers; store and integrity errors
 */
int cv_user_passwd(
    struct cv_session *s, const char *name, const char *pass, size_t passlen);

/*
 * Reset the passphrase of account NAME: a new one-time passphrase, made
 * here and written into PASS (CV_RESET_PASS_LEN characters of a-z and
 * 2-9 and a NUL, 120 random bits) for the administrator to hand over;
 * the caller wipes it then. Until it is changed, a session opened with it
 * may do nothing but change it (cv_user_passwd; it runs under an empty
 * policy set, so only the built-in rules about oneself apply), every
 * event of that session carries "reset_credential": true, and it does not
 * unlock the daemon (cv_vault_unlock: CV_EDENIED). The account's keyslot,
 * where it has one, is re-wrapped under it; its failed-login count starts
 * again. Policy action user.manage.
 * Returns 0, or:
 *   CV_ENOTFOUND  no account NAME
 *   CV_EDISABLED  the account is disabled
 *   the gate's answers; store and integrity errors
 * On failure PASS is wiped.
 */
#define CV_RESET_PASS_LEN 24
int cv_user_reset(struct cv_session *s, const char *name,
    char pass[static CV_RESET_PASS_LEN + 1]);

/*
 * Disable the account NAME: it keeps its id, so the trail still names it,
 * and loses its keyslot, so its passphrase unwraps nothing from then on.
 * Policy action user.manage.
 * Returns 0, or:
 *   CV_ENOTFOUND  no account NAME
 *   CV_ESTATE     the account is disabled already, or it is the session's
 *                 own (which could leave no administrator), or the last
 *                 key custodian (no one could unlock the vault)
 *   the gate's answers; store and integrity errors
 */
int cv_user_disable(struct cv_session *s, const char *name);

/* ---- cases ---- */

/*
 * A case, as cv_case_list returns it and cv_case_show begins: its
 * metadata, which holds no identity and no record contents,
 *   {"id", "status": "open"|"closed", "opener": <id>, "team": [<id>...],
 *    "opened": ms, "closed": ms|null, "next_record": <the next record id>,
 *    "erased": false,
 *    "step": <the current step of the service flow> (absent before the
 *      first), "steps": [{"step", "at": ms, "by": <id>, "reason"?}...]
 *      (absent before the first; "reason" is the text given to
 *      cv_case_step)}
 */

/*
 * Open a case: a new case key, the session's user alone on the team, and
 * with INTAKE (may be NULL) its intake record as record 1, as
 * cv_record_add(S, ID, "intake", INTAKE) would write it. Policy action
 * case.open, then write for the intake's classes.
 *   ID  the new case id
 * INTAKE is checked against the intake schema before anything is written.
 * If the intake is not stored once the case exists (the gate may refuse
 * the opener its classes), that error is returned, and ID names the new
 * case, which stays open without an intake. After any other failure ID
 * may hold an id chosen for the case that was not made: it names nothing.
 * Returns 0, or:
 *   CV_ESCHEMA   INTAKE does not match the schema (field and rule in
 *                cv_error_detail)
 *   CV_ETOOBIG   INTAKE is larger than CV_RECORD_MAX
 *   CV_EINVAL    INTAKE cannot be encoded: nested too deep, or a NUL in
 *                a string
 *   the gate's answers; store and integrity errors
 */
int cv_case_open(struct cv_session *s, const json_t *intake,
    char id[static CV_CASE_ID_LEN + 1]);

/*
 * The cases whose case_admin the session may read (policy action read,
 * class case_admin), as an array of cases (above) in id order; erased
 * cases are left out. Each case is decided, and the listing is recorded
 * as one event. None at all is an empty array, not a refusal.
 * Returns 0, the gate's answers, or a store error.
 */
int cv_case_list(struct cv_session *s, json_t **out);

/*
 * The case CASE_ID (policy action read, class case_admin), as a case
 * (above) with, added:
 *   "records": [{"record", "type", "versions": <latest version>,
 *     "author": <id of its latest version>}...] in record order;
 *   "step": the current step, or null; "step_label": {"en", "id"} (absent
 *     with no step);
 *   "timeline": the step changes and the dated records (referral,
 *     shelter, follow-up, service plan...) the session may read, oldest
 *     first: {"at", "kind": "step", "step", "label": {"en", "id"},
 *     "by": "u<id>", "reason"?} or {"at": "YYYY-MM-DD", "kind": "record",
 *     "type", "record", "label": {"en", "id"}};
 *   "assessments": {INSTRUMENT: {"results": [{"record", "date", "total",
 *     "severity", "severity_id", "worsened": bool}...], "worsened": bool}}
 *     for the assessments the session may read, oldest first; a result
 *     "worsened" when it is worse than the one before, and an instrument
 *     when its latest result did.
 * Each record opened for the timeline and the assessments is its own read,
 * decided and recorded; records of classes the session may not read are
 * not opened.
 * Returns 0, or:
 *   CV_ENOTFOUND  no case CASE_ID, or it was erased
 *   the gate's answers; store and integrity errors
 */
int cv_case_show(struct cv_session *s, const char *case_id, json_t **out);

/*
 * Add the account USER to the team of CASE_ID (need-to-know), or take it
 * off. Team members read and write what their role's policy allows on
 * the case; removal ends that at once. Policy action assign (the shipped
 * policies: supervisors).
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID; no account USER; (unassign) USER
 *                 is not on the team
 *   CV_EEXIST     (assign) USER is on the team already
 *   CV_EDISABLED  (assign) USER's account is disabled
 *   CV_ETOOBIG    (assign) the team has CV_TEAM_MAX members already
 *   the gate's answers; store and integrity errors
 */
#define CV_TEAM_MAX 64
int cv_case_assign(struct cv_session *s, const char *case_id, const char *user);
int cv_case_unassign(
    struct cv_session *s, const char *case_id, const char *user);

/*
 * Move the case to STEP of the service flow (docs/service-flow.md), kept
 * in its metadata with the time, the user and REASON. Policy action write,
 * class case_admin; moving to "closed" closes the case, under case.close
 * as cv_case_close. Who may not change the case is refused before the
 * flow is consulted, so a refusal never reveals the current step.
 *   STEP    a step of the flow
 *   REASON  why (NULL or blanks: none); needed by the flow to close
 *           before the follow-up recommendation; at most
 *           CV_STEP_REASON_MAX bytes, no control characters. Kept in the
 *           sealed metadata, never in the trail.
 * Returns 0, or:
 *   CV_EINVAL     STEP is not a step of the flow; REASON holds a control
 *                 character or is not UTF-8
 *   CV_ETOOBIG    REASON is longer than CV_STEP_REASON_MAX; the case has
 *                 CV_STEPS_MAX step changes already, or its metadata would
 *                 outgrow its limit
 *   CV_ENOTFOUND  no live case CASE_ID
 *   CV_ESTATE     the case is closed; or the flow does not allow the move
 *                 (a required step skipped, no reason to close early):
 *                 cv_error_detail() names the step that must come first,
 *                 and telling it is recorded as a read of case_admin
 *   the gate's answers; store and integrity errors (CV_ECORRUPT also for
 *   a flow definition that did not load)
 */
#define CV_STEP_REASON_MAX 500
#define CV_STEPS_MAX       100
int cv_case_step(struct cv_session *s, const char *case_id, const char *step,
    const char *reason);

/*
 * Close the case: no record is added or amended from then on; what is
 * there stays readable to the team. The same as cv_case_step to "closed"
 * (policy action case.close), with its rule: closing before the follow-up
 * recommendation needs REASON (NULL: none), kept in the sealed metadata.
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID
 *   CV_ESTATE     the case is closed already, or closing here needs a
 *                 reason (cv_error_detail() says)
 *   CV_EINVAL     REASON is not acceptable (as for cv_case_step)
 *   the gate's answers; store and integrity errors
 */
int cv_case_close(
    struct cv_session *s, const char *case_id, const char *reason);

/*
 * Crypto-shred the case: its key, records, consents, requests, windows
 * and disclosures are overwritten and deleted, its metadata replaced by a
 * tombstone that keeps the id from reuse, and the store is compacted so
 * none of their bytes remain in any file of the vault. Irreversible; the
 * trail keeps its pseudonymous events. Policy action erase.
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID
 *   CV_EBUSY      the case is erased, but another process has the vault
 *                 open, so the store could not be compacted: the bytes
 *                 may survive in freed pages until the next compaction
 *                 (another erasure or key rotation); always so for a
 *                 session of the daemon, whose store is compacted when
 *                 the vault is sealed (cv_vault_close)
 *   CV_EIO        as CV_EBUSY, the compacted copy could not be written
 *   the gate's answers; store and integrity errors
 */
int cv_case_erase(struct cv_session *s, const char *case_id);

/* ---- records ---- */

/*
 * A record, as cv_record_show returns it: one version, cut down to the
 * classes the gate allowed,
 *   {"case", "record", "version", "type", "author": <id>, "time",
 *    "data": {...}, "withheld": [classes of the record not shown],
 *    "breakglass": true (only when a break-glass window allowed it)}
 */

/*
 * Add a record of TYPE (a record type of docs/records.md) to the case:
 * DATA, a JSON object of at most CV_RECORD_MAX bytes as canonical JSON,
 * is checked against the type's schema, sealed under the case key and
 * stored as version 1 of the next record id, set in *RECORD_ID. Policy
 * action write, for each class DATA holds.
 * Returns 0, or:
 *   CV_ESCHEMA    DATA is not an object or does not match the schema (the
 *                 field and rule in cv_error_detail, never the value)
 *   CV_EINVAL     TYPE is not a record type; DATA cannot be encoded
 *                 (nested too deep, or a NUL in a string)
 *   CV_ETOOBIG    DATA is larger than CV_RECORD_MAX
 *   CV_ENOTFOUND  no live case CASE_ID
 *   CV_ESTATE     the case is closed
 *   CV_ECORRUPT   the case's next record id is taken already (its
 *                 metadata is behind its records): nothing was written
 *   CV_EEXIST     TYPE is "intake" and the case has its intake: one per
 *                 case, corrected by amendment
 *   the gate's answers; store and integrity errors
 * The record id is decided inside the write transaction: writers at the
 * same moment, in any number of processes, each get a record of their own.
 */
int cv_record_add(struct cv_session *s, const char *case_id, const char *type,
    const json_t *data, uint32_t *record_id);

/*
 * Write DATA as the next version of RECORD_ID, of the record's own type,
 * and set *VERSION to it. Every earlier version stays, with its author and
 * audit event. Policy action amend, for each class DATA holds.
 * Returns 0, or the codes of cv_record_add, where:
 *   CV_ENOTFOUND  also: no record RECORD_ID in the case
 *   CV_EINVAL     also: DATA is what the latest version holds ("no
 *                 change"); nothing is written or audited
 * The version is decided inside the write transaction: amendments at the
 * same moment each get a version of their own, in the order they commit.
 */
int cv_record_amend(struct cv_session *s, const char *case_id,
    uint32_t record_id, const json_t *data, uint32_t *version);

/*
 * Version VERSION (0: the latest) of RECORD_ID, as a record (above).
 * Policy action read, for each class of the record: the classes allowed
 * are shown, the rest withheld; the read is recorded before anything is
 * opened.
 *   PURPOSE  the purpose of the access, which a consent must name for the
 *            rules that need one; NULL for none
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID, record or version
 *   CV_EDENIED    no class of the record may be read
 *   CV_EAUDIT; store and integrity errors
 */
int cv_record_show(struct cv_session *s, const char *case_id,
    uint32_t record_id, uint32_t version, const char *purpose, json_t **out);

/*
 * The latest version of every record of the case the session may read,
 * as an array of records (above) in record order. Each record is its own
 * read, decided and recorded as cv_record_show; a record refused whole is
 * left out, its refusal on the trail. PURPOSE as for cv_record_show.
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID
 *   CV_EDENIED    the case holds records and none may be read
 *   CV_EAUDIT; store and integrity errors
 */
int cv_record_list(struct cv_session *s, const char *case_id,
    const char *purpose, json_t **out);

/*
 * The versions of RECORD_ID, oldest first, without their data:
 *   [{"version", "type", "author": <id>, "time", "audit_seq": <the
 *     sequence number of the event that recorded writing it>}...]
 * Policy action read, class case_admin.
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID, or no record RECORD_ID in it
 *   the gate's answers; store and integrity errors
 */
int cv_record_history(struct cv_session *s, const char *case_id,
    uint32_t record_id, json_t **out);

/*
 * For display: a copy of DATA, a record of TYPE, in which every
 * enumeration value KEY is replaced by "KEY (label)" in LANG ("id" or
 * "en"), from the record schema. Needs no session; nothing is stored or
 * recorded, and DATA is not checked.
 * Returns 0, or:
 *   CV_EINVAL  LANG is not "id" or "en"; TYPE is not a record type
 *   CV_ENOMEM
 */
int cv_record_localize(
    const char *type, const json_t *data, const char *lang, json_t **out);

/* ---- counselling notes and assessments ---- */

/* The kind of a note written without one. */
#define CV_NOTE_KIND_DEFAULT "follow_up"

/*
 * Write a counselling note (docs/records.md): a record of type "note",
 * whose text and kind are class counseling_note, added as cv_record_add
 * adds it, its id in *RECORD_ID.
 *   TEXT  LEN bytes of UTF-8 text, not blank, no NUL
 *   KIND  initial, follow_up, crisis, family, group, spiritual or closing
 *         (cv_vocabulary_list CV_VOCAB_NOTE_KINDS); NULL: CV_NOTE_KIND_DEFAULT
 *   DATE  the session date, "YYYY-MM-DD", not in the future; NULL: today
 *         (UTC)
 * Returns 0, or the codes of cv_record_add, where:
 *   CV_EINVAL   also: TEXT is not UTF-8 or holds a NUL
 *   CV_ETOOBIG  also: LEN is larger than CV_RECORD_MAX
 *   CV_ESCHEMA  also: TEXT is blank, KIND or DATE is not acceptable
 */
int cv_note_add(struct cv_session *s, const char *case_id, const char *text,
    size_t len, const char *kind, const char *date, uint32_t *record_id);

/*
 * The counselling notes of the case, as an array of records (above) in
 * record order. Asking for them is asking for counseling_note as a whole
 * (policy action read, class counseling_note): a user who may not read it
 * is refused, and the refusal recorded; then each note is its own read.
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID
 *   the gate's answers; store and integrity errors
 */
int cv_note_show(struct cv_session *s, const char *case_id, json_t **out);

/*
 * Score ANSWERS, {"items": [N...]} with one integer per item in the
 * instrument's order (docs/assessments.md), with INSTRUMENT ("hamd",
 * "hama" or "mmse"), and store the result, dated today (UTC), as a record
 * of type "assessment", as cv_record_add does. On success *RESULT is the
 * stored result,
 *   {"instrument", "version", "items": [...], "total", "severity": <the
 *    band's English key>, "severity_id": <its Indonesian label>, "date"}
 * owned by the caller, and *RECORD_ID its record id. Bad answers are
 * refused before anything is opened or written.
 * Returns 0, or the codes of cv_record_add, where:
 *   CV_EINVAL   also: INSTRUMENT is not an instrument
 *   CV_ESCHEMA  also: ANSWERS is malformed: a wrong number of items, an
 *               item out of its range (the item and the rule in
 *               cv_error_detail, never the answer)
 */
int cv_assessment_add(struct cv_session *s, const char *case_id,
    const char *instrument, const json_t *answers, json_t **result,
    uint32_t *record_id);

/*
 * Correct the assessment RECORD_ID of the case by scoring ANSWERS again
 * with INSTRUMENT, as cv_assessment_add does, and storing the result,
 * dated today, as its next version: the only way an assessment changes
 * (cv_record_amend refuses one). *RESULT is the stored result, *VERSION
 * its version. Returns 0, or the codes of cv_assessment_add and of
 * cv_record_amend, where:
 *   CV_EINVAL   also: RECORD_ID is not an assessment
 */
int cv_assessment_amend(struct cv_session *s, const char *case_id,
    uint32_t record_id, const char *instrument, const json_t *answers,
    json_t **result, uint32_t *version);

/* ---- consent (docs/consent.md) ---- */

/*
 * A consent, as stored and as cv_consent_list returns it:
 *   {"id", "recipient": {"role": R} or {"user": U}, "classes": [...],
 *    "purpose", "from", "until"? (as given, or "from" the time of the
 *    grant), "grantor": "survivor"|"guardian",
 *    "guardian"?: {"relationship"}, "assent"?: bool, "form_ref",
 *    "recorded_by": "u<id>", "withdrawn"?: time, "withdrawn_by"?: "u<id>"}
 * The guardian's name is stored, to be compared with the alleged
 * perpetrators, but is identity data: no list shows it.
 */

/*
 * Record a consent on the case, as GRANT describes it:
 *   {"recipient": {"role": R} or {"user": U}, "classes": [...] (each named
 *    once; no wildcard), "purpose": one of counselling, medical_referral,
 *    legal_proceeding, police_report, social_service,
 *    deidentified_statistics, "from"?, "until"? (as cv_time_parse reads
 *    them; "from" defaults to now),
 *    "grantor": "survivor"|"guardian", "guardian"?: {"name",
 *    "relationship": a word of CV_VOCAB_RELATIONSHIPS}, "assent"?: bool,
 *    "form_ref": <the signed form>}
 * The vault adds the id (in ID), "from" when absent, and "recorded_by".
 * The survivor's age, read from the intake (itself a recorded read,
 * "consent.check"), decides who grants: on a child's case a guardian,
 * with the child's assent, who is not recorded as an alleged perpetrator
 * nor possibly one (docs/consent.md gives the comparison; such a refusal
 * is recorded as a "consent.grant" event with "refusal", without the
 * name); on an adult's the survivor. A consent covers at most
 * CV_CONSENT_DAYS_MAX days from its start. Policy action consent.grant.
 * Returns 0, or:
 *   CV_EINVAL     GRANT is not an object, or breaks a rule of
 *                 docs/consent.md (the field in cv_error_detail)
 *   CV_ENOTFOUND  no live case CASE_ID; the recipient user U is no account
 *   CV_ESTATE     the case has no intake record, or its birth date cannot
 *                 be read
 *   the gate's answers (also for the read of the intake); store and
 *   integrity errors
 */
#define CV_CONSENT_DAYS_MAX 366
int cv_consent_grant(struct cv_session *s, const char *case_id,
    const json_t *grant, char id[static CV_OBJECT_ID_LEN + 1]);

/*
 * Withdraw the consent CONSENT_ID of the case: it covers nothing from
 * that moment on, for every later decision; what was released before
 * stays recorded as released. Policy action consent.withdraw.
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID, or no consent CONSENT_ID in it
 *   CV_ESTATE     the consent is withdrawn already
 *   the gate's answers; store and integrity errors
 */
int cv_consent_withdraw(
    struct cv_session *s, const char *case_id, const char *consent_id);

/*
 * Every consent of the case, withdrawn ones included, as an array of
 * consents (above) in id order. Policy action read, class case_admin.
 * Returns 0, or:
 *   CV_ENOTFOUND  no live case CASE_ID
 *   the gate's answers; store and integrity errors
 */
int cv_consent_list(struct cv_session *s, const char *case_id, json_t **out);

/* ---- legal-aid requests ---- */

/*
 * A request, as cv_request_list returns it:
 *   {"id", "case", "requester": <id>, "requester_role", "classes": [...],
 *    "purpose", "status": "pending"|"approved"|"denied"|"expired",
 *    "created": ms, "decided_by"?: "u<id>", "decided"?: ms, "until"?: ms
 *    (approved: the end of the window in which it may be fetched;
 *    "expired" is an approved request listed after that end, by the
 *    vault's time)}
 *
 * A release, as cv_request_fetch and cv_case_disclose return it:
 *   {"case", "records": [records (above), the latest version of each,
 *    cut down to the classes released], "withheld": [classes held back
 *    from some record], ...}
 * Each record is its own read, decided and recorded; then the release as
 * a whole is decided and recorded as one "disclosure" event naming every
 * version released and a keyed hash of what left.
 */

/*
 * Ask for CLASSES (a list of classes) of the case for PURPOSE (a purpose
 * of cv_consent_grant); the request waits, pending, for a decision. Its
 * id is set in ID. Policy action request.create.
 * Returns 0, or:
 *   CV_EINVAL     CLASSES is not a list of classes, or PURPOSE no purpose
 *   CV_ENOTFOUND  no live case CASE_ID
 *   the gate's answers; store and integrity errors
 */
int cv_request_create(struct cv_session *s, const char *case_id,
    const json_t *classes, const char *purpose,
    char id[static CV_OBJECT_ID_LEN + 1]);

/*
 * Decide the pending request REQUEST_ID. Policy action approve (the
 * shipped policies: supervisors, and the case's counsellor).
 * cv_request_approve lets the requester fetch for HOURS (0:
 * CV_REQUEST_HOURS_DEFAULT, at most CV_REQUEST_HOURS_MAX), and only when,
 * for every class of the request, a valid consent covers the requester
 * (by account or role), the class and the purpose. cv_request_deny closes
 * it.
 * Returns 0, or:
 *   CV_EINVAL     (approve) HOURS is over CV_REQUEST_HOURS_MAX
 *   CV_ENOTFOUND  no request REQUEST_ID, or its case was erased
 *   CV_ESTATE     the request is not pending; (approve) no valid consent
 *                 covers one of its classes (named in cv_error_detail)
 *   the gate's answers; store and integrity errors
 */
#define CV_REQUEST_HOURS_DEFAULT 72
#define CV_REQUEST_HOURS_MAX     720
int cv_request_approve(
    struct cv_session *s, const char *request_id, unsigned hours);
int cv_request_deny(struct cv_session *s, const char *request_id);

/*
 * The session's own requests and those it may decide (policy action
 * approve on their case), as an array of requests (above). The listing
 * is recorded as one event, under the built-in rule builtin-request-list.
 * Returns 0, CV_EAUDIT or a store error.
 */
int cv_request_list(struct cv_session *s, json_t **out);

/*
 * Fetch what the approved request REQUEST_ID covers, as a release (above)
 * with "request", "purpose" and "note" (why classes were withheld) added.
 * Each record is read under the request's purpose and id (policy action
 * read): only the approved classes that a valid consent still covers at
 * that moment are released. Someone else's request, a pending, denied or
 * expired one, or a withdrawn consent end in a recorded refusal.
 * Returns 0, or:
 *   CV_ENOTFOUND  no request REQUEST_ID, or its case was erased
 *   CV_EDENIED    nothing may be released (recorded; cv_error_detail says
 *                 why)
 *   CV_ETOOBIG    the release names more versions than one audit event
 *                 holds: nothing was released
 *   CV_EAUDIT; store and integrity errors
 */
int cv_request_fetch(
    struct cv_session *s, const char *request_id, json_t **out);

/* ---- break-glass and the review queue ---- */

/*
 * Open a break-glass window on a case the user is not assigned to: for
 * MINUTES (0: CV_BREAKGLASS_MINUTES_DEFAULT, at most
 * CV_BREAKGLASS_MINUTES_MAX) the policies' "when breakglass" rules apply
 * to the user on that case (they never reach counselling notes), and
 * every access they allow is flagged in the trail. Policy action
 * breakglass.open.
 *   REASON  CV_BREAKGLASS_REASON_MIN to CV_BREAKGLASS_REASON_MAX bytes
 *           of UTF-8 text, sealed in the case, readable in the review
 *           queue; the event says only that there is one
 *   ID      the window's id
 * Returns 0, or:
 *   CV_EINVAL     MINUTES over CV_BREAKGLASS_MINUTES_MAX, or REASON
 *                 shorter or longer than allowed
 *   CV_ENOTFOUND  no live case CASE_ID
 *   the gate's answers; store and integrity errors
 */
#define CV_BREAKGLASS_MINUTES_DEFAULT 60
#define CV_BREAKGLASS_MINUTES_MAX     240
#define CV_BREAKGLASS_REASON_MIN      10
#define CV_BREAKGLASS_REASON_MAX      500
int cv_breakglass_open(struct cv_session *s, const char *case_id,
    const char *reason, unsigned minutes, char id[static CV_OBJECT_ID_LEN + 1]);

/*
 * The review queue: the break-glass windows, then the disclosures of
 * cv_case_disclose, not yet reviewed, each in id order, as an array of
 *   {"kind": "breakglass", "id", "case", "user": <id>, "opened": ms,
 *    "until": ms, "reason", "reviewed": bool, "reviewed_by"?: "u<id>",
 *    "reviewed_at"?: ms} or
 *   {"kind": "disclosure", "id", "case", "user": <id>, "opened": ms,
 *    "legal_basis", "recipient", "classes": [...], "note"?,
 *    "reviewed": bool, "reviewed_by"?, "reviewed_at"?}
 * Policy action breakglass.review (the shipped policies: supervisors and
 * auditors).
 *   FLAGS  0, or CV_BREAKGLASS_ALL: the reviewed ones too
 * Returns 0, or:
 *   CV_EINVAL  an unknown flag
 *   the gate's answers; a store error
 */
#define CV_BREAKGLASS_ALL 0x1u
int cv_breakglass_list(struct cv_session *s, unsigned flags, json_t **out);

/*
 * Mark the window or disclosure ID reviewed, with who and when. Policy
 * action breakglass.review.
 * Returns 0, or:
 *   CV_ENOTFOUND  no window or disclosure ID, or its case was erased
 *   CV_ESTATE     it is reviewed already
 *   the gate's answers; store and integrity errors
 */
int cv_breakglass_review(struct cv_session *s, const char *id);

/* ---- disclosure on a legal basis ---- */

/*
 * Disclose CLASSES (a list of classes) of the case on a legal basis other
 * than consent, and return what left as a release (above) with
 * "disclosure" (its id) and "legal_basis" added. The disclosure joins the
 * review queue; NOTE stays sealed in the case. Policy action disclose (the
 * shipped policies: supervisors), for every class asked: a disclosure is
 * all or nothing.
 *   BASIS      tpks_police_report, court_order, child_protection,
 *              medical_emergency or law_enforcement (docs/consent.md)
 *   RECIPIENT  the kind of recipient: police, court, prosecutor,
 *              health_service, social_service or other
 *   NOTE       at most CV_DISCLOSURE_NOTE_MAX bytes of text (a reference
 *              number, the officer's unit), or NULL
 * Returns 0, or:
 *   CV_EINVAL     CLASSES is not a list of classes; BASIS, RECIPIENT or
 *                 NOTE is not acceptable
 *   CV_ENOTFOUND  no live case CASE_ID
 *   CV_EDENIED    a class may not be disclosed, or the case holds nothing
 *                 of CLASSES (recorded)
 *   CV_ETOOBIG    as for cv_request_fetch
 *   CV_EAUDIT; store and integrity errors
 */
#define CV_DISCLOSURE_NOTE_MAX 500
int cv_case_disclose(struct cv_session *s, const char *case_id,
    const json_t *classes, const char *basis, const char *recipient,
    const char *note, json_t **out);

/* ---- policies (docs/policy.md) ---- */

/*
 * Parse and lint the *.policy files of DIR; needs no vault. *OUT is
 *   {"files": <how many>, "hash": <the set's SHA-256, hex, as events name
 *    it>, "findings": [<one English sentence per finding>...]}
 * A set that parses but has findings is still a success.
 * Returns 0, or:
 *   CV_EPOLICY  a file does not parse, is too large, or DIR holds no
 *               *.policy file ("file:line: reason" in cv_error_detail)
 *   CV_EIO      DIR or a file in it cannot be read
 *   CV_ETOOBIG  DIR holds more policy files than a set may, or a path
 *               in it is too long
 *   CV_EINVAL   a file name a set does not take
 *   CV_ENOMEM
 */
int cv_policy_check(const char *dir, json_t **out);

/*
 * How the gate would decide ACTION (a policy action, e.g. "read") on
 * class CLS (NULL: none) of case CASE_ID (NULL: none) with PURPOSE (may
 * be NULL) for the account USER, over the facts the gate would use:
 *   {"user", "action", "role", "class": name|null, "team": bool,
 *    "consent": "none"|"valid"|"expired"|"withdrawn"|"wrong_purpose",
 *    "request": "none"|"pending"|"approved"|"expired", "breakglass": bool,
 *    "decision": "allow"|"deny", "rule", "reason", "case"?, "purpose"?}
 * The session's own access needs no policy (the built-in rule
 * builtin-explain-self); anyone else's needs audit.read. That decision
 * is recorded, naming USER as "subject"; USER's verdict is not, since
 * nothing was accessed.
 * Returns 0, or:
 *   CV_EINVAL     ACTION or CLS is unknown
 *   CV_ENOTFOUND  no account USER; no case CASE_ID
 *   the gate's answers; store and integrity errors
 */
int cv_policy_explain(struct cv_session *s, const char *user,
    const char *action, const char *case_id, const char *cls,
    const char *purpose, json_t **out);

/*
 * Replace the vault's policy set with the *.policy files of DIR, which
 * must all load: otherwise the vault keeps the set it had. The deployment
 * is recorded with the old and new set hashes, and every later event
 * names the new one. Policy action policy.deploy (under the old set).
 * Returns 0, or the codes of cv_policy_check for DIR, or the gate's
 * answers, or store and integrity errors.
 */
int cv_policy_deploy(struct cv_session *s, const char *dir);

/* ---- reports (docs/indicator.md) ---- */

/*
 * The coverage indicator for YEAR: the percentage of the women and child
 * survivors handled in YEAR who received at least one social
 * rehabilitation service from a trained officer, de-identified counts
 * only:
 *   {"year", "numerator", "denominator", "percent": one decimal, or null
 *    when the denominator is 0, "by_age_group": {GROUP: CELL},
 *    "by_violence": {TYPE: CELL}}
 * with CELL {"numerator", "denominator", "percent", "suppressed": bool},
 * a suppressed cell's counts being null. Policy action report.read,
 * decided and recorded once; the latest version of every record is then
 * read for the counts alone.
 * Returns 0, or:
 *   CV_EINVAL  YEAR is not 1900-9999
 *   the gate's answers; store and integrity errors
 */
int cv_report_indicator(struct cv_session *s, int year, json_t **out);

/*
 * REPORT, as cv_report_indicator returned it, as CSV for publication:
 * the header "year,breakdown,group,numerator,denominator,percent" and one
 * row for the total, each age group and each violence type; a suppressed
 * value reads "suppressed". Needs no session: the report holds counts
 * only. On success *CSV is a NUL-terminated string owned by the caller
 * (free it); on failure *CSV is NULL.
 * Returns 0, or:
 *   CV_EINVAL  REPORT is not shaped like such a report, or CSV is NULL
 *   CV_ENOMEM  memory ran out, or a cell of REPORT was altered
 */
int cv_report_indicator_csv(const json_t *report, char **csv);

/* ---- the audit trail (docs/audit-format.md) ---- */

/*
 * Verify the trail: every commit's signature, the sequence, the times,
 * every Log-Root, growth since FROM, and that every record version in the
 * store has the event that recorded writing it. Policy action audit.read.
 *   FROM             a commit id saved earlier (a unique prefix of 7 to 40
 *                    hex digits), which must be on the trail's chain (the
 *                    log only grew); or NULL
 *   ALLOWED_SIGNERS  the path of an OpenSSH allowed_signers file kept
 *                    outside the vault (e.g. in the repository's keys/)
 *                    pinning the vault's signer: each commit must be
 *                    signed by an ssh-ed25519 key it allows for the
 *                    namespace "git". NULL: the signatures are checked
 *                    against the vault's own copy of its key, which proves
 *                    the trail is the vault's, not that the vault's key is
 *                    the one an auditor expects
 * *OUT, set when the return is 0 or CV_EVERIFY, is owned by the caller:
 *   {"ok": bool, "signer": "pinned" | "vault", "commits", "events",
 *    "head": <the commit verified, hex>, "record_versions": <versions
 *    checked>, "bad_commit"?, "reason"?}
 * Returns 0, or:
 *   CV_EVERIFY    the trail fails a check: *OUT says where and why
 *   CV_EINVAL     FROM is not a commit id or is ambiguous, or
 *                 ALLOWED_SIGNERS is malformed or pins no ssh-ed25519 key
 *                 for "git" (the error detail says which)
 *   CV_EIO        ALLOWED_SIGNERS cannot be read
 *   CV_ECORRUPT   the store holds no audit key
 *   the gate's answers; store and integrity errors
 */
int cv_audit_verify(struct cv_session *s, const char *from,
    const char *allowed_signers, json_t **out);

/*
 * The trail's own checks alone, without logging in, for a trail that
 * refuses writes (and so logins), e.g. after tampering, or a vault that
 * refuses to open because its signer changed. Without ALLOWED_SIGNERS the
 * signatures are checked against the copy of the audit public key kept
 * in the store of the vault in DIR, which nothing authenticates without
 * a login: pin the signer (ALLOWED_SIGNERS, as for cv_audit_verify) to
 * check a trail whose files may have been replaced. Skips the store
 * cross-check. Nothing is recorded. FROM and *OUT as for
 * cv_audit_verify, with "offline": true and without "record_versions".
 * Returns 0, or:
 *   CV_EVERIFY    the trail fails a check: *OUT says where and why
 *   CV_EINVAL     as for cv_audit_verify
 *   CV_ENOTFOUND  DIR holds no vault
 *   CV_EVERSION   the store is of another format version
 *   CV_ECORRUPT   the store is malformed or holds no audit key
 *   CV_EIO        DIR does not exist, the vault's lock file in it cannot
 *                 be made or locked, or ALLOWED_SIGNERS cannot be read
 *   CV_ETOOBIG    the path DIR is too long
 *   CV_ESTORE, CV_ENOMEM
 */
int cv_audit_verify_offline(const char *dir, const char *from,
    const char *allowed_signers, json_t **out);

/*
 * The events of the trail, oldest first, as stored (docs/audit-format.md:
 * "seq", "time", "action", "actor", "role", "decision", "rule", the
 * case's pseudonym as "case", ...), as an array, keeping those of case
 * CASE_ID (NULL: any; matched by its pseudonym), of account ACTOR (NULL:
 * any) and from SINCE (ms; 0: all). Policy action audit.read.
 *   FLAGS  0, or CV_AUDIT_BREAKGLASS: only the accesses made under a
 *          break-glass window, and the break-glass events themselves
 * Returns 0, or:
 *   CV_EINVAL     an unknown flag
 *   CV_ENOTFOUND  no account ACTOR
 *   CV_EVERIFY    the trail is malformed (run cv_audit_verify)
 *   CV_EAUDIT     also: the trail's repository cannot be opened
 *   the gate's answers; store and integrity errors
 */
#define CV_AUDIT_BREAKGLASS 0x1u
int cv_audit_log(struct cv_session *s, const char *case_id, const char *actor,
    uint64_t since, unsigned flags, json_t **out);

/*
 * The keyed pseudonym by which the trail names case CASE_ID (the case
 * need not exist), into OUT. Policy action audit.read.
 * Returns 0, or:
 *   CV_EINVAL  CASE_ID is not a case id
 *   the gate's answers; a store error
 */
int cv_audit_pseudonym(struct cv_session *s, const char *case_id,
    char out[static CV_PSEUDONYM_LEN + 1]);

/*
 * Push the trail to the mirror REMOTE, a path (a bare repository is made
 * there when missing, configured to refuse non-fast-forward pushes and
 * branch deletion from any client) or a file:// URL. Only fast-forwards:
 * a mirror that does not hold a prefix of this trail is refused before
 * anything is sent, and left as it was. Policy action audit.read.
 * Returns 0, or:
 *   CV_EAUDIT  the push failed or was refused (also: the gate's answer
 *              when the decision could not be recorded)
 *   CV_EDENIED; a store error
 */
int cv_audit_push(struct cv_session *s, const char *remote);

/* ---- maintenance ---- */

/*
 * A hot copy of the vault into DEST, made mode 0700: the store,
 * compacted, the audit public key files and the trail up to that moment.
 * The copy opens with the same passphrases. Policy action backup.
 * Returns 0, or:
 *   CV_EEXIST    DEST exists
 *   CV_EIO       DEST or a file in it cannot be written (what was copied
 *                stays in DEST)
 *   CV_ETOOBIG   a path in DEST is too long
 *   CV_EAUDIT    the trail cannot be copied (also the gate's answer)
 *   CV_EDENIED; store errors
 */
int cv_vault_backup(struct cv_session *s, const char *dest);

/*
 * Make the backup in SRC (made by cv_vault_backup of this vault) the
 * vault's store again, while the trail stays the vault's own: the one way
 * an older store becomes current. The backup must be of this vault and
 * anchored at a position this vault's trail holds. The event
 * "vault.restore" names the backup's position (backup_head, backup_size,
 * backup_root) and the restored store is anchored at the trail's head, that
 * event included. No other process may have the vault open. Policy action
 * backup. Close S afterwards: the accounts and keys are the backup's.
 * Returns 0, or:
 *   CV_EINVAL   SRC is not a backup of this vault, or has no anchor
 *               (cv_error_detail() says which)
 *   CV_ETRUNC   the backup's position is not on this vault's trail
 *   CV_EBUSY    another process has the vault open (after the event: the
 *               next open records it not applied); S is a session of the
 *               daemon (before anything: stop the daemon first)
 *   CV_ENOTFOUND SRC holds no store
 *   CV_EDENIED, CV_EAUDIT, CV_EIO, CV_EUNSAFE; store errors
 */
int cv_vault_restore(struct cv_session *s, const char *src);

/*
 * Re-wrap every case key under a new key-encryption key, then compact the
 * store so no key wrapped under the old one remains. The records are not
 * re-encrypted. Policy action key.rotate.
 * Returns 0, or:
 *   CV_EBUSY  the keys are re-wrapped, but another process has the vault
 *             open, so the store could not be compacted: the old wraps may
 *             survive in freed pages until the next compaction (for a
 *             session of the daemon: until cv_vault_close)
 *   CV_EIO    as CV_EBUSY, the compacted copy could not be written
 *   the gate's answers; store and integrity errors
 */
int cv_key_rotate(struct cv_session *s);

/*
 * Replace the root key (SECURITY.md, "Rotating the root key"): a new
 * random root key is sealed to every keyslot's public key, so no
 * passphrase but the caller's is needed; every case key is re-wrapped
 * under a KEK of the new root (the next generation); the case metadata,
 * the sealed audit signing key, the policy set and the anchor are sealed
 * again, and the accounts, the queue mark and the vault's mode MACed again,
 * under its meta key; the store is compacted, so a keyslot or a store file
 * kept from before opens nothing written after. The audit pseudonyms and
 * binding digests keep their keys (stored sealed under the new root), and
 * the audit signer stays the same key. Recorded as one event,
 * "key.rotate_root", which re-signs every account; policy action
 * key.rotate. No other process may have the vault open.
 * Returns 0, or:
 *   CV_EBUSY  another process has the vault open, or S is a session of
 *             the daemon: nothing changed (or, when another process opened
 *             the vault in the moment between, the rotation is done but
 *             old values may survive in freed pages until the next
 *             compaction)
 *   CV_ECRYPTO an account or slot changed outside casevault: nothing done
 *   the gate's answers; store and integrity errors
 */
int cv_key_rotate_root(struct cv_session *s);

/* ---- served mode: the daemon's vault (docs/operations.md) ---- */

struct cv_vault; /* a vault unlocked by a custodian, shared by sessions */

/* Who is at the other end of the daemon's socket (SO_PEERCRED). */
struct cv_peer {
	int64_t pid;
	int64_t uid;
	int64_t gid;
};

/*
 * Two modes of custody (SECURITY.md). Embedded: each account's passphrase
 * opens a keyslot that wraps the root key, and each command opens the
 * vault itself. Served: only key custodians (admins created with
 * CV_USER_CUSTODIAN, and the vault's first admin) hold keyslots; the
 * daemon holds the keys while a custodian has unlocked it, and staff
 * accounts keep only an Argon2id verifier, so a staff passphrase and
 * every file of the vault decrypt nothing.
 *
 * Unlock the vault in DIR for the daemon: CUSTODIAN (an account marked as
 * a key custodian) opens her keyslot with PASS, through the same checks
 * as cv_session_open, and the vault's store, trail, keys and policy set
 * stay open in *OUT until cv_vault_close. Recorded as "vault.unlock" (in
 * place of "session.open"). Works on embedded and served vaults alike;
 * the daemon refuses an embedded one itself if it must. The vault is
 * thread-safe: any number of threads may each hold sessions of it;
 * cv_vault_reload and cv_vault_close are called by one thread, not
 * concurrently with each other.
 * Returns 0, or the codes of cv_session_open, and:
 *   CV_EDENIED  the account is not a custodian, or its passphrase is a
 *               one-time one (cv_user_reset) not yet changed
 */
int cv_vault_unlock(const char *dir, const char *custodian, const char *pass,
    size_t passlen, struct cv_vault **out);

/*
 * Log USER in on the unlocked vault V with PASS: one Argon2id check of the
 * account's verifier, the account's MAC, its disabled flag and the back-off
 * of failed logins (per account; the daemon keeps its own per peer), as
 * cv_session_open does; a failure is signed into the trail at once, a
 * wrong passphrase counted against the account, and events queued by
 * refused embedded opens are flushed. Success is recorded as
 * "session.open". PEER (may be NULL, embedded) is recorded in the session
 * and in every event it makes, as "peer": {"pid", "uid", "gid"}. The
 * session borrows V's store and trail, copies its keys and holds a
 * reference to V's policy set: close it (cv_session_end, or
 * cv_session_close) before cv_vault_close, which neither closes V's. A
 * session is used by one thread at a time.
 * Returns 0, or CV_EAUTH, CV_ELOCKED, CV_EDISABLED, CV_ECRYPTO (account
 * edited), CV_EAUDIT (also: the refusal could not be recorded), store
 * errors.
 */
int cv_vault_login(struct cv_vault *v, const char *user, const char *pass,
    size_t passlen, const struct cv_peer *peer, struct cv_session **out);

/*
 * End the session S with WHY ("logout", "expired", "shutdown"; anything
 * but 1 to 32 of a-z _ - is recorded as "other"), recorded as
 * "session.close" with "reason", then close it as cv_session_close does.
 * Works for embedded sessions too. NULL is allowed. Best effort: a close
 * that cannot be recorded still closes (cv_error_detail() says so).
 */
void cv_session_end(struct cv_session *s, const char *why);

/*
 * Reload the deployed policy set of V from its store (the daemon's
 * SIGHUP), recorded as "policy.reload" with "old_policy" and
 * "new_policy" (set hashes). Sessions opened before keep the set they
 * began with until they end; a cv_policy_deploy through a session of V
 * takes effect for new sessions at the next reload. Nothing changes when
 * the event cannot be recorded.
 * Returns 0, or CV_EPOLICY (the stored set does not load), CV_EAUDIT,
 * CV_ECRYPTO, store errors.
 */
int cv_vault_reload(struct cv_vault *v);

/*
 * Seal V: record "vault.seal", compact the store if a session of V
 * shredded anything (cv_case_erase, cv_key_rotate), close its trail and
 * store, wipe its keys. Every session of V must have ended. NULL is
 * allowed.
 */
void cv_vault_close(struct cv_vault *v);

/*
 * Create a vault in served mode: as cv_vault_create (which makes ADMIN a
 * key custodian too, in an embedded vault), the vault served from its
 * first event ("vault.init" says "mode": "served"); only custodians will
 * ever hold a keyslot.
 */
int cv_vault_create_served(const char *dir, const char *admin, const char *pass,
    size_t passlen, struct cv_session **out);

/*
 * Turn the embedded vault of S into a served one: every keyslot of an
 * account that is not a custodian is shredded (the store compacted, so no
 * copy survives in freed pages), recorded as "vault.serve" with
 * "slots_shredded", and the accounts re-signed under that event. S must
 * be a custodian admin's (a refusal is recorded) and decided by the
 * policy action key.rotate; no other process may have the vault open.
 * Returns 0, or CV_EDENIED, CV_ESTATE (served already, or S is a session
 * of the daemon), CV_EBUSY (nothing changed; or, when another process
 * opened the vault in the moment between, the vault is served but the
 * shredded slots may survive in freed pages until the next compaction),
 * CV_ETOOBIG (more accounts than one event can name, about seventy),
 * CV_EAUDIT, CV_ECRYPTO (an account was edited outside casevault), store
 * errors.
 */
int cv_vault_serve(struct cv_session *s);

/* ---- the dispatcher (docs/protocol.md) ---- */

/*
 * Run one request of the command contract as S: REQ is a JSON object
 * {"cmd": "record show", "args": {...}} with the command's arguments by
 * name, as docs/protocol.md lists them. On success *RESP is a new JSON
 * value, the command's result as `--json` prints it. The arguments are
 * untrusted: every name, type and bound is checked here, whoever sent them.
 * Secrets in REQ (passphrases) are wiped with the request when it is freed
 * (cv_init installs the wiping allocator).
 * Returns 0, or CV_EPROTO (not a request, unknown command, unknown,
 * missing or mistyped argument; cv_error_detail() names it), or the
 * command's own codes.
 */
int cv_dispatch(struct cv_session *s, const json_t *req, json_t **resp);

/* ---- frames: the daemon's wire format (docs/protocol.md) ---- */

#define CV_FRAME_MAX   (1024 * 1024) /* bytes of one frame's JSON */
#define CV_FRAME_DEPTH 32            /* nesting of arrays and objects */

/*
 * Write MSG to FD as one frame: a 4-byte big-endian length, then the
 * compact UTF-8 JSON. Waits at most TIMEOUT_MS for the peer to take it.
 * Returns 0, or CV_ETOOBIG, CV_ETIMEDOUT, CV_EIO, CV_ENOMEM.
 */
int cv_frame_write(int fd, const json_t *msg, int timeout_ms);

/*
 * Read one frame from FD into *OUT (a new JSON object), at most MAX bytes
 * of JSON (<= CV_FRAME_MAX), waiting at most TIMEOUT_MS for the whole
 * frame. Invalid UTF-8, nesting deeper than CV_FRAME_DEPTH, anything but
 * one JSON object, or a short frame is refused without reading further.
 * Returns 0, or CV_ENOTFOUND (the peer closed before a frame began),
 * CV_EPROTO, CV_ETOOBIG, CV_ETIMEDOUT, CV_EIO, CV_ENOMEM.
 */
int cv_frame_read(int fd, size_t max, int timeout_ms, json_t **out);

#endif /* CASEVAULT_H */
