#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dev_args and friends print options, one word each: split on purpose.
# shellcheck disable=SC2046
# Runs inside the vmtest guest (bench/bench.sh boots it), or on a bare-metal
# host (bench.sh with BENCH_HOST=1): creates VMs with
# vm_create_test for every scenario and writes one CSV per run group to
# $VMTEST_RESULTS/raw/<group>.csv, plus the test's KTAP next to it.
#
# Usage: guest-bench.sh base|patched|shadow|iof
#   base     scenarios only (the unpatched kernel)
#   patched  scenarios, then each patch's switch off vs on, and pre-zeroing
#            back to back (no time for kprezerod between creations)
#   shadow   (booted with kvm.tdp_mmu=0) the rmap walk patch's switch
#   iof      (the base kernel booted with init_on_free=1) the competitor of
#            pre-zeroing: the same creations as pre-zeroing's off vs on,
#            each after the previous VM was torn down, zeroing paid on free
# Environment (set by bench.sh): BENCH_SIZES, BENCH_DEVICES, BENCH_BACKINGS,
# BENCH_REPS, BENCH_PROFILE (1: perf profile of one creation per profile),
# BENCH_QEMU (0: no real-QEMU runs), BENCH_QEMU_SIZES [BENCH_SIZES],
# BENCH_QEMU_BACKINGS [thp 4k hugetlb2m], BENCH_QEMU_REPS [BENCH_REPS].
set -uo pipefail
case "${1:-}" in base|patched|shadow|iof) ;; *) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;; esac
MODE=$1
TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"	# switch_* (bench/switches)
KSFT=${KSFT_INSTALL_PATH:-$TOP/build/kselftest_install}
VMC=$KSFT/vm_create/vm_create_test
DLE=$KSFT/dirty_log_enable/dirty_log_enable_test
OUT=${VMTEST_RESULTS:?not in a vmtest guest}/raw
mkdir -p "$OUT"
SIZES=${BENCH_SIZES:-1G 2G 4G 8G}
DEVICES=${BENCH_DEVICES:-1 2 4}
BACKINGS=${BENCH_BACKINGS:-anonymous anonymous_thp anonymous_hugetlb_2mb}
REPS=${BENCH_REPS:-3}
failures=0
t0=$SECONDS
# One kprobe per counted function for the whole boot (see kprobe_count.h).
export KPROBE_COUNT_KEEP=1

say() { echo "# bench [$MODE $((SECONDS - t0))s]: $*"; }

# Devices: virtio functions (FLR) first, then ivshmem (the large BAR).  On
# bare metal (BENCH_HOST=1, bench.sh) every device given is a passthrough
# device with its own BARs (a GPU), in the order given.
read -r -a bdfs <<<"${VFIO_SELFTESTS_BDF:-}"
virtio=() ivshmem=
for b in "${bdfs[@]}"; do
	id=$(cat "/sys/bus/pci/devices/$b/vendor"):$(cat "/sys/bus/pci/devices/$b/device")
	case $id in
	0x1af4:0x1044|0x1af4:0x1005) virtio+=("$b") ;;
	0x1af4:0x1110) ivshmem=$b ;;
	*) [ "${BENCH_HOST:-0}" = 1 ] && virtio+=("$b") ;;
	esac
done
say "virtio ${virtio[*]:-none}, ivshmem ${ivshmem:-none}"

# dev_args N: N FLR-capable devices plus the large-BAR device, as trailing
# BDF arguments (they must come last on the command line).
dev_args() {
	local i args=()
	for ((i = 0; i < $1 && i < ${#virtio[@]}; i++)); do args+=("${virtio[$i]}"); done
	[ -n "$ivshmem" ] && args+=("$ivshmem")
	[ ${#args[@]} -gt 0 ] || args=(-d none)
	echo "${args[@]}"
}

# run GROUP ARGS...: vm_create_test, each profile (legacy, optimized or
# both: PROFILES) REPS times, one creation per invocation.  With pre-zeroing
# on, kprezerod catches up before each creation, as it would between VM
# launches (unless SETTLE=0: back to back); what it spends doing so goes to
# raw/GROUP.prezero ("wall_s cpu_s").
PROFILES="legacy optimized"
SETTLE=1
run() {
	local group=$1 rc r p w=0 c=0 ws cs
	shift
	say "$group: vm_create_test $* (x$REPS, $PROFILES)"
	: >"$OUT/$group.ktap"
	for ((r = 1; r <= REPS; r++)); do
		for p in $PROFILES; do
			if [ $SETTLE = 1 ] && prezero_on; then
				read -r ws cs < <(prezero_settle)
				w=$((w + ws)) c=$(awk -v a="$c" -v b="$cs" 'BEGIN { print a + b }')
			fi
			rc=0
			"$VMC" -q -p "$p" -o "$OUT/$group.csv" "$@" >>"$OUT/$group.ktap" 2>&1 || rc=$?
			if [ $rc != 0 ]; then
				failures=$((failures + 1))
				say "$group: $p run $r FAILED (exit $rc), see raw/$group.ktap"
			fi
		done
	done
	[ $SETTLE = 1 ] && prezero_on && echo "$w $c" >"$OUT/$group.prezero"
	awk -F, -v g="$group" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "total_s") col = i; next }
		{ s[$2] = s[$2] sprintf(" %.2f", $col) }
		END { for (p in s) printf "#   %s %s total s:%s\n", g, p, s[p] }' "$OUT/$group.csv"
}

# The 2 MiB pool, by its own path (nr_hugepages is the default size's, 1G
# on a host booted with default_hugepagesz=1G).  A host's own pool
# (BENCH_HOST=1) is grown for the hugetlb group, then given back as it
# was; a guest starts with none.
HP2M=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
hugepages() { echo "$1" >$HP2M; }
hugepages0=$(cat $HP2M)

max_mib=0
for s in $SIZES; do
	m=$(numfmt --from=iec "$s")
	[ $((m >> 20)) -gt $max_mib ] && max_mib=$((m >> 20))
done

prezero_knob=$(switch_path prezero)
prezero=$(dirname "$prezero_knob")
prezero_on() { [ -r "$prezero_knob" ] && [ "$(cat "$prezero_knob")" = 1 ]; }
# prezero_settle: let kprezerod catch up; prints seconds waited and its CPU s.
# It gives up (and says so) only when the worker makes no progress for 60 s:
# pending_kb reaches no new low and prezero_zeroed does not move.
prezero_settle() {
	local pid cpu0 cpu1 w0=$SECONDS moved=$SECONDS pending low=-1 z z0=
	pid=$(cat $prezero/worker_pid)
	cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	while pending=$(cat $prezero/pending_kb) && [ "$pending" != 0 ]; do
		z=$(awk '$1 == "prezero_zeroed" { print $2 }' /proc/vmstat)
		if [ "$low" = -1 ] || [ "$pending" -lt "$low" ] || [ "$z" != "$z0" ]; then
			low=$pending z0=$z moved=$SECONDS
		elif [ $((SECONDS - moved)) -ge 60 ]; then
			say "kprezerod made no progress for 60 s: ${pending} KiB left" >&2
			break
		fi
		sleep 1
	done
	cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	echo "$((SECONDS - w0)) $(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.2f", (b - a) / hz }')"
}

# The size of the per-patch and competitor groups: 2 GiB, or the largest
# size if smaller.
psize=2G
[ $max_mib -lt 2048 ] && psize=${max_mib}M

if [ "$MODE" = iof ]; then
	# As patch-prezero-* below: optimized VMM, 1 FLR device + BAR; every
	# creation but the first comes right after a VM was torn down.
	PROFILES=optimized
	say "init_on_free=$(tr -d '\n' </sys/module/page_alloc/parameters/init_on_free 2>/dev/null || echo '?'): the base kernel's competitor of pre-zeroing"
	run "zeroing-init_on_free" -m "$psize" $(dev_args 1)
	say "done, $failures failure(s)"
	exit $((failures > 0))
fi

if [ "$MODE" = shadow ]; then
	say "rmap_skip_empty off vs on: dirty_log_enable_test -r enable.sparse"
	"$DLE" -o "$OUT/patch-rmap_skip_empty.csv" -r enable.sparse >"$OUT/patch-rmap_skip_empty.ktap" 2>&1 ||
		failures=$((failures + 1))
	grep -E '^# (enable|rmap)' "$OUT/patch-rmap_skip_empty.ktap"
	say "done, $failures failure(s)"
	exit $((failures > 0))
fi

# With the patches, the scenarios run with every switch on (pre-zeroing by
# prezero=on on the command line, bench.sh; the others by default).
if [ "$MODE" = patched ] && [ -d $prezero ]; then
	say "waiting for kprezerod to catch up before the scenarios"
	read -r waited cpu < <(prezero_settle)
	say "kprezerod: ${waited}s, ${cpu} CPU s"
fi

# 1. RAM sweep, 1 FLR device + the BAR device, THP (the default backing).
for s in $SIZES; do
	run "ram-$s" -m "$s" $(dev_args 1)
done
# 2. Devices.
for n in $DEVICES; do
	run "devices-$n" -m 1G $(dev_args "$n")
done
# 3. Backings.
for b in $BACKINGS; do
	[ "$b" = anonymous_hugetlb_2mb ] && hugepages $((hugepages0 + 640))
	run "backing-$b" -m 1G -b "$b" $(dev_args 1)
	[ "$b" = anonymous_hugetlb_2mb ] && hugepages "$hugepages0"
done
# 4. NUMA: node 1 under pressure (a tmpfs bound to it holds 3/4 of its free
#    memory, without using CPU), bind to node 0 vs interleave over both.
if [ -d /sys/devices/system/node/node1 ]; then
	free1=$(awk '/MemFree/ {print $4}' /sys/devices/system/node/node1/meminfo)
	hog=$((free1 * 3 / 4 / 1024))
	say "NUMA: ${hog} MiB held on node 1"
	mkdir -p /run/bench-hog
	mount -t tmpfs -o mpol=bind:1,size=$((hog + 64))m none /run/bench-hog &&
		dd if=/dev/zero of=/run/bench-hog/hog bs=1M count="$hog" status=none
	run numa-bind0 -m 1G -n bind:0 $(dev_args 1)
	run numa-interleave -m 1G -n interleave:0,1 $(dev_args 1)
	umount /run/bench-hog
else
	say "NUMA: skipped (the guest has one node)"
fi

# 5. Each patch's switch, off vs on, the optimized VMM, 2 GiB (or the
#    largest size if smaller).
if [ "$MODE" = patched ]; then
	if [ -d $prezero ]; then
		PROFILES=optimized
		for on in 0 1; do
			echo "$on" >"$prezero_knob"
			run "patch-prezero-$on" -m "$psize" $(dev_args 1)
		done
		# Back to back: no time for kprezerod between creations; it must
		# not be slower than off.
		SETTLE=0
		run "patch-prezero-b2b" -m "$psize" $(dev_args 1)
		SETTLE=1
		PROFILES="legacy optimized"
	fi
	knob=$(switch_path pin_runs)
	if [ -w $knob ]; then
		# Prefaulted: what is left of the map once pages exist is pinning.
		PROFILES=optimized
		for on in 0 1; do
			echo "$on" >$knob
			run "patch-pin_runs-$on" -m "$psize" -f $(dev_args 1)
		done
		PROFILES="legacy optimized"
		echo 1 >$knob
	fi
fi

# 6. Real QEMU (selftests/qemu_create): QEMU start -> first guest line, the
#    talk's metric, for Debian's QEMU and patches/qemu's build with its
#    switches on (when make qemu built it), over a RAM sweep and backings
#    with 1 FLR device + BAR, then 1/2/4 devices at 1 GiB THP.  With
#    pre-zeroing on, kprezerod catches up before each run (-P on).
QC=$KSFT/qemu_create/qemu_create_test
PQ=$TOP/build/qemu/qemu-system-x86_64
QREPS=${BENCH_QEMU_REPS:-$REPS}
# qrun GROUP ARGS...: qemu_create_test QREPS times, Debian's QEMU, then the
# patched one; rows in raw/qemu.csv, labelled debian:GROUP and patched:GROUP.
qrun() {
	local group=$1 r q qargs pz=keep rc
	shift
	prezero_on && pz=on
	for q in debian patched; do
		case $q in
		debian) qargs=() ;;
		patched) [ -x "$PQ" ] || continue; qargs=(-q "$PQ" -x) ;;
		esac
		say "qemu $q:$group: qemu_create_test ${qargs[*]} $* (x$QREPS)"
		for ((r = 1; r <= QREPS; r++)); do
			rc=0
			"$QC" "${qargs[@]}" -P "$pz" -c "$OUT/qemu.csv" -l "$q:$group" \
				-o "/tmp/qemu_create-$q-$group.log" "$@" >>"$OUT/qemu-$q-$group.ktap" 2>&1 || rc=$?
			if [ $rc != 0 ]; then
				failures=$((failures + 1))
				# The guest's serial output and QEMU's trace and
				# messages of a failed run are kept (not those of
				# the runs that passed: 50 KiB each).
				for f in "/tmp/qemu_create-$q-$group.log"*; do
					cp "$f" "$OUT/failed-run$r-${f#/tmp/}"
				done
				say "qemu $q:$group: run $r FAILED (exit $rc), see raw/qemu-$q-$group.ktap and raw/failed-run$r-qemu_create-$q-$group.log*"
			fi
		done
	done
}
if [ "${BENCH_QEMU:-1}" = 1 ] && [ -x "$QC" ] && command -v qemu-system-x86_64 >/dev/null; then
	[ -x "$PQ" ] || say "no $PQ (make qemu): Debian's QEMU only"
	for b in ${BENCH_QEMU_BACKINGS:-thp 4k hugetlb2m}; do
		for s in ${BENCH_QEMU_SIZES:-$SIZES}; do
			qrun "ram-$s-$b" -m "$s" -b "$b" $(dev_args 1)
		done
	done
	for n in $DEVICES; do
		qrun "devices-$n" -m 1G -b thp $(dev_args "$n")
	done
else
	say "real QEMU: skipped (BENCH_QEMU=0, or no qemu_create_test or qemu-system-x86_64)"
fi

if [ "${BENCH_PROFILE:-1}" = 1 ] && command -v perf >/dev/null; then
	pmib=$((max_mib < 2048 ? max_mib : 2048))
	for p in legacy optimized; do
		say "perf profile: one ${pmib}M creation, $p"
		prezero_on && prezero_settle >/dev/null
		perf record -q -g -F 499 -e cpu-clock -o "/tmp/perf-$p.data" -- \
			"$VMC" -q -p "$p" -m "${pmib}M" $(dev_args 1) >/dev/null 2>&1
		perf report -i "/tmp/perf-$p.data" --stdio --no-children --sort symbol \
			--percent-limit 1 2>/dev/null | grep -v '^$' | head -60 >"$OUT/perf-$p.txt"
		# Folded stacks for flame.awk: perf's own stackcollapse, a script of
		# its Python scripting (Debian's linux-perf has it; the guest runs
		# the host's perf over the 9p root).
		perf script report stackcollapse -i "/tmp/perf-$p.data" >"$OUT/perf-$p.folded" 2>/dev/null ||
			say "perf script report stackcollapse failed: no flame graph for $p"
		rm -f "/tmp/perf-$p.data"
	done
fi
say "done, $failures failure(s)"
exit $((failures > 0))
