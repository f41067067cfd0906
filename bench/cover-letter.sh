#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write patches/0000-cover-letter.patch for the series in build/linux-patched,
# its numbers taken from a bench results directory (never typed by hand).
#
# Usage: bench/cover-letter.sh [RESULTS_DIR]    (default: results/latest)
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/lib.sh"
case "${1:-}" in -h|--help) sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
OUT=$(cd "${1:-$TOP/results/latest}" && pwd -P)
S=$OUT/data/summary.tsv
[ -f "$S" ] || die "$OUT has no data/summary.tsv: run bench/report.sh first"
SRC=$(ksrc_dir patched)
BASE_TAG=$(git -C "$SRC" describe --tags --abbrev=0 2>/dev/null) ||
	die "no kernel tree at $SRC: run 'make kernel'"
n=$(git -C "$SRC" rev-list --count "$BASE_TAG..HEAD")
[ "$n" -gt 0 ] || die "no patches on $BASE_TAG in $SRC"

sizes=$(groups ram- | sed 's/^ram-//')
largest=$(echo "$sizes" | tail -1)

# The real-QEMU table, from bench/qemu.awk's data/qemu.tsv: base kernel +
# Debian's QEMU against the patched kernel + patched QEMU, per backing and
# size (sizes as the bench ran them); one awk, with results.awk's fmt() and
# ratio().
Q=$OUT/data/qemu.tsv
qemu_table() {
	[ -s "$Q" ] || return 0
	cat <<-EOF
	With real QEMU, the talk's metric (QEMU start to the guest kernel's first
	line on the serial port; nested KVM under the TCG guest, one FLR device and
	a 1 GiB BAR passed through; Debian's QEMU 7.2, and the same with the VMM
	fixes of the companion QEMU series switched on), median of $(meta qemu_reps), seconds:

	  RAM     backing   base kernel     patched kernel
	                    Debian QEMU     patched QEMU     ratio
	EOF
	# backing, MiB, size, base + Debian, patched + patched; by backing and MiB
	awk -F'\t' '$2 ~ /^ram-/ && ($1 == "base+debian" || $1 == "patched+patched") {
			split($2, g, "-"); mib = g[2] + 0; if (g[2] ~ /G$/) mib *= 1024
			k = g[3] " " mib " " g[2]; keys[k] = 1; v[k, $1] = $4
		}
		END { for (k in keys) print k, ((k, "base+debian") in v ? v[k, "base+debian"] : "-"),
			((k, "patched+patched") in v ? v[k, "patched+patched"] : "-") }' "$Q" |
		sort -k1,1 -k2,2n |
		awk -f "$TOP/bench/results.awk" -f <(echo '{ printf "  %-7s %-9s %-15s %-16s %s\n", $3, $1, fmt($4), fmt($5), ratio($5, $4) }')
	echo
	echo "The model VMM below (vm_create_test) attributes the time to its causes."
	echo
}

blurb() {
	cat <<-EOF
	Creating a VM with a passthrough device pins all of its RAM for DMA, and
	pinning faults in and zeroes every page, one page at a time.  At KVM Forum
	2020 this was shown to take 38 s for 48 GiB + 1 GPU and about 2 minutes for
	192 GiB + 4 GPUs, and to drop to a few seconds with pre-zeroed free pages,
	pinning physically contiguous runs at once, skipping empty rmap walks when
	dirty logging is turned on, and a handful of VMM-side fixes.  This series
	is the kernel side, against Linux $(meta kernel_release):

	  $(switch_field prezero 2)  pre-zero free pages in the background (kprezerod, at idle
	             priority) and let THP and hugetlb faults skip the clearing of
	             pages that are known zero;  $(switch_param prezero)
	  $(switch_field pin_runs 2)  pin_user_pages_remote_runs(), and VFIO type1 pinning,
	             accounting and mapping physically contiguous runs and PFNMAP
	             leaf entries at once;  $(switch_param pin_runs)
	  $(printf '%-9s' "$(switch_field rmap_skip_empty 2)")  count rmap entries per memslot and level with a bit per
	             non-empty head, and skip empty ones in slot-wide rmap walks;
	             $(switch_param rmap_skip_empty)
	  $(printf '%04d     ' "$n")  a fix that is not one of the ideas above: UFFDIO_UNREGISTER
	             write-locks each VMA before it wakes the VMA's faults (a race
	             with faults under the per-VMA lock, on the base kernel too,
	             which the kernel's uffd-unit-tests hit in our runs); no switch

	Each optimization has a runtime switch, so both paths can be measured in one
	boot (pre-zeroing is off unless prezero=on is on the kernel command
	line; the others are on by default); the selftests that do so assert
	exact counts (pages zeroed, pages pinned, VmLck, rmap heads visited) and
	time ratios.

	Numbers, all from one \`make bench\` run ($(meta date)); the kernel under
	test runs under QEMU TCG ($(meta machine)), so only ratios carry over.

	EOF
	qemu_table
	cat <<-EOF
	VM creation by the model VMM with a THP-backed guest, one FLR device and a
	1 GiB BAR, median of $(meta reps), seconds:

	  RAM     base kernel     patched kernel   patched kernel   kernel
	          legacy VMM      legacy VMM       optimized VMM    only
	EOF
	for s in $sizes; do
		printf '  %-7s %-15s %-16s %-16s %s\n' "$s" \
			"$(fmt "$(get base "ram-$s" legacy total_s)")" \
			"$(fmt "$(get patched "ram-$s" legacy total_s)")" \
			"$(fmt "$(get patched "ram-$s" optimized total_s)")" \
			"$(ratio "$(get patched "ram-$s" legacy total_s)" "$(get base "ram-$s" legacy total_s)")"
	done
	cat <<-EOF

	At $largest the DMA map phase, where the pinning and zeroing happen, goes
	from $(fmt "$(get base "ram-$largest" optimized dma_map_s)") s to $(fmt "$(get patched "ram-$largest" optimized dma_map_s)") s with the same VMM ($(ratio "$(get patched "ram-$largest" optimized dma_map_s)" "$(get base "ram-$largest" optimized dma_map_s)")).
	EOF
	if [ "$(get patched patch-prezero-0 optimized runs)" != - ]; then
		read -r -a w < <(cat "$OUT/raw/patched/patch-prezero-1.prezero" 2>/dev/null || echo "- -")
		cat <<-EOF

		Per switch, same boot, optimized VMM:
		  pre-zeroing off -> on:  DMA map $(fmt "$(get patched patch-prezero-0 optimized dma_map_s)") -> $(fmt "$(get patched patch-prezero-1 optimized dma_map_s)") s ($(ratio "$(get patched patch-prezero-1 optimized dma_map_s)" "$(get patched patch-prezero-0 optimized dma_map_s)")), for ${w[1]} s of
		                          kprezerod CPU time spent beforehand in the background
		EOF
	fi
	if [ "$(get patched patch-pin_runs-0 optimized runs)" != - ]; then
		echo "  pin_runs off -> on:     DMA map of prefaulted RAM $(fmt "$(get patched patch-pin_runs-0 optimized dma_map_s)") -> $(fmt "$(get patched patch-pin_runs-1 optimized dma_map_s)") s ($(ratio "$(get patched patch-pin_runs-1 optimized dma_map_s)" "$(get patched patch-pin_runs-0 optimized dma_map_s)"))"
	fi
	r=$OUT/raw/shadow/patch-rmap_skip_empty.csv
	if [ -f "$r" ]; then
		awk -F, 'NR > 1 { h[$4] = $5; t[$4] = $6; mib = $2; n = $3 }
			END { printf "  rmap_skip_empty off -> on, kvm.tdp_mmu=0, %d MiB slot, %d pages touched:\n", mib, n
			      printf "                          enabling dirty logging visits %d -> %d rmap heads,\n", h[0], h[1]
			      printf "                          %.4f -> %.4f s (%.3fx, fastest of 7)\n", t[0], t[1], (t[0] > 0 ? t[1] / t[0] : 0) }' "$r"
	fi
	# What changed since the last posting: hand-written, kept beside the
	# series (patches/changes.txt), so that a regenerated letter keeps it.
	if [ -s "$TOP/patches/changes.txt" ]; then
		echo
		cat "$TOP/patches/changes.txt"
	fi
	cat <<-EOF

	The selftests, the VMM model and the bench are at the project's
	selftests/ and bench/; the full report, CSV and charts of this run are in
	results/$(basename "$OUT")/.
	EOF
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$SRC" format-patch -q --cover-letter --no-signature -o "$tmp" "$BASE_TAG..HEAD"
subject="Faster VM creation with passthrough devices: pre-zeroed pages, contiguous pinning, sparse rmap walks"
blurb >"$tmp/blurb"
awk -v subj="$subject" -v bf="$tmp/blurb" '
	/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subj) }
	/\*\*\* BLURB HERE \*\*\*/ { while ((getline l < bf) > 0) print l; next }
	{ print }' "$tmp/0000-cover-letter.patch" >"$TOP/patches/0000-cover-letter.patch"
echo "cover letter: patches/0000-cover-letter.patch ($n patches, numbers from ${OUT#$TOP/})"
