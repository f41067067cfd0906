#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The correctness part of the suite, sized for a debug kernel (KASAN,
# lockdep, DEBUG_VM: several times slower under TCG); make check runs it in
# the guest of stage vmtest-debug.  KTAP in the kselftest runner's format.
#
# Usage: scripts/run-debug.sh [rmap]
#   (default)  prezero zero checks, knobs, counters and the worker (1 GiB
#              checked per variant); VFIO map/unmap pin and locked_vm
#              balance (64 MiB per case), edu DMA, partial unmaps, rlimit
#              (also a hostile 4 GiB map under a 64 MiB limit); vm_create's checks
#              and bad input with 1 GiB of guest RAM; UFFDIO_UNREGISTER against
#              faults under the per-VMA lock (100 reads, 16 MiB range)
#   rmap       dirty_log_enable's exactness tests and its rmap fixture
#              (counts per level, MADV_DONTNEED, move/delete churn, and the
#              fault injection that needs this kernel's KVM_PROVE_MMU; boot
#              with kvm.tdp_mmu=0, and hugepagesz=1G hugepages=2 for the
#              hugetlb_1g variant, which skips without them)
# No ratio of times is asserted: the tests see /proc/lockdep.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
case "${1:-}" in -h|--help) sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

S=${KSFT_INSTALL_PATH:-$BUILD/kselftest_install}
if [ "${1:-}" = rmap ]; then
	RUNS=("dirty_log_enable_test $S/dirty_log_enable/dirty_log_enable_test -s 1G -t counts_exact -t log_is_exact -f rmap")
else
	RUNS=("prezero_test $S/prezero/prezero_test -c 1G -f global -f knobs -f zero_check"
	      "vfio_dma_map_test $S/vfio/vfio_dma_map_test -s 64M -f dma_map -f edu_dma -f runs_path -f semantics -f hostile"
	      "vm_create_test $S/vm_create/vm_create_test -m 1G"
	      "uffd_unregister_test $S/uffd/uffd_unregister_test -s 16M -n 100")
fi

echo "TAP version 13"
echo "1..${#RUNS[@]}"
n=0 bad=0
for r in "${RUNS[@]}"; do
	n=$((n + 1))
	name=${r%% *}
	read -r -a cmd <<<"${r#* }"
	echo "# selftests: debug: $name"
	t0=$SECONDS
	(cd /tmp && exec "${cmd[@]}") </dev/null 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	echo "# debug: $name: exit $rc after $((SECONDS - t0))s"
	case $rc in
	0) echo "ok $n $name" ;;
	4) echo "ok $n $name # SKIP" ;;
	*) echo "not ok $n $name # exit=$rc"; bad=1 ;;
	esac
done
exit $bad
