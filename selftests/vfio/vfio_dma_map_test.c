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
 *   edu_dma    with QEMU's edu device (one variant per back end and
 *              backing): the device reads pages through their IOVAs (first,
 *              last, around huge page boundaries) and writes them back
 *              through other IOVAs, and the CPU sees exactly the data; after
 *              the unmap, a device write to the old IOVA does not reach the
 *              page.
 *
 * With vfio_iommu_type1.pin_runs (patches/: pin, account and map physically
 * contiguous runs at once), type1v2 only, the old path (0) against the new:
 *   runs.old_vs_new  MAP and UNMAP of the same kind of memory in both paths,
 *              3 rounds each (old new new old old new), pre-zeroing off,
 *              accounting exact in every round; populated THP: the median
 *              new map <= 0.7x the median old.
 *   runs.bar   DMA-map the largest mmap-able BAR of the devices (ivshmem)
 *              through its mmap, a PFNMAP: new <= 0.1x old.
 *   runs_path.edu_mid_folio  the device reads and writes through a mapping
 *              that starts and ends inside a THP, at every run boundary.
 *   runs_path.rlimit_enforced  without CAP_IPC_LOCK, a map beyond
 *              RLIMIT_MEMLOCK fails with ENOMEM and leaves nothing pinned or
 *              locked, and a map of exactly the limit fits.
 *   semantics  partial unmap (type1v2: EINVAL; type1: nothing from inside a
 *              mapping, the whole mapping from its first IOVA) and overlapping
 *              map (EEXIST) behave as documented.
 * runs_path and semantics run in both paths (variants old and new).
 *
 * Needs root, a device bound to vfio-pci, and for hugetlb a pool it can grow.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "vfio_dev.h"
#include "edu.h"
#include "hostmem.h"
#include "kprobe_count.h"
#include "phase.h"
#include "prezero.h"
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
 * The edu device, through the IOVAs: for each offs[i], it reads the page at
 * @iova + offs[i] into the scratch page (mapped at @scratch_iova) and must
 * see what fill_page(@cpu + offs[i], offs[i], 0) put there; then it writes
 * pattern 1 to that IOVA, and the CPU must read it at @cpu + offs[i].
 */
static void edu_round_trip(struct __test_metadata *_metadata, struct vfio_pci_dev *dev,
			   uint8_t *cpu, uint64_t iova, const uint64_t *offs, uint64_t n,
			   uint64_t *scratch, uint64_t scratch_iova)
{
	uint64_t *expect = malloc(PAGE_4K);
	long bad;
	int r;

	ASSERT_NE(NULL, expect);
	for (uint64_t i = 0; i < n; i++) {
		memset(scratch, 0, PAGE_4K);
		r = edu_copy(dev, iova + offs[i], scratch_iova, PAGE_4K);
		ASSERT_EQ(0, r) TH_LOG("edu copy from iova 0x%lx: %s", iova + offs[i], strerror(-r));
		fill_page(expect, offs[i], 0);
		bad = first_mismatch(expect, scratch);
		ASSERT_EQ(-1, bad) TH_LOG("device read of offset 0x%lx (iova 0x%lx) differs at byte %ld",
					  offs[i], iova + offs[i], bad);

		fill_page(scratch, offs[i], 1);
		r = edu_copy(dev, scratch_iova, iova + offs[i], PAGE_4K);
		ASSERT_EQ(0, r) TH_LOG("edu copy to iova 0x%lx: %s", iova + offs[i], strerror(-r));
		fill_page(expect, offs[i], 1);
		bad = first_mismatch(expect, (uint64_t *)(cpu + offs[i]));
		ASSERT_EQ(-1, bad) TH_LOG("device write to offset 0x%lx (iova 0x%lx) differs at byte %ld",
					  offs[i], iova + offs[i], bad);
	}
	free(expect);
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

	edu_round_trip(_metadata, e->dev, e->mem.addr, e->iova, offs, n, scratch.addr, scratch_iova);
	expect = malloc(PAGE_4K);

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

/* ---- pin_runs: the old path against the new ------------------------------ */

#define RUNS_RATIO_THP	0.7	/* populated THP map, new <= 0.7x old */
#define RUNS_RATIO_BAR	0.1	/* BAR map, new <= 0.1x old */

/* Skip unless this kernel has the switch; remember its value to restore. */
static int runs_knob_setup(struct __test_metadata *_metadata, int *saved)
{
	*saved = vfio_type1_set_pin_runs(true);
	if (*saved < 0)
		SKIP(return -1, "no vfio_iommu_type1 pin_runs parameter (a kernel without patches/)");
	return 0;
}

struct map_run {
	int64_t map_ns, unmap_ns;
	int64_t pinned;			/* pages pinned while mapped */
	int64_t leftover;		/* pages still pinned after the unmap */
	int64_t locked_kb, locked_after_kb;	/* VmLck growth while mapped, after */
};

/* MAP and UNMAP @e's memory (fresh each time) with pin_runs @on. */
static void map_once(struct dma_env *e, bool on, bool populate, struct map_run *r)
{
	struct pin_acct a, b, c;
	struct phase_clock clk;

	TEST_ASSERT(vfio_type1_set_pin_runs(on) >= 0, "setting pin_runs");
	hostmem_free(&e->mem);
	hostmem_alloc(&e->mem, e->backing, map_size);
	if (populate)
		hostmem_populate(&e->mem);
	pin_acct_read(&a);
	phase_start(&clk);
	vfio_dma_map(e->iommu, e->mem.addr, e->iova, map_size);
	r->map_ns = phase_stop(&clk).wall_ns;
	pin_acct_read(&b);
	phase_start(&clk);
	vfio_dma_unmap(e->iommu, e->iova, map_size);
	r->unmap_ns = phase_stop(&clk).wall_ns;
	pin_acct_read(&c);
	r->pinned = pin_acct_net(&a, &b);
	r->leftover = pin_acct_net(&a, &c);
	r->locked_kb = b.locked_kb - a.locked_kb;
	r->locked_after_kb = c.locked_kb - a.locked_kb;
}

FIXTURE(runs) {
	struct dma_env e;
	int saved;
	int prezero_saved;	/* -1: no prezero controls */
};

FIXTURE_VARIANT(runs) {
	enum vm_mem_backing_src_type backing;
	bool populate;
	double max_ratio;	/* new/old map time, 0: report only */
};

FIXTURE_VARIANT_ADD(runs, anon4k_faulting) { .backing = VM_MEM_SRC_ANONYMOUS };
FIXTURE_VARIANT_ADD(runs, anon4k_populated) { .backing = VM_MEM_SRC_ANONYMOUS, .populate = true };
FIXTURE_VARIANT_ADD(runs, thp_faulting) { .backing = VM_MEM_SRC_ANONYMOUS_THP };
FIXTURE_VARIANT_ADD(runs, thp_populated) {
	.backing = VM_MEM_SRC_ANONYMOUS_THP, .populate = true, .max_ratio = RUNS_RATIO_THP,
};
FIXTURE_VARIANT_ADD(runs, hugetlb2m_faulting) { .backing = VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB };
FIXTURE_VARIANT_ADD(runs, hugetlb2m_populated) {
	.backing = VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, .populate = true,
};

FIXTURE_SETUP(runs)
{
	self->prezero_saved = -1;
	if (runs_knob_setup(_metadata, &self->saved))
		return;
	/*
	 * Faulting maps of both paths must zero the same way: with the
	 * pre-zeroing of patches/ on, whichever path ran first would drain
	 * the pool of zeroed pages the other then misses.
	 */
	if (!prezero_unavailable()) {
		self->prezero_saved = prezero_enabled();
		ASSERT_EQ(0, prezero_set_enabled(false));
	}
	dma_env_setup(_metadata, &self->e, VFIO_MODE_TYPE1V2, variant->backing);
}

FIXTURE_TEARDOWN(runs)
{
	if (self->prezero_saved >= 0)
		prezero_set_enabled(self->prezero_saved);
	if (self->saved >= 0)
		vfio_type1_set_pin_runs(self->saved);
	dma_env_teardown(&self->e);
}

/* Rounds per path, in the order old new new old old new: medians compared. */
#define RUNS_ROUNDS	3

TEST_F_TIMEOUT(runs, old_vs_new, 600)
{
	static const bool order[2 * RUNS_ROUNDS] = { 0, 1, 1, 0, 0, 1 };
	int64_t map_ns[2][RUNS_ROUNDS], unmap_ns[2][RUNS_ROUNDS], map[2], unmap[2];
	int done[2] = { 0, 0 };

	for (int i = 0; i < 2 * RUNS_ROUNDS; i++) {
		int on = order[i];
		struct map_run r;

		map_once(&self->e, on, variant->populate, &r);
		ASSERT_EQ((int64_t)(map_size / 4096), r.pinned) TH_LOG("pin_runs=%d", on);
		ASSERT_EQ(0, r.leftover) TH_LOG("pin_runs=%d: pins left after unmap", on);
		ASSERT_EQ((int64_t)(map_size >> 10), r.locked_kb) TH_LOG("pin_runs=%d", on);
		ASSERT_EQ(0, r.locked_after_kb) TH_LOG("pin_runs=%d: VmLck after unmap", on);
		map_ns[on][done[on]] = r.map_ns;
		unmap_ns[on][done[on]++] = r.unmap_ns;
	}
	for (int on = 0; on < 2; on++) {
		map[on] = ns_median(map_ns[on], RUNS_ROUNDS);
		unmap[on] = ns_median(unmap_ns[on], RUNS_ROUNDS);
	}
	ksft_print_msg("%s %s %zu MiB, median of %d: map old %.4fs new %.4fs (%.2fx, %.0f -> %.0f MiB/s), unmap old %.4fs new %.4fs (%.2fx)\n",
		       vm_mem_backing_src_alias(variant->backing)->name,
		       variant->populate ? "populated" : "faulting", map_size >> 20, RUNS_ROUNDS,
		       ns_to_s(map[0]), ns_to_s(map[1]), (double)map[1] / map[0],
		       mib_per_s(map_size, map[0]), mib_per_s(map_size, map[1]),
		       ns_to_s(unmap[0]), ns_to_s(unmap[1]), (double)unmap[1] / unmap[0]);
	if (variant->max_ratio && timing_asserted())
		EXPECT_LE(map[1], variant->max_ratio * map[0])
			TH_LOG("new %.4fs is more than %.1f x old %.4fs", ns_to_s(map[1]),
			       variant->max_ratio, ns_to_s(map[0]));
}

/* The device among @bdfs with the largest memory BAR, from sysfs. */
static int largest_bar(const char **bdf, int *bar, uint64_t *size)
{
	*size = 0;
	for (int i = 0; i < nr_bdfs; i++) {
		char path[128], line[128];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdfs[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		for (int b = 0; b < PCI_STD_NUM_BARS && fgets(line, sizeof(line), f); b++) {
			unsigned long long start, end, flags;

			if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 ||
			    !(flags & 0x200) || !end)	/* IORESOURCE_MEM */
				continue;
			if (end - start + 1 > *size) {
				*size = end - start + 1;
				*bdf = bdfs[i];
				*bar = b;
			}
		}
		fclose(f);
	}
	return *size ? 0 : -ENODEV;
}

TEST_F_TIMEOUT(runs, bar, 600)
{
	struct vfio_iommu *iommu;
	struct vfio_pci_dev *dev;
	const char *bdf = NULL;
	uint64_t size, iova;
	int64_t t[2];
	int bar;

	if (variant->backing != VM_MEM_SRC_ANONYMOUS_THP || !variant->populate)
		SKIP(return, "the BAR test runs once, in the thp_populated variant");
	if (largest_bar(&bdf, &bar, &size) || size < SZ_2M)
		SKIP(return, "no device with a memory BAR of at least 2 MiB");

	/* The BAR's own device, in an IOMMU context of its own. */
	iommu = vfio_iommu_init(VFIO_MODE_TYPE1V2);
	dev = vfio_pci_open(iommu, bdf);
	iova = vfio_iommu_iova_base(iommu, 1ULL << 32, size + SZ_1G);
	ASSERT_NE(UINT64_MAX, iova);
	iova = (iova + SZ_1G - 1) & ~(SZ_1G - 1);

	for (int on = 0; on < 2; on++) {
		struct phase_clock clk;
		void *addr;

		ASSERT_LE(0, vfio_type1_set_pin_runs(on));
		/* A fresh mmap each time: nothing faulted in yet. */
		addr = vfio_pci_bar_map(dev, bar);
		phase_start(&clk);
		vfio_dma_map(iommu, addr, iova, size);
		t[on] = phase_stop(&clk).wall_ns;
		vfio_dma_unmap(iommu, iova, size);
		vfio_pci_bar_unmap(dev, bar);
	}
	vfio_pci_close(dev);
	vfio_iommu_cleanup(iommu);
	ksft_print_msg("BAR%d of %s, %lu MiB, through its mmap: map old %.4fs new %.4fs (%.3fx)\n",
		       bar, bdf, size >> 20, ns_to_s(t[0]), ns_to_s(t[1]), (double)t[1] / t[0]);
	if (timing_asserted())
		EXPECT_LE(t[1], RUNS_RATIO_BAR * t[0])
			TH_LOG("new %.4fs is more than %.1f x old %.4fs", ns_to_s(t[1]), RUNS_RATIO_BAR,
			       ns_to_s(t[0]));
}

/* Each path on its own: old (pin_runs=0) and new. */
FIXTURE(runs_path) {
	struct dma_env e;
	int saved;
};

FIXTURE_VARIANT(runs_path) {
	bool pin_runs;
};

FIXTURE_VARIANT_ADD(runs_path, old) { .pin_runs = false };
FIXTURE_VARIANT_ADD(runs_path, new) { .pin_runs = true };

FIXTURE_SETUP(runs_path)
{
	if (runs_knob_setup(_metadata, &self->saved))
		return;
	dma_env_setup(_metadata, &self->e, VFIO_MODE_TYPE1V2, VM_MEM_SRC_ANONYMOUS_THP);
	ASSERT_LE(0, vfio_type1_set_pin_runs(variant->pin_runs));
}

FIXTURE_TEARDOWN(runs_path)
{
	if (self->saved >= 0)
		vfio_type1_set_pin_runs(self->saved);
	dma_env_teardown(&self->e);
}

TEST_F_TIMEOUT(runs_path, edu_mid_folio, 300)
{
	const uint64_t head = 3 * PAGE_4K, tail = 5 * PAGE_4K;
	uint64_t len = 8 * SZ_2M - head - tail, offs[16], n = 0;
	uint64_t scratch_iova, base = self->e.iova + head;
	struct dma_env *e = &self->e;
	struct pin_acct a, b;
	struct hostmem scratch;

	/* The edu device through a mapping that starts and ends inside a THP. */
	if (!edu_is(e->dev))
		SKIP(return, "%s is %04x:%04x, not edu (1234:11e8)", e->dev->bdf,
		     e->dev->vendor_id, e->dev->device_id);

	ASSERT_LE(8 * SZ_2M, map_size);
	edu_init(e->dev);
	hostmem_populate(&e->mem);
	/* Pages to check: the ends, and both sides of every 2 MiB boundary. */
	offs[n++] = 0;
	offs[n++] = len - PAGE_4K;
	for (uint64_t m = SZ_2M - head; m < len && n < 15; m += 2 * SZ_2M) {
		offs[n++] = m - PAGE_4K;
		offs[n++] = m;
	}
	for (uint64_t i = 0; i < n; i++)
		fill_page(e->mem.addr + head + offs[i], offs[i], 0);

	pin_acct_read(&a);
	vfio_dma_map(e->iommu, e->mem.addr + head, base, len);
	hostmem_alloc(&scratch, VM_MEM_SRC_ANONYMOUS, PAGE_4K);
	scratch_iova = e->iova + map_size + SZ_1G;
	vfio_dma_map(e->iommu, scratch.addr, scratch_iova, PAGE_4K);

	edu_round_trip(_metadata, e->dev, (uint8_t *)e->mem.addr + head, base, offs, n,
		       scratch.addr, scratch_iova);
	vfio_dma_unmap(e->iommu, base, len);
	vfio_dma_unmap(e->iommu, scratch_iova, PAGE_4K);
	pin_acct_read(&b);
	EXPECT_EQ(0, pin_acct_net(&a, &b));
	EXPECT_EQ(a.locked_kb, b.locked_kb);
	hostmem_free(&scratch);
	ksft_print_msg("pin_runs=%d: %lu pages read and written through a mapping of %lu KiB starting and ending mid-THP\n",
		       variant->pin_runs, n, len >> 10);
}

/*
 * A BAR mapped through its mmap (a VM_PFNMAP: the PFNMAP leaf path), from
 * an offset inside a leaf entry: the edu device reads, through the IOVAs,
 * what the CPU wrote into the BAR at sampled offsets, and what it writes
 * through them the CPU reads back from the BAR.  Proves IOVA -> pfn, not
 * only that the map was fast.  Both devices are in this test's container.
 */
TEST_F_TIMEOUT(runs_path, bar_reaches_pfns, 300)
{
	const uint64_t head = SZ_2M + 3 * PAGE_4K;
	uint64_t size, len, offs[16], n = 0, scratch_iova;
	struct dma_env *e = &self->e;
	struct vfio_pci_dev *bardev;
	struct hostmem scratch;
	struct pin_acct a, b;
	const char *bdf = NULL;
	uint8_t *bar;
	int idx;

	if (!edu_is(e->dev))
		SKIP(return, "%s is %04x:%04x, not edu (1234:11e8)", e->dev->bdf,
		     e->dev->vendor_id, e->dev->device_id);
	if (largest_bar(&bdf, &idx, &size) || size < 8 * SZ_2M)
		SKIP(return, "no device with a memory BAR of at least 16 MiB");
	if (!strcmp(bdf, e->dev->bdf))
		SKIP(return, "the largest BAR is the edu device's own");
	len = (size > SZ_1G ? SZ_1G : size) - head - 5 * PAGE_4K;

	bardev = vfio_pci_open(e->iommu, bdf);
	bar = vfio_pci_bar_map(bardev, idx);
	/* The ends, both sides of a 2 MiB boundary of the BAR, random pages. */
	offs[n++] = 0;
	offs[n++] = len - PAGE_4K;
	offs[n++] = 2 * SZ_2M - head - PAGE_4K;
	offs[n++] = 2 * SZ_2M - head;
	while (n < 12)
		offs[n++] = (random() % (len / PAGE_4K)) * PAGE_4K;
	for (uint64_t i = 0; i < n; i++)
		fill_page((uint64_t *)(bar + head + offs[i]), offs[i], 0);

	pin_acct_read(&a);
	vfio_dma_map(e->iommu, bar + head, e->iova, len);
	edu_init(e->dev);
	hostmem_alloc(&scratch, VM_MEM_SRC_ANONYMOUS, PAGE_4K);
	scratch_iova = e->iova + map_size + SZ_1G;
	vfio_dma_map(e->iommu, scratch.addr, scratch_iova, PAGE_4K);
	edu_round_trip(_metadata, e->dev, bar + head, e->iova, offs, n, scratch.addr, scratch_iova);
	vfio_dma_unmap(e->iommu, e->iova, len);
	vfio_dma_unmap(e->iommu, scratch_iova, PAGE_4K);
	pin_acct_read(&b);
	EXPECT_EQ(0, pin_acct_net(&a, &b)) TH_LOG("a PFNMAP map pinned pages");
	EXPECT_EQ(a.locked_kb, b.locked_kb) TH_LOG("a PFNMAP map changed VmLck");
	hostmem_free(&scratch);
	vfio_pci_bar_unmap(bardev, idx);
	vfio_pci_close(bardev);
	ksft_print_msg("pin_runs=%d: BAR%d of %s from offset 0x%lx, %lu MiB: %lu pages read and written by edu through their IOVAs\n",
		       variant->pin_runs, idx, bdf, head, len >> 20, n);
}

/* RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
static void drop_cap_ipc_lock(struct __test_metadata *_metadata)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	ASSERT_EQ(0, syscall(SYS_capget, &hdr, data));
	data[0].effective &= ~(1U << CAP_IPC_LOCK);
	data[0].permitted &= ~(1U << CAP_IPC_LOCK);
	ASSERT_EQ(0, syscall(SYS_capset, &hdr, data));
}

TEST_F_TIMEOUT(runs_path, rlimit_enforced, 300)
{
	const uint64_t limit = 32UL << 20;
	struct rlimit rl = { .rlim_cur = limit, .rlim_max = limit };
	struct dma_env *e = &self->e;
	struct pin_acct a, b;
	int r;

	ASSERT_LE(64UL << 20, map_size);
	hostmem_populate(&e->mem);
	/* The limit counts what this process has locked already. */
	pin_acct_read(&a);
	rl.rlim_cur = rl.rlim_max = limit + (a.locked_kb << 10);
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	drop_cap_ipc_lock(_metadata);

	r = __vfio_dma_map(e->iommu, e->mem.addr, e->iova, 2 * limit);
	pin_acct_read(&b);
	EXPECT_EQ(-ENOMEM, r) TH_LOG("mapping twice RLIMIT_MEMLOCK returned %d", r);
	EXPECT_EQ(0, pin_acct_net(&a, &b)) TH_LOG("pages left pinned by the failed map");
	EXPECT_EQ(a.locked_kb, b.locked_kb) TH_LOG("VmLck changed by the failed map");

	/* Exactly the limit fits. */
	r = __vfio_dma_map(e->iommu, e->mem.addr, e->iova, limit);
	EXPECT_EQ(0, r) TH_LOG("mapping exactly RLIMIT_MEMLOCK returned %d", r);
	if (!r)
		vfio_dma_unmap(e->iommu, e->iova, limit);
	pin_acct_read(&b);
	EXPECT_EQ(0, pin_acct_net(&a, &b));
	EXPECT_EQ(a.locked_kb, b.locked_kb);
}

/*
 * Map with one pin_runs setting, unmap with the other: both paths must
 * leave the same state (one pin per page, the same locked_vm), so either
 * may undo the other.
 */
TEST_F_TIMEOUT(runs_path, unmap_with_other_path, 300)
{
	struct dma_env *e = &self->e;
	struct pin_acct a, b, c;

	hostmem_populate(&e->mem);
	pin_acct_read(&a);
	vfio_dma_map(e->iommu, e->mem.addr, e->iova, map_size);
	pin_acct_read(&b);
	ASSERT_LE(0, vfio_type1_set_pin_runs(!variant->pin_runs));
	vfio_dma_unmap(e->iommu, e->iova, map_size);
	pin_acct_read(&c);
	ksft_print_msg("mapped with pin_runs=%d, unmapped with %d: %ld pages pinned, %ld left; VmLck +%lu kB, then %+ld kB\n",
		       variant->pin_runs, !variant->pin_runs, pin_acct_net(&a, &b),
		       pin_acct_net(&a, &c), b.locked_kb - a.locked_kb,
		       (long)(c.locked_kb - a.locked_kb));
	EXPECT_EQ((int64_t)(map_size / PAGE_4K), pin_acct_net(&a, &b));
	EXPECT_EQ(map_size >> 10, b.locked_kb - a.locked_kb);
	EXPECT_EQ(0, pin_acct_net(&a, &c));
	EXPECT_EQ(a.locked_kb, c.locked_kb);
}

/*
 * Fault injection: fail the 1st, 2nd, ... allocation a MAP_DMA makes
 * (/proc/thread-self/fail-nth, with failslab and fail_page_alloc set to
 * fail any allocation of this task, as iommufd's fail_nth selftest does),
 * on fresh unpopulated THP memory each time, until a map makes fewer
 * allocations than the one asked to fail.  Each failure must return a clean
 * error or be absorbed (a THP falls back to small pages), leave no page
 * pinned, VmLck unchanged and the IOVA free; no WARN (the runner's log
 * check).
 */
#define FAIL_NTH_SIZE	(8UL << 20)
#define FAIL_NTH_MAX	4000

static const char *const fail_nth_knobs[][2] = {
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
};

/*
 * The fail-nth file stays open: opening it allocates, and would use up the
 * count.  Reading and writing it do not allocate.
 */
static int fail_nth_set(int fd, unsigned int nth)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u", nth);

	return pwrite(fd, buf, n, 0) == n ? 0 : -errno;
}

static int fail_nth_get(int fd, unsigned int *nth)
{
	char buf[16] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -errno;
	*nth = strtoul(buf, NULL, 10);
	return 0;
}

TEST_F_TIMEOUT(runs_path, fail_nth, 1800)
{
	struct dma_env *e = &self->e;
	unsigned int nth, left = 0, failed = 0, absorbed = 0;
	struct pin_acct a, b;
	struct hostmem mem;
	int fd, r;

	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0)
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	for (size_t i = 0; i < ARRAY_SIZE(fail_nth_knobs); i++) {
		r = sys_write_str(fail_nth_knobs[i][0], fail_nth_knobs[i][1]);
		if (r)
			SKIP(return, "%s: %s (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, debugfs)",
			     fail_nth_knobs[i][0], strerror(-r));
	}

	for (nth = 1; nth <= FAIL_NTH_MAX; nth++) {
		hostmem_alloc(&mem, VM_MEM_SRC_ANONYMOUS_THP, FAIL_NTH_SIZE);
		pin_acct_read(&a);
		ASSERT_EQ(0, fail_nth_set(fd, nth));
		r = __vfio_dma_map(e->iommu, mem.addr, e->iova, FAIL_NTH_SIZE);
		ASSERT_EQ(0, fail_nth_get(fd, &left));
		ASSERT_EQ(0, fail_nth_set(fd, 0));
		if (r) {
			EXPECT_TRUE(r == -ENOMEM || r == -EFAULT)
				TH_LOG("failing allocation %u: MAP_DMA returned %d", nth, r);
			failed++;
		} else {
			vfio_dma_unmap(e->iommu, e->iova, FAIL_NTH_SIZE);
			if (!left)
				absorbed++;
		}
		pin_acct_read(&b);
		ASSERT_EQ(0, pin_acct_net(&a, &b))
			TH_LOG("failing allocation %u (map: %d) left pages pinned", nth, r);
		ASSERT_EQ(a.locked_kb, b.locked_kb)
			TH_LOG("failing allocation %u (map: %d) changed VmLck", nth, r);
		hostmem_free(&mem);
		/* The nth allocation never came: every one was failed once. */
		if (left)
			break;
	}
	close(fd);
	ksft_print_msg("pin_runs=%d: MAP_DMA of %lu MiB made %u allocations; failing each: %u maps failed cleanly, %u absorbed the failure\n",
		       variant->pin_runs, FAIL_NTH_SIZE >> 20, nth - 1, failed, absorbed);
	ASSERT_LT(nth, FAIL_NTH_MAX) TH_LOG("more than %u allocations in one MAP_DMA", FAIL_NTH_MAX);
	EXPECT_EQ(0, r) TH_LOG("MAP_DMA with no failure left to inject: %d", r);
}

/* ---- hostile callers: RLIMIT_MEMLOCK and mmap_lock holds ----------------- */

/*
 * What VFIO type1 may pin or fault in one mmap_lock hold on the runs path
 * (VFIO_PIN_RUNS_HOLD_PAGES in patches/0005): 32 MiB.  The old path holds
 * the lock for 512 pages (2 MiB).
 */
#define HOLD_BYTES	(32UL << 20)
#define HOSTILE_LIMIT	(64UL << 20)
#define HOSTILE_SIZE	(4UL << 30)

FIXTURE(hostile) {
	struct vfio_iommu *iommu;
	struct vfio_pci_dev *dev;
	void *mem;
	size_t leaf;		/* what one fault populates: 2 MiB or 1 GiB */
	uint64_t iova;
	unsigned long hugetlb_saved;
	bool hugetlb_grown;
	int saved;
};

FIXTURE_VARIANT(hostile) {
	bool hugetlb_1g;
	bool pin_runs;
};

FIXTURE_VARIANT_ADD(hostile, thp_old) { .pin_runs = false };
FIXTURE_VARIANT_ADD(hostile, thp_new) { .pin_runs = true };
FIXTURE_VARIANT_ADD(hostile, hugetlb1g_old) { .hugetlb_1g = true, .pin_runs = false };
FIXTURE_VARIANT_ADD(hostile, hugetlb1g_new) { .hugetlb_1g = true, .pin_runs = true };

FIXTURE_SETUP(hostile)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	const char *why;
	int r;

	self->mem = MAP_FAILED;
	self->saved = -1;
	if (runs_knob_setup(_metadata, &self->saved))
		return;
	why = vfio_iommu_mode_unavailable(VFIO_MODE_TYPE1V2, bdfs[0]);
	if (why)
		SKIP(return, "type1v2: %s", why);
	if (variant->hugetlb_1g) {
		/* Two pool pages: a map that does not stop faults both. */
		r = hugetlb_pool_ensure(SZ_1G, 2, &self->hugetlb_saved);
		if (r)
			SKIP(return, "no hugetlb pool of 2 x 1 GiB pages: %s", strerror(-r));
		self->hugetlb_grown = true;
		flags |= MAP_HUGETLB | (30 << MAP_HUGE_SHIFT);
		self->leaf = SZ_1G;
	} else {
		self->leaf = SZ_2M;
	}
	/* Unpopulated: every page pinned is faulted (and zeroed) by the map. */
	self->mem = mmap(NULL, HOSTILE_SIZE, PROT_READ | PROT_WRITE, flags, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem) TH_LOG("mmap of %lu GiB: %s", HOSTILE_SIZE >> 30,
						strerror(errno));
	if (!variant->hugetlb_1g)
		ASSERT_EQ(0, madvise(self->mem, HOSTILE_SIZE, MADV_HUGEPAGE));
	self->iommu = vfio_iommu_init(VFIO_MODE_TYPE1V2);
	self->dev = vfio_pci_open(self->iommu, bdfs[0]);
	self->iova = vfio_iommu_iova_base(self->iommu, 1ULL << 32, HOSTILE_SIZE + SZ_1G);
	ASSERT_NE(UINT64_MAX, self->iova);
	self->iova = (self->iova + SZ_1G - 1) & ~(SZ_1G - 1);
	ASSERT_LE(0, vfio_type1_set_pin_runs(variant->pin_runs));
}

FIXTURE_TEARDOWN(hostile)
{
	if (self->mem != MAP_FAILED)
		munmap(self->mem, HOSTILE_SIZE);
	if (self->dev)
		vfio_pci_close(self->dev);
	if (self->iommu)
		vfio_iommu_cleanup(self->iommu);
	if (self->hugetlb_grown)
		hugetlb_pool_restore(SZ_1G, self->hugetlb_saved);
	if (self->saved >= 0)
		vfio_type1_set_pin_runs(self->saved);
}

/* kB of this process's memory that is populated: anonymous and hugetlb. */
static uint64_t populated_kb(void)
{
	uint64_t anon = 0, huge = 0;

	proc_status_kb("RssAnon", &anon);
	proc_status_kb("HugetlbPages", &huge);
	return anon + huge;
}

/*
 * Without CAP_IPC_LOCK and with a 64 MiB RLIMIT_MEMLOCK, a MAP_DMA of 4 GiB
 * of unpopulated memory must fail with ENOMEM having pinned at most the
 * limit and one hold's worth of pages, faulted at most that plus one leaf
 * (a THP, or the 1 GiB page a fault of hugetlb memory always populates
 * whole), and left nothing pinned or charged.
 */
TEST_F_TIMEOUT(hostile, enomem_bounded, 600)
{
	struct rlimit rl;
	uint64_t kb0, kb1, pinned_pages;
	struct phase_clock clk;
	struct phase_time t;
	struct pin_acct a, b;
	int r;

	pin_acct_read(&a);
	rl.rlim_cur = rl.rlim_max = HOSTILE_LIMIT + (a.locked_kb << 10);
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	drop_cap_ipc_lock(_metadata);

	kb0 = populated_kb();
	phase_start(&clk);
	r = __vfio_dma_map(self->iommu, self->mem, self->iova, HOSTILE_SIZE);
	t = phase_stop(&clk);
	kb1 = populated_kb();
	pin_acct_read(&b);
	pinned_pages = b.acquired - a.acquired;
	ksft_print_msg("pin_runs=%d, %s: MAP_DMA of %lu GiB with a %lu MiB limit: %d after %.3fs (cpu %.3fs), %lu pages pinned (limit %lu + hold %lu), %lu MiB faulted in\n",
		       variant->pin_runs, variant->hugetlb_1g ? "hugetlb 1G" : "THP",
		       HOSTILE_SIZE >> 30, HOSTILE_LIMIT >> 20, r, ns_to_s(t.wall_ns),
		       ns_to_s(t.cpu_ns), pinned_pages, HOSTILE_LIMIT / PAGE_4K,
		       HOLD_BYTES / PAGE_4K, (kb1 - kb0) >> 10);
	EXPECT_EQ(-ENOMEM, r);
	EXPECT_GE((HOSTILE_LIMIT + HOLD_BYTES) / PAGE_4K, pinned_pages)
		TH_LOG("pinned past the limit before checking it");
	EXPECT_GE((HOSTILE_LIMIT + HOLD_BYTES + self->leaf) >> 10, kb1 - kb0)
		TH_LOG("faulted in past the limit before checking it");
	EXPECT_EQ(0, pin_acct_net(&a, &b)) TH_LOG("pages left pinned by the failed map");
	EXPECT_EQ(a.locked_kb, b.locked_kb) TH_LOG("VmLck changed by the failed map");
}

struct mprotect_loop {
	void *page;
	volatile bool stop;
	uint64_t calls;
	int64_t max_ns;
};

static void *mprotect_loop(void *arg)
{
	struct mprotect_loop *m = arg;

	while (!m->stop) {
		struct phase_clock clk;
		int64_t ns;

		phase_start(&clk);
		mprotect(m->page, PAGE_4K, (m->calls & 1) ? PROT_READ | PROT_WRITE : PROT_READ);
		ns = phase_stop(&clk).wall_ns;
		if (ns > m->max_ns)
			m->max_ns = ns;
		m->calls++;
	}
	return NULL;
}

/*
 * The pages pinned per mmap_lock hold are bounded: mapping 1 GiB of
 * unpopulated memory takes at least 1 GiB / HOLD_BYTES calls of
 * pin_user_pages_remote_runs() (one per hold: VFIO drops the lock between
 * them).  A thread calling mprotect() meanwhile (mmap_write_lock) reports
 * its longest wait, which is not asserted: it also holds whatever delays
 * the thread's scheduling, and once kprezerod has caught up the map takes
 * a tenth of a second, so one scheduling delay decides any ratio (v1: 3.25 s
 * of a 4.36 s map; v2: 0.27 s of 1.08 s).  With 1 GiB hugetlb pages any
 * fault of one (GUP's or the CPU's) zeroes the whole GiB under the lock,
 * so there a hold lasts a leaf's fault whatever VFIO asks for.
 */
TEST_F_TIMEOUT(hostile, lock_hold_bounded, 600)
{
	const uint64_t size = SZ_1G;
	struct mprotect_loop m = { 0 };
	struct kprobe_count k;
	struct phase_clock clk;
	int64_t map_ns;
	uint64_t calls = 0;
	pthread_t t;
	int r;

	if (!variant->pin_runs)
		SKIP(return, "the old path pins 512 pages per hold");
	r = kprobe_count_start(&k, "pin_user_pages_remote_runs");
	if (r)
		SKIP(return, "no kprobe on pin_user_pages_remote_runs: %s", strerror(-r));
	m.page = mmap(NULL, PAGE_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m.page);
	ASSERT_EQ(0, pthread_create(&t, NULL, mprotect_loop, &m));
	phase_start(&clk);
	vfio_dma_map(self->iommu, self->mem, self->iova, size);
	map_ns = phase_stop(&clk).wall_ns;
	m.stop = true;
	pthread_join(t, NULL);
	ASSERT_EQ(0, kprobe_count_read(&k, &calls));
	kprobe_count_stop(&k);
	vfio_dma_unmap(self->iommu, self->iova, size);
	munmap(m.page, PAGE_4K);
	ksft_print_msg("%s: map of 1 GiB unpopulated took %.3fs in %lu holds (bound: >= %lu); mprotect meanwhile: %lu calls, longest wait %.3fs\n",
		       variant->hugetlb_1g ? "hugetlb 1G" : "THP", map_ns / 1e9, calls,
		       size / HOLD_BYTES, m.calls, m.max_ns / 1e9);
	EXPECT_LE(size / HOLD_BYTES, calls) TH_LOG("more than %lu MiB pinned per mmap_lock hold",
						    HOLD_BYTES >> 20);
}

/* Documented type1 behaviour for partial unmaps and overlapping maps. */
FIXTURE(semantics) {
	struct dma_env e;
	int saved;
};

FIXTURE_VARIANT(semantics) {
	enum vfio_iommu_mode mode;
	bool pin_runs;
};

FIXTURE_VARIANT_ADD(semantics, type1_old) { .mode = VFIO_MODE_TYPE1, .pin_runs = false };
FIXTURE_VARIANT_ADD(semantics, type1_new) { .mode = VFIO_MODE_TYPE1, .pin_runs = true };
FIXTURE_VARIANT_ADD(semantics, type1v2_old) { .mode = VFIO_MODE_TYPE1V2, .pin_runs = false };
FIXTURE_VARIANT_ADD(semantics, type1v2_new) { .mode = VFIO_MODE_TYPE1V2, .pin_runs = true };

FIXTURE_SETUP(semantics)
{
	if (runs_knob_setup(_metadata, &self->saved))
		return;
	dma_env_setup(_metadata, &self->e, variant->mode, VM_MEM_SRC_ANONYMOUS_THP);
	ASSERT_LE(0, vfio_type1_set_pin_runs(variant->pin_runs));
}

FIXTURE_TEARDOWN(semantics)
{
	if (self->saved >= 0)
		vfio_type1_set_pin_runs(self->saved);
	dma_env_teardown(&self->e);
}

TEST_F(semantics, partial_unmap_and_overlap)
{
	struct dma_env *e = &self->e;
	uint64_t len = 8 * SZ_2M, done = 0;
	struct pin_acct a, b;
	int r;

	pin_acct_read(&a);
	vfio_dma_map(e->iommu, e->mem.addr, e->iova, len);
	/* A map over part of a mapped range is refused. */
	r = __vfio_dma_map(e->iommu, e->mem.addr + SZ_2M, e->iova + SZ_2M, SZ_2M);
	EXPECT_EQ(-EEXIST, r);
	r = __vfio_dma_unmap(e->iommu, e->iova + SZ_2M, SZ_2M, &done);
	if (variant->mode == VFIO_MODE_TYPE1V2) {
		/* v2 does not split a mapping. */
		EXPECT_EQ(-EINVAL, r);
		vfio_dma_unmap(e->iommu, e->iova, len);
	} else {
		/*
		 * v1: a range starting inside a mapping unmaps nothing and
		 * succeeds with size 0; a range covering a mapping's first
		 * IOVA unmaps the whole mapping and reports its size.
		 */
		EXPECT_EQ(0, r);
		EXPECT_EQ(0, done);
		r = __vfio_dma_unmap(e->iommu, e->iova, getpagesize(), &done);
		EXPECT_EQ(0, r);
		EXPECT_EQ(len, done);
	}
	pin_acct_read(&b);
	EXPECT_EQ(0, pin_acct_net(&a, &b));
	EXPECT_EQ(a.locked_kb, b.locked_kb);
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
