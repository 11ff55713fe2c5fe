/*
 * What every benchmark needs: a monotonic clock in seconds and the median
 * of a set of timings. Header-only, for the benchmark programs alone.
 */
#ifndef CV_BENCH_H
#define CV_BENCH_H

#include <stdlib.h>
#include <time.h>

static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the N values of V (sorted in place). */
static inline double
bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp);
	return v[n / 2];
}

#endif
