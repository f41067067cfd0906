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
 *
 * The model by concern: the phases and the run (lib/vmm.c, this header),
 * the configuration and its check (vmm_config.h), the result, its names
 * and its CSV (vmm_report.h), the RAM layout (vmm_layout.h).
 */
#ifndef SELFTESTS_VMM_H
#define SELFTESTS_VMM_H

#include "vmm_config.h"
#include "vmm_layout.h"
#include "vmm_report.h"

#define VMM_RAM_GPA	(1ULL << 32)	/* KVM GPA of model address 0 */

/*
 * Create the VM, run it until the guest reports, and tear it all down.
 * 0, or -errno with one line in @err; on every path nothing stays pinned,
 * mapped or open.  Calls vmm_check_config() first.
 */
int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, char *err, size_t len);

#endif /* SELFTESTS_VMM_H */
