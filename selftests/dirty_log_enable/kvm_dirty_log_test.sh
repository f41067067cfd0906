#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel's dirty_log_test (tools/testing/selftests/kvm), every log mode,
# sized for TCG: 8 iterations of 10 ms each (its memory is fixed, 1 GiB).
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
exec "$(dirname "$0")/dirty_log_test" -i 8 -I 10 -M all "$@"
