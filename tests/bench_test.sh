#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit tests of bench/: the CSV summary (medians, min, max), the report and
# its numbers, the charts, the flame graph, and bench.sh's argument checks.
# Input: tests/fixtures/bench, vm_create_test CSV with known totals.  KTAP.
set -u
T=$(cd "$(dirname "$0")" && pwd)
B=$T/../bench
. "$T/ktap.sh"
ktap_tmpdir

plan 16

# ---- summarize.awk
awk -f "$B/summarize.awk" "$T"/fixtures/bench/raw/*/*.csv >"$tmp/s.tsv"
col() {  # col BOOT GROUP PROFILE COLUMN
	awk -F'\t' -v b="$1" -v g="$2" -v p="$3" -v c="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$1 == b && $2 == g && $3 == p { print $h[c] }' "$tmp/s.tsv"
}
is "$(col base ram-1G legacy total_s)" 11.0000 "summary: median of an odd number of runs"
is "$(col base ram-1G optimized total_s)/$(col base ram-1G optimized total_min)/$(col base ram-1G optimized total_max)" \
	"7.0000/6.0000/9.0000" "summary: median, min and max of unordered runs"
is "$(col patched ram-2G optimized dma_map_s)" 2.0000 "summary: phase medians"
is "$(col patched ram-2G legacy runs)" 3 "summary: runs per boot, group and profile"

# ---- report.sh
cp -r "$T/fixtures/bench" "$tmp/res"
"$B/report.sh" "$tmp/res" >/dev/null 2>"$tmp/err"; rc=$?
is $rc 0 "report.sh succeeds on the fixture"
grep -q '| 2G | 22.000 | 14.000 | 16.000 | 4.000 | 0.18x |' "$tmp/res/report.md"
ok $? "report: the RAM table has the medians and the before/after ratio"
grep -q 'total 0.29x' "$tmp/res/report.md"
ok $? "report: kernel-only ratio at 1G (2 / 7)"
grep -q 'QEMU TCG' "$tmp/res/report.md"
ok $? "report: says the times are TCG"
if command -v gnuplot >/dev/null; then
	n=$(ls "$tmp"/res/charts/creation-vs-ram.png "$tmp"/res/charts/creation-vs-ram.svg \
		"$tmp"/res/charts/phases.png "$tmp"/res/charts/phases.svg 2>/dev/null | wc -l)
	is "$n" 4 "report: RAM and phase charts in PNG and SVG"
else
	ok 0 "report: charts # SKIP no gnuplot"
fi
awk 'NR > 1 && $1 + 0 == 2 { print $2, $5 }' "$tmp/res/data/ram.dat" >"$tmp/r"
is "$(cat "$tmp/r")" "22.0000 4.0000" "report: chart data matches the summary"

# ---- flame.awk
printf 'vm;a;b 30\nvm;a;c 10\nvm;d 5\n' | sort | awk -v title=t -f "$B/flame.awk" >"$tmp/f.svg"
is "$(grep -c "<rect x=" "$tmp/f.svg")" 5 "flame: one box per frame: vm, a, b, c, d"
grep -q '<title>a: 40 samples (88.89%)</title>' "$tmp/f.svg"
ok $? "flame: a caller's box holds its callees' samples"

# ---- bench.sh refuses bad input before building anything
BENCH_SCALE=0 "$B/bench.sh" >/dev/null 2>"$tmp/e"; rc=$?
grep -q 'BENCH_SCALE must be' "$tmp/e"; is "$rc/$?" "1/0" "bench.sh rejects a bad BENCH_SCALE"

# ---- bench/switches, the one list of the series' switches
is "$(bash -c '. "$1/lib.sh"; switch_title pin_runs' _ "$B")" \
	"0003-0005 contiguous runs (vfio_iommu_type1.pin_runs)" "switch_title names patches, switch and parameter"
is "$(bash -c '. "$1/lib.sh"; switch_param prezero' _ "$B")" "/sys/kernel/mm/prezero/enabled" \
	"switch_param keeps a sysfs path that is not a module parameter"
bash -c '. "$1/lib.sh"; switch_path nope; echo reached' _ "$B" >"$tmp/o" 2>"$tmp/e"; rc=$?
grep -q "no switch 'nope'" "$tmp/e" && ! grep -q reached "$tmp/o"; is "$rc/$?" "1/0" "an unknown switch stops the script"

done_testing
