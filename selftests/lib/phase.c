// SPDX-License-Identifier: GPL-2.0
/*
 * Phase timing.  See phase.h.
 */
#include <stdlib.h>

#include "test_util.h"
#include "phase.h"

static void start(struct phase_clock *c, clockid_t cpu_clock)
{
	c->cpu_clock = cpu_clock;
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
	clock_gettime(cpu_clock, &c->cpu);
}

void phase_start(struct phase_clock *c)
{
	start(c, CLOCK_PROCESS_CPUTIME_ID);
}

void phase_start_thread(struct phase_clock *c)
{
	start(c, CLOCK_THREAD_CPUTIME_ID);
}

struct phase_time phase_stop(const struct phase_clock *c)
{
	struct timespec wall, cpu;

	clock_gettime(CLOCK_MONOTONIC, &wall);
	clock_gettime(c->cpu_clock, &cpu);
	return (struct phase_time) {
		.wall_ns = timespec_to_ns(timespec_sub(wall, c->wall)),
		.cpu_ns = timespec_to_ns(timespec_sub(cpu, c->cpu)),
	};
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t ns_median(int64_t *v, int n)
{
	if (n <= 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_i64);
	return v[n / 2];
}
