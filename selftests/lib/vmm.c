// SPDX-License-Identifier: GPL-2.0
/*
 * A small VMM that creates a VM with passthrough devices phase by phase:
 * the guest code, the phases and the run.  See vmm.h for the model; the
 * configuration check is in vmm_config.c, the names, counts and CSV in
 * vmm_report.c, the RAM layout in vmm_layout.c, the DMA maps and memslots
 * that follow it in vmm_ram.c, what is read after the run in vmm_checks.c
 * (vmm_priv.h: what these files share).
 *
 * Error style, one per layer:
 *   - host memory, the IOMMU and the devices (allocation, mbind, VFIO
 *     attach, open, reset, DMA map, BAR mmap, the edu copy), and the value
 *     the guest read: the step returns -errno with one line in v->err
 *     (vmm_fail()), and vmm_run() tears down and returns it, so that a test
 *     can report the run and go on;
 *   - KVM (VM, vCPUs, memslots, dirty log, running the guest to a ucall),
 *     and what only a bug or a broken host can make fail (a table of the
 *     VMM overflowing, pthread_create(), the move_pages() query):
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

#include "vmm_priv.h"

/* One line in v->err; returns @r. */
int __printf(3, 4) vmm_fail(struct vmm *v, int r, const char *fmt, ...)
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

/* Run vCPU 0 to its next ucall; the reported value in *val. */
uint64_t vmm_run_to_ucall(struct kvm_vcpu *vcpu, uint64_t *val)
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

/* ---- phases --------------------------------------------------------------- */

static int phase_ram(struct vmm *v)
{
	const struct vmm_config *cfg = v->cfg;
	int r = __hostmem_alloc(&v->ram, cfg->backing, cfg->mem_size);

	if (r)
		return vmm_fail(v, r, "allocating %lu MiB of %s guest RAM: %s", cfg->mem_size >> 20,
			    vm_mem_backing_src_alias(cfg->backing)->name, strerror(-r));
	if (cfg->numa_mode != MPOL_DEFAULT) {
		struct bitmask *nodes = numa_parse_nodestring(cfg->numa_nodes);

		if (!nodes)
			return vmm_fail(v, -EINVAL, "bad NUMA node list '%s'", cfg->numa_nodes);
		/* The KVM library's numaif.h shadows libnuma's, and has no mbind(). */
		r = syscall(__NR_mbind, v->ram.addr, cfg->mem_size, cfg->numa_mode,
			    nodes->maskp, nodes->size + 1, 0);
		numa_bitmask_free(nodes);
		if (r)
			return vmm_fail(v, -errno, "mbind of guest RAM: %s", strerror(errno));
	}
	if (cfg->prefault)
		hostmem_populate(&v->ram);
	return 0;
}

static int phase_kvm(struct vmm *v)
{
	struct vmm_range sections[MAX_SECTIONS];
	int n = vmm_view_sections(v, true, sections);
	uint64_t gpa;

	v->vm = __vm_create_with_vcpus(VM_SHAPE_DEFAULT, v->cfg->nr_vcpus, 0,
				       vmm_guest_code, v->vcpus);
	vmm_set_kvm_slots(v, sections, n);
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
		return vmm_fail(v, -errno, "%s IOMMU context: %s",
			    vfio_iommu_mode_name(v->cfg->iommu_mode), strerror(errno));
	for (int i = 0; i < v->cfg->nr_devices; i++) {
		v->dev[i] = vfio_pci_open_begin(v->iommu, v->cfg->bdfs[i]);
		if (!v->dev[i])
			return vmm_fail(v, -errno, "attaching %s to the %s IOMMU context: %s",
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

/* Devices and the initial DMA map of guest RAM (views 1). */
static int phase_devices_and_dma(struct vmm *v)
{
	const struct vmm_config *cfg = v->cfg;
	struct open_job jobs[VMM_MAX_DEVICES] = {};
	pthread_t threads[VMM_MAX_DEVICES];
	struct vmm_range sections[MAX_SECTIONS];
	bool parallel = vmm_fix_on(v, VMM_FIX_PARALLEL_RESET);
	struct phase_clock c_dev, c_dma;
	int n, ret = 0;

	for (int i = 0; i < cfg->nr_devices; i++)
		jobs[i] = (struct open_job){ .v = v, .i = i, .reset = !vmm_fix_on(v, VMM_FIX_ONE_RESET) };

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
		n = vmm_build_sections(cfg->mem_size, vmm_fix_on(v, VMM_FIX_SPLIT_LOW), step, sections);
		ret = vmm_set_view(v, sections, n);
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
			ret = vmm_fail(v, jobs[i].ret, "opening or resetting %s: %s", dev->bdf,
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

	while (addr < vmm_ram_iova(v->cfg->mem_size))
		addr += BAR_WINDOW;
	for (int d = 0; d < v->cfg->nr_devices; d++) {
		for (int b = 0; b < PCI_STD_NUM_BARS; b++) {
			struct vfio_pci_bar *bar = &v->dev[d]->bar[b];
			struct vmm_bar *vb = &v->bars[v->nr_bars];

			if (bar->size < 4096 || !(bar->flags & VFIO_REGION_INFO_FLAG_MMAP))
				continue;
			vb->hva = __vfio_pci_bar_map(v->dev[d], b);
			if (!vb->hva)
				return vmm_fail(v, -errno, "%s: mmap of BAR%d: %s", v->dev[d]->bdf, b,
					    strerror(errno));
			/* Naturally aligned, like a BAR. */
			addr = (addr + bar->size - 1) & ~(bar->size - 1);
			vb->dev = d;
			vb->idx = b;
			vb->addr = addr;
			vb->size = bar->size;
			vb->slot = SLOT_BAR_FIRST + v->nr_bars;
			vm_set_user_memory_region(v->vm, vb->slot,
						  vmm_fix_on(v, VMM_FIX_BAR_NO_DIRTY) ? 0 : KVM_MEM_LOG_DIRTY_PAGES,
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
		int n = vmm_view_sections(v, i % 2, sections);

		ret = vmm_set_view(v, sections, n);
		if (!ret)
			vmm_set_kvm_slots(v, sections, n);
	}
	v->in_toggle = false;
	return ret;
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
			vmm_ram_dma_unmap(v, v->mapped[i]);
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
	vmm_run_to_ucall(v->vcpus[0], &v->seen);
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
		vmm_reset_count_start(&v);
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
		ret = vmm_fail(&v, -EIO, "the guest read 0x%lx, the VMM wrote 0x%lx", v.seen, magic);
		goto out;
	}

	getrusage(RUSAGE_SELF, &ru1);
	res->faults = (ru1.ru_minflt - ru0.ru_minflt) + (ru1.ru_majflt - ru0.ru_majflt);
	vmm_reset_count_read(&v);
	if (v.iommu)
		res->dma = v.iommu->cnt;
	vmm_check_bar_dirty_log(&v);
	vmm_check_numa(&v);
	ret = vmm_check_edu(&v);
out:
	teardown(&v);
	return ret;
}
