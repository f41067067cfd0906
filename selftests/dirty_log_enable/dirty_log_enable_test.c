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
 *                  the guest touched (on); fastest enable on <= 0.1x the
 *                  fastest off.  The fastest, not the median: besides the
 *                  walk the ioctl installs a new memslot array and waits
 *                  for SRCU readers, which under TCG adds 0.5 to 16 ms at
 *                  random; that noise only ever adds, so the minimum is
 *                  the estimate of the cost itself.  Medians are printed.
 *   enable.log_is_exact  after enabling, 16 rounds of the guest writing a
 *                  different subset: KVM_GET_DIRTY_LOG reports exactly the
 *                  pages written, in both modes.
 *   enable.counts_exact  the VM's rmap_entries stat equals its
 *                  pages_4k + pages_2m + pages_1g (every shadow-MMU leaf
 *                  spte has one rmap entry) after faulting, moving the slot
 *                  and deleting it; the kernel WARNs if a slot is freed with
 *                  entries left, which the runner's health check catches.
 */
#include <errno.h>
#include <stdio.h>
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
#define ENABLE_ROUNDS	7
#define LOG_ROUNDS	16
#define MAX_RATIO	0.1	/* fastest enable, skipping on vs off */

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

FIXTURE(enable) {
	struct dl_vm d;
	bool saved;
	bool have_knob;
};

FIXTURE_SETUP(enable)
{
	self->have_knob = !access(SKIP_KNOB, F_OK);
	if (!self->have_knob)
		SKIP(return, "no %s (a kernel without patches/)", SKIP_KNOB);
	self->saved = get_kvm_param_bool("rmap_skip_empty");
	if (get_kvm_param_bool("tdp_mmu"))
		SKIP(return, "the TDP MMU keeps no rmaps: boot the host with kvm.tdp_mmu=0");
	if (geteuid())
		SKIP(return, "root is needed to set %s", SKIP_KNOB);
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
	int64_t ns[2][ENABLE_ROUNDS], med[2], min[2];
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
		ns_sort(ns[on], ENABLE_ROUNDS);
		med[on] = ns[on][ENABLE_ROUNDS / 2];
		min[on] = ns[on][0];
	}
	ksft_print_msg("enable dirty logging, %d rounds: off min %.6fs median %.6fs max %.6fs, on min %.6fs median %.6fs max %.6fs: min %.3fx, median %.3fx\n",
		       ENABLE_ROUNDS, ns_to_s(min[0]), ns_to_s(med[0]),
		       ns_to_s(ns[0][ENABLE_ROUNDS - 1]), ns_to_s(min[1]), ns_to_s(med[1]),
		       ns_to_s(ns[1][ENABLE_ROUNDS - 1]), (double)min[1] / min[0],
		       (double)med[1] / med[0]);
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
	if (timing_asserted())
		EXPECT_LE(min[1], MAX_RATIO * min[0])
			TH_LOG("on %.6fs is more than %.1f x off %.6fs", ns_to_s(min[1]), MAX_RATIO,
			       ns_to_s(min[0]));
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
