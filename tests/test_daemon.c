/*
 * casevaultd from the outside: each test starts build/casevaultd on a
 * socket in a temporary directory, speaks frames to it as any local
 * process could, and stops it (SIGKILL on a failed path, from the teardown
 * and atexit). Bad input of every kind gets an error or a closed
 * connection and the daemon serves the next client; sessions expire; the
 * socket, the unlock file and the process are as locked down as
 * docs/operations.md says; under load and through SIGTERM no acknowledged
 * write is lost and the trail verifies.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/util.h"
#include "helpers.h"
#include "helpers.c.inc"

static char vdir[64];       /* the vault */
static char rdir[64];       /* the daemon's socket, log, unlock file */
static char sock[96];       /* rdir/run/casevault.sock */
static char daemon_bin[4096];
static pid_t dpid = -1;
static json_t *intake; /* the intake fixture */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whatever happens, no daemon outlives the suite. */
static void
daemon_kill(void)
{
	if (dpid > 0) {
		kill(dpid, SIGKILL);
		waitpid(dpid, NULL, 0);
		dpid = -1;
	}
}

static int
dial(void)
{
	struct sockaddr_un a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Run the daemon with ARGS (NULL-ended) after -V and --socket, as UID
 * when it is not -1. Returns its pid once the socket answers, or -1 when
 * it exited first, its exit status in *STATUS.
 */
static pid_t
spawn(const char *const *args, uid_t uid, int *status, int must_exit)
{
	const char *argv[32] = {daemon_bin, "-V", vdir, "--socket", sock,
	    "--foreground"};
	char log[128];
	int i, n = 6, fd, st;
	pid_t pid;

	for (i = 0; args != NULL && args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/log", rdir);
	if ((pid = fork()) == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd != -1)
			dup2(fd, 2);
		if (uid != (uid_t)-1 &&
		    (setgroups(0, NULL) != 0 || setgid(uid) != 0 ||
			setuid(uid) != 0))
			_exit(99);
		execv(daemon_bin, (char *const *)argv);
		_exit(98);
	}
	assert_true(pid > 0);
	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
			return -1;
		}
		if (!must_exit && (fd = dial()) != -1) {
			close(fd);
			return pid;
		}
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (must_exit)
		fail_msg("the daemon started");
	fail_msg("the daemon did not open its socket");
	return -1;
}

/* Start the daemon with ARGS; it must come up. */
static void
start(const char *const *args)
{
	int st = 0;

	assert_true(dpid == -1);
	dpid = spawn(args, (uid_t)-1, &st, 0);
	if (dpid == -1)
		fail_msg("the daemon exited with %d at start", st);
}

/* Run the daemon with ARGS; it must exit at start, with its status. */
static int
start_fails(const char *const *args)
{
	int st = -1;
	assert_int_equal(spawn(args, (uid_t)-1, &st, 1), -1);
	return st;
}

/* SIGTERM, and the exit status; SIGKILL and failure after 60 s. */
static int
stop(void)
{
	int i, st;

	assert_true(dpid > 0);
	kill(dpid, SIGTERM);
	for (i = 0; i < 6000; i++) {
		if (waitpid(dpid, &st, WNOHANG) == dpid) {
			dpid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
		usleep(10 * 1000);
	}
	daemon_kill();
	fail_msg("the daemon did not stop on SIGTERM");
	return -1;
}

/* Send REQ (consumed) on FD and read the answer; NULL if none came. */
static json_t *
rpc(int fd, json_t *req)
{
	json_t *resp = NULL;

	assert_non_null(req);
	if (cv_frame_write(fd, req, 10000) != 0) {
		json_decref(req);
		return NULL;
	}
	json_decref(req);
	if (cv_frame_read(fd, CV_FRAME_MAX, 60000, &resp) != 0)
		return NULL;
	return resp;
}

/* The code of an answer: 0 for {"ok":true}, else its error number. */
static int
code(const json_t *resp)
{
	assert_non_null(resp);
	if (json_is_true(json_object_get(resp, "ok")))
		return 0;
	assert_true(json_is_false(json_object_get(resp, "ok")));
	return (int)json_integer_value(
	    json_object_get(json_object_get(resp, "error"), "number"));
}

/* rpc then code, the answer dropped. */
static int
ask(int fd, json_t *req)
{
	json_t *resp = rpc(fd, req);
	int r;

	if (resp == NULL)
		return 1; /* no answer: no code of ours */
	r = code(resp);
	json_decref(resp);
	return r;
}

static json_t *
status_req(void)
{
	return json_pack("{s:s}", "op", "status");
}

/* A new connection is served: the daemon survived whatever came before. */
static void
serves_next(void)
{
	int fd = dial();

	assert_true(fd != -1);
	assert_int_equal(ask(fd, status_req()), 0);
	close(fd);
}

static json_t *
cred_req(const char *op, const char *user, const char *pass)
{
	return json_pack("{s:s, s:s, s:s}", "op", op, "user", user,
	    "passphrase", pass);
}

static void
unlock(void)
{
	int fd = dial();

	assert_true(fd != -1);
	assert_int_equal(
	    ask(fd, cred_req("unlock", "admin", TEST_PASS_ADMIN)), 0);
	close(fd);
}

/* Log USER in on FD; the token, to free. */
static char *
login(int fd, const char *user)
{
	json_t *r = rpc(fd, cred_req("login", user, TEST_PASS_STAFF));
	char *tok;

	assert_int_equal(code(r), 0);
	tok = strdup(json_string_value(json_object_get(r, "token")));
	json_decref(r);
	assert_int_equal(strlen(tok), 64);
	return tok;
}

static json_t *
call_req(const char *tok, const char *cmd, json_t *args)
{
	json_t *r = json_pack("{s:s, s:s, s:s}", "op", "call", "token", tok,
	    "cmd", cmd);

	if (args != NULL)
		json_object_set_new(r, "args", args);
	return r;
}

/* Read what the daemon sends after a bad frame: its error's code, and
 * the connection must then close. */
static int
error_then_closed(int fd)
{
	json_t *r = NULL;
	ssize_t n;
	char b;
	int c;

	assert_int_equal(cv_frame_read(fd, CV_FRAME_MAX, 10000, &r), 0);
	c = code(r);
	json_decref(r);
	/* Closed: the end of the stream, or a reset when the daemon left
	 * bytes of the refused frame unread. */
	n = recv(fd, &b, 1, 0);
	assert_true(n == 0 || (n == -1 && errno == ECONNRESET));
	return c;
}

static void
send_bytes(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static int
teardown(void **state)
{
	(void)state;
	daemon_kill();
	return 0;
}

/* ---- the command line ---- */

static void
help_and_usage(void **state)
{
	char cmd[4400];
	FILE *p;
	char line[256];
	int found = 0;

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s --help", daemon_bin);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p) != NULL)
		found |= strstr(line, "--unlock-file FILE") != NULL;
	assert_int_equal(pclose(p), 0);
	assert_true(found);
	snprintf(cmd, sizeof(cmd), "%s --socket %s 2>/dev/null", daemon_bin,
	    sock);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof(cmd), "%s -V %s --idle 0 2>/dev/null",
	    daemon_bin, vdir);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2);
}

/* ---- the socket ---- */

static void
socket_modes(void **state)
{
	struct stat st;
	char dir[128];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/run", rdir);
	test_rm_rf(dir);
	start(NULL);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(stop(), 0);
	assert_int_equal(lstat(sock, &st), -1);
}

static void
stale_socket(void **state)
{
	struct sockaddr_un a;
	struct stat st;
	char dir[128];
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/run", rdir);
	mkdir(dir, 0750);
	/* A socket file no one listens on: a daemon that died. */
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	unlink(sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	assert_int_equal(dial(), -1);
	start(NULL);
	serves_next();
	/* One a daemon listens on is not taken over. */
	assert_int_equal(start_fails(NULL), 1);
	serves_next();
	assert_int_equal(stop(), 0);
	/* Nor is a file that is no socket. */
	fd = open(sock, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd != -1);
	close(fd);
	assert_int_equal(start_fails(NULL), 1);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(sock);
}

/* ---- unlocking and sessions ---- */

static void
unlock_login_call_logout(void **state)
{
	json_t *r;
	char *tok;
	int fd;

	(void)state;
	start(NULL);
	fd = dial();
	r = rpc(fd, status_req());
	assert_int_equal(code(r), 0);
	assert_string_equal(
	    json_string_value(json_object_get(r, "state")), "sealed");
	json_decref(r);
	assert_int_equal(ask(fd, cred_req("login", "siti", TEST_PASS_STAFF)),
	    CV_ESEALED);
	assert_int_equal(ask(fd, cred_req("unlock", "admin", "wrong-pass-1")),
	    CV_EAUTH);
	usleep(300 * 1000); /* the back-off of one failure */
	/* A custodian only: siti is none. */
	assert_int_equal(ask(fd, cred_req("unlock", "siti", TEST_PASS_STAFF)),
	    CV_EDENIED);
	usleep(600 * 1000);
	assert_int_equal(
	    ask(fd, cred_req("unlock", "admin", TEST_PASS_ADMIN)), 0);
	r = rpc(fd, status_req());
	assert_string_equal(
	    json_string_value(json_object_get(r, "state")), "unlocked");
	json_decref(r);
	assert_int_equal(
	    ask(fd, cred_req("unlock", "admin", TEST_PASS_ADMIN)), CV_ESTATE);

	r = rpc(fd, cred_req("login", "siti", TEST_PASS_STAFF));
	assert_int_equal(code(r), 0);
	assert_string_equal(
	    json_string_value(json_object_get(r, "user")), "siti");
	assert_string_equal(
	    json_string_value(json_object_get(r, "role")), "counselor");
	tok = strdup(json_string_value(json_object_get(r, "token")));
	json_decref(r);
	assert_int_equal(strspn(tok, "0123456789abcdef"), 64);

	r = rpc(fd, call_req(tok, "case list", NULL));
	assert_int_equal(code(r), 0);
	assert_true(json_is_array(json_object_get(r, "result")));
	json_decref(r);
	/* The token serves on another connection too. */
	close(fd);
	fd = dial();
	assert_int_equal(ask(fd, call_req(tok, "case list", json_object())),
	    0);
	assert_int_equal(
	    ask(fd, json_pack("{s:s, s:s}", "op", "logout", "token", tok)), 0);
	assert_int_equal(ask(fd, call_req(tok, "case list", NULL)),
	    CV_ESESSION);
	assert_int_equal(
	    ask(fd, json_pack("{s:s, s:s}", "op", "logout", "token", tok)),
	    CV_ESESSION);
	free(tok);
	close(fd);
	assert_int_equal(stop(), 0);
}

static void
bad_frames(void **state)
{
	static const struct {
		const char *bytes;
		size_t n;
		int shut; /* close our end for writing after */
		int want;
	} cases[] = {
	    {"GET / HTTP/1.0\r\n\r\n", 18, 0, CV_ETOOBIG},
	    {"\0\0\0\x05hello", 9, 0, CV_EPROTO},
	    {"\0\0\0\x64{\"op\":", 10, 1, CV_EPROTO},
	    {"\xff\xff\xff\xff{}", 6, 0, CV_ETOOBIG},
	    {"\0\0\0\x0b{\"op\":\"\xc0\xaf\"}", 15, 0, CV_EPROTO},
	    {"\0\0\0\x03[1]", 7, 0, CV_EPROTO},
	    {"\0\0\0\x1e{\"op\":\"status\",\"op\":\"status\"}", 34, 0,
		CV_EPROTO},
	    {"\0\0\0\0", 4, 0, CV_EPROTO},
	};
	char deep[4 + 196];
	size_t i;
	int fd;

	(void)state;
	start(NULL);
	unlock();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = dial();
		send_bytes(fd, cases[i].bytes, cases[i].n);
		if (cases[i].shut)
			shutdown(fd, SHUT_WR);
		assert_int_equal(error_then_closed(fd), cases[i].want);
		close(fd);
		serves_next();
	}
	/* Nested 96 deep, well-formed otherwise. */
	memcpy(deep, "\0\0\0\xc4{\"a\":", 9);
	memset(deep + 9, '[', 95);
	memset(deep + 104, ']', 95);
	deep[199] = '}';
	fd = dial();
	send_bytes(fd, deep, sizeof(deep));
	assert_int_equal(error_then_closed(fd), CV_EPROTO);
	close(fd);
	serves_next();
	assert_int_equal(stop(), 0);
}

static void
bad_requests(void **state)
{
	static const char forged[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char *tok;
	json_t *r;
	int fd;

	(void)state;
	start(NULL);
	unlock();
	fd = dial();
	/* Each a well-formed frame: an error, and the connection stays. */
	assert_int_equal(ask(fd, json_pack("{s:s}", "op", "frobnicate")),
	    CV_EPROTO);
	assert_int_equal(ask(fd, json_pack("{s:i}", "op", 1)), CV_EPROTO);
	assert_int_equal(ask(fd, json_pack("{s:s}", "cmd", "case list")),
	    CV_EPROTO);
	assert_int_equal(ask(fd, json_pack("{s:s, s:b}", "op", "status",
	                             "extra", 1)),
	    CV_EPROTO);
	assert_int_equal(
	    ask(fd, json_pack("{s:s, s:s}", "op", "login", "user", "siti")),
	    CV_EPROTO);
	assert_int_equal(ask(fd, call_req(forged, "case list", NULL)),
	    CV_ESESSION);
	assert_int_equal(ask(fd, call_req("abc", "case list", NULL)),
	    CV_ESESSION);
	tok = login(fd, "siti");
	assert_int_equal(ask(fd, call_req(tok, "no such command", NULL)),
	    CV_EPROTO);
	r = call_req(tok, "case list", NULL);
	json_object_set_new(r, "args", json_string("x"));
	assert_int_equal(ask(fd, r), CV_EPROTO);
	/* One character off is another token. */
	tok[63] = tok[63] == '0' ? '1' : '0';
	assert_int_equal(ask(fd, call_req(tok, "case list", NULL)),
	    CV_ESESSION);
	free(tok);
	assert_int_equal(ask(fd, status_req()), 0);
	close(fd);
	assert_int_equal(stop(), 0);
}

static void
token_bound_to_uid(void **state)
{
	char *tok, dir[128];
	pid_t pid;
	int fd, st;

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: needs root to connect as another uid\n");
		return;
	}
	start(NULL);
	unlock();
	fd = dial();
	tok = login(fd, "siti");
	assert_int_equal(ask(fd, call_req(tok, "case list", NULL)), 0);
	/* Another local account that learns the token gets nothing. */
	snprintf(dir, sizeof(dir), "%s/run", rdir);
	assert_int_equal(chmod(rdir, 0711), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(sock, 0666), 0);
	if ((pid = fork()) == 0) {
		int c;

		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0 || (c = dial()) == -1)
			_exit(2);
		_exit(ask(c, call_req(tok, "case list", NULL)) == CV_ESESSION
		          ? 0
		          : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	chmod(rdir, 0700);
	chmod(dir, 0750);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* And it still serves its own uid. */
	assert_int_equal(ask(fd, call_req(tok, "case list", NULL)), 0);
	free(tok);
	close(fd);
	assert_int_equal(stop(), 0);
}

static void
sessions_expire(void **state)
{
	const char *const life[] = {"--lifetime", "1", NULL};
	const char *const idle[] = {"--idle", "1", NULL};
	char *tok;
	int fd;

	(void)state;
	/* A session older than its lifetime, however busy. */
	start(life);
	unlock();
	fd = dial();
	tok = login(fd, "siti");
	assert_int_equal(ask(fd, call_req(tok, "case list", NULL)), 0);
	usleep(1300 * 1000);
	assert_int_equal(ask(fd, call_req(tok, "case list", NULL)),
	    CV_ESESSION);
	free(tok);
	close(fd);
	assert_int_equal(stop(), 0);
	/* A session left idle. */
	start(idle);
	unlock();
	fd = dial();
	tok = login(fd, "siti");
	close(fd);
	usleep(1300 * 1000);
	fd = dial();
	assert_int_equal(ask(fd, call_req(tok, "case list", NULL)),
	    CV_ESESSION);
	free(tok);
	close(fd);
	assert_int_equal(stop(), 0);
}

static void
idle_client_closed(void **state)
{
	const char *const args[] = {"--idle", "1", NULL};
	int64_t t0;
	int fd;

	(void)state;
	start(args);
	fd = dial();
	t0 = now_ms();
	assert_int_equal(error_then_closed(fd), CV_ETIMEDOUT);
	assert_true(now_ms() - t0 >= 900);
	assert_true(now_ms() - t0 < 5000);
	close(fd);
	serves_next();
	assert_int_equal(stop(), 0);
}

struct trickle {
	int fd;
	int64_t took;
	int code;
};

/* Send a status request one byte a second until the daemon hangs up. */
static void *
trickle(void *arg)
{
	static const char f[] = "\0\0\0\x0f{\"op\":\"status\"}";
	struct trickle *t = arg;
	json_t *r = NULL;
	int64_t t0 = now_ms();
	size_t i;

	t->code = 1;
	for (i = 0; i < sizeof(f) - 1; i++) {
		if (send(t->fd, f + i, 1, MSG_NOSIGNAL) != 1)
			break;
		if (poll(&(struct pollfd){t->fd, POLLIN, 0}, 1, 1000) == 1)
			break;
	}
	if (cv_frame_read(t->fd, CV_FRAME_MAX, 10000, &r) == 0) {
		t->code = code(r);
		json_decref(r);
	}
	t->took = now_ms() - t0;
	return NULL;
}

static void
slow_sender_closed(void **state)
{
	const char *const args[] = {"--frame-timeout", "2", NULL};
	struct trickle t = {0};
	pthread_t th;
	char b;

	(void)state;
	start(args);
	t.fd = dial();
	assert_int_equal(pthread_create(&th, NULL, trickle, &t), 0);
	/* Others are served while it trickles. */
	usleep(500 * 1000);
	serves_next();
	pthread_join(th, NULL);
	assert_int_equal(t.code, CV_ETIMEDOUT);
	assert_true(t.took >= 1900 && t.took < 5000);
	assert_int_equal(recv(t.fd, &b, 1, 0), 0);
	close(t.fd);
	serves_next();
	assert_int_equal(stop(), 0);
}

static void
peer_backoff(void **state)
{
	int fd;

	(void)state;
	start(NULL);
	unlock();
	fd = dial();
	/* Failures from this uid make even a right passphrase wait:
	 * 250 ms after one, 500 ms after two. */
	assert_int_equal(ask(fd, cred_req("login", "nosuchuser", "x")),
	    CV_EAUTH);
	assert_int_equal(ask(fd, cred_req("login", "siti", TEST_PASS_STAFF)),
	    CV_ELOCKED);
	usleep(300 * 1000);
	assert_int_equal(ask(fd, cred_req("login", "nosuchuser", "x")),
	    CV_EAUTH);
	usleep(300 * 1000);
	assert_int_equal(ask(fd, cred_req("login", "siti", TEST_PASS_STAFF)),
	    CV_ELOCKED);
	usleep(300 * 1000);
	free(login(fd, "siti"));
	/* And a success forgets them. */
	assert_int_equal(ask(fd, cred_req("login", "nosuchuser", "x")),
	    CV_EAUTH);
	usleep(300 * 1000);
	free(login(fd, "siti"));
	close(fd);
	assert_int_equal(stop(), 0);
}

static void
max_clients(void **state)
{
	const char *const args[] = {"--max-clients", "2", NULL};
	int a, b, c;

	(void)state;
	start(args);
	usleep(200 * 1000); /* the thread of start's own probe is gone */
	a = dial();
	b = dial();
	assert_int_equal(ask(a, status_req()), 0);
	assert_int_equal(ask(b, status_req()), 0);
	c = dial();
	assert_int_equal(error_then_closed(c), CV_EBUSY);
	close(c);
	close(a);
	usleep(200 * 1000);
	serves_next();
	close(b);
	assert_int_equal(stop(), 0);
}

static void
sighup_reloads(void **state)
{
	char log[128], *tok;
	json_t *r, *ev;
	size_t i;
	int fd, reloads = 0, found = 0;
	FILE *f;
	char line[256];

	(void)state;
	snprintf(log, sizeof(log), "%s/log", rdir);
	unlink(log); /* what earlier daemons logged */
	start(NULL);
	unlock();
	assert_int_equal(kill(dpid, SIGHUP), 0);
	/* The reload is done in the main loop, between accepts. */
	for (i = 0; i < 500 && !found; i++) {
		usleep(10 * 1000);
		if ((f = fopen(log, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			found |= strstr(line, "policy reloaded") != NULL;
		fclose(f);
	}
	assert_true(found);
	fd = dial();
	tok = login(fd, "inspektur");
	r = rpc(fd, call_req(tok, "audit log", NULL));
	assert_int_equal(code(r), 0);
	json_array_foreach (json_object_get(r, "result"), i, ev)
		reloads += strcmp(json_string_value(json_object_get(ev, "action")),
		               "policy.reload") == 0;
	json_decref(r);
	assert_true(reloads >= 1);
	free(tok);
	close(fd);
	assert_int_equal(stop(), 0);
}

static void
answer_too_large(void **state)
{
	char *tok, *text, cid[CV_CASE_ID_LEN + 1];
	json_t *r;
	int fd, i;

	(void)state;
	start(NULL);
	unlock();
	fd = dial();
	tok = login(fd, "siti");
	r = rpc(fd, call_req(tok, "case open",
	                json_pack("{s:O}", "intake", intake)));
	assert_int_equal(code(r), 0);
	snprintf(cid, sizeof(cid), "%s",
	    json_string_value(
		json_object_get(json_object_get(r, "result"), "case")));
	json_decref(r);
	/* 60 notes of 20 000 characters (the most a note holds): each fits
	 * a frame, all of them do not. */
	assert_non_null(text = malloc(20001));
	memset(text, 'x', 20000);
	text[20000] = '\0';
	for (i = 0; i < 60; i++)
		assert_int_equal(ask(fd, call_req(tok, "note add",
		                             json_pack("{s:s, s:s}", "case", cid,
		                                 "text", text))),
		    0);
	free(text);
	/* The notes were read (and audited); the answer says why none
	 * came, and the connection serves on. */
	assert_int_equal(ask(fd, call_req(tok, "note show",
	                             json_pack("{s:s}", "case", cid))),
	    CV_ETOOBIG);
	assert_int_equal(ask(fd, status_req()), 0);
	free(tok);
	close(fd);
	assert_int_equal(stop(), 0);
}

/* ---- the unlock file ---- */

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static void
unlock_file(void **state)
{
	const char *args[] = {"--unlock-file", NULL, NULL};
	char path[128], link[128];
	struct stat st;
	json_t *r;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/unlock", rdir);
	snprintf(link, sizeof(link), "%s/unlock.link", rdir);
	args[1] = path;
	write_file(path, "admin\n" TEST_PASS_ADMIN "\n", 0644);
	assert_int_equal(start_fails(args), 1);
	write_file(path, "admin\nwrong-passphrase\n", 0600);
	assert_int_equal(start_fails(args), 1);
	write_file(path, "admin\n" TEST_PASS_ADMIN "\nmore\n", 0600);
	assert_int_equal(start_fails(args), 1);
	write_file(path, "admin\n" TEST_PASS_ADMIN "\n", 0600);
	unlink(link);
	assert_int_equal(symlink(path, link), 0);
	args[1] = link;
	assert_int_equal(start_fails(args), 1);
	args[1] = path;
	start(args);
	fd = dial();
	r = rpc(fd, status_req());
	assert_string_equal(
	    json_string_value(json_object_get(r, "state")), "unlocked");
	json_decref(r);
	close(fd);
	/* The operator's file is left as it was. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stop(), 0);
}

/* ---- the process ---- */

static void
not_dumpable(void **state)
{
	char proc[64], dir[128];
	uid_t uid = (uid_t)-1, want;
	struct stat st;
	int st_ = 0;

	(void)state;
	/*
	 * The files of /proc/PID of a process that is not dumpable belong
	 * to root, not to the process's user. As root the daemon runs as
	 * nobody here, so that the owner tells.
	 */
	if (geteuid() == 0) {
		uid = 65534;
		snprintf(dir, sizeof(dir), "%s/run", rdir);
		test_rm_rf(dir);
		assert_int_equal(mkdir(dir, 0700), 0);
		assert_int_equal(chown(dir, uid, uid), 0);
		assert_int_equal(chmod(rdir, 0711), 0);
	}
	want = uid == (uid_t)-1 ? geteuid() : uid;
	dpid = spawn(NULL, uid, &st_, 0);
	if (dpid == -1)
		fail_msg("the daemon exited with %d", st_);
	snprintf(proc, sizeof(proc), "/proc/%d/environ", (int)dpid);
	assert_int_equal(stat(proc, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_true(st.st_uid != want);
	snprintf(proc, sizeof(proc), "/proc/%d/status", (int)dpid);
	assert_int_equal(stop(), 0);
	if (geteuid() == 0) {
		chmod(rdir, 0700);
		test_rm_rf(dir);
	}
}

/* ---- load ---- */

struct worker {
	pthread_t t;
	int64_t until;
	int writes, reads, failed, cut;
	char ids[512][CV_CASE_ID_LEN + 1];
};

static uint64_t phase_since; /* ms: when the phase now counted began */

/* Begin a phase whose events are counted. */
static void
phase_begin(void)
{
	struct timespec ts;

	usleep(10 * 1000);
	clock_gettime(CLOCK_REALTIME, &ts);
	phase_since =
	    (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Open cases and read them back until told to stop or cut off. */
static void *
work(void *arg)
{
	struct worker *w = arg;
	char *tok = NULL;
	json_t *r;
	int fd = dial();

	if (fd == -1)
		goto cut;
	r = rpc(fd, cred_req("login", "siti", TEST_PASS_STAFF));
	if (r == NULL || code(r) != 0) {
		json_decref(r);
		goto cut;
	}
	tok = strdup(json_string_value(json_object_get(r, "token")));
	json_decref(r);
	while (now_ms() < w->until && w->writes < 512) {
		r = rpc(fd, call_req(tok, "case open",
		                json_pack("{s:O}", "intake", intake)));
		if (r == NULL)
			goto cut; /* the daemon went: unacknowledged */
		if (code(r) != 0)
			w->failed++;
		else
			snprintf(w->ids[w->writes++], CV_CASE_ID_LEN + 1, "%s",
			    json_string_value(json_object_get(
				json_object_get(r, "result"), "case")));
		json_decref(r);
		if (w->writes == 0)
			continue;
		r = rpc(fd, call_req(tok, "case show",
		                json_pack("{s:s}", "case", w->ids[w->writes - 1])));
		if (r == NULL)
			goto cut;
		if (code(r) != 0)
			w->failed++;
		else
			w->reads++;
		json_decref(r);
	}
	free(tok);
	close(fd);
	return NULL;
cut:
	w->cut = 1;
	free(tok);
	if (fd != -1)
		close(fd);
	return NULL;
}

/*
 * Every acknowledged case is there through the daemon; then, with the
 * daemon stopped, the trail verifies and holds one case.open event per
 * acknowledged write since the phase began, plus EXTRA at most. The
 * trail is read in this process, through the library: a long audit log
 * is larger than one frame.
 */
static void
check_after(struct worker *w, int n, int extra)
{
	const char *const args[] = {"--unlock-file", NULL, NULL};
	struct cv_session *s = NULL;
	struct cv_vault *v = NULL;
	char path[128], *tok;
	json_t *r, *ev;
	int i, j, k, opens = 0, acked = 0;
	size_t x;

	snprintf(path, sizeof(path), "%s/unlock", rdir);
	write_file(path, "admin\n" TEST_PASS_ADMIN "\n", 0600);
	((const char **)args)[1] = path;
	start(args);
	i = dial();
	tok = login(i, "siti");
	for (j = 0; j < n; j++)
		for (k = 0; k < w[j].writes; k++) {
			r = rpc(i, call_req(tok, "case show",
			               json_pack("{s:s}", "case", w[j].ids[k])));
			if (code(r) != 0)
				fail_msg("acknowledged case %s is lost",
				    w[j].ids[k]);
			json_decref(r);
			acked++;
		}
	free(tok);
	close(i);
	assert_int_equal(stop(), 0);

	assert_int_equal(cv_vault_unlock(vdir, "admin", TEST_PASS_ADMIN,
	                     strlen(TEST_PASS_ADMIN), &v),
	    0);
	assert_int_equal(cv_vault_login(v, "inspektur", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), NULL, &s),
	    0);
	assert_int_equal(cv_audit_verify(s, NULL, NULL, &r), 0);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_int_equal(cv_audit_log(s, NULL, NULL, phase_since, 0, &r), 0);
	json_array_foreach (r, x, ev)
		opens += strcmp(json_string_value(json_object_get(ev, "action")),
		             "case.open") == 0;
	json_decref(r);
	cv_session_end(s, "logout");
	cv_vault_close(v);
	print_message("%d writes acknowledged, %d case.open events\n", acked,
	    opens);
	assert_true(opens >= acked && opens <= acked + extra);
}

static void
load(void **state)
{
	struct worker *w;
	int i, n = 32, writes = 0, reads = 0;
	int64_t t0;

	(void)state;
	w = calloc((size_t)n, sizeof(*w));
	assert_non_null(w);
	{
		const char *const args[] = {"--max-clients", "64", NULL};
		start(args);
	}
	unlock();
	phase_begin();
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		w[i].until = t0 + 4000;
		assert_int_equal(pthread_create(&w[i].t, NULL, work, &w[i]), 0);
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		assert_false(w[i].cut);
		assert_int_equal(w[i].failed, 0);
		writes += w[i].writes;
		reads += w[i].reads;
	}
	print_message("%d clients, %.1f s: %d writes, %d reads\n", n,
	    (double)(now_ms() - t0) / 1000, writes, reads);
	assert_true(writes >= n);
	assert_int_equal(stop(), 0);
	check_after(w, n, 0);
	free(w);
}

static void
sigterm_under_load(void **state)
{
	struct worker *w;
	int i, n = 16, cut = 0, writes = 0;

	(void)state;
	w = calloc((size_t)n, sizeof(*w));
	assert_non_null(w);
	start(NULL);
	unlock();
	phase_begin();
	for (i = 0; i < n; i++) {
		w[i].until = now_ms() + 60000;
		assert_int_equal(pthread_create(&w[i].t, NULL, work, &w[i]), 0);
	}
	usleep(1500 * 1000);
	/* Requests in flight finish; then the sessions end, the vault
	 * seals, and the daemon exits 0. */
	assert_int_equal(stop(), 0);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		cut += w[i].cut;
		writes += w[i].writes;
	}
	print_message("SIGTERM after %d acknowledged writes\n", writes);
	assert_int_equal(cut, n);
	assert_true(writes > 0);
	/* A request sent as the daemon stopped may be applied unanswered:
	 * at most one per client. */
	check_after(w, n, n);
	free(w);
}

/* The suite's vault, served (staff hold no keyslot), and staff, once. */
static int
suite_setup(void **state)
{
	const char *cv;
	struct cv_session *s;
	char *d;

	(void)state;
	if ((cv = getenv("CASEVAULT")) != NULL) {
		d = strdup(cv);
		snprintf(daemon_bin, sizeof(daemon_bin), "%s/casevaultd",
		    dirname(d));
		free(d);
	} else
		snprintf(daemon_bin, sizeof(daemon_bin), "build/casevaultd");
	s = test_served_new(vdir);
	cv_session_close(s);
	test_staff_add(vdir, test_staff_team, TEST_COUNT(test_staff_team));
	snprintf(rdir, sizeof(rdir), "/tmp/cvd-test.XXXXXX");
	if (mkdtemp(rdir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/run/casevault.sock", rdir);
	intake = test_fixture("intake_valid.json");
	atexit(daemon_kill);
	return 0;
}

static int
suite_teardown(void **state)
{
	(void)state;
	daemon_kill();
	json_decref(intake);
	test_rm_rf(rdir);
	test_vault_remove(vdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(help_and_usage, teardown),
	    cmocka_unit_test_teardown(socket_modes, teardown),
	    cmocka_unit_test_teardown(stale_socket, teardown),
	    cmocka_unit_test_teardown(unlock_login_call_logout, teardown),
	    cmocka_unit_test_teardown(bad_frames, teardown),
	    cmocka_unit_test_teardown(bad_requests, teardown),
	    cmocka_unit_test_teardown(token_bound_to_uid, teardown),
	    cmocka_unit_test_teardown(sessions_expire, teardown),
	    cmocka_unit_test_teardown(idle_client_closed, teardown),
	    cmocka_unit_test_teardown(slow_sender_closed, teardown),
	    cmocka_unit_test_teardown(peer_backoff, teardown),
	    cmocka_unit_test_teardown(max_clients, teardown),
	    cmocka_unit_test_teardown(sighup_reloads, teardown),
	    cmocka_unit_test_teardown(answer_too_large, teardown),
	    cmocka_unit_test_teardown(unlock_file, teardown),
	    cmocka_unit_test_teardown(not_dumpable, teardown),
	    cmocka_unit_test_teardown(load, teardown),
	    cmocka_unit_test_teardown(sigterm_under_load, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
