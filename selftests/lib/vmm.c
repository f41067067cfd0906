// SPDX-License-Identifier: GPL-2.0
/*
 * A small VMM that creates a VM with passthrough devices phase by phase:
 * the phases and the run.  See vmm.h for the model; the configuration
 * check is in vmm_config.c, the names, counts and CSV in vmm_report.c, the
 * RAM layout in vmm_layout.c.
 *
 * Error style, one per layer:
 *   - host memory, the IOMMU and the devices (allocation, mbind, VFIO
 *     attach, open, reset, DMA map, BAR mmap, the edu copy), and the value
 *     the guest read: the step returns -errno with one line in v->err
 *     (fail()), and vmm_run() tears down and returns it, so that a test
 *     can report the run and go on;
 *   - KVM (VM, vCPUs, memslots, dirty log, running the guest to a ucall),
 *     and what only a bug or a broken host can make fail (a table of this
 *     file overflowing, pthread_create(), the move_pages() query):
 *     TEST_ASSERT aborts, as in the KVM selftests library underneath.
 */
#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#include "edu.h"
#include "hostmem.h"
#include "kprobe_count.h"
#include "vmm.h"

#define MAGIC_OFF	(VMM_LOW_SPLIT + 0x1000)	/* the value the guest reads */
#define EDU_SRC_OFF	(VMM_LOW_SPLIT + 0x2000)	/* edu copies this page ... */
#define EDU_DST_OFF	(VMM_LOW_SPLIT + 0x3000)	/* ... to this one */
#define BAR_WINDOW	(64ULL << 30)	/* model address of the first BAR */
#define MAX_SECTIONS	VMM_MAX_SECTIONS
#define MAX_MAPS	64
#define MAX_BARS	(VMM_MAX_DEVICES * PCI_STD_NUM_BARS)
#define SLOT_RAM_FIRST	1		/* the library's own memslot is 0 */
#define SLOT_RAM_LAST	7
#define SLOT_BAR_FIRST	8

struct vmm_bar {
	int dev;
	int idx;
	uint64_t addr;		/* model address: IOVA; GPA is VMM_RAM_GPA + addr */
	uint64_t size;
	void *hva;
	uint32_t slot;
	bool dma_mapped;
};

struct vmm {
	const struct vmm_config *cfg;
	struct vmm_result *res;
	struct hostmem ram;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[VMM_MAX_VCPUS];
	struct vfio_iommu *iommu;
	struct vfio_pci_dev *dev[VMM_MAX_DEVICES];
	/* What the kernel has mapped for guest RAM (the truth, for cleanup). */
	struct vmm_range mapped[MAX_MAPS];
	int nr_mapped;
	/* The RAM sections the DMA side has been told about. */
	struct vmm_range view[MAX_SECTIONS];
	int nr_view;
	/* The RAM memslots KVM has, and their ids. */
	struct vmm_range slots[MAX_SECTIONS];
	uint32_t slot_id[MAX_SECTIONS];
	int nr_slots;
	struct vmm_bar bars[MAX_BARS];
	int nr_bars;
	bool in_toggle;
	uint64_t seen;			/* what the guest reported reading */
	struct kprobe_count kp_flr, kp_bus;
	char *err;
	size_t errlen;
};

static bool fix(const struct vmm *v, enum vmm_fix f)
{
	return v->cfg->fixes & (1u << f);
}

/* One line in v->err; returns @r. */
static int __printf(3, 4) fail(struct vmm *v, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, v->errlen, fmt, ap);
	va_end(ap);
	return r;
}

static void progress(struct vmm *v, enum vmm_phase ph)
{
	if (!v->cfg->progress)
		return;
	printf("# %s: %-8s %8.3fs wall %8.3fs cpu\n", v->cfg->label ?: "vm",
	       vmm_phase_name(ph), ns_to_s(v->res->t[ph].wall_ns), ns_to_s(v->res->t[ph].cpu_ns));
	fflush(stdout);
}

/* ---- guest --------------------------------------------------------------- */

/*
 * Runs in the guest: report the VMM's value, then (with edu) a checksum of
 * the page the device wrote.  The GVAs are identity-mapped GPAs.
 */
static void vmm_guest_code(uint64_t magic_gva, uint64_t edu_gva)
{
	uint64_t sum = 0;

	GUEST_SYNC1(READ_ONCE(*(uint64_t *)magic_gva));
	for (int i = 0; i < 512; i++)
		sum ^= READ_ONCE(((uint64_t *)edu_gva)[i]) * (i + 1);
	GUEST_SYNC1(sum);
	GUEST_DONE();
}

static uint64_t page_sum(const uint64_t *p)
{
	uint64_t sum = 0;

	for (int i = 0; i < 512; i++)
		sum ^= p[i] * (i + 1);
	return sum;
}

/* Run vCPU 0 to its next ucall; the reported value in *val. */
static uint64_t run_to_ucall(struct kvm_vcpu *vcpu, uint64_t *val)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		*val = uc.args[0];
		return UCALL_SYNC;
	case UCALL_DONE:
		return UCALL_DONE;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	}
	TEST_FAIL("unexpected ucall %lu", uc.cmd);
	return 0;
}

/* ---- guest RAM: views, DMA maps, memslots -------------------------------- */

static int mapped_find(struct vmm *v, struct vmm_range r, bool exact)
{
	for (int i = 0; i < v->nr_mapped; i++)
		if (exact ? vmm_range_same(v->mapped[i], r) : vmm_range_overlap(v->mapped[i], r))
			return i;
	return -1;
}

/*
 * The IOVA of guest RAM at model address @a.  As QEMU puts RAM beyond the
 * low 3 GiB above 4 GiB, RAM above RAM_LOW_END sits above a PCI hole: the
 * hole holds the IOMMU's MSI window (0xfee00000), which type1 and iommufd
 * refuse to map.  GPAs keep no hole: KVM does not care.
 */
#define RAM_LOW_END	(3ULL << 30)
#define PCI_HOLE	((4ULL << 30) - RAM_LOW_END)

static uint64_t ram_iova(uint64_t a)
{
	return a < RAM_LOW_END ? a : a + PCI_HOLE;
}

/* DMA-map RAM range @r: two MAPs if it spans the hole, or none. */
static int ram_dma_map(struct vmm *v, struct vmm_range r)
{
	uint64_t end = r.start + r.size, low;
	int ret;

	if (r.start >= RAM_LOW_END || end <= RAM_LOW_END)
		return __vfio_dma_map(v->iommu, v->ram.addr + r.start, ram_iova(r.start), r.size);
	low = RAM_LOW_END - r.start;
	ret = __vfio_dma_map(v->iommu, v->ram.addr + r.start, r.start, low);
	if (ret)
		return ret;
	ret = __vfio_dma_map(v->iommu, v->ram.addr + RAM_LOW_END, ram_iova(RAM_LOW_END),
			     end - RAM_LOW_END);
	if (ret)
		__vfio_dma_unmap(v->iommu, r.start, low, NULL);
	return ret;
}

/* One UNMAP covers both parts of a range that spans the hole. */
static int ram_dma_unmap(struct vmm *v, struct vmm_range r)
{
	uint64_t first = ram_iova(r.start);

	return __vfio_dma_unmap(v->iommu, first, ram_iova(r.start + r.size - 1) + 1 - first, NULL);
}

static int ram_unmap(struct vmm *v, struct vmm_range r)
{
	int i = mapped_find(v, r, true), ret;

	ret = ram_dma_unmap(v, r);
	if (ret)
		return fail(v, ret, "DMA unmap of RAM [0x%lx, +0x%lx): %s", r.start, r.size,
			    strerror(-ret));
	if (i >= 0)
		v->mapped[i] = v->mapped[--v->nr_mapped];
	if (v->in_toggle) {
		v->res->toggle_unmaps++;
		v->res->toggle_unmap_bytes += r.size;
		if (r.start + r.size > v->res->toggle_unmap_end)
			v->res->toggle_unmap_end = r.start + r.size;
	}
	return 0;
}

static int ram_map(struct vmm *v, struct vmm_range r)
{
	int ret;

	if (mapped_find(v, r, false) >= 0)
		v->res->map_overlaps++;
	v->res->ram_map_ioctls++;
	ret = ram_dma_map(v, r);
	if (ret == -EEXIST) {
		/* What QEMU does when a MAP collides: unmap, map again. */
		v->res->map_eexist++;
		ret = ram_unmap(v, r);
		if (ret)
			return ret;
		v->res->ram_map_ioctls++;
		ret = ram_dma_map(v, r);
	}
	if (ret)
		return fail(v, ret, "DMA map of RAM [0x%lx, +0x%lx): %s", r.start, r.size,
			    strerror(-ret));
	TEST_ASSERT(v->nr_mapped < MAX_MAPS, "too many RAM mappings");
	v->mapped[v->nr_mapped++] = r;
	v->res->ram_map_bytes += r.size;
	if (r.start + r.size > VMM_LOW_SPLIT)
		v->res->high_map_bytes += r.start + r.size -
					  (r.start > VMM_LOW_SPLIT ? r.start : VMM_LOW_SPLIT);
	return 0;
}

/* The RAM sections of a view, with the low legacy area as RAM or not. */
static int ram_sections(struct vmm *v, bool low_is_ram, struct vmm_range *out)
{
	return vmm_ram_sections(v->cfg->mem_size, fix(v, VMM_FIX_SPLIT_LOW), low_is_ram, out);
}

/* Is @r mapped exactly: VMM_FIX_DEDUP_MAP's record. */
static bool is_mapped(void *ctx, struct vmm_range r)
{
	return mapped_find(ctx, r, true) >= 0;
}

/*
 * Move the DMA mappings from the current view to @next.  Sections that
 * disappear are unmapped.  Every section of the new view is mapped, unless
 * VMM_FIX_DEDUP_MAP knows it is mapped already.
 */
static int set_view(struct vmm *v, const struct vmm_range *next, int n)
{
	struct vmm_view_change ch;
	int ret;

	if (!v->iommu)
		return 0;	/* no passthrough device: nothing is DMA-mapped */
	vmm_view_change(v->view, v->nr_view, next, n,
			fix(v, VMM_FIX_DEDUP_MAP) ? is_mapped : NULL, v, &ch);
	for (int i = 0; i < ch.nr_unmap; i++) {
		ret = ram_unmap(v, v->view[ch.unmap[i]]);
		if (ret)
			return ret;
	}
	v->res->dups_skipped += ch.nr_skipped;
	for (int i = 0; i < ch.nr_map; i++) {
		ret = ram_map(v, next[ch.map[i]]);
		if (ret)
			return ret;
	}
	memcpy(v->view, next, n * sizeof(*next));
	v->nr_view = n;
	return 0;
}

/* Move the KVM RAM memslots to @next: changed sections only, as QEMU does. */
static void set_kvm_slots(struct vmm *v, const struct vmm_range *next, int n)
{
	uint32_t ids[MAX_SECTIONS] = {};

	for (int i = 0; i < v->nr_slots; i++) {
		if (vmm_range_in(v->slots[i], next, n))
			continue;
		vm_set_user_memory_region(v->vm, v->slot_id[i], 0,
					  VMM_RAM_GPA + v->slots[i].start, 0, NULL);
		v->res->memslot_updates++;
		v->slot_id[i] = 0;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < v->nr_slots; j++)
			if (v->slot_id[j] && vmm_range_same(next[i], v->slots[j]))
				ids[i] = v->slot_id[j];
	for (int i = 0; i < n; i++) {
		uint32_t id;

		if (ids[i])
			continue;
		/* The lowest id neither kept nor just given out. */
		for (id = SLOT_RAM_FIRST; id <= SLOT_RAM_LAST; id++) {
			bool busy = false;

			for (int j = 0; j < MAX_SECTIONS; j++)
				busy |= ids[j] == id;
			if (!busy)
				break;
		}
		TEST_ASSERT(id <= SLOT_RAM_LAST, "out of RAM memslots");
		vm_set_user_memory_region(v->vm, id, 0, VMM_RAM_GPA + next[i].start,
					  next[i].size, v->ram.addr + next[i].start);
		v->res->memslot_updates++;
		ids[i] = id;
	}
	memcpy(v->slots, next, n * sizeof(*next));
	memcpy(v->slot_id, ids, sizeof(ids));
	v->nr_slots = n;
}

/* ---- phases --------------------------------------------------------------- */

static int phase_ram(struct vmm *v)
{
	const struct vmm_config *cfg = v->cfg;
	int r = __hostmem_alloc(&v->ram, cfg->backing, cfg->mem_size);

	if (r)
		return fail(v, r, "allocating %lu MiB of %s guest RAM: %s", cfg->mem_size >> 20,
			    vm_mem_backing_src_alias(cfg->backing)->name, strerror(-r));
	if (cfg->numa_mode != MPOL_DEFAULT) {
		struct bitmask *nodes = numa_parse_nodestring(cfg->numa_nodes);

		if (!nodes)
			return fail(v, -EINVAL, "bad NUMA node list '%s'", cfg->numa_nodes);
		/* The KVM library's numaif.h shadows libnuma's, and has no mbind(). */
		r = syscall(__NR_mbind, v->ram.addr, cfg->mem_size, cfg->numa_mode,
			    nodes->maskp, nodes->size + 1, 0);
		numa_bitmask_free(nodes);
		if (r)
			return fail(v, -errno, "mbind of guest RAM: %s", strerror(errno));
	}
	if (cfg->prefault)
		hostmem_populate(&v->ram);
	return 0;
}

static int phase_kvm(struct vmm *v)
{
	struct vmm_range sections[MAX_SECTIONS];
	int n = ram_sections(v, true, sections);
	uint64_t gpa;

	v->vm = __vm_create_with_vcpus(VM_SHAPE_DEFAULT, v->cfg->nr_vcpus, 0,
				       vmm_guest_code, v->vcpus);
	set_kvm_slots(v, sections, n);
	/* The pages the guest reads, identity mapped (GVA == GPA). */
	for (gpa = VMM_RAM_GPA + MAGIC_OFF; gpa <= VMM_RAM_GPA + EDU_DST_OFF; gpa += 4096)
		virt_map(v->vm, gpa, gpa, 1);
	vcpu_args_set(v->vcpus[0], 2, VMM_RAM_GPA + MAGIC_OFF, VMM_RAM_GPA + EDU_DST_OFF);
	return 0;
}

static int phase_iommu(struct vmm *v)
{
	if (!v->cfg->nr_devices)
		return 0;
	v->iommu = __vfio_iommu_init(v->cfg->iommu_mode);
	if (!v->iommu)
		return fail(v, -errno, "%s IOMMU context: %s",
			    vfio_iommu_mode_name(v->cfg->iommu_mode), strerror(errno));
	for (int i = 0; i < v->cfg->nr_devices; i++) {
		v->dev[i] = vfio_pci_open_begin(v->iommu, v->cfg->bdfs[i]);
		if (!v->dev[i])
			return fail(v, -errno, "attaching %s to the %s IOMMU context: %s",
				    v->cfg->bdfs[i], vfio_iommu_mode_name(v->cfg->iommu_mode),
				    strerror(errno));
	}
	return 0;
}

struct open_job {
	struct vmm *v;
	int i;
	bool reset;
	int ret;
	struct phase_time t;
};

/* Open one device (the kernel resets it) and, without the fix, reset it again. */
static void *open_device(void *arg)
{
	struct open_job *job = arg;
	struct vfio_pci_dev *dev = job->v->dev[job->i];
	struct phase_clock c;

	phase_start_thread(&c);
	job->ret = vfio_pci_open_finish(dev);
	if (!job->ret && job->reset && (dev->info.flags & VFIO_DEVICE_FLAGS_RESET))
		job->ret = __vfio_pci_reset(dev);
	job->t = phase_stop(&c);
	return NULL;
}

static void start_reset_count(struct vmm *v)
{
	int r1 = kprobe_count_start(&v->kp_flr, "pcie_flr");
	int r2 = r1 ? r1 : kprobe_count_start(&v->kp_bus, "pci_bridge_secondary_bus_reset");

	if (r2) {
		v->res->kernel_resets = -1;
		snprintf(v->res->kernel_resets_why, sizeof(v->res->kernel_resets_why),
			 "kprobe events unavailable: %s", strerror(-r2));
	}
}

static void read_reset_count(struct vmm *v)
{
	uint64_t flr = 0, bus = 0;
	int r;

	if (v->res->kernel_resets < 0)
		return;
	r = kprobe_count_read(&v->kp_flr, &flr);
	if (!r)
		r = kprobe_count_read(&v->kp_bus, &bus);
	if (r) {
		v->res->kernel_resets = -1;
		snprintf(v->res->kernel_resets_why, sizeof(v->res->kernel_resets_why),
			 "kprobe_profile: %s", strerror(-r));
		return;
	}
	v->res->kernel_resets = flr + bus;
}

/* Devices and the initial DMA map of guest RAM (views 1). */
static int phase_devices_and_dma(struct vmm *v)
{
	const struct vmm_config *cfg = v->cfg;
	struct open_job jobs[VMM_MAX_DEVICES] = {};
	pthread_t threads[VMM_MAX_DEVICES];
	struct vmm_range sections[MAX_SECTIONS];
	bool parallel = fix(v, VMM_FIX_PARALLEL_RESET);
	struct phase_clock c_dev, c_dma;
	int n, ret = 0;

	for (int i = 0; i < cfg->nr_devices; i++)
		jobs[i] = (struct open_job){ .v = v, .i = i, .reset = !fix(v, VMM_FIX_ONE_RESET) };

	phase_start(&c_dev);
	if (parallel) {
		for (int i = 0; i < cfg->nr_devices; i++)
			TEST_ASSERT(!pthread_create(&threads[i], NULL, open_device, &jobs[i]),
				    "pthread_create");
	} else {
		/* Serially: open every device, then reset each again. */
		for (int i = 0; i < cfg->nr_devices; i++) {
			struct phase_clock c;

			phase_start_thread(&c);
			jobs[i].ret = vfio_pci_open_finish(v->dev[i]);
			jobs[i].t = phase_stop(&c);
			if (jobs[i].ret)
				break;
		}
		for (int i = 0; i < cfg->nr_devices && jobs[i].reset; i++) {
			struct phase_clock c;
			struct phase_time t;

			if (jobs[i].ret || !(v->dev[i]->info.flags & VFIO_DEVICE_FLAGS_RESET))
				continue;
			phase_start_thread(&c);
			jobs[i].ret = __vfio_pci_reset(v->dev[i]);
			t = phase_stop(&c);
			jobs[i].t.cpu_ns += t.cpu_ns;
		}
		v->res->t[VMM_PH_DEVICES] = phase_stop(&c_dev);
		v->res->t[VMM_PH_DEVICES].cpu_ns = 0;
	}

	/* The DMA map, while the devices reset when the fix is on. */
	phase_start_thread(&c_dma);
	for (int step = 0; step < VMM_BUILD_STEPS && !ret; step++) {
		n = vmm_build_sections(cfg->mem_size, fix(v, VMM_FIX_SPLIT_LOW), step, sections);
		ret = set_view(v, sections, n);
	}
	v->res->t[VMM_PH_DMA_MAP] = phase_stop(&c_dma);

	if (parallel) {
		for (int i = 0; i < cfg->nr_devices; i++)
			pthread_join(threads[i], NULL);
		v->res->t[VMM_PH_DEVICES].wall_ns = 0;
		for (int i = 0; i < cfg->nr_devices; i++)
			if (jobs[i].t.wall_ns > v->res->t[VMM_PH_DEVICES].wall_ns)
				v->res->t[VMM_PH_DEVICES].wall_ns = jobs[i].t.wall_ns;
	}
	for (int i = 0; i < cfg->nr_devices; i++) {
		struct vfio_pci_dev *dev = v->dev[i];

		v->res->t[VMM_PH_DEVICES].cpu_ns += jobs[i].t.cpu_ns;
		if (jobs[i].ret && !ret)
			ret = fail(v, jobs[i].ret, "opening or resetting %s: %s", dev->bdf,
				   strerror(-jobs[i].ret));
		if (dev->fd < 0)
			continue;
		v->res->vmm_resets += dev->resets;
		v->res->nr_resettable += !!(dev->info.flags & VFIO_DEVICE_FLAGS_RESET);
		v->res->nr_flr += vfio_pci_has_flr(dev);
	}
	return ret;
}

static int phase_bars(struct vmm *v)
{
	uint64_t addr = BAR_WINDOW;
	int ret;

	while (addr < ram_iova(v->cfg->mem_size))
		addr += BAR_WINDOW;
	for (int d = 0; d < v->cfg->nr_devices; d++) {
		for (int b = 0; b < PCI_STD_NUM_BARS; b++) {
			struct vfio_pci_bar *bar = &v->dev[d]->bar[b];
			struct vmm_bar *vb = &v->bars[v->nr_bars];

			if (bar->size < 4096 || !(bar->flags & VFIO_REGION_INFO_FLAG_MMAP))
				continue;
			vb->hva = __vfio_pci_bar_map(v->dev[d], b);
			if (!vb->hva)
				return fail(v, -errno, "%s: mmap of BAR%d: %s", v->dev[d]->bdf, b,
					    strerror(errno));
			/* Naturally aligned, like a BAR. */
			addr = (addr + bar->size - 1) & ~(bar->size - 1);
			vb->dev = d;
			vb->idx = b;
			vb->addr = addr;
			vb->size = bar->size;
			vb->slot = SLOT_BAR_FIRST + v->nr_bars;
			vm_set_user_memory_region(v->vm, vb->slot,
						  fix(v, VMM_FIX_BAR_NO_DIRTY) ? 0 : KVM_MEM_LOG_DIRTY_PAGES,
						  VMM_RAM_GPA + addr, bar->size, vb->hva);
			v->res->memslot_updates++;
			v->nr_bars++;
			/*
			 * Not fatal, as in QEMU ("PCI peer-to-peer transactions
			 * on BARs are not supported"): 6.12's iommufd refuses
			 * VM_PFNMAP ranges with EFAULT.
			 */
			if (v->cfg->p2p) {
				ret = __vfio_dma_map(v->iommu, vb->hva, addr, bar->size);
				if (ret) {
					v->res->bar_map_failed++;
				} else {
					vb->dma_mapped = true;
					v->res->bar_map_bytes += bar->size;
				}
			}
			addr += bar->size;
		}
	}
	v->res->bar_slots = v->nr_bars;
	return 0;
}

static int phase_firmware(struct vmm *v)
{
	struct vmm_range sections[MAX_SECTIONS];
	int ret = 0;

	v->in_toggle = true;
	for (int i = 0; i < v->cfg->toggles && !ret; i++) {
		/* Odd changes hide the low RAM, even ones bring it back. */
		int n = ram_sections(v, i % 2, sections);

		ret = set_view(v, sections, n);
		if (!ret)
			set_kvm_slots(v, sections, n);
	}
	v->in_toggle = false;
	return ret;
}

/* Where a sample of guest RAM pages is, with move_pages() in query mode. */
static void check_numa(struct vmm *v)
{
	enum { SAMPLES = 256 };
	void *pages[SAMPLES];
	int status[SAMPLES], n = 0;
	struct bitmask *nodes;
	uint64_t step = v->cfg->mem_size / SAMPLES, unit;

	if (v->cfg->numa_mode == MPOL_DEFAULT || (!v->cfg->nr_devices && !v->cfg->prefault))
		return;	/* nothing populated the RAM */
	nodes = numa_parse_nodestring(v->cfg->numa_nodes);
	for (int i = 0; i < 64 && i <= numa_max_node(); i++)
		if (numa_bitmask_isbitset(nodes, i))
			v->res->numa_allowed |= 1ULL << i;
	numa_bitmask_free(nodes);
	/*
	 * Sample i is shifted by i % 64 backing pages: an interleave policy
	 * alternates nodes per backing page, and evenly spaced samples would
	 * all land on the same node whenever step is a multiple of the nodes.
	 */
	unit = get_backing_src_pagesz(v->cfg->backing);
	for (uint64_t i = 0; i < SAMPLES && i * step < v->cfg->mem_size; i++) {
		uint64_t off = i * step + (i % 64) * unit;

		if (off >= v->cfg->mem_size)
			off = i * step;
		pages[n++] = v->ram.addr + (off & ~4095ULL);
	}
	TEST_ASSERT(!syscall(__NR_move_pages, 0, n, pages, NULL, status, 0),
		    "move_pages() query: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		if (status[i] < 0 || status[i] >= 64 || !(v->res->numa_allowed & (1ULL << status[i])))
			v->res->numa_outside++;
		else
			v->res->numa_used |= 1ULL << status[i];
	}
	v->res->numa_sampled = n;
}

/* Ask KVM which BAR memslots it dirty-logs: GET_DIRTY_LOG fails with ENOENT if not. */
static void check_bar_dirty_log(struct vmm *v)
{
	for (int i = 0; i < v->nr_bars; i++) {
		size_t len = ((v->bars[i].size >> 12) + 63) / 64 * 8;
		void *bitmap = calloc(1, len);
		struct kvm_dirty_log log = { .slot = v->bars[i].slot, .dirty_bitmap = bitmap };
		int r = __vm_ioctl(v->vm, KVM_GET_DIRTY_LOG, &log);

		TEST_ASSERT(!r || errno == ENOENT, "KVM_GET_DIRTY_LOG on BAR slot %u: %s",
			    log.slot, strerror(errno));
		v->res->bar_slots_dirty += !r;
		free(bitmap);
	}
}

/* With an edu device: it copies a page through the IOMMU, the guest reads it. */
static int check_edu(struct vmm *v)
{
	struct vfio_pci_dev *edu = NULL;
	uint64_t *src = v->ram.addr + EDU_SRC_OFF, sum = 0;
	int r;

	for (int i = 0; i < v->cfg->nr_devices && !edu; i++)
		if (edu_is(v->dev[i]))
			edu = v->dev[i];
	if (!edu)
		return 0;
	edu_init(edu);
	for (int i = 0; i < 512; i++)
		src[i] = 0x5eed0000ULL + i * 0x9e3779b97f4a7c15ULL;
	memset(v->ram.addr + EDU_DST_OFF, 0, 4096);
	r = edu_copy(edu, EDU_SRC_OFF, EDU_DST_OFF, 4096);
	if (r)
		return fail(v, r, "edu copy through the IOMMU: %s", strerror(-r));
	TEST_ASSERT(run_to_ucall(v->vcpus[0], &sum) == UCALL_SYNC, "guest did not report the edu page");
	v->res->edu = sum == page_sum(src) ? 1 : -1;
	return 0;
}

static void teardown(struct vmm *v)
{
	kprobe_count_stop(&v->kp_flr);
	kprobe_count_stop(&v->kp_bus);
	if (v->vm)
		kvm_vm_free(v->vm);
	if (v->iommu) {
		for (int i = 0; i < v->nr_bars; i++)
			if (v->bars[i].dma_mapped)
				__vfio_dma_unmap(v->iommu, v->bars[i].addr, v->bars[i].size, NULL);
		for (int i = 0; i < v->nr_mapped; i++)
			ram_dma_unmap(v, v->mapped[i]);
	}
	for (int i = 0; i < VMM_MAX_DEVICES; i++)
		vfio_pci_close(v->dev[i]);
	vfio_iommu_cleanup(v->iommu);
	hostmem_free(&v->ram);
}

/* Run one phase, timed, and report it; returns the phase's 0 or -errno. */
static int timed(struct vmm *v, enum vmm_phase ph, int (*phase)(struct vmm *v))
{
	struct phase_clock c;
	int ret;

	phase_start(&c);
	ret = phase(v);
	v->res->t[ph] = phase_stop(&c);
	progress(v, ph);
	return ret;
}

/* vCPU 0 runs until the guest reports what it read (v->seen). */
static int phase_boot(struct vmm *v)
{
	run_to_ucall(v->vcpus[0], &v->seen);
	return 0;
}

int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, char *err, size_t len)
{
	struct vmm v = { .cfg = cfg, .res = res, .err = err, .errlen = len };
	struct phase_clock total;
	struct rusage ru0, ru1;
	uint64_t magic;
	int ret;

	memset(res, 0, sizeof(*res));
	v.ram.fd = -1;
	err[0] = 0;
	ret = vmm_check_config(cfg, err, len);
	if (ret)
		return ret;

	/*
	 * The reset counter is measurement, not VMM work: registering its
	 * kprobes patches kernel text, seconds under TCG.  Armed before the
	 * clock starts, it still sees every reset the device opens cause.
	 */
	if (cfg->nr_devices)
		start_reset_count(&v);
	getrusage(RUSAGE_SELF, &ru0);
	phase_start(&total);

	ret = timed(&v, VMM_PH_RAM, phase_ram) ?: timed(&v, VMM_PH_KVM, phase_kvm) ?:
	      timed(&v, VMM_PH_IOMMU, phase_iommu);
	if (ret)
		goto out;
	/* Two phases that may overlap: they time themselves. */
	ret = phase_devices_and_dma(&v);
	progress(&v, VMM_PH_DEVICES);
	progress(&v, VMM_PH_DMA_MAP);
	if (ret)
		goto out;
	ret = timed(&v, VMM_PH_BARS, phase_bars) ?: timed(&v, VMM_PH_FIRMWARE, phase_firmware);
	if (ret)
		goto out;

	magic = 0x600d000000000000ULL | (random() & 0xffffffffULL);
	*(uint64_t *)(v.ram.addr + MAGIC_OFF) = magic;
	timed(&v, VMM_PH_BOOT, phase_boot);
	res->t[VMM_PH_TOTAL] = phase_stop(&total);
	progress(&v, VMM_PH_TOTAL);
	res->guest_started = v.seen == magic;
	if (!res->guest_started) {
		ret = fail(&v, -EIO, "the guest read 0x%lx, the VMM wrote 0x%lx", v.seen, magic);
		goto out;
	}

	getrusage(RUSAGE_SELF, &ru1);
	res->faults = (ru1.ru_minflt - ru0.ru_minflt) + (ru1.ru_majflt - ru0.ru_majflt);
	read_reset_count(&v);
	if (v.iommu)
		res->dma = v.iommu->cnt;
	check_bar_dirty_log(&v);
	check_numa(&v);
	ret = check_edu(&v);
out:
	teardown(&v);
	return ret;
}
