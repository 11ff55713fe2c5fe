/*
 * The handlers of the dispatcher: each calls the public functions of the
 * library for one command and builds its result, the JSON that `--json`
 * prints. They run on arguments cv_dispatch_check has passed, so every
 * argument they read is present when required, and of its type.
 * A passphrase is read in place from the request (json_string_value) and
 * handed to the library; it is never copied, and no result or detail
 * names it.
 */
#include <string.h>

#include "dispatch/dispatch.h"

/* Argument K of A: a string, or NULL when absent. */
static const char *
str(const json_t *a, const char *k)
{
	return json_string_value(json_object_get(a, k));
}

/* Argument K of A: a number the table bounds to 32 bits, or 0. */
static uint32_t
num(const json_t *a, const char *k)
{
	return (uint32_t)json_integer_value(json_object_get(a, k));
}

/* Argument K of A: 1 when true. */
static int
flag(const json_t *a, const char *k)
{
	return json_is_true(json_object_get(a, k));
}

/* The result of a call that succeeded: RES, or CV_ENOMEM when NULL. */
static int
result(json_t *res, json_t **out)
{
	*out = res;
	return res != NULL ? 0 : CV_ENOMEM;
}

/* ---- accounts ---- */

int
cv_h_user_add(struct cv_session *s, const json_t *a, json_t **out)
{
	const json_t *pass = json_object_get(a, "passphrase");
	int trained = flag(a, "trained"), r;

	if ((r = cv_user_add(s, str(a, "name"), str(a, "role"),
	         trained ? CV_USER_TRAINED : 0, json_string_value(pass),
	         json_string_length(pass))) != 0)
		return r;
	return result(json_pack("{s:s, s:s, s:b}", "name", str(a, "name"),
	                  "role", str(a, "role"), "trained", trained),
	    out);
}

int
cv_h_user_list(struct cv_session *s, const json_t *a, json_t **out)
{
	(void)a;
	return cv_user_list(s, out);
}

int
cv_h_user_passwd(struct cv_session *s, const json_t *a, json_t **out)
{
	const json_t *pass = json_object_get(a, "passphrase");
	int r;

	if ((r = cv_user_passwd(s, str(a, "name"), json_string_value(pass),
	         json_string_length(pass))) != 0)
		return r;
	return result(json_pack("{s:s}", "changed", str(a, "name")), out);
}

int
cv_h_user_disable(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_user_disable(s, str(a, "name"))) != 0)
		return r;
	return result(json_pack("{s:s}", "disabled", str(a, "name")), out);
}

/* ---- cases ---- */

int
cv_h_case_open(struct cv_session *s, const json_t *a, json_t **out)
{
	char id[CV_CASE_ID_LEN + 1];
	int r;

	if ((r = cv_case_open(s, json_object_get(a, "intake"), id)) != 0)
		return r;
	return result(json_pack("{s:s}", "case", id), out);
}

int
cv_h_case_list(struct cv_session *s, const json_t *a, json_t **out)
{
	(void)a;
	return cv_case_list(s, out);
}

int
cv_h_case_show(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_case_show(s, str(a, "case"), out);
}

/* case assign and case unassign. */
static int
team(struct cv_session *s, const json_t *a, json_t **out, int remove)
{
	int r;

	r = remove ? cv_case_unassign(s, str(a, "case"), str(a, "user"))
	           : cv_case_assign(s, str(a, "case"), str(a, "user"));
	if (r != 0)
		return r;
	return result(json_pack("{s:s, s:s}", "case", str(a, "case"),
	                  remove ? "removed" : "added", str(a, "user")),
	    out);
}

int
cv_h_case_assign(struct cv_session *s, const json_t *a, json_t **out)
{
	return team(s, a, out, 0);
}

int
cv_h_case_unassign(struct cv_session *s, const json_t *a, json_t **out)
{
	return team(s, a, out, 1);
}

int
cv_h_case_step(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_case_step(
	         s, str(a, "case"), str(a, "step"), str(a, "reason"))) != 0)
		return r;
	return result(json_pack("{s:s, s:s}", "case", str(a, "case"), "step",
	                  str(a, "step")),
	    out);
}

int
cv_h_case_close(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_case_close(s, str(a, "case"), str(a, "reason"))) != 0)
		return r;
	return result(json_pack("{s:s}", "closed", str(a, "case")), out);
}

/* ---- records, notes, assessments ---- */

int
cv_h_record_add(struct cv_session *s, const json_t *a, json_t **out)
{
	uint32_t id;
	int r;

	if ((r = cv_record_add(s, str(a, "case"), str(a, "type"),
	         json_object_get(a, "input"), &id)) != 0)
		return r;
	return result(json_pack("{s:s, s:I, s:I}", "case", str(a, "case"),
	                  "record", (json_int_t)id, "version", (json_int_t)1),
	    out);
}

/* One record (its latest version, or "version"), or every record. */
int
cv_h_record_show(struct cv_session *s, const json_t *a, json_t **out)
{
	if (json_object_get(a, "record") == NULL)
		return cv_record_list(
		    s, str(a, "case"), str(a, "purpose"), out);
	return cv_record_show(s, str(a, "case"), num(a, "record"),
	    num(a, "version"), str(a, "purpose"), out);
}

int
cv_h_record_amend(struct cv_session *s, const json_t *a, json_t **out)
{
	uint32_t ver;
	int r;

	if ((r = cv_record_amend(s, str(a, "case"), num(a, "record"),
	         json_object_get(a, "input"), &ver)) != 0)
		return r;
	return result(
	    json_pack("{s:s, s:I, s:I}", "case", str(a, "case"), "record",
	        (json_int_t)num(a, "record"), "version", (json_int_t)ver),
	    out);
}

int
cv_h_record_history(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_record_history(s, str(a, "case"), num(a, "record"), out);
}

int
cv_h_note_add(struct cv_session *s, const json_t *a, json_t **out)
{
	const json_t *text = json_object_get(a, "text");
	uint32_t id;
	int r;

	if ((r = cv_note_add(s, str(a, "case"), json_string_value(text),
	         json_string_length(text), str(a, "kind"), str(a, "date"),
	         &id)) != 0)
		return r;
	return result(json_pack("{s:s, s:I}", "case", str(a, "case"), "record",
	                  (json_int_t)id),
	    out);
}

int
cv_h_note_show(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_note_show(s, str(a, "case"), out);
}

/*
 * With "record", the assessment is scored again as its next version
 * ("record_version"; "version" is the instrument's).
 */
int
cv_h_assess(struct cv_session *s, const json_t *a, json_t **out)
{
	json_int_t rec = json_integer_value(json_object_get(a, "record"));
	uint32_t id = (uint32_t)rec, version = 0;
	int r;

	if (rec != 0)
		r = cv_assessment_amend(s, str(a, "case"), id,
		    str(a, "instrument"), json_object_get(a, "answers"), out,
		    &version);
	else
		r = cv_assessment_add(s, str(a, "case"), str(a, "instrument"),
		    json_object_get(a, "answers"), out, &id);
	if (r != 0)
		return r;
	if (json_object_set_new(*out, "case", json_string(str(a, "case"))) !=
	        0 ||
	    json_object_set_new(*out, "record", json_integer(id)) != 0 ||
	    (version != 0 &&
	        json_object_set_new(
	            *out, "record_version", json_integer(version)) != 0)) {
		json_decref(*out);
		*out = NULL;
		return CV_ENOMEM;
	}
	return 0;
}

/* ---- consent, requests, break-glass, disclosure ---- */

/*
 * The grant the arguments describe, as cv_consent_grant takes it: the
 * recipient a role when it names one, else a user; a guardian's grant
 * when "guardian" names one, with its "relationship" (the dispatcher
 * requires it; the library checks it is a word of the vocabulary).
 */
static json_t *
grant_new(const json_t *a)
{
	const char *to = str(a, "to"), *guardian = str(a, "guardian");
	const char *rel = str(a, "relationship");
	json_t *g;

	g = json_pack("{s:{s:s}, s:O, s:s, s:s, s:s}", "recipient",
	    cv_role_valid(to) ? "role" : "user", to, "classes",
	    json_object_get(a, "classes"), "purpose", str(a, "purpose"),
	    "grantor", guardian ? "guardian" : "survivor", "form_ref",
	    str(a, "form"));
	if (g == NULL)
		return NULL;
	if ((str(a, "until") != NULL &&
	        json_object_set_new(
	            g, "until", json_string(str(a, "until")))) ||
	    (str(a, "from") != NULL &&
	        json_object_set_new(g, "from", json_string(str(a, "from")))) ||
	    (guardian != NULL &&
	        (json_object_set_new(g, "guardian",
	             json_pack("{s:s, s:s?}", "name", guardian, "relationship",
	                 rel)) ||
	            json_object_set_new(
	                g, "assent", json_boolean(flag(a, "assent")))))) {
		json_decref(g);
		return NULL;
	}
	return g;
}

int
cv_h_consent_grant(struct cv_session *s, const json_t *a, json_t **out)
{
	char id[CV_OBJECT_ID_LEN + 1];
	json_t *g;
	int r;

	if ((g = grant_new(a)) == NULL)
		return CV_ENOMEM;
	r = cv_consent_grant(s, str(a, "case"), g, id);
	json_decref(g);
	if (r != 0)
		return r;
	return result(
	    json_pack("{s:s, s:s}", "case", str(a, "case"), "consent", id),
	    out);
}

int
cv_h_consent_withdraw(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_consent_withdraw(s, str(a, "case"), str(a, "consent"))) !=
	    0)
		return r;
	return result(json_pack("{s:s, s:s}", "case", str(a, "case"),
	                  "withdrawn", str(a, "consent")),
	    out);
}

int
cv_h_consent_list(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_consent_list(s, str(a, "case"), out);
}

int
cv_h_request_create(struct cv_session *s, const json_t *a, json_t **out)
{
	char id[CV_OBJECT_ID_LEN + 1];
	int r;

	if ((r = cv_request_create(s, str(a, "case"),
	         json_object_get(a, "classes"), str(a, "purpose"), id)) != 0)
		return r;
	return result(json_pack("{s:s, s:s, s:s}", "case", str(a, "case"),
	                  "request", id, "status", "pending"),
	    out);
}

/* request approve and request deny. */
static int
decide(struct cv_session *s, const json_t *a, json_t **out, int approve)
{
	int r;

	r = approve ? cv_request_approve(s, str(a, "request"), num(a, "hours"))
	            : cv_request_deny(s, str(a, "request"));
	if (r != 0)
		return r;
	return result(json_pack("{s:s, s:s}", "request", str(a, "request"),
	                  "status", approve ? "approved" : "denied"),
	    out);
}

int
cv_h_request_approve(struct cv_session *s, const json_t *a, json_t **out)
{
	return decide(s, a, out, 1);
}

int
cv_h_request_deny(struct cv_session *s, const json_t *a, json_t **out)
{
	return decide(s, a, out, 0);
}

int
cv_h_request_list(struct cv_session *s, const json_t *a, json_t **out)
{
	(void)a;
	return cv_request_list(s, out);
}

int
cv_h_request_fetch(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_request_fetch(s, str(a, "request"), out);
}

int
cv_h_breakglass(struct cv_session *s, const json_t *a, json_t **out)
{
	unsigned m = num(a, "minutes");
	char id[CV_OBJECT_ID_LEN + 1];
	int r;

	if (m == 0)
		m = CV_BREAKGLASS_MINUTES_DEFAULT;
	if ((r = cv_breakglass_open(
	         s, str(a, "case"), str(a, "reason"), m, id)) != 0)
		return r;
	return result(json_pack("{s:s, s:s, s:I}", "case", str(a, "case"),
	                  "breakglass", id, "minutes", (json_int_t)m),
	    out);
}

int
cv_h_breakglass_list(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_breakglass_list(
	    s, flag(a, "all") ? CV_BREAKGLASS_ALL : 0, out);
}

int
cv_h_breakglass_review(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_breakglass_review(s, str(a, "id"))) != 0)
		return r;
	return result(json_pack("{s:s}", "reviewed", str(a, "id")), out);
}

int
cv_h_disclose(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_case_disclose(s, str(a, "case"),
	    json_object_get(a, "classes"), str(a, "legal_basis"), str(a, "to"),
	    str(a, "note"), out);
}

/* ---- policies, reports ---- */

int
cv_h_policy_explain(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_policy_explain(s, str(a, "user"), str(a, "action"),
	    str(a, "case"), str(a, "class"), str(a, "purpose"), out);
}

int
cv_h_policy_deploy(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_policy_deploy(s, str(a, "dir"))) != 0)
		return r;
	return result(json_pack("{s:s}", "deployed", str(a, "dir")), out);
}

int
cv_h_report_indicator(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_report_indicator(
	    s, (int)json_integer_value(json_object_get(a, "year")), out);
}

/* ---- the audit trail ---- */

int
cv_h_audit_verify(struct cv_session *s, const json_t *a, json_t **out)
{
	return cv_audit_verify(
	    s, str(a, "from"), str(a, "allowed_signers"), out);
}

int
cv_h_audit_log(struct cv_session *s, const json_t *a, json_t **out)
{
	uint64_t ms = 0;

	if (str(a, "since") != NULL)
		(void)cv_time_parse(str(a, "since"), &ms); /* checked */
	return cv_audit_log(s, str(a, "case"), str(a, "actor"), ms,
	    flag(a, "breakglass") ? CV_AUDIT_BREAKGLASS : 0, out);
}

int
cv_h_audit_pseudonym(struct cv_session *s, const json_t *a, json_t **out)
{
	char p[CV_PSEUDONYM_LEN + 1];
	int r;

	if ((r = cv_audit_pseudonym(s, str(a, "case"), p)) != 0)
		return r;
	return result(
	    json_pack("{s:s, s:s}", "case", str(a, "case"), "pseudonym", p),
	    out);
}

int
cv_h_audit_push(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_audit_push(s, str(a, "remote"))) != 0)
		return r;
	return result(json_pack("{s:s}", "pushed", str(a, "remote")), out);
}

/* ---- erasure, backup, keys ---- */

int
cv_h_erase(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_case_erase(s, str(a, "case"))) != 0)
		return r;
	return result(json_pack("{s:s}", "erased", str(a, "case")), out);
}

int
cv_h_backup(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_vault_backup(s, str(a, "dest"))) != 0)
		return r;
	return result(json_pack("{s:s}", "backup", str(a, "dest")), out);
}

int
cv_h_restore(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	if ((r = cv_vault_restore(s, str(a, "src"))) != 0)
		return r;
	return result(json_pack("{s:s}", "restored", str(a, "src")), out);
}

int
cv_h_key_rotate(struct cv_session *s, const json_t *a, json_t **out)
{
	int r;

	/* "root": the root key itself (cv_key_rotate_root). */
	if (json_is_true(json_object_get(a, "root"))) {
		if ((r = cv_key_rotate_root(s)) != 0)
			return r;
		return result(
		    json_pack("{s:b, s:b}", "rotated", 1, "root", 1), out);
	}
	if ((r = cv_key_rotate(s)) != 0)
		return r;
	return result(json_pack("{s:b}", "rotated", 1), out);
}
