// SPDX-License-Identifier: GPL-2.0
/*
 * Pre-zeroing controls and counters.  See prezero.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "prezero.h"
#include "sysutil.h"

const char *prezero_unavailable(void)
{
	if (access(PREZERO_DIR "/enabled", F_OK))
		return "no " PREZERO_DIR " (a kernel without CONFIG_PAGE_PREZERO)";
	if (access(PREZERO_DIR "/enabled", W_OK))
		return "cannot write " PREZERO_DIR "/enabled (not root)";
	return NULL;
}

int prezero_set_enabled(bool on)
{
	return sys_write_str(PREZERO_DIR "/enabled", on ? "1" : "0");
}

bool prezero_enabled(void)
{
	uint64_t v = 0;

	sys_read_u64(PREZERO_DIR "/enabled", &v);
	return v;
}

void prezero_counters(struct prezero_counters *c)
{
	TEST_ASSERT(!vmstat_read("prezero_zeroed", &c->zeroed) &&
		    !vmstat_read("prezero_alloc_skipped", &c->skipped) &&
		    !vmstat_read("prezero_alloc_cleared", &c->cleared),
		    "/proc/vmstat has no prezero_* counters");
	if (vmstat_read("thp_fault_alloc", &c->thp_faults))
		c->thp_faults = 0;
	if (vmstat_read("prezero_given_back", &c->given_back))
		c->given_back = 0;
	if (vmstat_read("prezero_drains", &c->drains))
		c->drains = 0;
	c->allocated = 0;
	for (int i = 0; i < 4; i++) {
		static const char * const zones[] = { "dma", "dma32", "normal", "movable" };
		char name[32];
		uint64_t v;

		snprintf(name, sizeof(name), "pgalloc_%s", zones[i]);
		if (!vmstat_read(name, &v))
			c->allocated += v;
	}
}

double prezero_wait_caught_up(int stall_s)
{
	struct timespec start, now, moved;
	uint64_t pending = 0, low = UINT64_MAX, zeroed = 0, zeroed0 = 0;
	int next_note = 10;
	double waited;

	clock_gettime(CLOCK_MONOTONIC, &start);
	moved = start;
	vmstat_read("prezero_zeroed", &zeroed0);
	for (;;) {
		TEST_ASSERT(!sys_read_u64(PREZERO_DIR "/pending_kb", &pending),
			    "reading %s/pending_kb", PREZERO_DIR);
		vmstat_read("prezero_zeroed", &zeroed);
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = timespec_to_ns(timespec_sub(now, start)) / 1e9;
		/*
		 * pending_kb is summed over the free lists without the zone
		 * locks: a block merging into the next order while it is read
		 * can be missed.  Zero twice in a row, 1 ms apart, it is.
		 */
		if (!pending) {
			usleep(1000);
			TEST_ASSERT(!sys_read_u64(PREZERO_DIR "/pending_kb", &pending),
				    "reading %s/pending_kb", PREZERO_DIR);
			if (!pending)
				return waited;
			continue;
		}
		/* Progress: less left than ever before, or more pages cleared. */
		if (pending < low || zeroed != zeroed0) {
			low = pending < low ? pending : low;
			zeroed0 = zeroed;
			moved = now;
		} else if (timespec_to_ns(timespec_sub(now, moved)) / 1e9 > stall_s) {
			printf("# kprezerod made no progress for %ds: %lu MiB left after %.0fs\n",
			       stall_s, pending >> 10, waited);
			return -1;
		}
		if (waited >= next_note) {
			printf("# waiting for kprezerod: %lu MiB left after %.0fs\n",
			       pending >> 10, waited);
			fflush(stdout);
			next_note += 10;
		}
		usleep(50 * 1000);
	}
}

double prezero_worker_cpu(void)
{
	unsigned long utime = 0, stime = 0;
	char path[64], buf[1024], *p;
	uint64_t pid = 0;

	if (sys_read_u64(PREZERO_DIR "/worker_pid", &pid) || !pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%lu/stat", pid);
	if (sys_read_str(path, buf, sizeof(buf)))
		return 0;
	/* Fields after "(comm)": state is 3, utime 14 and stime 15. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &utime, &stime) != 2)
		return 0;
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

int prezero_hang_timeout(int extra_s)
{
	uint64_t kb = 0;

	meminfo_kb("MemTotal", &kb);
	return PREZERO_STALL_S + extra_s + (int)(kb >> 10);
}
