/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small VMM that creates a VM with passthrough devices the way QEMU does,
 * phase by phase, built on the KVM selftests library and the VFIO UAPI.
 * It reproduces the VMM-side causes of slow creation from Liang Li's talk
 * (KVM Forum 2020) and their fixes, each selectable on its own:
 *
 * Guest RAM is a model address space [0, mem) that is both the IOVA space
 * (IOVA == model address, as QEMU maps RAM at IOVA == GPA) and, shifted to
 * VMM_RAM_GPA, the KVM guest physical address space.  The VMM sees the
 * memory layout as a sequence of "views" (lists of RAM sections), as a
 * memory listener does:
 *   1. while the machine is built: [0, 640K); then [0, 640K) and
 *      [1M, mem); then the legacy area [640K, 1M) as RAM too, which merges
 *      the sections into one (QEMU's flatview_simplify());
 *   2. during firmware, @toggles changes of the legacy area [0xC0000, 1M)
 *      between RAM and ROM (PAM/SMRAM), ending with RAM.
 * Without VMM_FIX_SPLIT_LOW, RAM is one section from 0 (QEMU merges the
 * adjacent pieces), so each toggle removes and re-adds all of it.  Without
 * VMM_FIX_DEDUP_MAP, the VMM keeps no record of what it mapped: on every view
 * change it re-maps every section, and a MAP the kernel refuses as already
 * mapped (EEXIST) is unmapped and mapped again (QEMU's fallback).
 *
 * Devices: each is attached (legacy: its group joins the container) and
 * opened; the kernel resets it on open.  Without VMM_FIX_ONE_RESET the VMM
 * resets every resettable device once more (system reset), serially.  With
 * VMM_FIX_PARALLEL_RESET the opens run in one thread per device while guest
 * RAM is being DMA-mapped.  Every mmap-able BAR becomes a KVM memslot, dirty
 * logged unless VMM_FIX_BAR_NO_DIRTY, and with @p2p is DMA-mapped too.
 *
 * The VM is ready when vCPU 0 runs guest code that reads a value the VMM
 * wrote into guest RAM and reports it.  With an edu device, the device then
 * copies a page through the IOMMU and the guest reads the copy.
 */
#ifndef SELFTESTS_VMM_H
#define SELFTESTS_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/mempolicy.h>

#include "test_util.h"
#include "phase.h"
#include "vfio_dev.h"
#include "vmm_layout.h"

#define VMM_RAM_GPA	(1ULL << 32)	/* KVM GPA of model address 0 */
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

/*
 * Check @cfg against this machine before anything is allocated: sizes,
 * memory and hugetlb pool, backing, devices present and bound to vfio-pci,
 * IOMMU back end, NUMA nodes.  0, or -errno with one line in @err.
 */
int vmm_check_config(const struct vmm_config *cfg, char *err, size_t len);

/*
 * Create the VM, run it until the guest reports, and tear it all down.
 * 0, or -errno with one line in @err; on every path nothing stays pinned,
 * mapped or open.  Calls vmm_check_config() first.
 */
int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, char *err, size_t len);

/* One machine-readable line per run (README: "vm_create CSV"). */
/* The counts of a result, in CSV column order: their number, names, values. */
int vmm_nr_counts(void);
const char *vmm_count_name(int i);
int64_t vmm_count(const struct vmm_result *res, int i);

void vmm_csv_header(FILE *f);
void vmm_csv_row(FILE *f, const struct vmm_config *cfg, const struct vmm_result *res);

#endif /* SELFTESTS_VMM_H */
