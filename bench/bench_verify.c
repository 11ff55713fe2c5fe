/*
 * Peak memory and speed of audit verification against the length of the
 * trail: builds a trail of EVENTS events, one signed commit each (the
 * shape a single writer leaves), then reports the time and the peak
 * resident set (getrusage ru_maxrss)
 * of the verification, run alone in a fresh process.
 * Usage: bench_verify [EVENTS] [DIR]   (default 20000 events under /tmp)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "casevault.h"
#include "audit/auditlog.h"

static uint8_t pk[32], sk[64];

/* The verification alone, in a fresh process: bench_verify --verify DIR
 * PKHEX. Its peak resident set is the verifier's. */
static int
verify_only(const char *dir, const char *hex)
{
	struct cv_auditlog_report rep;

	if (sodium_hex2bin(pk, sizeof(pk), hex, strlen(hex), NULL, NULL,
	        NULL) != 0)
		return 2;
	if (cv_auditlog_verify(dir, pk, NULL, &rep) != 0) {
		fprintf(stderr, "verify failed: %s\n", rep.reason);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *base = argc > 2 ? argv[2] : "/tmp";
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000, i;
	struct cv_auditlog *a;
	char dir[512], cmd[600], hex[65];
	struct rusage ru;
	int st;
	double t0, t;
	pid_t pid;

	if (sodium_init() < 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "--verify") == 0)
		return verify_only(argv[2], argv[3]);
	if (n < 1)
		return 1;
	crypto_sign_keypair(pk, sk);
	snprintf(dir, sizeof(dir), "%s/cv_bench_XXXXXX", base);
	if (mkdtemp(dir) == NULL ||
	    cv_auditlog_create(dir, pk, "audit@casevault") != 0 ||
	    cv_auditlog_open(dir, sk, &a) != 0) {
		fprintf(stderr, "cannot create a trail under %s\n", base);
		return 1;
	}
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}",
		    "action", "record.read", "actor", "u0042", "case",
		    "PQ7X2M4KDA", "decision", "allow", "rule", "team.member",
		    "record", (json_int_t)i);
		if (e == NULL || cv_auditlog_append(a, e, 0, NULL) != 0) {
			fprintf(stderr, "append failed\n");
			return 1;
		}
		json_decref(e);
	}
	cv_auditlog_close(a);
	printf("built %ld events in %.1f s\n", n, bench_now() - t0);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	t0 = bench_now();
	if ((pid = fork()) == 0) {
		execl(argv[0], argv[0], "--verify", dir, hex, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return 1;
	t = bench_now() - t0;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("verify %ld events: %.2f s (%.0f events/s), peak RSS %ld KiB\n",
	    n, t, n / t, ru.ru_maxrss);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
