#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make check": everything a change must pass, from a fresh clone.
#
# Usage: scripts/check.sh [STAGE...]     (default: all stages, in order)
# Stages:
#   tree       import Debian's linux-source-6.12, apply patches/series,
#              configure, install headers (what the selftests build against)
#   unit       the project's unit tests and lints (tests/run.sh): shellcheck
#              of our shell, checkpatch (selftests profile) of our C
#   selftests  build the suite with -Werror, install it, build the kernel's
#              own mm/kvm selftests we run (scripts/upstream-tests.sh), run
#              the suite on the host (no IOMMU or VFIO there: those skip),
#              and vm_create_test --reference and qemu_create_test -R (the
#              talk's sizes; skip where the machine cannot hold them)
#   kernel     build the patched kernel
#   vmtest     boot it under QEMU TCG and run the whole suite in the guest;
#              the guest kernel log must be clean (so in every boot below);
#              then hibernate and restore a guest (scripts/resume-test.sh),
#              then remove a DIMM while kprezerod clears a hugetlb folio
#              on it (prezero_hotremove_test)
#   vmtest-shadow  boot it again with kvm.tdp_mmu=0 (the shadow MMU, with
#              rmaps): dirty_log_enable and the kernel's kvm tests
#   upstream   the kernel's own mm and kvm selftests on the patched kernel,
#              every switch on, 2 NUMA nodes; failures that the base kernel
#              has too are listed in scripts/upstream-known-failures.txt
#   debug-kernel   build KVARIANT=debug (KASAN, lockdep, DEBUG_VM...), after
#              upstream: that stage's 4 vCPUs already overcommit a 2-core
#              host, and both of its failures seen so far (migration,
#              uffd-unit-tests, hugetlb cases) came with the build beside
#              it (a correlation: the one factor we can remove).
#              CHECK_OVERLAP=1 starts the build at nice 19 beside
#              upstream (saves about 450 s on a cold machine)
#   vmtest-debug   boot it with the suite's correctness tests
#              (scripts/run-debug.sh: zero checks, pin balance, bad input;
#              no ratio of times is asserted on a debug kernel), then with
#              kvm.tdp_mmu=0 for the rmap exactness tests, then the
#              hibernation and hot-remove tests
#   qemu       build patches/qemu into build/qemu (scripts/qemu.sh all),
#              started at nice 19 when vmtest-debug starts: that stage
#              asserts no times and leaves about 40% of the host idle,
#              which a cold QEMU build mostly fits in
#   vmtest-qemu    boot the patched kernel and create a VM with the patched
#              QEMU, its switches on (qemu_create_test -X): the guest reaches
#              user space, RAM above 1 MiB is DMA-mapped once, the kernel
#              resets each device only on open and close
# Each stage prints its time and how busy the host's CPUs were.  The
# closing lines:
#   "stages: N ok, N failed, N skipped"
#   "N passed, N failed, N skipped"
# The second counts each test once (scripts/ktap-summary.sh --help: the
# innermost results; a program's own line only when it reported no
# subtests, or failed beyond them); a stage that failed without a failing
# test (a build) counts as one failed test, so "0 failed" always means
# nothing failed.  Logs: results/check/<timestamp>/.  Exit status: 1 if
# anything failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ALL=(tree unit selftests kernel vmtest vmtest-shadow upstream debug-kernel vmtest-debug qemu vmtest-qemu)
case "${1:-}" in -h|--help) sed -n '3,/^# anything failed/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${ALL[@]}")
for s in "${stages[@]}"; do
	[[ " ${ALL[*]} " == *" $s "* ]] || die "unknown stage '$s' (${ALL[*]})"
done

OUT=$TOP/results/check/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" "$TOP/results/check/latest"
: >"$OUT/stages.ktap"
: >"$OUT/stage-failures.ktap"
declare -A failed
n=0 nfailed=0 nskipped=0 t_all=$SECONDS
times=()
bg_pid="" bg_t0=0
qemu_pid="" qemu_t0=0

# Host CPU time in use, from /proc/stat: "busy total" in jiffies.
cpu_sample() {
	local _cpu user nice sys idle iowait irq softirq steal _rest
	read -r _cpu user nice sys idle iowait irq softirq steal _rest </proc/stat
	echo "$((user + nice + sys + irq + softirq + steal)) $((user + nice + sys + idle + iowait + irq + softirq + steal))"
}
cpu_busy_pct() {	# "busy0 total0" -> percent of all CPUs busy since then
	local b0 t0 b1 t1
	read -r b0 t0 <<<"$1"
	read -r b1 t1 <<<"$(cpu_sample)"
	[ $((t1 - t0)) -gt 0 ] || { echo 0; return; }
	echo $(( (b1 - b0) * 100 / (t1 - t0) ))
}

# The KTAP files each stage writes (relative to $OUT).
declare -A KTAPS=(
	[unit]="unit.ktap"
	[selftests]="host.ktap host-reference.ktap host-qemu-reference.ktap"
	[vmtest]="vmtest/ktap.log vmtest/health.ktap vmtest-resume/ktap.log vmtest-resume/health.ktap vmtest-hotremove/ktap.log vmtest-hotremove/health.ktap"
	[vmtest-shadow]="vmtest-shadow/ktap.log vmtest-shadow/health.ktap"
	[upstream]="upstream/ktap.log upstream/health.ktap"
	[vmtest-qemu]="vmtest-qemu/ktap.log vmtest-qemu/health.ktap"
	[vmtest-debug]="vmtest-debug/ktap.log vmtest-debug/health.ktap vmtest-debug-shadow/ktap.log vmtest-debug-shadow/health.ktap vmtest-debug-resume/ktap.log vmtest-debug-resume/health.ktap vmtest-debug-hotremove/ktap.log vmtest-debug-hotremove/health.ktap"
)
stage_ktaps() {	# stage -> its existing KTAP files, absolute
	local f
	for f in ${KTAPS[$1]:-}; do
		[ -f "$OUT/$f" ] && echo "$OUT/$f"
	done
}

# run_stage NAME NEEDS... -- COMMAND...: skipped if a stage it needs failed.
run_stage() {
	local name=$1 t0 rc=0 files
	shift
	n=$((n + 1))
	while [ "$1" != -- ]; do
		if [ -n "${failed[$1]:-}" ]; then
			echo "== stage: $name skipped: stage $1 failed"
			echo "ok $n stage: $name # SKIP stage $1 failed" >>"$OUT/stages.ktap"
			failed[$name]=1
			nskipped=$((nskipped + 1))
			times+=("$name: skipped")
			return
		fi
		shift
	done
	shift
	stage_begin "$name"
	t0=$SECONDS
	local cpu0; cpu0=$(cpu_sample)
	"$@" || rc=$?
	stage_end "$name"
	times+=("$name: $((SECONDS - t0))s, host CPUs $(cpu_busy_pct "$cpu0")% busy")
	if [ $rc = 0 ]; then
		echo "ok $n stage: $name" >>"$OUT/stages.ktap"
		return
	fi
	echo "== stage: $name FAILED (exit $rc; log in ${OUT#"$TOP"/})"
	echo "not ok $n stage: $name # exit=$rc" >>"$OUT/stages.ktap"
	failed[$name]=1
	nfailed=$((nfailed + 1))
	# A stage that failed with no failing test of its own (a build, a
	# guest that died) counts as one failed test.
	# (Not "ktap-summary | grep -q": with pipefail, grep's early exit
	# makes the pipeline fail and a stage with failing tests count twice.)
	mapfile -t files < <(stage_ktaps "$name")
	local counted=""
	[ ${#files[@]} = 0 ] || counted=$("$TOP/scripts/ktap-summary.sh" -l "${files[@]}")
	if ! grep -q '^fail' <<<"$counted"; then
		echo "not ok $(( $(grep -c . "$OUT/stage-failures.ktap") + 1 )) stage_$name # exit=$rc, no failing test reported" \
			>>"$OUT/stage-failures.ktap"
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
	local rc=0 ref=0
	{ make -s --no-print-directory -C "$TOP/selftests" EXTRA_CFLAGS=-Werror &&
	  make -s --no-print-directory -C "$TOP/selftests" install &&
	  "$TOP/scripts/upstream-tests.sh" build; } >"$OUT/selftests-build.log" 2>&1 ||
		{ tail -40 "$OUT/selftests-build.log"; return 1; }
	# Not uffd: it tests the kernel under test (patch 0007), and the host's
	# kernel is not that one (6.18.44 here fails it: 72 of 400 faults left).
	local targets
	targets=$(sed -n 's/^TARGETS ?= //p' "$TOP/selftests/Makefile" | sed 's/\<uffd\>//')
	make -s --no-print-directory -C "$TOP/selftests" run_tests TARGETS="$targets" 2>&1 | tee "$OUT/host.ktap"
	"$TOP/scripts/ktap-summary.sh" -q "$OUT/host.ktap" || rc=1
	# The talk's sizes (vm_create_test --reference): run where the machine
	# holds them, else each result a skip with the reason and exit 4.
	"$BUILD/kselftest_install/vm_create/vm_create_test" --reference >"$OUT/host-reference.ktap" 2>&1 || ref=$?
	grep -E '^(not )?ok ' "$OUT/host-reference.ktap"
	case $ref in 0|4) ;; *) echo "vm_create_test --reference exited ${ref}"; rc=1 ;; esac
	# The same sizes with real QEMU, the patched kernel as its guest's.
	ref=0
	"$BUILD/kselftest_install/qemu_create/qemu_create_test" -R \
		-k "$(kobj_dir patched)/arch/x86/boot/bzImage" >"$OUT/host-qemu-reference.ktap" 2>&1 || ref=$?
	grep -E '^(not )?ok |^1\.\.0' "$OUT/host-qemu-reference.ktap"
	case $ref in 0|4) ;; *) echo "qemu_create_test -R exited ${ref}"; rc=1 ;; esac
	return $rc
}
st_kernel() {
	"$TOP/scripts/kernel.sh" build 2>&1 | tee "$OUT/kernel.log"
}

# boot DIR [VAR=VALUE...] -- COMMAND: one guest, results in $OUT/DIR.  A
# guest that never reported leaves a failing kernel_health result.
boot() {
	local dir=$1 rc=0
	shift
	local env=()
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	env VMTEST_RESULTS="$OUT/$dir" "${env[@]}" "$TOP/scripts/vmtest.sh" "$@" || rc=$?
	no_verdict "$dir"
	return $rc
}
no_verdict() {	# DIR: a failing kernel_health result if the guest gave none
	[ -f "$OUT/$1/health.ktap" ] ||
		"$TOP/scripts/kernel-health.sh" --no-verdict "$OUT/$1" >"$OUT/$1/health.ktap"
}

# resume_boot DIR [VAR=VALUE...]: hibernate and restore a guest booted from
# an initramfs (scripts/resume-test.sh: no zeroed mark survives a restore).
resume_boot() {
	local dir=$1 rc=0
	shift
	env VMTEST_RESULTS="$OUT/$dir" "$@" "$TOP/scripts/resume-test.sh" || rc=$?
	no_verdict "$dir"
	return $rc
}

# hotremove_boot DIR [VAR=VALUE...]: a guest with a 512 MiB DIMM online in
# ZONE_MOVABLE, offlined and ejected while kprezerod is parked in the middle
# of a hugetlb folio on it (prezero_hotremove_test).
hotremove_boot() {
	local dir=$1
	shift
	boot "$dir" VMTEST_MEM=2G VMTEST_DEVICES=edu VMTEST_DIMMS=1:512M \
		VMTEST_APPEND="${VMTEST_APPEND:-} memhp_default_state=online_movable" "$@" -- \
		"HOTREMOVE_TEST=1 $BUILD/kselftest_install/prezero/prezero_hotremove_test"
}

# Two 1 GiB huge pages reserved at boot (made at run time, they would
# depend on finding 1 GiB free and contiguous) for vfio_dma_map_test's
# hostile.hugetlb1g_* cases, on top of the 8 GiB the rest of the suite is
# sized for.
st_vmtest() {
	local rc=0
	boot vmtest VMTEST_MEM=10G VMTEST_APPEND="${VMTEST_APPEND:-} hugepagesz=1G hugepages=2" -- \
		"$TOP/scripts/run-suite.sh" || rc=1
	resume_boot vmtest-resume || rc=1
	hotremove_boot vmtest-hotremove || rc=1
	return $rc
}

# Shadow MMU (rmaps): our dirty_log_enable collection and the kernel's kvm
# tests.  12G: dirty_log_enable's 8 GiB sparse slot must fit under the
# guest's heuristic overcommit (the larger the slot, the clearer the walk);
# two 1 GiB pages reserved at boot for its rmap.hugetlb_1g cases (1G sptes).
st_vmtest_shadow() {
	boot vmtest-shadow VMTEST_APPEND="${VMTEST_APPEND:-} kvm.tdp_mmu=0 hugepagesz=1G hugepages=2" VMTEST_MEM=12G -- \
		"rc=0; $TOP/scripts/run-suite.sh -c dirty_log_enable || rc=1;
		 $TOP/scripts/upstream-tests.sh run kvm || rc=1; exit \$rc"
}

# The kernel's own mm and kvm tests, every switch on; 2 NUMA nodes for
# migration (it needs 3 CPUs or more).
st_upstream() {
	boot upstream VMTEST_MEM=4G VMTEST_CPUS=4 VMTEST_NODES=2 VMTEST_DEVICES=edu -- \
		"$TOP/scripts/upstream-tests.sh" run
}

st_debug_kernel() {
	if [ -n "$bg_pid" ]; then
		local rc=0
		echo "debug kernel: building since $(( SECONDS - bg_t0 ))s beside the upstream stage, waiting"
		wait "$bg_pid" || rc=$?
		bg_pid=""
		cat "$OUT/debug-kernel.log"
		echo "debug kernel: build took $(( SECONDS - bg_t0 ))s in all"
		return $rc
	fi
	{ KVARIANT=debug "$TOP/scripts/kernel.sh" config &&
	  KVARIANT=debug "$TOP/scripts/kernel.sh" build; } 2>&1 | tee "$OUT/debug-kernel.log"
}

# CHECK_OVERLAP=1: start the debug build in the background, at the lowest
# priority, when upstream is about to run and debug-kernel comes later.
# Only the upstream stage may overlap it: vmtest and vmtest-shadow assert
# ratios of times and run on a quiet host.
maybe_start_debug_build() {
	[ "${CHECK_OVERLAP:-0}" != 0 ] || return 0
	[[ " ${stages[*]} " == *" debug-kernel "* ]] || return 0
	[ -z "${failed[tree]:-}" ] || return 0
	[[ " ${times[*]} " != *" debug-kernel:"* ]] || return 0	# already built
	bg_t0=$SECONDS
	( { KVARIANT=debug "$TOP/scripts/kernel.sh" config &&
	    KVARIANT=debug nice -n 19 "$TOP/scripts/kernel.sh" build; } >"$OUT/debug-kernel.log" 2>&1 ) &
	bg_pid=$!
	echo "== debug kernel build started in the background (nice 19, pid $bg_pid)"
}

# The debug kernel: the suite's correctness tests, sized for it
# (scripts/run-debug.sh: counts, zero checks, pin balance, bad input; the
# tests see /proc/lockdep and assert no ratio of times), then the rmap
# exactness tests under the shadow MMU.  Sized by what the tests use, not
# the 8 GiB default: kprezerod clears all free guest memory once prezero_test
# turns it on, and under KASAN that took 372 s for the 6.6 GiB an 8 GiB
# guest has free.  The suite guest: 1 GiB per test at most, 4 GiB.  The rmap
# guest: two 1 GiB pages reserved at boot and a 1 GiB slot, 5 GiB.
st_vmtest_debug() {
	local rc=0
	boot vmtest-debug KVARIANT=debug VMTEST_MEM=4G -- "$TOP/scripts/run-debug.sh" || rc=1
	boot vmtest-debug-shadow KVARIANT=debug VMTEST_MEM=5G \
		VMTEST_APPEND="${VMTEST_APPEND:-} kvm.tdp_mmu=0 hugepagesz=1G hugepages=2" \
		-- "$TOP/scripts/run-debug.sh" rmap || rc=1
	resume_boot vmtest-debug-resume KVARIANT=debug || rc=1
	hotremove_boot vmtest-debug-hotremove KVARIANT=debug || rc=1
	return $rc
}

# The patched QEMU: in the background from the start of vmtest-debug (see
# the stage list above), else here.
maybe_start_qemu_build() {
	[[ " ${stages[*]} " == *" qemu "* ]] || return 0
	qemu_t0=$SECONDS
	( nice -n 19 "$TOP/scripts/qemu.sh" all >"$OUT/qemu.log" 2>&1 ) &
	qemu_pid=$!
	echo "== QEMU build started in the background (nice 19, pid $qemu_pid)"
}
st_qemu() {
	local rc=0
	if [ -n "$qemu_pid" ]; then
		echo "qemu: building since $(( SECONDS - qemu_t0 ))s beside vmtest-debug, waiting"
		wait "$qemu_pid" || rc=$?
		qemu_pid=""
		cat "$OUT/qemu.log"
		echo "qemu: build took $(( SECONDS - qemu_t0 ))s in all"
		return $rc
	fi
	"$TOP/scripts/qemu.sh" all 2>&1 | tee "$OUT/qemu.log"
}

# One VM creation with the patched QEMU, its switches on, asserting the
# counts of patches/qemu (qemu_create_test --help).  4 GiB: a 512 MiB L2
# guest, and kprezerod is off (-P keep) so nothing else runs beside it.
st_vmtest_qemu() {
	boot vmtest-qemu VMTEST_MEM=4G -- \
		"$BUILD/kselftest_install/qemu_create/qemu_create_test" -X -q "$BUILD/qemu/qemu-system-x86_64"
}

for s in "${stages[@]}"; do
	case $s in
	tree) run_stage tree -- st_tree ;;
	unit) run_stage unit tree -- st_unit ;;
	selftests) run_stage selftests tree -- st_selftests ;;
	kernel) run_stage kernel tree -- st_kernel ;;
	vmtest) run_stage vmtest kernel selftests -- st_vmtest ;;
	vmtest-shadow) run_stage vmtest-shadow kernel selftests -- st_vmtest_shadow ;;
	upstream) maybe_start_debug_build; run_stage upstream kernel selftests -- st_upstream ;;
	debug-kernel) run_stage debug-kernel tree -- st_debug_kernel ;;
	vmtest-debug) maybe_start_qemu_build; run_stage vmtest-debug debug-kernel selftests -- st_vmtest_debug ;;
	qemu) run_stage qemu -- st_qemu ;;
	vmtest-qemu) run_stage vmtest-qemu kernel selftests qemu -- st_vmtest_qemu ;;
	esac
done

echo
echo "== stage times (total $((SECONDS - t_all))s):"
printf '   %s\n' "${times[@]}"
echo "== kernel: $(cat "$(kobj_dir "${KVARIANT:-patched}")/kernel.version" 2>/dev/null || echo 'not built')"
{ echo "TAP version 13"; echo "1..$n"; cat "$OUT/stages.ktap"; } >"$OUT/stages.tmp" &&
	mv "$OUT/stages.tmp" "$OUT/stages.ktap"
ktaps=()
for s in "${stages[@]}"; do
	mapfile -t -O ${#ktaps[@]} ktaps < <(stage_ktaps "$s")
done
[ -s "$OUT/stage-failures.ktap" ] && ktaps+=("$OUT/stage-failures.ktap")
rc=0
summary="0 passed, 0 failed, 0 skipped"
if [ ${#ktaps[@]} -gt 0 ]; then
	summary=$("$TOP/scripts/ktap-summary.sh" "${ktaps[@]}") || rc=1
	# Each failure with what its log printed just before it, here at the
	# end where a CI log that keeps only its tail still shows it.
	if [ $rc != 0 ]; then
		echo "== failures, each with the lines before it in its log:"
		"$TOP/scripts/ktap-summary.sh" -f "${ktaps[@]}" | sed "s|$TOP/||"
	fi
else
	rc=1
fi
[ $nfailed -gt 0 ] && rc=1
echo "stages: $((n - nfailed - nskipped)) ok, $nfailed failed, $nskipped skipped"
echo "$summary"
exit $rc
