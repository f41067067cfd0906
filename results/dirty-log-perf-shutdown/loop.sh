#!/bin/bash
# Run the kernel's dirty_log_perf_test (2 vCPUs unless ARGS says otherwise) N
# times in one boot and print one line per run; on a failure, its last lines.
# Boot with: VMTEST_APPEND=kvm.tdp_mmu=0 VMTEST_ENV="N ARGS" scripts/vmtest.sh THIS
B=${B:-build/kselftest_install/dirty_log_enable}
k=/sys/module/kvm/parameters
echo "# loop: $(uname -r) tdp_mmu=$(cat $k/tdp_mmu) rmap_skip_empty=$(cat $k/rmap_skip_empty 2>/dev/null || echo -)" \
     "prezero=$(cat /sys/kernel/mm/prezero/enabled 2>/dev/null || echo -) args=${ARGS:-default}"
for i in $(seq "${N:-16}"); do
	# shellcheck disable=SC2086 # ARGS is a list of options
	"$B/dirty_log_perf_test" ${ARGS:--v 2 -b 128M -i 3} > /tmp/o 2>&1
	rc=$?
	echo "# loop: run=$i rc=$rc $(grep -o 'exit_reason=[A-Z_]*' /tmp/o)"
	[ $rc -ne 0 ] && tail -25 /tmp/o
done
