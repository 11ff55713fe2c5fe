/*
 * The casevault command: what its files share.
 *
 * The command line is described by one table, cli_cmds in commands.c:
 * every command with its group, verb, function, options, operands and
 * help. The parser (parse.c) reads the words of a command line against
 * that table into a struct cli without opening a file, a vault or a
 * terminal, so that it can be fuzzed alone; cli_main (commands.c) then
 * runs the command's function. Each group of commands has its file
 * (case.c, record.c, ...). A command's function turns its options and
 * operands into the arguments of a request (cli_arg and its kin), and most
 * end in cli_call: the request, {"cmd": "record show", "args": {...}}, is
 * run by the library's one dispatcher, cv_dispatch, in a session of this
 * process, or by the daemon on the other end of --socket (cli_remote,
 * remote.c); either way the result comes back as the same JSON, and the
 * command prints it the same way. The library decides; the command only
 * parses, asks for passphrases and reads files, sends and prints.
 */
#ifndef CV_CLI_H
#define CV_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "casevault.h"

#define EXIT_OK      0
#define EXIT_REFUSED 1
#define EXIT_USAGE   2

/* What cli_parse returns besides 0 and EXIT_USAGE. */
#define CLI_HELP    (-1) /* --help: show the help asked for */
#define CLI_VERSION (-2) /* --version */

/*
 * Every option of the command line, one entry per spelling: --file or
 * --classes is written the same way by every command that takes it, and
 * each command's help says what it means there. The global ones come
 * first: every command takes them, before or after its name.
 */
enum cli_optkey {
	OPT_VAULT,       /* -V, --vault DIR (else CASEVAULT_DIR) */
	OPT_USER,        /* -u, --user NAME (else CASEVAULT_USER) */
	OPT_PASSFILE,    /* --passphrase-file FILE (else a prompt) */
	OPT_NEWPASSFILE, /* --new-passphrase-file FILE */
	OPT_LANG,        /* --lang en|id */
	OPT_JSON,        /* --json */
	OPT_SOCKET,      /* --socket PATH (else CASEVAULT_SOCKET): the daemon */
	OPT_GLOBALS,     /* the number of global options */
	OPT_ACTION = OPT_GLOBALS,
	OPT_ACTOR,
	OPT_ADMIN,
	OPT_ALL,
	OPT_ALLOWED_SIGNERS,
	OPT_ASSENT,
	OPT_BREAKGLASS,
	OPT_BY,
	OPT_CASE,
	OPT_CLASS,
	OPT_CLASSES,
	OPT_CSV,
	OPT_DATE,
	OPT_EDIT,
	OPT_FILE,
	OPT_FORM,
	OPT_FROM,
	OPT_HOURS,
	OPT_KIND,
	OPT_LEGAL_BASIS,
	OPT_MINUTES,
	OPT_NOTE,
	OPT_PURPOSE,
	OPT_REASON,
	OPT_RECORD,
	OPT_RELATIONSHIP,
	OPT_ROLE,
	OPT_ROOT, /* key rotate --root */
	OPT_SINCE,
	OPT_TO,
	OPT_TRAINED,
	OPT_TYPE,
	OPT_UNTIL,
	OPT_VERSION,
	OPT_WHO, /* policy explain --user: whom to explain */
	OPT_YEAR,
	OPT_COUNT
};

/* The option set of a command: CLI_O(OPT_FILE) | CLI_O(OPT_TYPE). */
#define CLI_O(k) ((uint64_t)1 << (k))
_Static_assert(OPT_COUNT <= 64, "an option set is a 64-bit mask");

/* How an option is written. */
struct cli_opt {
	const char *name; /* "--NAME"; "--NAME=VALUE" for one with a value */
	char shortname;   /* "-X", or 0 for none */
	int arg;          /* 1: takes a value; 0: a flag */
};

/* The options, indexed by enum cli_optkey. */
extern const struct cli_opt cli_opts[OPT_COUNT];

#define CLI_POS_MAX    2   /* operands of any command */
#define CLI_WHY_MAX    200 /* a usage error message */
#define CLI_DETAIL_MAX 512 /* the detail of an error the daemon sent */

struct cli;

/*
 * A command: "casevault GROUP VERB [options] [operands]". FN runs it
 * once the parser has filled the struct cli: it validates what the
 * parser cannot (required options, numbers), and returns the exit status.
 */
struct cli_cmd {
	const char *group;
	const char *verb; /* NULL: the group alone is the command */
	int (*fn)(struct cli *c);
	uint64_t opts;        /* its own options, CLI_O() bits */
	int minpos, maxpos;   /* how many operands */
	const char *synopsis; /* after "usage: casevault " */
	const char *summary;  /* one line, for the list of commands */
	const char *help;     /* the description in --help */
};

/* The table of every command, ended by an entry whose group is NULL. */
extern const struct cli_cmd cli_cmds[];

/* One run of the command. */
struct cli {
	const struct cli_cmd *cmd;    /* the command, once found */
	char name[32];                /* "record show", for messages */
	const char *opt[OPT_COUNT];   /* values; a flag given is non-NULL */
	const char *pos[CLI_POS_MAX]; /* the operands */
	int npos;
	int json;              /* --json */
	char why[CLI_WHY_MAX]; /* the usage error cli_parse found */
	int session_err;       /* why cli_session failed: a CV_E* code */
	json_t *args;          /* the arguments of the command's request */
	const char *badarg;    /* the first argument that could not be set */
	char detail[CLI_DETAIL_MAX]; /* a remote error's detail, or "" */
};

/*
 * Parse the command line ARGV (ARGC words, ARGV[0] the program name) into
 * C, which the caller has zeroed: the global options before the command,
 * the command from cli_cmds, its options and operands. Opens no file,
 * vault or terminal and prints nothing; the values in C point into ARGV.
 * Returns 0 when C->cmd is ready to run; CLI_HELP for --help (C->cmd is
 * the command whose help is asked for, or NULL for the list of commands);
 * CLI_VERSION; or EXIT_USAGE with the reason in C->why (empty when there
 * is no command at all), C->cmd being set when the command was found.
 */
int cli_parse(struct cli *c, int argc, char **argv);

/* Parse and run a command line; returns the exit status. */
int cli_main(int argc, char **argv);

/*
 * Check the table against itself: commands unique, operand counts in
 * range, every option of a command named in its synopsis and no short
 * option taken twice. Returns 0, or -1 with the first fault in WHY.
 */
int cli_table_check(char *why, size_t whylen);

/* Print usage of c's command with WHY (may be NULL); returns EXIT_USAGE. */
int cli_usage(const struct cli *c, const char *why);

/*
 * Report error R (a CV_E* code) of c's command, with the daemon's detail
 * (c->detail) or else the library's; returns the exit status.
 */
int cli_fail(const struct cli *c, int r);

/* Prints the result of a command in human form. */
typedef void cli_print_fn(const struct cli *c, const json_t *out);

/*
 * Set argument NAME of c's request to V (consumed). A NULL V (out of
 * memory, or text that is not UTF-8 and so cannot be JSON) marks the
 * request broken: cli_run then refuses it, naming NAME.
 */
void cli_arg(struct cli *c, const char *name, json_t *v);

/* Argument NAME as the string V; nothing when V is NULL. */
void cli_arg_str(struct cli *c, const char *name, const char *v);

/* Argument NAME as the number V; nothing when V is 0. */
void cli_arg_num(struct cli *c, const char *name, unsigned v);

/* Argument NAME as true when V; nothing otherwise. */
void cli_arg_flag(struct cli *c, const char *name, int v);

/*
 * What a command asks for once the user is known and before the request
 * goes (a new passphrase): it adds arguments to C and returns 0, or the
 * exit status after reporting why.
 */
typedef int cli_ask_fn(struct cli *c);

/*
 * Run c's request: the command's name and c->args. Without a socket, log
 * in as the -u user (asking for the passphrase), call ASK (may be NULL),
 * hand the request to cv_dispatch and close the session; with --socket
 * or CASEVAULT_SOCKET, call ASK and send the request with cli_remote.
 * Returns 0 with *OUT the result; a CV_E* code (with *OUT when the
 * command gives a result with its failure, such as audit verify's); or
 * an exit status it has already reported. The arguments' passphrase, if
 * any, is wiped and dropped from c->args once the request has run.
 */
int cli_run(struct cli *c, cli_ask_fn *ask, json_t **out);

/* The shape of most commands: cli_run, then cli_result with PRINT. */
int cli_call(struct cli *c, cli_ask_fn *ask, cli_print_fn *print);

/*
 * Send REQ to the daemon at c's --socket (or CASEVAULT_SOCKET), logged in
 * as the -u user, and wait for its answer (remote.c). Returns 0 with
 * *RESP the result; a CV_E* code the daemon answered, with its detail in
 * c->detail (and *RESP when the answer carries a result too); or an exit
 * status it has already reported.
 */
int cli_remote(struct cli *c, json_t *req, json_t **resp);

/* The socket of the daemon: --socket, else CASEVAULT_SOCKET, else NULL. */
const char *cli_socket(struct cli *c);

/*
 * End a command whose call returned R and OUT (consumed; may be NULL).
 * A CV_E* code is reported, after printing OUT with --json only; else OUT
 * is printed with PRINT, or as JSON with --json or when PRINT is NULL,
 * and the exit status is R when R is one, else 0.
 */
int cli_result(struct cli *c, int r, json_t *out, cli_print_fn *print);

/*
 * Open a session as the -u user on the -V vault (or CASEVAULT_USER and
 * CASEVAULT_DIR), reading the passphrase from --passphrase-file or the
 * terminal. Returns 0 with *s owned by the caller, or the exit status
 * after reporting why, with the CV_E* code in c->session_err.
 */
int cli_session(struct cli *c, struct cv_session **s);

/*
 * Read a passphrase from FILE (its first line) or, when FILE is NULL, from
 * the terminal with echo off (asking twice when CONFIRM). The result is in
 * sodium_malloc memory: release it with cli_secret_free.
 */
int cli_pass_read(const char *file, const char *prompt, int confirm,
    char **pass, size_t *len);

/*
 * Ask for WHO's new passphrase (twice on a terminal, or from
 * --new-passphrase-file), at least CV_PASSPHRASE_MIN characters.
 * Returns 0 with *pass to release with cli_secret_free, or the exit
 * status after reporting why.
 */
int cli_new_pass(
    const struct cli *c, const char *who, char **pass, size_t *len);

/*
 * Read at most MAX bytes of PATH ("-": standard input) into new
 * sodium_malloc memory, NUL-terminated: records, notes and passphrases
 * never pass through memory that is not wiped. Returns 0, CV_ETOOBIG
 * when there is more, CV_EIO or CV_ENOMEM.
 */
int cli_read_secret(const char *path, size_t max, char **buf, size_t *len);

/* Wipe and free memory from cli_pass_read or cli_read_secret; NULL ok. */
void cli_secret_free(char *p);

/*
 * Read a JSON object of at most CV_RECORD_MAX bytes from FILE (NULL or
 * "-": standard input) into *out. Returns 0, or the exit status after
 * reporting why, without echoing the text.
 */
int cli_read_json(const struct cli *c, const char *file, json_t **out);

/*
 * --classes C1,C2 as the library takes a list of classes: a JSON array of
 * names. Every item is kept, an empty one too, so that the library refuses
 * "a,,b" or "a," as it refuses an unknown name; an item that is not UTF-8
 * becomes "", refused the same way. NULL when out of memory.
 */
json_t *cli_classes(const char *list);

/* Parse a positive 32-bit number; 0 when S is not one. */
unsigned cli_number(const char *s);

/* 1 when --lang id asks for Indonesian. */
int cli_lang_id(const struct cli *c);

/* Print R as JSON (--json, or PRINT NULL) or with PRINT; consumes R. */
/* J as indented JSON on standard output, then a newline. */
void cli_dump(const json_t *j);
int cli_out(const struct cli *c, json_t *r, cli_print_fn *print);

/* Print "key: value" lines of a flat JSON object, nested ones as JSON. */
void cli_print_object(const json_t *j, int indent);

/* Print each object of an array, a blank line after each; "(none)". */
void cli_print_list(const struct cli *c, const json_t *j);

/* Print the "record" of J: the id of a new record. */
void cli_print_record_id(const struct cli *c, const json_t *j);

/* Print records released by a request or a disclosure, and what was not. */
void cli_print_released(const struct cli *c, const json_t *j);

/* Print the step, timeline and assessments of `case show`. */
void cli_print_casework(const struct cli *c, const json_t *show);

/* The commands: one file per group. */
int cmd_init(struct cli *c); /* init.c */

int cmd_user_add(struct cli *c); /* user.c */
int cmd_user_list(struct cli *c);
int cmd_user_passwd(struct cli *c);
int cmd_user_disable(struct cli *c);

int cmd_case_open(struct cli *c); /* case.c */
int cmd_case_list(struct cli *c);
int cmd_case_show(struct cli *c);
int cmd_case_assign(struct cli *c);
int cmd_case_unassign(struct cli *c);
int cmd_case_step(struct cli *c);
int cmd_case_close(struct cli *c);

int cmd_record_add(struct cli *c); /* record.c */
int cmd_record_show(struct cli *c);
int cmd_record_amend(struct cli *c);
int cmd_record_history(struct cli *c);

int cmd_note_add(struct cli *c); /* note.c */
int cmd_note_show(struct cli *c);

int cmd_assess(struct cli *c); /* assess.c */

int cmd_consent_grant(struct cli *c); /* consent.c */
int cmd_consent_withdraw(struct cli *c);
int cmd_consent_list(struct cli *c);

int cmd_request_create(struct cli *c); /* request.c */
int cmd_request_approve(struct cli *c);
int cmd_request_deny(struct cli *c);
int cmd_request_list(struct cli *c);
int cmd_request_fetch(struct cli *c);

int cmd_breakglass(struct cli *c); /* breakglass.c */
int cmd_breakglass_list(struct cli *c);
int cmd_breakglass_review(struct cli *c);

int cmd_disclose(struct cli *c); /* disclose.c */

int cmd_policy_check(struct cli *c); /* policy.c */
int cmd_policy_explain(struct cli *c);
int cmd_policy_deploy(struct cli *c);

int cmd_report_indicator(struct cli *c); /* report.c */

int cmd_audit_verify(struct cli *c); /* audit.c */
int cmd_audit_log(struct cli *c);
int cmd_audit_pseudonym(struct cli *c);
int cmd_audit_push(struct cli *c);

int cmd_erase(struct cli *c); /* maintenance.c */
int cmd_backup(struct cli *c);
int cmd_restore(struct cli *c);
int cmd_key_rotate(struct cli *c);

int cmd_login(struct cli *c); /* remote.c */
int cmd_logout(struct cli *c);

#endif
