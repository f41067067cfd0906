/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host memory the way a VMM allocates guest RAM, by the KVM selftests
 * library's backing types (test_util.h, enum vm_mem_backing_src_type):
 *   anonymous               4K pages, THP disabled (MADV_NOHUGEPAGE)
 *   anonymous_thp           THP-aligned, MADV_HUGEPAGE
 *   anonymous_hugetlb_2mb   hugetlbfs 2M (MAP_HUGETLB), likewise _1gb
 *   shmem                   a memfd, MAP_SHARED
 *   shared_hugetlb          a hugetlb memfd, MAP_SHARED
 * Nothing is touched: "populate" is a separate, timed step.
 */
#ifndef SELFTESTS_HOSTMEM_H
#define SELFTESTS_HOSTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "test_util.h"

struct hostmem {
	void *addr;		/* aligned to pagesz */
	size_t size;
	size_t pagesz;		/* backing page size */
	enum vm_mem_backing_src_type type;
	int fd;			/* memfd, or -1 */
	void *map;		/* what to munmap */
	size_t map_size;
};

/*
 * Allocate @size bytes (a multiple of the backing page size).  0, -EINVAL for
 * a bad size, -ENOMEM (an empty hugetlb pool, for instance) or -errno.
 */
int __hostmem_alloc(struct hostmem *m, enum vm_mem_backing_src_type type, size_t size);
void hostmem_alloc(struct hostmem *m, enum vm_mem_backing_src_type type, size_t size);
/* Fault in every page for writing (MADV_POPULATE_WRITE). */
void hostmem_populate(struct hostmem *m);
void hostmem_free(struct hostmem *m);
/* Byte offset of the first 8-byte word that is not @word, or -1. */
long hostmem_first_not(const struct hostmem *m, uint64_t word);

#endif /* SELFTESTS_HOSTMEM_H */
