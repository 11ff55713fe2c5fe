/*
 * casevault: the command. It parses, reads passphrases, calls the library
 * and prints; it decides nothing (the gate in the library does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

const struct cli_cmd cli_cmds_core[] = {
    {"init", NULL, cmd_init, "init DIR --admin NAME",
        "Create a vault in DIR with NAME as its first administrator.",
        "DIR must not exist or be empty. The vault gets a random root key,\n"
        "wrapped for NAME under the new passphrase (Argon2id, 64 MiB, t=3),\n"
        "an LMDB store, a bare git repository audit.git for the signed\n"
        "audit trail, and the audit signer's public key (audit_signer.pub,\n"
        "allowed_signers) for auditors. The passphrase is asked twice on\n"
        "the terminal, or read from --new-passphrase-file FILE; at least\n"
        "10 characters. Prints the vault directory."},
    {"user", "add", cmd_user_add, "user add NAME --role ROLE [--trained]",
        "Add a staff account (administrators only).",
        "ROLE is one of counselor, social_worker, psychologist, legal_aid,\n"
        "supervisor, auditor, admin. --trained marks a social\n"
        "rehabilitation officer who completed the training the coverage\n"
        "indicator counts. The new user's passphrase is asked twice or\n"
        "read from --new-passphrase-file FILE."},
    {"user", "list", cmd_user_list, "user list",
        "List the accounts (administrators only).",
        "Shows id, name, role, trained, disabled and failed logins."},
    {"user", "passwd", cmd_user_passwd, "user passwd NAME",
        "Change a passphrase: your own, or (administrators) anyone's.",
        "The new passphrase is asked twice or read from\n"
        "--new-passphrase-file FILE. It also re-wraps the user's keyslot."},
    {"user", "disable", cmd_user_disable, "user disable NAME",
        "Disable an account (administrators only).",
        "The account keeps its id in the audit trail; its keyslot is\n"
        "destroyed, so its passphrase opens nothing any more."},
    {"case", "open", cmd_case_open, "case open [--file F.json]",
        "Open a case; prints its id.",
        "With --file (or JSON on standard input when - is given), the\n"
        "intake record (docs/records.md) is validated and stored as\n"
        "record 1. The opener joins the case team."},
    {"case", "list", cmd_case_list, "case list",
        "List the cases whose administrative data you may see.", ""},
    {"case", "show", cmd_case_show, "case show CASE",
        "Show a case: status, team, dates and its records.", ""},
    {"case", "assign", cmd_case_assign, "case assign CASE USER",
        "Add USER to the case team (need-to-know).", ""},
    {"case", "unassign", cmd_case_unassign, "case unassign CASE USER",
        "Remove USER from the case team; their access ends at once.", ""},
    {"case", "close", cmd_case_close, "case close CASE",
        "Close a case: no more records are added.", ""},
    {"record", "add", cmd_record_add,
        "record add CASE --type TYPE [--file F.json]",
        "Add a record to a case; prints its id.",
        "The JSON object is read from --file or standard input, validated\n"
        "against the schema of TYPE (docs/records.md), sealed under the\n"
        "case key and stored as version 1. Errors name the field and the\n"
        "rule, never the value."},
    {"record", "show", cmd_record_show,
        "record show CASE [RECORD] [--version N] [--purpose P] [--lang id|en]",
        "Show a record (the latest version unless --version), or all.",
        "Only the data classes the gate allows are shown; the rest are\n"
        "listed as withheld. Every read is recorded in the audit trail\n"
        "before anything is shown. --lang id or --lang en shows every\n"
        "enumeration value with its Indonesian or English label."},
    {"record", "amend", cmd_record_amend,
        "record amend CASE RECORD [--file F.json]",
        "Write the next version of a record (the old ones stay).", ""},
    {"record", "history", cmd_record_history, "record history CASE RECORD",
        "List the versions of a record: author, time, audit event.", ""},
    {"erase", NULL, cmd_erase, "erase CASE", "Crypto-shred a case.",
        "Destroys the case key, its records, consents and requests, and\n"
        "compacts the store so none of their bytes remain in any file of\n"
        "the vault. Irreversible. The audit trail keeps its pseudonymous\n"
        "events."},
    {"backup", NULL, cmd_backup, "backup DEST",
        "Make a compacted hot copy of the vault in DEST.",
        "DEST must not exist. The copy opens with the same passphrases and\n"
        "carries the audit trail up to the moment of the copy."},
    {"key", "rotate", cmd_key_rotate, "key rotate",
        "Re-wrap every case key under a new key-encryption key.",
        "The records are not re-encrypted. The store is compacted so no\n"
        "case key wrapped under the old KEK remains."},
    {"audit", "verify", cmd_audit_verify, "audit verify [--from COMMIT]",
        "Verify the audit trail.",
        "Checks every commit's SSHSIG signature against the vault's audit\n"
        "key, no merges, no gaps in the sequence, time never running\n"
        "backwards, every Log-Root, that the log only grew since COMMIT\n"
        "(a head saved earlier), and that every record version in the\n"
        "store has its audit event. Exits 1 at the first failure, naming\n"
        "the bad commit. Stock git can check the signatures too; see\n"
        "docs/audit-format.md."},
    {"audit", "log", cmd_audit_log,
        "audit log [--case CASE] [--actor USER] [--since TIME] [--breakglass]",
        "List audit events, oldest first.",
        "--case is turned into the case's pseudonym; TIME is YYYY-MM-DD or\n"
        "YYYY-MM-DDTHH:MM[:SS]Z."},
    {"audit", "pseudonym", cmd_audit_pseudonym, "audit pseudonym CASE",
        "Print a case's pseudonym, as the audit trail names it.", ""},
    {"audit", "push", cmd_audit_push, "audit push REMOTE",
        "Push the audit trail to a mirror (a path or file:// URL).",
        "Only fast-forwards: a mirror that does not hold a prefix of this\n"
        "trail is refused."},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

const struct cli_cmd *const cli_tables[] = {
    cli_cmds_core,
    cli_cmds_access,
    cli_cmds_casework,
    NULL,
};

static void
usage_all(FILE *f)
{
	const struct cli_cmd *const *t, *k;

	fprintf(f,
	    "usage: casevault [-V DIR] [-u USER] [--passphrase-file F] "
	    "[--json] COMMAND ...\n\nCommands:\n");
	for (t = cli_tables; *t != NULL; t++)
		for (k = *t; k->group != NULL; k++)
			fprintf(f, "  %-44s %s\n", k->synopsis, k->summary);
	fprintf(f, "\ncasevault COMMAND --help shows a command's help.\n");
}

int
main(int argc, char **argv)
{
	static const struct rlimit nocore = {0, 0};
	const struct cli_cmd *const *t, *k;
	struct cli c;
	char name[64];
	int i, r;

	/* A core dump would hold keys and records. */
	setrlimit(RLIMIT_CORE, &nocore);
	memset(&c, 0, sizeof(c));
	if (cv_library_init() != 0) {
		fprintf(stderr, "casevault: cannot initialise libsodium\n");
		return EXIT_REFUSED;
	}
	/* Global options before the command. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "-V") == 0 || strcmp(a, "--vault") == 0) &&
		    i + 1 < argc)
			c.vault = argv[++i];
		else if ((strcmp(a, "-u") == 0 || strcmp(a, "--user") == 0) &&
		    i + 1 < argc)
			c.user = argv[++i];
		else if (strcmp(a, "--passphrase-file") == 0 && i + 1 < argc)
			c.passfile = argv[++i];
		else if (strcmp(a, "--new-passphrase-file") == 0 &&
		    i + 1 < argc)
			c.newpassfile = argv[++i];
		else if (strcmp(a, "--json") == 0)
			c.json = 1;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
		    strcmp(a, "help") == 0) {
			usage_all(stdout);
			return EXIT_OK;
		} else if (strcmp(a, "--version") == 0) {
			printf("casevault %s\n", CV_VERSION_STRING);
			return EXIT_OK;
		} else if (a[0] == '-') {
			fprintf(stderr, "casevault: unknown option %s\n", a);
			usage_all(stderr);
			return EXIT_USAGE;
		} else
			break;
	}
	if (i >= argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	for (t = cli_tables; *t != NULL; t++)
		for (k = *t; k->group != NULL; k++) {
			if (strcmp(k->group, argv[i]) != 0)
				continue;
			if (k->verb == NULL) {
				snprintf(name, sizeof(name), "%s", k->group);
				c.name = name;
				r = k->fn(&c, argc - i - 1, argv + i + 1);
				return r < 0 ? EXIT_OK : r;
			}
			if (i + 1 < argc && strcmp(k->verb, argv[i + 1]) == 0) {
				snprintf(name, sizeof(name), "%s %s", k->group,
				    k->verb);
				c.name = name;
				r = k->fn(&c, argc - i - 2, argv + i + 2);
				return r < 0 ? EXIT_OK : r;
			}
		}
	fprintf(stderr, "casevault: unknown command '%s%s%s'\n", argv[i],
	    i + 1 < argc ? " " : "", i + 1 < argc ? argv[i + 1] : "");
	usage_all(stderr);
	return EXIT_USAGE;
}
