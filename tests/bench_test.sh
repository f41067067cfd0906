#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit tests of bench/: the CSV summary (medians, min, max), the report and
# its numbers, the charts, the flame graph, and bench.sh's argument checks.
# Input: tests/fixtures/bench, vm_create_test CSV with known totals, and
# results/latest, whose report.md and data/ report.sh must give back.  KTAP.
set -u
T=$(cd "$(dirname "$0")" && pwd)
B=$T/../bench
. "$T/ktap.sh"
ktap_tmpdir

plan 29

# ---- summarize.awk (report.sh leaves real QEMU's qemu.csv out, as here)
awk -f "$B/summarize.awk" "$T"/fixtures/bench/raw/*/ram-*.csv >"$tmp/s.tsv"
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
# What a real run has beside the CSV: kprezerod's cost (one word is no
# cost), the rmap switch's CSV, a kernel log scan, a perf profile.
R=$tmp/res/raw
echo "12 8.04" >"$R/patched/ram-1G.prezero"
echo 12 >"$R/patched/ram-2G.prezero"
mkdir "$R/shadow"
printf '%s\n' kernel,slot_mib,touched,rmap_skip_empty,heads_visited,enable_min_s,enable_median_s,enable_max_s \
	k,8192,64,0,2101256,0.017104,0.023460,0.028921 k,8192,64,1,64,0.001224,0.002307,0.007359 \
	>"$R/shadow/patch-rmap_skip_empty.csv"
printf 'TAP version 13\n1..1\nok 1 kernel_health\n' >"$R/patched/health.ktap"
{ echo "# header"; for i in $(seq 20); do printf '    %d.00%%  [k] f%d\n' $((40 - i)) "$i"; done; } \
	>"$R/patched/perf-optimized.txt"
printf 'vm;a;b 30\nvm;a;c 10\n' >"$R/patched/perf-optimized.folded"
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
M=$tmp/res/report.md
is "$(grep -c 'Background cost' "$M")/$(grep -c 'in all 12 s of wall time and \*\*8.04 s of CPU\*\*' "$M")" 1/1 \
	"report: kprezerod's cost where its file has both numbers"
grep -q '| off | 8192 MiB | 64 | 2101256 | 0.017104 | 0.023460 | 0.028921 |' "$M" &&
	grep -q '^Fastest enable on/off: 0.072x.$' "$M"
ok $? "report: the rmap switch's table and its fastest on/off"
sed -n '/^### patched kernel, optimized VMM: top functions/,/^## Files/p' "$M" >"$tmp/p"
is "$(grep -c '%  \[k\] f' "$tmp/p")/$(grep -c header "$tmp/p")" 15/0 "report: a profile's first 15 functions"
[ -s "$tmp/res/charts/flame-patched-optimized.svg" ]
ok $? "report: a flame graph per folded profile"
grep -q '^- boots: base patched shadow $' "$M" && grep -q '^- patched kernel log: ok 1 kernel_health$' "$M"
ok $? "report: the boots and their kernel log scan"

# ---- results.awk through bench/lib.sh, as bench/cover-letter.sh reads it
is "$(bash -c '. "$1/lib.sh"; OUT=$2 S=$2/data/summary.tsv
	echo $(get base ram-1G legacy total_s) $(get base ram-9G legacy total_s) $(fmt 1.23456) $(fmt -) \
	$(ratio 1 250) $(ratio 1 4) $(ratio - 1) $(ratio 1 0) $(meta reps)' _ "$B" "$tmp/res")" \
	"11.0000 - 1.235 - 0.004x 0.25x - - 3" "lib.sh: get, fmt, ratio and meta"

# ---- the committed results: make report gives them back, byte for byte
L=$T/../results/latest
if [ -f "$L/report.md" ]; then
	mkdir "$tmp/latest"
	cp -r "$L/meta.txt" "$L/raw" "$tmp/latest"
	"$B/report.sh" "$tmp/latest" >/dev/null 2>&1
	diff -r -x gnuplot.log "$L/data" "$tmp/latest/data" >"$tmp/d" && diff "$L/report.md" "$tmp/latest/report.md" >>"$tmp/d"
	ok $? "report: results/latest's report.md and data/ reproduced" "$(head -5 "$tmp/d")"
else
	skip "report: results/latest reproduced" "no committed results"
fi

# ---- qemu.awk, through report.sh: the real-QEMU section (fixture qemu.csv:
# base kernel, Debian's QEMU, 1G THP runs of 6, 4, 5 s and one of 100 s that
# never reached user space; 2G 9 s; the patched kernel and QEMU 1.0/1.1 s)
grep -q '^| 1G thp | 5.000 | 3.000 | 2.000 | 1.000 | 0.20x |$' "$M"
ok $? "qemu: a size's row has the medians of the runs that reached user space" "$(grep '^| 1G thp' "$M")"
grep -q '^| thp | 4.000 | 2.000 | 0.500 | 0.100 | 0.025x | met |$' "$M"
ok $? "qemu: the slope per column and the goal" "$(grep '^| thp |' "$M")"
grep -q '^| 4 / 1 devices | 1.40x | - | - | 1.05x |$' "$M"
ok $? "qemu: 4 devices against 1, per column" "$(grep 'devices |' "$M")"
[ "$(grep -n '^## Real QEMU' "$M" | cut -d: -f1)" -lt "$(grep -n '^## Creation time vs RAM' "$M" | cut -d: -f1)" ]
ok $? "qemu: the real-QEMU section comes before the model VMM's"
is "$(grep -P '^base\+debian\tram-1G-thp\t' "$tmp/res/data/qemu.tsv")" "$(printf 'base+debian\tram-1G-thp\t3\t5.000\t4.000\t6.000')" \
	"qemu: data/qemu.tsv has runs, median, min and max"
is "$(grep -c qemu "$tmp/res/data/summary.tsv")" 0 "qemu: its CSV stays out of the vm_create_test summary"

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
