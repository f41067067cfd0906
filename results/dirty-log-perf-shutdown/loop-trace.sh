#!/bin/bash
# Loop dirty_log_perf_test (2 vCPUs) with kvm and kvmmmu tracepoints on; on a
# failure, save the whole trace in the results directory and print its end.
B=${B:-build/kselftest_install/dirty_log_enable}
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs nodev $T
echo 16384 > $T/buffer_size_kb
for e in kvm_exit kvm_inj_exception kvm_page_fault kvm_entry kvm_nested_vmexit kvm_mmu_set_spte kvm_fast_mmio; do
	[ -d $T/events/kvm/$e ] && echo 1 > $T/events/kvm/$e/enable
	[ -d $T/events/kvmmmu/$e ] && echo 1 > $T/events/kvmmmu/$e/enable
done
echo 1 > $T/events/kvmmmu/enable 2>/dev/null
echo 1 > $T/events/kvm/kvm_inj_exception/enable
for i in $(seq ${N:-6}); do
	echo > $T/trace
	echo 1 > $T/tracing_on
	$B/dirty_log_perf_test ${ARGS:--v 2 -b 128M -i 3} > /tmp/o 2>&1
	rc=$?
	echo 0 > $T/tracing_on
	echo "# flake-trace: run=$i rc=$rc $(grep -o 'exit_reason=[A-Z_]*' /tmp/o)"
	if [ $rc -ne 0 ]; then
		grep -n "Iteration\|exit_reason" /tmp/o | tail -3
		cat $T/trace > /tmp/results/trace.txt	# the runner's results directory
		grep -v "kvm_mmu_set_spte\|kvm_mmu_get_page\|kvm_mmu_prepare_zap\|mark_mmio\|handle_mmio" $T/trace | tail -60
		grep "inj_exception\|triple\|shutdown" $T/trace | tail -10
		break
	fi
done
