#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel's dirty_log_perf_test, sized for TCG: 1 vCPU of 128 MiB, 3 passes,
# with manual-protect and initially-set (its default when KVM offers them).
case "${1:-}" in -h|--help) sed -n '3,4p' "$0" | sed 's/^# //'; exit 0 ;; esac
# Here it checks patches/ 0006 (rmap walks): a kernel with it
# (kvm.rmap_skip_empty), booted with kvm.tdp_mmu=0 so that rmaps exist; the
# runner boots such a guest for this collection.  Elsewhere the kernel's own
# kvm suite runs it.
#
# One vCPU, not two: under QEMU 7.2 TCG with two vCPUs the nested guest
# sometimes takes a page fault it cannot take (instruction fetch, page not
# present, at the store loop it ran a thousand times) and shuts down, with
# kvm.rmap_skip_empty=N and with pre-zeroing off too (README "Known limits").
# The trace then shows the L1 host doing nothing but the lockless fast-path fix of
# a write-protected 4K spte of the test slot on both vCPUs, so it is the
# emulator, not KVM.  With one vCPU it never happened (see README).
p=/sys/module/kvm/parameters
if [ ! -r $p/rmap_skip_empty ] || [ "$(cat $p/tdp_mmu 2>/dev/null)" != N ]; then
	echo "# SKIP: needs a kernel with kvm.rmap_skip_empty (patches/) booted with kvm.tdp_mmu=0"
	exit 4
fi
exec "$(dirname "$0")/dirty_log_perf_test" -v 1 -b 128M -i 3 "$@"
