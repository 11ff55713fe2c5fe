/* The consent group (docs/consent.md): grant, withdraw, list. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

/* Longer than any name the library takes, which refuses it by its rule. */
#define GUARDIAN_NAME_MAX 256

static void
granted_print(const struct cli *c, const json_t *j)
{
	(void)c;
	printf("%s\n", json_string_value(json_object_get(j, "consent")));
}

/*
 * The guardian's name, never on the command line where any local user
 * sees it in the process list: from --file FILE ({"name": "..."}, "-"
 * for standard input), else one line of standard input, asked for when
 * it is a terminal. Copied into NAME (SIZE bytes). Returns 0, or the
 * exit status after saying why (without the text).
 */
static int
guardian_name(const struct cli *c, char *name, size_t size)
{
	json_t *in;
	const char *v;
	size_t n;
	int r;

	if (c->opt[OPT_FILE] != NULL) {
		if ((r = cli_read_json(c, c->opt[OPT_FILE], &in)) != 0)
			return r;
		v = json_string_value(json_object_get(in, "name"));
		if (v == NULL || json_object_size(in) != 1 ||
		    strlen(v) >= size) {
			json_decref(in);
			fprintf(stderr,
			    "casevault %s: --file holds {\"name\": "
			    "\"the guardian's name\"} and nothing else\n",
			    c->name);
			return EXIT_REFUSED;
		}
		memcpy(name, v, strlen(v) + 1);
		json_decref(in);
		return 0;
	}
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "Guardian's name: ");
	if (fgets(name, (int)size, stdin) == NULL) {
		fprintf(stderr, "casevault %s: no guardian's name given\n",
		    c->name);
		return EXIT_REFUSED;
	}
	n = strcspn(name, "\r\n");
	if (name[n] == '\0' && n == size - 1) {
		sodium_memzero(name, size);
		fprintf(stderr,
		    "casevault %s: the guardian's name is too long\n", c->name);
		return EXIT_REFUSED;
	}
	name[n] = '\0';
	return 0;
}

int
cmd_consent_grant(struct cli *c)
{
	char name[GUARDIAN_NAME_MAX + 2];
	int r;

	if (c->opt[OPT_TO] == NULL || c->opt[OPT_CLASSES] == NULL ||
	    c->opt[OPT_PURPOSE] == NULL || c->opt[OPT_FORM] == NULL)
		return cli_usage(c,
		    "--to, --classes, --purpose and --form "
		    "are required");
	if (c->opt[OPT_BY] != NULL && strcmp(c->opt[OPT_BY], "guardian") != 0)
		return cli_usage(c,
		    "--by takes guardian; the guardian's name is read "
		    "from --file or asked for, never given on the command "
		    "line");
	if (c->opt[OPT_BY] == NULL &&
	    (c->opt[OPT_RELATIONSHIP] != NULL || c->opt[OPT_ASSENT] != NULL ||
	        c->opt[OPT_FILE] != NULL))
		return cli_usage(c,
		    "--relationship, --assent and --file are for --by "
		    "guardian");
	if (c->opt[OPT_BY] != NULL && c->opt[OPT_RELATIONSHIP] == NULL)
		return cli_usage(c, "--by guardian needs --relationship");
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "to", c->opt[OPT_TO]);
	cli_arg(c, "classes", cli_classes(c->opt[OPT_CLASSES]));
	cli_arg_str(c, "purpose", c->opt[OPT_PURPOSE]);
	cli_arg_str(c, "form", c->opt[OPT_FORM]);
	cli_arg_str(c, "from", c->opt[OPT_FROM]);
	cli_arg_str(c, "until", c->opt[OPT_UNTIL]);
	if (c->opt[OPT_BY] != NULL) {
		if ((r = guardian_name(c, name, sizeof(name))) != 0)
			return r;
		cli_arg_str(c, "guardian", name);
		sodium_memzero(name, sizeof(name));
		cli_arg_str(c, "relationship", c->opt[OPT_RELATIONSHIP]);
		cli_arg(c, "assent", json_boolean(c->opt[OPT_ASSENT] != NULL));
	}
	return cli_call(c, NULL, granted_print);
}

static void
withdrawn_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf(
	    "consent %s withdrawn: it covers nothing from now on\n", c->pos[1]);
}

int
cmd_consent_withdraw(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg_str(c, "consent", c->pos[1]);
	return cli_call(c, NULL, withdrawn_print);
}

int
cmd_consent_list(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	return cli_call(c, NULL, cli_print_list);
}
