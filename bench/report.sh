#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn a bench results directory into report.md, data/*.dat and charts.
#
# Usage: bench/report.sh RESULTS_DIR
#   RESULTS_DIR  results/<date>-<kver>-<machine>, with meta.txt and
#                raw/<boot>/*.csv from bench/bench.sh
# Writes RESULTS_DIR/data/summary.tsv (one row per boot, run group and VMM
# profile: medians of every phase, min/max of the total), the chart data,
# charts/*.png and *.svg (gnuplot), flame graphs from the perf profiles, and
# report.md, whose every number comes from those files.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
case "${1:-}" in -h|--help|'') sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ]; exit ;; esac
OUT=$(cd "$1" && pwd -P)
BENCH=$TOP/bench
[ -d "$OUT/raw" ] || die "$OUT has no raw/: run bench/bench.sh first"
mkdir -p "$OUT/data" "$OUT/charts"
D=$OUT/data
S=$D/summary.tsv

shopt -s nullglob
csvs=()
for f in "$OUT"/raw/*/*.csv; do
	case $(basename "$f") in patch-rmap_skip_empty.csv) continue ;; esac
	csvs+=("$f")
done
[ ${#csvs[@]} -gt 0 ] || die "no vm_create CSV under $OUT/raw"
awk -f "$BENCH/summarize.awk" "${csvs[@]}" >"$S"

sizes=$(groups ram- | sed 's/^ram-//')

# ---- chart data -----------------------------------------------------------
{
	echo "# size_gib base_legacy base_optimized patched_legacy patched_optimized (median total s), then min max of base_legacy and patched_optimized"
	for s in $sizes; do
		mib=$(get patched "ram-$s" optimized mem_mib)
		[ "$mib" = - ] && mib=$(get base "ram-$s" legacy mem_mib)
		printf '%s' "$(awk -v m="$mib" 'BEGIN { printf "%.3f", m / 1024 }')"
		for bp in "base legacy" "base optimized" "patched legacy" "patched optimized"; do
			v=$(get "${bp% *}" "ram-$s" "${bp#* }" total_s)
			printf ' %s' "${v/-/NaN}"
		done
		for bp in "base legacy" "patched optimized"; do
			for c in total_min total_max; do
				v=$(get "${bp% *}" "ram-$s" "${bp#* }" $c)
				printf ' %s' "${v/-/NaN}"
			done
		done
		echo
	done
} >"$D/ram.dat"

phases="ram kvm iommu devices dma_map bars firmware boot"
largest=$(echo "$sizes" | tail -1)
{
	echo "# combination $phases (median s, RAM sweep at $largest)"
	for bp in "base legacy" "base optimized" "patched legacy" "patched optimized"; do
		printf '"%s"' "${bp/ /\\n}"
		for ph in $phases; do
			v=$(get "${bp% *}" "ram-$largest" "${bp#* }" "${ph}_s")
			printf ' %s' "${v/-/NaN}"
		done
		echo
	done
} >"$D/phases.dat"

{
	echo "# flr_devices base_legacy base_optimized patched_legacy patched_optimized (median total s)"
	for g in $(groups devices-); do
		printf '%s' "${g#devices-}"
		for bp in "base legacy" "base optimized" "patched legacy" "patched optimized"; do
			v=$(get "${bp% *}" "$g" "${bp#* }" total_s)
			printf ' %s' "${v/-/NaN}"
		done
		echo
	done
} >"$D/devices.dat"

{
	echo "# backing base_optimized patched_optimized (DMA map MiB/s, median)"
	for g in $(groups backing-); do
		printf '"%s"' "${g#backing-}"
		for b in base patched; do
			mib=$(get $b "$g" optimized mem_mib)
			t=$(get $b "$g" optimized dma_map_s)
			awk -v m="$mib" -v t="$t" 'BEGIN { if (t == "-" || t + 0 == 0) printf " NaN"; else printf " %.1f", m / t }'
		done
		echo
	done
} >"$D/backing.dat"

# ---- charts -----------------------------------------------------------------
title_suffix="Linux $(meta kernel_release), QEMU TCG, $(meta machine)"
if command -v gnuplot >/dev/null; then
	for term in png svg; do
		if [ $term = png ]; then
			tset="set terminal pngcairo noenhanced size 900,540 font 'sans,10'"
		else
			tset="set terminal svg noenhanced size 900,540 dynamic font 'sans,10'"
		fi
		gnuplot <<-EOF
		$tset
		set grid ytics
		set key top left
		set output "$OUT/charts/creation-vs-ram.$term"
		set title "VM creation time vs guest RAM, 1 FLR device + 1 GiB BAR\n$title_suffix"
		set xlabel "guest RAM (GiB)"
		set ylabel "seconds (median)"
		set logscale x 2
		set logscale y 10
		set ylabel "seconds (median, log scale)"
		plot "$D/ram.dat" u 1:2:6:7 w yerrorlines lw 2 t "base kernel, legacy VMM", \
		     "" u 1:3 w lp lw 1 dt 2 t "base kernel, optimized VMM", \
		     "" u 1:4 w lp lw 1 dt 3 t "patched kernel, legacy VMM", \
		     "" u 1:5:8:9 w yerrorlines lw 2 t "patched kernel, optimized VMM"
		EOF
		gnuplot <<-EOF
		$tset
		set grid ytics
		set output "$OUT/charts/phases.$term"
		set title "Time per phase at $largest (median)\n$title_suffix"
		set style data histograms
		set style histogram rowstacked
		set style fill solid 0.85 border -1
		set boxwidth 0.6
		set key outside right top
		set bmargin 4
		set ylabel "seconds"
		set yrange [0:*]
		names = "$phases"
		plot for [i=2:9] "$D/phases.dat" u i:xtic(1) t word(names, i - 1)
		set output "$OUT/charts/creation-vs-devices.$term"
		set style data linespoints
		set key top left
		set title "VM creation time vs FLR devices (1 GiB RAM + 1 GiB BAR)\n$title_suffix"
		set xlabel "devices reset (FLR, ~100 ms each)"
		set ylabel "seconds (median)"
		plot "$D/devices.dat" u 1:2 lw 2 t "base kernel, legacy VMM", \
		     "" u 1:3 dt 2 t "base kernel, optimized VMM", \
		     "" u 1:4 dt 3 t "patched kernel, legacy VMM", \
		     "" u 1:5 lw 2 t "patched kernel, optimized VMM"
		set output "$OUT/charts/dma-map-throughput.$term"
		set title "DMA map of 1 GiB of guest RAM by backing, optimized VMM\n$title_suffix"
		set style data histograms
		set style histogram clustered gap 1
		set style fill solid 0.85 border -1
		set xlabel "backing"
		set ylabel "MiB/s (median)"
		set logscale y
		set yrange [*:*]
		plot "$D/backing.dat" u 2:xtic(1) t "base kernel", "" u 3 t "patched kernel"
		EOF
	done 2>"$D/gnuplot.log" || warn "gnuplot failed: see $D/gnuplot.log"
else
	warn "no gnuplot: charts not drawn (make deps installs gnuplot-nox)"
fi

# Flame graphs of the perf profiles.
for f in "$OUT"/raw/*/perf-*.folded; do
	boot=$(basename "$(dirname "$f")")
	p=$(basename "$f" .folded)
	sort "$f" | awk -v title="$boot kernel, ${p#perf-} VMM: one VM creation (perf, cpu-clock, TCG)" \
		-f "$BENCH/flame.awk" >"$OUT/charts/flame-$boot-${p#perf-}.svg"
done

# ---- report.md ---------------------------------------------------------------
row() {  # row LABEL BOOT GROUP PROFILE: a table row of phase medians
	local out="| $1" ph
	for ph in $phases total; do
		out+=" | $(fmt "$(get "$2" "$3" "$4" "${ph}_s")")"
	done
	echo "$out | $(fmt "$(get "$2" "$3" "$4" total_min)")–$(fmt "$(get "$2" "$3" "$4" total_max)") | $(fmt "$(get "$2" "$3" "$4" total_cpu_s)") | $(get "$2" "$3" "$4" runs) |"
}
hdr() {
	echo "| | ram | kvm | iommu | devices | dma_map | bars | firmware | boot | **total** | total min–max | total CPU | runs |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}
scenario() {  # scenario GROUP TITLE
	echo "### $2"
	echo
	hdr
	row "base kernel, legacy VMM" base "$1" legacy
	row "base kernel, optimized VMM" base "$1" optimized
	row "patched kernel, legacy VMM" patched "$1" legacy
	row "patched kernel, optimized VMM" patched "$1" optimized
	echo
	if [ -f "$OUT/raw/patched/$1.prezero" ]; then
		# shellcheck disable=SC2046 # the file holds words: wall s, CPU s
		set -- "$1" $(cat "$OUT/raw/patched/$1.prezero")
		echo "Background cost on the patched kernel: before each of its creations kprezerod caught up, in all $2 s of wall time and **$3 s of CPU** (idle priority) for this group."
		echo
	fi
	echo "Before → after (base + legacy → patched + optimized): total $(ratio "$(get patched "$1" optimized total_s)" "$(get base "$1" legacy total_s)"); kernel only (optimized VMM on both): total $(ratio "$(get patched "$1" optimized total_s)" "$(get base "$1" optimized total_s)"), dma_map $(ratio "$(get patched "$1" optimized dma_map_s)" "$(get base "$1" optimized dma_map_s)")."
	echo
}
patch_row() {  # patch_row NAME GROUP_PREFIX PHASE
	local off=$2-0 on=$2-1
	echo "| $1 | $3 | $(fmt "$(get patched "$off" optimized "${3}_s")") | $(fmt "$(get patched "$on" optimized "${3}_s")") | $(ratio "$(get patched "$on" optimized "${3}_s")" "$(get patched "$off" optimized "${3}_s")") | $(fmt "$(get patched "$off" optimized total_s)") | $(fmt "$(get patched "$on" optimized total_s)") | $(ratio "$(get patched "$on" optimized total_s)" "$(get patched "$off" optimized total_s)") |"
}

{
	echo "# VM creation with passthrough devices: before/after the series"
	echo
	echo "Generated by \`make bench\` (bench/report.sh) from the CSV files in \`raw/\`;"
	echo "every number below is a median of \`$(meta reps)\` runs unless it says otherwise."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $(meta date) |"
	echo "| patched kernel | $(meta kernel) |"
	echo "| base kernel | $(meta kernel_base) |"
	echo "| machine | $(meta machine): $(meta host_cpu) |"
	echo "| emulator | $(meta qemu), **$(meta accel)** |"
	echo "| guest (the kernel under test) | $(meta guest) |"
	echo "| project commit | $(meta commit) |"
	echo
	echo "**All times are under QEMU TCG on a 2-core host**: the kernel under test runs"
	echo "emulated and the VMs it creates run nested in it.  Absolute times are far"
	echo "slower than hardware; ratios between runs of the same boot are what carries"
	echo "over.  The VMM is \`vm_create_test\` (selftests/vm_create): *legacy* is the"
	echo "VMM behaviour the KVM Forum 2020 talk measured, *optimized* has its VMM-side"
	echo "fixes (deduplicated maps, the legacy area split, one parallel reset, no dirty"
	echo "logging on BARs).  Devices: virtio functions behind PCIe root ports (real"
	echo "FLR) and an ivshmem device with a 1 GiB BAR standing in for a GPU."
	echo
	echo "## Creation time vs RAM"
	echo
	echo "![creation time vs RAM](charts/creation-vs-ram.png)"
	echo
	echo "| RAM | base + legacy | base + optimized | patched + legacy | patched + optimized | before → after |"
	echo "|---|---|---|---|---|---|"
	for s in $sizes; do
		echo "| $s | $(fmt "$(get base "ram-$s" legacy total_s)") | $(fmt "$(get base "ram-$s" optimized total_s)") | $(fmt "$(get patched "ram-$s" legacy total_s)") | $(fmt "$(get patched "ram-$s" optimized total_s)") | $(ratio "$(get patched "ram-$s" optimized total_s)" "$(get base "ram-$s" legacy total_s)") |"
	done
	echo
	echo "Seconds, median total.  Phases at $largest:"
	echo
	echo "![phases](charts/phases.png)"
	echo
	echo "## Scenarios"
	echo
	for s in $sizes; do scenario "ram-$s" "RAM $s, THP, 1 FLR device + BAR"; done
	for g in $(groups devices-); do scenario "$g" "${g#devices-} FLR device(s) + BAR, 1 GiB"; done
	echo "![devices](charts/creation-vs-devices.png)"
	echo
	for g in $(groups backing-); do scenario "$g" "Backing ${g#backing-}, 1 GiB"; done
	echo "![DMA map throughput](charts/dma-map-throughput.png)"
	echo
	for g in $(groups numa-); do scenario "$g" "NUMA ${g#numa-}: node 1 under pressure, 1 GiB"; done
	echo "## Per patch: its switch off vs on, same boot"
	echo
	echo "Patched kernel, optimized VMM, every other switch at its default."
	echo
	echo "| patch (switch) | phase | phase off | phase on | on/off | total off | total on | on/off |"
	echo "|---|---|---|---|---|---|---|---|"
	[ "$(get patched patch-prezero-0 optimized runs)" != - ] &&
		patch_row "$(switch_title prezero)" patch-prezero dma_map
	[ "$(get patched patch-pin_runs-0 optimized runs)" != - ] &&
		patch_row "$(switch_title pin_runs), RAM prefaulted" patch-pin_runs dma_map
	echo
	w=$(cat "$OUT/raw/patched/patch-prezero-1.prezero" 2>/dev/null || true)
	if [ -n "$w" ]; then
		set -- $w
		echo "Pre-zeroing's background cost, beside its gain: before each *on* run"
		echo "kprezerod caught up with the memory freed since, $1 s of wall time and"
		echo "**$2 s of CPU** in all (idle priority), against the map time it saves above."
		echo
	fi
	r=$OUT/raw/shadow/patch-rmap_skip_empty.csv
	if [ -f "$r" ]; then
		echo "$(switch_title rmap_skip_empty), booted with kvm.tdp_mmu=0:"
		echo "enabling dirty logging on a sparse memslot (dirty_log_enable_test, 7 enables per mode)."
		echo
		echo "| skip empty | slot | pages touched | rmap heads visited | enable min | median | max |"
		echo "|---|---|---|---|---|---|---|"
		awk -F, 'NR > 1 { printf "| %s | %d MiB | %d | %d | %.6f | %.6f | %.6f |\n", $4 ? "on" : "off", $2, $3, $5, $6, $7, $8 }' "$r"
		awk -F, 'NR > 1 { t[$4] = $6 } END { if (t[0] > 0) printf "\nFastest enable on/off: %.3fx.\n", t[1] / t[0] }' "$r"
		echo
	fi
	echo "## Profiles"
	echo
	for f in "$OUT"/raw/*/perf-*.txt; do
		boot=$(basename "$(dirname "$f")")
		p=$(basename "$f" .txt)
		echo "### $boot kernel, ${p#perf-} VMM: top functions"
		echo
		echo "![flame graph](charts/flame-$boot-${p#perf-}.svg)"
		echo
		echo '```'
		grep -E '^ +[0-9.]+%' "$f" | head -15
		echo '```'
		echo
	done
	echo "## Files"
	echo
	echo "- \`raw/<boot>/<group>.csv\`: one line per VM creation (the vm_create_test schema), \`.ktap\` its output"
	echo "- \`data/summary.tsv\`: medians per boot, group and profile; \`data/*.dat\`: chart data"
	echo "- \`charts/\`: PNG and SVG charts, flame graphs"
	echo "- boots: $(ls "$OUT/raw" | tr '\n' ' ')"
	for h in "$OUT"/raw/*/health.ktap; do
		echo "- $(basename "$(dirname "$h")") kernel log: $(grep -E '^(not )?ok' "$h" | head -1)"
	done
} >"$OUT/report.md"
echo "report: ${OUT#$TOP/}/report.md"
