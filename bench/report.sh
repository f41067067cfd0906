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
[ -f "$OUT/meta.txt" ] || die "$OUT has no meta.txt: run bench/bench.sh first"
mkdir -p "$OUT/data" "$OUT/charts"
D=$OUT/data
S=$D/summary.tsv

shopt -s nullglob
csvs=()
for f in "$OUT"/raw/*/*.csv; do
	# Not vm_create_test's: the rmap switch's and real QEMU's (below).
	case ${f##*/} in patch-rmap_skip_empty.csv | qemu.csv) continue ;; esac
	csvs+=("$f")
done
[ ${#csvs[@]} -gt 0 ] || die "no vm_create CSV under $OUT/raw"
awk -f "$BENCH/summarize.awk" "${csvs[@]}" >"$S"

# ---- chart data and report.md ----------------------------------------------
phases="ram kvm iommu devices dma_map bars firmware boot"
largest=$(groups ram- | tail -1)
largest=${largest#ram-}
awk -v OUT="$OUT" -v phases="$phases" -v groups="$(groups '')" \
	-v entries="$(printf '%s\n' "$OUT"/raw/*)" \
	-v perfs="$(printf '%s\n' "$OUT"/raw/*/perf-*.txt)" \
	-v healths="$(printf '%s\n' "$OUT"/raw/*/health.ktap)" \
	-v title_prezero="$(switch_title prezero)" -v title_pin_runs="$(switch_title pin_runs)" \
	-v title_rmap_skip_empty="$(switch_title rmap_skip_empty)" \
	-f "$BENCH/results.awk" -f "$BENCH/report.awk"

# Real QEMU (guest-bench.sh section 6): its section goes first, before the
# model VMM's, as the client that counts.
qcsvs=("$OUT"/raw/*/qemu.csv)
if [ ${#qcsvs[@]} -gt 0 ]; then
	rm -f "$D/qemu.tsv" "$D/qemu-ram.dat"
	awk -v data="$D" -f "$BENCH/results.awk" -f "$BENCH/qemu.awk" "${qcsvs[@]}" >"$D/qemu.md"
	awk -v q="$D/qemu.md" '/^## Creation time vs RAM/ && !done {
			while ((getline l < q) > 0) print l
			done = 1
		}
		{ print }' "$OUT/report.md" >"$OUT/report.tmp" && mv "$OUT/report.tmp" "$OUT/report.md"
fi

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
		[ -s "$D/qemu-ram.dat" ] || continue
		gnuplot <<-EOF
		$tset
		set grid ytics
		set key top left
		set datafile missing "-"
		set output "$OUT/charts/qemu-vs-ram.$term"
		set title "Real QEMU: QEMU start to the guest's first line vs guest RAM, 1 FLR device + 1 GiB BAR\n$title_suffix"
		set xlabel "guest RAM (GiB)"
		set logscale x 2
		set ylabel "seconds (median)"
		set yrange [0:*]
		backs = "$(sed -n 's/^# \([^:]*\):.*/\1/p' "$D/qemu-ram.dat" | tr '\n' ' ')"
		plot for [i=1:words(backs)] "$D/qemu-ram.dat" index i-1 u 1:2 w lp dt 2 lc i \\
			t word(backs, i)." base kernel + Debian QEMU", \\
		     for [i=1:words(backs)] "" index i-1 u 1:5 w lp lw 2 lc i \\
			t word(backs, i)." patched kernel + patched QEMU"
		EOF
	done 2>"$D/gnuplot.log" || warn "gnuplot failed: see $D/gnuplot.log"
else
	warn "no gnuplot: charts not drawn (make deps installs gnuplot-nox)"
fi

# Flame graphs of the perf profiles.
for f in "$OUT"/raw/*/perf-*.folded; do
	boot=${f%/*} boot=${boot##*/}
	p=${f##*/} p=${p%.folded}
	sort "$f" | awk -v title="$boot kernel, ${p#perf-} VMM: one VM creation (perf, cpu-clock, TCG)" \
		-f "$BENCH/flame.awk" >"$OUT/charts/flame-$boot-${p#perf-}.svg"
done

echo "report: ${OUT#$TOP/}/report.md"
