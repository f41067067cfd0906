/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the VMM of vmm.h: what its files share, and no test includes.
 *   vmm.c         the guest code, the phases and vmm_run()
 *   vmm_ram.c     guest RAM as the VMM sees it: the views, the DMA maps of
 *                 RAM and the KVM memslots that follow them
 *   vmm_checks.c  what is read after the guest ran: resets counted by the
 *                 kernel, where the RAM went (NUMA), which BAR slots KVM
 *                 dirty-logs, the edu copy
 * Error style (vmm.c says which step uses which): -errno with one line
 * through vmm_fail(), or TEST_ASSERT for what only a bug or a broken host
 * can make fail.
 */
#ifndef SELFTESTS_VMM_PRIV_H
#define SELFTESTS_VMM_PRIV_H

#include "kvm_util.h"

#include "hostmem.h"
#include "kprobe_count.h"
#include "vfio_dev.h"
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

static inline bool vmm_fix_on(const struct vmm *v, enum vmm_fix f)
{
	return v->cfg->fixes & (1u << f);
}

/*
 * The IOVA of guest RAM at model address @a.  As QEMU puts RAM beyond the
 * low 3 GiB above 4 GiB, RAM above RAM_LOW_END sits above a PCI hole: the
 * hole holds the IOMMU's MSI window (0xfee00000), which type1 and iommufd
 * refuse to map.  GPAs keep no hole: KVM does not care.
 */
#define RAM_LOW_END	(3ULL << 30)
#define PCI_HOLE	((4ULL << 30) - RAM_LOW_END)

static inline uint64_t vmm_ram_iova(uint64_t a)
{
	return a < RAM_LOW_END ? a : a + PCI_HOLE;
}

/* vmm.c */
int __printf(3, 4) vmm_fail(struct vmm *v, int r, const char *fmt, ...);
uint64_t vmm_run_to_ucall(struct kvm_vcpu *vcpu, uint64_t *val);

/* vmm_ram.c */
int vmm_view_sections(struct vmm *v, bool low_is_ram, struct vmm_range *out);
int vmm_set_view(struct vmm *v, const struct vmm_range *next, int n);
void vmm_set_kvm_slots(struct vmm *v, const struct vmm_range *next, int n);
int vmm_ram_dma_unmap(struct vmm *v, struct vmm_range r);

/* vmm_checks.c */
void vmm_reset_count_start(struct vmm *v);
void vmm_reset_count_read(struct vmm *v);
void vmm_check_numa(struct vmm *v);
void vmm_check_bar_dirty_log(struct vmm *v);
int vmm_check_edu(struct vmm *v);

#endif /* SELFTESTS_VMM_PRIV_H */
