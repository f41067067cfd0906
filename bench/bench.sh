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
# off vs on, and in a third boot with kvm.tdp_mmu=0 the rmap-walk patch;
# a fourth boot, the base kernel with init_on_free=1, is pre-zeroing's
# competitor.
# Then bench/report.sh writes report.md and the charts, and
# bench/cover-letter.sh patches/0000-cover-letter.patch from the numbers.
#
# Output: results/<date>-<kernel version>-<machine>/ (raw/ CSV and KTAP per
# boot, report.md, charts/*.png|svg, data/*.dat).  Each step prints its time.
#
# BENCH_HOST=1 (bare metal, README "Bare metal"): no kernel is built and
# nothing is booted: bench/guest-bench.sh runs on this host, on the kernel
# it runs (base, patched, or shadow when booted with kvm.tdp_mmu=0: raw/
# names the boot after it), with the devices of VFIO_SELFTESTS_BDF (bound
# to vfio-pci) as the passthrough devices.  Run it once per boot with the
# same BENCH_OUT to compare kernels; no cover letter is written.  It
# refuses, in one line and with exit 4 (skip: nothing measured), when no
# device is given, /dev/kvm or /dev/vfio is missing, a device is not bound
# to vfio-pci, or the largest size does not fit in this host's RAM.
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
#   BENCH_KERNELS   which boots                     [base patched shadow iof]
#   BENCH_OUT       output directory        [results/<date>-<kver>-<machine>]
#   BENCH_QEMU      0: no real-QEMU runs (qemu_create_test) [1]
#   BENCH_QEMU_SIZES, BENCH_QEMU_BACKINGS, BENCH_QEMU_REPS  their RAM sweep,
#                   backings and repetitions
#                   [BENCH_SIZES] [thp 4k hugetlb2m] [BENCH_REPS]
#   BENCH_HOST      1: on this host, no runner (above)     [0]
#   VFIO_SELFTESTS_BDF  with BENCH_HOST=1: the devices, space-separated
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
case "${1:-}" in -h|--help) sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;; esac

# BENCH_HOST=1: one line and exit 4 when this host cannot run the bench.
refuse() { printf '%s: skip: BENCH_HOST=1: %s\n' "$PROG" "$*" >&2; exit 4; }
HOST_BDFS=()
if [ "${BENCH_HOST:-0}" = 1 ]; then
	read -r -a HOST_BDFS <<<"${VFIO_SELFTESTS_BDF:-}"
	[ ${#HOST_BDFS[@]} -gt 0 ] ||
		refuse "no devices: set VFIO_SELFTESTS_BDF to the passthrough devices, bound to vfio-pci"
	[ -c /dev/kvm ] || refuse "no /dev/kvm (virtualization off in the firmware, or kvm_intel/kvm_amd not loaded)"
	[ -e /dev/vfio ] || refuse "no /dev/vfio (boot with intel_iommu=on or amd_iommu=on, and load vfio-pci)"
	for b in "${HOST_BDFS[@]}"; do
		[ -e "/sys/bus/pci/devices/$b" ] || refuse "no PCI device $b (VFIO_SELFTESTS_BDF)"
		drv=$(basename "$(readlink "/sys/bus/pci/devices/$b/driver" 2>/dev/null)" 2>/dev/null || true)
		[ "$drv" = vfio-pci ] || refuse "$b is not bound to vfio-pci (driver: ${drv:-none})"
	done
elif [ "${BENCH_HOST:-0}" != 0 ]; then
	die "BENCH_HOST must be 0 or 1, not '$BENCH_HOST'"
fi

t_all=$SECONDS
step() {
	echo "== bench: $1 ($((SECONDS - t_all))s so far)"
}

# meta_set KEY VALUE: one line of $OUT/meta.txt, replaced or added (a
# second BENCH_HOST run on another kernel keeps the first one's lines).
meta_set() {
	touch "$OUT/meta.txt"
	{ grep -v "^$1=" "$OUT/meta.txt" || true; echo "$1=$2"; } >"$OUT/meta.tmp"
	mv "$OUT/meta.tmp" "$OUT/meta.txt"
}

# BENCH_HOST=1: bench/guest-bench.sh on this host, on the kernel it runs.
host_bench() {
	local k kver machine rc=0 n d devs=() kline mark iommu nodes virt
	[ "$max_mib" -le $((host_mib - 4096)) ] ||
		refuse "a ${max_mib} MiB VM needs more than this host's ${host_mib} MiB minus 4 GiB"
	# Device counts above the devices given are left out, and said so.
	for n in $BENCH_DEVICES; do
		if [ "$n" -le ${#HOST_BDFS[@]} ]; then devs+=("$n"); else
			warn "BENCH_DEVICES: $n devices left out, VFIO_SELFTESTS_BDF gives ${#HOST_BDFS[@]}"
		fi
	done
	[ ${#devs[@]} -gt 0 ] || devs=(1)
	export BENCH_DEVICES="${devs[*]}" BENCH_HOST VFIO_SELFTESTS_BDF
	# Which kernel this is: the series' switches say it.
	if [ ! -d /sys/kernel/mm/prezero ]; then
		k=base
	elif [ "$(cat /sys/module/kvm/parameters/tdp_mmu 2>/dev/null)" = N ]; then
		k=shadow
	else
		k=patched
	fi
	kver=$(uname -r)
	kline="$kver (the running kernel, BENCH_HOST=1; package $(dpkg-query -W -f='${Version}' "linux-image-$kver" 2>/dev/null || echo none)); command line: $(cat /proc/cmdline)"
	machine="$(nproc)cpu-$(((host_mib + 1023) / 1024))g-metal"
	OUT=${BENCH_OUT:-$TOP/results/$(date +%Y%m%d)-$kver-$machine}
	mkdir -p "$OUT"
	step "bare metal: $k kernel $kver, devices ${HOST_BDFS[*]}, sizes ${sizes[*]}"
	[ -x "${KSFT_INSTALL_PATH:-$BUILD/kselftest_install}/vm_create/vm_create_test" ] || make -s -C "$TOP" selftests
	iommu=$(find /sys/class/iommu -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | head -1)
	nodes=(/sys/devices/system/node/node[0-9]*)
	meta_set date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	case $k in
	base) meta_set kernel_base "$kline" ;;
	*) meta_set kernel "$kline"; meta_set kernel_release "$kver"
	   meta_set series "$(grep -c . "$TOP/patches/series") patch(es)" ;;
	esac
	grep -q '^kernel_release=' "$OUT/meta.txt" || meta_set kernel_release "$kver"
	meta_set machine "$machine"
	meta_set host_cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
	meta_set qemu "none (BENCH_HOST=1: vm_create_test creates the VMs on the host)"
	virt=$(grep -owm1 'vmx\|svm' /proc/cpuinfo | tr a-z A-Z || true)
	meta_set accel "bare metal (${virt:-no vmx/svm flag}, IOMMU ${iommu:-unknown})"
	meta_set guest "none: the host itself, $(nproc) CPUs, ${host_mib} MiB, ${#nodes[@]} NUMA node(s)"
	for d in "${HOST_BDFS[@]}"; do
		meta_set "device_$d" "$(cat "/sys/bus/pci/devices/$d/vendor"):$(cat "/sys/bus/pci/devices/$d/device") $(lspci -s "$d" 2>/dev/null | cut -d' ' -f2-)"
	done
	meta_set sizes "${sizes[*]}"
	meta_set devices "$BENCH_DEVICES"
	meta_set backings "$BENCH_BACKINGS"
	meta_set reps "$BENCH_REPS"
	meta_set commit "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"

	step "boot $k (this host, BENCH_HOST=1)"
	rm -rf "$OUT/boot-$k"
	mkdir -p "$OUT/boot-$k"
	mark="bench.sh: BENCH_HOST=1 run $$ begins ($k, $(date -u +%FT%TZ))"
	echo "$mark" >/dev/kmsg 2>/dev/null || true
	VMTEST_RESULTS="$OUT/boot-$k" "$TOP/bench/guest-bench.sh" "$k" 2>&1 |
		tee "$OUT/boot-$k/console.log" || rc=$?
	# The kernel's log since the mark, scanned as the runner's guest log is.
	dmesg 2>/dev/null | awk -v m="$mark" 'index($0, m) { on = 1 } on' >"$OUT/boot-$k/dmesg.txt" || true
	[ -s "$OUT/boot-$k/dmesg.txt" ] || echo "(no kernel messages: $mark)" >"$OUT/boot-$k/dmesg.txt"
	"$TOP/scripts/kernel-health.sh" "$OUT/boot-$k/dmesg.txt" >"$OUT/boot-$k/health.ktap" 2>&1 || rc=1
	rm -rf "$OUT/raw/$k"
	mkdir -p "$OUT/raw"
	cp -r "$OUT/boot-$k/raw" "$OUT/raw/$k" 2>/dev/null || mkdir -p "$OUT/raw/$k"
	cp "$OUT/boot-$k"/{health.ktap,dmesg.txt,console.log} "$OUT/raw/$k/"
	rm -rf "$OUT/boot-$k"
	echo "   $k: $((SECONDS - t_all))s, exit $rc"
	[ $rc = 0 ] || warn "the $k run reported failures: see $OUT/raw/$k/*.ktap"
	step "report and charts"
	"$TOP/bench/report.sh" "$OUT" || warn "bench/report.sh failed: the raw results are in $OUT/raw"
	echo "== bench: done in $((SECONDS - t_all))s: ${OUT#"$TOP"/}/ (raw/$k, report.md)"
	echo "   send back: tar -C $(dirname "$OUT") -czf $(basename "$OUT").tar.gz $(basename "$OUT")"
	return $rc
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
read -r -a kernels <<<"${BENCH_KERNELS:-base patched shadow iof}"

host_mib=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
if [ "${BENCH_HOST:-0}" = 1 ]; then
	host_bench
	exit
fi

# Guest RAM: the largest VM plus room for the host side, on 2 nodes.
guest_mib=$((max_mib + max_mib / 4 + 3072))
[ $guest_mib -le $((host_mib - 2048)) ] ||
	die "a ${max_mib} MiB VM needs a ${guest_mib} MiB guest; this host has ${host_mib} MiB"

step "set-up and kernels"
t=$SECONDS
make -s -C "$TOP" deps
make -s -C "$TOP" kernel
make -s -C "$TOP" kernel KVARIANT=base
make -s -C "$TOP" selftests
# The patched QEMU, for the real-QEMU rows (BENCH_QEMU=0: not needed).
[ "${BENCH_QEMU:-1}" = 0 ] || make -s -C "$TOP" qemu
echo "   kernels, suite and QEMU: $((SECONDS - t))s"

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
	if [ "${BENCH_QEMU:-1}" = 1 ]; then
		echo "qemu_sizes=${BENCH_QEMU_SIZES:-${sizes[*]}}"
		echo "qemu_backings=${BENCH_QEMU_BACKINGS:-thp 4k hugetlb2m}"
		echo "qemu_reps=${BENCH_QEMU_REPS:-$BENCH_REPS}"
		echo "qemu_patched=$("$BUILD/qemu/qemu-system-x86_64" --version 2>/dev/null | head -1), patches/qemu: $(grep -c . "$TOP/patches/qemu/series") patch(es)"
	fi
	echo "commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$OUT/meta.txt"

for k in "${kernels[@]}"; do
	case $k in
	base) variant=base append= ;;
	# Pre-zeroing is off by default: an operator who wants it boots with
	# prezero=on, as here.
	patched) variant=patched append=prezero=on ;;
	shadow) variant=patched append="prezero=on kvm.tdp_mmu=0" ;;
	# The competitor of pre-zeroing: zeroing paid by the task that frees.
	iof) variant=base append=init_on_free=1 ;;
	*) die "unknown boot '$k' in BENCH_KERNELS (base patched shadow iof)" ;;
	esac
	step "boot $k ($variant kernel${append:+, $append})"
	t=$SECONDS
	rc=0
	KVARIANT=$variant VMTEST_MEM=${guest_mib}M VMTEST_NODES=2 VMTEST_CPUS=2 \
		VMTEST_DEVICES="virtio:4 ivshmem:1G edu" VMTEST_APPEND="$append" \
		VMTEST_TIMEOUT=${BENCH_TIMEOUT:-7200} VMTEST_RESULTS="$OUT/boot-$k" \
		VMTEST_ENV="BENCH_SIZES BENCH_DEVICES BENCH_BACKINGS BENCH_REPS BENCH_PROFILE BENCH_QEMU BENCH_QEMU_SIZES BENCH_QEMU_BACKINGS BENCH_QEMU_REPS" \
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
