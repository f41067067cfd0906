#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel's dirty_log_perf_test, sized for TCG: 2 vCPUs of 128 MiB each,
# 3 iterations, with and without manual-protect (its default runs both).
case "${1:-}" in -h|--help) sed -n '3,4p' "$0" | sed 's/^# //'; exit 0 ;; esac
# Here it checks patches/ 0006 (rmap walks): a kernel with it
# (kvm.rmap_skip_empty), booted with kvm.tdp_mmu=0 so that rmaps exist; the
# runner boots such a guest for this collection.  Elsewhere the kernel's own
# kvm suite runs it.
p=/sys/module/kvm/parameters
if [ ! -r $p/rmap_skip_empty ] || [ "$(cat $p/tdp_mmu 2>/dev/null)" != N ]; then
	echo "# SKIP: needs a kernel with kvm.rmap_skip_empty (patches/) booted with kvm.tdp_mmu=0"
	exit 4
fi
exec "$(dirname "$0")/dirty_log_perf_test" -v 2 -b 128M -i 3 "$@"
