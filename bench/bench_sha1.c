/*
 * SHA-1 throughput: the project's SHA-1 (base/sha1.h, which names and
 * checks packs) next to nettle's, in the same process and the same rounds,
 * on the sizes the audit trail hashes: an event blob, a signed commit
 * object, a tree, a commit's pack and a merged pack. Each round hashes
 * about ROUND_BYTES with each implementation in turn, one whole message
 * per init/update/final as the pack writer does; the figures are medians
 * of RUNS rounds, and the ratio is the median of the rounds' own ratios,
 * so that a noisy machine slows both sides of each ratio alike.
 * base/sha1.h had its own rounds when nettle was chosen for being faster
 * (docs/PERFORMANCE.md, "SHA-1"); it now wraps nettle, so the ratio
 * shows what the wrapper costs, and the bench is where a future
 * implementation of base/sha1.h is measured against the library.
 * Usage: bench_sha1
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha1.h>
#include <nettle/version.h>

#include "bench.h"
#include "base/sha1.h"

#define RUNS        9
#define ROUND_BYTES (32u << 20)
#define MAX_SIZE    (1u << 20)

/* Every digest is folded in here, so no hash can be optimised away. */
static volatile uint8_t sink[20];

static void
project_sha1(const uint8_t *p, size_t n, uint8_t d[20])
{
	struct audit_sha1 s;

	audit_sha1_init(&s);
	audit_sha1_update(&s, p, n);
	audit_sha1_final(&s, d);
}

static void
nettle_sha1(const uint8_t *p, size_t n, uint8_t d[20])
{
	struct sha1_ctx s;

	sha1_init(&s);
	sha1_update(&s, n, p);
#if NETTLE_VERSION_MAJOR >= 4
	sha1_digest(&s, d);
#else
	sha1_digest(&s, SHA1_DIGEST_SIZE, d);
#endif
}

/* MB/s of FN hashing COUNT messages of N bytes from BUF. */
static double
rate(void (*fn)(const uint8_t *, size_t, uint8_t *), const uint8_t *buf,
    size_t n, size_t count)
{
	uint8_t d[20];
	double t0 = bench_now();
	size_t i, j;

	for (i = 0; i < count; i++) {
		fn(buf, n, d);
		for (j = 0; j < sizeof(d); j++)
			sink[j] ^= d[j];
	}
	return (double)n * (double)count / 1e6 / (bench_now() - t0);
}

int
main(void)
{
	static const struct {
		const char *what;
		size_t size;
	} sizes[] = {
	    {"event blob", 300},
	    {"signed commit object", 700},
	    {"tree", 4096},
	    {"commit's pack", 16384},
	    {"merged pack", MAX_SIZE},
	};
	double vp[RUNS], vn[RUNS], ratio[RUNS];
	uint8_t *buf, dp[20], dn[20];
	size_t i, count;
	int k;

	if ((buf = malloc(MAX_SIZE)) == NULL)
		return 1;
	srand(1);
	for (i = 0; i < MAX_SIZE; i++)
		buf[i] = (uint8_t)rand();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# SHA-1, MB/s: medians of %d rounds of %u MiB per "
	       "implementation, taking turns\n",
	    RUNS, ROUND_BYTES >> 20);
	printf("%-22s %8s %12s %12s %16s\n", "what", "bytes", "base/sha1",
	    "nettle", "nettle/base");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* Both compute the same function (a positive control for
		 * the comparison); then each takes its turn. */
		project_sha1(buf, sizes[i].size, dp);
		nettle_sha1(buf, sizes[i].size, dn);
		if (memcmp(dp, dn, sizeof(dp)) != 0) {
			fprintf(stderr, "digests differ at %zu bytes\n",
			    sizes[i].size);
			return 1;
		}
		count = ROUND_BYTES / sizes[i].size;
		for (k = 0; k < RUNS; k++) {
			if (k % 2 == 0) {
				vp[k] = rate(
				    project_sha1, buf, sizes[i].size, count);
				vn[k] = rate(
				    nettle_sha1, buf, sizes[i].size, count);
			} else {
				vn[k] = rate(
				    nettle_sha1, buf, sizes[i].size, count);
				vp[k] = rate(
				    project_sha1, buf, sizes[i].size, count);
			}
			ratio[k] = vn[k] / vp[k];
		}
		printf("%-22s %8zu %12.0f %12.0f %15.2fx\n", sizes[i].what,
		    sizes[i].size, bench_median(vp, RUNS), bench_median(vn, RUNS),
		    bench_median(ratio, RUNS));
	}
	free(buf);
	return 0;
}
