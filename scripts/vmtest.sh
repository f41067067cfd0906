#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the built kernel under QEMU TCG with an IOMMU and VFIO-bindable PCI
# devices, run a command inside (default: the installed selftest suite), and
# return its exit status.
#
# Usage: scripts/vmtest.sh [-h] [COMMAND...]
#   COMMAND runs in the guest under bash, from the repository root (read-only);
#   without one, VMTEST_CMD, and without that the whole installed suite.
#
# Environment (defaults in brackets):
#   KVARIANT        patched | base | debug                           [patched]
#   VMTEST_MEM      guest RAM, QEMU size syntax                         [8G]
#   VMTEST_CPUS     vCPUs                                                [2]
#   VMTEST_NODES    NUMA nodes; RAM and vCPUs are split evenly           [1]
#   VMTEST_DEVICES  space-separated, in the order VFIO_SELFTESTS_BDF lists them:
#                     edu          QEMU's edu DMA engine (no FLR)
#                     virtio:N     N virtio-rng functions, each behind its own
#                                  pcie-root-port (they do FLR)
#                     ivshmem:SIZE ivshmem-plain, SIZE-byte BAR2 backed by a
#                                  sparse memfd (a GPU-like large BAR)
#                                            [edu virtio:2 ivshmem:1G]
#   VMTEST_APPEND   extra guest kernel command line, e.g. kvm.tdp_mmu=0
#   VMTEST_KERNEL   boot this bzImage instead of KVARIANT's (e.g. a saved
#                   build of an earlier series, to show a test failing on
#                   it); its version line is read from kernel.version
#                   next to it, if there is one
#   VMTEST_CMD      command to run (same as COMMAND)
#   VMTEST_STALL    seconds the guest may stay silent (no console output
#                   but kernel messages) before it is killed as hung:
#                   the guard waits on progress, not on the clock.
#                   Before the kill, the guest is asked over QEMU's
#                   monitor for its blocked tasks, every task and every
#                   CPU's backtrace (SysRq w, t and l on the emulated
#                   keyboard); they land in console.log             [900]
#   VMTEST_TIMEOUT  also kill it after this many seconds in all (0: never) [0]
#   VMTEST_TCG_THREAD  multi: one host thread per vCPU; single: every
#                   vCPU on one host thread (no concurrency inside the
#                   emulator, slower), to tell an emulator race from a
#                   kernel one                                       [multi]
#   VMTEST_SLOWDOWN N: give QEMU 1/N of the host's CPU time (a CPU cgroup
#                   quota), to prove that no test depends on the host's
#                   speed.  A guest that uses less is slowed less: the
#                   suite uses about 0.9 of 2 CPUs, so N=2 barely slows
#                   it (363 s vs 338 s) and N=4 makes it twice as slow
#                   (694 s)                                           [off]
#   VMTEST_RESULTS  results directory    [results/vmtest/<timestamp>-<variant>]
#   VMTEST_QUIET=1  do not copy the guest console to stdout
#   VMTEST_ENV      names of host environment variables to export in the
#                   guest, e.g. "BENCH_SIZES BENCH_REPS"
#   VMTEST_SWAP     SIZE: a virtio-blk disk of SIZE bytes (serial
#                   vmtest-swap), backed by a sparse file under build/
#                   that is removed afterwards, e.g. for hibernation [none]
#   VMTEST_DIMMS    N:SIZE: N pc-dimm devices of SIZE bytes each, plugged
#                   at start beside VMTEST_MEM and ejectable by the guest
#                   (ACPI PNP0C80 devices; boot the guest with
#                   memhp_default_state=online_movable to make them
#                   removable), e.g. for memory hot-remove tests  [none]
#   VMTEST_INITRD   boot this initramfs instead of the host's root over
#                   virtio-9p (no shares, no COMMAND): its /init runs on
#                   its own and prints "vmtest-rc: N" on the console last;
#                   ktap.log, dmesg.txt and rc are taken from the console.
#                   For tests that a virtio-9p root would not survive
#                   (hibernation: the 9p driver cannot freeze/restore)
#
# In the guest: the host's / is the root file system (virtio-9p, read-only),
# tmpfs on /tmp, /run, /dev/shm (the checkout is mounted again at its path if
# they hide it); the results directory is mounted read-write
# at /tmp/results and exported as VMTEST_RESULTS; the chosen devices are bound
# to vfio-pci and their addresses exported in VFIO_SELFTESTS_BDF.
#
# Results: console.log (serial console), dmesg.txt, ktap.log (the command's
# output), meta.txt (kernel, QEMU, machine, command line), health.ktap (the
# dmesg scan), rc (the command's exit status).  Exit status: the command's,
# or 1 if the kernel is missing, devices failed to bind, the guest panicked,
# timed out, or its log shows a WARNING/BUG/Oops/lockdep/KASAN report.  An
# int3 Oops during boot, before the command starts (QEMU TCG mishandling
# kernel text patching), boots once more; meta.txt records it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in -h|--help) sed -n '3,/^set -e/{/^set -e/!p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

KVARIANT=${KVARIANT:-patched}
kvariant_check "$KVARIANT"
OBJ=$(kobj_dir "$KVARIANT")
KERNEL=${VMTEST_KERNEL:-$OBJ/arch/x86/boot/bzImage}
KVERSION_FILE=$OBJ/kernel.version
[ -z "${VMTEST_KERNEL:-}" ] || KVERSION_FILE=$(dirname "$VMTEST_KERNEL")/kernel.version
MEM=${VMTEST_MEM:-8G}
CPUS=${VMTEST_CPUS:-2}
NODES=${VMTEST_NODES:-1}
DEVICES=${VMTEST_DEVICES:-edu virtio:2 ivshmem:1G}
TIMEOUT=${VMTEST_TIMEOUT:-0}
STALL=${VMTEST_STALL:-900}
SLOWDOWN=${VMTEST_SLOWDOWN:-}
TCG_THREAD=${VMTEST_TCG_THREAD:-multi}
SWAP=${VMTEST_SWAP:-}
INITRD=${VMTEST_INITRD:-}
DIMMS=${VMTEST_DIMMS:-}
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "VMTEST_TIMEOUT: '$TIMEOUT' is not a number of seconds"
[[ $STALL =~ ^[1-9][0-9]*$ ]] || die "VMTEST_STALL: '$STALL' is not a positive number of seconds"
[ -z "$SLOWDOWN" ] || [[ $SLOWDOWN =~ ^[1-9][0-9]*$ ]] || die "VMTEST_SLOWDOWN: '$SLOWDOWN' is not a positive integer"
case $TCG_THREAD in multi|single) ;; *) die "VMTEST_TCG_THREAD: '$TCG_THREAD' is neither multi nor single" ;; esac
[ -z "$INITRD" ] || [ -f "$INITRD" ] || die "VMTEST_INITRD: no file '$INITRD'"
CMD=${*:-${VMTEST_CMD:-}}
[ -n "$CMD" ] || CMD="$TOP/scripts/run-suite.sh"

[ -f "$KERNEL" ] || die "no kernel at $KERNEL: run 'make kernel KVARIANT=$KVARIANT' first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: run 'make deps'"

RES=${VMTEST_RESULTS:-$TOP/results/vmtest/$(date +%Y%m%d-%H%M%S)-$KVARIANT}
mkdir -p "$RES"
RES=$(cd "$RES" && pwd)
rm -f "$RES"/{rc,console.log,dmesg.txt,ktap.log,health.ktap,bind.log}
ln -sfn "$(basename "$RES")" "$(dirname "$RES")/latest" 2>/dev/null || true

# size_bytes 8G -> 8589934592
size_bytes() { numfmt --from=iec "${1%B}"; }

# ---- devices -------------------------------------------------------------
# Each device gets a role (its vendor:device ID) that the guest resolves to a
# BDF; IDs that repeat are taken in bus order, which is the order added here.
qdev=() roles=() port=0 hole64=$((32 << 30))
add_port() {	# -> prints the id of a new pcie-root-port
	port=$((port + 1))
	qdev+=(-device "pcie-root-port,id=rp$port,chassis=$port,bus=pcie.0")
}
for d in $DEVICES; do
	case "$d" in
	edu)
		# dma_mask: the default (28 bits) would clamp IOVAs above 256 MiB.
		qdev+=(-device "edu,dma_mask=0xffffffffffffffff")
		roles+=(1234:11e8) ;;
	virtio:*)
		n=${d#virtio:}
		[[ $n =~ ^[0-9]+$ ]] || die "VMTEST_DEVICES: bad count in '$d'"
		for ((i = 0; i < n; i++)); do
			add_port
			# Modern-only virtio on a PCIe port advertises FLR.
			qdev+=(-device "virtio-rng-pci,bus=rp$port,disable-legacy=on")
			roles+=(1af4:1044)
		done ;;
	ivshmem:*)
		sz=$(size_bytes "${d#ivshmem:}") || die "VMTEST_DEVICES: bad size in '$d'"
		add_port
		qdev+=(-object "memory-backend-memfd,id=ivshm$port,size=$sz,share=on")
		qdev+=(-device "ivshmem-plain,memdev=ivshm$port,bus=rp$port")
		# Room for the BAR in the 64-bit PCI hole, with slack for alignment.
		[ $((2 * sz)) -gt $hole64 ] && hole64=$((2 * sz))
		roles+=(1af4:1110) ;;
	*) die "VMTEST_DEVICES: unknown device '$d' (edu, virtio:N, ivshmem:SIZE)" ;;
	esac
done
swapfile=
if [ -n "$SWAP" ]; then
	swap_b=$(size_bytes "$SWAP") || die "VMTEST_SWAP: bad size '$SWAP'"
	mkdir -p "$BUILD"
	swapfile=$BUILD/vmtest-swap.$$.img
	truncate -s "$swap_b" "$swapfile"
	qdev+=(-drive "file=$swapfile,if=none,id=swap,format=raw,cache=unsafe")
	qdev+=(-device "virtio-blk-pci,drive=swap,serial=vmtest-swap")
fi

# ---- memory and NUMA -------------------------------------------------------
mem_b=$(size_bytes "$MEM") || die "bad VMTEST_MEM '$MEM'"
numa=()
smp=$CPUS
if [ "$NODES" -gt 1 ]; then
	# A socket per node: cores of one socket split over nodes make the
	# guest's scheduler WARN (topology_sane) at boot.
	smp="$CPUS,sockets=$NODES,cores=$((CPUS / NODES)),threads=1"
	[ $((CPUS % NODES)) = 0 ] || die "VMTEST_CPUS ($CPUS) must be a multiple of VMTEST_NODES ($NODES)"
	per=$((mem_b / NODES / (2 << 20) * (2 << 20)))
	mem_b=$((per * NODES))
	for ((i = 0; i < NODES; i++)); do
		c0=$((i * CPUS / NODES)) c1=$(((i + 1) * CPUS / NODES - 1))
		numa+=(-object "memory-backend-ram,id=node$i,size=$per")
		numa+=(-numa "node,nodeid=$i,cpus=$c0-$c1,memdev=node$i")
	done
fi
mem_opt="$((mem_b >> 20))M"
if [ -n "$DIMMS" ]; then
	[[ $DIMMS =~ ^([1-9][0-9]*):(.+)$ ]] || die "VMTEST_DIMMS: '$DIMMS' is not N:SIZE"
	ndimm=${BASH_REMATCH[1]}
	dimm_b=$(size_bytes "${BASH_REMATCH[2]}") || die "VMTEST_DIMMS: bad size '${BASH_REMATCH[2]}'"
	if [ "$dimm_b" = 0 ] || [ $((dimm_b % (128 << 20))) != 0 ]; then
		die "VMTEST_DIMMS: a DIMM must be a multiple of 128M (a memory block)"
	fi
	mem_opt+=",slots=$ndimm,maxmem=$(((mem_b + ndimm * dimm_b) >> 20))M"
	for ((i = 0; i < ndimm; i++)); do
		numa+=(-object "memory-backend-ram,id=dimm$i,size=$dimm_b")
		numa+=(-device "pc-dimm,id=dimm$i,memdev=dimm$i")
	done
fi

# ---- the job the guest runs ---------------------------------------------
{
	printf 'export VMTEST_ROLES=%q\n' "${roles[*]}"
	printf 'export KVARIANT=%q\n' "$KVARIANT"
	printf 'export VMTEST_KERNEL_VERSION=%q\n' "$(cat "$KVERSION_FILE" 2>/dev/null || echo unknown)"
	printf 'export VMTEST_TOP=%q\n' "$TOP"
	for v in ${VMTEST_ENV:-}; do
		[[ $v =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "VMTEST_ENV: '$v' is not a variable name"
		[ -n "${!v+set}" ] && printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf 'VMTEST_CMD=%q\n' "$CMD"
} >"$RES/job.sh"

# The root file system is the host's / (9p tag "root"), read-only.
shares=(-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=root,mount_tag=root"
	# The checkout again, for when the guest's tmpfs mounts hide its path
	# (a clone under /tmp or /root).
	-fsdev "local,id=top,path=$TOP,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=top,mount_tag=top"
	-fsdev "local,id=results,path=$RES,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=results,mount_tag=results")
append="root=root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=262144 ro"
append+=" init=$TOP/scripts/guest-init.sh"
if [ -n "$INITRD" ]; then
	shares=(-initrd "$INITRD")
	append="rdinit=/init"
	CMD="(the initramfs's /init)"
fi
append+=" console=ttyS0 loglevel=4 panic=-1"
append+=" intel_iommu=on vfio_iommu_type1.allow_unsafe_interrupts=1"
append+=" transparent_hugepage=always ${VMTEST_APPEND:-}"

mondir=$(mktemp -d /tmp/vmtest-mon.XXXXXX)
trap 'rm -rf "$mondir" ${swapfile:+"$swapfile"}' EXIT
# shellcheck disable=SC2054 # commas inside QEMU option values
qemu=(qemu-system-x86_64 -nodefaults -no-reboot -display none
	-accel "tcg,thread=$TCG_THREAD" -cpu max
	-M "q35,kernel-irqchip=split" -global "q35-pcihost.pci-hole64-size=$hole64"
	-m "$mem_opt" -smp "$smp" "${numa[@]}"
	# The IOMMU comes before any PCI device it translates for.
	-device intel-iommu,intremap=on,caching-mode=on
	"${shares[@]}"
	"${qdev[@]}"
	-chardev "file,id=con,path=$RES/console.log" -serial chardev:con
	# HMP, for the stall guard's SysRq (a short path: sun_path is 108 bytes)
	-monitor "unix:$mondir/hmp,server=on,wait=off"
	-kernel "$KERNEL" -append "$append")

{
	echo "kernel: $(cat "$KVERSION_FILE" 2>/dev/null || echo unknown) ($KERNEL)"
	echo "qemu: $(qemu-system-x86_64 --version | head -1), accel=tcg,thread=$TCG_THREAD"
	echo "host: $(nproc) CPUs, $(free -g | awk '/^Mem:/{print $2}') GiB, $(uname -r)"
	echo "guest: mem=$MEM cpus=$CPUS nodes=$NODES devices='$DEVICES'${SWAP:+ swap=$SWAP}${DIMMS:+ dimms=$DIMMS}"
	[ -n "$INITRD" ] && echo "initrd: $INITRD"
	[ -n "$SLOWDOWN" ] && echo "slowdown: QEMU limited to 1/$SLOWDOWN of the host's $(nproc) CPUs (VMTEST_SLOWDOWN)"
	echo "append: $append"
	echo "command: $CMD"
	echo "started: $(date -Is)"
	echo "qemu-cmdline: ${qemu[*]}"
} >"$RES/meta.txt"

log "booting $(basename "$OBJ") ($MEM, $CPUS vCPUs, devices: $DEVICES); results in ${RES#$TOP/}"
: >"$RES/console.log"
tailpid=
if [ "${VMTEST_QUIET:-0}" != 1 ]; then
	tail -n +1 -F "$RES/console.log" 2>/dev/null &
	tailpid=$!
fi
t0=$SECONDS

# With VMTEST_SLOWDOWN=N, QEMU runs in a CPU cgroup (v2 or v1 "cpu") whose
# quota is 1/N of the host's CPUs.  Prints the cgroup directory.
slow_cgroup() {
	local period=100000 quota dir
	quota=$(( $(nproc) * period / SLOWDOWN ))
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		dir=/sys/fs/cgroup/vmtest-$$
		echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
		mkdir -p "$dir" && echo "$quota $period" >"$dir/cpu.max" || return 1
	elif [ -d /sys/fs/cgroup/cpu ]; then
		dir=/sys/fs/cgroup/cpu/vmtest-$$
		mkdir -p "$dir" && echo $period >"$dir/cpu.cfs_period_us" &&
			echo "$quota" >"$dir/cpu.cfs_quota_us" || return 1
	else
		return 1
	fi
	echo "$dir"
}

# hmp CMD...: send HMP commands to the running QEMU, 2 s apart.
hmp() {
	python3 - "$mondir/hmp" "$@" <<-'PY' >/dev/null 2>&1
	import socket, sys, time
	s = socket.socket(socket.AF_UNIX)
	s.connect(sys.argv[1])
	for cmd in sys.argv[2:]:
	    s.sendall((cmd + "\n").encode())
	    time.sleep(2)
	s.close()
	PY
}

# stall_dump: a silent guest is asked for what it is waiting on before it is
# killed.  SysRq 9 (console loglevel 9), w (blocked tasks), t (every task),
# l (every CPU's backtrace); read until the console is still for 10 s.
stall_dump() {
	local size last=-1 still=0 t=$SECONDS
	echo "vmtest.sh: the guest is silent: SysRq w, t and l (output in console.log)" >&2
	hmp "sendkey alt-sysrq-9" "sendkey alt-sysrq-w" "sendkey alt-sysrq-t" "sendkey alt-sysrq-l" || return 0
	# Until the console holds still for 10 s; at most 2 minutes, as kernel
	# messages may go on (the guest is killed either way: best effort).
	while [ $still -lt 10 ] && [ $((SECONDS - t)) -lt 120 ] && kill -0 "$qpid" 2>/dev/null; do
		size=$(stat -c %s "$RES/console.log" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ]; then
			still=$((still + 1))
		else
			still=0 last=$size
		fi
		sleep 1
	done
}

# Run QEMU once.  It is killed when user space has been silent on the
# console for VMTEST_STALL seconds (a hung guest; every test prints
# progress) or, if VMTEST_TIMEOUT is set, when that much time has passed.  Sets qrc: QEMU's
# exit status, or 124 when the guard killed it (stall_why says why).
run_guest() {
	local size last moved cg=""
	if [ -n "$SLOWDOWN" ]; then
		cg=$(slow_cgroup) || die "VMTEST_SLOWDOWN: cannot make a CPU cgroup (needs root and the cpu controller)"
	fi
	"${qemu[@]}" </dev/null >"$RES/qemu.log" 2>&1 &
	qpid=$!
	[ -n "$cg" ] && echo "$qpid" >"$cg/cgroup.procs"
	stall_why="" last=-1 moved=$SECONDS
	while kill -0 "$qpid" 2>/dev/null; do
		# Progress is what user space prints: kernel messages ("[ time]")
		# go on in a guest whose CPU stopped (RCU stall warnings, every
		# minute or so), and must not keep it alive.
		size=$(grep -vc '^\[' "$RES/console.log" 2>/dev/null || true)
		[ "$size" != "$last" ] && { last=$size; moved=$SECONDS; }
		if [ $((SECONDS - moved)) -ge "$STALL" ]; then
			stall_why="no console output from user space for ${STALL}s (VMTEST_STALL)"
		elif [ "$TIMEOUT" -gt 0 ] && [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
			stall_why="still running after ${TIMEOUT}s (VMTEST_TIMEOUT)"
		fi
		if [ -n "$stall_why" ]; then
			stall_dump
			kill "$qpid" 2>/dev/null || true
			sleep 5
			kill -9 "$qpid" 2>/dev/null || true
			break
		fi
		sleep 2
	done
	set +e
	wait "$qpid"
	qrc=$?
	set -e
	[ -n "$stall_why" ] && qrc=124
	[ -n "$cg" ] && rmdir "$cg" 2>/dev/null
	return 0
}
# One retry, for one failure only: an int3 Oops while the kernel boots,
# before the guest runs anything.  That is QEMU TCG running a stale copy
# of kernel text another vCPU just patched (static keys, alternatives);
# it has hit patched and base kernels alike.  The first console is kept
# as console.boot1.log and meta.txt says so; any other crash fails.
for attempt in 1 2; do
	run_guest
	[ $attempt = 1 ] && [ ! -f "$RES/rc" ] &&
		! grep -q '^# vmtest: kernel' "$RES/console.log" &&
		grep -q 'Oops: int3' "$RES/console.log" || break
	warn "int3 Oops while booting (QEMU TCG text patching): booting again"
	echo "boot retried: int3 Oops while booting, see console.boot1.log" >>"$RES/meta.txt"
	mv "$RES/console.log" "$RES/console.boot1.log"
	: >"$RES/console.log"
done
sleep 0.3
if [ -n "$tailpid" ]; then
	kill "$tailpid" 2>/dev/null
	wait "$tailpid" 2>/dev/null || true	# 143: it was killed
fi
echo "finished: $(date -Is), $((SECONDS - t0))s, qemu rc $qrc" >>"$RES/meta.txt"
# An initramfs reports on the console only: its KTAP (from the "TAP
# version" line on), the kernel log and "vmtest-rc: N".
if [ -n "$INITRD" ]; then
	tr -d '\r' <"$RES/console.log" >"$RES/dmesg.txt"
	sed -n '/^TAP version/,/^vmtest-rc: /p' "$RES/dmesg.txt" | grep -v '^vmtest-rc: ' >"$RES/ktap.log" || true
	sed -n 's/^vmtest-rc: \([0-9]*\)$/\1/p' "$RES/dmesg.txt" | tail -1 | grep . >"$RES/rc" ||
		rm -f "$RES/rc"
fi

fail() {
	warn "$1"
	echo "---- last console lines ($RES/console.log) ----" >&2
	# Those before the stall guard's SysRq dump, which follows them there.
	sed '/sysrq: Changing Loglevel/,$d' "$RES/console.log" | tail -n 40 >&2
	[ -s "$RES/qemu.log" ] && { echo "---- qemu ----" >&2; tail -n 20 "$RES/qemu.log" >&2; }
	exit 1
}

# ---- verdict --------------------------------------------------------------
[ -n "$stall_why" ] && fail "guest killed: $stall_why"
[ -s "$RES/bind.log" ] && grep -q '^FAIL' "$RES/bind.log" && fail "device binding failed: $(grep '^FAIL' "$RES/bind.log" | head -3)"
[ -f "$RES/rc" ] || fail "the guest stopped without reporting an exit status (panic or crash; qemu rc $qrc)"
rc=$(cat "$RES/rc")

# Kernel health: any report in the guest's log fails the run.
"$TOP/scripts/kernel-health.sh" "$RES" >"$RES/health.ktap" || {
	cat "$RES/health.ktap" >&2
	fail "the guest kernel log has warnings or errors (see $RES/dmesg.txt)"
}
log "guest command exited $rc after $((SECONDS - t0))s"
exit "$rc"
