// SPDX-License-Identifier: GPL-2.0
/*
 * What the VMM of vmm.h reads besides the clock: the resets the kernel did
 * (kprobes on pcie_flr and the secondary bus reset, armed before the run),
 * and after the guest ran: where guest RAM went (NUMA), which BAR memslots
 * KVM dirty-logs, and whether an edu device's DMA reached the guest.
 */
#include <errno.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "processor.h"
#include "ucall_common.h"

#include "edu.h"
#include "vmm_priv.h"

void vmm_reset_count_start(struct vmm *v)
{
	int r1 = kprobe_count_start(&v->kp_flr, "pcie_flr");
	int r2 = r1 ? r1 : kprobe_count_start(&v->kp_bus, "pci_bridge_secondary_bus_reset");

	if (r2) {
		v->res->kernel_resets = -1;
		snprintf(v->res->kernel_resets_why, sizeof(v->res->kernel_resets_why),
			 "kprobe events unavailable: %s", strerror(-r2));
	}
}

void vmm_reset_count_read(struct vmm *v)
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

static uint64_t page_sum(const uint64_t *p)
{
	uint64_t sum = 0;

	for (int i = 0; i < 512; i++)
		sum ^= p[i] * (i + 1);
	return sum;
}

/* Where a sample of guest RAM pages is, with move_pages() in query mode. */
void vmm_check_numa(struct vmm *v)
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
void vmm_check_bar_dirty_log(struct vmm *v)
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
int vmm_check_edu(struct vmm *v)
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
		return vmm_fail(v, r, "edu copy through the IOMMU: %s", strerror(-r));
	TEST_ASSERT(vmm_run_to_ucall(v->vcpus[0], &sum) == UCALL_SYNC, "guest did not report the edu page");
	v->res->edu = sum == page_sum(src) ? 1 : -1;
	return 0;
}
