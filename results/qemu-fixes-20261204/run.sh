#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The runs of results/qemu-fixes-20261204, in the runner's guest:
#   make qemu
#   VMTEST_MEM=12G VMTEST_CMD="bash $PWD/results/qemu-fixes-20261204/run.sh" scripts/vmtest.sh
# patches/qemu's build with its switches off and on (-X), pre-zeroing on
# (after kprezerod caught up) and off; Debian's own QEMU as the reference.
T=$VMTEST_TOP/build/selftests/qemu_create/qemu_create_test
PQ=$VMTEST_TOP/build/qemu/qemu-system-x86_64
R=$VMTEST_RESULTS
run() {	# LABEL ARGS...
	local l=$1
	shift
	echo "# ==== $l"
	"$T" "$@" -c "$R/qemu.csv" -l "$l" -o "$R/$l.log" |
		grep -E '^# (on|off|keep|QEMU|run)|^(not )?ok'
}
for b in 4k thp; do
	for m in 1G 2G; do
		run "sw-off-$b-$m" -q "$PQ" -m $m -b $b -P on
		run "sw-on-$b-$m" -q "$PQ" -X -m $m -b $b -P on
	done
done
run "sw-off-4k-2G-pzoff" -q "$PQ" -m 2G -b 4k -P off
run "sw-on-4k-2G-pzoff" -q "$PQ" -X -m 2G -b 4k -P off
run "debian-4k-2G" -m 2G -b 4k -P on
exit 0
