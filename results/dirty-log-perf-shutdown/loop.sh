#!/bin/bash
# Loop the kernel's dirty_log_perf_test (2 vCPUs) N times in one boot (run it with
# scripts/vmtest.sh, VMTEST_APPEND="kvm.tdp_mmu=0" VMTEST_ENV=N); prints one line per run.
B=${B:-build/kselftest_install/dirty_log_enable}
echo "# flake-base: $(uname -r) tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu) rmap_skip_empty: $(cat /sys/module/kvm/parameters/rmap_skip_empty 2>&1 | head -1) prezero: $(ls /sys/kernel/mm/prezero 2>&1 | head -1)"
for i in $(seq ${N:-16}); do
	$B/dirty_log_perf_test ${ARGS:--v 2 -b 128M -i 3} > /tmp/o 2>&1
	rc=$?
	echo "# flake-base: args=${ARGS:-default} run=$i rc=$rc $(grep -o 'exit_reason=[A-Z_]*' /tmp/o)"
	[ $rc -ne 0 ] && grep -n "Iteration\|exit_reason\|diag" /tmp/o | tail -20
done
