// SPDX-License-Identifier: GPL-2.0
/*
 * The guest RAM layout of the VMM model.  See vmm_layout.h.
 */
#include <stddef.h>

#include "vmm_layout.h"

bool vmm_range_same(struct vmm_range a, struct vmm_range b)
{
	return a.start == b.start && a.size == b.size;
}

bool vmm_range_overlap(struct vmm_range a, struct vmm_range b)
{
	return a.start < b.start + b.size && b.start < a.start + a.size;
}

int vmm_ram_sections(uint64_t mem, bool split_low, bool low_is_ram, struct vmm_range *out)
{
	uint64_t cut = split_low ? VMM_LOW_SPLIT : mem;
	int n = 0;

	if (low_is_ram) {
		out[n++] = (struct vmm_range){ 0, cut };
	} else {
		out[n++] = (struct vmm_range){ 0, VMM_PAM_START };
		cut = split_low ? VMM_LOW_SPLIT : VMM_PAM_END;
	}
	if (cut < mem)
		out[n++] = (struct vmm_range){ cut, mem - cut };
	return n;
}

int vmm_build_sections(uint64_t mem, bool split_low, int step, struct vmm_range *out)
{
	switch (step) {
	case 0:
		out[0] = (struct vmm_range){ 0, VMM_LEGACY_LOW };
		return 1;
	case 1:
		out[0] = (struct vmm_range){ 0, VMM_LEGACY_LOW };
		out[1] = (struct vmm_range){ VMM_LOW_SPLIT, mem - VMM_LOW_SPLIT };
		return 2;
	default:
		return vmm_ram_sections(mem, split_low, true, out);
	}
}

bool vmm_range_in(struct vmm_range r, const struct vmm_range *list, int n)
{
	for (int i = 0; i < n; i++)
		if (vmm_range_same(r, list[i]))
			return true;
	return false;
}

/*
 * A section of @next that is known mapped cannot be one that is unmapped
 * here (those are not in @next), so asking @is_mapped before the unmaps
 * are made gives the answer it would give after them.
 */
void vmm_view_change(const struct vmm_range *cur, int nr_cur,
		     const struct vmm_range *next, int nr_next,
		     bool (*is_mapped)(void *ctx, struct vmm_range r), void *ctx,
		     struct vmm_view_change *ch)
{
	ch->nr_unmap = ch->nr_map = ch->nr_skipped = 0;
	for (int i = 0; i < nr_cur; i++)
		if (!vmm_range_in(cur[i], next, nr_next))
			ch->unmap[ch->nr_unmap++] = i;
	for (int i = 0; i < nr_next; i++) {
		if (is_mapped && is_mapped(ctx, next[i]))
			ch->nr_skipped++;
		else
			ch->map[ch->nr_map++] = i;
	}
}
