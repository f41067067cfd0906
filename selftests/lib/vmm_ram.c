// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM as the VMM of vmm.h sees it: a sequence of views (vmm_layout.c
 * computes them), the DMA maps that follow each view change, and the KVM
 * memslots, changed section by section as QEMU changes them.  Counts every
 * MAP, UNMAP and memslot update in the result.
 */
#include <errno.h>
#include <string.h>

#include "vmm_priv.h"

static int mapped_find(struct vmm *v, struct vmm_range r, bool exact)
{
	for (int i = 0; i < v->nr_mapped; i++)
		if (exact ? vmm_range_same(v->mapped[i], r) : vmm_range_overlap(v->mapped[i], r))
			return i;
	return -1;
}

/* DMA-map RAM range @r: two MAPs if it spans the hole, or none. */
static int ram_dma_map(struct vmm *v, struct vmm_range r)
{
	uint64_t end = r.start + r.size, low;
	int ret;

	if (r.start >= RAM_LOW_END || end <= RAM_LOW_END)
		return __vfio_dma_map(v->iommu, v->ram.addr + r.start, vmm_ram_iova(r.start), r.size);
	low = RAM_LOW_END - r.start;
	ret = __vfio_dma_map(v->iommu, v->ram.addr + r.start, r.start, low);
	if (ret)
		return ret;
	ret = __vfio_dma_map(v->iommu, v->ram.addr + RAM_LOW_END, vmm_ram_iova(RAM_LOW_END),
			     end - RAM_LOW_END);
	if (ret)
		__vfio_dma_unmap(v->iommu, r.start, low, NULL);
	return ret;
}

/* One UNMAP covers both parts of a range that spans the hole. */
int vmm_ram_dma_unmap(struct vmm *v, struct vmm_range r)
{
	uint64_t first = vmm_ram_iova(r.start);

	return __vfio_dma_unmap(v->iommu, first, vmm_ram_iova(r.start + r.size - 1) + 1 - first, NULL);
}

static int ram_unmap(struct vmm *v, struct vmm_range r)
{
	int i = mapped_find(v, r, true), ret;

	ret = vmm_ram_dma_unmap(v, r);
	if (ret)
		return vmm_fail(v, ret, "DMA unmap of RAM [0x%lx, +0x%lx): %s", r.start, r.size,
			    strerror(-ret));
	if (i >= 0)
		v->mapped[i] = v->mapped[--v->nr_mapped];
	if (v->in_toggle) {
		v->res->toggle_unmaps++;
		v->res->toggle_unmap_bytes += r.size;
		if (r.start + r.size > v->res->toggle_unmap_end)
			v->res->toggle_unmap_end = r.start + r.size;
	}
	return 0;
}

static int ram_map(struct vmm *v, struct vmm_range r)
{
	int ret;

	if (mapped_find(v, r, false) >= 0)
		v->res->map_overlaps++;
	v->res->ram_map_ioctls++;
	ret = ram_dma_map(v, r);
	if (ret == -EEXIST) {
		/* What QEMU does when a MAP collides: unmap, map again. */
		v->res->map_eexist++;
		ret = ram_unmap(v, r);
		if (ret)
			return ret;
		v->res->ram_map_ioctls++;
		ret = ram_dma_map(v, r);
	}
	if (ret)
		return vmm_fail(v, ret, "DMA map of RAM [0x%lx, +0x%lx): %s", r.start, r.size,
			    strerror(-ret));
	TEST_ASSERT(v->nr_mapped < MAX_MAPS, "too many RAM mappings");
	v->mapped[v->nr_mapped++] = r;
	v->res->ram_map_bytes += r.size;
	if (r.start + r.size > VMM_LOW_SPLIT)
		v->res->high_map_bytes += r.start + r.size -
					  (r.start > VMM_LOW_SPLIT ? r.start : VMM_LOW_SPLIT);
	return 0;
}

/* The RAM sections of a view, with the low legacy area as RAM or not. */
int vmm_view_sections(struct vmm *v, bool low_is_ram, struct vmm_range *out)
{
	return vmm_ram_sections(v->cfg->mem_size, vmm_fix_on(v, VMM_FIX_SPLIT_LOW), low_is_ram, out);
}

/* Is @r mapped exactly: VMM_FIX_DEDUP_MAP's record. */
static bool is_mapped(void *ctx, struct vmm_range r)
{
	return mapped_find(ctx, r, true) >= 0;
}

/*
 * Move the DMA mappings from the current view to @next.  Sections that
 * disappear are unmapped.  Every section of the new view is mapped, unless
 * VMM_FIX_DEDUP_MAP knows it is mapped already.
 */
int vmm_set_view(struct vmm *v, const struct vmm_range *next, int n)
{
	struct vmm_view_change ch;
	int ret;

	if (!v->iommu)
		return 0;	/* no passthrough device: nothing is DMA-mapped */
	vmm_view_change(v->view, v->nr_view, next, n,
			vmm_fix_on(v, VMM_FIX_DEDUP_MAP) ? is_mapped : NULL, v, &ch);
	for (int i = 0; i < ch.nr_unmap; i++) {
		ret = ram_unmap(v, v->view[ch.unmap[i]]);
		if (ret)
			return ret;
	}
	v->res->dups_skipped += ch.nr_skipped;
	for (int i = 0; i < ch.nr_map; i++) {
		ret = ram_map(v, next[ch.map[i]]);
		if (ret)
			return ret;
	}
	memcpy(v->view, next, n * sizeof(*next));
	v->nr_view = n;
	return 0;
}

/* Move the KVM RAM memslots to @next: changed sections only, as QEMU does. */
void vmm_set_kvm_slots(struct vmm *v, const struct vmm_range *next, int n)
{
	uint32_t ids[MAX_SECTIONS] = {};

	for (int i = 0; i < v->nr_slots; i++) {
		if (vmm_range_in(v->slots[i], next, n))
			continue;
		vm_set_user_memory_region(v->vm, v->slot_id[i], 0,
					  VMM_RAM_GPA + v->slots[i].start, 0, NULL);
		v->res->memslot_updates++;
		v->slot_id[i] = 0;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < v->nr_slots; j++)
			if (v->slot_id[j] && vmm_range_same(next[i], v->slots[j]))
				ids[i] = v->slot_id[j];
	for (int i = 0; i < n; i++) {
		uint32_t id;

		if (ids[i])
			continue;
		/* The lowest id neither kept nor just given out. */
		for (id = SLOT_RAM_FIRST; id <= SLOT_RAM_LAST; id++) {
			bool busy = false;

			for (int j = 0; j < MAX_SECTIONS; j++)
				busy |= ids[j] == id;
			if (!busy)
				break;
		}
		TEST_ASSERT(id <= SLOT_RAM_LAST, "out of RAM memslots");
		vm_set_user_memory_region(v->vm, id, 0, VMM_RAM_GPA + next[i].start,
					  next[i].size, v->ram.addr + next[i].start);
		v->res->memslot_updates++;
		ids[i] = id;
	}
	memcpy(v->slots, next, n * sizeof(*next));
	memcpy(v->slot_id, ids, sizeof(ids));
	v->nr_slots = n;
}
