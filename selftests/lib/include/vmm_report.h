/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What one run of the VMM model (lib/vmm.c, see vmm.h) reports, and how it
 * is written (lib/vmm_report.c): the phases it times, the counts it keeps,
 * the names of both and of the fixes, and one CSV line per run.
 */
#ifndef SELFTESTS_VMM_REPORT_H
#define SELFTESTS_VMM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "phase.h"
#include "vfio_dev.h"
#include "vmm_config.h"

int vmm_fix_parse(const char *name);	/* -1 if unknown */

enum vmm_phase {
	VMM_PH_RAM,		/* allocate guest RAM, NUMA policy, prefault */
	VMM_PH_KVM,		/* VM, vCPUs, RAM memslots */
	VMM_PH_IOMMU,		/* container or IOAS; groups attached */
	VMM_PH_DEVICES,		/* opens (kernel resets) and VMM resets */
	VMM_PH_DMA_MAP,		/* guest RAM DMA-mapped (views 1) */
	VMM_PH_BARS,		/* BARs mmapped, memslots, P2P maps */
	VMM_PH_FIRMWARE,	/* the low-memory toggles (views 2) */
	VMM_PH_BOOT,		/* vCPU 0 runs until the guest reports */
	VMM_PH_TOTAL,		/* start to guest report, phases may overlap */
	VMM_NR_PHASES,
};
const char *vmm_phase_name(enum vmm_phase ph);

/* What one VM creation did and cost. */
struct vmm_result {
	struct phase_time t[VMM_NR_PHASES];
	struct vfio_dma_counters dma;	/* every MAP/UNMAP ioctl issued */
	uint64_t ram_map_ioctls;	/* ... of them, on guest RAM */
	uint64_t ram_map_bytes;
	uint64_t high_map_bytes;	/* ... of it above VMM_LOW_SPLIT */
	uint64_t map_eexist;		/* MAPs refused as already mapped */
	uint64_t map_overlaps;		/* MAPs issued over a mapped range */
	uint64_t dups_skipped;		/* MAPs VMM_FIX_DEDUP_MAP did not issue */
	uint64_t toggle_unmaps;		/* UNMAPs caused by firmware toggles */
	uint64_t toggle_unmap_bytes;
	uint64_t toggle_unmap_end;	/* highest end address among them */
	int nr_resettable;		/* devices with VFIO_DEVICE_FLAGS_RESET */
	int nr_flr;			/* devices advertising FLR */
	uint64_t vmm_resets;		/* VFIO_DEVICE_RESET issued */
	int64_t kernel_resets;		/* pcie_flr + bus resets; -1: not countable */
	char kernel_resets_why[96];	/* why not countable */
	uint64_t memslot_updates;	/* KVM_SET_USER_MEMORY_REGION calls */
	int bar_slots;			/* BAR memslots */
	int bar_slots_dirty;		/* ... that the kernel dirty-logs */
	uint64_t bar_map_bytes;		/* P2P DMA maps of BARs */
	uint64_t faults;		/* page faults taken by the process */
	uint64_t bar_map_failed;	/* P2P maps refused (non-fatal, as in QEMU) */
	/* With a NUMA policy and populated RAM: where sampled pages are. */
	int numa_sampled;		/* pages asked (move_pages() query) */
	int numa_outside;		/* ... on a node outside the policy's */
	uint64_t numa_allowed;		/* the policy's nodes (bit per node < 64) */
	uint64_t numa_used;		/* nodes the sampled pages are on */
	bool guest_started;		/* the guest read and reported our value */
	int edu;			/* 1 DMA reached the guest, -1 it did not, 0 no edu */
};

/* One machine-readable line per run (README: "vm_create CSV"). */
/* The counts of a result, in CSV column order: their number, names, values. */
int vmm_nr_counts(void);
const char *vmm_count_name(int i);
int64_t vmm_count(const struct vmm_result *res, int i);

void vmm_csv_header(FILE *f);
void vmm_csv_row(FILE *f, const struct vmm_config *cfg, const struct vmm_result *res);

#endif /* SELFTESTS_VMM_REPORT_H */
