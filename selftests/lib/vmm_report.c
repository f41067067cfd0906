// SPDX-License-Identifier: GPL-2.0
/*
 * What a VMM run reports, and how it is written: the names of the phases
 * and the fixes, the counts of a result, the CSV.  See vmm_report.h.
 *
 * Error style: none.  These functions only name and format what a run
 * left in struct vmm_result, into the caller's stream (a write error shows
 * in ferror(), the caller's to check); vmm_fix_parse() returns -1 for a
 * name it does not know.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <sys/utsname.h>

#include "vmm_report.h"

static const char * const fix_names[VMM_NR_FIXES] = {
	[VMM_FIX_DEDUP_MAP] = "dedup-map",
	[VMM_FIX_SPLIT_LOW] = "split-low",
	[VMM_FIX_ONE_RESET] = "one-reset",
	[VMM_FIX_PARALLEL_RESET] = "parallel-reset",
	[VMM_FIX_BAR_NO_DIRTY] = "bar-no-dirty",
};

static const char * const phase_names[VMM_NR_PHASES] = {
	[VMM_PH_RAM] = "ram",
	[VMM_PH_KVM] = "kvm",
	[VMM_PH_IOMMU] = "iommu",
	[VMM_PH_DEVICES] = "devices",
	[VMM_PH_DMA_MAP] = "dma_map",
	[VMM_PH_BARS] = "bars",
	[VMM_PH_FIRMWARE] = "firmware",
	[VMM_PH_BOOT] = "boot",
	[VMM_PH_TOTAL] = "total",
};

int vmm_fix_parse(const char *name)
{
	for (int i = 0; i < VMM_NR_FIXES; i++)
		if (!strcmp(name, fix_names[i]))
			return i;
	return -1;
}

const char *vmm_phase_name(enum vmm_phase ph)
{
	return ph < VMM_NR_PHASES ? phase_names[ph] : "?";
}

/*
 * The counts of a result, in their CSV column order after the phases: the
 * one list the CSV header, the CSV row and vm_create_test's table are made
 * from.  bench/report.sh reads the columns by name.
 */
enum vmm_count_kind { VMM_U64, VMM_MIB, VMM_S64, VMM_INT, VMM_BOOL };
static const struct vmm_count {
	const char *name;
	size_t off;
	enum vmm_count_kind kind;
} vmm_counts[] = {
#define COUNT(name, member, kind) { name, offsetof(struct vmm_result, member), VMM_##kind }
	COUNT("map_ioctls", dma.map_ioctls, U64),
	COUNT("map_mib", dma.map_bytes, MIB),
	COUNT("unmap_ioctls", dma.unmap_ioctls, U64),
	COUNT("unmap_mib", dma.unmap_bytes, MIB),
	COUNT("ram_map_ioctls", ram_map_ioctls, U64),
	COUNT("ram_map_mib", ram_map_bytes, MIB),
	COUNT("high_map_mib", high_map_bytes, MIB),
	COUNT("map_eexist", map_eexist, U64),
	COUNT("map_overlaps", map_overlaps, U64),
	COUNT("dups_skipped", dups_skipped, U64),
	COUNT("toggle_unmaps", toggle_unmaps, U64),
	COUNT("toggle_unmap_mib", toggle_unmap_bytes, MIB),
	COUNT("toggle_unmap_end", toggle_unmap_end, U64),
	COUNT("vmm_resets", vmm_resets, U64),
	COUNT("kernel_resets", kernel_resets, S64),
	COUNT("memslot_updates", memslot_updates, U64),
	COUNT("bar_slots", bar_slots, INT),
	COUNT("bar_slots_dirty", bar_slots_dirty, INT),
	COUNT("bar_map_mib", bar_map_bytes, MIB),
	COUNT("bar_map_failed", bar_map_failed, U64),
	COUNT("faults", faults, U64),
	COUNT("numa_sampled", numa_sampled, INT),
	COUNT("numa_outside", numa_outside, INT),
	COUNT("guest_started", guest_started, BOOL),
	COUNT("edu", edu, INT),
#undef COUNT
};

int vmm_nr_counts(void)
{
	return ARRAY_SIZE(vmm_counts);
}

const char *vmm_count_name(int i)
{
	return vmm_counts[i].name;
}

int64_t vmm_count(const struct vmm_result *res, int i)
{
	const void *p = (const char *)res + vmm_counts[i].off;

	switch (vmm_counts[i].kind) {
	case VMM_U64:
		return *(const uint64_t *)p;
	case VMM_MIB:
		return *(const uint64_t *)p >> 20;
	case VMM_S64:
		return *(const int64_t *)p;
	case VMM_INT:
		return *(const int *)p;
	case VMM_BOOL:
		return *(const bool *)p;
	}
	return 0;
}

void vmm_csv_header(FILE *f)
{
	fprintf(f, "kernel,label,mem_mib,backing,numa,prefault,iommu,devices,flr_devices,vcpus,fixes,toggles,p2p");
	for (int i = 0; i < VMM_NR_PHASES; i++)
		fprintf(f, ",%s_s,%s_cpu_s", phase_names[i], phase_names[i]);
	for (int i = 0; i < vmm_nr_counts(); i++)
		fprintf(f, ",%s", vmm_count_name(i));
	fprintf(f, "\n");
}

static const char *numa_name(int mode)
{
	switch (mode) {
	case MPOL_BIND: return "bind";
	case MPOL_INTERLEAVE: return "interleave";
	case MPOL_PREFERRED: return "preferred";
	default: return "default";
	}
}

void vmm_csv_row(FILE *f, const struct vmm_config *cfg, const struct vmm_result *res)
{
	struct utsname u;
	char fixes[128] = "", nodes[64] = "";

	uname(&u);
	/* A node list like "0,1" must not split the CSV field. */
	if (cfg->numa_mode != MPOL_DEFAULT && cfg->numa_nodes)
		for (size_t i = 0; cfg->numa_nodes[i] && i < sizeof(nodes) - 1; i++)
			nodes[i] = cfg->numa_nodes[i] == ',' ? '+' : cfg->numa_nodes[i];
	for (int i = 0; i < VMM_NR_FIXES; i++)
		if (cfg->fixes & (1u << i))
			snprintf(fixes + strlen(fixes), sizeof(fixes) - strlen(fixes), "%s%s",
				 fixes[0] ? "+" : "", fix_names[i]);
	fprintf(f, "%s,%s,%lu,%s,%s%s%s,%d,%s,%d,%d,%d,%s,%d,%d", u.release, cfg->label ?: "",
		cfg->mem_size >> 20, vm_mem_backing_src_alias(cfg->backing)->name,
		numa_name(cfg->numa_mode), nodes[0] ? ":" : "", nodes, cfg->prefault,
		vfio_iommu_mode_name(cfg->iommu_mode), cfg->nr_devices, res->nr_flr,
		cfg->nr_vcpus, fixes[0] ? fixes : "none", cfg->toggles, cfg->p2p);
	for (int i = 0; i < VMM_NR_PHASES; i++)
		fprintf(f, ",%.6f,%.6f", ns_to_s(res->t[i].wall_ns), ns_to_s(res->t[i].cpu_ns));
	for (int i = 0; i < vmm_nr_counts(); i++)
		fprintf(f, ",%" PRId64, vmm_count(res, i));
	fprintf(f, "\n");
}
