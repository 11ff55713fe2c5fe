/*
 * The daemon under load, against the same work done in-process and against
 * the raw store, in one run on one disk:
 *   - audited reads (`record show` of an existing intake) and audited
 *     durable writes (`note add`) over casevaultd's socket by 1, 8, 32 and
 *     128 clients, each its own connection and session, logged in once;
 *   - the same calls embedded: one thread per client, each with its own
 *     session of one unlocked vault (cv_vault_login), through cv_dispatch;
 *   - raw LMDB get + decrypt of the same sealed bytes by one thread, as
 *     bench_store measures it (no record format, no gate, no audit);
 *   - one embedded command line: an exec of the casevault program that
 *     opens a vault with the shipped Argon2id parameters (`user list`),
 *     against an exec of `casevault --version` (no vault, no Argon2id).
 * Throughput is calls per second over the whole phase; latency is per
 * call, p50 and p99. The daemon is started here (the casevaultd beside
 * this program's build directory), on a socket in a new directory under
 * /tmp, unlocked over the socket, and stopped with SIGTERM on every path.
 * Usage: bench_daemon [SECONDS-PER-PHASE [CLI-RUNS [CLIENTS]]]
 *   defaults 1 s, 3 runs, and the client counts 1,8,32,128; CLIENTS is one
 *   count (e.g. 32) to run alone. The daemon's pid is said on standard
 *   error when it is unlocked, for a profiler to attach to.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "bench.h"
#include "casevault.h"
#include "base/crypto.h"
#include "base/util.h"
#include "store/store.h"

#define PASS    "bench-passphrase"
#define PASSLEN (sizeof(PASS) - 1)
#define NCASES  8
#define INTAKE  "tests/fixtures/records/intake_valid.json"
#define TIMEOUT 30000 /* ms for one frame */

static char tmpdir[] = "/tmp/cvbench-daemon.XXXXXX";
static int have_tmpdir;
static volatile pid_t daemon_pid = -1;
static char cases[NCASES][CV_CASE_ID_LEN + 1];

/* ---- the daemon's life: stopped on every path ---- */

static void
cleanup(void)
{
	char cmd[64 + sizeof(tmpdir)];

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = -1;
	}
	if (have_tmpdir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
		have_tmpdir = 0;
	}
}

/*
 * Interrupted: only async-signal-safe calls. The embedded phase's threads
 * may still be writing into the directory, so it is moved aside first
 * (their paths no longer reach it) and removed with a few tries.
 */
static void
on_signal(int sig)
{
	static char gone[sizeof(tmpdir) + 5];
	char *rm[] = {"/bin/rm", "-rf", gone, NULL};
	struct timespec pause = {0, 50000000};
	int status = 1, tries;
	pid_t pid;

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
	}
	memcpy(gone, tmpdir, sizeof(tmpdir) - 1);
	memcpy(gone + sizeof(tmpdir) - 1, ".del", 5);
	if (have_tmpdir && rename(tmpdir, gone) == 0)
		for (tries = 0; tries < 10 && status != 0; tries++) {
			if ((pid = fork()) == 0) {
				execv(rm[0], rm);
				_exit(127);
			}
			if (pid < 0 || waitpid(pid, &status, 0) != pid)
				break;
			if (status != 0)
				nanosleep(&pause, NULL);
		}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "bench_daemon: %s: %s (%s)\n", what, cv_strerror(rc),
	    cv_error_detail());
	exit(1); /* cleanup() runs from atexit */
}

/* ---- latencies ---- */

struct lat {
	double *v;
	size_t n, cap;
};

static void
lat_add(struct lat *l, double x)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL)
			abort();
	}
	l->v[l->n++] = x;
}

static void
report(const char *label, int clients, struct lat *all, double secs)
{
	double p50 = 0, p99 = 0;

	if (all->n > 0) {
		qsort(all->v, all->n, sizeof(*all->v), bench_cmp);
		p50 = all->v[all->n / 2];
		p99 = all->v[(all->n * 99) / 100];
	}
	printf("%-26s %4d %10.0f %10.3f %10.3f %9zu\n", label, clients,
	    (double)all->n / secs, p50 * 1e3, p99 * 1e3, all->n);
	fflush(stdout);
}

/* ---- one client's work, over the socket or in-process ---- */

enum op { OP_READ, OP_WRITE };

struct client {
	int idx;
	enum op op;
	int fd;                   /* socket mode */
	char token[80];           /* socket mode */
	struct cv_session *s;     /* embedded mode */
	const double *deadline;   /* set when all are ready */
	pthread_barrier_t *start; /* all connected and logged in */
	struct lat lat;
	int failed;
};

static json_t *
request_of(struct client *c, unsigned long i)
{
	const char *cid = cases[c->idx % NCASES];

	if (c->op == OP_READ)
		return json_pack("{s:s, s:{s:s, s:i}}", "cmd", "record show",
		    "args", "case", cid, "record", 1);
	return json_pack("{s:s, s:{s:s, s:s, s:s}}", "cmd", "note add", "args",
	    "case", cid, "text",
	    i % 2 ? "She came with her sister and stayed an hour."
	          : "Follow-up by telephone; the shelter place is confirmed.",
	    "kind", "follow_up");
}

/* One round trip: REQ over C's connection, the answer must be ok. */
static int
roundtrip(int fd, json_t *req, json_t **ans)
{
	json_t *a = NULL;
	int rc;

	if ((rc = cv_frame_write(fd, req, TIMEOUT)) != 0 ||
	    (rc = cv_frame_read(fd, CV_FRAME_MAX, TIMEOUT, &a)) != 0)
		return rc;
	if (!json_is_true(json_object_get(a, "ok"))) {
		fprintf(stderr, "bench_daemon: answer: %s\n",
		    json_string_value(json_object_get(
			json_object_get(a, "error"), "code")));
		json_decref(a);
		return CV_EIO;
	}
	if (ans != NULL)
		*ans = a;
	else
		json_decref(a);
	return 0;
}

static int
sock_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *
run_socket(void *arg)
{
	struct client *c = arg;
	unsigned long i;

	pthread_barrier_wait(c->start);
	for (i = 0; bench_now() < *c->deadline; i++) {
		json_t *body = request_of(c, i), *req;
		double t0;

		req = json_pack("{s:s, s:s, s:O, s:O}", "op", "call", "token",
		    c->token, "cmd", json_object_get(body, "cmd"), "args",
		    json_object_get(body, "args"));
		t0 = bench_now();
		if (roundtrip(c->fd, req, NULL) != 0)
			c->failed++;
		else
			lat_add(&c->lat, bench_now() - t0);
		json_decref(req);
		json_decref(body);
		if (c->failed > 10)
			break;
	}
	return NULL;
}

static void *
run_embedded(void *arg)
{
	struct client *c = arg;
	unsigned long i;

	pthread_barrier_wait(c->start);
	for (i = 0; bench_now() < *c->deadline; i++) {
		json_t *req = request_of(c, i), *resp = NULL;
		double t0 = bench_now();

		if (cv_dispatch(c->s, req, &resp) != 0)
			c->failed++;
		else
			lat_add(&c->lat, bench_now() - t0);
		json_decref(resp);
		json_decref(req);
		if (c->failed > 10)
			break;
	}
	return NULL;
}

/*
 * N clients doing OP for SECS seconds, each with its own session (made and
 * ended outside the timing); SOCK is the daemon's socket, or NULL for
 * in-process sessions of V.
 */
static void
phase(const char *label, int n, enum op op, double secs, const char *sock,
    struct cv_vault *v)
{
	struct client *cl = calloc((size_t)n, sizeof(*cl));
	pthread_t *th = calloc((size_t)n, sizeof(*th));
	pthread_barrier_t start;
	struct lat all = {0};
	double deadline = 1e300, t0;
	int i, rc, failed = 0;

	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	for (i = 0; i < n; i++) {
		cl[i] = (struct client){.idx = i, .op = op, .fd = -1,
		    .deadline = &deadline, .start = &start};
		if (sock != NULL) {
			json_t *req, *ans = NULL;
			if ((cl[i].fd = sock_connect(sock)) < 0)
				die("connect", CV_EIO);
			req = json_pack("{s:s, s:s, s:s}", "op", "login", "user",
			    "siti", "passphrase", PASS);
			if ((rc = roundtrip(cl[i].fd, req, &ans)) != 0)
				die("login through the daemon", rc);
			snprintf(cl[i].token, sizeof(cl[i].token), "%s",
			    json_string_value(json_object_get(ans, "token")));
			json_decref(ans);
			json_decref(req);
		} else if ((rc = cv_vault_login(
				v, "siti", PASS, PASSLEN, NULL, &cl[i].s)) != 0)
			die("cv_vault_login", rc);
	}
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL,
		    sock != NULL ? run_socket : run_embedded, &cl[i]);
	t0 = bench_now();
	deadline = t0 + secs;
	pthread_barrier_wait(&start);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	secs = bench_now() - t0;
	for (i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < cl[i].lat.n; k++)
			lat_add(&all, cl[i].lat.v[k]);
		failed += cl[i].failed;
		free(cl[i].lat.v);
		if (sock != NULL) {
			json_t *req = json_pack("{s:s, s:s}", "op", "logout",
			    "token", cl[i].token);
			roundtrip(cl[i].fd, req, NULL);
			json_decref(req);
			close(cl[i].fd);
		} else
			cv_session_end(cl[i].s, "logout");
	}
	if (failed > 0) {
		fprintf(stderr, "bench_daemon: %s: %d calls failed\n", label,
		    failed);
		exit(1);
	}
	report(label, n, &all, secs);
	free(all.v);
	pthread_barrier_destroy(&start);
	free(cl);
	free(th);
}

/* ---- setup ---- */

static void
setup_vault(const char *vdir)
{
	struct cv_session *s;
	struct cv_vault *v;
	json_t *intake = NULL;
	char *text = NULL;
	size_t len;
	int i, rc;

	if ((rc = cv_vault_create_served(vdir, "admin", PASS, PASSLEN, &s)) != 0)
		die("cv_vault_create_served", rc);
	if ((rc = cv_user_add(s, "siti", "counselor", CV_USER_TRAINED, PASS,
		 PASSLEN)) != 0)
		die("cv_user_add", rc);
	cv_session_close(s);
	if ((rc = cv_read_file(INTAKE, CV_RECORD_MAX, &text, &len)) != 0 ||
	    (rc = cv_json_parse_object(text, len, CV_RECORD_MAX, &intake)) != 0)
		die("the intake fixture (run from the top of the tree)", rc);
	free(text);
	if ((rc = cv_vault_unlock(vdir, "admin", PASS, PASSLEN, &v)) != 0 ||
	    (rc = cv_vault_login(v, "siti", PASS, PASSLEN, NULL, &s)) != 0)
		die("unlock and login", rc);
	for (i = 0; i < NCASES; i++)
		if ((rc = cv_case_open(s, intake, cases[i])) != 0)
			die("cv_case_open", rc);
	cv_session_end(s, "logout");
	cv_vault_close(v);
	json_decref(intake);
}

/* Raw get + decrypt of the intake's size, as bench_store does it. */
static void
raw_baseline(const char *dir, double secs)
{
	struct cv_store *st;
	struct cv_txn *txn;
	struct cv_val val;
	uint8_t key[CV_KEYBYTES], ad[64], payload[1536], *sealed, *plain;
	struct lat l = {0};
	char path[PATH_MAX];
	double t0, end;
	uint32_t i;

	snprintf(path, sizeof(path), "%s/raw", dir);
	if (mkdir(path, 0700) != 0 || cv_store_create(path, &st) != 0)
		die("raw store", CV_ESTORE);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(ad, sizeof(ad));
	randombytes_buf(payload, sizeof(payload));
	sealed = malloc(sizeof(payload) + CV_SEALOVERHEAD);
	plain = malloc(sizeof(payload));
	cv_seal(key, ad, sizeof(ad), payload, sizeof(payload), sealed);
	for (i = 0; i < 1000; i++) {
		uint8_t rk[8];
		cv_put_be64(rk, i);
		cv_txn_begin(st, CV_TXN_WRITE, &txn);
		cv_put(txn, CV_DB_RECORDS, rk, 8, sealed,
		    sizeof(payload) + CV_SEALOVERHEAD, 0);
		if (cv_txn_commit(txn) != 0)
			die("raw put", CV_ESTORE);
	}
	t0 = bench_now();
	end = t0 + secs;
	for (i = 0; bench_now() < end; i++) {
		uint8_t rk[8];
		double t = bench_now();
		cv_put_be64(rk, i % 1000);
		cv_txn_begin(st, CV_TXN_RDONLY, &txn);
		if (cv_get(txn, CV_DB_RECORDS, rk, 8, &val) != 0 ||
		    cv_open(key, ad, sizeof(ad), val.data, val.len, plain) != 0)
			die("raw get", CV_ESTORE);
		cv_txn_abort(txn);
		lat_add(&l, bench_now() - t);
	}
	report("raw get+decrypt (1.5 KiB)", 1, &l, bench_now() - t0);
	free(l.v);
	free(sealed);
	free(plain);
	cv_store_close(st);
}

/* ---- the daemon ---- */

static void
daemon_start(const char *cvd, const char *vdir, const char *sock,
    const char *log)
{
	json_t *req;
	int fd = -1, i, rc;

	daemon_pid = fork();
	if (daemon_pid < 0)
		die("fork", CV_EIO);
	if (daemon_pid == 0) {
		int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (lfd >= 0)
			dup2(lfd, 2);
		execl(cvd, cvd, "-V", vdir, "--socket", sock, "--foreground",
		    "--max-clients", "256", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && fd < 0; i++) {
		if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
			daemon_pid = -1;
			die("casevaultd exited at start (see its log)", CV_EIO);
		}
		usleep(20000);
		fd = sock_connect(sock);
	}
	if (fd < 0)
		die("casevaultd's socket", CV_ETIMEDOUT);
	req = json_pack("{s:s, s:s, s:s}", "op", "unlock", "user", "admin",
	    "passphrase", PASS);
	if ((rc = roundtrip(fd, req, NULL)) != 0)
		die("unlock", rc);
	json_decref(req);
	close(fd);
	fprintf(stderr, "# casevaultd pid %ld, unlocked\n", (long)daemon_pid);
}

static int
daemon_stop(void)
{
	pid_t pid = daemon_pid;
	int status;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	daemon_pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the command line ---- */

/* Run ARGV with the shipped Argon2id parameters, output discarded. */
static int
run_cli(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(nul, 2);
		unsetenv("CASEVAULT_TEST_KDF");
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
cli_cost(const char *cv, const char *dir, int runs)
{
	char vdir[PATH_MAX], pf[PATH_MAX];
	char *init[] = {(char *)cv, "init", vdir, "--admin", "admin",
	    "--new-passphrase-file", pf, NULL};
	char *list[] = {(char *)cv, "-V", vdir, "-u", "admin",
	    "--passphrase-file", pf, "user", "list", NULL};
	char *version[] = {(char *)cv, "--version", NULL};
	struct lat a = {0}, b = {0};
	double t0, tb;
	FILE *f;
	int i;

	snprintf(vdir, sizeof(vdir), "%s/cli-vault", dir);
	snprintf(pf, sizeof(pf), "%s/cli-pass", dir);
	if ((f = fopen(pf, "w")) == NULL)
		die("passphrase file", CV_EIO);
	fprintf(f, "%s\n", PASS);
	fclose(f);
	chmod(pf, 0600);
	if (run_cli(init) != 0)
		die("casevault init (shipped KDF)", CV_EIO);
	t0 = bench_now();
	for (i = 0; i < runs; i++) {
		double t = bench_now();
		if (run_cli(list) != 0)
			die("casevault user list", CV_EIO);
		lat_add(&a, bench_now() - t);
	}
	t0 = bench_now() - t0;
	tb = bench_now();
	for (i = 0; i < runs * 20; i++) {
		double t = bench_now();
		if (run_cli(version) != 0)
			die("casevault --version", CV_EIO);
		lat_add(&b, bench_now() - t);
	}
	report("cli: casevault --version", 1, &b, bench_now() - tb);
	report("cli: user list (Argon2id)", 1, &a, t0);
	free(a.v);
	free(b.v);
}

int
main(int argc, char **argv)
{
	static int counts[] = {1, 8, 32, 128};
	size_t ncounts = CV_ARRAY_LEN(counts);
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	int runs = argc > 2 ? atoi(argv[2]) : 3, rc;
	char self[PATH_MAX], bin[PATH_MAX], cvd[PATH_MAX], cv[PATH_MAX];
	char vdir[PATH_MAX], sock[PATH_MAX], log[PATH_MAX];
	struct cv_vault *v;
	size_t k;

	if (argc > 3) {
		counts[0] = atoi(argv[3]);
		ncounts = 1;
	}
	if (secs <= 0 || runs <= 0 || counts[0] < 1 || counts[0] > 200) {
		fprintf(stderr, "usage: bench_daemon [SECONDS [CLI-RUNS "
				"[CLIENTS]]]\n");
		return 2;
	}
	/* Small Argon2id for the accounts the benchmark makes and logs in;
	 * the command line's cost below runs with the shipped ones. */
	setenv("CASEVAULT_TEST_KDF", "insecure", 1);
	signal(SIGPIPE, SIG_IGN);
	if (cv_library_init() != 0 || mkdtemp(tmpdir) == NULL)
		return 1;
	have_tmpdir = 1;
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(bin, sizeof(bin), "%s", dirname(dirname(self)));
	if (strlen(bin) > 200)
		die("the build directory's path is too long", CV_ETOOBIG);
	snprintf(cvd, sizeof(cvd), "%.200s/casevaultd", bin);
	snprintf(cv, sizeof(cv), "%.200s/casevault", bin);
	snprintf(vdir, sizeof(vdir), "%s/vault", tmpdir);
	snprintf(sock, sizeof(sock), "%s/run/casevault.sock", tmpdir);
	snprintf(log, sizeof(log), "%s/daemon.log", tmpdir);

	setup_vault(vdir);
	printf("# casevault daemon benchmark: %.1f s a phase; ops/s, latency "
	       "in ms\n", secs);
	printf("%-26s %4s %10s %10s %10s %9s\n", "what", "n", "ops/s", "p50",
	    "p99", "calls");

	raw_baseline(tmpdir, secs);
	if ((rc = cv_vault_unlock(vdir, "admin", PASS, PASSLEN, &v)) != 0)
		die("cv_vault_unlock", rc);
	for (k = 0; k < ncounts; k++)
		phase("embedded read", counts[k], OP_READ, secs, NULL, v);
	for (k = 0; k < ncounts; k++)
		phase("embedded write", counts[k], OP_WRITE, secs, NULL, v);
	cv_vault_close(v);

	daemon_start(cvd, vdir, sock, log);
	for (k = 0; k < ncounts; k++)
		phase("daemon read", counts[k], OP_READ, secs, sock, NULL);
	for (k = 0; k < ncounts; k++)
		phase("daemon write", counts[k], OP_WRITE, secs, sock, NULL);
	if ((rc = daemon_stop()) != 0) {
		fprintf(stderr, "bench_daemon: casevaultd exited %d\n", rc);
		return 1;
	}
	cli_cost(cv, tmpdir, runs);
	return 0;
}
