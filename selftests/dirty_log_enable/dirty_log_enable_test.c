// SPDX-License-Identifier: GPL-2.0
/*
 * Turning on dirty logging for a large, sparsely populated memslot, with
 * kvm.rmap_skip_empty (patches/: skip empty rmap heads in slot-wide walks)
 * off and on in the same boot.
 *
 * The VM has a memslot of -s bytes (8G by default) at 4 GiB, not backed until
 * touched, of which the guest writes -n pages (64) spread evenly.  Enabling
 * KVM_MEM_LOG_DIRTY_PAGES without manual-protect write-protects the slot by
 * walking its rmaps at every level.  That walk exists only when the VM has
 * rmaps: a host booted with kvm.tdp_mmu=0 (the runner does so for this
 * collection); with the TDP MMU and no nested guest the tests skip.
 *
 *   enable.sparse  enable dirty logging 7 times per mode (disable in
 *                  between): rmap heads visited per enable exactly equal to
 *                  the heads of the slot's levels (off) and to the pages
 *                  the guest touched (on); the walk's time on <= 0.1x off.
 *                  Besides the walk the ioctl allocates the slot's dirty
 *                  bitmap, installs a new memslot array and waits for SRCU
 *                  readers, costs that do not shrink with the walk: they
 *                  are measured on their own, as the same enable (skipping
 *                  on) of a second slot of the same size that nothing ever
 *                  touched, so no head to visit, and taken off both times
 *                  (else the bound would depend on the host's speed: a
 *                  host fast at walking leaves on/off closer to those
 *                  costs' share).  The fastest of 7, not the median: under
 *                  TCG that fixed cost adds 0.5 to 16 ms at random, noise
 *                  that only ever adds, so the minimum is the estimate of
 *                  the cost itself.  Medians are printed.
 *   enable.log_is_exact  after enabling, 16 rounds of the guest writing a
 *                  different subset: KVM_GET_DIRTY_LOG reports exactly the
 *                  pages written, in both modes.
 *   enable.counts_exact  the VM's rmap_entries stat equals its
 *                  pages_4k + pages_2m + pages_1g (every shadow-MMU leaf
 *                  spte has one rmap entry) after faulting, moving the slot
 *                  and deleting it; the kernel WARNs if a slot is freed with
 *                  entries left, which the runner's health check catches.
 *
 * The rmap fixture checks what the skip must never get wrong, with a slot
 * backed by 4K pages, THP or 1 GiB hugetlb pages (variants 4k, thp,
 * hugetlb_1g: the sptes are then 4K, 2M or 1G ones), skipping on.  The
 * guest writes a list of addresses (RMAP_SPREAD pages spread over the slot,
 * half of them with their neighbour page, one page twice); the host counts
 * the distinct 4K pages, 2M and 1G frames in that list itself:
 *   rmap.*.counts_per_level  MADV_DONTNEED of the slot's memory drops, and
 *                  the guest touching the pages again adds, exactly that
 *                  many sptes at the backing's level and none at the others
 *                  (pages_4k/2m/1g, rmap_entries; the slot's own track too
 *                  when the VM's debugfs rmap_track file exists).
 *   rmap.*.dontneed_reads_zero  after MADV_DONTNEED (an mmu_notifier unmap,
 *                  a skipping walk that reads exactly the non-empty heads)
 *                  the guest reads zero, not what it wrote, everywhere.
 *   rmap.*.move_delete_churn  a vCPU thread writes the pages in a loop while
 *                  the slot is moved away and back, and deleted and
 *                  re-created (zapped by rmap walks: the SLOT_ZAP_ALL quirk
 *                  is disabled when KVM allows it); then the writes land in
 *                  the slot's memory, and with the slot moved away each
 *                  write exits as MMIO and none reaches the slot's memory.
 *   rmap.*.fault_injection  CONFIG_KVM_PROVE_MMU only (else SKIP): through
 *                  the VM's debugfs rmap_track, break the slot's track (its
 *                  level's spte count to 0; then, on a new slot, its bits
 *                  cleared); the unmap of MADV_DONTNEED must still read every
 *                  head of the slot, the guest read zero, the track say
 *                  untrusted, and the next walk (dirty logging) read every
 *                  head too.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "phase.h"
#include "suite_main.h"
#include "sysutil.h"

#define SKIP_KNOB	"/sys/module/kvm/parameters/rmap_skip_empty"
#define TEST_SLOT	1
#define TEST_GPA	(4ULL << 30)
#define BASE_SLOT	2		/* enable.sparse: the ioctl without a walk */
#define ENABLE_ROUNDS	7
#define LOG_ROUNDS	16
#define MAX_RATIO	0.1	/* the walk's time, skipping on vs off */

static size_t slot_size = 8ULL << 30;
static size_t nr_touch = 64;
static const char *csv_path;	/* -o: enable.sparse appends its numbers */

/* Shared with the guest: what to write in this round. */
static uint64_t guest_stride;
static uint64_t guest_nr_touch;
static uint64_t guest_round;

/* Round 0 writes every page; round r > 0 the pages i with (i + r) % 3 == 0. */
static bool touched_in_round(uint64_t i, uint64_t r)
{
	return !r || (i + r) % 3 == 0;
}

static void guest_code(void)
{
	for (;;) {
		for (uint64_t i = 0; i < guest_nr_touch; i++)
			if (!guest_round || (i + guest_round) % 3 == 0)
				*(volatile uint64_t *)(TEST_GPA + i * guest_stride) = guest_round + 1;
		GUEST_SYNC(guest_round);
	}
}

struct dl_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint64_t npages;	/* guest pages in the test slot */
};

static void run_round(struct dl_vm *d, uint64_t round)
{
	struct ucall uc;

	guest_round = round;
	sync_global_to_guest(d->vm, guest_round);
	vcpu_run(d->vcpu);
	switch (get_ucall(d->vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == round, "guest synced round %lu, expected %lu",
			    uc.args[1], round);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("unexpected exit %s", exit_reason_str(d->vcpu->run->exit_reason));
	}
}

/* A VM with the sparse test slot, every touched page faulted in. */
static void dl_vm_create(struct dl_vm *d)
{
	uint64_t page = getpagesize();

	d->vm = vm_create_with_one_vcpu(&d->vcpu, guest_code);
	d->npages = slot_size / page;
	vm_userspace_mem_region_add(d->vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, TEST_SLOT,
				    d->npages, 0);
	guest_stride = (slot_size / nr_touch) & ~(page - 1);
	guest_nr_touch = nr_touch;
	/* Only the touched pages get guest page tables (in slot 0). */
	for (uint64_t i = 0; i < nr_touch; i++)
		virt_pg_map(d->vm, TEST_GPA + i * guest_stride, TEST_GPA + i * guest_stride);
	sync_global_to_guest(d->vm, guest_stride);
	sync_global_to_guest(d->vm, guest_nr_touch);
	run_round(d, 0);
}

/*
 * The fastest enable of dirty logging, skipping on, on a slot of the test
 * slot's size that nothing touched: the ioctl's cost without a walk.
 */
static int64_t base_enable_ns(struct kvm_vm *vm)
{
	uint64_t gpa = TEST_GPA + slot_size + (1ULL << 30);
	int64_t best = INT64_MAX;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, gpa, BASE_SLOT,
				    slot_size / getpagesize(), 0);
	for (int r = 0; r < ENABLE_ROUNDS; r++) {
		struct phase_clock clk;
		int64_t ns;

		phase_start(&clk);
		vm_mem_region_set_flags(vm, BASE_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
		ns = phase_stop(&clk).wall_ns;
		vm_mem_region_set_flags(vm, BASE_SLOT, 0);
		if (ns < best)
			best = ns;
	}
	return best;
}

/* Heads of the rmap array of a slot at each level (4K, 2M, 1G). */
static uint64_t slot_heads(uint64_t gpa, uint64_t size)
{
	uint64_t gfn = gpa >> 12, last = (gpa + size) / 4096 - 1, n = 0;

	for (int shift = 0; shift <= 18; shift += 9)
		n += (last >> shift) - (gfn >> shift) + 1;
	return n;
}

static int set_skip(bool on)
{
	return sys_write_str(SKIP_KNOB, on ? "Y" : "N");
}

/* Why the rmap tests cannot run here, or NULL (both fixtures ask). */
static const char *rmap_skip_unavailable(void)
{
	if (access(SKIP_KNOB, F_OK))
		return "no " SKIP_KNOB " (a kernel without patches/)";
	if (get_kvm_param_bool("tdp_mmu"))
		return "the TDP MMU keeps no rmaps: boot the host with kvm.tdp_mmu=0";
	if (geteuid())
		return "root is needed to set " SKIP_KNOB;
	return NULL;
}

FIXTURE(enable) {
	struct dl_vm d;
	bool saved;
	bool have_knob;
};

FIXTURE_SETUP(enable)
{
	const char *why = rmap_skip_unavailable();

	self->have_knob = !access(SKIP_KNOB, F_OK);
	if (why)
		SKIP(return, "%s", why);
	self->saved = get_kvm_param_bool("rmap_skip_empty");
	dl_vm_create(&self->d);
}

FIXTURE_TEARDOWN(enable)
{
	if (self->have_knob)
		set_skip(self->saved);
	if (self->d.vm)
		kvm_vm_free(self->d.vm);
}

/* Enable dirty logging on the test slot; its time and rmap heads visited. */
static int64_t enable_log(struct dl_vm *d, uint64_t *visited)
{
	uint64_t before = vm_get_stat(d->vm, "rmap_heads_visited");
	struct phase_clock clk;
	int64_t ns;

	phase_start(&clk);
	vm_mem_region_set_flags(d->vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	ns = phase_stop(&clk).wall_ns;
	*visited = vm_get_stat(d->vm, "rmap_heads_visited") - before;
	return ns;
}

static void assert_counts(struct __test_metadata *_metadata, struct kvm_vm *vm, const char *when)
{
	uint64_t entries = vm_get_stat(vm, "rmap_entries");
	uint64_t leaves = vm_get_stat(vm, "pages_4k") + vm_get_stat(vm, "pages_2m") +
			  vm_get_stat(vm, "pages_1g");

	ASSERT_EQ(leaves, entries) TH_LOG("%s: rmap_entries %lu, leaf sptes %lu", when,
					  entries, leaves);
}

TEST_F_TIMEOUT(enable, sparse, 900)
{
	int64_t ns[2][ENABLE_ROUNDS], med[2], min[2], base, walk[2];
	uint64_t heads = slot_heads(TEST_GPA, slot_size);

	for (int on = 0; on < 2; on++) {
		ASSERT_EQ(0, set_skip(on));
		for (int r = 0; r < ENABLE_ROUNDS; r++) {
			uint64_t visited;

			ns[on][r] = enable_log(&self->d, &visited);
			/* Disabling walks too (zap collapsible sptes): not timed. */
			vm_mem_region_set_flags(self->d.vm, TEST_SLOT, 0);
			ASSERT_EQ(on ? nr_touch : heads, visited)
				TH_LOG("rmap_skip_empty=%d, round %d: heads visited", on, r);
		}
		ksft_print_msg("rmap_skip_empty=%d: enable %s, %zu MiB, %zu pages touched: %lu heads visited per enable\n",
			       on, "KVM_MEM_LOG_DIRTY_PAGES", slot_size >> 20, nr_touch,
			       on ? (unsigned long)nr_touch : (unsigned long)heads);
		/* Sorts ns[on]: the minimum first, the maximum last. */
		med[on] = ns_median(ns[on], ENABLE_ROUNDS);
		min[on] = ns[on][0];
	}
	ksft_print_msg("enable dirty logging, %d rounds: off min %.6fs median %.6fs max %.6fs, on min %.6fs median %.6fs max %.6fs: min %.3fx, median %.3fx\n",
		       ENABLE_ROUNDS, ns_to_s(min[0]), ns_to_s(med[0]),
		       ns_to_s(ns[0][ENABLE_ROUNDS - 1]), ns_to_s(min[1]), ns_to_s(med[1]),
		       ns_to_s(ns[1][ENABLE_ROUNDS - 1]), (double)min[1] / min[0],
		       (double)med[1] / med[0]);
	/* The walk's share: both minus the same enable of an untouched slot. */
	base = base_enable_ns(self->d.vm);
	for (int on = 0; on < 2; on++)
		walk[on] = min[on] > base ? min[on] - base : 0;
	ksft_print_msg("without a walk (an untouched slot of the same size, fastest of %d): %.6fs; the walk: off %.6fs, on %.6fs: %.3fx\n",
		       ENABLE_ROUNDS, ns_to_s(base), ns_to_s(walk[0]), ns_to_s(walk[1]),
		       walk[0] ? (double)walk[1] / walk[0] : 0.0);
	if (csv_path) {
		FILE *f = fopen(csv_path, "a");
		struct utsname u;

		ASSERT_NE(NULL, f) TH_LOG("%s: %s", csv_path, strerror(errno));
		uname(&u);
		if (!ftell(f))
			fprintf(f, "kernel,slot_mib,touched,rmap_skip_empty,heads_visited,enable_min_s,enable_median_s,enable_max_s\n");
		for (int on = 0; on < 2; on++)
			fprintf(f, "%s,%zu,%zu,%d,%lu,%.6f,%.6f,%.6f\n", u.release, slot_size >> 20,
				nr_touch, on, on ? (unsigned long)nr_touch : (unsigned long)heads,
				ns_to_s(min[on]), ns_to_s(med[on]),
				ns_to_s(ns[on][ENABLE_ROUNDS - 1]));
		fclose(f);
	}
	if (timing_asserted()) {
		/* Or the walk would be lost in the other costs' noise. */
		EXPECT_LE(2 * base, min[0])
			TH_LOG("off %.6fs is not twice the cost without a walk %.6fs: no walk to speak of",
			       ns_to_s(min[0]), ns_to_s(base));
		EXPECT_LE(walk[1], MAX_RATIO * walk[0])
			TH_LOG("the walk on %.6fs is more than %.1f x off %.6fs", ns_to_s(walk[1]),
			       MAX_RATIO, ns_to_s(walk[0]));
	}
}

TEST_F_TIMEOUT(enable, log_is_exact, 900)
{
	uint64_t nbits = self->d.npages, *log = calloc(nbits / 64 + 1, sizeof(*log));

	ASSERT_NE(NULL, log);
	for (int on = 0; on < 2; on++) {
		ASSERT_EQ(0, set_skip(on));
		vm_mem_region_set_flags(self->d.vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
		for (uint64_t r = 1; r <= LOG_ROUNDS; r++) {
			uint64_t want = 0, got = 0;

			run_round(&self->d, r);
			kvm_vm_get_dirty_log(self->d.vm, TEST_SLOT, log);
			for (uint64_t i = 0; i < nr_touch; i++) {
				uint64_t bit = i * guest_stride / getpagesize();
				bool dirty = log[bit / 64] & (1ULL << (bit % 64));

				want += touched_in_round(i, r);
				ASSERT_EQ(touched_in_round(i, r), dirty)
					TH_LOG("rmap_skip_empty=%d round %lu: page %lu dirty %d", on,
					       r, i, dirty);
			}
			for (uint64_t w = 0; w < nbits / 64 + 1; w++)
				got += __builtin_popcountll(log[w]);
			ASSERT_EQ(want, got) TH_LOG("rmap_skip_empty=%d round %lu: pages in the log",
						    on, r);
		}
		vm_mem_region_set_flags(self->d.vm, TEST_SLOT, 0);
		assert_counts(_metadata, self->d.vm, "after logging");
	}
	free(log);
	ksft_print_msg("%d rounds per mode: the dirty log held exactly the pages written\n",
		       LOG_ROUNDS);
}

TEST_F(enable, counts_exact)
{
	uint64_t entries;

	assert_counts(_metadata, self->d.vm, "after faulting in");
	entries = vm_get_stat(self->d.vm, "rmap_entries");
	ASSERT_LE(nr_touch, entries);

	/* A move zaps the slot's sptes; the guest has not touched the new place. */
	vm_mem_region_move(self->d.vm, TEST_SLOT, TEST_GPA + slot_size);
	assert_counts(_metadata, self->d.vm, "after KVM_MR_MOVE");
	ASSERT_GE(entries - nr_touch, vm_get_stat(self->d.vm, "rmap_entries"));

	vm_mem_region_delete(self->d.vm, TEST_SLOT);
	assert_counts(_metadata, self->d.vm, "after KVM_MR_DELETE");
	ksft_print_msg("rmap_entries %lu after faulting, %lu after move and delete; equal to the leaf sptes each time\n",
		       entries, vm_get_stat(self->d.vm, "rmap_entries"));
}

/* ---- rmap: what skipping must never get wrong --------------------------- */

#define RMAP_SPREAD	64	/* pages spread evenly over the slot */
#define RMAP_MAX_GPAS	(RMAP_SPREAD + RMAP_SPREAD / 2 + 1)
#define CHURN_ROUNDS	48	/* every 4th a delete and re-create, else a move */
#define RMAP_TRACK_FMT	"/sys/kernel/debug/kvm/%d-%d/rmap_track"

enum { OP_WRITE = 1, OP_CHECK, OP_WRITE_LOOP };

/* Shared with the guest. */
static uint64_t rmap_op, rmap_val, rmap_n;
static uint64_t rmap_gpa[RMAP_MAX_GPAS];

static uint64_t rmap_pattern(uint64_t gpa, uint64_t val)
{
	return (gpa | 1) ^ (val << 48);
}

/*
 * OP_WRITE writes rmap_pattern(gpa, rmap_val) at every address; OP_CHECK
 * reads them and reports how many differ from that (or from 0 if rmap_val
 * is 0), and the first that does; OP_WRITE_LOOP writes forever, value 1, 2,
 * ..., syncing after each pass.
 */
static void rmap_guest_code(void)
{
	for (;;) {
		uint64_t op = READ_ONCE(rmap_op), val = READ_ONCE(rmap_val);
		uint64_t bad = 0, first = 0, got = 0;

		if (op == OP_WRITE_LOOP) {
			for (val = 1; READ_ONCE(rmap_op) == OP_WRITE_LOOP; val++) {
				for (uint64_t i = 0; i < rmap_n; i++)
					*(volatile uint64_t *)rmap_gpa[i] =
						rmap_pattern(rmap_gpa[i], val);
				GUEST_SYNC_ARGS(OP_WRITE_LOOP, val, 0, 0, 0);
			}
			continue;
		}
		for (uint64_t i = 0; i < rmap_n; i++) {
			volatile uint64_t *p = (volatile uint64_t *)rmap_gpa[i];
			uint64_t want = val ? rmap_pattern(rmap_gpa[i], val) : 0;

			if (op == OP_WRITE) {
				*p = want;
				continue;
			}
			if (*p != want) {
				if (!bad++) {
					first = rmap_gpa[i];
					got = *p;
				}
			}
		}
		GUEST_SYNC_ARGS(op, bad, first, got, 0);
	}
}

struct lvl_stats {
	uint64_t pages[3];	/* leaf sptes: pages_4k, pages_2m, pages_1g */
	uint64_t entries;	/* rmap_entries */
	uint64_t visited;	/* rmap_heads_visited */
};

static const char *const lvl_name[3] = { "4K", "2M", "1G" };

static void lvl_stats_read(struct kvm_vm *vm, struct lvl_stats *s)
{
	s->pages[0] = vm_get_stat(vm, "pages_4k");
	s->pages[1] = vm_get_stat(vm, "pages_2m");
	s->pages[2] = vm_get_stat(vm, "pages_1g");
	s->entries = vm_get_stat(vm, "rmap_entries");
	s->visited = vm_get_stat(vm, "rmap_heads_visited");
}

/* The slot's own kvm_rmap_track, from debugfs (CONFIG_KVM_PROVE_MMU). */
struct track_state {
	int untrusted;
	uint64_t entries[3];
	uint64_t nonempty[3];
};

FIXTURE(rmap) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	void *hva;		/* the slot's memory */
	uint64_t distinct[3];	/* 4K pages, 2M and 1G frames in rmap_gpa[] */
	uint64_t expect[3];	/* sptes per level once all of them are mapped */
	char track_path[96];
	bool saved_skip;
	bool have_knob;
	unsigned long saved_pool;
	bool restore_pool;
};

FIXTURE_VARIANT(rmap) {
	enum vm_mem_backing_src_type src;
	uint64_t size;
	int level;		/* of the sptes the backing allows: 1 4K, 2 2M, 3 1G */
};

FIXTURE_VARIANT_ADD(rmap, 4k) {
	.src = VM_MEM_SRC_ANONYMOUS, .size = 1ULL << 30, .level = 1,
};

FIXTURE_VARIANT_ADD(rmap, thp) {
	.src = VM_MEM_SRC_ANONYMOUS_THP, .size = 1ULL << 30, .level = 2,
};

FIXTURE_VARIANT_ADD(rmap, hugetlb_1g) {
	.src = VM_MEM_SRC_ANONYMOUS_HUGETLB_1GB, .size = 2ULL << 30, .level = 3,
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Distinct values of rmap_gpa[i] >> shift, counted on a sorted copy. */
static uint64_t distinct_frames(unsigned int shift)
{
	uint64_t v[RMAP_MAX_GPAS], n = 0;

	for (uint64_t i = 0; i < rmap_n; i++)
		v[i] = rmap_gpa[i] >> shift;
	qsort(v, rmap_n, sizeof(v[0]), cmp_u64);
	for (uint64_t i = 0; i < rmap_n; i++)
		n += !i || v[i] != v[i - 1];
	return n;
}

static void rmap_slot_add(struct kvm_vm *vm, const struct _fixture_variant_rmap *variant)
{
	vm_userspace_mem_region_add(vm, variant->src, TEST_GPA, TEST_SLOT,
				    variant->size / getpagesize(), 0);
}

FIXTURE_SETUP(rmap)
{
	uint64_t stride = variant->size / RMAP_SPREAD;
	const char *why = rmap_skip_unavailable();

	self->have_knob = !access(SKIP_KNOB, F_OK);
	if (why)
		SKIP(return, "%s", why);
	self->saved_skip = get_kvm_param_bool("rmap_skip_empty");
	if (variant->src == VM_MEM_SRC_ANONYMOUS_HUGETLB_1GB) {
		if (hugetlb_pool_ensure(1UL << 30, variant->size >> 30, &self->saved_pool))
			SKIP(return, "no %lu free 1 GiB hugetlb pages", (unsigned long)(variant->size >> 30));
		self->restore_pool = true;
	}
	ASSERT_EQ(0, set_skip(true));

	/* The pages: spread, half with their neighbour, the first twice. */
	rmap_n = 0;
	for (uint64_t i = 0; i < RMAP_SPREAD; i++) {
		uint64_t gpa = TEST_GPA + i * stride + (i % 5) * 4096;

		rmap_gpa[rmap_n++] = gpa;
		if (!(i % 2))
			rmap_gpa[rmap_n++] = gpa + 4096;
	}
	rmap_gpa[rmap_n++] = rmap_gpa[0] + 64;
	for (int l = 0; l < 3; l++) {
		self->distinct[l] = distinct_frames(12 + 9 * l);
		self->expect[l] = l + 1 == variant->level ? self->distinct[l] : 0;
	}

	self->vm = vm_create_with_one_vcpu(&self->vcpu, rmap_guest_code);
	rmap_slot_add(self->vm, variant);
	self->hva = addr_gpa2hva(self->vm, TEST_GPA);
	for (uint64_t i = 0; i < rmap_n; i++) {
		uint64_t page = rmap_gpa[i] & ~4095ULL, j = 0;

		while (j < i && (rmap_gpa[j] & ~4095ULL) != page)
			j++;
		if (j == i)
			virt_pg_map(self->vm, page, page);
	}
	sync_global_to_guest(self->vm, rmap_n);
	sync_global_to_guest(self->vm, rmap_gpa);
	snprintf(self->track_path, sizeof(self->track_path), RMAP_TRACK_FMT, getpid(),
		 self->vm->fd);
}

FIXTURE_TEARDOWN(rmap)
{
	if (self->vm)
		kvm_vm_free(self->vm);
	if (self->have_knob)
		set_skip(self->saved_skip);
	if (self->restore_pool)
		hugetlb_pool_restore(1UL << 30, self->saved_pool);
}

/*
 * Run the guest for one op until it syncs; the MMIO exits on the way (writes
 * where no memslot is) are counted in *mmio if given.  Returns the number of
 * addresses that differed (OP_CHECK).
 */
static uint64_t rmap_run(struct kvm_vm *vm, struct kvm_vcpu *vcpu, uint64_t op, uint64_t val,
			 uint64_t *mmio)
{
	struct ucall uc;
	uint64_t cmd;

	rmap_op = op;
	rmap_val = val;
	sync_global_to_guest(vm, rmap_op);
	sync_global_to_guest(vm, rmap_val);
	for (;;) {
		vcpu_run(vcpu);
		if (vcpu->run->exit_reason == KVM_EXIT_MMIO) {
			TEST_ASSERT(mmio, "MMIO exit at gpa 0x%llx with the slot in place",
				    vcpu->run->mmio.phys_addr);
			(*mmio)++;
			continue;
		}
		cmd = get_ucall(vcpu, &uc);
		/* The end of a pass of OP_WRITE_LOOP stopped in its middle. */
		if (cmd == UCALL_SYNC && uc.args[1] == OP_WRITE_LOOP && op != OP_WRITE_LOOP)
			continue;
		break;
	}
	switch (cmd) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == op, "guest synced op %lu, expected %lu", uc.args[1], op);
		if (uc.args[2])
			ksft_print_msg("op %lu val %lu: %lu pages differ, first gpa 0x%lx holds 0x%lx\n",
				       op, val, uc.args[2], uc.args[3], uc.args[4]);
		return uc.args[2];
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("unexpected exit %s", exit_reason_str(vcpu->run->exit_reason));
	}
	return ~0ULL;
}

/* Addresses in the slot's memory that do not hold rmap_pattern(gpa, val). */
static uint64_t host_mismatches(void *hva, uint64_t val)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < rmap_n; i++)
		bad += *(uint64_t *)(hva + rmap_gpa[i] - TEST_GPA) != rmap_pattern(rmap_gpa[i], val);
	return bad;
}

/* -ENOENT without the debugfs file (no CONFIG_KVM_PROVE_MMU). */
static int track_read(const char *path, struct track_state *t)
{
	char line[256];
	FILE *f = fopen(path, "r");
	int slot, found = -ENODATA;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "slot %d untrusted %d entries %lu %lu %lu nonempty %lu %lu %lu",
			   &slot, &t->untrusted, &t->entries[0], &t->entries[1], &t->entries[2],
			   &t->nonempty[0], &t->nonempty[1], &t->nonempty[2]) == 8 &&
		    slot == TEST_SLOT)
			found = 0;
		if (!found)
			break;
	}
	fclose(f);
	return found;
}

static int track_break(const char *path, int level, const char *what)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "%d %d %s", TEST_SLOT, level, what);
	return sys_write_str(path, cmd);
}

static int dontneed(struct _test_data_rmap *self, const struct _fixture_variant_rmap *variant)
{
	return madvise(self->hva, variant->size, MADV_DONTNEED) ? -errno : 0;
}

TEST_F_TIMEOUT(rmap, counts_per_level, 600)
{
	struct lvl_stats s0, s1, s2;
	struct track_state t;
	bool have_track;

	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_WRITE, 1, NULL));
	lvl_stats_read(self->vm, &s0);
	have_track = !track_read(self->track_path, &t);
	ASSERT_EQ(0, dontneed(self, variant));
	lvl_stats_read(self->vm, &s1);
	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_WRITE, 2, NULL));
	lvl_stats_read(self->vm, &s2);

	ksft_print_msg("%lu addresses written: %lu distinct 4K pages, %lu 2M and %lu 1G frames; sptes expected at %s\n",
		       rmap_n, self->distinct[0], self->distinct[1], self->distinct[2],
		       lvl_name[variant->level - 1]);
	for (int l = 0; l < 3; l++) {
		ksft_print_msg("%s sptes: expected %lu, dropped by MADV_DONTNEED %lu, added by touching again %lu\n",
			       lvl_name[l], self->expect[l], s0.pages[l] - s1.pages[l],
			       s2.pages[l] - s1.pages[l]);
		EXPECT_EQ(self->expect[l], s0.pages[l] - s1.pages[l])
			TH_LOG("%s sptes dropped by MADV_DONTNEED: %lu, expected %lu", lvl_name[l],
			       s0.pages[l] - s1.pages[l], self->expect[l]);
		EXPECT_EQ(self->expect[l], s2.pages[l] - s1.pages[l])
			TH_LOG("%s sptes added by touching again: %lu, expected %lu", lvl_name[l],
			       s2.pages[l] - s1.pages[l], self->expect[l]);
	}
	ksft_print_msg("rmap_entries: dropped %lu, added %lu\n", s0.entries - s1.entries,
		       s2.entries - s1.entries);
	EXPECT_EQ(self->distinct[variant->level - 1], s0.entries - s1.entries)
		TH_LOG("rmap_entries dropped %lu", s0.entries - s1.entries);
	EXPECT_EQ(self->distinct[variant->level - 1], s2.entries - s1.entries)
		TH_LOG("rmap_entries added %lu", s2.entries - s1.entries);
	assert_counts(_metadata, self->vm, "after touching again");

	if (!have_track)
		return;
	/* The slot's own track, before MADV_DONTNEED (t) and now. */
	for (int l = 0; l < 3; l++) {
		EXPECT_EQ(self->expect[l], t.entries[l])
			TH_LOG("slot track: %lu %s sptes, expected %lu", t.entries[l], lvl_name[l],
			       self->expect[l]);
		EXPECT_EQ(self->expect[l], t.nonempty[l])
			TH_LOG("slot track: %lu %s heads marked, expected %lu", t.nonempty[l],
			       lvl_name[l], self->expect[l]);
	}
	ASSERT_EQ(0, track_read(self->track_path, &t));
	ksft_print_msg("slot track: untrusted %d, sptes %lu %lu %lu, heads marked %lu %lu %lu\n",
		       t.untrusted, t.entries[0], t.entries[1], t.entries[2], t.nonempty[0],
		       t.nonempty[1], t.nonempty[2]);
	EXPECT_EQ(0, t.untrusted);
	for (int l = 0; l < 3; l++) {
		EXPECT_EQ(self->expect[l], t.entries[l])
			TH_LOG("slot track after touching again: %lu %s sptes, expected %lu",
			       t.entries[l], lvl_name[l], self->expect[l]);
	}
}

TEST_F_TIMEOUT(rmap, dontneed_reads_zero, 600)
{
	uint64_t want = self->distinct[variant->level - 1], bad;
	struct lvl_stats s0, s1;

	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_WRITE, 1, NULL));
	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_CHECK, 1, NULL));
	lvl_stats_read(self->vm, &s0);
	ASSERT_EQ(0, dontneed(self, variant));
	lvl_stats_read(self->vm, &s1);
	bad = rmap_run(self->vm, self->vcpu, OP_CHECK, 0, NULL);
	ksft_print_msg("MADV_DONTNEED: the unmap read %lu rmap heads (%lu non-empty); then the guest read non-zero at %lu of %lu addresses\n",
		       s1.visited - s0.visited, want, bad, rmap_n);
	EXPECT_EQ(want, s1.visited - s0.visited)
		TH_LOG("the unmap read %lu heads, %lu are not empty", s1.visited - s0.visited,
		       want);
	/* Stop here if not: the guest may be mapping pages the host freed. */
	ASSERT_EQ(0, bad) TH_LOG("%lu addresses still hold what the guest wrote", bad);
	/* And the new pages are the slot's memory. */
	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_WRITE, 3, NULL));
	EXPECT_EQ(0, host_mismatches(self->hva, 3));
}

struct churn {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint64_t passes;	/* guest passes over all the pages */
	uint64_t mmio;		/* writes that found no memslot */
	bool stop;
};

static void *churn_vcpu(void *arg)
{
	struct churn *c = arg;
	struct ucall uc;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		vcpu_run(c->vcpu);
		if (c->vcpu->run->exit_reason == KVM_EXIT_MMIO) {
			__atomic_add_fetch(&c->mmio, 1, __ATOMIC_RELEASE);
			continue;
		}
		switch (get_ucall(c->vcpu, &uc)) {
		case UCALL_SYNC:
			__atomic_add_fetch(&c->passes, 1, __ATOMIC_RELEASE);
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("unexpected exit %s", exit_reason_str(c->vcpu->run->exit_reason));
		}
	}
	return NULL;
}

/* Wait until the guest has written again (a pass, or a write exiting). */
static void churn_wait(struct churn *c)
{
	uint64_t p = __atomic_load_n(&c->passes, __ATOMIC_ACQUIRE);
	uint64_t m = __atomic_load_n(&c->mmio, __ATOMIC_ACQUIRE);

	while (__atomic_load_n(&c->passes, __ATOMIC_ACQUIRE) == p &&
	       __atomic_load_n(&c->mmio, __ATOMIC_ACQUIRE) < m + 2)
		sched_yield();
}

TEST_F_TIMEOUT(rmap, move_delete_churn, 900)
{
	struct churn c = { .vm = self->vm, .vcpu = self->vcpu };
	uint64_t away = TEST_GPA + 2 * variant->size, mmio = 0;
	bool quirk_off = kvm_check_cap(KVM_CAP_DISABLE_QUIRKS2) & KVM_X86_QUIRK_SLOT_ZAP_ALL;
	int moves = 0, deletes = 0;
	pthread_t t;

	/* Without the quirk, deleting or moving a slot zaps it by rmap walks. */
	if (quirk_off)
		vm_enable_cap(self->vm, KVM_CAP_DISABLE_QUIRKS2, KVM_X86_QUIRK_SLOT_ZAP_ALL);
	rmap_op = OP_WRITE_LOOP;
	sync_global_to_guest(self->vm, rmap_op);
	ASSERT_EQ(0, pthread_create(&t, NULL, churn_vcpu, &c));
	for (int r = 0; r < CHURN_ROUNDS; r++) {
		churn_wait(&c);
		if (r % 4 == 3) {
			ASSERT_EQ(0, __vm_set_user_memory_region(self->vm, TEST_SLOT, 0, TEST_GPA, 0,
								 self->hva));
			churn_wait(&c);
			ASSERT_EQ(0, __vm_set_user_memory_region(self->vm, TEST_SLOT, 0, TEST_GPA,
								 variant->size, self->hva));
			deletes++;
		} else {
			vm_mem_region_move(self->vm, TEST_SLOT, away);
			churn_wait(&c);
			vm_mem_region_move(self->vm, TEST_SLOT, TEST_GPA);
			moves++;
		}
	}
	churn_wait(&c);
	__atomic_store_n(&c.stop, true, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ksft_print_msg("%d moves and %d deletes while the guest wrote (SLOT_ZAP_ALL quirk %s): %lu passes, %lu writes exited as MMIO\n",
		       moves, deletes, quirk_off ? "disabled" : "enabled", c.passes, c.mmio);
	assert_counts(_metadata, self->vm, "after the churn");

	/* In place, the writes land in the slot's memory... */
	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_WRITE, 7, NULL));
	EXPECT_EQ(0, host_mismatches(self->hva, 7));
	/* ...moved away, none does: each one exits, no stale spte takes it. */
	vm_mem_region_move(self->vm, TEST_SLOT, away);
	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_WRITE, 8, &mmio));
	ksft_print_msg("slot moved away: %lu of %lu writes exited as MMIO, %lu reached the slot's memory\n",
		       mmio, rmap_n, rmap_n - host_mismatches(self->hva, 8));
	EXPECT_EQ(rmap_n, mmio);
	EXPECT_EQ(0, host_mismatches(self->hva, 7));
	vm_mem_region_move(self->vm, TEST_SLOT, TEST_GPA);
	assert_counts(_metadata, self->vm, "after moving back");
}

/*
 * Break the slot's track the way @what says, at the level of its sptes, and
 * prove that an mmu_notifier unmap still reads every head and zaps.
 */
static void inject_and_unmap(struct __test_metadata *_metadata, struct _test_data_rmap *self,
			     const struct _fixture_variant_rmap *variant, const char *what, uint64_t val)
{
	uint64_t heads = slot_heads(TEST_GPA, variant->size), bad, visited;
	struct lvl_stats s0, s1;
	struct track_state t;

	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_WRITE, val, NULL));
	ASSERT_EQ(0, track_read(self->track_path, &t));
	ASSERT_EQ(0, t.untrusted);
	ASSERT_EQ(self->expect[variant->level - 1], t.entries[variant->level - 1]);
	ASSERT_EQ(0, track_break(self->track_path, variant->level, what));
	ASSERT_EQ(0, track_read(self->track_path, &t));
	ksft_print_msg("%s: broke the %s %s of the slot's track: sptes %lu %lu %lu, heads marked %lu %lu %lu\n",
		       what, lvl_name[variant->level - 1], what, t.entries[0], t.entries[1],
		       t.entries[2], t.nonempty[0], t.nonempty[1], t.nonempty[2]);

	lvl_stats_read(self->vm, &s0);
	ASSERT_EQ(0, dontneed(self, variant));
	lvl_stats_read(self->vm, &s1);
	bad = rmap_run(self->vm, self->vcpu, OP_CHECK, 0, NULL);
	ASSERT_EQ(0, track_read(self->track_path, &t));
	ksft_print_msg("%s: the unmap read %lu of the slot's %lu rmap heads, zapped %lu sptes; the guest read non-zero at %lu of %lu addresses; track untrusted %d\n",
		       what, s1.visited - s0.visited, heads, s0.entries - s1.entries, bad, rmap_n,
		       t.untrusted);
	EXPECT_EQ(heads, s1.visited - s0.visited)
		TH_LOG("%s: the unmap read %lu heads, not all %lu", what, s1.visited - s0.visited,
		       heads);
	EXPECT_EQ(1, t.untrusted);
	/* Stop here if not: the guest may be mapping pages the host freed. */
	ASSERT_EQ(0, bad) TH_LOG("%s: %lu addresses still hold what the guest wrote", what, bad);

	/* Every later walk reads every head: the dirty-logging one too. */
	enable_log(&(struct dl_vm){ .vm = self->vm }, &visited);
	vm_mem_region_set_flags(self->vm, TEST_SLOT, 0);
	ksft_print_msg("%s: then enabling dirty logging read %lu of %lu heads\n", what, visited,
		       heads);
	EXPECT_EQ(heads, visited);
	/* The VM is still alive and the memory is the slot's. */
	ASSERT_EQ(0, rmap_run(self->vm, self->vcpu, OP_WRITE, val + 1, NULL));
	EXPECT_EQ(0, host_mismatches(self->hva, val + 1));
}

TEST_F_TIMEOUT(rmap, fault_injection, 900)
{
	struct track_state t;
	int r = track_read(self->track_path, &t);

	if (r == -ENOENT)
		SKIP(return, "no %s: the hook needs CONFIG_KVM_PROVE_MMU", self->track_path);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", self->track_path, strerror(-r));

	inject_and_unmap(_metadata, self, variant, "count", 1);
	/* A new slot has a new, trusted track. */
	vm_mem_region_delete(self->vm, TEST_SLOT);
	rmap_slot_add(self->vm, variant);
	self->hva = addr_gpa2hva(self->vm, TEST_GPA);
	inject_and_unmap(_metadata, self, variant, "bits", 3);
}

int main(int argc, char *argv[])
{
	const struct suite_opt opts[] = {
		{ "-s", "bytes in the sparse memslot (default 8G)", &slot_size, 1UL << 30 },
		{ "-n", "pages the guest touches in it (default 64)", &nr_touch, 1 },
	};

	/* -o FILE is ours, not the harness's: take it out of argv. */
	for (int i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "-o"))
			continue;
		csv_path = argv[i + 1];
		memmove(&argv[i], &argv[i + 2], (argc - i - 1) * sizeof(*argv));
		argc -= 2;
		break;
	}
	suite_parse(&argc, argv, opts, 2,
		    "Usage: dirty_log_enable_test [-s SIZE] [-n PAGES] [-o FILE] [harness options]\n"
		    "  -o FILE  enable.sparse appends a CSV line per mode to FILE\n"
		    "  Run as root on a host booted with kvm.tdp_mmu=0.  A slot larger than\n"
		    "  the host's RAM needs vm.overcommit_memory=1.\n");
	if (nr_touch > slot_size / getpagesize()) {
		fprintf(stderr, "-n %zu: more pages than the slot has\n", nr_touch);
		return 1;
	}
	return test_harness_run(argc, argv);
}
