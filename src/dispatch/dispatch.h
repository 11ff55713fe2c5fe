/*
 * The dispatcher: one table from a command's name to its handler, with
 * the arguments it takes. cv_dispatch (include/casevault.h) checks a
 * request against the table before any handler runs, so a handler reads
 * arguments that are there, of their type and within their bounds; the
 * library behind it still checks what it means (an unknown class, a
 * reason too long for the case metadata), with its own error detail.
 */
#ifndef CV_DISPATCH_H
#define CV_DISPATCH_H

#include <stdint.h>

#include <jansson.h>

#include "casevault.h"

/* The JSON type of an argument. */
enum cv_argtype {
	CV_ARG_STRING,  /* UTF-8 text without NUL, MIN..MAX bytes */
	CV_ARG_SECRET,  /* a passphrase: MIN..MAX bytes, never echoed */
	CV_ARG_INTEGER, /* a JSON integer, MIN..MAX */
	CV_ARG_BOOLEAN, /* true or false */
	CV_ARG_OBJECT, /* a JSON object: a record, answers; the library reads it
	                */
	CV_ARG_NAMES,  /* an array of MIN..MAX strings, each a name */
};

#define CV_ARGS_MAX 10 /* arguments of any command */

/* One argument of a command. */
struct cv_argspec {
	const char *name;
	enum cv_argtype type;
	int required;
	json_int_t min, max; /* bytes, value or items, by type */
};

/*
 * A command's handler: called with an open session and arguments that
 * passed the command's specification; returns 0 with *OUT, or a CV_E*
 * code (with *OUT when the command gives a result with its failure).
 */
typedef int cv_handler_fn(
    struct cv_session *s, const json_t *args, json_t **out);

/* A command of the contract. */
struct cv_command {
	const char *name; /* "record show", as the command line spells it */
	cv_handler_fn *fn;
	struct cv_argspec args[CV_ARGS_MAX]; /* ended by a NULL name */
	/* What one argument's specification cannot say: 0, or CV_EPROTO
	 * with the detail set. NULL: nothing more. */
	int (*also)(const json_t *args);
};

/* The table, ended by an entry whose name is NULL. */
extern const struct cv_command cv_commands[];

/*
 * Check REQ against the table without calling the library: an object of
 * exactly "cmd" (a known command) and "args" (an object of that command's
 * arguments, each of its type and bounds, every required one present).
 * Returns 0 with *CMD its row, or CV_EPROTO with the first fault in
 * cv_error_detail() (the argument and the rule, never a value).
 */
int cv_dispatch_check(const json_t *req, const struct cv_command **cmd);

/* The handlers (handlers.c), one a command. */
cv_handler_fn cv_h_user_add, cv_h_user_list, cv_h_user_passwd,
    cv_h_user_disable;
cv_handler_fn cv_h_case_open, cv_h_case_list, cv_h_case_show, cv_h_case_assign,
    cv_h_case_unassign, cv_h_case_step, cv_h_case_close;
cv_handler_fn cv_h_record_add, cv_h_record_show, cv_h_record_amend,
    cv_h_record_history;
cv_handler_fn cv_h_note_add, cv_h_note_show, cv_h_assess;
cv_handler_fn cv_h_consent_grant, cv_h_consent_withdraw, cv_h_consent_list;
cv_handler_fn cv_h_request_create, cv_h_request_approve, cv_h_request_deny,
    cv_h_request_list, cv_h_request_fetch;
cv_handler_fn cv_h_breakglass, cv_h_breakglass_list, cv_h_breakglass_review;
cv_handler_fn cv_h_disclose;
cv_handler_fn cv_h_policy_explain, cv_h_policy_deploy;
cv_handler_fn cv_h_report_indicator;
cv_handler_fn cv_h_audit_verify, cv_h_audit_log, cv_h_audit_pseudonym,
    cv_h_audit_push;
cv_handler_fn cv_h_erase, cv_h_backup, cv_h_restore, cv_h_key_rotate;

#endif
