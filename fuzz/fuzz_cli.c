/*
 * Fuzz target for the command-line parser. The input is a command line,
 * one word per line (a NUL byte also ends a word), at most ARGS_MAX words;
 * cli_parse reads it as the command would, against the command table,
 * without opening a file, a vault or a terminal.
 *
 * An oracle as well as a crash finder: a line the parser accepts must fit
 * the table (a known command, its own options or global ones, operands in
 * range, values pointing into the input), and written out again in a
 * canonical form (global options first, then the command, its options as
 * --name=VALUE, "--" and the operands) it must parse to the same result.
 * The table is checked against itself once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define ARGS_MAX  64
#define INPUT_MAX 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_cli: %s\n", what);
	abort();
}

/* Write C out again in canonical form into ARGV; returns argc. */
static int
canonical(const struct cli *c, char **argv, char store[][INPUT_MAX + 40])
{
	int argc = 0, k, i, pass;

	argv[argc++] = "casevault";
	/* Global options before the command, its own after it. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			argv[argc++] = (char *)c->cmd->group;
			if (c->cmd->verb != NULL)
				argv[argc++] = (char *)c->cmd->verb;
		}
		for (k = 0; k < OPT_COUNT; k++) {
			if (c->opt[k] == NULL || (k < OPT_GLOBALS) != (pass == 0))
				continue;
			if (cli_opts[k].arg)
				snprintf(store[argc], INPUT_MAX + 40, "--%s=%s",
				    cli_opts[k].name, c->opt[k]);
			else
				snprintf(store[argc], INPUT_MAX + 40, "--%s",
				    cli_opts[k].name);
			argv[argc] = store[argc];
			argc++;
		}
	}
	argv[argc++] = "--";
	for (i = 0; i < c->npos; i++)
		argv[argc++] = (char *)c->pos[i];
	argv[argc] = NULL;
	return argc;
}

/* The checks on a command line the parser accepted. */
static void
check_accepted(const struct cli *c, const char *buf, size_t size)
{
	const struct cli_cmd *k = c->cmd;
	int o, i;

	if (k == NULL || c->npos < k->minpos || c->npos > k->maxpos)
		fail("accepted without a command or with a wrong operand count");
	for (o = OPT_GLOBALS; o < OPT_COUNT; o++)
		if (c->opt[o] != NULL && (k->opts & CLI_O(o)) == 0)
			fail("an option the command does not take");
	for (o = 0; o < OPT_COUNT; o++)
		if (c->opt[o] != NULL &&
		    (c->opt[o] < buf || c->opt[o] > buf + size))
			fail("a value that is not in the input");
	for (i = 0; i < c->npos; i++)
		if (c->pos[i] < buf || c->pos[i] > buf + size)
			fail("an operand that is not in the input");
	if (c->opt[OPT_LANG] != NULL && strcmp(c->opt[OPT_LANG], "en") != 0 &&
	    strcmp(c->opt[OPT_LANG], "id") != 0)
		fail("--lang accepted with another value");
	if (c->json != (c->opt[OPT_JSON] != NULL))
		fail("--json and c->json disagree");
	if (strncmp(c->name, k->group, strlen(k->group)) != 0)
		fail("the command's name is not its group");
}

/* Parse C's canonical form again: the result must be the same. */
static void
check_round_trip(const struct cli *c)
{
	static char store[ARGS_MAX * 2 + 8][INPUT_MAX + 40];
	char *argv[ARGS_MAX * 2 + 8];
	struct cli d;
	int argc, k, i;

	argc = canonical(c, argv, store);
	memset(&d, 0, sizeof(d));
	if (cli_parse(&d, argc, argv) != 0)
		fail("the canonical form is refused");
	if (d.cmd != c->cmd || d.npos != c->npos || d.json != c->json)
		fail("the canonical form is another command");
	for (k = 0; k < OPT_COUNT; k++) {
		if ((d.opt[k] == NULL) != (c->opt[k] == NULL))
			fail("the canonical form has other options");
		if (cli_opts[k].arg && c->opt[k] != NULL &&
		    strcmp(d.opt[k], c->opt[k]) != 0)
			fail("the canonical form has another value");
	}
	for (i = 0; i < c->npos; i++)
		if (strcmp(d.pos[i], c->pos[i]) != 0)
			fail("the canonical form has other operands");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[INPUT_MAX + 1];
	static int table_ok;
	char *argv[ARGS_MAX + 2], why[CLI_WHY_MAX];
	struct cli c;
	size_t i, start = 0;
	int argc = 0, r;

	if (!table_ok) {
		if (cli_table_check(why, sizeof(why)) != 0)
			fail(why);
		table_ok = 1;
	}
	if (size > INPUT_MAX)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "casevault";
	for (i = 0; i <= size && argc <= ARGS_MAX; i++)
		if (i == size || buf[i] == '\n' || buf[i] == '\0') {
			buf[i] = '\0';
			if (i > start || i < size)
				argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;

	memset(&c, 0, sizeof(c));
	r = cli_parse(&c, argc, argv);
	if (memchr(c.why, '\0', sizeof(c.why)) == NULL)
		fail("the reason is not terminated");
	switch (r) {
	case 0:
		check_accepted(&c, buf, size);
		check_round_trip(&c);
		break;
	case CLI_HELP:
	case CLI_VERSION:
		break;
	case EXIT_USAGE:
		if (c.cmd != NULL && c.why[0] == '\0')
			fail("a usage error without a reason");
		break;
	default:
		fail("an unknown return");
	}
	return 0;
}
