// SPDX-License-Identifier: GPL-2.0
/*
 * The check of a VMM run's configuration against this machine.  See
 * vmm_config.h.
 *
 * Error style: every check returns 0 or -errno with one line in the
 * caller's buffer (config_err()), and nothing here aborts, so that a test
 * can say in one line why this machine cannot run a configuration.  One
 * exception is the KVM library's: get_backing_src_pagesz() asserts when
 * the host kernel has no THP at all.
 */
#include <errno.h>
#include <numa.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysutil.h"
#include "vmm_config.h"

static bool backing_supported(enum vm_mem_backing_src_type t)
{
	switch (t) {
	case VM_MEM_SRC_ANONYMOUS:
	case VM_MEM_SRC_ANONYMOUS_THP:
	case VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB:
	case VM_MEM_SRC_ANONYMOUS_HUGETLB_1GB:
	case VM_MEM_SRC_SHMEM:
		return true;
	default:
		return false;
	}
}

/* One line in @err; returns @r. */
static int __printf(4, 5)
config_err(char *err, size_t len, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return r;
}

int vmm_check_config(const struct vmm_config *cfg, char *err, size_t len)
{
	size_t pagesz;
	uint64_t kb;
	char drv[64];

	if (cfg->backing >= NUM_SRC_TYPES || !backing_supported(cfg->backing))
		return config_err(err, len, -EINVAL, "unsupported guest RAM backing (anonymous, anonymous_thp, anonymous_hugetlb_2mb, anonymous_hugetlb_1gb, shmem)");
	pagesz = get_backing_src_pagesz(cfg->backing);
	if (cfg->mem_size < (2ULL << 20) || cfg->mem_size % pagesz || cfg->mem_size % 4096)
		return config_err(err, len, -EINVAL, "guest RAM size %lu is not a multiple of the %s page size (%zu) of at least 2 MiB",
		    cfg->mem_size, vm_mem_backing_src_alias(cfg->backing)->name, pagesz);
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > VMM_MAX_VCPUS)
		return config_err(err, len, -EINVAL, "%d vCPUs: 1 to %d", cfg->nr_vcpus, VMM_MAX_VCPUS);
	if (cfg->nr_devices < 0 || cfg->nr_devices > VMM_MAX_DEVICES)
		return config_err(err, len, -EINVAL, "%d devices: at most %d", cfg->nr_devices, VMM_MAX_DEVICES);
	if (cfg->toggles < 0)
		return config_err(err, len, -EINVAL, "negative toggle count");

	if (is_backing_src_hugetlb(cfg->backing)) {
		char path[128];
		uint64_t free_pages = 0;

		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/free_hugepages",
			 pagesz >> 10);
		if (sys_read_u64(path, &free_pages) || free_pages * pagesz < cfg->mem_size)
			return config_err(err, len, -ENOMEM, "the hugetlb pool has %lu free %zu kB pages, %lu needed",
			    free_pages, pagesz >> 10, cfg->mem_size / pagesz);
	} else {
		if (meminfo_kb("MemAvailable", &kb))
			return config_err(err, len, -EIO, "cannot read MemAvailable from /proc/meminfo");
		if (cfg->mem_size / 1024 > kb)
			return config_err(err, len, -ENOMEM, "%lu MiB of guest RAM is more than this machine has available (%lu MiB)",
			    cfg->mem_size >> 20, kb >> 10);
	}
	if (cfg->backing == VM_MEM_SRC_ANONYMOUS_THP) {
		char thp[128] = "";

		sys_read_str("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
		if (!strstr(thp, "[always]") && !strstr(thp, "[madvise]"))
			return config_err(err, len, -EOPNOTSUPP, "transparent huge pages are disabled on this machine");
	}

	if (cfg->numa_mode != MPOL_DEFAULT) {
		struct bitmask *nodes;
		int n;

		if (numa_available() < 0)
			return config_err(err, len, -EOPNOTSUPP, "a NUMA policy was asked for, but NUMA is not available");
		if (cfg->numa_mode != MPOL_BIND && cfg->numa_mode != MPOL_INTERLEAVE &&
		    cfg->numa_mode != MPOL_PREFERRED)
			return config_err(err, len, -EINVAL, "unknown NUMA policy %d", cfg->numa_mode);
		nodes = cfg->numa_nodes ? numa_parse_nodestring(cfg->numa_nodes) : NULL;
		if (!nodes)
			return config_err(err, len, -EINVAL, "bad NUMA node list '%s' (this machine has nodes 0-%d)",
			    cfg->numa_nodes ?: "", numa_max_node());
		n = numa_bitmask_weight(nodes);
		numa_bitmask_free(nodes);
		if (cfg->numa_mode == MPOL_PREFERRED && n != 1)
			return config_err(err, len, -EINVAL, "the preferred policy takes one node, not %d", n);
	}

	for (int i = 0; i < cfg->nr_devices; i++) {
		const char *bdf = cfg->bdfs[i];

		if (!bdf || !vfio_bdf_valid(bdf))
			return config_err(err, len, -EINVAL, "'%s' is not a PCI address (segment:bus:dev.fn)", bdf ?: "");
		for (int j = 0; j < i; j++)
			if (!strcmp(bdf, cfg->bdfs[j]))
				return config_err(err, len, -EINVAL, "device %s is given twice", bdf);
		if (vfio_bdf_driver(bdf, drv, sizeof(drv)))
			return config_err(err, len, -ENODEV, "unknown device %s: no such PCI device", bdf);
		if (strcmp(drv, "vfio-pci"))
			return config_err(err, len, -EBUSY, "device %s is not bound to vfio-pci (driver: %s)", bdf,
			    drv[0] ? drv : "none");
	}
	if (cfg->nr_devices) {
		const char *why = vfio_iommu_mode_unavailable(cfg->iommu_mode, cfg->bdfs[0]);

		if (why)
			return config_err(err, len, -EOPNOTSUPP, "%s: %s", vfio_iommu_mode_name(cfg->iommu_mode), why);
	}
	if (access("/dev/kvm", R_OK | W_OK))
		return config_err(err, len, -ENOENT, "no /dev/kvm: %s", strerror(errno));
	return 0;
}
