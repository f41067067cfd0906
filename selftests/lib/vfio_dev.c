// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO helpers: IOMMU contexts (legacy type1 container or iommufd IOAS),
 * PCI devices in them, DMA mapping with counters.  See vfio_dev.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>

#include "sysutil.h"
#include "test_util.h"
#include "vfio_dev.h"

static const char * const mode_names[VFIO_NR_MODES] = {
	[VFIO_MODE_TYPE1] = "type1",
	[VFIO_MODE_TYPE1V2] = "type1v2",
	[VFIO_MODE_IOMMUFD] = "iommufd",
};

const char *vfio_iommu_mode_name(enum vfio_iommu_mode mode)
{
	return mode < VFIO_NR_MODES ? mode_names[mode] : "?";
}

int vfio_iommu_mode_parse(const char *name)
{
	for (int i = 0; i < VFIO_NR_MODES; i++)
		if (!strcmp(name, mode_names[i]))
			return i;
	return -1;
}

static bool is_legacy(enum vfio_iommu_mode mode)
{
	return mode == VFIO_MODE_TYPE1 || mode == VFIO_MODE_TYPE1V2;
}

/* /dev/vfio/devices/vfioN of @bdf, in @path; false if it has no cdev. */
static bool bdf_cdev_path(const char *bdf, char *path, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return false;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(path, len, "/dev/vfio/devices/%s", e->d_name);
			found = true;
			break;
		}
	}
	closedir(d);
	return found;
}

const char *vfio_iommu_mode_unavailable(enum vfio_iommu_mode mode, const char *bdf)
{
	char path[PATH_MAX];
	int fd, type;

	if (is_legacy(mode)) {
		fd = open("/dev/vfio/vfio", O_RDWR);
		if (fd < 0)
			return "no /dev/vfio/vfio (CONFIG_VFIO_CONTAINER)";
		type = mode == VFIO_MODE_TYPE1 ? VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU;
		if (ioctl(fd, VFIO_CHECK_EXTENSION, type) <= 0) {
			close(fd);
			return "the VFIO container does not support this type1 version";
		}
		close(fd);
		return NULL;
	}
	if (access("/dev/iommu", R_OK | W_OK))
		return "no /dev/iommu (CONFIG_IOMMUFD)";
	if (bdf && !bdf_cdev_path(bdf, path, sizeof(path)))
		return "the device has no VFIO cdev (CONFIG_VFIO_DEVICE_CDEV)";
	return NULL;
}

struct vfio_iommu *__vfio_iommu_init(enum vfio_iommu_mode mode)
{
	struct vfio_iommu *iommu = calloc(1, sizeof(*iommu));
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int err;

	TEST_ASSERT(iommu, "calloc");
	iommu->mode = mode;
	iommu->container_fd = -1;
	iommu->iommufd = -1;

	if (is_legacy(mode)) {
		iommu->container_fd = open("/dev/vfio/vfio", O_RDWR);
		if (iommu->container_fd < 0)
			goto fail;
		if (ioctl(iommu->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
			errno = EINVAL;
			goto fail;
		}
		return iommu;
	}

	iommu->iommufd = open("/dev/iommu", O_RDWR);
	if (iommu->iommufd < 0)
		goto fail;
	if (ioctl(iommu->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		goto fail;
	iommu->ioas_id = alloc.out_ioas_id;
	return iommu;
fail:
	err = errno;
	vfio_iommu_cleanup(iommu);
	errno = err;
	return NULL;
}

struct vfio_iommu *vfio_iommu_init(enum vfio_iommu_mode mode)
{
	struct vfio_iommu *iommu = __vfio_iommu_init(mode);

	TEST_ASSERT(iommu, "Failed to set up a %s IOMMU context: errno %d (%s)",
		    vfio_iommu_mode_name(mode), errno, strerror(errno));
	return iommu;
}

void vfio_iommu_cleanup(struct vfio_iommu *iommu)
{
	if (!iommu)
		return;
	if (iommu->container_fd >= 0)
		close(iommu->container_fd);
	if (iommu->iommufd >= 0)
		close(iommu->iommufd);
	free(iommu);
}

int __vfio_dma_map(struct vfio_iommu *iommu, void *vaddr, uint64_t iova, uint64_t size)
{
	int r;

	if (is_legacy(iommu->mode)) {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)vaddr,
			.iova = iova,
			.size = size,
		};
		r = ioctl(iommu->container_fd, VFIO_IOMMU_MAP_DMA, &map);
	} else {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = iommu->ioas_id,
			.user_va = (uintptr_t)vaddr,
			.length = size,
			.iova = iova,
		};
		r = ioctl(iommu->iommufd, IOMMU_IOAS_MAP, &map);
	}
	iommu->cnt.map_ioctls++;
	if (r)
		return -errno;
	iommu->cnt.map_bytes += size;
	return 0;
}

void vfio_dma_map(struct vfio_iommu *iommu, void *vaddr, uint64_t iova, uint64_t size)
{
	int r = __vfio_dma_map(iommu, vaddr, iova, size);

	TEST_ASSERT(!r, "DMA map of vaddr %p at iova 0x%lx size 0x%lx (%s) failed: %d (%s)",
		    vaddr, iova, size, vfio_iommu_mode_name(iommu->mode), r, strerror(-r));
}

int __vfio_dma_unmap(struct vfio_iommu *iommu, uint64_t iova, uint64_t size,
		     uint64_t *unmapped)
{
	uint64_t done;
	int r;

	if (is_legacy(iommu->mode)) {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = iova,
			.size = size,
		};
		r = ioctl(iommu->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
		done = unmap.size;
	} else {
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap),
			.ioas_id = iommu->ioas_id,
			.iova = iova,
			.length = size,
		};
		r = ioctl(iommu->iommufd, IOMMU_IOAS_UNMAP, &unmap);
		done = unmap.length;
	}
	iommu->cnt.unmap_ioctls++;
	if (r)
		return -errno;
	iommu->cnt.unmap_bytes += done;
	if (unmapped)
		*unmapped = done;
	return 0;
}

void vfio_dma_unmap(struct vfio_iommu *iommu, uint64_t iova, uint64_t size)
{
	uint64_t done = 0;
	int r = __vfio_dma_unmap(iommu, iova, size, &done);

	TEST_ASSERT(!r, "DMA unmap of iova 0x%lx size 0x%lx (%s) failed: %d (%s)",
		    iova, size, vfio_iommu_mode_name(iommu->mode), r, strerror(-r));
	TEST_ASSERT(done == size, "DMA unmap of iova 0x%lx: asked 0x%lx bytes, unmapped 0x%lx",
		    iova, size, done);
}

/* Valid IOVA ranges as [start, last] pairs; returns the count (<= max). */
static int iova_ranges(struct vfio_iommu *iommu, uint64_t (*r)[2], int max)
{
	int n = 0;

	if (is_legacy(iommu->mode)) {
		struct vfio_iommu_type1_info *info;
		struct vfio_info_cap_header *hdr;
		uint32_t argsz = sizeof(*info);

		info = calloc(1, argsz);
		info->argsz = argsz;
		if (ioctl(iommu->container_fd, VFIO_IOMMU_GET_INFO, info))
			goto out_legacy;
		if (info->argsz > argsz) {
			argsz = info->argsz;
			info = realloc(info, argsz);
			memset(info, 0, argsz);
			info->argsz = argsz;
			if (ioctl(iommu->container_fd, VFIO_IOMMU_GET_INFO, info))
				goto out_legacy;
		}
		if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || !info->cap_offset)
			goto out_legacy;
		for (uint32_t off = info->cap_offset; off; off = hdr->next) {
			struct vfio_iommu_type1_info_cap_iova_range *cap;

			hdr = (void *)info + off;
			if (hdr->id != VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
				continue;
			cap = (void *)hdr;
			for (uint32_t i = 0; i < cap->nr_iovas && n < max; i++, n++) {
				r[n][0] = cap->iova_ranges[i].start;
				r[n][1] = cap->iova_ranges[i].end;
			}
		}
out_legacy:
		free(info);
		return n;
	}

	struct iommu_iova_range ranges[32];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = iommu->ioas_id,
		.num_iovas = 32,
		.allowed_iovas = (uintptr_t)ranges,
	};
	if (ioctl(iommu->iommufd, IOMMU_IOAS_IOVA_RANGES, &q))
		return 0;
	for (uint32_t i = 0; i < q.num_iovas && i < 32 && n < max; i++, n++) {
		r[n][0] = ranges[i].start;
		r[n][1] = ranges[i].last;
	}
	return n;
}

uint64_t vfio_iommu_iova_base(struct vfio_iommu *iommu, uint64_t min, uint64_t size)
{
	uint64_t r[32][2];
	int n = iova_ranges(iommu, r, 32);

	for (int i = 0; i < n; i++) {
		uint64_t start = r[i][0] > min ? r[i][0] : min;

		if (start <= r[i][1] && r[i][1] - start + 1 >= size)
			return start;
	}
	return UINT64_MAX;
}

static int bdf_group(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	return atoi(strrchr(link, '/') + 1);
}

/* Legacy: put the device's group in the container; no reset happens here. */
static int attach_legacy(struct vfio_pci_dev *dev)
{
	struct vfio_iommu *iommu = dev->iommu;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int group;

	group = bdf_group(dev->bdf);
	if (group < 0)
		return group;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	dev->group_fd = open(path, O_RDWR);
	if (dev->group_fd < 0)
		return -errno;
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status))
		return -errno;
	/* Another device of the group is bound elsewhere: not usable. */
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EBUSY;
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &iommu->container_fd))
		return -errno;
	if (!iommu->iommu_set) {
		int type = iommu->mode == VFIO_MODE_TYPE1 ? VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU;

		if (ioctl(iommu->container_fd, VFIO_SET_IOMMU, type))
			return -errno;
		iommu->iommu_set = true;
	}
	return 0;
}

/* iommufd: open the cdev, bind (the kernel resets here) and attach. */
static int open_cdev(struct vfio_pci_dev *dev)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	char path[PATH_MAX];

	if (!bdf_cdev_path(dev->bdf, path, sizeof(path)))
		return -ENODEV;
	dev->fd = open(path, O_RDWR);
	if (dev->fd < 0)
		return -errno;
	bind.iommufd = dev->iommu->iommufd;
	if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -errno;
	attach.pt_id = dev->iommu->ioas_id;
	if (ioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return -errno;
	return 0;
}

static int read_regions(struct vfio_pci_dev *dev)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };

	dev->info.argsz = sizeof(dev->info);
	if (ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &dev->info))
		return -errno;
	if (!(dev->info.flags & VFIO_DEVICE_FLAGS_PCI))
		return -ENODEV;

	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return -errno;
	dev->config_offset = reg.offset;

	for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct vfio_region_info bar = { .argsz = sizeof(bar), .index = i };

		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &bar))
			return -errno;
		dev->bar[i].size = bar.size;
		dev->bar[i].offset = bar.offset;
		dev->bar[i].flags = bar.flags;
	}
	dev->vendor_id = vfio_pci_config_read(dev, PCI_VENDOR_ID, 2);
	dev->device_id = vfio_pci_config_read(dev, PCI_DEVICE_ID, 2);
	return 0;
}

struct vfio_pci_dev *vfio_pci_open_begin(struct vfio_iommu *iommu, const char *bdf)
{
	struct vfio_pci_dev *dev = calloc(1, sizeof(*dev));
	int r = 0;

	TEST_ASSERT(dev, "calloc");
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	dev->iommu = iommu;
	dev->group_fd = -1;
	dev->fd = -1;
	if (is_legacy(iommu->mode))
		r = attach_legacy(dev);
	if (r) {
		vfio_pci_close(dev);
		errno = -r;
		return NULL;
	}
	return dev;
}

int vfio_pci_open_finish(struct vfio_pci_dev *dev)
{
	int r;

	if (is_legacy(dev->iommu->mode)) {
		dev->fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
		r = dev->fd < 0 ? -errno : 0;
	} else {
		r = open_cdev(dev);
	}
	return r ? r : read_regions(dev);
}

struct vfio_pci_dev *__vfio_pci_open(struct vfio_iommu *iommu, const char *bdf)
{
	struct vfio_pci_dev *dev = vfio_pci_open_begin(iommu, bdf);
	int r;

	if (!dev)
		return NULL;
	r = vfio_pci_open_finish(dev);
	if (r) {
		vfio_pci_close(dev);
		errno = -r;
		return NULL;
	}
	return dev;
}

struct vfio_pci_dev *vfio_pci_open(struct vfio_iommu *iommu, const char *bdf)
{
	struct vfio_pci_dev *dev = __vfio_pci_open(iommu, bdf);

	TEST_ASSERT(dev, "Failed to open %s through %s: errno %d (%s)", bdf,
		    vfio_iommu_mode_name(iommu->mode), errno, strerror(errno));
	return dev;
}

void vfio_pci_close(struct vfio_pci_dev *dev)
{
	if (!dev)
		return;
	for (int i = 0; i < PCI_STD_NUM_BARS; i++)
		if (dev->bar[i].addr)
			munmap(dev->bar[i].addr, dev->bar[i].size);
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	free(dev);
}

uint32_t vfio_pci_config_read(struct vfio_pci_dev *dev, uint32_t off, int size)
{
	uint32_t v = 0;
	ssize_t r = pread(dev->fd, &v, size, dev->config_offset + off);

	TEST_ASSERT(r == size, "%s: config read of %d bytes at 0x%x returned %zd",
		    dev->bdf, size, off, r);
	return v;
}

void vfio_pci_config_write(struct vfio_pci_dev *dev, uint32_t off, int size, uint32_t val)
{
	ssize_t r = pwrite(dev->fd, &val, size, dev->config_offset + off);

	TEST_ASSERT(r == size, "%s: config write of %d bytes at 0x%x returned %zd",
		    dev->bdf, size, off, r);
}

uint8_t vfio_pci_find_cap(struct vfio_pci_dev *dev, uint8_t id)
{
	uint8_t pos;
	int ttl = 48;

	if (!(vfio_pci_config_read(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = vfio_pci_config_read(dev, PCI_CAPABILITY_LIST, 1) & ~3;
	while (pos && ttl--) {
		if (vfio_pci_config_read(dev, pos + PCI_CAP_LIST_ID, 1) == id)
			return pos;
		pos = vfio_pci_config_read(dev, pos + PCI_CAP_LIST_NEXT, 1) & ~3;
	}
	return 0;
}

void vfio_pci_enable_mmio_dma(struct vfio_pci_dev *dev)
{
	uint16_t cmd = vfio_pci_config_read(dev, PCI_COMMAND, 2);

	vfio_pci_config_write(dev, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

bool vfio_pci_has_flr(struct vfio_pci_dev *dev)
{
	uint8_t exp = vfio_pci_find_cap(dev, PCI_CAP_ID_EXP);

	return exp && (vfio_pci_config_read(dev, exp + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR);
}

int __vfio_pci_reset(struct vfio_pci_dev *dev)
{
	if (ioctl(dev->fd, VFIO_DEVICE_RESET))
		return -errno;
	dev->resets++;
	return 0;
}

void *__vfio_pci_bar_map(struct vfio_pci_dev *dev, int idx)
{
	struct vfio_pci_bar *bar = &dev->bar[idx];
	void *addr;

	if (idx < 0 || idx >= PCI_STD_NUM_BARS || !bar->size ||
	    !(bar->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = EINVAL;
		return NULL;
	}
	if (!bar->addr) {
		/*
		 * Aligned to the BAR size (at most 1 GiB), so that the kernel
		 * can map it with PMD/PUD leaves (huge pfnmap), as QEMU does.
		 */
		size_t align = bar->size < (1UL << 30) ? bar->size : (1UL << 30);
		void *hint = NULL, *area;

		area = mmap(NULL, bar->size + align, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (area != MAP_FAILED) {
			hint = (void *)(((uintptr_t)area + align - 1) & ~(align - 1));
			munmap(area, bar->size + align);
		}
		addr = mmap(hint, bar->size, PROT_READ | PROT_WRITE,
			    MAP_SHARED | (hint ? MAP_FIXED_NOREPLACE : 0), dev->fd, bar->offset);
		if (addr == MAP_FAILED && hint)
			addr = mmap(NULL, bar->size, PROT_READ | PROT_WRITE, MAP_SHARED,
				    dev->fd, bar->offset);
		if (addr == MAP_FAILED)
			return NULL;
		bar->addr = addr;
	}
	return bar->addr;
}

void vfio_pci_bar_unmap(struct vfio_pci_dev *dev, int idx)
{
	struct vfio_pci_bar *bar = &dev->bar[idx];

	if (bar->addr)
		munmap(bar->addr, bar->size);
	bar->addr = NULL;
}

void *vfio_pci_bar_map(struct vfio_pci_dev *dev, int idx)
{
	void *addr = __vfio_pci_bar_map(dev, idx);

	TEST_ASSERT(addr, "%s: mmap of BAR%d (size 0x%lx, flags 0x%x) failed: %s", dev->bdf,
		    idx, idx >= 0 && idx < PCI_STD_NUM_BARS ? dev->bar[idx].size : 0,
		    idx >= 0 && idx < PCI_STD_NUM_BARS ? dev->bar[idx].flags : 0, strerror(errno));
	return addr;
}

bool vfio_bdf_valid(const char *s)
{
	unsigned int seg, bus, dev, fn;
	char tail;

	return sscanf(s, "%4x:%2x:%2x.%1x%c", &seg, &bus, &dev, &fn, &tail) == 4 &&
	       strlen(s) == 12 && dev < 32 && fn < 8;
}

int vfio_selftests_get_bdfs(int *argc, char *argv[], char ***bdfs)
{
	static char *list[64];
	static char env_copy[4096];
	int n = 0, first = *argc;
	const char *env;

	/* Trailing BDF arguments, as upstream's vfio_selftests_get_bdfs(). */
	while (first > 1 && vfio_bdf_valid(argv[first - 1]))
		first--;
	for (int i = first; i < *argc && n < 63; i++)
		list[n++] = argv[i];
	if (n) {
		*argc = first;
		argv[first] = NULL;
	} else if (getenv("VFIO_SELFTESTS_BDF")) {
		env = getenv("VFIO_SELFTESTS_BDF");
		snprintf(env_copy, sizeof(env_copy), "%s", env);
		for (char *t = strtok(env_copy, " \t,"); t && n < 63; t = strtok(NULL, " \t,"))
			list[n++] = t;
	}
	list[n] = NULL;
	*bdfs = list;
	return n;
}

int vfio_bdf_driver(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (access(path, F_OK))
		return -ENODEV;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	buf[0] = 0;
	if (n > 0) {
		link[n] = 0;
		snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	}
	return 0;
}

int vfio_type1_set_pin_runs(bool on)
{
	static const char *knob = "/sys/module/vfio_iommu_type1/parameters/pin_runs";
	char old[8];
	int r = sys_read_str(knob, old, sizeof(old));

	if (r)
		return r;
	r = sys_write_str(knob, on ? "1" : "0");
	if (r)
		return r;
	return old[0] == 'Y' || old[0] == '1';
}
