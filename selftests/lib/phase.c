// SPDX-License-Identifier: GPL-2.0
/*
 * Phase timing.  See phase.h.
 */
#include "test_util.h"
#include "phase.h"

void phase_start(struct phase_clock *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c->cpu);
}

struct phase_time phase_stop(const struct phase_clock *c)
{
	struct timespec wall, cpu;

	clock_gettime(CLOCK_MONOTONIC, &wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	return (struct phase_time) {
		.wall_ns = timespec_to_ns(timespec_sub(wall, c->wall)),
		.cpu_ns = timespec_to_ns(timespec_sub(cpu, c->cpu)),
	};
}
