// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel text-file helpers.  See sysutil.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "sysutil.h"

int sys_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

int sys_read_u64(const char *path, uint64_t *val)
{
	char buf[64], *end;
	int r = sys_read_str(path, buf, sizeof(buf));

	if (r)
		return r;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	return (errno || end == buf) ? -EINVAL : 0;
}

int sys_write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n, len = strlen(val);

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : (n == len ? 0 : -EIO);
}

int sys_write_u64(const char *path, uint64_t val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	return sys_write_str(path, buf);
}

/* Find "@name<sep>value" in a "key value" file. */
static int keyed_u64(const char *path, const char *name, const char *sep, uint64_t *val)
{
	char line[256];
	size_t len = strlen(name);
	FILE *f = fopen(path, "r");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, len) || !strchr(sep, line[len]))
			continue;
		*val = strtoull(line + len + 1, NULL, 10);
		r = 0;
		break;
	}
	fclose(f);
	return r;
}

int vmstat_read(const char *name, uint64_t *val)
{
	return keyed_u64("/proc/vmstat", name, " ", val);
}

int proc_status_kb(const char *field, uint64_t *kb)
{
	return keyed_u64("/proc/self/status", field, ":", kb);
}

int meminfo_kb(const char *field, uint64_t *kb)
{
	return keyed_u64("/proc/meminfo", field, ":", kb);
}

uint64_t zone_free_kb(const char *name)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256], zone[32];
	uint64_t pages, kb = 0;
	bool in = false;

	TEST_ASSERT(f, "/proc/zoneinfo: errno %d", errno);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %*d, zone %31s", zone) == 1)
			in = !strcmp(zone, name);
		else if (in && sscanf(line, " pages free %" SCNu64, &pages) == 1)
			kb += pages * (getpagesize() >> 10);
	}
	fclose(f);
	return kb;
}

void pagetype_free_kb(const char *zone, const char *type, unsigned int min_order,
		      uint64_t *above_kb, uint64_t *below_kb)
{
	FILE *f = fopen("/proc/pagetypeinfo", "r");
	char line[512], z[32], t[32];

	TEST_ASSERT(f, "/proc/pagetypeinfo: errno %d", errno);
	*above_kb = *below_kb = 0;
	/* "Node    0, zone   Normal, type      Movable   n0 n1 ... n10" */
	while (fgets(line, sizeof(line), f)) {
		unsigned long nr;
		unsigned int order = 0;
		char *p;
		int n;

		if (sscanf(line, "Node %*d, zone %31[^,], type %31s%n", z, t, &n) != 2)
			continue;
		if (strcmp(z + strspn(z, " "), zone) || strcmp(t, type))
			continue;
		for (p = line + n; sscanf(p, "%lu%n", &nr, &n) == 1; p += n, order++)
			*(order >= min_order ? above_kb : below_kb) +=
				(uint64_t)nr << order << (__builtin_ctz(getpagesize()) - 10);
	}
	fclose(f);
}

void pin_acct_read(struct pin_acct *p)
{
	int r;

	/*
	 * The pin counters are node vmstat items, batched per CPU: fold the
	 * per-CPU deltas first or they are off by up to a threshold per CPU.
	 */
	r = sys_write_str("/proc/sys/vm/stat_refresh", "1");
	TEST_ASSERT(!r, "writing /proc/sys/vm/stat_refresh: %s", strerror(-r));
	TEST_ASSERT(!vmstat_read("nr_foll_pin_acquired", &p->acquired) &&
		    !vmstat_read("nr_foll_pin_released", &p->released),
		    "/proc/vmstat has no nr_foll_pin_{acquired,released}");
	TEST_ASSERT(!proc_status_kb("VmLck", &p->locked_kb) &&
		    !proc_status_kb("VmPin", &p->pinned_kb),
		    "/proc/self/status has no VmLck/VmPin");
}

bool pin_acct_quiet(unsigned int ms)
{
	struct pin_acct a, b;

	pin_acct_read(&a);
	usleep(ms * 1000);
	pin_acct_read(&b);
	return a.acquired == b.acquired && a.released == b.released;
}

static void hugetlb_paths(size_t pagesz, char *nr, char *free_, size_t len)
{
	snprintf(nr, len, "/sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages", pagesz >> 10);
	snprintf(free_, len, "/sys/kernel/mm/hugepages/hugepages-%zukB/free_hugepages", pagesz >> 10);
}

int hugetlb_pool_ensure(size_t pagesz, unsigned long npages, unsigned long *saved)
{
	char nr_path[128], free_path[128];
	uint64_t nr, free_;
	int r;

	hugetlb_paths(pagesz, nr_path, free_path, sizeof(nr_path));
	r = sys_read_u64(nr_path, &nr);
	if (r)
		return r;
	*saved = nr;
	r = sys_read_u64(free_path, &free_);
	if (r)
		return r;
	if (free_ >= npages)
		return 0;
	r = sys_write_u64(nr_path, nr + npages - free_);
	if (r)
		return r;
	r = sys_read_u64(free_path, &free_);
	if (r)
		return r;
	return free_ >= npages ? 0 : -ENOMEM;
}

void hugetlb_pool_restore(size_t pagesz, unsigned long saved)
{
	char nr_path[128], free_path[128];
	uint64_t nr;

	hugetlb_paths(pagesz, nr_path, free_path, sizeof(nr_path));
	if (!sys_read_u64(nr_path, &nr) && nr != saved)
		sys_write_u64(nr_path, saved);
}

int pagemap_pfn(const void *addr, uint64_t *pfn)
{
	uint64_t ent;
	off_t off = (uintptr_t)addr / getpagesize() * sizeof(ent);
	int fd, r = 0;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -errno;
	if (pread(fd, &ent, sizeof(ent), off) != sizeof(ent))
		r = -EIO;
	else if (!(ent >> 63))			/* bit 63: present */
		r = -ENOENT;
	else
		*pfn = ent & ((1ULL << 55) - 1);	/* bits 0-54 */
	close(fd);
	return r;
}

const char *timing_unreliable(void)
{
	const char *env = getenv("SUITE_NO_PERF");

	if (env && *env && strcmp(env, "0"))
		return "SUITE_NO_PERF is set";
	if (!access("/proc/lockdep", F_OK))
		return "a debug kernel (lockdep): timings are not comparable";
	return NULL;
}

bool timing_asserted(void)
{
	const char *why = timing_unreliable();

	if (why)
		printf("# ratio not asserted: %s\n", why);
	return !why;
}
