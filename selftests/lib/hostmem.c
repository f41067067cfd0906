// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-RAM-like host memory by backing type.  See hostmem.h.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "hostmem.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int __hostmem_alloc(struct hostmem *m, enum vm_mem_backing_src_type type, size_t size)
{
	const struct vm_mem_backing_src_alias *alias = vm_mem_backing_src_alias(type);
	size_t align = get_backing_src_pagesz(type);
	int flags = alias->flag, err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->type = type;
	m->pagesz = align;
	m->size = size;
	if (!size || size % align)
		return -EINVAL;
	/* THP needs a 2M-aligned range; over-allocate and align by hand. */
	if (type == VM_MEM_SRC_ANONYMOUS_THP)
		align = get_trans_hugepagesz();
	m->map_size = size + (is_backing_src_hugetlb(type) ? 0 : align);

	if (backing_src_is_shared(type)) {
		unsigned int mfd_flags = 0;

		if (type == VM_MEM_SRC_SHARED_HUGETLB)
			mfd_flags = MFD_HUGETLB;
		m->fd = memfd_create("hostmem", mfd_flags);
		if (m->fd < 0)
			return -errno;
		if (ftruncate(m->fd, m->map_size)) {
			err = -errno;
			close(m->fd);
			return err;
		}
	}
	m->map = mmap(NULL, m->map_size, PROT_READ | PROT_WRITE, flags, m->fd, 0);
	if (m->map == MAP_FAILED) {
		err = -errno;
		if (m->fd >= 0)
			close(m->fd);
		m->map = NULL;
		return err;
	}
	m->addr = (void *)(((uintptr_t)m->map + align - 1) & ~(align - 1));

	if (type == VM_MEM_SRC_ANONYMOUS)
		TEST_ASSERT(!madvise(m->addr, size, MADV_NOHUGEPAGE), "MADV_NOHUGEPAGE: %s",
			    strerror(errno));
	else if (type == VM_MEM_SRC_ANONYMOUS_THP)
		TEST_ASSERT(!madvise(m->addr, size, MADV_HUGEPAGE), "MADV_HUGEPAGE: %s",
			    strerror(errno));
	return 0;
}

void hostmem_alloc(struct hostmem *m, enum vm_mem_backing_src_type type, size_t size)
{
	int r = __hostmem_alloc(m, type, size);

	TEST_ASSERT(!r, "Allocating %zu bytes of %s memory failed: %d (%s)", size,
		    vm_mem_backing_src_alias(type)->name, r, strerror(-r));
}

void hostmem_populate(struct hostmem *m)
{
	TEST_ASSERT(!madvise(m->addr, m->size, MADV_POPULATE_WRITE),
		    "MADV_POPULATE_WRITE of %zu bytes (%s) failed: %s", m->size,
		    vm_mem_backing_src_alias(m->type)->name, strerror(errno));
}

long hostmem_first_not(const struct hostmem *m, uint64_t word)
{
	const uint64_t *w = m->addr;

	for (size_t i = 0; i < m->size / sizeof(*w); i++)
		if (w[i] != word)
			return i * sizeof(*w);
	return -1;
}

void hostmem_free(struct hostmem *m)
{
	if (m->map)
		munmap(m->map, m->map_size);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}
