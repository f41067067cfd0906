/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Timing of test phases: wall time (CLOCK_MONOTONIC) and the CPU time of the
 * whole process (CLOCK_PROCESS_CPUTIME_ID: user + system, all threads), so a
 * report can say both how long a phase took and how much CPU it burned.
 */
#ifndef SELFTESTS_PHASE_H
#define SELFTESTS_PHASE_H

#include <stdint.h>
#include <time.h>

struct phase_clock {
	struct timespec wall;
	struct timespec cpu;
	clockid_t cpu_clock;
};

struct phase_time {
	int64_t wall_ns;
	int64_t cpu_ns;
};

void phase_start(struct phase_clock *c);
/* The same, but CPU time of the calling thread only (for a phase run by one thread). */
void phase_start_thread(struct phase_clock *c);
/* Time since phase_start(). */
struct phase_time phase_stop(const struct phase_clock *c);

static inline double ns_to_s(int64_t ns)
{
	return ns / 1e9;
}

/* Bytes per second as MiB/s, 0 for a zero duration. */
static inline double mib_per_s(uint64_t bytes, int64_t ns)
{
	return ns > 0 ? (bytes / 1048576.0) / ns_to_s(ns) : 0;
}

/*
 * The median of @n repeated measurements, the one median of the suite: sorts
 * @v in place, fastest first (so v[0] is the minimum and v[n - 1] the
 * maximum), and returns v[n / 2]: the middle value for an odd @n, the upper of
 * the two middle values for an even one; -1 when @n is 0.
 */
int64_t ns_median(int64_t *v, int n);

#endif /* SELFTESTS_PHASE_H */
