// SPDX-License-Identifier: GPL-2.0
/*
 * lib_test: unit tests of selftests/lib that need no device, no KVM and no
 * root: BDF parsing, IOMMU mode names, the sysfs-style file helpers, host
 * memory allocation checks, phase timing, the median of repeated timings
 * the CSV schema of vm_create_test (bench/report.sh reads it by name) and
 * the VMM model's RAM layout: the legacy PAM-merge churn and the 1 MiB split,
 * by counting, without a guest.
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
#include "vmm.h"
#include "vmm_layout.h"
#include <sys/utsname.h>

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

/* A result whose every field has its own value, to see each one land in its column. */
static void distinct_result(struct vmm_result *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < VMM_NR_PHASES; i++) {
		r->t[i].wall_ns = (i + 1) * 1000000000LL + 1000;
		r->t[i].cpu_ns = (i + 1) * 1000000LL;
	}
	r->dma.map_ioctls = 1;
	r->dma.map_bytes = 2UL << 20;
	r->dma.unmap_ioctls = 3;
	r->dma.unmap_bytes = 4UL << 20;
	r->ram_map_ioctls = 5;
	r->ram_map_bytes = 6UL << 20;
	r->high_map_bytes = 7UL << 20;
	r->map_eexist = 8;
	r->map_overlaps = 9;
	r->dups_skipped = 10;
	r->toggle_unmaps = 11;
	r->toggle_unmap_bytes = 12UL << 20;
	r->toggle_unmap_end = 13;
	r->vmm_resets = 14;
	r->kernel_resets = -1;
	r->memslot_updates = 16;
	r->bar_slots = 17;
	r->bar_slots_dirty = 18;
	r->bar_map_bytes = 19UL << 20;
	r->bar_map_failed = 20;
	r->faults = 21;
	r->numa_sampled = 22;
	r->numa_outside = 23;
	r->guest_started = true;
	r->edu = -1;
	r->nr_flr = 2;
}

/*
 * The columns and their order as bench/report.sh and the committed results
 * know them: a change here must be a change there too.
 */
TEST(vm_create_csv_schema)
{
	static const char * const columns[] = {
		"kernel", "label", "mem_mib", "backing", "numa", "prefault", "iommu", "devices",
		"flr_devices", "vcpus", "fixes", "toggles", "p2p",
		"ram_s", "ram_cpu_s", "kvm_s", "kvm_cpu_s", "iommu_s", "iommu_cpu_s",
		"devices_s", "devices_cpu_s", "dma_map_s", "dma_map_cpu_s", "bars_s", "bars_cpu_s",
		"firmware_s", "firmware_cpu_s", "boot_s", "boot_cpu_s", "total_s", "total_cpu_s",
		"map_ioctls", "map_mib", "unmap_ioctls", "unmap_mib", "ram_map_ioctls", "ram_map_mib",
		"high_map_mib", "map_eexist", "map_overlaps", "dups_skipped", "toggle_unmaps",
		"toggle_unmap_mib", "toggle_unmap_end", "vmm_resets", "kernel_resets",
		"memslot_updates", "bar_slots", "bar_slots_dirty", "bar_map_mib", "bar_map_failed",
		"faults", "numa_sampled", "numa_outside", "guest_started", "edu",
	};
	static const char row_tail[] =
		"1,2,3,4,5,6,7,8,9,10,11,12,13,14,-1,16,17,18,19,20,21,22,23,1,-1\n";
	struct vmm_config cfg = {
		.mem_size = 1UL << 30, .backing = VM_MEM_SRC_ANONYMOUS_THP,
		.numa_mode = MPOL_INTERLEAVE, .numa_nodes = "0,1", .prefault = true,
		.iommu_mode = VFIO_MODE_TYPE1V2, .nr_devices = 3, .nr_vcpus = 2,
		.fixes = 1u << VMM_FIX_DEDUP_MAP, .toggles = 4, .label = "opt",
	};
	struct vmm_result res;
	char *buf = NULL, want[512], header[1024];
	size_t len = 0;
	struct utsname u;
	FILE *f;

	header[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(columns); i++)
		snprintf(header + strlen(header), sizeof(header) - strlen(header), "%s%s",
			 i ? "," : "", columns[i]);
	strcat(header, "\n");
	f = open_memstream(&buf, &len);
	ASSERT_NE(NULL, f);
	vmm_csv_header(f);
	fclose(f);
	EXPECT_STREQ(header, buf);
	free(buf);

	distinct_result(&res);
	buf = NULL;
	f = open_memstream(&buf, &len);
	ASSERT_NE(NULL, f);
	vmm_csv_row(f, &cfg, &res);
	fclose(f);
	uname(&u);
	snprintf(want, sizeof(want), "%s,opt,1024,%s,interleave:0+1,1,%s,3,2,2,dedup-map,4,0,",
		 u.release, vm_mem_backing_src_alias(VM_MEM_SRC_ANONYMOUS_THP)->name,
		 vfio_iommu_mode_name(VFIO_MODE_TYPE1V2));
	EXPECT_EQ(0, strncmp(want, buf, strlen(want))) TH_LOG("row starts\n%s\nnot\n%s", buf, want);
	for (int i = 0; i < VMM_NR_PHASES; i++) {
		char col[64];

		snprintf(col, sizeof(col), "%d.000001,0.%03d000,", i + 1, i + 1);
		EXPECT_NE(NULL, strstr(buf, col)) TH_LOG("no phase %d columns \"%s\" in %s", i, col, buf);
	}
	EXPECT_STREQ(row_tail, buf + strlen(buf) - strlen(row_tail));
	free(buf);
}

/*
 * The VMM model's listener, replayed without a device: the views vmm_run()
 * goes through (building, then firmware toggles of the legacy area) and
 * what is unmapped and mapped, with a record of the mappings as the kernel
 * would have them.  A map over a mapped range is what type1 refuses with
 * EEXIST (QEMU then unmaps and maps again).
 */
struct layout_model {
	bool dedup, in_toggle;
	struct vmm_range view[VMM_MAX_SECTIONS], mapped[16];
	int nr_view, nr_mapped;
	int maps, unmaps, skipped, eexist, toggle_unmaps;
	uint64_t high_map_bytes, toggle_unmap_bytes, toggle_unmap_end;
};

static int model_find(struct layout_model *m, struct vmm_range r, bool exact)
{
	for (int i = 0; i < m->nr_mapped; i++)
		if (exact ? vmm_range_same(m->mapped[i], r) : vmm_range_overlap(m->mapped[i], r))
			return i;
	return -1;
}

static bool model_is_mapped(void *ctx, struct vmm_range r)
{
	return model_find(ctx, r, true) >= 0;
}

static void model_unmap(struct layout_model *m, struct vmm_range r)
{
	int i = model_find(m, r, true);

	if (i >= 0)
		m->mapped[i] = m->mapped[--m->nr_mapped];
	m->unmaps++;
	if (m->in_toggle) {
		m->toggle_unmaps++;
		m->toggle_unmap_bytes += r.size;
		if (r.start + r.size > m->toggle_unmap_end)
			m->toggle_unmap_end = r.start + r.size;
	}
}

static void model_set_view(struct layout_model *m, const struct vmm_range *next, int n)
{
	struct vmm_view_change ch;

	vmm_view_change(m->view, m->nr_view, next, n, m->dedup ? model_is_mapped : NULL, m, &ch);
	for (int i = 0; i < ch.nr_unmap; i++)
		model_unmap(m, m->view[ch.unmap[i]]);
	m->skipped += ch.nr_skipped;
	for (int i = 0; i < ch.nr_map; i++) {
		struct vmm_range r = next[ch.map[i]];

		if (model_find(m, r, false) >= 0) {
			m->eexist++;
			model_unmap(m, r);
		}
		m->maps++;
		m->mapped[m->nr_mapped++] = r;
		if (r.start + r.size > VMM_LOW_SPLIT)
			m->high_map_bytes += r.start + r.size -
					     (r.start > VMM_LOW_SPLIT ? r.start : VMM_LOW_SPLIT);
	}
	memcpy(m->view, next, n * sizeof(*next));
	m->nr_view = n;
}

static void model_run(struct layout_model *m, uint64_t mem, bool split, int toggles)
{
	struct vmm_range s[VMM_MAX_SECTIONS];

	for (int step = 0; step < VMM_BUILD_STEPS; step++)
		model_set_view(m, s, vmm_build_sections(mem, split, step, s));
	m->in_toggle = true;
	for (int i = 0; i < toggles; i++)
		model_set_view(m, s, vmm_ram_sections(mem, split, i % 2, s));
	m->in_toggle = false;
}

/* QEMU as it is: the PAM alias merges with the RAM beside it. */
TEST(layout_legacy_pam_churn)
{
	const uint64_t mem = 2ULL << 30, high = mem - VMM_LOW_SPLIT;
	struct layout_model m = { .dedup = false };

	model_run(&m, mem, false, 4);
	/* Every toggle unmaps RAM above 1 MiB: the whole of it, or its part. */
	EXPECT_EQ(6, m.toggle_unmaps);	/* 1 + 2 + 1 + 2 sections */
	EXPECT_EQ(mem, m.toggle_unmap_end);
	EXPECT_EQ(2 * mem + 2 * (VMM_PAM_START + high), m.toggle_unmap_bytes);
	/* RAM above 1 MiB mapped once per view that holds it: 2 built, 4 toggled. */
	EXPECT_EQ(6 * high, m.high_map_bytes);
	/* Building maps conventional RAM again beside extended RAM: EEXIST. */
	EXPECT_EQ(1, m.eexist);
	EXPECT_EQ(0, m.skipped);
	EXPECT_EQ(1, m.nr_mapped);	/* one merged mapping at the end */
}

/* VMM_FIX_SPLIT_LOW and VMM_FIX_DEDUP_MAP: toggles touch the first MiB only. */
TEST(layout_split_low_dedup)
{
	const uint64_t mem = 2ULL << 30, high = mem - VMM_LOW_SPLIT;
	struct layout_model m = { .dedup = true };

	model_run(&m, mem, true, 4);
	EXPECT_EQ(4, m.toggle_unmaps);
	EXPECT_EQ(VMM_LOW_SPLIT, m.toggle_unmap_end);
	EXPECT_EQ(2 * VMM_LOW_SPLIT + 2 * VMM_PAM_START, m.toggle_unmap_bytes);
	EXPECT_EQ(high, m.high_map_bytes);	/* mapped exactly once */
	EXPECT_EQ(0, m.eexist);
	/* Known mapped, not mapped again: building 2, then each toggle 1. */
	EXPECT_EQ(2 + 4, m.skipped);
	EXPECT_EQ(2, m.nr_mapped);
}

TEST_HARNESS_MAIN
