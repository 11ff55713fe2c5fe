/*
 * The audit trail at scale: N events appended by WRITERS threads sharing
 * one handle (group commit, as the vault's sessions do), then the trail's
 * size on disk per event once housekeeping has settled, then the speed
 * and peak memory of cv_auditlog_verify over it.
 *
 * Usage: bench_trail [N [WRITERS [DIR]]]
 *   N        events (default 20000; the documented run is 1000000)
 *   WRITERS  writer threads (default 8)
 *   DIR      where the temporary vault goes (default /tmp)
 *        bench_trail --verify VAULT PUBKEY
 *   verifies a trail kept by an earlier run (BENCH_TRAIL_KEEP=1 keeps it
 *   and prints its public key in hex), so that verification can be
 *   measured again and again without building the trail anew.
 *
 * After verifying, the child reads every event once more in sequence
 * order (cv_auditlog_foreach, the pass over the trail that the store's
 * reconciliation makes in `audit verify`) and reports its speed too.
 * Verify runs in a child forked before anything else, so that the peak
 * resident size it reports (ru_maxrss) is the verifier's alone, not the
 * builder's. The child's data segment is limited (RLIMIT_DATA, default
 * 4 GiB, BENCH_TRAIL_MAXDATA in MiB to change it), so that a verifier that
 * grows with the trail fails instead of exhausting a shared machine.
 * BENCH_TRAIL_RUNS sets how many times it verifies (default 3, at most 9);
 * BENCH_TRAIL_REOPEN=C,L how often verify and foreach reopen the
 * repository (cv_auditlog_set_reopen), to measure the defaults against.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <sodium.h>

#include "bench.h"
#include "casevault.h"
#include "audit/auditlog.h"

#define VERIFY_RUNS     3 /* BENCH_TRAIL_RUNS to change, at most RUNS_MAX */
#define VERIFY_RUNS_MAX 9
#define WRITERS_MAX 128

static uint8_t pk[32], sk[64];

/* Blocks allocated under the vault, as du counts them, and apparent
 * bytes, as ls does. */
static uint64_t du_blocks, du_bytes;

static int
du_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)path;
	(void)f;
	if (flag == FTW_F || flag == FTW_D) {
		du_blocks += (uint64_t)sb->st_blocks * 512;
		if (flag == FTW_F)
			du_bytes += (uint64_t)sb->st_size;
	}
	return 0;
}

static void
du(const char *dir, uint64_t *alloc, uint64_t *bytes)
{
	du_blocks = du_bytes = 0;
	if (nftw(dir, du_one, 16, FTW_PHYS) != 0) {
		perror("nftw");
		exit(1);
	}
	*alloc = du_blocks;
	*bytes = du_bytes;
}

static const char *const actions[] = {"record.read", "record.read",
    "record.read", "record.list", "record.add", "record.amend", "consent.grant",
    "team.add"};

/*
 * An event shaped like the gate's (src/gate/gate.c): actor, role, session,
 * policy hash, the case's 32-digit pseudonym, record and version, data
 * classes, purpose, decision, rule, outcome; about 400 bytes once the
 * trail adds seq and time. Every fourth event precedes a store write.
 */
static json_t *
event(unsigned w, unsigned i, unsigned *flags)
{
	static const char policy[] = "3f0a9c5d2e7b41f68a0c9e1d5b7f23a4"
	                             "c6e8091b2d4f6a8c0e1f3a5b7d9c1e2f";
	const char *action = actions[i % 8];
	char actor[16], session[17], pseud[33];
	json_t *e;

	snprintf(actor, sizeof(actor), "u%04u", 40 + w % 24);
	snprintf(session, sizeof(session), "%08x%08x", 0x5eed0000u + w,
	    i / 50 * 2654435761u);
	snprintf(pseud, sizeof(pseud), "%08x%08x%08x%08x",
	    (i % 97) * 2654435761u, (i % 97) * 40503u, 0x9e3779b9u ^ (i % 97),
	    0x7f4a7c15u);
	*flags = i % 4 == 0 ? CV_AUDIT_WRITE : 0;
	e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, "
	              "s:[s,s,s], s:s, s:s, s:s, s:s}",
	    "action", action, "access", i % 4 == 0 ? "write" : "read", "actor",
	    actor, "role", w % 3 ? "counselor" : "supervisor", "session",
	    session, "policy", policy, "case", pseud, "record",
	    (json_int_t)(i % 311 + 1), "version", (json_int_t)(i % 7 + 1),
	    "classes", "identity", "incident", "services", "purpose",
	    "case_management", "decision", "allow", "rule", "team.member",
	    "outcome", "success");
	return e;
}

struct wk {
	struct cv_auditlog *a;
	unsigned id, n;
};

static void *
writer(void *arg)
{
	struct wk *w = arg;
	unsigned i, flags;

	for (i = 0; i < w->n; i++) {
		json_t *e = event(w->id, i, &flags);
		if (e == NULL ||
		    cv_auditlog_append(w->a, e, flags, NULL) != 0) {
			fprintf(stderr, "append failed\n");
			exit(1);
		}
		json_decref(e);
	}
	return NULL;
}

struct result {
	int ok;
	int runs;
	double rate[VERIFY_RUNS_MAX];
	uint64_t events;
	double verify_maxrss_kib; /* before the foreach pass */
	double foreach_rate;
	uint64_t foreach_events;
	char reason[160];
};

static int
count_event(const json_t *ev, void *arg)
{
	(void)ev;
	(*(uint64_t *)arg)++;
	return 0;
}

/* The verifying child: waits for the vault's path on IN, verifies it
 * res.runs times and writes a struct result to OUT. */
static void
verifier(int in, int out)
{
	struct cv_auditlog_report rep;
	struct result res;
	struct rusage ru;
	struct rlimit rl;
	char dir[1024];
	const char *m;
	ssize_t k;
	size_t len = 0;
	double t0;
	int i;

	memset(&res, 0, sizeof(res));
	m = getenv("BENCH_TRAIL_MAXDATA");
	rl.rlim_cur = rl.rlim_max =
	    (rlim_t)(m != NULL ? strtoull(m, NULL, 10) : 4096) << 20;
	(void)setrlimit(RLIMIT_DATA, &rl);
	while (len < sizeof(dir) - 1 &&
	    (k = read(in, dir + len, sizeof(dir) - 1 - len)) > 0)
		len += (size_t)k;
	dir[len] = '\0';
	if (len == 0)
		_exit(0);
	git_libgit2_init();
	res.ok = 1;
	if ((m = getenv("BENCH_TRAIL_REOPEN")) != NULL) {
		char *e;
		unsigned long c = strtoul(m, &e, 10);
		cv_auditlog_set_reopen((unsigned)c,
		    *e == ',' ? (unsigned)strtoul(e + 1, NULL, 10) : 0);
	}
	m = getenv("BENCH_TRAIL_RUNS");
	res.runs = m != NULL ? atoi(m) : VERIFY_RUNS;
	if (res.runs < 1 || res.runs > VERIFY_RUNS_MAX)
		res.runs = VERIFY_RUNS;
	for (i = 0; i < res.runs; i++) {
		t0 = bench_now();
		if (cv_auditlog_verify(dir, pk, NULL, &rep) != 0) {
			res.ok = 0;
			snprintf(
			    res.reason, sizeof(res.reason), "%s", rep.reason);
			break;
		}
		res.rate[i] = (double)rep.events / (bench_now() - t0);
		res.events = rep.events;
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		res.verify_maxrss_kib = (double)ru.ru_maxrss;
	t0 = bench_now();
	if (res.ok &&
	    cv_auditlog_foreach(dir, count_event, &res.foreach_events) != 0) {
		res.ok = 0;
		snprintf(res.reason, sizeof(res.reason), "foreach failed");
	}
	res.foreach_rate = (double)res.foreach_events / (bench_now() - t0);
	if (write(out, &res, sizeof(res)) != (ssize_t)sizeof(res))
		_exit(1);
	_exit(0);
}

/* Hand DIR to the verifying child PID (pipes TO and FROM) and print what
 * it measured. */
static int
collect(pid_t pid, int to, int from, const char *dir)
{
	struct result res;
	struct rusage ru;
	int status;

	if (write(to, dir, strlen(dir)) != (ssize_t)strlen(dir)) {
		perror("write");
		return 1;
	}
	close(to);
	memset(&res, 0, sizeof(res));
	if (read(from, &res, sizeof(res)) != (ssize_t)sizeof(res))
		res.ok = 0,
		snprintf(res.reason, sizeof(res.reason),
		    "verifier died (memory limit?)");
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("wait4");
		return 1;
	}
	if (!res.ok) {
		printf("verify:    FAILED: %s\n", res.reason);
	} else {
		printf("verify:    %10.0f events/s  (median of %d, %llu "
		       "events)\n",
		    bench_median(res.rate, res.runs), res.runs,
		    (unsigned long long)res.events);
		printf("verify peak memory: %.1f MiB (ru_maxrss of the "
		       "verifier)\n",
		    res.verify_maxrss_kib / 1024.0);
		printf("foreach:   %10.0f events/s  (%llu events, the "
		       "reconciliation's pass over the trail)\n",
		    res.foreach_rate,
		    (unsigned long long)res.foreach_events);
	}
	printf("peak memory with foreach: %.1f MiB (ru_maxrss of the "
	       "child)\n",
	    (double)ru.ru_maxrss / 1024.0);
	return res.ok ? 0 : 1;
}

/* bench_trail --verify VAULT PUBKEY: verify a kept trail. */
static int
verify_kept(const char *dir, const char *hex)
{
	int to[2], from[2];
	pid_t pid;

	if (sodium_hex2bin(pk, sizeof(pk), hex, strlen(hex), NULL, NULL,
	        NULL) != 0) {
		fprintf(stderr, "bad public key\n");
		return 2;
	}
	if (pipe(to) != 0 || pipe(from) != 0 || (pid = fork()) == -1) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		verifier(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	printf("# bench_trail --verify %s\n", dir);
	return collect(pid, to[1], from[0], dir);
}

int
main(int argc, char **argv)
{
	pthread_t th[WRITERS_MAX];
	struct wk w[WRITERS_MAX];
	struct cv_auditlog *a;
	uint64_t alloc, bytes;
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	unsigned writers = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 8;
	const char *base = argc > 3 ? argv[3] : "/tmp";
	char dir[1024], cmd[1100];
	int to[2], from[2], rc;
	unsigned i;
	pid_t pid;
	double t0, t;

	if (argc == 4 && strcmp(argv[1], "--verify") == 0) {
		if (sodium_init() < 0)
			return 1;
		return verify_kept(argv[2], argv[3]);
	}
	if (n == 0 || writers == 0 || writers > WRITERS_MAX) {
		fprintf(stderr, "usage: bench_trail [N [WRITERS [DIR]]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	if (pipe(to) != 0 || pipe(from) != 0 || (pid = fork()) == -1) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		verifier(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	git_libgit2_init();

	snprintf(dir, sizeof(dir), "%s/cv_trail_XXXXXX", base);
	if (mkdtemp(dir) == NULL ||
	    cv_auditlog_create(dir, pk, "audit@casevault") != 0 ||
	    cv_auditlog_open(dir, sk, &a) != 0) {
		fprintf(stderr, "cannot create a vault under %s\n", base);
		return 1;
	}
	printf(
	    "# bench_trail: %lu events, %u writers, in %s\n", n, writers, dir);
	t0 = bench_now();
	for (i = 0; i < writers; i++) {
		w[i].a = a;
		w[i].id = i;
		w[i].n = (unsigned)(n / writers + (i < n % writers));
		pthread_create(&th[i], NULL, writer, &w[i]);
	}
	for (i = 0; i < writers; i++)
		pthread_join(th[i], NULL);
	t = bench_now() - t0;
	/* Closing stops the housekeeper and merges once more. */
	cv_auditlog_close(a);
	printf("appended:  %10.0f events/s  (%.1f s)\n", (double)n / t, t);
	snprintf(cmd, sizeof(cmd), "%s/audit.git", dir);
	du(cmd, &alloc, &bytes);
	printf("on disk:   %10.0f bytes/event  (du %.1f MiB, files %.1f MiB)\n",
	    (double)alloc / (double)n, (double)alloc / 1048576.0,
	    (double)bytes / 1048576.0);

	rc = collect(pid, to[1], from[0], dir);
	if (getenv("BENCH_TRAIL_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	} else {
		char hex[65];

		sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
		printf("kept %s (public key %s)\n", dir, hex);
	}
	sodium_memzero(sk, sizeof(sk));
	git_libgit2_shutdown();
	return rc;
}
