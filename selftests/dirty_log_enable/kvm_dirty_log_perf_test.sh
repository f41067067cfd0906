#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel's dirty_log_perf_test, sized for TCG: 1 vCPU of 128 MiB, 3 passes,
# with manual-protect and initially-set (its default when KVM has them).
case "${1:-}" in -h|--help) sed -n '3,4p' "$0" | sed 's/^# //'; exit 0 ;; esac
# Here it checks patches/ 0006 (rmap walks): a kernel with it
# (kvm.rmap_skip_empty), booted with kvm.tdp_mmu=0 so that rmaps exist; the
# runner boots such a guest for this collection.  Elsewhere the kernel's own
# kvm suite runs it.
#
# One vCPU, not two: with two, under QEMU 7.2's multi-threaded TCG, the nested
# guest sometimes takes an instruction-fetch page fault on a page that is
# mapped and shuts down.  At that moment its page tables in memory are intact
# and the host had changed no spte but the W bit of test pages; with one
# emulator thread (VMTEST_TCG_THREAD=single) or one vCPU it never happened.
# It happened more often in boots where pre-zeroing had run, which is not
# explained yet.  Data and the loops that measured them:
# results/dirty-log-perf-shutdown/README.md.
p=/sys/module/kvm/parameters
if [ ! -r $p/rmap_skip_empty ] || [ "$(cat $p/tdp_mmu 2>/dev/null)" != N ]; then
	echo "# SKIP: needs a kernel with kvm.rmap_skip_empty (patches/) booted with kvm.tdp_mmu=0"
	exit 4
fi
exec "$(dirname "$0")/dirty_log_perf_test" -v 1 -b 128M -i 3 "$@"
