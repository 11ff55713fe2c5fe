/*
 * One client: a thread that reads its requests one frame at a time, runs
 * each to the end (its audit commit included) and answers with one frame.
 *
 * Whoever can open the socket is untrusted until logged in, and even then
 * every argument is: the frame reader bounds size, depth, encoding and
 * time; each operation takes exactly its keys, of their types; the
 * dispatcher checks the command's arguments. A frame that is not one gets
 * an error frame and the connection closed; a well-formed request that is
 * wrong gets an error frame and the connection stays. The log names the
 * event and the peer's uid, never a user name, a passphrase, a token or an
 * argument: people type passphrases into the user-name field.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"

/* The thread's client. */
struct client {
	int fd;
	struct cv_peer peer;
};

static pthread_mutex_t unlock_lock = PTHREAD_MUTEX_INITIALIZER;

/* {"ok":false,"error":{...}} for R with DETAIL (NULL: none). */
static json_t *
error_frame(int r, const char *detail)
{
	return json_pack("{s:b, s:{s:s, s:i, s:s, s:s}}", "ok", 0, "error",
	    "code", cvd_code_name(r), "number", r, "message", cv_strerror(r),
	    "detail", detail != NULL ? detail : "");
}

/* An error frame for R, with the library's detail of this thread. */
static json_t *
lib_error(int r)
{
	return error_frame(r, cv_error_detail());
}

/*
 * 0 when REQ holds only the keys of NAMES (a NULL-ended list) and each
 * of the first NREQ of them, as a string; else CV_EPROTO with *WHY.
 */
static int
shape(const json_t *req, const char *const *names, int nreq, const char **why)
{
	const char *k;
	json_t *v;
	int i, known;

	json_object_foreach ((json_t *)req, k, v) {
		known = 0;
		for (i = 0; names[i] != NULL; i++)
			known |= strcmp(k, names[i]) == 0;
		if (!known) {
			*why = "an unknown key in the request";
			return CV_EPROTO;
		}
	}
	for (i = 0; i < nreq; i++)
		if (!json_is_string(json_object_get(req, names[i]))) {
			*why = "a required key is missing or not a string";
			return CV_EPROTO;
		}
	return 0;
}

static const char *
str(const json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

/* The user name and passphrase of REQ, bounded as the library bounds them. */
static int
credentials(const json_t *req, const char **user, const char **pass,
    size_t *passlen, const char **why)
{
	*user = str(req, "user");
	*pass = str(req, "passphrase");
	*passlen = json_string_length(json_object_get(req, "passphrase"));
	if (strlen(*user) == 0 || strlen(*user) > CV_NAME_MAX ||
	    *passlen > CV_PASSPHRASE_MAX || strlen(*pass) != *passlen) {
		*why = "a user name or passphrase out of bounds";
		return CV_EPROTO;
	}
	return 0;
}

static struct cv_vault *
vault(void)
{
	struct cv_vault *v;

	pthread_mutex_lock(&cvd.lock);
	v = cvd.vault;
	pthread_mutex_unlock(&cvd.lock);
	return v;
}

static json_t *
op_status(const struct client *c, const json_t *req)
{
	static const char *const keys[] = {"op", NULL};
	const char *why;

	(void)c;
	if (shape(req, keys, 1, &why) != 0)
		return error_frame(CV_EPROTO, why);
	return json_pack("{s:b, s:s, s:s}", "ok", 1, "state",
	    vault() != NULL ? "unlocked" : "sealed", "version",
	    CV_VERSION_STRING);
}

static json_t *
op_unlock(const struct client *c, const json_t *req)
{
	static const char *const keys[] = {"op", "user", "passphrase", NULL};
	const char *user, *pass, *why;
	struct cv_vault *v = NULL;
	size_t passlen;
	json_t *resp;
	int r;

	if ((r = shape(req, keys, 3, &why)) != 0 ||
	    (r = credentials(req, &user, &pass, &passlen, &why)) != 0)
		return error_frame(r, why);
	if ((r = cvd_backoff_check(c->peer.uid)) != 0)
		return error_frame(r, "failed attempts from this uid: wait");
	/* One unlock at a time, so that two custodians do not both open. */
	pthread_mutex_lock(&unlock_lock);
	if (vault() != NULL) {
		pthread_mutex_unlock(&unlock_lock);
		return error_frame(CV_ESTATE, "the vault is unlocked already");
	}
	r = cv_vault_unlock(cvd.conf.vault, user, pass, passlen, &v);
	cvd_backoff_note(c->peer.uid, r);
	if (r != 0) {
		resp = lib_error(r);
		pthread_mutex_unlock(&unlock_lock);
		cvd_log("unlock failed: %s (peer uid %lld)", cvd_code_name(r),
		    (long long)c->peer.uid);
		return resp;
	}
	pthread_mutex_lock(&cvd.lock);
	cvd.vault = v;
	pthread_mutex_unlock(&cvd.lock);
	pthread_mutex_unlock(&unlock_lock);
	cvd_log(
	    "unlocked by a custodian (peer uid %lld)", (long long)c->peer.uid);
	return json_pack("{s:b, s:s}", "ok", 1, "state", "unlocked");
}

static json_t *
op_login(const struct client *c, const json_t *req)
{
	static const char *const keys[] = {"op", "user", "passphrase", NULL};
	char hex[CVD_TOKEN_HEX + 1];
	const char *user, *pass, *why;
	struct cv_session *s = NULL;
	struct cv_vault *v;
	size_t passlen;
	json_t *resp;
	int r;

	if ((r = shape(req, keys, 3, &why)) != 0 ||
	    (r = credentials(req, &user, &pass, &passlen, &why)) != 0)
		return error_frame(r, why);
	if ((v = vault()) == NULL)
		return error_frame(CV_ESEALED, NULL);
	if ((r = cvd_backoff_check(c->peer.uid)) != 0)
		return error_frame(r, "failed logins from this uid: wait");
	if (cvd_session_count() >= CVD_SESSIONS_MAX)
		return error_frame(CV_EBUSY, "too many sessions");
	r = cv_vault_login(v, user, pass, passlen, &c->peer, &s);
	cvd_backoff_note(c->peer.uid, r);
	if (r != 0) {
		resp = lib_error(r);
		cvd_log("login failed: %s (peer uid %lld)", cvd_code_name(r),
		    (long long)c->peer.uid);
		return resp;
	}
	resp = json_pack("{s:b, s:s, s:s}", "ok", 1, "user", cv_session_user(s),
	    "role", cv_session_role(s));
	if (resp == NULL) {
		cv_session_end(s, "logout");
		return error_frame(CV_ENOMEM, NULL);
	}
	if ((r = cvd_session_add(s, c->peer.uid, hex)) != 0) {
		json_decref(resp);
		cv_session_end(s, "logout");
		return error_frame(r, "too many sessions");
	}
	/* The hex is in the answer alone, freed (and wiped) with it. */
	json_object_set_new(resp, "token", json_string(hex));
	sodium_memzero(hex, sizeof(hex));
	cvd_log("login (peer uid %lld)", (long long)c->peer.uid);
	return resp;
}

static json_t *
op_call(const struct client *c, const json_t *req)
{
	static const char *const keys[] = {"op", "token", "cmd", "args", NULL};
	struct cv_session *s;
	json_t *args, *dreq, *res = NULL, *resp;
	const char *why;
	int r;

	if ((r = shape(req, keys, 3, &why)) != 0)
		return error_frame(r, why);
	args = json_object_get(req, "args");
	if (args != NULL && !json_is_object(args))
		return error_frame(CV_EPROTO, "args is not an object");
	if (vault() == NULL)
		return error_frame(CV_ESEALED, NULL);
	if ((r = cvd_session_take(str(req, "token"), c->peer.uid, &s)) != 0)
		return error_frame(r,
		    "no such session, or it expired: log in "
		    "again");
	dreq = args != NULL ? json_pack("{s:O, s:O}", "cmd",
	                          json_object_get(req, "cmd"), "args", args)
	                    : json_pack("{s:O, s:{}}", "cmd",
	                          json_object_get(req, "cmd"), "args");
	if (dreq == NULL) {
		cvd_session_put(s, 0);
		return error_frame(CV_ENOMEM, NULL);
	}
	r = cv_dispatch(s, dreq, &res);
	if (r != 0) {
		resp = lib_error(r);
		if (resp != NULL && res != NULL)
			json_object_set(resp, "result", res);
	} else
		resp = json_pack("{s:b, s:O}", "ok", 1, "result", res);
	cvd_session_put(s, 0);
	json_decref(res);
	json_decref(dreq);
	return resp;
}

static json_t *
op_logout(const struct client *c, const json_t *req)
{
	static const char *const keys[] = {"op", "token", NULL};
	struct cv_session *s;
	const char *why;
	int r;

	if ((r = shape(req, keys, 2, &why)) != 0)
		return error_frame(r, why);
	if ((r = cvd_session_take(str(req, "token"), c->peer.uid, &s)) != 0)
		return error_frame(r, "no such session, or it expired");
	cvd_session_put(s, 1);
	cvd_log("logout (peer uid %lld)", (long long)c->peer.uid);
	return json_pack("{s:b}", "ok", 1);
}

static const struct {
	const char *name;
	json_t *(*fn)(const struct client *c, const json_t *req);
} ops[] = {
    {"status", op_status},
    {"unlock", op_unlock},
    {"login", op_login},
    {"call", op_call},
    {"logout", op_logout},
};

/* The answer to REQ; never NULL unless out of memory. */
static json_t *
handle(const struct client *c, const json_t *req)
{
	const char *op;
	size_t i;

	if ((op = str(req, "op")) == NULL)
		return error_frame(CV_EPROTO, "no op");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i].name) == 0)
			return ops[i].fn(c, req);
	return error_frame(CV_EPROTO, "unknown op");
}

/*
 * Wait for C's next frame to begin, at most the idle time. Returns 1 when
 * it has, 0 when the client idled too long or the daemon is stopping.
 */
static int
wait_request(const struct client *c)
{
	struct pollfd p[2];
	int n;

	p[0].fd = c->fd;
	p[0].events = POLLIN;
	p[1].fd = cvd.stop_pipe[0];
	p[1].events = POLLIN;
	for (;;) {
		p[0].revents = p[1].revents = 0;
		n = poll(p, 2, cvd.conf.idle * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || p[1].revents != 0)
			return 0;
		return 1;
	}
}

/* Send R to C, giving up after the write timeout; consumes R. */
static int
answer(const struct client *c, json_t *r, int timeout_ms)
{
	int rc;

	if (r == NULL)
		r = error_frame(CV_ENOMEM, NULL);
	if (r == NULL)
		return CV_ENOMEM;
	rc = cv_frame_write(c->fd, r, timeout_ms);
	json_decref(r);
	if (rc == CV_ETOOBIG) {
		/* Done, audited, and too large to send: say so rather than
		 * close without an answer. */
		if ((r = error_frame(rc,
		         "the answer is larger than a frame "
		         "(1 MiB); narrow the request")) == NULL)
			return CV_ENOMEM;
		rc = cv_frame_write(c->fd, r, timeout_ms);
		json_decref(r);
	}
	return rc;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	json_t *req;
	int r;

	for (;;) {
		if (!wait_request(c)) {
			if (!cvd_stopping())
				answer(c,
				    error_frame(
				        CV_ETIMEDOUT, "idle too long: closed"),
				    1000);
			break;
		}
		r = cv_frame_read(c->fd, CVD_REQUEST_MAX,
		    cvd.conf.frame_timeout * 1000, &req);
		if (r == CV_ENOTFOUND)
			break;
		if (r != 0) {
			/* Not a frame: say why, and end the connection, since
			 * where the next frame begins is unknown. */
			answer(c, lib_error(r), 1000);
			break;
		}
		r = answer(c, handle(c, req), CVD_WRITE_TIMEOUT * 1000);
		json_decref(req);
		if (r != 0)
			break;
	}
	close(c->fd);
	free(c);
	pthread_mutex_lock(&cvd.lock);
	cvd.clients--;
	pthread_cond_broadcast(&cvd.changed);
	pthread_mutex_unlock(&cvd.lock);
	return NULL;
}

int
cvd_client_start(int fd, const struct cv_peer *peer)
{
	pthread_attr_t attr;
	struct client *c;
	pthread_t t;
	int r = CV_ENOMEM;

	if ((c = malloc(sizeof(*c))) == NULL)
		goto fail;
	c->fd = fd;
	c->peer = *peer;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 4 << 20);
	pthread_mutex_lock(&cvd.lock);
	cvd.clients++;
	pthread_mutex_unlock(&cvd.lock);
	if (pthread_create(&t, &attr, client_main, c) != 0) {
		pthread_mutex_lock(&cvd.lock);
		cvd.clients--;
		pthread_cond_broadcast(&cvd.changed);
		pthread_mutex_unlock(&cvd.lock);
		free(c);
		pthread_attr_destroy(&attr);
		goto fail;
	}
	pthread_attr_destroy(&attr);
	return 0;
fail:
	close(fd);
	return r;
}
