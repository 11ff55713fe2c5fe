/* Helpers shared by the command files: input, output and errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

int
cli_fail(const struct cli *c, int r)
{
	const char *d = c->detail[0] != '\0' ? c->detail : cv_error_detail();

	if (d != NULL && d[0] != '\0')
		fprintf(stderr, "casevault %s: %s: %s\n", c->name,
		    cv_strerror(r), d);
	else
		fprintf(stderr, "casevault %s: %s\n", c->name, cv_strerror(r));
	return r == CV_EINVAL && (d == NULL || d[0] == '\0') ? EXIT_USAGE
	                                                     : EXIT_REFUSED;
}

/*
 * Print J as indented JSON and a newline, straight to standard output: no
 * copy of a decrypted record is left in a string that nobody wipes.
 */
void
cli_dump(const json_t *j)
{
	if (json_dumpf(j, stdout,
	        JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY) != 0)
		fputs("?", stdout);
	putchar('\n');
}

int
cli_out(const struct cli *c, json_t *r, cli_print_fn *print)
{

	if (c->json || print == NULL) {
		cli_dump(r);
	} else {
		print(c, r);
	}
	json_decref(r);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_REFUSED;
}

int
cli_result(struct cli *c, int r, json_t *out, cli_print_fn *print)
{
	int w;

	if (r < 0) {
		if (out != NULL && c->json)
			cli_out(c, out, NULL);
		else
			json_decref(out);
		return cli_fail(c, r);
	}
	w = out != NULL ? cli_out(c, out, print) : EXIT_OK;
	return r != 0 ? r : w;
}

void
cli_secret_free(char *p)
{
	if (p != NULL)
		sodium_free(p);
}

int
cli_read_secret(const char *path, size_t max, char **buf, size_t *len)
{
	char *b = NULL;
	size_t n = 0;
	ssize_t got;
	int fd, r = CV_EIO;

	*buf = NULL;
	*len = 0;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return CV_EIO;
	/* One allocation, never grown: no copy is left behind unwiped. */
	if ((b = sodium_malloc(max + 2)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	while (n <= max) {
		got = read(fd, b + n, max + 1 - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		r = CV_ETOOBIG;
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	r = 0;
out:
	cli_secret_free(b);
	if (fd != STDIN_FILENO)
		close(fd);
	return r;
}

int
cli_read_json(const struct cli *c, const char *file, json_t **out)
{
	json_error_t e;
	char *buf;
	size_t len;
	int r;

	*out = NULL;
	r = cli_read_secret(file ? file : "-", CV_RECORD_MAX, &buf, &len);
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
	cli_secret_free(buf);
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

json_t *
cli_classes(const char *list)
{
	const char *p = list, *q;
	json_t *a, *v;

	if ((a = json_array()) == NULL)
		return NULL;
	for (;;) {
		if ((q = strchr(p, ',')) == NULL)
			q = p + strlen(p);
		/* Text that is not UTF-8 is kept as "": no class either. */
		if ((v = json_stringn(p, (size_t)(q - p))) == NULL)
			v = json_string("");
		if (json_array_append_new(a, v) != 0) {
			json_decref(a);
			return NULL;
		}
		if (*q == '\0')
			return a;
		p = q + 1;
	}
}

void
cli_arg(struct cli *c, const char *name, json_t *v)
{
	if (c->args == NULL && (c->args = json_object()) == NULL) {
		json_decref(v);
		v = NULL;
	}
	/* json_object_set_new releases V when it fails. */
	if ((v == NULL || json_object_set_new(c->args, name, v) != 0) &&
	    c->badarg == NULL)
		c->badarg = name;
}

void
cli_arg_str(struct cli *c, const char *name, const char *v)
{
	if (v != NULL)
		cli_arg(c, name, json_string(v));
}

void
cli_arg_num(struct cli *c, const char *name, unsigned v)
{
	if (v != 0)
		cli_arg(c, name, json_integer((json_int_t)v));
}

void
cli_arg_flag(struct cli *c, const char *name, int v)
{
	if (v)
		cli_arg(c, name, json_true());
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
cli_lang_id(const struct cli *c)
{
	return c->opt[OPT_LANG] != NULL && strcmp(c->opt[OPT_LANG], "id") == 0;
}

static void
print_value(const json_t *v)
{

	if (json_is_string(v)) {
		printf("%s", json_string_value(v));
	} else {
		json_dumpf(
		    v, stdout, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
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

void
cli_print_list(const struct cli *c, const json_t *j)
{
	const json_t *o;
	size_t i;

	(void)c;
	if (json_array_size(j) == 0)
		printf("(none)\n");
	json_array_foreach (j, i, o) {
		cli_print_object(o, 0);
		printf("\n");
	}
}

void
cli_print_record_id(const struct cli *c, const json_t *j)
{
	(void)c;
	printf("%lld\n",
	    (long long)json_integer_value(json_object_get(j, "record")));
}
