/*
 * The command as the daemon's client: a request goes to casevaultd over
 * its Unix socket (--socket, or CASEVAULT_SOCKET) instead of to a session
 * of this process, and its result comes back as the same JSON.
 *
 * Who runs it: a command logs in with the -u user's passphrase, calls and
 * logs out, all on one connection; or, after `casevault login`, it uses
 * the session token kept in a file of the user's runtime directory
 * ($XDG_RUNTIME_DIR, which must be the user's own and 0700), one file per
 * socket and user, 0600, so that one login serves the commands that
 * follow until `casevault logout` or the daemon ends the session. The
 * token is a bearer secret: it lives in that file and in wiped memory,
 * and never on the command line or in the environment. The daemon binds
 * it to the uid that logged in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

#define TOKEN_HEX     64
#define WRITE_TIMEOUT (30 * 1000)
/* A request may run long (audit verify of a large trail). */
#define READ_TIMEOUT (30 * 60 * 1000)

/* The -u user, else CASEVAULT_USER; NULL (reported) when neither. */
static const char *
remote_user(struct cli *c)
{
	if (c->opt[OPT_USER] == NULL)
		c->opt[OPT_USER] = getenv("CASEVAULT_USER");
	if (c->opt[OPT_USER] == NULL)
		fprintf(
		    stderr, "casevault %s: name the user (-u NAME)\n", c->name);
	return c->opt[OPT_USER];
}

/* Connect to the daemon at PATH; -1 (reported) when it cannot be. */
static int
dial(const struct cli *c, const char *path)
{
	struct sockaddr_un a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "casevault %s: the socket path is too long\n",
		    c->name);
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr,
		    "casevault %s: cannot reach the daemon at %s: %s\n",
		    c->name, path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Send REQ (consumed) on FD and read the answer into *ANS.
 * Returns 0, or a CV_E* code (the connection failed or the answer is no
 * frame).
 */
static int
exchange(int fd, json_t *req, json_t **ans)
{
	int r;

	*ans = NULL;
	if (req == NULL)
		return CV_ENOMEM;
	r = cv_frame_write(fd, req, WRITE_TIMEOUT);
	json_decref(req);
	if (r != 0)
		return r;
	if ((r = cv_frame_read(fd, CV_FRAME_MAX, READ_TIMEOUT, ans)) ==
	    CV_ENOTFOUND)
		r = CV_EIO; /* the daemon closed without an answer */
	return r;
}

/*
 * The outcome an answer ANS carries: 0 for {"ok": true}, else the CV_E*
 * code of its error, with the detail in c->detail. A number that is no
 * casevault code is CV_EPROTO.
 */
static int
outcome(struct cli *c, const json_t *ans)
{
	const json_t *err;
	const char *detail;
	json_int_t n;

	if (json_is_true(json_object_get(ans, "ok")))
		return 0;
	err = json_object_get(ans, "error");
	n = json_integer_value(json_object_get(err, "number"));
	if ((detail = json_string_value(json_object_get(err, "detail"))) !=
	    NULL)
		snprintf(c->detail, sizeof(c->detail), "%s", detail);
	if (n > -1001 || n < -1099)
		return CV_EPROTO;
	return (int)n;
}

/* The result of a call's answer: 0 with *RESP, or its error. */
static int
call_result(struct cli *c, json_t *ans, json_t **resp)
{
	json_t *res;
	int r;

	r = outcome(c, ans);
	if ((res = json_object_get(ans, "result")) != NULL)
		*resp = json_incref(res);
	return r;
}

/* ---- the token file ---- */

/*
 * The token file of SOCKET and USER into PATH: $XDG_RUNTIME_DIR/
 * casevault-<hash>.token, the hash of the socket's absolute path and the
 * user name (a file name that names no one). Returns 0, or -1 with *WHY
 * when the runtime directory is unset or not the user's 0700.
 */
static int
token_path(const char *socket_path, const char *user, char path[PATH_MAX],
    const char **why)
{
	uint8_t h[16];
	char hex[sizeof(h) * 2 + 1], abs[PATH_MAX];
	crypto_generichash_state st;
	const char *dir;
	struct stat sb;

	if ((dir = getenv("XDG_RUNTIME_DIR")) == NULL || dir[0] != '/') {
		*why = "XDG_RUNTIME_DIR is not set to a directory";
		return -1;
	}
	if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != getuid() || (sb.st_mode & 077) != 0) {
		*why = "XDG_RUNTIME_DIR is not a directory of yours that only "
		       "you can open (0700)";
		return -1;
	}
	if (realpath(socket_path, abs) == NULL)
		snprintf(abs, sizeof(abs), "%s", socket_path);
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)abs, strlen(abs) + 1);
	crypto_generichash_update(&st, (const uint8_t *)user, strlen(user) + 1);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if (snprintf(path, PATH_MAX, "%s/casevault-%s.token", dir, hex) >=
	    PATH_MAX) {
		*why = "XDG_RUNTIME_DIR is too long";
		return -1;
	}
	return 0;
}

/*
 * Read the token kept at PATH into TOKEN (TOKEN_HEX + 1, sodium_malloc
 * memory of the caller). Returns 1 when there is one, 0 when there is no
 * file, -1 (reported) when the file is not a token file of ours, 0600.
 */
static int
token_read(const struct cli *c, const char *path, char *token)
{
	struct stat sb;
	char buf[TOKEN_HEX + 2];
	ssize_t n;
	int fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "casevault %s: the session token file: %s\n",
		    c->name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != getuid() || (sb.st_mode & 077) != 0) {
		fprintf(stderr,
		    "casevault %s: the session token file is not yours "
		    "alone (0600); log in again\n",
		    c->name);
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n != TOKEN_HEX + 1 || buf[TOKEN_HEX] != '\n' ||
	    strspn(buf, "0123456789abcdef") != TOKEN_HEX) {
		fprintf(stderr,
		    "casevault %s: the session token file is malformed; log "
		    "in again\n",
		    c->name);
		goto out;
	}
	memcpy(token, buf, TOKEN_HEX);
	token[TOKEN_HEX] = '\0';
	r = 1;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}

/* Keep TOKEN at PATH, 0600, replacing what was there whole. */
static int
token_write(const char *path, const char *token)
{
	char tmp[PATH_MAX + 8];
	int fd, ok;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -1;
	unlink(tmp);
	if ((fd = open(tmp,
	         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) ==
	    -1)
		return -1;
	ok =
	    write(fd, token, TOKEN_HEX) == TOKEN_HEX && write(fd, "\n", 1) == 1;
	if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- logging in ---- */

/*
 * Log the user in on FD, asking for the passphrase as the command does
 * (--passphrase-file, else the terminal). Returns 0 with *ANS the answer
 * holding the token; a CV_E* code; or an exit status already reported.
 */
static int
login(struct cli *c, int fd, const char *user, json_t **ans)
{
	char *pass = NULL, prompt[128];
	json_t *req;
	size_t len;
	int r;

	*ans = NULL;
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", user);
	if ((r = cli_pass_read(c->opt[OPT_PASSFILE], prompt, 0, &pass, &len)) !=
	    0)
		return cli_fail(c, r);
	/* The JSON copy is wiped when freed (cv_library_init's allocator). */
	req = json_pack("{s:s, s:s, s:s%}", "op", "login", "user", user,
	    "passphrase", pass, len);
	cli_secret_free(pass);
	if ((r = exchange(fd, req, ans)) != 0)
		return r;
	if ((r = outcome(c, *ans)) != 0 ||
	    !json_is_string(json_object_get(*ans, "token")) ||
	    json_string_length(json_object_get(*ans, "token")) != TOKEN_HEX) {
		json_decref(*ans);
		*ans = NULL;
		return r != 0 ? r : CV_EPROTO;
	}
	return 0;
}

static json_t *
call_req(const char *token, const json_t *req)
{
	json_t *args = json_object_get(req, "args");

	if (args == NULL)
		return json_pack("{s:s, s:s, s:O, s:{}}", "op", "call", "token",
		    token, "cmd", json_object_get(req, "cmd"), "args");
	return json_pack("{s:s, s:s, s:O, s:O}", "op", "call", "token", token,
	    "cmd", json_object_get(req, "cmd"), "args", args);
}

static json_t *
logout_req(const char *token)
{
	return json_pack("{s:s, s:s}", "op", "logout", "token", token);
}

/* One command on one connection: login, call, logout. */
static int
one_shot(struct cli *c, int fd, const char *user, json_t *req, json_t **resp)
{
	json_t *ans = NULL, *out = NULL;
	char *token;
	int r;

	if ((r = login(c, fd, user, &ans)) != 0)
		return r;
	token = (char *)json_string_value(json_object_get(ans, "token"));
	if ((r = exchange(fd, call_req(token, req), &out)) == 0)
		r = call_result(c, out, resp);
	json_decref(out);
	/* The session ends now, whatever the call did. */
	if (exchange(fd, logout_req(token), &out) == 0)
		json_decref(out);
	json_decref(ans); /* the token with it, wiped */
	return r;
}

int
cli_remote(struct cli *c, json_t *req, json_t **resp)
{
	char path[PATH_MAX], *token = NULL;
	const char *sock, *user, *why;
	json_t *ans = NULL;
	int fd = -1, r, have = 0;

	*resp = NULL;
	c->detail[0] = '\0';
	if ((sock = cli_socket(c)) == NULL || (user = remote_user(c)) == NULL)
		return EXIT_USAGE;
	if ((fd = dial(c, sock)) == -1)
		return EXIT_REFUSED;
	/* A kept session when there is one; the runtime directory unfit
	 * means none is kept, not that the command fails. */
	if (token_path(sock, user, path, &why) == 0) {
		if ((token = sodium_malloc(TOKEN_HEX + 1)) == NULL) {
			r = cli_fail(c, CV_ENOMEM);
			goto out;
		}
		if ((have = token_read(c, path, token)) < 0) {
			r = EXIT_REFUSED;
			goto out;
		}
	}
	if (!have) {
		r = one_shot(c, fd, user, req, resp);
		goto out;
	}
	if ((r = exchange(fd, call_req(token, req), &ans)) != 0)
		goto out;
	if ((r = call_result(c, ans, resp)) == CV_ESESSION) {
		/* Ended or expired: the file names nothing any more. */
		unlink(path);
		snprintf(c->detail, sizeof(c->detail),
		    "the session ended; log in again (casevault login)");
	}
out:
	json_decref(ans);
	if (token != NULL)
		sodium_free(token);
	if (fd != -1)
		close(fd);
	return r;
}

/* ---- casevault login, casevault logout ---- */

/* End the session kept at PATH, if any, before it is replaced. */
static void
end_kept(const struct cli *c, int fd, const char *path)
{
	json_t *ans = NULL;
	char *token;

	if ((token = sodium_malloc(TOKEN_HEX + 1)) == NULL)
		return;
	if (token_read(c, path, token) == 1 &&
	    exchange(fd, logout_req(token), &ans) == 0)
		json_decref(ans);
	sodium_free(token);
}

int
cmd_login(struct cli *c)
{
	char path[PATH_MAX];
	const char *sock, *user, *why, *token;
	json_t *ans = NULL;
	int fd = -1, r;

	if ((sock = cli_socket(c)) == NULL) {
		fprintf(stderr,
		    "casevault login: name the daemon's socket (--socket "
		    "PATH or CASEVAULT_SOCKET)\n");
		return EXIT_USAGE;
	}
	if ((user = remote_user(c)) == NULL)
		return EXIT_USAGE;
	if (token_path(sock, user, path, &why) != 0) {
		fprintf(stderr,
		    "casevault login: %s: nowhere to keep the "
		    "session\n",
		    why);
		return EXIT_REFUSED;
	}
	if ((fd = dial(c, sock)) == -1)
		return EXIT_REFUSED;
	end_kept(c, fd, path);
	if ((r = login(c, fd, user, &ans)) != 0) {
		close(fd);
		return r > 0 ? r : cli_fail(c, r);
	}
	close(fd);
	token = json_string_value(json_object_get(ans, "token"));
	if (token_write(path, token) != 0) {
		fprintf(stderr,
		    "casevault login: cannot keep the session: %s\n",
		    strerror(errno));
		r = EXIT_REFUSED;
		goto out;
	}
	if (c->json) {
		json_t *o = json_pack("{s:O?, s:O?}", "user",
		    json_object_get(ans, "user"), "role",
		    json_object_get(ans, "role"));
		cli_dump(o);
		json_decref(o);
	} else
		printf("logged in as %s (%s)\n",
		    json_string_value(json_object_get(ans, "user")),
		    json_string_value(json_object_get(ans, "role")));
	r = EXIT_OK;
out:
	json_decref(ans);
	return r;
}

int
cmd_logout(struct cli *c)
{
	char path[PATH_MAX], *token = NULL;
	const char *sock, *user, *why;
	json_t *ans = NULL;
	int fd = -1, r, have;

	if ((sock = cli_socket(c)) == NULL) {
		fprintf(stderr,
		    "casevault logout: name the daemon's socket (--socket "
		    "PATH or CASEVAULT_SOCKET)\n");
		return EXIT_USAGE;
	}
	if ((user = remote_user(c)) == NULL)
		return EXIT_USAGE;
	if (token_path(sock, user, path, &why) != 0) {
		fprintf(stderr, "casevault logout: %s\n", why);
		return EXIT_REFUSED;
	}
	if ((token = sodium_malloc(TOKEN_HEX + 1)) == NULL)
		return cli_fail(c, CV_ENOMEM);
	if ((have = token_read(c, path, token)) <= 0) {
		sodium_free(token);
		if (have == 0)
			fprintf(stderr, "casevault logout: not logged in\n");
		return EXIT_REFUSED;
	}
	/* Forgotten here first: a token that could not be ended at the
	 * daemon still expires there. */
	unlink(path);
	if ((fd = dial(c, sock)) == -1) {
		sodium_free(token);
		return EXIT_REFUSED;
	}
	r = exchange(fd, logout_req(token), &ans);
	sodium_free(token);
	close(fd);
	if (r == 0)
		r = outcome(c, ans);
	json_decref(ans);
	if (r == CV_ESESSION)
		r = 0; /* it had ended already */
	if (r != 0)
		return cli_fail(c, r);
	if (!c->json)
		printf("logged out\n");
	return EXIT_OK;
}
