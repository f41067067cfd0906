// SPDX-License-Identifier: GPL-2.0
/*
 * User-space driver for QEMU's edu device, over VFIO.  See edu.h.
 */
#include <errno.h>
#include <time.h>

#include "test_util.h"
#include "edu.h"

#define EDU_REG_ID	0x00	/* 0xRRrr00ed: major, minor, 0xed */
#define EDU_REG_ALIVE	0x04	/* reads back the bitwise inverse of what was written */
#define EDU_REG_DMA_SRC	0x80
#define EDU_REG_DMA_DST	0x88
#define EDU_REG_DMA_CNT	0x90
#define EDU_REG_DMA_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_TO_RAM	0x2	/* direction: device buffer -> RAM */

/* A transfer fires ~100 ms of virtual time after it is started. */
#define EDU_DMA_TIMEOUT_MS	5000

static volatile uint32_t *reg32(struct vfio_pci_dev *dev, uint32_t off)
{
	return (volatile uint32_t *)((char *)dev->bar[0].addr + off);
}

static volatile uint64_t *reg64(struct vfio_pci_dev *dev, uint32_t off)
{
	return (volatile uint64_t *)((char *)dev->bar[0].addr + off);
}

void edu_init(struct vfio_pci_dev *dev)
{
	uint32_t id, probe = 0x5a5aa5a5;

	TEST_ASSERT(edu_is(dev), "%s is %04x:%04x, not edu", dev->bdf,
		    dev->vendor_id, dev->device_id);
	vfio_pci_bar_map(dev, 0);
	vfio_pci_enable_mmio_dma(dev);

	id = *reg32(dev, EDU_REG_ID);
	TEST_ASSERT((id & 0xff) == 0xed, "%s: edu ID register reads 0x%x", dev->bdf, id);
	*reg32(dev, EDU_REG_ALIVE) = probe;
	TEST_ASSERT(*reg32(dev, EDU_REG_ALIVE) == ~probe,
		    "%s: edu liveness register reads 0x%x, want 0x%x",
		    dev->bdf, *reg32(dev, EDU_REG_ALIVE), ~probe);
}

static int edu_dma(struct vfio_pci_dev *dev, uint64_t src, uint64_t dst, uint32_t len,
		   uint64_t cmd)
{
	struct timespec start, now;

	if (!len || len > EDU_XFER_MAX)
		return -EINVAL;
	if (*reg64(dev, EDU_REG_DMA_CMD) & EDU_CMD_RUN)
		return -EBUSY;

	*reg64(dev, EDU_REG_DMA_SRC) = src;
	*reg64(dev, EDU_REG_DMA_DST) = dst;
	*reg64(dev, EDU_REG_DMA_CNT) = len;
	*reg64(dev, EDU_REG_DMA_CMD) = cmd | EDU_CMD_RUN;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (*reg64(dev, EDU_REG_DMA_CMD) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timespec_to_ns(timespec_sub(now, start)) > EDU_DMA_TIMEOUT_MS * 1000000L)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

int edu_copy(struct vfio_pci_dev *dev, uint64_t src_iova, uint64_t dst_iova, uint64_t len)
{
	for (uint64_t done = 0; done < len; done += EDU_XFER_MAX) {
		uint32_t n = len - done < EDU_XFER_MAX ? len - done : EDU_XFER_MAX;
		int r;

		r = edu_dma(dev, src_iova + done, EDU_BUF_ADDR, n, 0);
		if (!r)
			r = edu_dma(dev, EDU_BUF_ADDR, dst_iova + done, n, EDU_CMD_TO_RAM);
		if (r)
			return r;
	}
	return 0;
}
