# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by bench/report.sh and bench/cover-letter.sh: reading a results
# directory.  The caller sets OUT (the directory) and S (its
# data/summary.tsv, from summarize.awk).  bench/guest-bench.sh uses the
# switch_* helpers only.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# meta KEY, get BOOT GROUP PROFILE COLUMN, fmt V, ratio A B: the functions
# of results.awk (the ones report.awk uses), one answer each.
_results() { awk -v OUT="$OUT" -v S="${S:-}" -v query=1 -f "$BENCH_LIB_DIR/results.awk" "$@"; }
meta() { _results meta "$1"; }
get() { _results get "$@"; }
fmt() { _results fmt "$1"; }
ratio() { _results ratio "$1" "$2"; }

# groups PREFIX: the run groups with this prefix (all with ''), by guest RAM
# then name.
groups() {
	awk -F'\t' -v p="$1" 'NR > 1 && substr($2, 1, length(p)) == p && !seen[$2]++ { print $5, $2 }' "$S" |
		sort -k1,1n -k2,2V | cut -d' ' -f2
}

# switch_field ID N: field N of the switch ID in bench/switches (1 id,
# 2 patches, 3 path, 4 name); the script fails on an unknown ID.
switch_field() {
	awk -F'\t' -v id="$1" -v n="$2" '$1 == id { print $n; found = 1 } END { exit !found }' \
		"$BENCH_LIB_DIR/switches" || { echo "no switch '$1' in bench/switches" >&2; exit 1; }
}
switch_path() { switch_field "$1" 3; }
# switch_param ID: a module parameter as the command line spells it
# (vfio_iommu_type1.pin_runs), any other switch as its path.
switch_param() {
	switch_path "$1" | sed -E 's|^/sys/module/([^/]+)/parameters/(.+)$|\1.\2|'
}
# switch_title ID: "0003-0005 contiguous runs (vfio_iommu_type1.pin_runs)"
switch_title() { echo "$(switch_field "$1" 2) $(switch_field "$1" 4) ($(switch_param "$1"))"; }
