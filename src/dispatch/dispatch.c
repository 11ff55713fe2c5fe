/*
 * The dispatcher's table and its checks. Whether the command line runs a
 * command in its own process or a daemon runs it for a client on its
 * socket, the request goes through cv_dispatch: one check of the request,
 * one handler, one result. The request is untrusted, so it is checked
 * whole against the table before anything of the library is called: a
 * request that fails is refused with CV_EPROTO, writes nothing and reaches
 * no gate. docs/protocol.md lists the commands and their arguments.
 */
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "dispatch/dispatch.h"

/*
 * The bounds of the protocol. They are those of the carrier, not of the
 * meaning: the library keeps its own, narrower limits (a name of
 * CV_NAME_MAX bytes, a reason of CV_STEP_REASON_MAX) and says which one
 * was broken, as it does for the command line.
 */
#define SHORT  256                      /* ids, names, vocabulary words */
#define TEXT   4096                     /* reasons, notes of a disclosure */
#define PATH   4096                     /* directories, files, remotes */
#define ITEMS  64                       /* names in a list of classes */
#define U32MAX ((json_int_t)UINT32_MAX) /* record numbers, hours, minutes */
#define INTMAX ((json_int_t)INT32_MAX)  /* a year, as the library's int */

#define S(n, r, m)                                                             \
	{                                                                      \
		.name = n, .type = CV_ARG_STRING, .required = r, .min = 0,     \
		.max = m                                                       \
	}
#define I(n, r, m)                                                             \
	{                                                                      \
		.name = n, .type = CV_ARG_INTEGER, .required = r, .min = 1,    \
		.max = m                                                       \
	}
#define B(n)                                                                   \
	{                                                                      \
		.name = n, .type = CV_ARG_BOOLEAN                              \
	}
#define OBJ(n, r)                                                              \
	{                                                                      \
		.name = n, .type = CV_ARG_OBJECT, .required = r                \
	}
#define NAMES(n)                                                               \
	{                                                                      \
		.name = n, .type = CV_ARG_NAMES, .required = 1, .min = 0,      \
		.max = ITEMS                                                   \
	}
#define PASS                                                                   \
	{                                                                      \
		.name = "passphrase", .type = CV_ARG_SECRET, .required = 1,    \
		.min = CV_PASSPHRASE_MIN, .max = CV_PASSPHRASE_MAX             \
	}
#define CASE S("case", 1, SHORT)

#define CMD0(n, f)                                                             \
	{                                                                      \
		.name = n, .fn = f                                             \
	}
#define CMD(n, f, ...)                                                         \
	{                                                                      \
		.name = n, .fn = f, .args = { __VA_ARGS__ }                    \
	}
#define CMDX(n, f, x, ...)                                                     \
	{                                                                      \
		.name = n, .fn = f, .args = {__VA_ARGS__}, .also = x           \
	}

/* record show: a version is one of a record. */
static int
version_needs_record(const json_t *args)
{
	if (json_object_get(args, "version") != NULL &&
	    json_object_get(args, "record") == NULL) {
		cv_error_set("args.version: only with args.record");
		return CV_EPROTO;
	}
	return 0;
}

/* consent grant: a relationship and an assent are a guardian's, and a
 * guardian is always said with a relationship. */
static int
guardian_named(const json_t *args)
{
	if (json_object_get(args, "guardian") == NULL &&
	    (json_object_get(args, "relationship") != NULL ||
	        json_object_get(args, "assent") != NULL)) {
		cv_error_set("args.relationship, args.assent: only with "
		             "args.guardian");
		return CV_EPROTO;
	}
	if (json_object_get(args, "guardian") != NULL &&
	    json_object_get(args, "relationship") == NULL) {
		cv_error_set("args.relationship: required with args.guardian");
		return CV_EPROTO;
	}
	return 0;
}

/* audit log: a time the trail's times compare with. */
static int
since_parses(const json_t *args)
{
	uint64_t ms;
	const char *t = json_string_value(json_object_get(args, "since"));

	if (t != NULL && cv_time_parse(t, &ms) != 0) {
		cv_error_set(
		    "args.since: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z");
		return CV_EPROTO;
	}
	return 0;
}

const struct cv_command cv_commands[] = {
    CMD("user add", cv_h_user_add, S("name", 1, SHORT), S("role", 1, SHORT),
        B("trained"), PASS),
    CMD0("user list", cv_h_user_list),
    CMD("user passwd", cv_h_user_passwd, S("name", 1, SHORT), PASS),
    CMD("user disable", cv_h_user_disable, S("name", 1, SHORT)),

    CMD("case open", cv_h_case_open, OBJ("intake", 0)),
    CMD0("case list", cv_h_case_list),
    CMD("case show", cv_h_case_show, CASE),
    CMD("case assign", cv_h_case_assign, CASE, S("user", 1, SHORT)),
    CMD("case unassign", cv_h_case_unassign, CASE, S("user", 1, SHORT)),
    CMD("case step", cv_h_case_step, CASE, S("step", 1, SHORT),
        S("reason", 0, TEXT)),
    CMD("case close", cv_h_case_close, CASE, S("reason", 0, TEXT)),

    CMD("record add", cv_h_record_add, CASE, S("type", 1, SHORT),
        OBJ("input", 1)),
    CMDX("record show", cv_h_record_show, version_needs_record, CASE,
        I("record", 0, U32MAX), I("version", 0, U32MAX),
        S("purpose", 0, SHORT)),
    CMD("record amend", cv_h_record_amend, CASE, I("record", 1, U32MAX),
        OBJ("input", 1)),
    CMD("record history", cv_h_record_history, CASE, I("record", 1, U32MAX)),

    CMD("note add", cv_h_note_add, CASE, S("text", 1, CV_RECORD_MAX),
        S("kind", 0, SHORT), S("date", 0, SHORT)),
    CMD("note show", cv_h_note_show, CASE),
    CMD("assess", cv_h_assess, CASE, S("instrument", 1, SHORT),
        OBJ("answers", 1), I("record", 0, U32MAX)),

    CMDX("consent grant", cv_h_consent_grant, guardian_named, CASE,
        S("to", 1, SHORT), NAMES("classes"), S("purpose", 1, SHORT),
        S("form", 1, TEXT), S("from", 0, SHORT), S("until", 0, SHORT),
        S("guardian", 0, TEXT), S("relationship", 0, SHORT), B("assent")),
    CMD("consent withdraw", cv_h_consent_withdraw, CASE,
        S("consent", 1, SHORT)),
    CMD("consent list", cv_h_consent_list, CASE),

    CMD("request create", cv_h_request_create, CASE, NAMES("classes"),
        S("purpose", 1, SHORT)),
    CMD("request approve", cv_h_request_approve, S("request", 1, SHORT),
        I("hours", 0, U32MAX)),
    CMD("request deny", cv_h_request_deny, S("request", 1, SHORT)),
    CMD0("request list", cv_h_request_list),
    CMD("request fetch", cv_h_request_fetch, S("request", 1, SHORT)),

    CMD("breakglass", cv_h_breakglass, CASE, S("reason", 1, TEXT),
        I("minutes", 0, U32MAX)),
    CMD("breakglass list", cv_h_breakglass_list, B("all")),
    CMD("breakglass review", cv_h_breakglass_review, S("id", 1, SHORT)),
    CMD("disclose", cv_h_disclose, CASE, NAMES("classes"),
        S("legal_basis", 1, SHORT), S("to", 1, SHORT), S("note", 0, TEXT)),

    CMD("policy explain", cv_h_policy_explain, S("user", 1, SHORT),
        S("action", 1, SHORT), S("case", 0, SHORT), S("class", 0, SHORT),
        S("purpose", 0, SHORT)),
    CMD("policy deploy", cv_h_policy_deploy, S("dir", 1, PATH)),

    CMD("report indicator", cv_h_report_indicator, I("year", 1, INTMAX)),

    CMD("audit verify", cv_h_audit_verify, S("from", 0, SHORT),
        S("allowed_signers", 0, PATH)),
    CMDX("audit log", cv_h_audit_log, since_parses, S("case", 0, SHORT),
        S("actor", 0, SHORT), S("since", 0, SHORT), B("breakglass")),
    CMD("audit pseudonym", cv_h_audit_pseudonym, CASE),
    CMD("audit push", cv_h_audit_push, S("remote", 1, PATH)),

    CMD("erase", cv_h_erase, CASE),
    CMD("backup", cv_h_backup, S("dest", 1, PATH)),
    CMD("restore", cv_h_restore, S("src", 1, PATH)),
    CMD("key rotate", cv_h_key_rotate, B("root")),
    {.name = NULL},
};

/*
 * 1 when the name S (LEN bytes) is plain enough to repeat in a detail:
 * lowercase letters, '_' and ' ', and short. What a client sends as a
 * name may be anything; a detail repeats no more than a name could be.
 */
static int
nameish(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 32)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		        s[i] == ' '))
			return 0;
	return 1;
}

static int
refuse_arg(const struct cv_argspec *a, const char *rule)
{
	cv_error_set("args.%s: %s", a->name, rule);
	return CV_EPROTO;
}

/* 1 when the string V is UTF-8 text of MIN..MAX bytes without a NUL. */
static int
text_ok(const json_t *v, json_int_t min, json_int_t max)
{
	size_t n = json_string_length(v);

	return (json_int_t)n >= min && (json_int_t)n <= max &&
	    strlen(json_string_value(v)) == n;
}

/* Check one argument's value V against its specification A. */
static int
check_arg(const struct cv_argspec *a, const json_t *v)
{
	char rule[96];
	json_int_t n;
	const json_t *x;
	size_t i;

	switch (a->type) {
	case CV_ARG_STRING:
		snprintf(rule, sizeof(rule),
		    "a string of %lld to %lld bytes, no NUL", (long long)a->min,
		    (long long)a->max);
		if (!json_is_string(v) || !text_ok(v, a->min, a->max))
			return refuse_arg(a, rule);
		return 0;
	case CV_ARG_SECRET:
		/* The length only: a passphrase may hold any byte. */
		snprintf(rule, sizeof(rule), "a string of %lld to %lld bytes",
		    (long long)a->min, (long long)a->max);
		if (!json_is_string(v) ||
		    (json_int_t)json_string_length(v) < a->min ||
		    (json_int_t)json_string_length(v) > a->max)
			return refuse_arg(a, rule);
		return 0;
	case CV_ARG_INTEGER:
		snprintf(rule, sizeof(rule), "an integer from %lld to %lld",
		    (long long)a->min, (long long)a->max);
		if (!json_is_integer(v))
			return refuse_arg(a, rule);
		n = json_integer_value(v);
		if (n < a->min || n > a->max)
			return refuse_arg(a, rule);
		return 0;
	case CV_ARG_BOOLEAN:
		if (!json_is_boolean(v))
			return refuse_arg(a, "true or false");
		return 0;
	case CV_ARG_OBJECT:
		if (!json_is_object(v))
			return refuse_arg(a, "an object");
		return 0;
	case CV_ARG_NAMES:
		snprintf(rule, sizeof(rule),
		    "an array of %lld to %lld strings of at most %d bytes, "
		    "no NUL",
		    (long long)a->min, (long long)a->max, SHORT);
		if (!json_is_array(v) ||
		    (json_int_t)json_array_size(v) < a->min ||
		    (json_int_t)json_array_size(v) > a->max)
			return refuse_arg(a, rule);
		json_array_foreach (v, i, x)
			if (!json_is_string(x) || !text_ok(x, 0, SHORT))
				return refuse_arg(a, rule);
		return 0;
	}
	return refuse_arg(a, "an argument of no known type");
}

static const struct cv_command *
command_find(const char *name)
{
	const struct cv_command *k;

	for (k = cv_commands; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static const struct cv_argspec *
arg_find(const struct cv_command *k, const char *name)
{
	const struct cv_argspec *a;

	for (a = k->args; a < k->args + CV_ARGS_MAX && a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* Check ARGS, an object, against the arguments of K. */
static int
check_args(const struct cv_command *k, const json_t *args)
{
	const struct cv_argspec *a;
	const char *name;
	const json_t *v;
	int r;

	json_object_foreach ((json_t *)args, name, v) {
		if ((a = arg_find(k, name)) == NULL) {
			if (nameish(name, strlen(name)))
				cv_error_set("args: %s takes no argument %s",
				    k->name, name);
			else
				cv_error_set(
				    "args: %s takes no such argument", k->name);
			return CV_EPROTO;
		}
		if ((r = check_arg(a, v)) != 0)
			return r;
	}
	for (a = k->args; a < k->args + CV_ARGS_MAX && a->name != NULL; a++)
		if (a->required && json_object_get(args, a->name) == NULL)
			return refuse_arg(a, "required");
	return 0;
}

int
cv_dispatch_check(const json_t *req, const struct cv_command **cmd)
{
	const json_t *name, *args;
	const struct cv_command *k;

	cv_error_clear();
	*cmd = NULL;
	if (!json_is_object(req)) {
		cv_error_set("a request is a JSON object");
		return CV_EPROTO;
	}
	name = json_object_get(req, "cmd");
	args = json_object_get(req, "args");
	if (!json_is_string(name)) {
		cv_error_set("cmd: a string naming the command is required");
		return CV_EPROTO;
	}
	if (!json_is_object(args)) {
		cv_error_set("args: an object is required");
		return CV_EPROTO;
	}
	if (json_object_size(req) != 2) {
		cv_error_set("a request holds cmd and args, nothing else");
		return CV_EPROTO;
	}
	if (strlen(json_string_value(name)) != json_string_length(name) ||
	    (k = command_find(json_string_value(name))) == NULL) {
		if (nameish(json_string_value(name), json_string_length(name)))
			cv_error_set(
			    "cmd: unknown command %s", json_string_value(name));
		else
			cv_error_set("cmd: unknown command");
		return CV_EPROTO;
	}
	if (check_args(k, args) != 0)
		return CV_EPROTO;
	if (k->also != NULL && k->also(args) != 0)
		return CV_EPROTO;
	*cmd = k;
	return 0;
}

int
cv_dispatch(struct cv_session *s, const json_t *req, json_t **resp)
{
	const struct cv_command *k;
	int r;

	cv_error_clear();
	*resp = NULL;
	if ((r = cv_dispatch_check(req, &k)) != 0)
		return r;
	if (s == NULL)
		return CV_EINVAL;
	return k->fn(s, json_object_get(req, "args"), resp);
}
