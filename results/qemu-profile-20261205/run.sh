#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2043
# Real QEMU with every fix on (patched kernel, pre-zeroing caught up,
# patches/qemu -x), 2 GiB 4K and THP, 1 FLR device + BAR: one unprofiled
# run, then one under perf record -a -g (the whole guest: QEMU's threads,
# the L1 kernel's work for them).
T=$VMTEST_TOP/build/kselftest_install/qemu_create/qemu_create_test
PQ=$VMTEST_TOP/build/qemu/qemu-system-x86_64
R=$VMTEST_RESULTS
D="0000:01:00.0 0000:05:00.0"
for b in 4k; do	# thp too: "for b in 4k thp" (not run: time)
	echo "# ==== $b, unprofiled"
	"$T" -q "$PQ" -x -m 2G -b $b -P on -c "$R/qemu.csv" -l "plain-$b" -o "$R/plain-$b.log" $D |
		grep -E '^# (on|QEMU)|^(not )?ok'
	# catch up first, outside the profile
	"$T" -q "$PQ" -x -m 512M -b $b -P on -o /tmp/warm.log $D >/dev/null 2>&1
	echo 1 > /sys/kernel/mm/prezero/enabled
	while [ "$(cat /sys/kernel/mm/prezero/pending_kb)" -gt 65536 ]; do sleep 1; done
	echo "# ==== $b, profiled"
	perf record -q -a -g -F 499 -e cpu-clock -o /tmp/p-$b.data -- \
		"$T" -q "$PQ" -x -m 2G -b $b -P keep -c "$R/qemu.csv" -l "prof-$b" -o "$R/prof-$b.log" $D |
		grep -E '^# (keep|QEMU)|^(not )?ok'
	perf report -i /tmp/p-$b.data --stdio --no-children --sort comm,dso,symbol --percent-limit 0.7 2>/dev/null |
		grep -v '^$' | head -120 >"$R/perf-$b.txt"
	perf report -i /tmp/p-$b.data --stdio --no-children --sort comm --percent-limit 0.5 2>/dev/null |
		grep -v '^$' | head -40 >"$R/perf-$b-comm.txt"
	perf script report stackcollapse -i /tmp/p-$b.data >"$R/perf-$b.folded" 2>/dev/null
	rm -f /tmp/p-$b.data
done
exit 0
