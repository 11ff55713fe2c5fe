/*
 * The command-line parser: words in, a struct cli out. It reads only the
 * table and ARGV, so the fuzz target runs it on any input; what needs a
 * file, a terminal or a vault happens after it, in the command.
 *
 *   casevault [GLOBAL...] GROUP [VERB] [OPTION | OPERAND]... [-- OPERAND...]
 *   casevault [--help | --version | help [GROUP [VERB]]]
 *
 * Options are "--name VALUE", "--name=VALUE", "-x VALUE" or a flag
 * "--name"; a command's own options are looked up before the global ones
 * (policy explain --user names whom to explain, -u who logs in); a word
 * "-" is an operand; after "--" every word is one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int why(struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keep the reason of a usage error; returns EXIT_USAGE. */
static int
why(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* 1 when ARG names option O, with *inl the value after "=" if any. */
static int
names(const char *arg, const struct cli_opt *o, const char **inl)
{
	size_t n;

	*inl = NULL;
	if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0' && arg[2] == '\0')
		return o->shortname != 0 && arg[1] == o->shortname;
	if (strncmp(arg, "--", 2) != 0)
		return 0;
	n = strlen(o->name);
	if (strncmp(arg + 2, o->name, n) != 0)
		return 0;
	if (arg[2 + n] == '=') {
		*inl = arg + 3 + n;
		return 1;
	}
	return arg[2 + n] == '\0';
}

/* The option ARG names among those of MASK, then the global ones; or -1. */
static int
lookup(const char *arg, uint64_t mask, const char **inl)
{
	int k;

	for (k = OPT_GLOBALS; k < OPT_COUNT; k++)
		if ((mask & CLI_O(k)) != 0 && names(arg, &cli_opts[k], inl))
			return k;
	for (k = 0; k < OPT_GLOBALS; k++)
		if (names(arg, &cli_opts[k], inl))
			return k;
	return -1;
}

/* Take the option at argv[*i] (and its value); 0 or EXIT_USAGE. */
static int
option(struct cli *c, int argc, char **argv, int *i, uint64_t mask)
{
	const char *a = argv[*i], *inl;
	int k;

	if ((k = lookup(a, mask, &inl)) < 0)
		return why(c, "unknown option %s", a);
	if (!cli_opts[k].arg) {
		if (inl != NULL)
			return why(c, "a flag takes no value");
		c->opt[k] = a;
	} else if (inl != NULL) {
		c->opt[k] = inl;
	} else if (*i + 1 < argc) {
		c->opt[k] = argv[++*i];
	} else {
		return why(c, "%s needs a value", a);
	}
	return 0;
}

/* The command at argv[i] (and argv[i + 1]); *used says how many words. */
static const struct cli_cmd *
find(int argc, char **argv, int i, int *used)
{
	const struct cli_cmd *k, *alone = NULL;

	for (k = cli_cmds; k->group != NULL; k++) {
		if (strcmp(k->group, argv[i]) != 0)
			continue;
		if (k->verb == NULL)
			alone = k;
		else if (i + 1 < argc && strcmp(k->verb, argv[i + 1]) == 0) {
			*used = 2;
			return k;
		}
	}
	*used = 1;
	return alone;
}

int
cli_parse(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *k;
	int i, r, used, rest = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return CLI_HELP;
		if (strcmp(argv[i], "--version") == 0)
			return CLI_VERSION;
		if ((r = option(c, argc, argv, &i, 0)) != 0)
			return r;
	}
	if (i >= argc)
		return EXIT_USAGE;
	if (strcmp(argv[i], "help") == 0) {
		/* "help GROUP [VERB]": that command's help, if there is one. */
		if (i + 1 < argc)
			c->cmd = find(argc, argv, i + 1, &used);
		return CLI_HELP;
	}
	if ((k = find(argc, argv, i, &used)) == NULL)
		return why(c, "unknown command '%s%s%s'", argv[i],
		    i + 1 < argc ? " " : "", i + 1 < argc ? argv[i + 1] : "");
	c->cmd = k;
	snprintf(c->name, sizeof(c->name), "%s%s%s", k->group,
	    k->verb != NULL ? " " : "", k->verb != NULL ? k->verb : "");
	for (i += used; i < argc; i++) {
		const char *a = argv[i];
		if (rest || a[0] != '-' || a[1] == '\0') {
			if (c->npos >= k->maxpos)
				return why(c, "too many arguments");
			c->pos[c->npos++] = a;
		} else if (strcmp(a, "--") == 0) {
			rest = 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			return CLI_HELP;
		} else if ((r = option(c, argc, argv, &i, k->opts)) != 0) {
			return r;
		}
	}
	if (c->npos < k->minpos)
		return why(c, "missing arguments");
	if (c->opt[OPT_LANG] != NULL && strcmp(c->opt[OPT_LANG], "en") != 0 &&
	    strcmp(c->opt[OPT_LANG], "id") != 0)
		return why(c, "--lang takes en or id");
	c->json = c->opt[OPT_JSON] != NULL;
	return 0;
}
