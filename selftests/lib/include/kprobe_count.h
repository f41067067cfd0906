/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Count how often a kernel function runs, with a kprobe event and its hit
 * counter in tracefs' kprobe_profile (CONFIG_KPROBE_EVENTS).  Used to count
 * what the kernel does on a test's behalf, e.g. device resets (pcie_flr).
 * The count is system wide; the event name carries the pid, so concurrent
 * tests do not collide.  Root only.
 *
 * Each kprobe added or removed patches kernel text.  Under QEMU TCG with
 * several vCPUs, patching text that another vCPU runs has crashed guests
 * (an int3 Oops in __schedule, base kernel too), so a run that creates many
 * VMs sets KPROBE_COUNT_KEEP=1: one shared event per symbol, created once
 * and left in place, counted from where it stood at kprobe_count_start().
 */
#ifndef SELFTESTS_KPROBE_COUNT_H
#define SELFTESTS_KPROBE_COUNT_H

#include <stdbool.h>
#include <stdint.h>

struct kprobe_count {
	char event[64];		/* "vmct_<symbol>_<pid>", or kept: "vmct_<symbol>" */
	bool armed;
	bool created;		/* by this count: deleted by kprobe_count_stop() */
	bool keep;		/* KPROBE_COUNT_KEEP=1 */
	uint64_t base;		/* hits when started */
};

/*
 * Create and enable a kprobe event on @symbol.  0, or -errno: -ENOENT when
 * tracefs or kprobe_events is missing, what the kernel answered otherwise
 * (e.g. -EINVAL for a symbol that cannot be probed).
 */
int kprobe_count_start(struct kprobe_count *k, const char *symbol);
/* Hits since kprobe_count_start(), in *hits.  0 or -errno. */
int kprobe_count_read(struct kprobe_count *k, uint64_t *hits);
/* Disable and delete the event.  Safe on a count that never started. */
void kprobe_count_stop(struct kprobe_count *k);

#endif /* SELFTESTS_KPROBE_COUNT_H */
