/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user-space driver for QEMU's "edu" PCI device (1234:11e8), used as a DMA
 * engine to prove that an IOVA reaches the pages it should.
 *
 * The device (QEMU hw/misc/edu.c, docs/specs/edu.rst) has a 4 KiB buffer at
 * device address 0x40000 and one DMA channel: software writes source,
 * destination and count (64-bit registers), then the command; the transfer
 * runs from a virtual-clock timer about 100 ms later and clears the RUN bit.
 * Transfers go through the IOMMU (pci_dma_read/write), so an IOVA that is not
 * mapped is not reached.  It has no FLR.
 *
 * QEMU 7.2 (Debian 12) aborts the whole VM with hw_error() when a transfer
 * ends exactly at the end of the device buffer (an off-by-one in
 * edu_check_range(), later turned into a log message), so transfers here
 * move at most EDU_XFER_MAX bytes, always at the start of the buffer.
 */
#ifndef SELFTESTS_EDU_H
#define SELFTESTS_EDU_H

#include <stdbool.h>
#include <stdint.h>
#include "vfio_dev.h"

#define EDU_VENDOR_ID	0x1234
#define EDU_DEVICE_ID	0x11e8
#define EDU_BUF_ADDR	0x40000		/* device-side DMA buffer */
#define EDU_BUF_SIZE	4096
#define EDU_XFER_MAX	2048

static inline bool edu_is(struct vfio_pci_dev *dev)
{
	return dev->vendor_id == EDU_VENDOR_ID && dev->device_id == EDU_DEVICE_ID;
}

/*
 * Map BAR0, enable memory decoding and bus mastering, and check the
 * identification and liveness registers.  Asserts on failure.
 */
void edu_init(struct vfio_pci_dev *dev);

/*
 * Copy @len bytes from @src_iova to @dst_iova through the device: for each
 * chunk, a DMA read into the device buffer, then a DMA write out of it.
 * Each transfer takes ~100 ms.  0 or -errno.
 */
int edu_copy(struct vfio_pci_dev *dev, uint64_t src_iova, uint64_t dst_iova, uint64_t len);

#endif /* SELFTESTS_EDU_H */
