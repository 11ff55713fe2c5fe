/* The casevault command: shared state and helpers of the command files. */
#ifndef CV_CLI_H
#define CV_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "casevault.h"

#define EXIT_OK      0
#define EXIT_REFUSED 1
#define EXIT_USAGE   2

/* Options every command accepts, before or after the verb. */
struct cli {
	const char *vault;       /* -V, --vault, or CASEVAULT_DIR */
	const char *user;        /* -u, --user, or CASEVAULT_USER */
	const char *passfile;    /* --passphrase-file */
	const char *newpassfile; /* --new-passphrase-file */
	const char *lang;        /* --lang en|id */
	int json;                /* --json */
	const char *name;        /* "record show", for messages */
	int session_err;         /* why cli_session failed: a CV_E* code */
};

struct cli_cmd {
	const char *group;
	const char *verb; /* NULL: the group is the whole command */
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *synopsis;
	const char *summary;
	const char *help; /* the body of --help */
};

/*
 * The command tables, one per command file, each ended by an entry whose
 * group is NULL; cli_tables lists them, ended by NULL. Dispatch, usage
 * and --help all come from them.
 */
extern const struct cli_cmd cli_cmds_core[];
extern const struct cli_cmd cli_cmds_access[];
extern const struct cli_cmd cli_cmds_casework[];
extern const struct cli_cmd *const cli_tables[];

/* The command named NAME ("record show"), or NULL. */
const struct cli_cmd *cli_cmd_find(const char *name);

/* One option of a command. */
struct cli_opt {
	const char *name; /* long name without "--" */
	char shortname;   /* 0 for none */
	const char **val; /* set for an option with an argument */
	int *flag;        /* set to 1 for a flag */
};

/*
 * Parse ARGV (after the verb): options from OPTS or the global ones, and at
 * most MAXPOS positional arguments into POS. Returns 0, or EXIT_USAGE after
 * printing why. "--help" prints the command's help and returns -1.
 */
int cli_parse(struct cli *c, int argc, char **argv, const struct cli_opt *o,
    const char **pos, int minpos, int maxpos, int *npos);

/* Open a session as c->user on c->vault, reading the passphrase. */
int cli_session(struct cli *c, struct cv_session **s);

/*
 * Read a passphrase from FILE (its first line) or, when FILE is NULL, from
 * the terminal with echo off (asking twice when CONFIRM). The result is in
 * sodium_malloc memory: release it with cli_pass_free.
 */
int cli_pass_read(const char *file, const char *prompt, int confirm,
    char **pass, size_t *len);
void cli_pass_free(char *pass);

/* Report error R of the current command; returns its exit code. */
int cli_fail(struct cli *c, int r);

/* Print usage of the command and return EXIT_USAGE. */
int cli_usage(struct cli *c, const char *why);

/*
 * The whole of a command that takes one CASE and shows what FN returns
 * for it: parse, log in, call, close, print with HUMAN (or as JSON).
 */
int cli_case_query(struct cli *c, int argc, char **argv,
    int (*fn)(struct cv_session *s, const char *case_id, json_t **out),
    void (*human)(struct cli *c, const json_t *j));

/* Print J (consumed) as JSON when --json, else call HUMAN on it. */
int cli_out(
    struct cli *c, json_t *j, void (*human)(struct cli *c, const json_t *j));

/* Read a JSON object from FILE (NULL or "-": standard input). */
int cli_read_json(struct cli *c, const char *file, json_t **out);

/* Parse a positive 32-bit number; 0 when S is not one. */
unsigned cli_number(const char *s);

/* Print "key: value" lines of a flat JSON object, nested ones as JSON. */
void cli_print_object(const json_t *j, int indent);

/* Print the step, timeline and assessments of `case show` (in c->lang). */
void cli_casework_print(struct cli *c, const json_t *show);

/* The commands, one file per group. */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_user_add(struct cli *c, int argc, char **argv);
int cmd_user_list(struct cli *c, int argc, char **argv);
int cmd_user_passwd(struct cli *c, int argc, char **argv);
int cmd_user_disable(struct cli *c, int argc, char **argv);
int cmd_case_open(struct cli *c, int argc, char **argv);
int cmd_case_list(struct cli *c, int argc, char **argv);
int cmd_case_show(struct cli *c, int argc, char **argv);
int cmd_case_assign(struct cli *c, int argc, char **argv);
int cmd_case_unassign(struct cli *c, int argc, char **argv);
int cmd_case_close(struct cli *c, int argc, char **argv);
int cmd_record_add(struct cli *c, int argc, char **argv);
int cmd_record_show(struct cli *c, int argc, char **argv);
int cmd_record_amend(struct cli *c, int argc, char **argv);
int cmd_record_history(struct cli *c, int argc, char **argv);
int cmd_erase(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_key_rotate(struct cli *c, int argc, char **argv);
int cmd_audit_verify(struct cli *c, int argc, char **argv);
int cmd_audit_log(struct cli *c, int argc, char **argv);
int cmd_audit_pseudonym(struct cli *c, int argc, char **argv);
int cmd_audit_push(struct cli *c, int argc, char **argv);

#endif
