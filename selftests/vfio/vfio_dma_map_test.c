// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_dma_map_test: map and unmap guest-RAM-like memory for DMA through VFIO,
 * the operation that dominates VM creation with a passthrough device (every
 * page is faulted in, zeroed and pinned).
 *
 * For the first device of VFIO_SELFTESTS_BDF (or the trailing BDF argument),
 * in every IOMMU back end (legacy type1, type1v2, iommufd) and for anonymous
 * 4K, THP and hugetlb 2M memory, populated beforehand or not:
 *
 *   map_unmap  times MAP and UNMAP, and checks the accounting exactly: while
 *              mapped, the pages pinned system wide (nr_foll_pin_acquired -
 *              nr_foll_pin_released) and the process's VmLck (type1) or
 *              VmPin (iommufd) grew by the mapping size; after the unmap both
 *              are back where they started.
 *   edu_dma    with QEMU's edu device (one variant per back end and backing): the device reads pages through their
 *              IOVAs (first, last, around huge page boundaries) and writes
 *              them back through other IOVAs, and the CPU sees exactly the
 *              data; after the unmap, a device write to the old IOVA does
 *              not reach the page.
 *
 * Needs root, a device bound to vfio-pci, and for hugetlb a pool it can grow.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "vfio_dev.h"
#include "edu.h"
#include "hostmem.h"
#include "phase.h"
#include "suite_main.h"
#include "sysutil.h"

#define SZ_2M	(2UL << 20)
#define SZ_1G	(1UL << 30)
#define PAGE_4K	4096UL

static size_t map_size = 256UL << 20;
static char **bdfs;
static int nr_bdfs;

/* What both fixtures set up: an IOMMU context, the device, the memory. */
struct dma_env {
	struct vfio_iommu *iommu;
	struct vfio_pci_dev *dev;
	struct hostmem mem;
	uint64_t iova;
	bool mapped;
	bool ready;		/* dma_env_setup() neither skipped nor failed */
	enum vm_mem_backing_src_type backing;
	unsigned long hugetlb_saved;
	bool hugetlb_grown;
};

static void dma_env_setup(struct __test_metadata *_metadata, struct dma_env *e,
			  enum vfio_iommu_mode mode, enum vm_mem_backing_src_type backing)
{
	const char *why;
	int r;

	memset(e, 0, sizeof(*e));
	e->backing = backing;
	e->mem.fd = -1;
	why = vfio_iommu_mode_unavailable(mode, bdfs[0]);
	if (why)
		SKIP(return, "%s: %s", vfio_iommu_mode_name(mode), why);

	if (is_backing_src_hugetlb(backing)) {
		size_t pagesz = get_backing_src_pagesz(backing);

		r = hugetlb_pool_ensure(pagesz, map_size / pagesz, &e->hugetlb_saved);
		if (r)
			SKIP(return, "no hugetlb pool of %zu x %zu kB pages: %s",
			     map_size / pagesz, pagesz >> 10, strerror(-r));
		e->hugetlb_grown = true;
	}

	e->iommu = vfio_iommu_init(mode);
	e->dev = vfio_pci_open(e->iommu, bdfs[0]);

	r = __hostmem_alloc(&e->mem, backing, map_size);
	ASSERT_EQ(0, r) TH_LOG("allocating %zu bytes of %s: %s", map_size,
			       vm_mem_backing_src_alias(backing)->name, strerror(-r));

	/* A 1G-aligned IOVA above 4G, with room for a scratch page 1G above. */
	e->iova = vfio_iommu_iova_base(e->iommu, 1ULL << 32, map_size + 2 * SZ_1G);
	ASSERT_NE(UINT64_MAX, e->iova) TH_LOG("no IOVA range of %zu bytes above 4G", map_size);
	e->iova = (e->iova + SZ_1G - 1) & ~(SZ_1G - 1);
	e->ready = true;
}

static void dma_env_teardown(struct dma_env *e)
{
	if (e->mapped)
		__vfio_dma_unmap(e->iommu, e->iova, map_size, NULL);
	hostmem_free(&e->mem);
	vfio_pci_close(e->dev);
	vfio_iommu_cleanup(e->iommu);
	if (e->hugetlb_grown)
		hugetlb_pool_restore(get_backing_src_pagesz(e->backing), e->hugetlb_saved);
}

FIXTURE(dma_map) {
	struct dma_env e;
};

FIXTURE_VARIANT(dma_map) {
	enum vfio_iommu_mode mode;
	enum vm_mem_backing_src_type backing;
	bool populate;
};

#define DMA_MAP_VARIANT(_mode, _mname, _backing, _bname, _pop, _pname)		\
FIXTURE_VARIANT_ADD(dma_map, _mname##_##_bname##_##_pname) {			\
	.mode = _mode, .backing = _backing, .populate = _pop,			\
}
#define DMA_MAP_VARIANTS(_mode, _mname, _backing, _bname)			\
DMA_MAP_VARIANT(_mode, _mname, _backing, _bname, false, faulting);		\
DMA_MAP_VARIANT(_mode, _mname, _backing, _bname, true, populated)

/* Every back end with every backing: _ADD(mode, name, backing, name). */
#define FOR_ALL_MODES_AND_BACKINGS(_ADD)					\
_ADD(VFIO_MODE_TYPE1, type1, VM_MEM_SRC_ANONYMOUS, anon4k);			\
_ADD(VFIO_MODE_TYPE1, type1, VM_MEM_SRC_ANONYMOUS_THP, thp);			\
_ADD(VFIO_MODE_TYPE1, type1, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, hugetlb2m);	\
_ADD(VFIO_MODE_TYPE1V2, type1v2, VM_MEM_SRC_ANONYMOUS, anon4k);		\
_ADD(VFIO_MODE_TYPE1V2, type1v2, VM_MEM_SRC_ANONYMOUS_THP, thp);		\
_ADD(VFIO_MODE_TYPE1V2, type1v2, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, hugetlb2m);	\
_ADD(VFIO_MODE_IOMMUFD, iommufd, VM_MEM_SRC_ANONYMOUS, anon4k);		\
_ADD(VFIO_MODE_IOMMUFD, iommufd, VM_MEM_SRC_ANONYMOUS_THP, thp);		\
_ADD(VFIO_MODE_IOMMUFD, iommufd, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, hugetlb2m)

FOR_ALL_MODES_AND_BACKINGS(DMA_MAP_VARIANTS);

FIXTURE_SETUP(dma_map)
{
	dma_env_setup(_metadata, &self->e, variant->mode, variant->backing);
}

FIXTURE_TEARDOWN(dma_map)
{
	dma_env_teardown(&self->e);
}

/* The process-level charge each back end makes for pinned memory. */
static uint64_t charged_kb(enum vfio_iommu_mode mode, const struct pin_acct *p)
{
	return mode == VFIO_MODE_IOMMUFD ? p->pinned_kb : p->locked_kb;
}

TEST_F_TIMEOUT(dma_map, map_unmap, 300)
{
	struct pin_acct before, mapped, after;
	struct phase_time t_pop = {}, t_map, t_unmap;
	struct phase_clock c;
	uint64_t npages = map_size / PAGE_4K, unmapped = 0;
	struct dma_env *e = &self->e;
	int r;

	pin_acct_read(&before);
	if (variant->populate) {
		phase_start(&c);
		hostmem_populate(&e->mem);
		t_pop = phase_stop(&c);
	}

	phase_start(&c);
	r = __vfio_dma_map(e->iommu, e->mem.addr, e->iova, map_size);
	t_map = phase_stop(&c);
	ASSERT_EQ(0, r) TH_LOG("MAP of %zu bytes at iova 0x%lx: %s", map_size, e->iova,
			       strerror(-r));
	e->mapped = true;
	pin_acct_read(&mapped);

	phase_start(&c);
	r = __vfio_dma_unmap(e->iommu, e->iova, map_size, &unmapped);
	t_unmap = phase_stop(&c);
	ASSERT_EQ(0, r) TH_LOG("UNMAP: %s", strerror(-r));
	e->mapped = false;
	ASSERT_EQ(map_size, unmapped);
	pin_acct_read(&after);

	/* Per-process charges: exact whatever else runs. */
	EXPECT_EQ(charged_kb(variant->mode, &before) + map_size / 1024,
		  charged_kb(variant->mode, &mapped))
		TH_LOG("%s while mapped", variant->mode == VFIO_MODE_IOMMUFD ? "VmPin" : "VmLck");
	EXPECT_EQ(before.locked_kb, after.locked_kb);
	EXPECT_EQ(before.pinned_kb, after.pinned_kb);

	/* System-wide pin counters: exact unless another pinner is active. */
	if ((pin_acct_net(&before, &mapped) != (int64_t)npages ||
	     pin_acct_net(&before, &after) != 0) && !pin_acct_quiet(200))
		SKIP(return, "nr_foll_pin_* move while this test is idle: another FOLL_PIN user is active, the pin balance cannot be checked (net %ld while mapped, %ld after)",
		     pin_acct_net(&before, &mapped), pin_acct_net(&before, &after));
	EXPECT_EQ((int64_t)npages, pin_acct_net(&before, &mapped))
		TH_LOG("pages pinned while mapped: acquired %lu, released %lu",
		       mapped.acquired - before.acquired, mapped.released - before.released);
	EXPECT_EQ(0, pin_acct_net(&before, &after))
		TH_LOG("pins not released after unmap: acquired %lu, released %lu",
		       after.acquired - before.acquired, after.released - before.released);

	ksft_print_msg("%s %s %s %zu MiB: populate %.3fs, map %.3fs (cpu %.3fs, %.0f MiB/s), unmap %.3fs (cpu %.3fs); pinned %ld pages\n",
		       vfio_iommu_mode_name(variant->mode),
		       vm_mem_backing_src_alias(variant->backing)->name,
		       variant->populate ? "populated" : "faulting", map_size >> 20,
		       ns_to_s(t_pop.wall_ns), ns_to_s(t_map.wall_ns), ns_to_s(t_map.cpu_ns),
		       mib_per_s(map_size, t_map.wall_ns), ns_to_s(t_unmap.wall_ns),
		       ns_to_s(t_unmap.cpu_ns), pin_acct_net(&before, &mapped));
}

/* A recognisable pattern for the page at @off, distinct per page and round. */
static void fill_page(uint64_t *p, uint64_t off, uint64_t round)
{
	for (size_t i = 0; i < PAGE_4K / 8; i++)
		p[i] = (off + i * 8) ^ (0x9e3779b97f4a7c15ULL * (round + 1));
}

static long first_mismatch(const uint64_t *a, const uint64_t *b)
{
	for (size_t i = 0; i < PAGE_4K / 8; i++)
		if (a[i] != b[i])
			return i * 8;
	return -1;
}

/*
 * The device checks do not depend on how the memory was faulted in, and each
 * transfer takes ~100 ms: one variant per back end and backing.
 */
FIXTURE(edu_dma) {
	struct dma_env e;
};

FIXTURE_VARIANT(edu_dma) {
	enum vfio_iommu_mode mode;
	enum vm_mem_backing_src_type backing;
};

#define EDU_DMA_VARIANT(_mode, _mname, _backing, _bname)			\
FIXTURE_VARIANT_ADD(edu_dma, _mname##_##_bname) {				\
	.mode = _mode, .backing = _backing,					\
}

FOR_ALL_MODES_AND_BACKINGS(EDU_DMA_VARIANT);

FIXTURE_SETUP(edu_dma)
{
	dma_env_setup(_metadata, &self->e, variant->mode, variant->backing);
	if (self->e.ready && !edu_is(self->e.dev))
		SKIP(return, "%s is %04x:%04x, not edu (1234:11e8)", self->e.dev->bdf,
		     self->e.dev->vendor_id, self->e.dev->device_id);
}

FIXTURE_TEARDOWN(edu_dma)
{
	dma_env_teardown(&self->e);
}

TEST_F_TIMEOUT(edu_dma, reaches_pages, 120)
{
	uint64_t offs[8], scratch_iova, n = 0;
	struct hostmem scratch;
	struct dma_env *e = &self->e;
	uint64_t *expect;
	long bad;
	int r;

	edu_init(e->dev);

	/* Pages to check: edges of the mapping and of huge pages inside it. */
	offs[n++] = 0;
	offs[n++] = map_size - PAGE_4K;
	if (map_size >= 2 * SZ_2M) {
		offs[n++] = SZ_2M - PAGE_4K;
		offs[n++] = SZ_2M;
		offs[n++] = map_size / 2 + 7 * PAGE_4K;
	}
	offs[n++] = (random() % (map_size / PAGE_4K)) * PAGE_4K;

	for (uint64_t i = 0; i < n; i++)
		fill_page(e->mem.addr + offs[i], offs[i], 0);

	vfio_dma_map(e->iommu, e->mem.addr, e->iova, map_size);
	e->mapped = true;

	/* The device's writes land in a separately mapped scratch page. */
	hostmem_alloc(&scratch, VM_MEM_SRC_ANONYMOUS, PAGE_4K);
	scratch_iova = e->iova + map_size + SZ_1G;
	vfio_dma_map(e->iommu, scratch.addr, scratch_iova, PAGE_4K);

	expect = malloc(PAGE_4K);
	for (uint64_t i = 0; i < n; i++) {
		/* Device reads the page by its IOVA, writes it to scratch. */
		memset(scratch.addr, 0, PAGE_4K);
		r = edu_copy(e->dev, e->iova + offs[i], scratch_iova, PAGE_4K);
		ASSERT_EQ(0, r) TH_LOG("edu copy from iova 0x%lx: %s", e->iova + offs[i],
				       strerror(-r));
		fill_page(expect, offs[i], 0);
		bad = first_mismatch(expect, scratch.addr);
		ASSERT_EQ(-1, bad) TH_LOG("device read of offset 0x%lx (iova 0x%lx) differs at byte %ld",
					  offs[i], e->iova + offs[i], bad);

		/* Device writes a new pattern into the page by its IOVA. */
		fill_page(scratch.addr, offs[i], 1);
		r = edu_copy(e->dev, scratch_iova, e->iova + offs[i], PAGE_4K);
		ASSERT_EQ(0, r) TH_LOG("edu copy to iova 0x%lx: %s", e->iova + offs[i],
				       strerror(-r));
		fill_page(expect, offs[i], 1);
		bad = first_mismatch(expect, e->mem.addr + offs[i]);
		ASSERT_EQ(-1, bad) TH_LOG("device write to offset 0x%lx (iova 0x%lx) differs at byte %ld",
					  offs[i], e->iova + offs[i], bad);
	}

	/* After the unmap the old IOVA must not reach the page. */
	vfio_dma_unmap(e->iommu, e->iova, map_size);
	e->mapped = false;
	fill_page(scratch.addr, 0, 2);
	r = edu_copy(e->dev, scratch_iova, e->iova, PAGE_4K);
	ASSERT_EQ(0, r);
	fill_page(expect, 0, 1);
	bad = first_mismatch(expect, e->mem.addr);
	ASSERT_EQ(-1, bad) TH_LOG("a device write to the unmapped iova 0x%lx changed the page at byte %ld",
				  e->iova, bad);

	vfio_dma_unmap(e->iommu, scratch_iova, PAGE_4K);
	hostmem_free(&scratch);
	free(expect);
	ksft_print_msg("%s %s: %lu pages read and written by the device through their IOVAs\n",
		       vfio_iommu_mode_name(variant->mode),
		       vm_mem_backing_src_alias(variant->backing)->name, n);
}

int main(int argc, char *argv[])
{
	const struct suite_opt opts[] = {
		{ "-s", "bytes to map per test (default 256M)", &map_size, SZ_2M },
	};
	bool listing;

	nr_bdfs = vfio_selftests_get_bdfs(&argc, argv, &bdfs);
	listing = suite_parse(&argc, argv, opts, 1,
			      "Usage: vfio_dma_map_test [-s SIZE] [harness options] [BDF]\n"
			      "  BDF      a device bound to vfio-pci (segment:bus:dev.fn); without it,\n"
			      "           the first entry of $VFIO_SELFTESTS_BDF\n");
	if (!listing && !nr_bdfs)
		ksft_exit_skip("no device: pass a BDF or set VFIO_SELFTESTS_BDF\n");
	if (!listing && access("/dev/vfio", F_OK))
		ksft_exit_skip("no /dev/vfio (CONFIG_VFIO)\n");
	return test_harness_run(argc, argv);
}
