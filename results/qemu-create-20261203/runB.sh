#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The sweep of results/qemu-create-20261203, run in the runner's guest:
#   VMTEST_MEM=12G VMTEST_CMD="bash $PWD/results/qemu-create-20261203/runB.sh" scripts/vmtest.sh
T=$VMTEST_TOP/build/selftests/qemu_create/qemu_create_test
R=$VMTEST_RESULTS
for b in thp 4k; do
	for m in 512M 1G 2G 4G; do
		if [ $b = 4k ] && { [ $m = 512M ] || [ $m = 4G ]; }; then
			continue
		fi
		echo "# ==== $b $m"
		$T -m $m -b $b -P both -c "$R/qemu.csv" -l "$b-$m" -o "$R/$b-$m.log" |
			grep -E '^# (off|on|pre-zeroing)|^(not )?ok'
	done
done
echo "# ==== no device, thp 2G"
$T -N -m 2G -b thp -P both -c "$R/qemu.csv" -l nodev-thp-2G -o "$R/nodev-thp-2G.log" |
	grep -E '^# (off|on|pre-zeroing)|^(not )?ok'
exit 0
