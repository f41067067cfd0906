#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make check": everything a change must pass, from a fresh clone.
#
# Usage: scripts/check.sh [STAGE...]     (default: all stages, in order)
# Stages:
#   tree       import Debian's linux-source-6.12, apply patches/series,
#              configure, install headers (what the selftests build against)
#   unit       the project's unit tests (tests/run.sh)
#   selftests  build the suite with -Werror, install it, run it on the host
#              (no IOMMU or VFIO here: those tests skip with a reason)
#   kernel     build the patched kernel
#   vmtest     boot it under QEMU TCG and run the whole suite in the guest;
#              the guest kernel log must be clean
#   vmtest-shadow  boot it again with kvm.tdp_mmu=0 (the shadow MMU, with
#              rmaps) and run the collections that need it: dirty_log_enable
# Each stage prints its time; the last line counts every KTAP result of every
# stage (and each stage's own verdict): "N passed, N failed, N skipped".
# Logs: results/check/<timestamp>/.  Exit status: 1 if anything failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ALL=(tree unit selftests kernel vmtest vmtest-shadow)
# Collections that run in a guest booted with kvm.tdp_mmu=0.
SHADOW_COLLECTIONS=(dirty_log_enable)
case "${1:-}" in -h|--help) sed -n '3,/^# Logs/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${ALL[@]}")
for s in "${stages[@]}"; do
	[[ " ${ALL[*]} " == *" $s "* ]] || die "unknown stage '$s' (${ALL[*]})"
done

OUT=$TOP/results/check/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" "$TOP/results/check/latest"
: >"$OUT/stages.ktap"
declare -A failed
n=0 nfailed=0 t_all=$SECONDS
times=()

# run_stage NAME NEEDS... -- COMMAND...: skipped if a stage it needs failed.
run_stage() {
	local name=$1 need t0 rc=0
	shift
	n=$((n + 1))
	while [ "$1" != -- ]; do
		if [ -n "${failed[$1]:-}" ]; then
			echo "== stage: $name skipped: stage $1 failed"
			echo "ok $n stage: $name # SKIP stage $1 failed" >>"$OUT/stages.ktap"
			failed[$name]=1
			nfailed=$((nfailed + 1))
			times+=("$name: skipped")
			return
		fi
		shift
	done
	shift
	stage_begin "$name"
	t0=$SECONDS
	"$@" || rc=$?
	stage_end "$name"
	times+=("$name: $((SECONDS - t0))s")
	if [ $rc = 0 ]; then
		echo "ok $n stage: $name" >>"$OUT/stages.ktap"
	else
		echo "== stage: $name FAILED (exit $rc; log in ${OUT#$TOP/})"
		echo "not ok $n stage: $name # exit=$rc" >>"$OUT/stages.ktap"
		failed[$name]=1
		nfailed=$((nfailed + 1))
	fi
}

st_tree() {
	{ "$TOP/scripts/kernel.sh" prepare && "$TOP/scripts/kernel.sh" config &&
	  "$TOP/scripts/kernel.sh" headers; } 2>&1 | tee "$OUT/tree.log"
}
st_unit() {
	"$TOP/tests/run.sh" 2>&1 | tee "$OUT/unit.ktap"
}
st_selftests() {
	{ make -s --no-print-directory -C "$TOP/selftests" EXTRA_CFLAGS=-Werror &&
	  make -s --no-print-directory -C "$TOP/selftests" install; } 2>&1 | tee "$OUT/selftests-build.log" || return 1
	make -s --no-print-directory -C "$TOP/selftests" run_tests 2>&1 | tee "$OUT/host.ktap"
	"$TOP/scripts/ktap-summary.sh" -q "$OUT/host.ktap"
}
st_kernel() {
	"$TOP/scripts/kernel.sh" build 2>&1 | tee "$OUT/kernel.log"
}
st_vmtest() {
	local rc=0
	VMTEST_RESULTS=$OUT/vmtest "$TOP/scripts/vmtest.sh" || rc=$?
	[ -f "$OUT/vmtest/health.ktap" ] || echo "not ok 1 kernel_health # no verdict: the guest did not finish" >"$OUT/vmtest/health.ktap"
	return $rc
}

st_vmtest_shadow() {
	local rc=0 c args=()
	for c in "${SHADOW_COLLECTIONS[@]}"; do args+=(-c "$c"); done
	# 12G: dirty_log_enable's 8 GiB sparse slot must fit under the guest's
	# heuristic overcommit (the larger the slot, the clearer the walk's cost).
	VMTEST_RESULTS=$OUT/vmtest-shadow VMTEST_APPEND="${VMTEST_APPEND:-} kvm.tdp_mmu=0" \
		VMTEST_MEM=${VMTEST_MEM:-12G} \
		"$TOP/scripts/vmtest.sh" "$TOP/scripts/run-suite.sh" "${args[@]}" || rc=$?
	[ -f "$OUT/vmtest-shadow/health.ktap" ] ||
		echo "not ok 1 kernel_health # no verdict: the guest did not finish" >"$OUT/vmtest-shadow/health.ktap"
	return $rc
}

for s in "${stages[@]}"; do
	case $s in
	tree) run_stage tree -- st_tree ;;
	unit) run_stage unit tree -- st_unit ;;
	selftests) run_stage selftests tree -- st_selftests ;;
	kernel) run_stage kernel tree -- st_kernel ;;
	vmtest) run_stage vmtest kernel selftests -- st_vmtest ;;
	vmtest-shadow) run_stage vmtest-shadow kernel selftests -- st_vmtest_shadow ;;
	esac
done

echo
echo "== stage times (total $((SECONDS - t_all))s):"
printf '   %s\n' "${times[@]}"
echo "== kernel: $(cat "$(kobj_dir "${KVARIANT:-patched}")/kernel.version" 2>/dev/null || echo 'not built')"
{ echo "TAP version 13"; echo "1..$n"; cat "$OUT/stages.ktap"; } >"$OUT/stages.tmp" &&
	mv "$OUT/stages.tmp" "$OUT/stages.ktap"
ktaps=("$OUT/stages.ktap")
for f in unit.ktap host.ktap vmtest/ktap.log vmtest/health.ktap \
	vmtest-shadow/ktap.log vmtest-shadow/health.ktap; do
	[ -f "$OUT/$f" ] && ktaps+=("$OUT/$f")
done
summary=$("$TOP/scripts/ktap-summary.sh" "${ktaps[@]}")
rc=$?
[ $nfailed -gt 0 ] && rc=1
echo "$summary"
exit $rc
