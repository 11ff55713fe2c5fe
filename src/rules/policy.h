/*
 * Role policies and the access decision core.
 *
 * A policy set holds one parsed policy file per role (policies/ROLE.policy,
 * language in docs/policy.md). The gate's decision (src/gate/decide.c) puts
 * the facts of one access into a struct cv_access and asks cv_policy_decide()
 * for the verdict; the functions here do no I/O (policy texts are read by
 * the caller: cv_policy_load_dir in src/ops/policy.c, or the set sealed in
 * the store) and keep no state between calls, so the verdict depends on the
 * set and the facts alone.
 */
#ifndef CV_POLICY_H
#define CV_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/roles.h"

/* Limits of the parser. Input beyond them is refused, never truncated. */
#define CV_POLICY_FILE_MAX  (64 * 1024) /* bytes of one policy text */
#define CV_POLICY_LINE_MAX  512         /* bytes of one line, without '\n' */
#define CV_POLICY_RULES_MAX 128         /* rules in one file */
#define CV_POLICY_FILES_MAX 16          /* files in one set */
#define CV_POLICY_ID_MAX    48          /* bytes of a rule id */
#define CV_POLICY_NAME_MAX  64          /* bytes of a file name */
#define CV_POLICY_ERR_MIN   128         /* a useful size for an error buffer */

/*
 * Actions. The first CV_ACTION_CLASSED_COUNT take a data class (the gate asks
 * once per class touched); the others concern no class and are decided with
 * cls == -1. A rule never mixes the two kinds.
 */
enum cv_action {
	CV_ACTION_READ = 0,
	CV_ACTION_WRITE,
	CV_ACTION_AMEND,
	CV_ACTION_SHARE,
	CV_ACTION_EXPORT,
	CV_ACTION_DISCLOSE,
	CV_ACTION_ERASE, /* first action without a class */
	CV_ACTION_ASSIGN,
	CV_ACTION_APPROVE,
	CV_ACTION_AUDIT_READ,
	CV_ACTION_USER_MANAGE,
	CV_ACTION_CASE_OPEN,
	CV_ACTION_CASE_CLOSE,
	CV_ACTION_CONSENT_GRANT,
	CV_ACTION_CONSENT_WITHDRAW,
	CV_ACTION_REQUEST_CREATE,
	CV_ACTION_BREAKGLASS_OPEN,
	CV_ACTION_BREAKGLASS_REVIEW,
	CV_ACTION_REPORT_READ,
	CV_ACTION_POLICY_DEPLOY,
	CV_ACTION_KEY_ROTATE,
	CV_ACTION_BACKUP,
	CV_ACTION_COUNT, /* the number of policy actions: those above */

	/*
	 * Built-in actions. The gate decides each by one rule of its own
	 * (docs/policy.md, "Built-in rules"), never by a policy file: no
	 * policy names them, and cv_action_name() and cv_action_parse()
	 * know only the policy actions above.
	 */
	CV_ACTION_SELF_PASSWD = CV_ACTION_COUNT, /* "self.passwd" */
	CV_ACTION_POLICY_EXPLAIN,                /* "policy.explain" */
	CV_ACTION_REQUEST_LIST,                  /* "request.list" */
	CV_ACTION_CASE_LIST,                     /* "case.list" */
	CV_ACTION_BUILTIN_END
};
#define CV_ACTION_CLASSED_COUNT CV_ACTION_ERASE

/*
 * The policy action's name ("audit.read"), or NULL for a built-in action or
 * a value out of range; the policy action named NAME, or -1.
 */
const char *cv_action_name(enum cv_action action);
int cv_action_parse(const char *name);
/* 1 when ACTION is decided per data class, 0 otherwise (or out of range). */
int cv_action_has_class(enum cv_action action);

struct cv_policy_set;

/*
 * A new, empty set in *out, owned by the caller (cv_policy_set_free).
 * An empty set denies everything. Returns 0 or CV_ENOMEM.
 */
int cv_policy_set_new(struct cv_policy_set **out);

/*
 * Parse one policy text of LEN bytes and add it to SET. NAME names the text in
 * messages and in the hash (e.g. "legal_aid.policy"); it must be 1 to
 * CV_POLICY_NAME_MAX - 1 bytes of [A-Za-z0-9_.-] and not yet in SET. TEXT
 * need not be NUL-terminated; NAME and TEXT are copied. On error SET is left
 * exactly as it was and "name:line: reason" is written to ERR (ERRLEN bytes,
 * NUL-terminated, may be NULL when ERRLEN is 0); the reason never quotes more
 * than a short token of the input.
 * Errors about the text as a whole (too large, no policy line) name line 0.
 * Returns 0, CV_EPOLICY for a malformed text (unknown role, action, class or
 * condition, a duplicate rule id within the whole set, a line, rule count or
 * text size over its limit, a NUL or control byte...), CV_ETOOBIG when SET
 * already holds CV_POLICY_FILES_MAX files, CV_EINVAL for a bad NAME or a
 * file name already in SET, CV_ENOMEM.
 */
int cv_policy_set_add(struct cv_policy_set *set, const char *name,
    const char *text, size_t len, char *err, size_t errlen);

/* Free SET and everything in it. NULL is allowed. */
void cv_policy_set_free(struct cv_policy_set *set);

/*
 * SHA-256 of the set, for the audit events that name the policy in force:
 * over "casevault-policy-set-v1\0" then, for each file in byte order of its
 * name, the name's length (4 bytes, big-endian), the name, the text's length
 * (8 bytes, big-endian) and the text as given to cv_policy_set_add. The
 * order in which files were added does not change it; any byte of any text
 * does.
 */
void cv_policy_set_hash(const struct cv_policy_set *set, uint8_t out[32]);

/*
 * The files of SET, in byte order of their names, so the deployed set can be
 * stored and reloaded byte for byte. cv_policy_set_count() is the number of
 * files; cv_policy_set_file() sets *name, *text (NUL-terminated) and *len for
 * file I, all borrowed from SET until it is freed. Returns 0 or CV_ENOTFOUND
 * when I is out of range.
 */
size_t cv_policy_set_count(const struct cv_policy_set *set);
int cv_policy_set_file(const struct cv_policy_set *set, size_t i,
    const char **name, const char **text, size_t *len);

/*
 * Lint SET. Unknown roles, actions and classes are already parse errors; this
 * finds what parses but is probably a mistake:
 *  - an allow rule that can never apply, wholly or partly, because a deny
 *    rule that holds whenever it holds covers the same action and class;
 *  - a condition that can never hold (consent or request on an action that
 *    takes no class);
 *  - an allow on counseling_note that needs neither the case team nor a
 *    consent (break-glass never reaches counselling notes);
 *  - a role that can read every class without the case team or a consent;
 *  - a role with no rules, two files for one role, a file whose name is not
 *    "<role>.policy".
 * Appends one English string per finding to the JSON array FINDINGS (which
 * must be an array; it is not cleared). Returns the number of findings, or
 * CV_EINVAL when FINDINGS is not an array, CV_ENOMEM.
 */
int cv_policy_lint(const struct cv_policy_set *set, json_t *findings);

/*
 * The invariants no deployed policy set may break, whatever it says
 * (docs/policy.md, "Invariants"):
 *  - administrators and auditors read no record contents: no allow rule
 *    of theirs gives read, share, export or disclose of any class unless
 *    a deny rule of theirs takes it back under the same conditions;
 *  - counselling notes only to the case team or under a consent that
 *    names them: no allow rule of any role gives counseling_note without
 *    the team or a consent.
 * Returns 0, or CV_EPOLICY with the first violation, naming the file,
 * line and rule, in WHY (LEN bytes), or CV_EINVAL for a NULL set.
 */
int cv_policy_invariants(
    const struct cv_policy_set *set, char *why, size_t len);

enum cv_consent_state {
	CV_CONSENT_NONE,          /* no consent for this recipient and class */
	CV_CONSENT_VALID,         /* in its period, not withdrawn, purpose ok */
	CV_CONSENT_EXPIRED,       /* its period is over */
	CV_CONSENT_WITHDRAWN,     /* withdrawn by the survivor or guardian */
	CV_CONSENT_WRONG_PURPOSE, /* given, but for another purpose */
};

enum cv_request_state {
	CV_REQUEST_NONE,
	CV_REQUEST_PENDING,
	CV_REQUEST_APPROVED,
	CV_REQUEST_EXPIRED,
};

/* The facts the gate gathered for one (action, class). All borrowed. */
struct cv_access {
	const char *role;              /* the user's role */
	const char *action;            /* an action name, e.g. "read" */
	int cls;                       /* enum cv_class, or -1 for no class */
	int on_team;                   /* the user is on the case team */
	enum cv_consent_state consent; /* for this class, user, purpose */
	enum cv_request_state request; /* for this class */
	int breakglass;                /* open window of this user, case */
};

struct cv_decision {
	int allow;        /* 1 allow, 0 deny */
	char rule[64];    /* the rule id that decided, or "default-deny" */
	char reason[160]; /* a short phrase; names no person or data */
};

/*
 * Decide ACC under SET into *d. Deny by default (rule "default-deny"); a deny
 * rule whose conditions hold wins over every allow; otherwise the first allow
 * rule (in file order) whose action and class match and whose conditions all
 * hold allows. Condition `team` holds when on_team, `consent` only for
 * CV_CONSENT_VALID, `request` only for CV_REQUEST_APPROVED, `breakglass`
 * when breakglass. A classed action with cls == -1, or an action without
 * class with cls != -1, matches no rule. When allow rules match but their
 * conditions fail, the reason names the first failed gate of the closest
 * one ("not on the case team", "no valid consent: expired", ...).
 * Returns 0 with *d filled (a deny is a verdict, not an error), or CV_EINVAL
 * for NULL arguments, an unknown action or a class out of range (*d is then
 * a default deny as well).
 */
int cv_policy_decide(const struct cv_policy_set *set,
    const struct cv_access *acc, struct cv_decision *d);

#endif
