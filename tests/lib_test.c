// SPDX-License-Identifier: GPL-2.0
/*
 * lib_test: unit tests of selftests/lib that need no device, no KVM and no
 * root: BDF parsing, IOMMU mode names, the sysfs-style file helpers, host
 * memory allocation checks, phase timing and the median of repeated timings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vfio_dev.h"
#include "hostmem.h"
#include "phase.h"
#include "sysutil.h"

TEST(bdf_valid)
{
	EXPECT_TRUE(vfio_bdf_valid("0000:00:03.0"));
	EXPECT_TRUE(vfio_bdf_valid("0001:af:1f.7"));
	EXPECT_FALSE(vfio_bdf_valid("00:03.0"));	/* no segment */
	EXPECT_FALSE(vfio_bdf_valid("0000:00:20.0"));	/* device > 31 */
	EXPECT_FALSE(vfio_bdf_valid("0000:00:03.8"));	/* function > 7 */
	EXPECT_FALSE(vfio_bdf_valid("0000:00:03.0x"));
	EXPECT_FALSE(vfio_bdf_valid("-s"));
}

TEST(bdfs_from_argv_win_over_env)
{
	char *argv[] = { "prog", "-v", "x", "0000:00:03.0", "0000:01:00.0", NULL };
	int argc = 5, n;
	char **bdfs;

	setenv("VFIO_SELFTESTS_BDF", "0000:09:00.0", 1);
	n = vfio_selftests_get_bdfs(&argc, argv, &bdfs);
	ASSERT_EQ(2, n);
	EXPECT_STREQ("0000:00:03.0", bdfs[0]);
	EXPECT_STREQ("0000:01:00.0", bdfs[1]);
	EXPECT_EQ(NULL, bdfs[2]);
	EXPECT_EQ(3, argc);
	EXPECT_EQ(NULL, argv[3]);
}

TEST(bdfs_from_env)
{
	char *argv[] = { "prog", "-s", "2M", NULL };
	int argc = 3, n;
	char **bdfs;

	setenv("VFIO_SELFTESTS_BDF", "0000:00:03.0 0000:01:00.0  0000:02:00.0", 1);
	n = vfio_selftests_get_bdfs(&argc, argv, &bdfs);
	ASSERT_EQ(3, n);
	EXPECT_STREQ("0000:02:00.0", bdfs[2]);
	EXPECT_EQ(3, argc);

	unsetenv("VFIO_SELFTESTS_BDF");
	n = vfio_selftests_get_bdfs(&argc, argv, &bdfs);
	EXPECT_EQ(0, n);
	EXPECT_EQ(NULL, bdfs[0]);
}

TEST(iommu_mode_names)
{
	for (int m = 0; m < VFIO_NR_MODES; m++)
		EXPECT_EQ(m, vfio_iommu_mode_parse(vfio_iommu_mode_name(m)));
	EXPECT_EQ(-1, vfio_iommu_mode_parse("type2"));
}

TEST(sys_files)
{
	char path[] = "/tmp/lib_test.XXXXXX", buf[64];
	uint64_t v = 0;
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "4096\n", 5));
	close(fd);
	EXPECT_EQ(0, sys_read_str(path, buf, sizeof(buf)));
	EXPECT_STREQ("4096", buf);
	EXPECT_EQ(0, sys_read_u64(path, &v));
	EXPECT_EQ(4096, v);
	EXPECT_EQ(0, sys_write_u64(path, 17));
	EXPECT_EQ(0, sys_read_u64(path, &v));
	EXPECT_EQ(17, v);
	EXPECT_EQ(0, sys_write_str(path, "abc"));
	EXPECT_EQ(-EINVAL, sys_read_u64(path, &v));
	unlink(path);
	EXPECT_EQ(-ENOENT, sys_read_u64(path, &v));
	EXPECT_EQ(-ENOENT, sys_write_str("/nonexistent/knob", "1"));
	EXPECT_EQ(-ENOENT, vmstat_read("no_such_counter", &v));
	EXPECT_EQ(0, vmstat_read("nr_free_pages", &v));
	EXPECT_EQ(0, meminfo_kb("MemTotal", &v));
	EXPECT_LT(0, v);
}

TEST(hostmem_sizes)
{
	struct hostmem m;

	EXPECT_EQ(-EINVAL, __hostmem_alloc(&m, VM_MEM_SRC_ANONYMOUS, 0));
	EXPECT_EQ(-EINVAL, __hostmem_alloc(&m, VM_MEM_SRC_ANONYMOUS, 1000));
	EXPECT_EQ(-EINVAL, __hostmem_alloc(&m, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, 4096));

	ASSERT_EQ(0, __hostmem_alloc(&m, VM_MEM_SRC_ANONYMOUS_THP, 4UL << 20));
	EXPECT_EQ(0, (uintptr_t)m.addr % (2UL << 20));
	hostmem_populate(&m);
	EXPECT_EQ(0, ((char *)m.addr)[(4UL << 20) - 1]);
	hostmem_free(&m);

	ASSERT_EQ(0, __hostmem_alloc(&m, VM_MEM_SRC_SHMEM, 8192));
	EXPECT_LE(0, m.fd);
	hostmem_populate(&m);
	hostmem_free(&m);
	EXPECT_EQ(-1, m.fd);
}

TEST(phase_clock)
{
	struct phase_clock c;
	struct phase_time t;
	volatile uint64_t x = 0;

	phase_start(&c);
	usleep(20000);
	for (int i = 0; i < 10000000; i++)
		x += i;
	t = phase_stop(&c);
	EXPECT_LE(20000000, t.wall_ns);
	EXPECT_LT(0, t.cpu_ns);
	EXPECT_GE(t.wall_ns + 5000000, t.cpu_ns);	/* one thread: cpu <= wall */
	EXPECT_EQ(1024, (int)mib_per_s(1UL << 30, 1000000000));
}

/* The conventions the callers rely on: upper middle for an even count, -1 for none. */
TEST(median_of_timings)
{
	int64_t odd[] = { 30, 10, 50, 20, 40 }, even[] = { 4, 1, 3, 2 }, one[] = { 7 };
	int64_t dup[] = { 5, 9, 5 }, none[1] = { 123 };

	EXPECT_EQ(30, ns_median(odd, 5));
	EXPECT_EQ(10, odd[0]);				/* sorted in place: min first */
	EXPECT_EQ(50, odd[4]);				/* max last */
	for (int i = 1; i < 5; i++)
		EXPECT_LE(odd[i - 1], odd[i]);
	EXPECT_EQ(3, ns_median(even, 4));		/* v[n / 2], the upper middle */
	EXPECT_EQ(1, even[0]);
	EXPECT_EQ(4, even[3]);
	EXPECT_EQ(7, ns_median(one, 1));
	EXPECT_EQ(5, ns_median(dup, 3));
	EXPECT_EQ(9, dup[2]);
	EXPECT_EQ(-1, ns_median(none, 0));
	EXPECT_EQ(123, none[0]);			/* untouched */
}

TEST_HARNESS_MAIN
