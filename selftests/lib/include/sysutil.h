/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading and writing the kernel's small text files: knobs in sysfs, module
 * parameters, /proc/vmstat counters, /proc/self/status fields, the hugetlb
 * pool.  All return 0 or -errno unless they say otherwise.
 */
#ifndef SELFTESTS_SYSUTIL_H
#define SELFTESTS_SYSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int sys_read_str(const char *path, char *buf, size_t len);	/* trailing newline removed */
int sys_read_u64(const char *path, uint64_t *val);
int sys_write_str(const char *path, const char *val);		/* -EINVAL etc. from the write */
int sys_write_u64(const char *path, uint64_t val);

/* A /proc/vmstat counter; -ENOENT if this kernel does not have it. */
int vmstat_read(const char *name, uint64_t *val);
/* A "Field:   N kB" line of /proc/self/status, in kB; -ENOENT if absent. */
int proc_status_kb(const char *field, uint64_t *kb);
/* A /proc/meminfo field in kB; -ENOENT if absent. */
int meminfo_kb(const char *field, uint64_t *kb);
/* Free memory of the zones named @zone ("Normal"), summed over nodes, in kB. */
uint64_t zone_free_kb(const char *zone);
/*
 * Free memory on the free lists of @zone, migratetype @type ("Movable"),
 * summed over nodes, in kB, from one read of /proc/pagetypeinfo (root
 * only): in blocks of order @min_order and above in *@above_kb, below it in
 * *@below_kb.  Per-cpu lists are not counted.
 */
void pagetype_free_kb(const char *zone, const char *type, unsigned int min_order,
		      uint64_t *above_kb, uint64_t *below_kb);

/*
 * Long-term pin accounting of this process and the system.  Reading folds
 * the per-CPU vmstat deltas (vm.stat_refresh, root only), so the counters
 * are exact at that moment.
 */
struct pin_acct {
	uint64_t acquired;	/* /proc/vmstat nr_foll_pin_acquired (pages) */
	uint64_t released;	/* /proc/vmstat nr_foll_pin_released (pages) */
	uint64_t locked_kb;	/* VmLck: mm->locked_vm, charged by VFIO type1 */
	uint64_t pinned_kb;	/* VmPin: mm->pinned_vm, charged by iommufd */
};
void pin_acct_read(struct pin_acct *p);
/* Pages pinned and not released between @a and @b, system wide. */
static inline int64_t pin_acct_net(const struct pin_acct *a, const struct pin_acct *b)
{
	return (int64_t)(b->acquired - a->acquired) - (int64_t)(b->released - a->released);
}

/*
 * Whether the system-wide pin counters stay still while this process does
 * nothing for @ms milliseconds.  If they move, some other FOLL_PIN user
 * (io_uring, O_DIRECT, netfs writes...) is active and pin_acct_net() cannot
 * be attributed to the caller.
 */
bool pin_acct_quiet(unsigned int ms);

/*
 * Make sure @npages free huge pages of size @pagesz exist, growing the pool
 * if needed (root only).  The previous pool size is saved in *saved for
 * hugetlb_pool_restore().  -ENOMEM if the kernel could not grow it.
 */
int hugetlb_pool_ensure(size_t pagesz, unsigned long npages, unsigned long *saved);
void hugetlb_pool_restore(size_t pagesz, unsigned long saved);

/*
 * The page frame number behind @addr in this process, from /proc/self/pagemap
 * (root: others read 0).  -ENOENT if nothing is mapped there.
 */
int pagemap_pfn(const void *addr, uint64_t *pfn);

/*
 * NULL if timings on this kernel can be compared, else why not: a debug
 * kernel (lockdep, KASAN: /proc/lockdep exists, or SUITE_NO_PERF=1 is set)
 * runs the correctness checks only.  Perf tests still measure and report,
 * and still assert every count; they do not assert ratios of times.
 */
const char *timing_unreliable(void);
/* !timing_unreliable(), else says on a "#" line why a ratio is not asserted. */
bool timing_asserted(void);

#endif /* SELFTESTS_SYSUTIL_H */
