// SPDX-License-Identifier: GPL-2.0
/*
 * prezero_hotremove_test: kprezerod survives the hot-remove of the memory
 * under the hugetlb folio it is clearing (patches/ "mm: use pre-zeroed
 * pages for THP and hugetlb faults", hugetlb_prezero_one()).
 *
 * kprezerod clears a free hugetlb folio in chunks and drops hugetlb_lock
 * between them, holding no reference on the folio.  If the folio's memory
 * block is offlined (the free folio is dissolved) and removed (its memmap
 * is freed) in such a gap, kprezerod must not touch the folio's struct page
 * again: on a kernel that does, the next chunk faults on the unmapped
 * memmap (an Oops under hugetlb_lock).
 *
 * The gap is made as long as the test needs, without a timing window:
 * kprezerod is SCHED_IDLE, so it is pinned to CPU 1 beside a busy loop at
 * nice -20, which leaves it a few milliseconds of CPU every minute or so.
 * Steps:
 *   1. a hugetlb pool (2 MiB) that fills the DIMM (ZONE_MOVABLE is taken
 *      first for it), all of it mapped by the test, pre-zeroing on and
 *      kprezerod caught up;
 *   2. kprezerod parked on CPU 1; the test unmaps the pool folios that lie
 *      on the DIMM (found through /proc/self/pagemap), so that only those
 *      are free and not cleared;
 *   3. wait until kprezerod has started on one and stopped in the middle
 *      (/proc/<pid>/stack shows hugetlb_prezero_one, its run time stands);
 *   4. from CPU 0: offline every memory block of the DIMM, then eject the
 *      DIMM (ACPI), and wait until its memory blocks are gone;
 *   5. let kprezerod run again and wait until it sleeps.
 * Before that, page isolation against a worker that holds a free block:
 * kprezerod takes a free block off the free lists while it clears it, and
 * a memory offline (or alloc_contig_range(), CMA) that isolates the range
 * cannot take a page that is neither free nor allocated: offline_pages()
 * retries, and each failed test_pages_isolated() is a retry.  Twice, with
 * pre-zeroing off and on: fill the DIMM with written anonymous memory, free
 * what is not on the DIMM (and, when on, let kprezerod clear it), free the
 * DIMM's part, and as soon as kprezerod has started on it (when on) put the
 * busy loop beside it, so that it stops where it is; once its run time
 * stands, offline the DIMM's blocks from CPU 0 and count the failed
 * isolation tests (trace event page_isolation:test_pages_isolated,
 * ret=fail), then online them again.  A kernel whose worker is preempted
 * holding the block leaves the offline spinning until the worker runs
 * again: past ISOLATE_FAIL_LIMIT failures the busy loop is stopped so that
 * it can.
 * Results:
 *   isolate_while_clearing  the offline with kprezerod busy failed no more
 *                           isolation tests than with pre-zeroing off
 *   offline_while_clearing  every block of the DIMM went offline
 *   remove_while_clearing   the DIMM was removed (its blocks are gone)
 *   worker_survives         no Oops (taint D) and kprezerod went back to
 *                           sleep, alive
 *   pool_zero_after         the hugetlb pool that is left is handed out
 *                           zero, every byte
 *
 * Needs root, 2 CPUs, CONFIG_PAGE_PREZERO, an ejectable DIMM online in
 * ZONE_MOVABLE (scripts/vmtest.sh VMTEST_DIMMS=1:512M with
 * memhp_default_state=online_movable; scripts/check.sh does that), and
 * HOTREMOVE_TEST=1: it removes memory from the machine.  Exit 4 otherwise.
 * If the kernel Oopses, hugetlb_lock stays held and the test hangs when it
 * exits (its hugetlb mapping cannot be freed): the verdicts are printed
 * before that, and the runner's stall guard ends the machine.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "hostmem.h"
#include "prezero.h"
#include "sysutil.h"

#define SZ_2M		(2UL << 20)
#define ACPI_DEVS	"/sys/bus/acpi/devices"
#define MEM_DIR		"/sys/devices/system/memory"
#define WQ_CPUMASK	"/sys/devices/virtual/workqueue/cpumask"
#define TRACE_DIR	"/sys/kernel/tracing"
#define ISOLATE_EVENT	TRACE_DIR "/events/page_isolation/test_pages_isolated/enable"
/* Failed isolation tests after which the offline is waiting for kprezerod. */
#define ISOLATE_FAIL_LIMIT	200
#define TAINT_DIE	(1UL << 7)	/* 'D': the kernel Oopsed */
#define MAX_BLOCKS	64
/* Give up on a wait when nothing moved for this long (not a time limit). */
#define STALL_S		PREZERO_STALL_S

struct dimm {
	char name[64];			/* ACPI device, PNP0C80:NN */
	unsigned long block[MAX_BLOCKS];	/* its memory block ids */
	int nblocks;
};

static unsigned long block_bytes;
static pid_t hog = -1;
static int worker = -1;
static char wq_mask_saved[64];

static void usage(const char *argv0)
{
	printf("Usage: %s [-d PNP0C80:NN] [-h]\n"
	       "Offlines a DIMM while kprezerod clears a free block on it (counting failed\n"
	       "isolation tests, against pre-zeroing off), then removes it while kprezerod\n"
	       "clears a hugetlb folio on it; checks that the kernel survives.\n"
	       "Needs HOTREMOVE_TEST=1 (it removes memory), root, 2 CPUs, pre-zeroing, and\n"
	       "a DIMM online in ZONE_MOVABLE.\n"
	       "  -d DEV  the ACPI memory device to remove   [the first one found]\n",
	       argv0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long taint(void)
{
	uint64_t t = 0;

	sys_read_u64("/proc/sys/kernel/tainted", &t);
	return t;
}

/* Collect the memory blocks of ACPI memory device @name. */
static int dimm_read(const char *name, struct dimm *d)
{
	char path[PATH_MAX], link[PATH_MAX];
	int i;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	for (i = 0; d->nblocks < MAX_BLOCKS; i++) {
		const char *b;
		ssize_t n;

		if (i)
			snprintf(path, sizeof(path), ACPI_DEVS "/%s/physical_node%d", name, i);
		else
			snprintf(path, sizeof(path), ACPI_DEVS "/%s/physical_node", name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			break;
		link[n] = 0;
		b = strrchr(link, '/');
		if (!b || strncmp(b, "/memory", 7))
			continue;
		d->block[d->nblocks++] = strtoul(b + 7, NULL, 10);
	}
	return d->nblocks;
}

/* The first ACPI memory device with memory blocks, or @want. */
static const char *dimm_find(const char *want, struct dimm *d)
{
	static char why[160];
	struct dirent *e;
	DIR *dir;

	dir = opendir(ACPI_DEVS);
	if (!dir)
		return "no " ACPI_DEVS;
	while ((e = readdir(dir))) {
		if (strncmp(e->d_name, "PNP0C80:", 8) || (want && strcmp(e->d_name, want)))
			continue;
		if (dimm_read(e->d_name, d))
			break;
	}
	closedir(dir);
	if (!d->nblocks) {
		snprintf(why, sizeof(why),
			 "no ACPI memory device %s with memory blocks (a pc-dimm: VMTEST_DIMMS, CONFIG_ACPI_HOTPLUG_MEMORY)",
			 want ? want : "(PNP0C80:*)");
		return why;
	}
	return NULL;
}

static int block_attr(unsigned long b, const char *attr, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), MEM_DIR "/memory%lu/%s", b, attr);
	return sys_read_str(path, buf, len);
}

static bool block_exists(unsigned long b)
{
	char path[128];

	snprintf(path, sizeof(path), MEM_DIR "/memory%lu", b);
	return !access(path, F_OK);
}

static bool pfn_on_dimm(const struct dimm *d, uint64_t pfn)
{
	unsigned long b = pfn * getpagesize() / block_bytes;
	int i;

	for (i = 0; i < d->nblocks; i++)
		if (d->block[i] == b)
			return true;
	return false;
}

static void pin_to(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!sched_setaffinity(pid, sizeof(set), &set),
		    "pinning pid %d to CPU %d: errno %d", pid, cpu, errno);
}

static void unpin(pid_t pid)
{
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &set);
	sched_setaffinity(pid, sizeof(set), &set);
}

/* kprezerod's run time in ns (/proc/<pid>/schedstat), or -1 if it is gone. */
static long long worker_runtime(void)
{
	char path[64], buf[128];

	snprintf(path, sizeof(path), "/proc/%d/schedstat", worker);
	if (sys_read_str(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* kprezerod's state letter (R, S...), or 0 if it is gone. */
static char worker_state(void)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", worker);
	if (sys_read_str(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : 0;
}

/* 1 if kprezerod's stack holds @fn, 0 if not, -1 if it cannot be read. */
static int worker_in(const char *fn)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/stack", worker);
	if (sys_read_str(path, buf, sizeof(buf)))
		return -1;
	return !!strstr(buf, fn);
}

static void hog_start(void)
{
	hog = fork();
	TEST_ASSERT(hog >= 0, "fork: errno %d", errno);
	if (!hog)
		for (;;)
			;
	pin_to(hog, 1);
	TEST_ASSERT(!setpriority(PRIO_PROCESS, hog, -20), "nice -20 for the busy loop: errno %d",
		    errno);
}

static void hog_stop(void)
{
	if (hog > 0) {
		kill(hog, SIGKILL);
		waitpid(hog, NULL, 0);
	}
	hog = -1;
}

static void cleanup(void)
{
	hog_stop();
	if (worker > 0)
		unpin(worker);
	if (wq_mask_saved[0])
		sys_write_str(WQ_CPUMASK, wq_mask_saved);
}

/*
 * Wait until kprezerod stops with work left: its run time stands still for
 * a second and, if @fn is given, its stack holds @fn (the middle of a
 * hugetlb folio: hugetlb_prezero_one).  (It is woken a moment after the
 * frees, by a delayed kick.)  False if it went back to sleep with nothing
 * left to clear: it cleared everything at once.
 */
static bool wait_parked(const char *fn)
{
	long long rt, last = worker_runtime();
	double still = now_s(), next_note = now_s() + 10;
	uint64_t pending = 1;
	int in;

	for (;;) {
		usleep(20000);
		rt = worker_runtime();
		in = fn ? worker_in(fn) : 0;
		if (worker_state() == 'S' && in <= 0 &&
		    !sys_read_u64(PREZERO_DIR "/pending_kb", &pending) && !pending)
			return false;
		if (rt != last) {
			last = rt;
			still = now_s();
		} else if ((!fn || in != 0) && now_s() - still >= 1) {
			ksft_print_msg("kprezerod parked after %.1f ms of CPU%s%s\n", rt / 1e6,
				       !fn ? "" : in > 0 ? ", in " : ", (no /proc/<pid>/stack to show where)",
				       in > 0 ? fn : "");
			return true;
		}
		if (now_s() > next_note) {
			ksft_print_msg("waiting for kprezerod to park: state %c, %.1f ms of CPU\n",
				       worker_state(), rt / 1e6);
			next_note += 10;
		}
	}
}

/*
 * Write @state ("offline", "online_movable") to every block of @d; false at
 * the first that will not take it.
 */
static bool dimm_set_state(const struct dimm *d, const char *state)
{
	char path[128];
	int i, r;

	for (i = 0; i < d->nblocks; i++) {
		snprintf(path, sizeof(path), MEM_DIR "/memory%lu/state", d->block[i]);
		r = sys_write_str(path, state);
		if (r) {
			ksft_print_msg("%s memory%lu: %s\n", state, d->block[i], strerror(-r));
			return false;
		}
	}
	return true;
}

/* Eject @d and wait until its blocks are gone; false if that stalls. */
static bool dimm_remove(const struct dimm *d)
{
	double t0 = now_s(), moved = t0;
	char path[128];
	int i, left, last = d->nblocks, r;

	snprintf(path, sizeof(path), ACPI_DEVS "/%s/eject", d->name);
	r = sys_write_str(path, "1");
	if (r) {
		ksft_print_msg("eject %s: %s\n", d->name, strerror(-r));
		return false;
	}
	for (;;) {
		for (i = 0, left = 0; i < d->nblocks; i++)
			left += block_exists(d->block[i]);
		if (!left) {
			ksft_print_msg("%s removed after %.1fs\n", d->name, now_s() - t0);
			return true;
		}
		if (left != last) {
			last = left;
			moved = now_s();
		} else if (now_s() - moved > STALL_S) {
			ksft_print_msg("eject %s: %d of %d blocks still there, none went for %ds\n",
				       d->name, left, d->nblocks, STALL_S);
			return false;
		}
		usleep(50000);
	}
}

/*
 * Let kprezerod finish: true once it sleeps again, alive, with no Oops.
 * It works at idle priority on a quiet machine, so progress is its run time.
 */
static bool worker_settles(unsigned long taint0)
{
	long long rt, last = -1;
	double moved = now_s();
	char st;

	for (;;) {
		if ((taint() & TAINT_DIE) && !(taint0 & TAINT_DIE)) {
			ksft_print_msg("the kernel Oopsed (taint D): see the console\n");
			return false;
		}
		st = worker_state();
		if (!st) {
			ksft_print_msg("kprezerod (pid %d) is gone\n", worker);
			return false;
		}
		rt = worker_runtime();
		if (st == 'S' && worker_in("hugetlb_prezero_one") <= 0) {
			ksft_print_msg("kprezerod asleep again after %.1f ms of CPU in all\n",
				       rt / 1e6);
			return true;
		}
		if (rt != last) {
			last = rt;
			moved = now_s();
		} else if (now_s() - moved > STALL_S) {
			ksft_print_msg("kprezerod in state %c, no run time for %ds\n", st, STALL_S);
			return false;
		}
		usleep(50000);
	}
}

/* Failed isolation tests in the trace buffer, or -errno. */
static long isolate_fails(void)
{
	char line[512];
	long n = 0;
	FILE *f;

	f = fopen(TRACE_DIR "/trace", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "test_pages_isolated:") && strstr(line, "ret=fail"))
			n++;
	fclose(f);
	return n;
}

/*
 * Offline the blocks of @d from a child on CPU 0, counting the failed
 * isolation tests on the way, and online them again.  Past
 * ISOLATE_FAIL_LIMIT the busy loop is stopped, so that a worker parked
 * with a block in hand can finish it and the offline with it.  Returns the
 * count, -1 if a block would not go offline or come back.
 */
static long offline_counted(const struct dimm *d)
{
	long fails = 0;
	int fd, st;
	pid_t pid;

	fd = open(TRACE_DIR "/trace", O_WRONLY | O_TRUNC);
	TEST_ASSERT(fd >= 0, "clearing %s/trace: errno %d", TRACE_DIR, errno);
	close(fd);
	TEST_ASSERT(!sys_write_str(ISOLATE_EVENT, "1"), "enabling %s", ISOLATE_EVENT);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork: errno %d", errno);
	if (!pid)
		_exit(dimm_set_state(d, "offline") ? 0 : 1);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		fails = isolate_fails();
		if (fails > ISOLATE_FAIL_LIMIT && hog > 0) {
			ksft_print_msg("offline: %ld failed isolation tests: stopping the busy loop\n",
				       fails);
			hog_stop();
		}
		usleep(100000);
	}
	fails = isolate_fails();
	sys_write_str(ISOLATE_EVENT, "0");
	if (!WIFEXITED(st) || WEXITSTATUS(st) || !dimm_set_state(d, "online_movable"))
		return -1;
	return fails;
}

/* Wait until kprezerod's run time has moved past @since; returns it. */
static long long worker_started(long long since)
{
	double next_note = now_s() + 10;
	long long rt;

	while ((rt = worker_runtime()) == since) {
		usleep(5000);
		if (now_s() > next_note) {
			ksft_print_msg("waiting for kprezerod to start: state %c\n", worker_state());
			next_note += 10;
		}
	}
	return rt;
}

/*
 * One round of the isolation check, pre-zeroing @on: see the top.
 * Returns the failed isolation tests of the offline, -1 if it failed.
 */
static long isolate_round(const struct dimm *d, bool on)
{
	size_t len = d->nblocks * block_bytes, n = len / SZ_2M, i, on_dimm = 0;
	uint64_t pending_kb = 0;
	long long rt0;
	double waited;
	bool *there;
	long fails;
	char *map;
	int err;

	err = prezero_set_enabled(on);
	if (err)
		ksft_exit_fail_msg("pre-zeroing %s: %s\n", on ? "on" : "off", strerror(-err));
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(map != MAP_FAILED, "mapping %zu MiB: errno %d", len >> 20, errno);
	TEST_ASSERT(!madvise(map, len, MADV_DONTFORK), "MADV_DONTFORK: errno %d", errno);
	there = calloc(n, sizeof(*there));
	TEST_ASSERT(there, "calloc");
	for (i = 0; i < n; i++) {
		uint64_t pfn;

		memset(map + i * SZ_2M, 0x5a, SZ_2M);
		there[i] = !pagemap_pfn(map + i * SZ_2M, &pfn) && pfn_on_dimm(d, pfn);
		on_dimm += there[i];
	}
	if (!on_dimm)
		ksft_exit_fail_msg("none of %zu MiB written landed on %s: ZONE_MOVABLE was not used\n",
				   len >> 20, d->name);
	for (i = 0; i < n; i++)
		TEST_ASSERT(there[i] || !munmap(map + i * SZ_2M, SZ_2M),
			    "munmap: errno %d", errno);
	if (on) {
		waited = prezero_wait_caught_up(STALL_S);
		if (waited < 0)
			ksft_exit_fail_msg("kprezerod made no progress for %ds\n", STALL_S);
	}
	rt0 = worker_runtime();
	for (i = 0; i < n; i++)
		TEST_ASSERT(!there[i] || !munmap(map + i * SZ_2M, SZ_2M),
			    "munmap: errno %d", errno);
	if (on)
		worker_started(rt0);
	hog_start();
	if (on && !wait_parked(NULL))
		ksft_exit_fail_msg("kprezerod cleared the %zu MiB on %s at once: nothing to test on this machine\n",
				   on_dimm * (SZ_2M >> 20), d->name);
	sys_read_u64(PREZERO_DIR "/pending_kb", &pending_kb);
	fails = offline_counted(d);
	hog_stop();
	ksft_print_msg("pre-zeroing %s: %zu MiB written and freed on %s, pending_kb %lu at the offline; %ld failed isolation tests\n",
		       on ? "on" : "off", on_dimm * (SZ_2M >> 20), d->name,
		       (unsigned long)pending_kb, fails);
	free(there);
	return fails;
}

/* The free pool, allocated and checked byte by byte. */
static bool pool_zero(void)
{
	uint64_t nfree = 0;
	struct hostmem m;
	long bad;

	sys_read_u64("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", &nfree);
	if (!nfree)
		return true;
	hostmem_alloc(&m, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, nfree * SZ_2M);
	hostmem_populate(&m);
	bad = hostmem_first_not(&m, 0);
	if (bad >= 0)
		ksft_print_msg("byte %ld of %lu free pool pages is not zero: %#lx\n", bad,
			       (unsigned long)nfree, *(uint64_t *)((char *)m.addr + bad));
	hostmem_free(&m);
	return bad < 0;
}

static const char *unavailable(const char *want, struct dimm *d)
{
	static char why[320];
	char buf[64];
	const char *p;
	int i;

	if (!getenv("HOTREMOVE_TEST") || strcmp(getenv("HOTREMOVE_TEST"), "1"))
		return "removes memory from the machine: set HOTREMOVE_TEST=1";
	p = prezero_unavailable();
	if (p)
		return p;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return "needs 2 CPUs (kprezerod is parked on CPU 1)";
	if (sys_read_str(MEM_DIR "/block_size_bytes", buf, sizeof(buf)))
		return "no " MEM_DIR " (CONFIG_MEMORY_HOTPLUG)";
	block_bytes = strtoul(buf, NULL, 16);
	p = dimm_find(want, d);
	if (p)
		return p;
	for (i = 0; i < d->nblocks; i++) {
		if (block_attr(d->block[i], "valid_zones", buf, sizeof(buf)) ||
		    strcmp(buf, "Movable")) {
			snprintf(why, sizeof(why),
				 "%s: memory%lu is not online in ZONE_MOVABLE (valid_zones '%s'): boot with memhp_default_state=online_movable",
				 d->name, d->block[i], buf);
			return why;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long pool_saved = 0, nfree, on_dimm = 0, i, taint0;
	uint64_t free_pages = 0, wpid = 0, pending_kb = 0;
	const char *want = NULL, *why;
	bool was_on, offlined, removed, *keep;
	double waited;
	struct dimm d;
	char *map;
	int c, err;

	while ((c = getopt(argc, argv, "d:h")) != -1) {
		switch (c) {
		case 'd':
			want = optarg;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return KSFT_FAIL;
		}
	}

	ksft_print_header();
	why = unavailable(want, &d);
	if (why)
		ksft_exit_skip("%s\n", why);
	ksft_set_plan(5);
	taint0 = taint();
	ksft_print_msg("%s: memory%lu..%lu, %lu MiB; tainted %lu at start\n", d.name,
		       d.block[0], d.block[d.nblocks - 1],
		       d.nblocks * block_bytes >> 20, taint0);

	was_on = prezero_enabled();
	if (sys_read_u64(PREZERO_DIR "/worker_pid", &wpid) || !wpid)
		ksft_exit_fail_msg("no kprezerod pid in %s/worker_pid\n", PREZERO_DIR);
	worker = wpid;
	atexit(cleanup);
	sys_read_str(WQ_CPUMASK, wq_mask_saved, sizeof(wq_mask_saved));
	/* The eject runs from an unbound workqueue: keep it on CPU 0. */
	err = sys_write_str(WQ_CPUMASK, "1");
	if (err)
		ksft_print_msg("%s: %s (the eject may run on CPU 1, slowly)\n", WQ_CPUMASK,
			       strerror(-err));
	pin_to(0, 0);
	pin_to(worker, 1);

	/* 0. Page isolation while kprezerod holds a block, against off. */
	if (access(ISOLATE_EVENT, W_OK)) {
		ksft_test_result_skip("isolate_while_clearing: no %s (CONFIG_MEMORY_ISOLATION, tracefs)\n",
				      ISOLATE_EVENT);
	} else {
		long off = isolate_round(&d, false), on = isolate_round(&d, true);

		ksft_test_result(off >= 0 && on >= 0 && on <= off, "isolate_while_clearing\n");
	}

	/* 1. A pool that fills the DIMM, all of it mapped; kprezerod idle. */
	err = prezero_set_enabled(true);
	if (err)
		ksft_exit_fail_msg("enabling pre-zeroing: %s\n", strerror(-err));
	err = hugetlb_pool_ensure(SZ_2M, d.nblocks * block_bytes / SZ_2M, &pool_saved);
	if (err && err != -ENOMEM)
		ksft_exit_fail_msg("growing the hugetlb pool: %s\n", strerror(-err));
	sys_read_u64("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", &free_pages);
	nfree = free_pages;
	if (!nfree)
		ksft_exit_fail_msg("no free 2 MiB huge pages\n");
	map = mmap(NULL, nfree * SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mapping %lu huge pages: %s\n", nfree, strerror(errno));
	/* The busy loop is forked later: it must not share the pages. */
	TEST_ASSERT(!madvise(map, nfree * SZ_2M, MADV_DONTFORK), "MADV_DONTFORK: errno %d", errno);
	keep = calloc(nfree, sizeof(*keep));
	TEST_ASSERT(keep, "calloc");
	for (i = 0; i < nfree; i++) {
		uint64_t pfn;

		memset(map + i * SZ_2M, 0x5a, getpagesize());
		if (pagemap_pfn(map + i * SZ_2M, &pfn))
			ksft_exit_fail_msg("no pfn for huge page %lu (not root?)\n", i);
		if (pfn_on_dimm(&d, pfn))
			on_dimm++;
		else
			keep[i] = true;
	}
	ksft_print_msg("pool: %lu huge pages, %lu of them on %s\n", nfree, on_dimm, d.name);
	if (!on_dimm)
		ksft_exit_fail_msg("no pool page on %s: ZONE_MOVABLE was not used\n", d.name);
	waited = prezero_wait_caught_up(STALL_S);
	if (waited < 0)
		ksft_exit_fail_msg("kprezerod made no progress for %ds\n", STALL_S);
	ksft_print_msg("kprezerod caught up after %.1fs\n", waited);

	/* 2. kprezerod parked on CPU 1; only the DIMM's pool pages freed. */
	hog_start();
	for (i = 0; i < nfree; i++)
		TEST_ASSERT(keep[i] || !munmap(map + i * SZ_2M, SZ_2M),
			    "munmap of huge page %lu: errno %d", i, errno);

	sys_read_u64(PREZERO_DIR "/pending_kb", &pending_kb);
	sys_read_u64("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", &free_pages);
	ksft_print_msg("freed the %lu pages on the DIMM: %lu free, pending_kb %lu; kprezerod %d state %c\n",
		       on_dimm, (unsigned long)free_pages, (unsigned long)pending_kb, worker,
		       worker_state());

	/* 3. kprezerod stopped in the middle of one of them. */
	if (!wait_parked("hugetlb_prezero_one")) {
		cleanup();
		ksft_exit_fail_msg("kprezerod cleared all %lu pages of the DIMM in one go: nothing to test on this machine\n",
				   on_dimm);
	}

	/* 4. Offline and remove the DIMM under it. */
	offlined = dimm_set_state(&d, "offline");
	ksft_test_result(offlined, "offline_while_clearing\n");
	removed = offlined && dimm_remove(&d);
	ksft_test_result(removed, "remove_while_clearing\n");

	/* 5. kprezerod runs again. */
	hog_stop();
	unpin(worker);
	if (!worker_settles(taint0)) {
		ksft_test_result_fail("worker_survives\n");
		ksft_test_result_skip("pool_zero_after: hugetlb_lock may be held by the dead worker\n");
		ksft_print_msg("exiting: this hangs if the Oops left hugetlb_lock held\n");
		ksft_finished();
	}
	ksft_test_result_pass("worker_survives\n");
	for (i = 0; i < nfree; i++)
		if (keep[i])
			munmap(map + i * SZ_2M, SZ_2M);
	ksft_test_result(pool_zero(), "pool_zero_after\n");

	cleanup();
	hugetlb_pool_restore(SZ_2M, pool_saved);
	if (!was_on)
		prezero_set_enabled(false);
	ksft_finished();
}
