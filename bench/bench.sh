#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make bench": before/after evidence for the series, from nothing.
#
# Builds the patched and the base (unpatched) kernel and the suite, boots
# each kernel under QEMU TCG (scripts/vmtest.sh) with 4 FLR-capable virtio
# functions, a 1 GiB ivshmem BAR and 2 NUMA nodes, and runs
# bench/guest-bench.sh in it: VM creation by vm_create_test (the talk's
# legacy VMM and the optimized one) for a RAM sweep, 1/2/4 devices, three
# backings and a NUMA case; on the patched kernel also each patch's switch
# off vs on, and in a third boot with kvm.tdp_mmu=0 the rmap-walk patch.
# Then bench/report.sh writes report.md and the charts, and
# bench/cover-letter.sh patches/0000-cover-letter.patch from the numbers.
#
# Output: results/<date>-<kernel version>-<machine>/ (raw/ CSV and KTAP per
# boot, report.md, charts/*.png|svg, data/*.dat).  Each step prints its time.
#
# Usage: bench/bench.sh [-h]
# Environment:
#   BENCH_SIZES     guest RAM sizes of the sweep           [1G 2G 4G 8G]
#   BENCH_SCALE     multiply every RAM size by this, for machines that hold
#                   the talk's sizes (24 gives 24G..192G)  [1]
#   BENCH_DEVICES   FLR device counts                      [1 2 4]
#   BENCH_BACKINGS  vm_create_test -b values [anonymous anonymous_thp anonymous_hugetlb_2mb]
#   BENCH_REPS      repetitions of every run (min/median/max) [3]
#   BENCH_PROFILE   0: no perf profile                     [1]
#   BENCH_KERNELS   which boots                            [base patched shadow]
#   BENCH_OUT       output directory        [results/<date>-<kver>-<machine>]
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
case "${1:-}" in -h|--help) sed -n '3,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

t_all=$SECONDS
step() {
	echo "== bench: $1 ($((SECONDS - t_all))s so far)"
}

scale=${BENCH_SCALE:-1}
[[ $scale =~ ^[1-9][0-9]*$ ]] || die "BENCH_SCALE must be a positive integer, not '$scale'"
sizes=()
max_mib=0
for s in ${BENCH_SIZES:-1G 2G 4G 8G}; do
	b=$(numfmt --from=iec "$s" 2>/dev/null) || die "bad size '$s' in BENCH_SIZES"
	mib=$((b * scale >> 20))
	[ "$mib" -gt 0 ] || die "size '$s' is below 1 MiB"
	if ((mib % 1024)); then sizes+=("${mib}M"); else sizes+=("$((mib / 1024))G"); fi
	[ $mib -gt $max_mib ] && max_mib=$mib
done
export BENCH_SIZES="${sizes[*]}"
export BENCH_DEVICES=${BENCH_DEVICES:-1 2 4}
export BENCH_BACKINGS=${BENCH_BACKINGS:-anonymous anonymous_thp anonymous_hugetlb_2mb}
export BENCH_REPS=${BENCH_REPS:-3}
export BENCH_PROFILE=${BENCH_PROFILE:-1}
read -r -a kernels <<<"${BENCH_KERNELS:-base patched shadow}"

# Guest RAM: the largest VM plus room for the host side, on 2 nodes.
host_mib=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
guest_mib=$((max_mib + max_mib / 4 + 3072))
[ $guest_mib -le $((host_mib - 2048)) ] ||
	die "a ${max_mib} MiB VM needs a ${guest_mib} MiB guest; this host has ${host_mib} MiB"

step "set-up and kernels"
t=$SECONDS
make -s -C "$TOP" deps
make -s -C "$TOP" kernel
make -s -C "$TOP" kernel KVARIANT=base
make -s -C "$TOP" selftests
echo "   kernels and suite: $((SECONDS - t))s"

kver=$(cat "$(kobj_dir patched)/kernel.release")
machine="$(nproc)cpu-$(((host_mib + 1023) / 1024))g-tcg"
OUT=${BENCH_OUT:-$TOP/results/$(date +%Y%m%d)-$kver-$machine}
mkdir -p "$OUT"
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel=$(cat "$(kobj_dir patched)/kernel.version")"
	echo "kernel_base=$(cat "$(kobj_dir base)/kernel.version" 2>/dev/null)"
	echo "kernel_release=$(cat "$(kobj_dir patched)/kernel.release" 2>/dev/null)"
	echo "series=$(grep -c . "$TOP/patches/series") patch(es)"
	echo "machine=$machine"
	echo "host_cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
	echo "qemu=$(qemu-system-x86_64 --version | head -1)"
	echo "accel=TCG (no hardware virtualization; -cpu max gives the guest nested SVM)"
	echo "guest=${guest_mib} MiB, 2 vCPUs, 2 NUMA nodes, intel-iommu"
	echo "sizes=${sizes[*]}"
	echo "devices=$BENCH_DEVICES"
	echo "backings=$BENCH_BACKINGS"
	echo "reps=$BENCH_REPS"
	echo "commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$OUT/meta.txt"

for k in "${kernels[@]}"; do
	case $k in
	base) variant=base append= ;;
	# Pre-zeroing is off by default: an operator who wants it boots with
	# prezero=on, as here.
	patched) variant=patched append=prezero=on ;;
	shadow) variant=patched append="prezero=on kvm.tdp_mmu=0" ;;
	*) die "unknown boot '$k' in BENCH_KERNELS (base patched shadow)" ;;
	esac
	step "boot $k ($variant kernel${append:+, $append})"
	t=$SECONDS
	rc=0
	KVARIANT=$variant VMTEST_MEM=${guest_mib}M VMTEST_NODES=2 VMTEST_CPUS=2 \
		VMTEST_DEVICES="virtio:4 ivshmem:1G edu" VMTEST_APPEND="$append" \
		VMTEST_TIMEOUT=${BENCH_TIMEOUT:-7200} VMTEST_RESULTS="$OUT/boot-$k" \
		VMTEST_ENV="BENCH_SIZES BENCH_DEVICES BENCH_BACKINGS BENCH_REPS BENCH_PROFILE" \
		"$TOP/scripts/vmtest.sh" "$TOP/bench/guest-bench.sh" "$k" || rc=$?
	# Only this boot's results are replaced: BENCH_KERNELS=base redoes one.
	rm -rf "$OUT/raw/$k"
	mkdir -p "$OUT/raw"
	cp -r "$OUT/boot-$k/raw" "$OUT/raw/$k" 2>/dev/null || mkdir -p "$OUT/raw/$k"
	for f in health.ktap dmesg.txt console.log; do
		cp "$OUT/boot-$k/$f" "$OUT/raw/$k/$f" 2>/dev/null || true
	done
	rm -rf "$OUT/boot-$k" "$OUT/latest"	# vmtest.sh links latest beside its results
	echo "   boot $k: $((SECONDS - t))s, exit $rc"
	[ $rc = 0 ] || warn "boot $k reported failures: see $OUT/raw/$k/*.ktap"
done

step "report and charts"
"$TOP/bench/report.sh" "$OUT"
step "cover letter"
"$TOP/bench/cover-letter.sh" "$OUT"
ln -sfn "$(basename "$OUT")" "$TOP/results/latest"
echo "== bench: done in $((SECONDS - t_all))s: ${OUT#$TOP/}/report.md"
