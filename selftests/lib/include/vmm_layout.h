/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest RAM layout of the VMM model (lib/vmm.c), apart from any device,
 * VM or IOMMU, so that tests/lib_test.c can check it on the host: the RAM
 * sections a QEMU memory listener sees while the machine is built and while
 * firmware toggles the legacy area (PAM), and what the listener unmaps and
 * maps to go from one view to the next.
 */
#ifndef SELFTESTS_VMM_LAYOUT_H
#define SELFTESTS_VMM_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#define VMM_LOW_SPLIT	(1ULL << 20)	/* VMM_FIX_SPLIT_LOW cuts RAM here */
#define VMM_LEGACY_LOW	(640ULL << 10)	/* conventional memory, registered first */
#define VMM_PAM_START	0xc0000ULL	/* the legacy area firmware toggles */
#define VMM_PAM_END	0x100000ULL
#define VMM_MAX_SECTIONS	4
#define VMM_BUILD_STEPS	3

struct vmm_range {
	uint64_t start;
	uint64_t size;
};

bool vmm_range_same(struct vmm_range a, struct vmm_range b);
bool vmm_range_overlap(struct vmm_range a, struct vmm_range b);
bool vmm_range_in(struct vmm_range r, const struct vmm_range *list, int n);

/*
 * The RAM sections of a view of @mem bytes, with the legacy area as RAM
 * (@low_is_ram) or not; @split_low: RAM split at VMM_LOW_SPLIT, so that a
 * toggle changes the first MiB only.  Returns how many (at most
 * VMM_MAX_SECTIONS).
 */
int vmm_ram_sections(uint64_t mem, bool split_low, bool low_is_ram, struct vmm_range *out);

/*
 * The views while the machine is built (@step 0 .. VMM_BUILD_STEPS - 1):
 * conventional RAM, then extended RAM beside it, then the legacy area
 * turned into RAM, which merges everything (or, split, the first MiB).
 */
int vmm_build_sections(uint64_t mem, bool split_low, int step, struct vmm_range *out);

/* What a memory listener does to go from one view to the next. */
struct vmm_view_change {
	int unmap[VMM_MAX_SECTIONS];	/* indices into the current view */
	int nr_unmap;
	int map[VMM_MAX_SECTIONS];	/* indices into the next view */
	int nr_map;
	int nr_skipped;			/* not mapped again: known mapped */
};

/*
 * Sections of @cur that are not in @next are unmapped; every section of
 * @next is mapped, unless @is_mapped (VMM_FIX_DEDUP_MAP's record of what is
 * mapped; NULL: no record) says it is mapped already.
 */
void vmm_view_change(const struct vmm_range *cur, int nr_cur,
		     const struct vmm_range *next, int nr_next,
		     bool (*is_mapped)(void *ctx, struct vmm_range r), void *ctx,
		     struct vmm_view_change *ch);

#endif /* SELFTESTS_VMM_LAYOUT_H */
