/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What one run of the VMM model (lib/vmm.c, see vmm.h) is asked to do, and
 * the check of that against this machine before anything is allocated
 * (lib/vmm_config.c).
 */
#ifndef SELFTESTS_VMM_CONFIG_H
#define SELFTESTS_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/mempolicy.h>

#include "test_util.h"
#include "vfio_dev.h"

#define VMM_MAX_DEVICES	16
#define VMM_MAX_VCPUS	64

enum vmm_fix {
	VMM_FIX_DEDUP_MAP,	/* remember what is mapped: never repeat a map */
	VMM_FIX_SPLIT_LOW,	/* RAM split at 1 MiB: toggles remap the low part only */
	VMM_FIX_ONE_RESET,	/* no reset after open: the kernel already reset */
	VMM_FIX_PARALLEL_RESET,	/* open devices in threads, during the DMA map */
	VMM_FIX_BAR_NO_DIRTY,	/* BAR memslots without dirty logging */
	VMM_NR_FIXES,
};
#define VMM_FIXES_NONE	0u
#define VMM_FIXES_ALL	((1u << VMM_NR_FIXES) - 1)

struct vmm_config {
	uint64_t mem_size;
	enum vm_mem_backing_src_type backing;
	int numa_mode;			/* MPOL_DEFAULT, _BIND, _INTERLEAVE, _PREFERRED */
	const char *numa_nodes;		/* libnuma node string, e.g. "0-1" */
	bool prefault;			/* populate RAM before the DMA map */
	enum vfio_iommu_mode iommu_mode;
	int nr_devices;
	char *bdfs[VMM_MAX_DEVICES];
	int nr_vcpus;
	unsigned int fixes;		/* bits of enum vmm_fix */
	int toggles;			/* firmware changes of [0xC0000, 1M) */
	bool p2p;			/* DMA-map BARs for peer-to-peer */
	bool progress;			/* a "# ..." line per phase */
	const char *label;		/* names the run in progress lines */
};

/*
 * Check @cfg against this machine before anything is allocated: sizes,
 * memory and hugetlb pool, backing, devices present and bound to vfio-pci,
 * IOMMU back end, NUMA nodes.  0, or -errno with one line in @err.
 */
int vmm_check_config(const struct vmm_config *cfg, char *err, size_t len);

#endif /* SELFTESTS_VMM_CONFIG_H */
