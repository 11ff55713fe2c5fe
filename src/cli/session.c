/*
 * Passphrases, sessions and requests: the one place the command asks for
 * a passphrase and logs in, and where a command's request is run
 * (cli_run): by the library's dispatcher in a session of this process, or
 * by the daemon through cli_remote. A passphrase lives only in
 * sodium_malloc memory, wiped when released, or in a request's string,
 * which the library's allocator wipes; it never comes from argv or the
 * environment.
 */
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
		if ((r = cli_read_secret(
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
	cli_secret_free(raw);
	if (fd != -1)
		close(fd);
	cli_secret_free(p);
	cli_secret_free(q);
	return r;
}

int
cli_new_pass(const struct cli *c, const char *who, char **pass, size_t *len)
{
	char prompt[128];
	int r;

	snprintf(prompt, sizeof(prompt), "New passphrase for %s: ", who);
	if ((r = cli_pass_read(
	         c->opt[OPT_NEWPASSFILE], prompt, 1, pass, len)) != 0)
		return cli_fail(c, r);
	if (*len < CV_PASSPHRASE_MIN) {
		fprintf(stderr,
		    "casevault %s: a passphrase needs at least %d "
		    "characters\n",
		    c->name, CV_PASSPHRASE_MIN);
		cli_secret_free(*pass);
		*pass = NULL;
		return EXIT_REFUSED;
	}
	return 0;
}

int
cli_session(struct cli *c, struct cv_session **s)
{
	char *pass = NULL, prompt[128];
	size_t len;
	int r;

	*s = NULL;
	if (c->opt[OPT_VAULT] == NULL)
		c->opt[OPT_VAULT] = getenv("CASEVAULT_DIR");
	if (c->opt[OPT_USER] == NULL)
		c->opt[OPT_USER] = getenv("CASEVAULT_USER");
	if (c->opt[OPT_VAULT] == NULL || c->opt[OPT_USER] == NULL) {
		fprintf(stderr,
		    "casevault %s: name the vault (-V DIR) and the "
		    "user (-u NAME)\n",
		    c->name);
		return EXIT_USAGE;
	}
	snprintf(
	    prompt, sizeof(prompt), "Passphrase for %s: ", c->opt[OPT_USER]);
	if ((r = cli_pass_read(c->opt[OPT_PASSFILE], prompt, 0, &pass, &len)) !=
	    0)
		return cli_fail(c, r);
	r = cv_session_open(c->opt[OPT_VAULT], c->opt[OPT_USER], pass, len, s);
	cli_secret_free(pass);
	c->session_err = r;
	if (r != 0)
		return cli_fail(c, r);
	/* The vault keeps the trail's time; whoever set the clock back
	 * should know that times shown are not the clock's. */
	if (cv_session_clock_behind(*s) > 0)
		fprintf(stderr,
		    "casevault %s: warning: the system clock is %llu s "
		    "behind the audit trail; the vault keeps the trail's "
		    "time\n",
		    c->name,
		    (unsigned long long)(cv_session_clock_behind(*s) / 1000));
	return 0;
}

const char *
cli_socket(struct cli *c)
{
	if (c->opt[OPT_SOCKET] == NULL)
		c->opt[OPT_SOCKET] = getenv("CASEVAULT_SOCKET");
	if (c->opt[OPT_SOCKET] != NULL && c->opt[OPT_SOCKET][0] == '\0')
		c->opt[OPT_SOCKET] = NULL;
	return c->opt[OPT_SOCKET];
}

/* Refuse a request with an argument cli_arg could not set. */
static int
broken(const struct cli *c)
{
	fprintf(stderr, "casevault %s: %s: not text the request can carry\n",
	    c->name, c->badarg);
	return EXIT_USAGE;
}

int
cli_run(struct cli *c, cli_ask_fn *ask, json_t **out)
{
	struct cv_session *s = NULL;
	json_t *req = NULL;
	int r;

	*out = NULL;
	if (c->args == NULL && (c->args = json_object()) == NULL)
		return cli_fail(c, CV_ENOMEM);
	if (c->badarg != NULL)
		return broken(c);
	/* Logged in first: a refused user types no new passphrase. */
	if (cli_socket(c) == NULL && (r = cli_session(c, &s)) != 0)
		return r;
	if (ask != NULL && (r = ask(c)) != 0)
		goto out;
	if (c->badarg != NULL) {
		r = broken(c);
		goto out;
	}
	if ((req = json_pack("{s:s, s:O}", "cmd", c->name, "args", c->args)) ==
	    NULL) {
		r = cli_fail(c, CV_ENOMEM);
		goto out;
	}
	r = s != NULL ? cv_dispatch(s, req, out) : cli_remote(c, req, out);
out:
	/* The request held the only copy of a new passphrase: wipe it now. */
	json_decref(req);
	json_object_del(c->args, "passphrase");
	if (s != NULL)
		cv_session_close(s);
	return r;
}

int
cli_call(struct cli *c, cli_ask_fn *ask, cli_print_fn *print)
{
	json_t *out;
	int r;

	r = cli_run(c, ask, &out);
	return cli_result(c, r, out, print);
}
