/*
 * The command table: every command of casevault, in one place. The
 * list of commands, each command's --help and the parser all read it
 * (the library's dispatcher has its own table of the requests these
 * commands send, src/dispatch/dispatch.c). To add a command: write its function
 * in the file of its group, declare it in cli.h, and give it a row here (its
 * options, operands, synopsis, summary and help). Numbers the library decides
 * are taken from casevault.h, and the lists of names it accepts from
 * cv_vocabulary_list through placeholders in the help ("{roles}"): neither is
 * written again here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define STR(x)  #x
#define XSTR(x) STR(x)

/* The library's numbers, as text for the help. */
#define PASSPHRASE_MIN         XSTR(CV_PASSPHRASE_MIN)
#define STEP_REASON_MAX        XSTR(CV_STEP_REASON_MAX)
#define CONSENT_DAYS_MAX       XSTR(CV_CONSENT_DAYS_MAX)
#define REQUEST_HOURS          XSTR(CV_REQUEST_HOURS_DEFAULT)
#define REQUEST_HOURS_MAX      XSTR(CV_REQUEST_HOURS_MAX)
#define BREAKGLASS_MINUTES     XSTR(CV_BREAKGLASS_MINUTES_DEFAULT)
#define BREAKGLASS_MINUTES_MAX XSTR(CV_BREAKGLASS_MINUTES_MAX)

const struct cli_opt cli_opts[OPT_COUNT] = {
    [OPT_VAULT] = {"vault", 'V', 1},
    [OPT_USER] = {"user", 'u', 1},
    [OPT_PASSFILE] = {"passphrase-file", 0, 1},
    [OPT_NEWPASSFILE] = {"new-passphrase-file", 0, 1},
    [OPT_LANG] = {"lang", 0, 1},
    [OPT_JSON] = {"json", 0, 0},
    [OPT_SOCKET] = {"socket", 0, 1},
    [OPT_ACTION] = {"action", 0, 1},
    [OPT_ACTOR] = {"actor", 0, 1},
    [OPT_ADMIN] = {"admin", 0, 1},
    [OPT_ALL] = {"all", 0, 0},
    [OPT_ALLOWED_SIGNERS] = {"allowed-signers", 0, 1},
    [OPT_ASSENT] = {"assent", 0, 0},
    [OPT_BREAKGLASS] = {"breakglass", 0, 0},
    [OPT_BY] = {"by", 0, 1},
    [OPT_CASE] = {"case", 0, 1},
    [OPT_CLASS] = {"class", 0, 1},
    [OPT_CLASSES] = {"classes", 0, 1},
    [OPT_CSV] = {"csv", 0, 0},
    [OPT_DATE] = {"date", 'd', 1},
    [OPT_EDIT] = {"edit", 'e', 0},
    [OPT_FILE] = {"file", 'f', 1},
    [OPT_FORM] = {"form", 0, 1},
    [OPT_FROM] = {"from", 0, 1},
    [OPT_HOURS] = {"hours", 0, 1},
    [OPT_KIND] = {"kind", 'k', 1},
    [OPT_LEGAL_BASIS] = {"legal-basis", 0, 1},
    [OPT_MINUTES] = {"minutes", 0, 1},
    [OPT_NOTE] = {"note", 0, 1},
    [OPT_PURPOSE] = {"purpose", 0, 1},
    [OPT_REASON] = {"reason", 'r', 1},
    [OPT_RECORD] = {"record", 0, 1},
    [OPT_RELATIONSHIP] = {"relationship", 0, 1},
    [OPT_ROLE] = {"role", 0, 1},
    [OPT_ROOT] = {"root", 0, 0},
    [OPT_SINCE] = {"since", 0, 1},
    [OPT_TO] = {"to", 0, 1},
    [OPT_TRAINED] = {"trained", 0, 0},
    [OPT_TYPE] = {"type", 't', 1},
    [OPT_UNTIL] = {"until", 0, 1},
    [OPT_VERSION] = {"version", 0, 1},
    [OPT_WHO] = {"user", 0, 1},
    [OPT_YEAR] = {"year", 'y', 1},
};

#define O CLI_O

const struct cli_cmd cli_cmds[] = {
    /* The vault itself. */
    {"init", NULL, cmd_init, O(OPT_ADMIN), 1, 1, "init DIR --admin NAME",
        "Create a vault in DIR with NAME as its first administrator.",
        "DIR must not exist, or be an empty directory (not a link) that is\n"
        "yours and that neither group nor others can write. It is made\n"
        "0700 and all in it is yours alone (files 0600); the vault refuses\n"
        "to open once group or others can write it or its audit.git, or a\n"
        "file in it is a link.\n"
        "The vault gets a random root key, wrapped for NAME under a key\n"
        "derived from the new passphrase with Argon2id (docs/formats.md),\n"
        "an LMDB store, a bare git repository audit.git for the signed\n"
        "audit trail, and the audit signer's public key (audit_signer.pub,\n"
        "allowed_signers) for auditors. The passphrase is asked twice on\n"
        "the terminal, or read from --new-passphrase-file FILE; at "
        "least\n" PASSPHRASE_MIN " characters.\n"
        "Prints the vault directory."},

    /* Accounts. */
    {"user", "add", cmd_user_add, O(OPT_ROLE) | O(OPT_TRAINED), 1, 1,
        "user add NAME --role ROLE [--trained]",
        "Add a staff account (administrators only).",
        "ROLE is one of {roles}.\n"
        "--trained marks a social rehabilitation officer who completed the\n"
        "training the coverage indicator counts. The new user's passphrase\n"
        "is asked twice or read from --new-passphrase-file FILE."},
    {"user", "list", cmd_user_list, 0, 0, 0, "user list",
        "List the accounts (administrators only).",
        "Shows id, name, role, trained, disabled and failed logins."},
    {"user", "passwd", cmd_user_passwd, 0, 1, 1, "user passwd NAME",
        "Change a passphrase: your own, or (administrators) anyone's.",
        "The new passphrase is asked twice or read from\n"
        "--new-passphrase-file FILE. It also re-wraps the user's keyslot."},
    {"user", "disable", cmd_user_disable, 0, 1, 1, "user disable NAME",
        "Disable an account (administrators only).",
        "The account keeps its id in the audit trail; its keyslot is\n"
        "destroyed, so its passphrase opens nothing any more."},

    /* Cases. */
    {"case", "open", cmd_case_open, O(OPT_FILE), 0, 0,
        "case open [--file F.json]", "Open a case; prints its id.",
        "With --file (or JSON on standard input when - is given), the\n"
        "intake record (docs/records.md) is validated and stored as\n"
        "record 1. The opener joins the case team."},
    {"case", "list", cmd_case_list, 0, 0, 0, "case list",
        "List the cases whose administrative data you may see.",
        "One line per case: its id, status (open, closed), when it was\n"
        "opened and its team as user ids. The list holds no record\n"
        "contents; --json gives the same as an array of objects."},
    {"case", "show", cmd_case_show, 0, 1, 1, "case show CASE",
        "Show a case: status, team, dates and its records.",
        "Also the step of the service flow, the timeline of the case and\n"
        "the assessment scores, each as far as the gate lets you see\n"
        "them (a social worker sees no scores). --lang id shows the step\n"
        "and timeline labels in Indonesian."},
    {"case", "assign", cmd_case_assign, 0, 2, 2, "case assign CASE USER",
        "Add USER to the case team (need-to-know).",
        "Team members read and write what their role's policy allows on\n"
        "the case; others see it only under a break-glass window or an\n"
        "approved request. Who may assign is the policies' decision (the\n"
        "shipped ones: supervisors)."},
    {"case", "unassign", cmd_case_unassign, 0, 2, 2, "case unassign CASE USER",
        "Remove USER from the case team; their access ends at once.",
        "The next read by USER is refused and recorded as refused; what\n"
        "USER read before stays in the audit trail."},
    {"case", "step", cmd_case_step, O(OPT_REASON), 2, 2,
        "case step CASE STEP [--reason TEXT]",
        "Move a case to a step of the service flow.",
        "STEP is one of {steps}, in the order of the flow\n"
        "(docs/service-flow.md). A required step cannot be skipped: the\n"
        "refusal names the step that must come first. Closing before the\n"
        "follow-up recommendation needs --reason; moving to closed closes\n"
        "the case and needs the right to close it. The reason is kept in\n"
        "the sealed case metadata and shown in the case timeline; it never\n"
        "enters the audit trail. At most " STEP_REASON_MAX
        " bytes, no control characters."},
    {"case", "close", cmd_case_close, O(OPT_REASON), 1, 1,
        "case close CASE [--reason TEXT]",
        "Close a case: no more records are added.",
        "The same as `case step CASE closed`, with its rule: closing\n"
        "before the follow-up recommendation needs --reason, kept in the\n"
        "sealed case metadata and shown in the case timeline, never in the\n"
        "audit trail. The records stay readable to the team."},

    /* Records. */
    {"record", "add", cmd_record_add, O(OPT_TYPE) | O(OPT_FILE), 1, 1,
        "record add CASE --type TYPE [--file F.json]",
        "Add a record to a case; prints its id.",
        "The JSON object is read from --file or standard input, validated\n"
        "against the schema of TYPE (docs/records.md), sealed under the\n"
        "case key and stored as version 1. Errors name the field and the\n"
        "rule, never the value."},
    {"record", "show", cmd_record_show, O(OPT_VERSION) | O(OPT_PURPOSE), 1, 2,
        "record show CASE [RECORD] [--version N] [--purpose P] [--lang "
        "id|en]",
        "Show a record (the latest version unless --version), or all.",
        "Only the data classes the gate allows are shown; the rest are\n"
        "listed as withheld. Every read is recorded in the audit trail\n"
        "before anything is shown. --lang id or --lang en shows every\n"
        "enumeration value with its Indonesian or English label."},
    {"record", "amend", cmd_record_amend, O(OPT_FILE), 2, 2,
        "record amend CASE RECORD [--file F.json]",
        "Write the next version of a record (the old ones stay).",
        "The JSON object is read from --file or standard input and\n"
        "validated against the record's type, as record add does. Every\n"
        "earlier version stays, with its author and audit event (record\n"
        "history)."},
    {"record", "history", cmd_record_history, 0, 2, 2,
        "record history CASE RECORD",
        "List the versions of a record: author, time, audit event.",
        "The audit event is the sequence number of the trail's event that\n"
        "recorded the version (audit log)."},

    /* Counselling notes and assessments. */
    {"note", "add", cmd_note_add, O(OPT_KIND) | O(OPT_DATE) | O(OPT_EDIT), 1, 1,
        "note add CASE [--kind K] [--date YYYY-MM-DD] [--edit]",
        "Write a counselling note; prints its record id.",
        "The text is read from standard input. When standard input is a\n"
        "terminal, or with --edit, $EDITOR (vi when unset) opens a new\n"
        "file in a private directory (mode 0700, file 0600); when the\n"
        "editor exits, the file and anything the editor left beside it\n"
        "are overwritten with zeros, flushed and removed, whatever\n"
        "happened. An empty note is refused.\n"
        "\n"
        "K is the kind of session, one of {note_kinds}.\n"
        "Without --kind it is " CV_NOTE_KIND_DEFAULT
        ". --date is the session date\n"
        "(default: today, UTC); it may not lie in the future. The note is\n"
        "a record of type note (docs/records.md): its text and kind are\n"
        "class counseling_note, which only the counsellors on the case\n"
        "team read, and others only under a consent that names it."},
    {"note", "show", cmd_note_show, 0, 1, 1, "note show CASE",
        "Show the counselling notes of a case.",
        "Refused, and recorded in the audit trail as refused, for a\n"
        "user whose role or need-to-know does not cover counseling_note\n"
        "(for example a social worker). Each note shown is its own\n"
        "audited read. --json gives the records as record show does."},
    {"assess", NULL, cmd_assess, O(OPT_FILE) | O(OPT_RECORD), 2, 2,
        "assess CASE INSTRUMENT --file ANSWERS.json [--record N]",
        "Score an assessment and store it; prints total and severity.",
        "INSTRUMENT is one of {instruments}.\n"
        "ANSWERS.json is {\"items\": [N, ...]}: one integer score per item\n"
        "in the instrument's order (docs/assessments.md names the items).\n"
        "A wrong number of items, an item out of its range or anything\n"
        "but integers is refused with the item and the rule, and nothing\n"
        "is stored. Otherwise the scored result (items, total, severity\n"
        "band, instrument version, date) is stored as a record of type\n"
        "assessment. --record N corrects assessment N: the answers are\n"
        "scored again and stored as its next version. Only assess writes\n"
        "an assessment: record add and record amend refuse one.\n"
        "--json prints it with \"total\" and \"severity\";\n"
        "--lang id prints the Indonesian severity label."},

    /* Consent, requests, break-glass and disclosure (docs/consent.md). */
    {"consent", "grant", cmd_consent_grant,
        O(OPT_TO) | O(OPT_CLASSES) | O(OPT_PURPOSE) | O(OPT_FORM) |
            O(OPT_UNTIL) | O(OPT_FROM) | O(OPT_BY) | O(OPT_RELATIONSHIP) |
            O(OPT_ASSENT) | O(OPT_FILE),
        1, 1,
        "consent grant CASE --to ROLE|USER --classes C1,C2 --purpose P "
        "--form REF [--from DATE] [--until DATE] [--by guardian "
        "--relationship R --assent [--file GUARDIAN.json]]",
        "Record the survivor's (or a guardian's) consent; prints its id.",
        "C1,C2 are data classes, of {classes}.\n"
        "P, the purpose, is one of {purposes}.\n"
        "REF points to the signed form. A consent runs from --from DATE\n"
        "(default: now) until DATE, at most " CONSENT_DAYS_MAX " days.\n"
        "On a child's case only a guardian grants (--by guardian), with\n"
        "--assent for the child's agreement. R, the guardian's\n"
        "relationship to the child, is required and one of\n"
        "{relationships}.\n"
        "The guardian's name is never given on the command line: it is\n"
        "read from GUARDIAN.json ({\"name\": \"...\"}) or asked for.\n"
        "A guardian who is, or may be, an alleged perpetrator in the\n"
        "intake (same name, titles such as Pak or Bu set aside, or the\n"
        "same relationship) is refused and the refusal recorded; a\n"
        "supervisor may then disclose on a legal basis. counseling_note\n"
        "is shared only when named. See docs/consent.md."},
    {"consent", "withdraw", cmd_consent_withdraw, 0, 2, 2,
        "consent withdraw CASE CONSENT",
        "Withdraw a consent; it covers nothing from that moment on.",
        "A request approved under the consent fetches nothing more; what\n"
        "was released before stays recorded as released."},
    {"consent", "list", cmd_consent_list, 0, 1, 1, "consent list CASE",
        "List the consents of a case.",
        "Every consent, withdrawn ones included, with its recipient,\n"
        "classes, purpose, period and who recorded it."},
    {"request", "create", cmd_request_create, O(OPT_CLASSES) | O(OPT_PURPOSE),
        1, 1, "request create CASE --classes C1,C2 --purpose P",
        "Ask for records of a case (legal aid); prints the request id.",
        "C1,C2 are data classes, of {classes}.\n"
        "P, the purpose, is one of {purposes}.\n"
        "The request waits for a supervisor or the case counsellor, who can\n"
        "approve it only when a valid consent covers the classes, the\n"
        "purpose and you."},
    {"request", "approve", cmd_request_approve, O(OPT_HOURS), 1, 1,
        "request approve ID [--hours N]",
        "Approve a request for N hours (default " REQUEST_HOURS ").",
        "Refused unless a valid consent covers the request's classes, its\n"
        "purpose and the requester. The requester may fetch for N hours,\n"
        "at most " REQUEST_HOURS_MAX "."},
    {"request", "deny", cmd_request_deny, 0, 1, 1, "request deny ID",
        "Deny a request.", "The requester can fetch nothing with it."},
    {"request", "list", cmd_request_list, 0, 0, 0, "request list",
        "Your requests, and those you may decide.",
        "Each with its case, classes, purpose, status and, once decided,\n"
        "who decided and until when it may be fetched."},
    {"request", "fetch", cmd_request_fetch, 0, 1, 1, "request fetch ID",
        "Receive what an approved request covers.",
        "Only the approved classes that a valid consent still covers are\n"
        "returned; the rest is named as withheld. Each fetch is recorded\n"
        "as a disclosure with a keyed hash of every version released."},
    {"breakglass", NULL, cmd_breakglass, O(OPT_REASON) | O(OPT_MINUTES), 1, 1,
        "breakglass CASE --reason TEXT [--minutes N]",
        "Open an emergency window on a case you are not assigned to.",
        "For the roles the policies allow. The window lasts N minutes\n"
        "(default " BREAKGLASS_MINUTES ", at most " BREAKGLASS_MINUTES_MAX
        "); it lets you read what a safety\n"
        "decision needs, never counselling notes. The reason is stored\n"
        "encrypted; every access is flagged in the audit trail and the\n"
        "window waits for review."},
    {"breakglass", "list", cmd_breakglass_list, O(OPT_ALL), 0, 0,
        "breakglass list [--all]",
        "The review queue: break-glass windows and disclosures not yet "
        "reviewed.",
        "Supervisors and auditors. The reasons are shown. --all lists the\n"
        "reviewed ones too."},
    {"breakglass", "review", cmd_breakglass_review, 0, 1, 1,
        "breakglass review ID",
        "Mark a break-glass window or a disclosure reviewed.",
        "Supervisors and auditors, after reading the reason and the\n"
        "flagged accesses (audit log --breakglass). The review is\n"
        "recorded in the audit trail."},
    {"disclose", NULL, cmd_disclose,
        O(OPT_CLASSES) | O(OPT_LEGAL_BASIS) | O(OPT_TO) | O(OPT_NOTE), 1, 1,
        "disclose CASE --classes C1,C2 --legal-basis BASIS --to KIND "
        "[--note TEXT]",
        "Disclose on a legal basis other than consent (supervisors).",
        "C1,C2 are data classes, of {classes}.\n"
        "BASIS is one of {legal_bases} (docs/consent.md gives the law\n"
        "behind each).\n"
        "KIND is one of {recipients}.\n"
        "The note is stored encrypted. Every disclosure is recorded with\n"
        "keyed hashes of what left and joins the review queue."},

    /* Policies. */
    {"policy", "check", cmd_policy_check, 0, 0, 1, "policy check [DIR]",
        "Parse and lint a policy directory (default ./policies).",
        "Reports files that do not parse (file:line: reason), rules that\n"
        "can never apply, and roles that can read every class. Exit 1 on\n"
        "any finding. Needs no vault."},
    {"policy", "explain", cmd_policy_explain,
        O(OPT_WHO) | O(OPT_ACTION) | O(OPT_CASE) | O(OPT_CLASS) |
            O(OPT_PURPOSE),
        0, 0,
        "policy explain --user U --action A [--case CASE] [--class C] "
        "[--purpose P]",
        "Show each gate's verdict for one access.",
        "C is a data class, of {classes}.\n"
        "P is a purpose, of {purposes}.\n"
        "Log in with -u before 'policy'; --user names whom to explain\n"
        "(yourself, or anyone for an auditor). The explanation is\n"
        "recorded in the audit trail."},
    {"policy", "deploy", cmd_policy_deploy, 0, 1, 1, "policy deploy DIR",
        "Replace the vault's policies with those of DIR (admin).",
        "All files must load, or the vault keeps the policy it had. The\n"
        "deployment is audited with the old and new set hashes; every\n"
        "event carries the hash of the set in force."},

    /* Reports. */
    {"report", "indicator", cmd_report_indicator, O(OPT_YEAR) | O(OPT_CSV), 0,
        0, "report indicator --year YEAR [--csv|--json]",
        "The coverage indicator for YEAR (supervisors).",
        "Satu Data indicator 350: the percentage of women and child\n"
        "survivors handled in YEAR who received at least one social\n"
        "rehabilitation service from a trained officer, with breakdowns\n"
        "by age group and violence type; small cells are suppressed\n"
        "(docs/indicator.md). Counts only: no case, name or date leaves\n"
        "the vault. The production of the report is recorded in the audit\n"
        "trail. --csv prints CSV for publication, --json the full\n"
        "result."},

    /* The audit trail. */
    {"audit", "verify", cmd_audit_verify, O(OPT_FROM) | O(OPT_ALLOWED_SIGNERS),
        0, 0, "audit verify [--from COMMIT] [--allowed-signers FILE]",
        "Verify the audit trail.",
        "Checks every commit's SSHSIG signature, no merges, no gaps in the\n"
        "sequence, time never running backwards, every Log-Root, that the\n"
        "log only grew since COMMIT (a head saved earlier; at least 7 hex\n"
        "digits of it, enough to be unique), and that every record version\n"
        "in the store has its audit event. Exits 1 at the first failure,\n"
        "naming the bad commit.\n"
        "--allowed-signers FILE checks the signatures against the signer\n"
        "pinned in FILE, an OpenSSH allowed_signers file kept outside the\n"
        "vault (keys/README.md); without it they are checked against the\n"
        "vault's own key, and the output says so. A trail that refuses\n"
        "writes, or a vault whose signer changed, refuses logins; the\n"
        "trail is then verified without logging in, with the public key\n"
        "alone. Stock git can check the signatures too; see\n"
        "docs/audit-format.md."},
    {"audit", "log", cmd_audit_log,
        O(OPT_CASE) | O(OPT_ACTOR) | O(OPT_SINCE) | O(OPT_BREAKGLASS), 0, 0,
        "audit log [--case CASE] [--actor USER] [--since TIME] "
        "[--breakglass]",
        "List audit events, oldest first.",
        "--case is turned into the case's pseudonym; TIME is YYYY-MM-DD or\n"
        "YYYY-MM-DDTHH:MM[:SS]Z; --breakglass keeps the accesses made\n"
        "under a break-glass window."},
    {"audit", "pseudonym", cmd_audit_pseudonym, 0, 1, 1, "audit pseudonym CASE",
        "Print a case's pseudonym, as the audit trail names it.",
        "The trail never names a case by its id; this is the keyed\n"
        "pseudonym its events carry."},
    {"audit", "push", cmd_audit_push, 0, 1, 1, "audit push REMOTE",
        "Push the audit trail to a mirror (a path or file:// URL).",
        "Only fast-forwards: a mirror that does not hold a prefix of this\n"
        "trail is refused."},

    /* Erasure, backup and keys. */
    {"erase", NULL, cmd_erase, 0, 1, 1, "erase CASE", "Crypto-shred a case.",
        "Destroys the case key, its records, consents and requests, and\n"
        "compacts the store so none of their bytes remain in any file of\n"
        "the vault. Irreversible. The audit trail keeps its pseudonymous\n"
        "events."},
    {"backup", NULL, cmd_backup, 0, 1, 1, "backup DEST",
        "Make a compacted hot copy of the vault in DEST.",
        "DEST must not exist. The copy opens with the same passphrases and\n"
        "carries the audit trail up to the moment of the copy."},
    {"restore", NULL, cmd_restore, 0, 1, 1, "restore SRC",
        "Make a backup of this vault its store again.",
        "The trail stays the vault's own; the restore is recorded, naming\n"
        "the backup's position on the trail, and the store is anchored\n"
        "there. Nothing else makes an older store current: one put back\n"
        "by hand is refused at the next login. No other process may have\n"
        "the vault open."},
    {"key", "rotate", cmd_key_rotate, O(OPT_ROOT), 0, 0, "key rotate [--root]",
        "Re-wrap every case key under a new key-encryption key.",
        "The records are not re-encrypted. The store is compacted so no\n"
        "case key wrapped under the old KEK remains.\n"
        "\n"
        "--root replaces the root key itself: a new random root key is\n"
        "sealed to every keyslot (no other passphrase is needed; every\n"
        "account logs in with its own as before), every case key is\n"
        "re-wrapped, every value sealed or MACed under a key of the old\n"
        "root is sealed or MACed again, and the store is compacted. A\n"
        "keyslot or a store file kept from before then opens nothing\n"
        "written after (records added to a case that existed before stay\n"
        "under that case's key: SECURITY.md). The audit pseudonyms and the\n"
        "signer do not change. Admins only; no other process may have the\n"
        "vault open (stop casevaultd first). Recorded as key.rotate_root."},

    /* The daemon's sessions. */
    {"login", NULL, cmd_login, 0, 0, 0, "login",
        "Log in to the daemon once, for the commands that follow.",
        "Asks for the -u user's passphrase (or reads --passphrase-file),\n"
        "logs in to casevaultd at --socket (or CASEVAULT_SOCKET) and keeps\n"
        "the session's token in $XDG_RUNTIME_DIR (which must be yours and\n"
        "0700), in a file 0600 named for the socket and the user. Commands\n"
        "with the same socket and user then run in that session without\n"
        "asking, until `casevault logout`, or until the daemon ends it\n"
        "(idle too long, too old, or stopped): then log in again."},
    {"logout", NULL, cmd_logout, 0, 0, 0, "logout",
        "End the session that `casevault login` began.",
        "Forgets the token kept for the socket and the -u user and ends\n"
        "the session at the daemon."},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
};

static void
usage_all(FILE *f)
{
	const struct cli_cmd *k;

	fprintf(f,
	    "usage: casevault [-V DIR] [-u USER] [--passphrase-file F] "
	    "[--json] COMMAND ...\n\nCommands:\n");
	for (k = cli_cmds; k->group != NULL; k++)
		fprintf(f, "  %-44s %s\n", k->synopsis, k->summary);
	fprintf(f,
	    "\ncasevault COMMAND --help, or casevault help COMMAND, "
	    "shows a command's help.\n");
}

/* The placeholders a help text may hold, each for one vocabulary. */
static const struct {
	const char *name;
	enum cv_vocabulary what;
} places[] = {
    {"roles", CV_VOCAB_ROLES},
    {"classes", CV_VOCAB_CLASSES},
    {"purposes", CV_VOCAB_PURPOSES},
    {"steps", CV_VOCAB_STEPS},
    {"note_kinds", CV_VOCAB_NOTE_KINDS},
    {"instruments", CV_VOCAB_INSTRUMENTS},
    {"legal_bases", CV_VOCAB_LEGAL_BASES},
    {"recipients", CV_VOCAB_RECIPIENTS},
    {"relationships", CV_VOCAB_RELATIONSHIPS},
};

#define HELP_WIDTH 72 /* the longest line of a help, as the texts are set */

/*
 * The length of the placeholder at P, "{name}" with a name of a-z and _,
 * or 0 when P starts none (a '{' of JSON in the help is no placeholder).
 * *PLACE is its row of places, or -1 for a name not there.
 */
static size_t
placeholder(const char *p, int *place)
{
	size_t n, i;

	*place = -1;
	if (p[0] != '{')
		return 0;
	n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
	if (n == 0 || p[n + 1] != '}')
		return 0;
	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (strlen(places[i].name) == n &&
		    strncmp(p + 1, places[i].name, n) == 0)
			*place = (int)i;
	return n + 2;
}

/* Append N bytes of S to the text being built in *BUF (length *LEN). */
static int
append(char **buf, size_t *len, const char *s, size_t n)
{
	char *b = realloc(*buf, *len + n + 1);

	if (b == NULL)
		return -1;
	memcpy(b + *len, s, n);
	*len += n;
	b[*len] = '\0';
	*buf = b;
	return 0;
}

/*
 * TEXT with every placeholder replaced by the library's list, its names
 * joined by ", ", as a new string (free it); NULL when out of memory. A
 * list the library cannot give leaves its placeholder as it is.
 */
static char *
expand(const char *text)
{
	const char *p, *sep;
	char *buf = NULL;
	size_t len = 0, n, i;
	json_t *list, *v;
	int place, r = 0;

	if (append(&buf, &len, "", 0) != 0)
		return NULL;
	for (p = text; *p != '\0' && r == 0; p += n) {
		if ((n = placeholder(p, &place)) == 0 || place < 0 ||
		    cv_vocabulary_list(places[place].what, &list) != 0) {
			n = n == 0 ? 1 : n;
			r = append(&buf, &len, p, n);
			continue;
		}
		json_array_foreach (list, i, v) {
			sep = i == 0 ? "" : ", ";
			if (r == 0)
				r = append(&buf, &len, sep, strlen(sep));
			if (r == 0)
				r = append(&buf, &len, json_string_value(v),
				    json_string_length(v));
		}
		json_decref(list);
	}
	if (r != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Print TEXT with its placeholders expanded, breaking every line longer
 * than HELP_WIDTH at its last space that fits (or, for a word longer
 * than that, at the first space after it). The texts are set within the
 * width already, so only lines that a list made long are broken.
 */
static void
help_print(const char *text)
{
	char *buf = expand(text);
	const char *line, *end, *cut, *s;

	if (buf == NULL) {
		fputs(text, stdout);
		putchar('\n');
		return;
	}
	for (line = buf; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		while ((size_t)(end - line) > HELP_WIDTH) {
			cut = NULL;
			for (s = line; s < end; s++)
				if (*s == ' ' &&
				    (cut == NULL || s - line <= HELP_WIDTH))
					cut = s;
			if (cut == NULL)
				break;
			printf("%.*s\n", (int)(cut - line), line);
			line = cut + 1;
		}
		printf("%.*s\n", (int)(end - line), line);
	}
	free(buf);
}

static void
help(const struct cli_cmd *k)
{
	printf("usage: casevault %s\n\n%s\n\n", k->synopsis, k->summary);
	help_print(k->help);
	printf("\nCommon options: -V/--vault DIR (or CASEVAULT_DIR), "
	       "-u/--user NAME (or CASEVAULT_USER),\n"
	       "--passphrase-file FILE (else a no-echo prompt), "
	       "--json,\n"
	       "--socket PATH (or CASEVAULT_SOCKET): run the command in "
	       "the daemon at PATH.\n"
	       "Exit status: 0 ok, 1 refused or failed, 2 usage.\n");
}

int
cli_usage(const struct cli *c, const char *why)
{
	if (why != NULL && why[0] != '\0')
		fprintf(stderr, "casevault %s: %s\n", c->name, why);
	if (c->cmd != NULL)
		fprintf(stderr, "usage: casevault %s\n", c->cmd->synopsis);
	return EXIT_USAGE;
}

int
cli_main(int argc, char **argv)
{
	struct cli c;
	int r;

	memset(&c, 0, sizeof(c));
	switch ((r = cli_parse(&c, argc, argv))) {
	case 0:
		r = c.cmd->fn(&c);
		break;
	case CLI_HELP:
		if (c.cmd != NULL)
			help(c.cmd);
		else
			usage_all(stdout);
		r = EXIT_OK;
		break;
	case CLI_VERSION:
		printf("casevault %s\n", CV_VERSION_STRING);
		r = EXIT_OK;
		break;
	default:
		if (c.cmd != NULL) {
			r = cli_usage(&c, c.why);
			break;
		}
		if (c.why[0] != '\0')
			fprintf(stderr, "casevault: %s\n", c.why);
		usage_all(stderr);
		r = EXIT_USAGE;
	}
	json_decref(c.args);
	return r;
}

/* The length of the option name after "--" at P. */
static size_t
name_len(const char *p)
{
	return strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
}

/* 1 when SYNOPSIS writes "--NAME". */
static int
mentions(const char *synopsis, const char *name)
{
	const char *p;

	for (p = synopsis; (p = strstr(p, "--")) != NULL; p += 2)
		if (name_len(p) == strlen(name) &&
		    strncmp(p + 2, name, strlen(name)) == 0)
			return 1;
	return 0;
}

/* 1 when the option written at P ("--NAME") is one command K takes. */
static int
takes(const struct cli_cmd *k, const char *p)
{
	int o;

	for (o = 0; o < OPT_COUNT; o++)
		if ((o < OPT_GLOBALS || (k->opts & CLI_O(o)) != 0) &&
		    strlen(cli_opts[o].name) == name_len(p) &&
		    strncmp(p + 2, cli_opts[o].name, name_len(p)) == 0)
			return 1;
	return 0;
}

int
cli_table_check(char *why, size_t whylen)
{
	const struct cli_cmd *k, *j;
	const char *p;
	char shorts[128];
	size_t n;
	int o, place;

	for (k = cli_cmds; k->group != NULL; k++) {
		if (k->fn == NULL || k->synopsis == NULL ||
		    k->summary == NULL || k->help == NULL ||
		    k->help[0] == '\0' || k->minpos < 0 ||
		    k->minpos > k->maxpos || k->maxpos > CLI_POS_MAX ||
		    (k->opts & (CLI_O(OPT_GLOBALS) - 1)) != 0 ||
		    (k->opts >> OPT_COUNT) != 0) {
			snprintf(why, whylen, "%s %s: a malformed entry",
			    k->group, k->verb ? k->verb : "");
			return -1;
		}
		for (j = cli_cmds; j != k; j++)
			if (strcmp(j->group, k->group) == 0 &&
			    (j->verb == k->verb ||
			        (j->verb != NULL && k->verb != NULL &&
			            strcmp(j->verb, k->verb) == 0))) {
				snprintf(why, whylen, "%s %s: twice", k->group,
				    k->verb ? k->verb : "");
				return -1;
			}
		for (p = k->synopsis; (p = strstr(p, "--")) != NULL; p += 2)
			if (!takes(k, p)) {
				snprintf(why, whylen,
				    "%s %s: the synopsis names %.*s", k->group,
				    k->verb ? k->verb : "",
				    (int)name_len(p) + 2, p);
				return -1;
			}
		for (p = k->help; (p = strchr(p, '{')) != NULL; p++)
			if ((n = placeholder(p, &place)) != 0 && place < 0) {
				snprintf(why, whylen,
				    "%s %s: the help names no list %.*s",
				    k->group, k->verb ? k->verb : "", (int)n,
				    p);
				return -1;
			}
		memset(shorts, 0, sizeof(shorts));
		for (o = 0; o < OPT_COUNT; o++) {
			if (o >= OPT_GLOBALS && (k->opts & CLI_O(o)) == 0)
				continue;
			if (o >= OPT_GLOBALS &&
			    !mentions(k->synopsis, cli_opts[o].name)) {
				snprintf(why, whylen,
				    "%s %s: --%s is not in the synopsis",
				    k->group, k->verb ? k->verb : "",
				    cli_opts[o].name);
				return -1;
			}
			if (cli_opts[o].shortname == 0)
				continue;
			if (shorts[(unsigned char)cli_opts[o].shortname &
			        127]++) {
				snprintf(why, whylen, "%s %s: -%c taken twice",
				    k->group, k->verb ? k->verb : "",
				    cli_opts[o].shortname);
				return -1;
			}
		}
	}
	return 0;
}
