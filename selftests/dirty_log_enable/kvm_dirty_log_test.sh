#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel's dirty_log_test (tools/testing/selftests/kvm), every log mode,
# sized for TCG: 8 iterations of 10 ms each (its memory is fixed, 1 GiB).
case "${1:-}" in -h|--help) sed -n '3,4p' "$0" | sed 's/^# //'; exit 0 ;; esac
# This collection covers the shadow MMU's rmaps: the runner boots the host
# with kvm.tdp_mmu=0 for it.  With the TDP MMU, the kernel's kvm suite runs it.
tdp=/sys/module/kvm/parameters/tdp_mmu
if [ ! -r $tdp ] || [ "$(cat $tdp)" != N ]; then
	echo "# SKIP: this collection runs on an x86 KVM host booted with kvm.tdp_mmu=0"
	exit 4
fi
exec "$(dirname "$0")/dirty_log_test" -i 8 -I 10 -M all "$@"
