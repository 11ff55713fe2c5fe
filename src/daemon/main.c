/*
 * casevaultd: the daemon in which a vault's keys live while staff work
 * through its Unix socket. It starts sealed; a key custodian unlocks it
 * (over the socket, or once from --unlock-file); staff log in and call
 * the commands of the command contract; SIGTERM ends every session and
 * seals the vault again. docs/operations.md tells how to run it and
 * docs/protocol-wire.md what it speaks.
 *
 * One thread per client, their number bounded by --max-clients: a client
 * holds at most one request at a time and each request runs to its end,
 * so a thread per connection keeps its state (the session it holds, the
 * frame half read) on its own stack, and the bound makes memory and
 * descriptors predictable. A client past the bound is told CV_EBUSY and
 * closed. The main thread only accepts, counts, expires sessions and
 * reads signals from a signalfd: no work happens in a signal handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"

#define DEFAULT_SOCKET   "/run/casevault/casevault.sock"
#define DEFAULT_IDLE     900   /* 15 minutes */
#define DEFAULT_LIFETIME 28800 /* a working day */
#define DEFAULT_FRAME    10
#define DEFAULT_CLIENTS  64
#define CLIENTS_MAX      1024

struct cvd cvd = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .changed = PTHREAD_COND_INITIALIZER,
    .stop_pipe = {-1, -1},
};

static const char usage_text[] =
    "usage: casevaultd -V DIR [--socket PATH] [--unlock-file FILE]\n"
    "                  [--idle SECONDS] [--lifetime SECONDS]\n"
    "                  [--frame-timeout SECONDS] [--max-clients N]\n"
    "                  [--foreground]\n";

static const char help_text[] =
    "\n"
    "casevaultd holds the vault in DIR unlocked while staff work with it\n"
    "through a Unix socket, so that the vault's keys live in one process\n"
    "that is not dumpable, and no staff account holds a key. The casevault\n"
    "command reaches it when --socket or CASEVAULT_SOCKET names the socket.\n"
    "\n"
    "It starts sealed. A key custodian unlocks it, over the socket (op\n"
    "\"unlock\") or once at start from --unlock-file. Staff then log in\n"
    "(casevault login) and each command runs as a call of their session.\n"
    "Every login, every access decision and every session's end is in\n"
    "the vault's audit trail.\n"
    "\n"
    "Options:\n"
    "  -V, --vault DIR        the vault (required)\n"
    "  -s, --socket PATH      the socket (default " DEFAULT_SOCKET ").\n"
    "                         Made 0660: give access by the group of the\n"
    "                         directory or of the daemon. A directory that\n"
    "                         does not exist is made 0750 (one level). A\n"
    "                         socket file left by a daemon that died is\n"
    "                         replaced; one that a daemon listens on is\n"
    "                         not, and casevaultd exits.\n"
    "  --unlock-file FILE     unlock at start with the custodian's name on\n"
    "                         the first line of FILE and her passphrase on\n"
    "                         the second. FILE must be a regular file of\n"
    "                         the daemon's user that neither group nor\n"
    "                         others can read (0600 or 0400). It is read\n"
    "                         once, into locked memory that is wiped, and\n"
    "                         left in place: remove it, or keep it on a\n"
    "                         tmpfs, as your procedures say. If the unlock\n"
    "                         fails, casevaultd exits.\n"
    "  --idle SECONDS         a session unused for SECONDS ends "
    "(\"expired\"),\n"
    "                         and a client that sends nothing for SECONDS is\n"
    "                         closed (default 900)\n"
    "  --lifetime SECONDS     a session ends SECONDS after its login,\n"
    "                         used or not (default 28800, eight hours)\n"
    "  --frame-timeout SECONDS\n"
    "                         a request, once begun, must arrive whole\n"
    "                         within SECONDS, or the client is closed\n"
    "                         (default 10)\n"
    "  --max-clients N        clients connected at once (default 64, at\n"
    "                         most 1024); one more is told CV_EBUSY\n"
    "  -f, --foreground       stay in the foreground; otherwise casevaultd\n"
    "                         detaches once its socket is ready\n"
    "  -h, --help             this help\n"
    "  --version              the version\n"
    "\n"
    "Signals: SIGTERM (and SIGINT) stop accepting clients, let the requests\n"
    "in flight finish with their audit events, end every session\n"
    "(\"shutdown\"), seal the vault and exit 0. SIGHUP reloads the deployed\n"
    "policy set (recorded as \"policy.reload\"); sessions keep the set they\n"
    "began with.\n"
    "\n"
    "Logs: one line per event on standard error (start, unlock, login,\n"
    "logout, expiry, stop), naming the peer's uid, never a user name, a\n"
    "passphrase, a token or a request's arguments. Under systemd they go\n"
    "to the journal; detached, redirect standard error.\n"
    "\n"
    "The process is made not dumpable and gets no core file. Its memory is\n"
    "locked (mlockall) when RLIMIT_MEMLOCK is unlimited or it runs as\n"
    "root; otherwise it says so and the library locks its key memory\n"
    "alone where the limit allows.\n"
    "\n"
    "Exit status: 0 after SIGTERM, 1 when it cannot start or unlock, 2 on\n"
    "a usage error.\n"
    "\n"
    "See docs/operations.md and docs/protocol-wire.md.\n";

int64_t
cvd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cvd_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "casevaultd: %s\n", line);
}

int
cvd_stopping(void)
{
	return __atomic_load_n(&cvd.stopping, __ATOMIC_SEQ_CST);
}

const char *
cvd_code_name(int r)
{
	static const char *const names[] = {"CV_EINVAL", "CV_ENOMEM", "CV_EIO",
	    "CV_ECRYPTO", "CV_EAUTH", "CV_EDENIED", "CV_ENOTFOUND", "CV_EEXIST",
	    "CV_EAUDIT", "CV_ECORRUPT", "CV_ELOCKED", "CV_ESTORE", "CV_ETOOBIG",
	    "CV_EJSON", "CV_ESCHEMA", "CV_EPOLICY", "CV_EVERSION",
	    "CV_EDISABLED", "CV_EVERIFY", "CV_ESTATE", "CV_EBUSY", "CV_ESEALED",
	    "CV_EUNSAFE", "CV_EROLLBACK", "CV_ETRUNC", "CV_ESERVED",
	    "CV_EPROTO", "CV_ETIMEDOUT", "CV_ESESSION"};
	int i = CV_EINVAL - r;

	_Static_assert(CV_ESESSION == CV_EINVAL - 28, "one name per code");
	if (r == 0)
		return "CV_OK";
	if (i < 0 || i >= (int)(sizeof(names) / sizeof(names[0])))
		return "CV_EUNKNOWN";
	return names[i];
}

/* ---- the command line ---- */

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "casevaultd: %s\n", why);
	fputs(usage_text, stderr);
	fputs("Try 'casevaultd --help'.\n", stderr);
	return 2;
}

/* A number of seconds or clients from 1 to MAX, else -1. */
static int
number(const char *s, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	return (int)v;
}

enum { O_UNLOCK = 256, O_IDLE, O_LIFETIME, O_FRAME, O_CLIENTS, O_VERSION };

static int
parse(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"vault", required_argument, NULL, 'V'},
	    {"socket", required_argument, NULL, 's'},
	    {"unlock-file", required_argument, NULL, O_UNLOCK},
	    {"idle", required_argument, NULL, O_IDLE},
	    {"lifetime", required_argument, NULL, O_LIFETIME},
	    {"frame-timeout", required_argument, NULL, O_FRAME},
	    {"max-clients", required_argument, NULL, O_CLIENTS},
	    {"foreground", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, O_VERSION},
	    {NULL, 0, NULL, 0},
	};
	struct cvd_conf *c = &cvd.conf;
	int o, *n, max;

	c->socket = DEFAULT_SOCKET;
	c->idle = DEFAULT_IDLE;
	c->lifetime = DEFAULT_LIFETIME;
	c->frame_timeout = DEFAULT_FRAME;
	c->max_clients = DEFAULT_CLIENTS;
	while ((o = getopt_long(argc, argv, "V:s:fh", longs, NULL)) != -1) {
		n = NULL;
		max = 365 * 24 * 3600;
		switch (o) {
		case 'V':
			c->vault = optarg;
			break;
		case 's':
			c->socket = optarg;
			break;
		case O_UNLOCK:
			c->unlock_file = optarg;
			break;
		case O_IDLE:
			n = &c->idle;
			break;
		case O_LIFETIME:
			n = &c->lifetime;
			break;
		case O_FRAME:
			n = &c->frame_timeout;
			max = 3600;
			break;
		case O_CLIENTS:
			n = &c->max_clients;
			max = CLIENTS_MAX;
			break;
		case 'f':
			c->foreground = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			return -1;
		case O_VERSION:
			printf("casevaultd %s\n", CV_VERSION_STRING);
			return -1;
		default:
			return usage(NULL);
		}
		if (n != NULL && (*n = number(optarg, max)) < 0)
			return usage("a number out of range");
	}
	if (optind != argc)
		return usage("no operands are taken");
	if (c->vault == NULL)
		return usage("name the vault with -V DIR");
	return 0;
}

/* ---- hardening ---- */

/* No core file, no ptrace by the same uid, memory kept out of swap. */
static void
harden(void)
{
	static const struct rlimit nocore = {0, 0};
	struct rlimit ml;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		cvd_log("cannot make the process not dumpable: %s",
		    strerror(errno));
	if (setrlimit(RLIMIT_CORE, &nocore) != 0)
		cvd_log("cannot turn core files off: %s", strerror(errno));
	/* With a finite limit, locking every future page would make some
	 * later allocation fail mid-request; then only the library's key
	 * memory (sodium_malloc) is locked, as far as the limit allows. */
	if (getrlimit(RLIMIT_MEMLOCK, &ml) != 0 ||
	    (ml.rlim_cur != RLIM_INFINITY && geteuid() != 0)) {
		cvd_log("memory not locked: RLIMIT_MEMLOCK is %llu KiB; key "
		        "memory is locked within it",
		    (unsigned long long)ml.rlim_cur / 1024);
		return;
	}
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
		cvd_log("memory not locked: mlockall: %s", strerror(errno));
}

/* ---- the unlock file ---- */

/*
 * Read FILE ("custodian\npassphrase\n") and unlock the vault with it.
 * The file must be a regular file of ours that no one else can read.
 */
static int
unlock_from_file(const char *file)
{
	const size_t cap = CV_NAME_MAX + CV_PASSPHRASE_MAX + 8;
	char *buf = NULL, *user, *pass, *nl;
	struct cv_vault *v = NULL;
	size_t len = 0, passlen;
	struct stat st;
	ssize_t n;
	int fd, r = -1;

	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		cvd_log("unlock file: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		cvd_log("unlock file: must be a regular file of the daemon's "
		        "user, mode 0600 or 0400");
		goto out;
	}
	if ((buf = sodium_malloc(cap + 1)) == NULL)
		goto out;
	while (len < cap && (n = read(fd, buf + len, cap - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cvd_log("unlock file: %s", strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	user = buf;
	if (len == cap || strlen(buf) != len ||
	    (nl = strchr(user, '\n')) == NULL) {
		cvd_log("unlock file: not a name and a passphrase on two "
		        "lines");
		goto out;
	}
	*nl = '\0';
	pass = nl + 1;
	if ((nl = strchr(pass, '\n')) != NULL) {
		if (nl[1] != '\0') {
			cvd_log("unlock file: more than two lines");
			goto out;
		}
		*nl = '\0';
	}
	passlen = strlen(pass);
	if (passlen > 0 && pass[passlen - 1] == '\r')
		pass[--passlen] = '\0';
	if ((r = cv_vault_unlock(cvd.conf.vault, user, pass, passlen, &v)) !=
	    0) {
		cvd_log("unlock failed: %s%s%s", cvd_code_name(r),
		    *cv_error_detail() ? ": " : "", cv_error_detail());
		r = -1;
		goto out;
	}
	cvd.vault = v;
	cvd_log("unlocked from the unlock file");
	r = 0;
out:
	if (buf != NULL)
		sodium_free(buf); /* wipes */
	close(fd);
	return r;
}

/* ---- the socket ---- */

static int
socket_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path)) {
		cvd_log("socket: the path is too long");
		return -1;
	}
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Make the socket's directory (0750) when it does not exist. */
static int
socket_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		cvd_log("socket: %s is not a directory", dir);
		return -1;
	}
	if (errno != ENOENT || mkdir(dir, 0750) != 0) {
		cvd_log(
		    "socket: cannot make its directory: %s", strerror(errno));
		return -1;
	}
	chmod(dir, 0750);
	return 0;
}

/*
 * Remove a socket file at A that no one listens on: the remains of a
 * daemon that died. Anything else there stays, and we do not start.
 */
static int
socket_stale(const struct sockaddr_un *a)
{
	struct stat st;
	int fd, r;

	if (lstat(a->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		cvd_log("socket: %s exists and is not a socket", a->sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)a, sizeof(*a));
	close(fd);
	if (r == 0) {
		cvd_log("socket: another daemon listens on %s", a->sun_path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		cvd_log("socket: %s: %s", a->sun_path, strerror(errno));
		return -1;
	}
	if (unlink(a->sun_path) != 0)
		return -1;
	cvd_log("socket: replaced a stale socket file");
	return 0;
}

static int
socket_listen(const char *path)
{
	struct sockaddr_un a;
	mode_t old;
	int fd, r;

	if (socket_addr(&a, path) != 0 || socket_dir(path) != 0 ||
	    socket_stale(&a) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r != 0 || chmod(path, 0660) != 0 || listen(fd, 128) != 0) {
		cvd_log("socket: %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the loop ---- */

/* Take the client waiting on LFD, or tell it the daemon is full. */
static void
accept_one(int lfd)
{
	static const struct cv_peer none = {-1, -1, -1};
	struct cv_peer peer = none;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	json_t *busy;
	int fd, full;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		close(fd);
		return;
	}
	peer.pid = cred.pid;
	peer.uid = cred.uid;
	peer.gid = cred.gid;
	pthread_mutex_lock(&cvd.lock);
	full = cvd.clients >= cvd.conf.max_clients;
	pthread_mutex_unlock(&cvd.lock);
	if (full) {
		busy = json_pack("{s:b, s:{s:s, s:i, s:s, s:s}}", "ok", 0,
		    "error", "code", "CV_EBUSY", "number", CV_EBUSY, "message",
		    cv_strerror(CV_EBUSY), "detail", "too many clients");
		if (busy != NULL)
			cv_frame_write(fd, busy, 100);
		json_decref(busy);
		close(fd);
		return;
	}
	cvd_client_start(fd, &peer);
}

/* One signal from SFD: 1 to stop, 0 to go on. */
static int
on_signal(int sfd)
{
	struct signalfd_siginfo si;
	struct cv_vault *v;
	int r;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		return 1;
	if (si.ssi_signo == SIGHUP) {
		pthread_mutex_lock(&cvd.lock);
		v = cvd.vault;
		pthread_mutex_unlock(&cvd.lock);
		if (v == NULL) {
			cvd_log("SIGHUP: sealed, nothing to reload");
			return 0;
		}
		if ((r = cv_vault_reload(v)) != 0)
			cvd_log("policy reload failed: %s", cvd_code_name(r));
		else
			cvd_log("policy reloaded");
	}
	return 0;
}

static void
serve(int lfd, int sfd)
{
	struct pollfd p[2];
	int n;

	p[0].fd = lfd;
	p[0].events = POLLIN;
	p[1].fd = sfd;
	p[1].events = POLLIN;
	for (;;) {
		p[0].revents = p[1].revents = 0;
		n = poll(p, 2, 1000);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && p[1].revents != 0 && on_signal(sfd))
			break;
		if (n > 0 && p[0].revents != 0)
			accept_one(lfd);
		pthread_mutex_lock(&cvd.lock);
		n = cvd.vault != NULL;
		pthread_mutex_unlock(&cvd.lock);
		if (n)
			cvd_session_expire();
	}
}

/* Stop: requests in flight end, then the sessions, then the vault. */
static void
stop(void)
{
	char one = 1;

	__atomic_store_n(&cvd.stopping, 1, __ATOMIC_SEQ_CST);
	if (write(cvd.stop_pipe[1], &one, 1) != 1)
		cvd_log("cannot wake the clients");
	pthread_mutex_lock(&cvd.lock);
	while (cvd.clients > 0)
		pthread_cond_wait(&cvd.changed, &cvd.lock);
	pthread_mutex_unlock(&cvd.lock);
	cvd_session_end_all();
	if (cvd.vault != NULL) {
		cv_vault_close(cvd.vault);
		cvd.vault = NULL;
	}
}

/*
 * Detach: the parent waits for the child to say its socket is ready (one
 * byte on a pipe) and exits 0, or 1 when the child could not start.
 * Done before any thread or vault exists, which a fork would not carry.
 */
static int
detach(int *ready)
{
	pid_t pid;
	ssize_t n;
	char b = 0;
	int p[2], fd;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		while ((n = read(p[0], &b, 1)) < 0 && errno == EINTR)
			;
		_exit(n == 1 && b == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
	*ready = p[1];
	return 0;
}

int
main(int argc, char **argv)
{
	int lfd = -1, sfd = -1, ready = -1, r;
	sigset_t set;

	if ((r = parse(argc, argv)) != 0)
		return r < 0 ? 0 : r;
	if (!cvd.conf.foreground && detach(&ready) != 0) {
		cvd_log("cannot detach: %s", strerror(errno));
		return 1;
	}
	harden();
	umask(077);
	if ((r = cv_library_init()) != 0) {
		cvd_log("cannot start: %s", cv_strerror(r));
		return 1;
	}
	/* Signals arrive on the signalfd only, in the main loop. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1 ||
	    pipe2(cvd.stop_pipe, O_CLOEXEC) != 0) {
		cvd_log("cannot start: %s", strerror(errno));
		return 1;
	}
	if (cvd.conf.unlock_file != NULL &&
	    unlock_from_file(cvd.conf.unlock_file) != 0)
		return 1;
	if ((lfd = socket_listen(cvd.conf.socket)) == -1) {
		if (cvd.vault != NULL)
			cv_vault_close(cvd.vault);
		return 1;
	}
	cvd_log("started %s on %s (pid %ld)",
	    cvd.vault != NULL ? "unlocked" : "sealed", cvd.conf.socket,
	    (long)getpid());
	if (ready != -1) {
		if (write(ready, "\1", 1) != 1)
			cvd_log("cannot tell the parent");
		close(ready);
	}
	serve(lfd, sfd);
	close(lfd);
	unlink(cvd.conf.socket);
	cvd_log("stopping");
	stop();
	cvd_log("stopped");
	return 0;
}
