# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by bench/report.sh and bench/cover-letter.sh: reading a results
# directory.  The caller sets OUT (the directory) and S (its
# data/summary.tsv, from summarize.awk).  bench/guest-bench.sh uses the
# switch_* helpers only.

# meta KEY: a line of meta.txt.
meta() { sed -n "s/^$1=//p" "$OUT/meta.txt" 2>/dev/null | head -1; }

# get BOOT GROUP PROFILE COLUMN: one value of the summary, or "-".
get() {
	awk -F'\t' -v b="$1" -v g="$2" -v p="$3" -v c="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$1 == b && $2 == g && $3 == p { print $h[c]; found = 1; exit }
		END { if (!found) print "-" }' "$S"
}

# ratio A B: A/B as "0.42x" (three decimals below 0.1: "0.004x"), or "-"
# when either is missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) { print "-"; exit }
		r = a / b
		printf r < 0.1 ? "%.3fx" : "%.2fx", r }'
}

# fmt V: seconds with 3 decimals, or "-".
fmt() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.3f", v }'; }

# groups PREFIX: the run groups with this prefix, by guest RAM then name.
groups() {
	awk -F'\t' -v p="$1" 'NR > 1 && index($2, p) == 1 && !seen[$2]++ { print $5, $2 }' "$S" |
		sort -k1,1n -k2,2V | cut -d' ' -f2
}

# switch_field ID N: field N of the switch ID in bench/switches (1 id,
# 2 patches, 3 path, 4 name); the script fails on an unknown ID.
switch_field() {
	awk -F'\t' -v id="$1" -v n="$2" '$1 == id { print $n; found = 1 } END { exit !found }' \
		"$(dirname "${BASH_SOURCE[0]}")/switches" || { echo "no switch '$1' in bench/switches" >&2; exit 1; }
}
switch_path() { switch_field "$1" 3; }
# switch_param ID: a module parameter as the command line spells it
# (vfio_iommu_type1.pin_runs), any other switch as its path.
switch_param() {
	switch_path "$1" | sed -E 's|^/sys/module/([^/]+)/parameters/(.+)$|\1.\2|'
}
# switch_title ID: "0003-0005 contiguous runs (vfio_iommu_type1.pin_runs)"
switch_title() { echo "$(switch_field "$1" 2) $(switch_field "$1" 4) ($(switch_param "$1"))"; }
