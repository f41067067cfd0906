#!/bin/bash
# Loop the kernel's dirty_log_perf_test in a tdp_mmu=0 boot under each switch setting.
B=${B:-build/kselftest_install/dirty_log_enable}
p=/sys/module/kvm/parameters/rmap_skip_empty
z=/sys/kernel/mm/prezero/enabled
N=${N:-4}
for cfg in ${CFGS:-"Y 1" "N 1" "Y 0" "N 0"}; do
	set -- ${cfg/_/ }
	echo $1 > $p; echo $2 > $z
	for i in $(seq $N); do
		$B/dirty_log_perf_test ${ARGS:--v 2 -b 128M -i 3} > /tmp/o 2>&1
		rc=$?
		echo "# flake: args=${ARGS:-default} skip=$(cat $p) prezero=$(cat $z) run=$i rc=$rc $(grep -o 'exit_reason=[A-Z_]*' /tmp/o)"
		[ $rc -ne 0 ] && grep -n "Iteration\|Assert\|exit_reason" /tmp/o | tail -5
	done
done
dmesg | grep -i "warn\|bug\|rmap\|kvm" | tail -20
