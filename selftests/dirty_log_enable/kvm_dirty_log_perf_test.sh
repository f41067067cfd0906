#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel's dirty_log_perf_test, sized for TCG: 2 vCPUs of 128 MiB each,
# 3 iterations, with and without manual-protect (its default runs both).
case "${1:-}" in -h|--help) sed -n '3,4p' "$0" | sed 's/^# //'; exit 0 ;; esac
# This collection covers the shadow MMU's rmaps: the runner boots the host
# with kvm.tdp_mmu=0 for it.  With the TDP MMU, the kernel's kvm suite runs it.
tdp=/sys/module/kvm/parameters/tdp_mmu
if [ ! -r $tdp ] || [ "$(cat $tdp)" != N ]; then
	echo "# SKIP: this collection runs on an x86 KVM host booted with kvm.tdp_mmu=0"
	exit 4
fi
exec "$(dirname "$0")/dirty_log_perf_test" -v 2 -b 128M -i 3 "$@"
