// SPDX-License-Identifier: GPL-2.0
/*
 * prezero_resume_test: no block marked zeroed survives a hibernation restore
 * (patches/ "mm/page_alloc: pre-zero free pages in the background").
 *
 * Hibernation saves the memmap, with its PG_zeroed marks, but not the free
 * pages themselves; whatever restores the image uses free frames of the
 * image for its own data.  So after a restore the kernel must forget every
 * mark, or it hands out that data as zeroed memory.
 *
 * This test HIBERNATES THE MACHINE: with pre-zeroing on, a hugetlb pool and
 * kprezerod caught up, it writes "test_resume" to /sys/power/disk and
 * "disk" to /sys/power/state, which writes an image to the resume (swap)
 * device and restores it at once in the same kernel.  Before anything:
 *   off_by_default            without prezero= on the kernel command line,
 *                             pre-zeroing is off and has cleared nothing
 *                             (meaningful in a fresh boot, as the runner's)
 * Then, after the restore:
 *   marks_dropped_on_restore  every page marked zeroed (zeroed_kb) was
 *                             cleared after the restore: zeroed_kb / 4 <=
 *                             prezero_zeroed now - prezero_zeroed before
 *   zero_4k, zero_thp, zero_hugetlb
 *                             memory allocated after the restore is zero,
 *                             every byte (-m MiB of each, default 1024;
 *                             hugetlb: the pool of -p MiB)
 * It runs only with PREZERO_RESUME_TEST=1 and a resume device set (exit 4
 * otherwise).  scripts/resume-test.sh boots the kernel for it from an
 * initramfs with a swap disk: the runner's usual root, virtio-9p, does not
 * survive a restore (its driver has no freeze/restore callbacks).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "hostmem.h"
#include "prezero.h"
#include "sysutil.h"

#define SZ_2M	(2UL << 20)

static unsigned long check_mib = 1024, pool_mib = 512;

static void usage(const char *argv0)
{
	printf("Usage: %s [-m MiB] [-p MiB] [-h]\n"
	       "Hibernates the machine (test_resume) with pre-zeroing on and checks\n"
	       "that no zeroed mark survives the restore.  Needs PREZERO_RESUME_TEST=1,\n"
	       "CONFIG_HIBERNATION and an active swap device set in /sys/power/resume.\n"
	       "  -m MiB  memory checked after the restore, per kind (4K, THP)  [1024]\n"
	       "  -p MiB  hugetlb pool (2 MiB pages), checked after the restore  [512]\n",
	       argv0);
}

/* Why this machine cannot run the test, or NULL. */
static const char *unavailable(void)
{
	static char why[192];
	char buf[64];
	const char *p;

	if (!getenv("PREZERO_RESUME_TEST") || strcmp(getenv("PREZERO_RESUME_TEST"), "1"))
		return "hibernates the machine: set PREZERO_RESUME_TEST=1 (scripts/resume-test.sh does)";
	p = prezero_unavailable();
	if (p)
		return p;
	if (sys_read_str("/sys/power/disk", buf, sizeof(buf)) || !strstr(buf, "test_resume"))
		return "no test_resume in /sys/power/disk (CONFIG_HIBERNATION)";
	if (sys_read_str("/sys/power/resume", buf, sizeof(buf)) || !strcmp(buf, "0:0")) {
		snprintf(why, sizeof(why), "no resume device in /sys/power/resume (%s)", buf);
		return why;
	}
	return NULL;
}

/* Allocates and faults in @len bytes of @type: are they all zero? */
static bool all_zero(enum vm_mem_backing_src_type type, size_t len)
{
	struct hostmem m;
	long bad;

	hostmem_alloc(&m, type, len);
	hostmem_populate(&m);
	bad = hostmem_first_not(&m, 0);
	if (bad >= 0)
		ksft_print_msg("%s: byte %ld of %zu MiB is not zero: %#lx\n",
			       vm_mem_backing_src_alias(type)->name, bad, len >> 20,
			       *(uint64_t *)(m.addr + bad));
	hostmem_free(&m);
	return bad < 0;
}

int main(int argc, char **argv)
{
	struct prezero_counters before, after;
	uint64_t zeroed_kb_before = 0, zeroed_kb = 0;
	unsigned long pool_saved = 0;
	char cmdline[4096];
	const char *why;
	double waited;
	int c, err;

	while ((c = getopt(argc, argv, "m:p:h")) != -1) {
		switch (c) {
		case 'm':
			check_mib = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			pool_mib = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return KSFT_FAIL;
		}
	}
	if (!check_mib || pool_mib < 2) {
		usage(argv[0]);
		return KSFT_FAIL;
	}

	ksft_print_header();
	why = unavailable();
	if (why)
		ksft_exit_skip("%s\n", why);
	ksft_set_plan(5);

	prezero_counters(&before);
	if (sys_read_str("/proc/cmdline", cmdline, sizeof(cmdline)) || strstr(cmdline, "prezero=")) {
		ksft_test_result_skip("off_by_default: prezero= on the command line\n");
	} else {
		ksft_print_msg("at start: enabled %d, prezero_zeroed %lu\n", prezero_enabled(),
			       (unsigned long)before.zeroed);
		ksft_test_result(!prezero_enabled() && !before.zeroed, "off_by_default\n");
	}

	err = hugetlb_pool_ensure(SZ_2M, pool_mib / 2, &pool_saved);
	if (err)
		ksft_exit_fail_msg("a hugetlb pool of %lu MiB: %s\n", pool_mib, strerror(-err));
	err = prezero_set_enabled(true);
	if (err)
		ksft_exit_fail_msg("enabling pre-zeroing: %s\n", strerror(-err));
	waited = prezero_wait_caught_up(PREZERO_STALL_S);
	if (waited < 0)
		ksft_exit_fail_msg("kprezerod made no progress for %ds\n", PREZERO_STALL_S);
	sys_read_u64(PREZERO_DIR "/zeroed_kb", &zeroed_kb_before);
	ksft_print_msg("kprezerod caught up after %.1fs: zeroed_kb %lu\n", waited,
		       (unsigned long)zeroed_kb_before);
	/* No marks before the image is taken: the test would prove nothing. */
	if (!zeroed_kb_before)
		ksft_exit_fail_msg("no free memory is marked zeroed before hibernating\n");
	prezero_counters(&before);

	ksft_print_msg("hibernating: test_resume (image written to the resume device, then restored)\n");
	fflush(stdout);
	err = sys_write_str("/sys/power/disk", "test_resume");
	if (err)
		ksft_exit_fail_msg("test_resume > /sys/power/disk: %s\n", strerror(-err));
	sync();
	err = sys_write_str("/sys/power/state", "disk");
	if (err)
		ksft_exit_fail_msg("disk > /sys/power/state: %s\n", strerror(-err));

	/* zeroed_kb first: a mark is counted in prezero_zeroed before it is set. */
	sys_read_u64(PREZERO_DIR "/zeroed_kb", &zeroed_kb);
	prezero_counters(&after);
	ksft_print_msg("restored: zeroed_kb %lu (was %lu), pages cleared since: %lu\n",
		       (unsigned long)zeroed_kb, (unsigned long)zeroed_kb_before,
		       (unsigned long)(after.zeroed - before.zeroed));
	ksft_test_result(zeroed_kb / 4 <= after.zeroed - before.zeroed,
			 "marks_dropped_on_restore\n");

	/* Each kind of memory whose allocation skips clearing a marked block. */
	ksft_test_result(all_zero(VM_MEM_SRC_ANONYMOUS, check_mib << 20), "zero_4k\n");
	ksft_test_result(all_zero(VM_MEM_SRC_ANONYMOUS_THP, check_mib << 20), "zero_thp\n");
	ksft_test_result(all_zero(VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, pool_mib << 20),
			 "zero_hugetlb\n");

	hugetlb_pool_restore(SZ_2M, pool_saved);
	ksft_finished();
}
