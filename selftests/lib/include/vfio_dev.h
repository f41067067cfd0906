/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO helpers for this suite: one IOMMU context (a legacy type1 container
 * or an iommufd IOAS) shared by any number of PCI devices, DMA map/unmap
 * with counters, config space, BARs and resets.
 *
 * Naming follows the KVM selftests library: __foo() returns an error code
 * (-errno) or NULL with errno set, which is all the underscores mean; the
 * foo() of a __foo() asserts success with TEST_ASSERT.  Other functions say
 * what they return.
 */
#ifndef SELFTESTS_VFIO_DEV_H
#define SELFTESTS_VFIO_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <linux/vfio.h>
#include <linux/pci_regs.h>

enum vfio_iommu_mode {
	VFIO_MODE_TYPE1,	/* /dev/vfio/vfio, VFIO_TYPE1_IOMMU */
	VFIO_MODE_TYPE1V2,	/* /dev/vfio/vfio, VFIO_TYPE1v2_IOMMU */
	VFIO_MODE_IOMMUFD,	/* /dev/iommu + /dev/vfio/devices/vfioN */
	VFIO_NR_MODES,
};

const char *vfio_iommu_mode_name(enum vfio_iommu_mode mode);
/* Returns the mode, or -1 for an unknown name. */
int vfio_iommu_mode_parse(const char *name);

/* What the DMA map/unmap calls of one IOMMU context did. */
struct vfio_dma_counters {
	uint64_t map_ioctls;
	uint64_t map_bytes;
	uint64_t unmap_ioctls;
	uint64_t unmap_bytes;
};

struct vfio_iommu {
	enum vfio_iommu_mode mode;
	int container_fd;	/* legacy modes */
	bool iommu_set;		/* legacy: VFIO_SET_IOMMU done */
	int iommufd;		/* iommufd mode */
	uint32_t ioas_id;
	struct vfio_dma_counters cnt;
};

struct vfio_pci_bar {
	void *addr;		/* mmap of the whole BAR, or NULL */
	uint64_t size;
	uint64_t offset;	/* region offset in the device fd */
	uint32_t flags;		/* VFIO_REGION_INFO_FLAG_* */
};

struct vfio_pci_dev {
	char bdf[32];
	struct vfio_iommu *iommu;
	int group_fd;		/* legacy modes only */
	int fd;
	uint16_t vendor_id;
	uint16_t device_id;
	struct vfio_device_info info;
	uint64_t config_offset;
	struct vfio_pci_bar bar[PCI_STD_NUM_BARS];
	unsigned int resets;	/* VFIO_DEVICE_RESET calls that succeeded */
};

/*
 * Why @mode cannot be used on this machine (a static string), or NULL if it
 * can.  For iommufd, @bdf (optional) must also have a VFIO cdev.
 */
const char *vfio_iommu_mode_unavailable(enum vfio_iommu_mode mode, const char *bdf);

struct vfio_iommu *__vfio_iommu_init(enum vfio_iommu_mode mode);
struct vfio_iommu *vfio_iommu_init(enum vfio_iommu_mode mode);
void vfio_iommu_cleanup(struct vfio_iommu *iommu);

/* Map [vaddr, vaddr + size) at @iova, read/write.  0 or -errno. */
int __vfio_dma_map(struct vfio_iommu *iommu, void *vaddr, uint64_t iova, uint64_t size);
void vfio_dma_map(struct vfio_iommu *iommu, void *vaddr, uint64_t iova, uint64_t size);
/* Unmap [iova, iova + size); *unmapped gets the bytes unmapped.  0 or -errno. */
int __vfio_dma_unmap(struct vfio_iommu *iommu, uint64_t iova, uint64_t size,
		     uint64_t *unmapped);
void vfio_dma_unmap(struct vfio_iommu *iommu, uint64_t iova, uint64_t size);

/*
 * The first usable IOVA range of at least @size bytes at or above @min,
 * from the IOMMU's reported valid ranges.  Returns the start, or
 * UINT64_MAX if there is none.  Needs at least one device attached.
 */
uint64_t vfio_iommu_iova_base(struct vfio_iommu *iommu, uint64_t min, uint64_t size);

/*
 * Open @bdf (bound to vfio-pci) in @iommu.  Opening resets the device in
 * the kernel (vfio_pci_core_enable() -> pci_try_reset_function()), as it
 * does for any VMM.  It is two steps, which a VMM may separate:
 *   vfio_pci_open_begin()   legacy: the group joins the container (the
 *                           first one sets the IOMMU type, after which DMA
 *                           can be mapped); iommufd: nothing yet.  No reset.
 *                           The device, or NULL with errno set.
 *   vfio_pci_open_finish()  get the device fd (legacy) or open, bind and
 *                           attach the cdev (iommufd): the reset happens
 *                           here.  0 or -errno.
 */
struct vfio_pci_dev *vfio_pci_open_begin(struct vfio_iommu *iommu, const char *bdf);
int vfio_pci_open_finish(struct vfio_pci_dev *dev);
struct vfio_pci_dev *__vfio_pci_open(struct vfio_iommu *iommu, const char *bdf);
struct vfio_pci_dev *vfio_pci_open(struct vfio_iommu *iommu, const char *bdf);
void vfio_pci_close(struct vfio_pci_dev *dev);

uint32_t vfio_pci_config_read(struct vfio_pci_dev *dev, uint32_t off, int size);
void vfio_pci_config_write(struct vfio_pci_dev *dev, uint32_t off, int size, uint32_t val);
/* Offset of PCI capability @id in config space, 0 if absent. */
uint8_t vfio_pci_find_cap(struct vfio_pci_dev *dev, uint8_t id);
/* Set PCI_COMMAND_MEMORY and PCI_COMMAND_MASTER. */
void vfio_pci_enable_mmio_dma(struct vfio_pci_dev *dev);
/* Function Level Reset advertised in the PCIe Device Capabilities. */
bool vfio_pci_has_flr(struct vfio_pci_dev *dev);
/* VFIO_DEVICE_RESET: 0 or -errno. */
int __vfio_pci_reset(struct vfio_pci_dev *dev);
/*
 * mmap the whole of BAR @idx (also stored in dev->bar[idx].addr), aligned
 * to its size up to 1 GiB so that it can be mapped with huge leaves.  NULL
 * with errno set (EINVAL: no such BAR or it cannot be mmapped).
 */
void *__vfio_pci_bar_map(struct vfio_pci_dev *dev, int idx);
void *vfio_pci_bar_map(struct vfio_pci_dev *dev, int idx);
void vfio_pci_bar_unmap(struct vfio_pci_dev *dev, int idx);

/*
 * vfio_iommu_type1's pin_runs parameter (patches/): pin, account and map
 * contiguous runs at once.  Returns the old value (0 or 1), or -errno if
 * this kernel has no such parameter.
 */
int vfio_type1_set_pin_runs(bool on);

/*
 * Device addresses for a test: trailing "segment:bus:dev.fn" arguments are
 * taken out of argv (like the upstream VFIO selftests), otherwise the
 * space-separated list in $VFIO_SELFTESTS_BDF.  Returns how many were found
 * and a NULL-terminated array in *bdfs (strings owned by argv or the array).
 */
int vfio_selftests_get_bdfs(int *argc, char *argv[], char ***bdfs);
bool vfio_bdf_valid(const char *bdf);
/* Name of the driver @bdf is bound to, in @buf; "" if none.  -errno if no such device. */
int vfio_bdf_driver(const char *bdf, char *buf, size_t len);

#endif /* SELFTESTS_VFIO_DEV_H */
