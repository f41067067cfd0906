/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pre-zeroing controls of patches/ (CONFIG_PAGE_PREZERO):
 * /sys/kernel/mm/prezero/{enabled,min_order,rate_limit_mb,pending_kb,
 * zeroed_kb,worker_pid} and the prezero_* counters of /proc/vmstat.
 */
#ifndef SELFTESTS_PREZERO_H
#define SELFTESTS_PREZERO_H

#include <stdbool.h>
#include <stdint.h>

#define PREZERO_DIR "/sys/kernel/mm/prezero"

struct prezero_counters {
	uint64_t zeroed;	/* prezero_zeroed: pages kprezerod cleared */
	uint64_t skipped;	/* prezero_alloc_skipped */
	uint64_t cleared;	/* prezero_alloc_cleared */
	uint64_t thp_faults;	/* thp_fault_alloc */
	uint64_t allocated;	/* pgalloc_*: pages the page allocator handed out */
	uint64_t given_back;	/* prezero_given_back, 0 on kernels without it */
	uint64_t drains;	/* prezero_drains, 0 on kernels without it */
};

/* NULL if this kernel has the controls, else why not. */
const char *prezero_unavailable(void);
int prezero_set_enabled(bool on);	/* 0 or -errno */
bool prezero_enabled(void);
void prezero_counters(struct prezero_counters *c);
/*
 * Wait until kprezerod has cleared every free block it would clear
 * (pending_kb == 0).  Waits on progress, not on the clock: fails (returns -1)
 * only when for @stall_s seconds pending_kb reached no new low and
 * prezero_zeroed did not move; a slower host just waits longer.  Prints a
 * progress line every 10 s.  Returns the seconds waited.
 */
#define PREZERO_STALL_S	60
double prezero_wait_caught_up(int stall_s);
/*
 * A harness timeout for a test that waits for kprezerod: a hang detector
 * sized to the work (all of MemTotal cleared at 1 MiB/s, 250x slower than
 * measured under TCG) plus @extra_s, never the test's pass/fail criterion.
 */
int prezero_hang_timeout(int extra_s);
/* CPU time (user + system) kprezerod has used, in seconds. */
double prezero_worker_cpu(void);

#endif /* SELFTESTS_PREZERO_H */
