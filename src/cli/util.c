/* Helpers shared by the command files. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "base/util.h"

static const struct cli_opt global_opts[] = {
    {"vault", 'V', NULL, NULL},
    {"user", 'u', NULL, NULL},
    {"passphrase-file", 0, NULL, NULL},
    {"new-passphrase-file", 0, NULL, NULL},
    {"lang", 0, NULL, NULL},
    {"json", 0, NULL, NULL},
    {NULL, 0, NULL, NULL},
};

/* Where a global option's value goes. */
static void
global_bind(struct cli *c, int i, const char ***val, int **flag)
{
	*val = NULL;
	*flag = NULL;
	switch (i) {
	case 0:
		*val = &c->vault;
		break;
	case 1:
		*val = &c->user;
		break;
	case 2:
		*val = &c->passfile;
		break;
	case 3:
		*val = &c->newpassfile;
		break;
	case 4:
		*val = &c->lang;
		break;
	case 5:
		*flag = &c->json;
		break;
	}
}

const struct cli_cmd *
cli_cmd_find(const char *name)
{
	const struct cli_cmd *const *t, *k;
	char full[64];

	for (t = cli_tables; *t != NULL; t++)
		for (k = *t; k->group != NULL; k++) {
			snprintf(full, sizeof(full), "%s%s%s", k->group,
			    k->verb ? " " : "", k->verb ? k->verb : "");
			if (strcmp(full, name) == 0)
				return k;
		}
	return NULL;
}

static void
print_help(const struct cli *c)
{
	const struct cli_cmd *k;

	if ((k = cli_cmd_find(c->name)) != NULL) {
		printf("usage: casevault %s\n\n%s\n\n%s\n", k->synopsis,
		    k->summary, k->help);
		printf("\nCommon options: -V/--vault DIR (or CASEVAULT_DIR), "
		       "-u/--user NAME (or CASEVAULT_USER),\n"
		       "--passphrase-file FILE (else a no-echo prompt), "
		       "--json.\n"
		       "Exit status: 0 ok, 1 refused or failed, 2 usage.\n");
	}
}

int
cli_usage(struct cli *c, const char *why)
{
	const struct cli_cmd *k;

	if (why != NULL)
		fprintf(stderr, "casevault %s: %s\n", c->name, why);
	if ((k = cli_cmd_find(c->name)) != NULL)
		fprintf(stderr, "usage: casevault %s\n", k->synopsis);
	return EXIT_USAGE;
}

static int
match(const char *arg, const struct cli_opt *o, const char **inl)
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

int
cli_parse(struct cli *c, int argc, char **argv, const struct cli_opt *opts,
    const char **pos, int minpos, int maxpos, int *npos)
{
	const char **val;
	const char *inl;
	int i, j, *flag, found, rest = 0;

	*npos = 0;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (rest || a[0] != '-' || a[1] == '\0') {
			if (*npos >= maxpos)
				return cli_usage(c, "too many arguments");
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			rest = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_help(c);
			return -1;
		}
		found = 0;
		for (j = 0; opts != NULL && opts[j].name != NULL; j++) {
			if (!match(a, &opts[j], &inl))
				continue;
			val = opts[j].val;
			flag = opts[j].flag;
			found = 1;
			break;
		}
		for (j = 0; !found && global_opts[j].name != NULL; j++) {
			if (!match(a, &global_opts[j], &inl))
				continue;
			global_bind(c, j, &val, &flag);
			found = 1;
		}
		if (!found) {
			fprintf(stderr, "casevault %s: unknown option %s\n",
			    c->name, a);
			return cli_usage(c, NULL);
		}
		if (flag != NULL) {
			if (inl != NULL)
				return cli_usage(c, "a flag takes no value");
			*flag = 1;
		} else if (inl != NULL) {
			*val = inl;
		} else if (i + 1 < argc) {
			*val = argv[++i];
		} else {
			fprintf(stderr, "casevault %s: %s needs a value\n",
			    c->name, a);
			return cli_usage(c, NULL);
		}
	}
	if (*npos < minpos)
		return cli_usage(c, "missing arguments");
	if (c->lang != NULL && strcmp(c->lang, "en") != 0 &&
	    strcmp(c->lang, "id") != 0)
		return cli_usage(c, "--lang takes en or id");
	return 0;
}

void
cli_pass_free(char *pass)
{
	if (pass != NULL)
		sodium_free(pass);
}

static int
tty_read(int fd, const char *prompt, char *buf, size_t cap, size_t *len)
{
	struct termios old, quiet;
	ssize_t n;
	size_t off = 0;
	char ch;
	int r = 0;

	if (tcgetattr(fd, &old) != 0)
		return CV_EIO;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		return CV_EIO;
	for (;;) {
		n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || ch == '\n' || ch == '\r')
			break;
		if (off + 1 >= cap) {
			r = CV_ETOOBIG;
			continue; /* drain the line, keep nothing more */
		}
		buf[off++] = ch;
	}
	buf[off] = '\0';
	*len = off;
	ch = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		r = r ? r : CV_EIO;
	return r;
}

int
cli_pass_read(
    const char *file, const char *prompt, int confirm, char **pass, size_t *len)
{
	char *p = NULL, *q = NULL, *raw = NULL, *nl;
	size_t n = 0, m = 0, rawlen = 0;
	int fd = -1, r;

	*pass = NULL;
	*len = 0;
	if ((p = sodium_malloc(CV_PASSPHRASE_MAX + 2)) == NULL)
		return CV_ENOMEM;
	if (file != NULL) {
		if ((r = cv_read_file(
		         file, CV_PASSPHRASE_MAX + 2, &raw, &rawlen)) != 0)
			goto out;
		if ((nl = memchr(raw, '\n', rawlen)) != NULL)
			rawlen = (size_t)(nl - raw);
		if (rawlen > 0 && raw[rawlen - 1] == '\r')
			rawlen--;
		if (rawlen > CV_PASSPHRASE_MAX) {
			r = CV_ETOOBIG;
			goto out;
		}
		memcpy(p, raw, rawlen);
		p[rawlen] = '\0';
		n = rawlen;
	} else {
		if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
			fprintf(stderr,
			    "casevault: no terminal to ask for the "
			    "passphrase; use --passphrase-file\n");
			r = CV_EINVAL;
			goto out;
		}
		if ((r = tty_read(fd, prompt, p, CV_PASSPHRASE_MAX + 1, &n)) !=
		    0)
			goto out;
		if (confirm) {
			if ((q = sodium_malloc(CV_PASSPHRASE_MAX + 2)) ==
			    NULL) {
				r = CV_ENOMEM;
				goto out;
			}
			if ((r = tty_read(fd, "Again: ", q,
			         CV_PASSPHRASE_MAX + 1, &m)) != 0)
				goto out;
			if (m != n || sodium_memcmp(p, q, n) != 0) {
				fprintf(stderr,
				    "casevault: the passphrases "
				    "differ\n");
				r = CV_EINVAL;
				goto out;
			}
		}
	}
	*pass = p;
	*len = n;
	p = NULL;
	r = 0;
out:
	if (raw != NULL) {
		sodium_memzero(raw, rawlen);
		free(raw);
	}
	if (fd != -1)
		close(fd);
	cli_pass_free(p);
	cli_pass_free(q);
	return r;
}

int
cli_session(struct cli *c, struct cv_session **s)
{
	char *pass = NULL, prompt[128];
	size_t len;
	int r;

	*s = NULL;
	if (c->vault == NULL)
		c->vault = getenv("CASEVAULT_DIR");
	if (c->user == NULL)
		c->user = getenv("CASEVAULT_USER");
	if (c->vault == NULL || c->user == NULL) {
		fprintf(stderr,
		    "casevault %s: name the vault (-V DIR) and the "
		    "user (-u NAME)\n",
		    c->name);
		return EXIT_USAGE;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", c->user);
	if ((r = cli_pass_read(c->passfile, prompt, 0, &pass, &len)) != 0)
		return cli_fail(c, r);
	r = cv_session_open(c->vault, c->user, pass, len, s);
	cli_pass_free(pass);
	c->session_err = r;
	if (r != 0)
		return cli_fail(c, r);
	return 0;
}

int
cli_fail(struct cli *c, int r)
{
	const char *d = cv_error_detail();

	if (d != NULL && d[0] != '\0')
		fprintf(stderr, "casevault %s: %s: %s\n", c->name,
		    cv_strerror(r), d);
	else
		fprintf(stderr, "casevault %s: %s\n", c->name, cv_strerror(r));
	return r == CV_EINVAL && d[0] == '\0' ? EXIT_USAGE : EXIT_REFUSED;
}

static void
print_value(const json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		printf("%s", json_string_value(v));
	} else {
		s = json_dumps(
		    v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		printf("%s", s ? s : "?");
		free(s);
	}
}

void
cli_print_object(const json_t *j, int indent)
{
	const char *k;
	const json_t *v;

	json_object_foreach ((json_t *)j, k, v) {
		printf("%*s%s:", indent, "", k);
		if (json_is_object(v) && json_object_size(v) > 0) {
			printf("\n");
			cli_print_object(v, indent + 2);
			continue;
		}
		printf(" ");
		print_value(v);
		printf("\n");
	}
}

int
cli_out(struct cli *c, json_t *j, void (*human)(struct cli *c, const json_t *j))
{
	char *s;

	if (c->json || human == NULL) {
		s = json_dumps(
		    j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		human(c, j);
	}
	json_decref(j);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_REFUSED;
}

int
cli_read_json(struct cli *c, const char *file, json_t **out)
{
	json_error_t e;
	char *buf;
	size_t len;
	int r;

	*out = NULL;
	r = cv_read_file(file ? file : "-", CV_RECORD_MAX, &buf, &len);
	if (r == CV_ETOOBIG) {
		fprintf(stderr,
		    "casevault %s: the record is larger than %d "
		    "bytes\n",
		    c->name, CV_RECORD_MAX);
		return EXIT_REFUSED;
	}
	if (r != 0) {
		fprintf(stderr, "casevault %s: cannot read %s\n", c->name,
		    file ? file : "standard input");
		return EXIT_REFUSED;
	}
	*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
	sodium_memzero(buf, len);
	free(buf);
	if (*out == NULL || !json_is_object(*out)) {
		/* Line and column only: the text may be personal data. */
		if (*out == NULL)
			fprintf(stderr,
			    "casevault %s: malformed JSON at line "
			    "%d, column %d\n",
			    c->name, e.line, e.column);
		else
			fprintf(stderr,
			    "casevault %s: the record must be a "
			    "JSON object\n",
			    c->name);
		json_decref(*out);
		*out = NULL;
		return EXIT_REFUSED;
	}
	return 0;
}

unsigned
cli_number(const char *s)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 0xffffffffUL)
		return 0;
	return (unsigned)v;
}

int
cli_case_query(struct cli *c, int argc, char **argv,
    int (*fn)(struct cv_session *s, const char *case_id, json_t **out),
    void (*human)(struct cli *c, const json_t *j))
{
	struct cv_session *s;
	const char *pos[1];
	json_t *out;
	int n, r;

	if ((r = cli_parse(c, argc, argv, NULL, pos, 1, 1, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = fn(s, pos[0], &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	return cli_out(c, out, human);
}
