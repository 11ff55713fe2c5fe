/*
 * Audit trail throughput: durable signed events per second with one commit
 * per event and with group commit under 1, 8, 32 and 128 writer threads,
 * next to this disk's raw fsync rate measured in the same run; then verify
 * speed. Each figure is the median of RUNS runs.
 * Usage: bench_audit [DIR]   (temporary vaults go under DIR, default /tmp)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <sodium.h>

#include "bench.h"
#include "casevault.h"
#include "audit/auditlog.h"
#include "base/merkle.h"
#include "base/util.h"

#define RUNS 3

static const char *base = "/tmp";
static uint8_t pk[32], sk[64];

static void
mkvault(char *dir, size_t size)
{
	snprintf(dir, size, "%s/cv_bench_XXXXXX", base);
	if (mkdtemp(dir) == NULL ||
	    cv_auditlog_create(dir, pk, "audit@casevault") != 0) {
		fprintf(stderr, "cannot create a vault under %s\n", base);
		exit(1);
	}
}

static void
rmvault(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static json_t *
event(int i)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:[s,s], s:s, s:s, s:i}",
	    "action", "record.read", "actor", "u0042", "role", "counselor",
	    "case", "PQ7X2M4KDA", "classes", "incident", "services", "decision",
	    "allow", "rule", "team.member", "record", i);
}

static double
fsync_rate(int n)
{
	char path[512];
	double t0;
	int i, fd;

	snprintf(path, sizeof(path), "%s/cv_bench_fsync", base);
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
		    write(fd, "0123456789abcdef", 16) != 16 || fsync(fd) != 0) {
			perror("fsync baseline");
			exit(1);
		}
		close(fd);
	}
	unlink(path);
	return n / (bench_now() - t0);
}

struct wk {
	struct cv_auditlog *a;
	int n;
};

static void *
writer(void *arg)
{
	struct wk *w = arg;
	int i;

	for (i = 0; i < w->n; i++) {
		json_t *e = event(i);
		if (cv_auditlog_append(w->a, e, 0, NULL) != 0) {
			fprintf(stderr, "append failed\n");
			exit(1);
		}
		json_decref(e);
	}
	return NULL;
}

/* TOTAL events from THREADS writers; events/s. Keeps the vault in KEEP. */
static double
append_rate(int threads, int total, char *keep, size_t keepsize)
{
	pthread_t th[128];
	struct wk w[128];
	struct cv_auditlog *a;
	char dir[512];
	double t0, t;
	int i;

	mkvault(dir, sizeof(dir));
	if (cv_auditlog_open(dir, sk, &a) != 0)
		exit(1);
	t0 = bench_now();
	for (i = 0; i < threads; i++) {
		w[i].a = a;
		w[i].n = total / threads;
		pthread_create(&th[i], NULL, writer, &w[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t = bench_now() - t0;
	cv_auditlog_close(a);
	if (keep != NULL)
		snprintf(keep, keepsize, "%s", dir);
	else
		rmvault(dir);
	return (total / threads) * threads / t;
}

static double
merkle_rate(int n)
{
	struct cv_merkle m;
	uint8_t leaf[32], root[32];
	char *s;
	json_t *e;
	double t0;
	int i;

	e = event(0);
	json_object_set_new(e, "seq", json_integer(123456));
	json_object_set_new(e, "time", json_string("2025-01-01T00:00:00.000Z"));
	s = cv_json_canonical(e);
	cv_merkle_init(&m);
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		s[0] = (char)('{' + (i & 1)); /* defeat any caching */
		cv_merkle_leaf_hash(s, strlen(s), leaf);
		cv_merkle_append(&m, leaf);
	}
	cv_merkle_root(&m, root);
	free(s);
	json_decref(e);
	return n / (bench_now() - t0);
}

int
main(int argc, char **argv)
{
	static const int threads[] = {1, 8, 32, 128};
	double v[RUNS], fs, r;
	char keep[512];
	struct cv_auditlog_report rep;
	size_t t;
	int i;

	if (argc > 1)
		base = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0)
		return 1;
	git_libgit2_init();
	crypto_sign_keypair(pk, sk);

	for (i = 0; i < RUNS; i++)
		v[i] = fsync_rate(300);
	fs = bench_median(v, RUNS);
	printf("raw write+fsync of a small file: %8.0f /s\n", fs);

	for (i = 0; i < RUNS; i++)
		v[i] = append_rate(1, 200, NULL, 0);
	r = bench_median(v, RUNS);
	printf(
	    "one commit per event, 1 writer:  %8.0f events/s  (%.2fx fsync)\n",
	    r, r / fs);
	for (t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		int total = threads[t] == 1 ? 200 : 3200;
		for (i = 0; i < RUNS; i++)
			v[i] = append_rate(threads[t], total, NULL, 0);
		r = bench_median(v, RUNS);
		printf("group commit, %3d writers:       %8.0f events/s  "
		       "(%.2fx fsync)\n",
		    threads[t], r, r / fs);
	}

	for (i = 0; i < RUNS; i++)
		v[i] = merkle_rate(1000000);
	printf("Merkle recomputation:            %8.0f events/s\n",
	    bench_median(v, RUNS));

	append_rate(32, 32 * 200, keep, sizeof(keep));
	for (i = 0; i < RUNS; i++) {
		double t0 = bench_now();
		if (cv_auditlog_verify(keep, pk, NULL, &rep) != 0) {
			fprintf(stderr, "verify failed: %s\n", rep.reason);
			return 1;
		}
		v[i] = (double)rep.events / (bench_now() - t0);
	}
	printf("full verify (%llu events, %llu commits): %8.0f events/s\n",
	    (unsigned long long)rep.events, (unsigned long long)rep.commits,
	    bench_median(v, RUNS));
	rmvault(keep);
	sodium_memzero(sk, sizeof(sk));
	git_libgit2_shutdown();
	return 0;
}
