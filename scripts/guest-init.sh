#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the test guest booted by scripts/vmtest.sh.  The root file system
# is the host's /, read-only, over virtio-9p.  This script:
#   1. mounts the kernel file systems, tmpfs for everything writable, and the
#      results share (9p tag "results") at /tmp/results;
#   2. reads the job (results/job.sh) the host wrote;
#   3. binds the test devices (VMTEST_ROLES: vendor:device IDs, in order) to
#      vfio-pci and exports their BDFs in VFIO_SELFTESTS_BDF;
#   4. runs the command, its output copied to the console and results/ktap.log;
#   5. saves dmesg and the exit status (results/rc), and powers off.
# It must never exit: PID 1 exiting panics the guest.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C LC_ALL=C TERM=dumb

# Power off and never return.  Only builtins after the trigger: the 9p root
# goes away under us while the kernel shuts down.
poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	while :; do read -r -t 1 _ <>/proc/self/fd/0 2>/dev/null || :; done
}
trap poweroff_now EXIT

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/hugepages
# What udev would create; kselftest's runner writes to /dev/stdout.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
for d in /var/tmp /var/log /var/lib /var/cache /root; do
	mount -t tmpfs tmpfs "$d" 2>/dev/null || true
done
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t hugetlbfs hugetlbfs /dev/hugepages
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null

R=/tmp/results
mkdir -p $R
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results $R; then
	echo "guest-init: cannot mount the results share" >/dev/console
	exit 1
fi
export VMTEST_RESULTS=$R

# shellcheck source=/dev/null
. $R/job.sh
# A checkout under /tmp, /root... is hidden by the tmpfs mounts above: mount
# it again from its own share (this script keeps running from its open fd).
if [ ! -d "$VMTEST_TOP/scripts" ]; then
	mkdir -p "$VMTEST_TOP"
	mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=262144,ro top "$VMTEST_TOP" ||
		{ echo "guest-init: cannot mount the checkout at $VMTEST_TOP" >/dev/console; exit 1; }
fi
cd "$VMTEST_TOP" || exit 1

# ---- bind the test devices to vfio-pci -----------------------------------
# Devices with the same ID are taken in BDF order; a role that finds no
# device, or a device that does not end up on vfio-pci, fails the run.
declare -A taken
bdfs=()
bind_one() {	# bdf
	local d=/sys/bus/pci/devices/$1
	echo vfio-pci >"$d/driver_override"
	[ -e "$d/driver" ] && echo "$1" >"$d/driver/unbind"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$d/driver")")" = vfio-pci ]
}
: >$R/bind.log
for role in $VMTEST_ROLES; do
	found=
	for d in /sys/bus/pci/devices/*; do
		b=$(basename "$d")
		[ -n "${taken[$b]:-}" ] && continue
		id="$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")"
		[ "$id" = "$role" ] || continue
		taken[$b]=1 found=$b
		break
	done
	if [ -z "$found" ]; then
		echo "FAIL no free device with ID $role" >>$R/bind.log
	elif bind_one "$found"; then
		echo "ok $found $role group $(basename "$(readlink /sys/bus/pci/devices/$found/iommu_group)")" >>$R/bind.log
		bdfs+=("$found")
	else
		echo "FAIL $found $role did not bind to vfio-pci" >>$R/bind.log
	fi
done
export VFIO_SELFTESTS_BDF="${bdfs[*]}"
if grep -q '^FAIL' $R/bind.log; then
	cat $R/bind.log >/dev/console
	dmesg >$R/dmesg.txt
	exit 1
fi

# ---- one VM held for the whole boot ---------------------------------------
# KVM flips a static key (preempt notifiers, tested in __schedule()) when the
# first VM is created and the last one destroyed.  Under QEMU TCG, that text
# patching while the other vCPU runs __schedule() has crashed guests (int3
# Oops in __schedule, patched or base kernel) after a few dozen VM
# creations.  A VM held open by a sleeping process keeps the key on.
# VMTEST_KVM_HOLD=0 turns this off.
# It is created before the "# vmtest: kernel" line: an int3 Oops from that
# first flip then counts as one while booting, which vmtest.sh retries.
if [ -c /dev/kvm ] && [ "${VMTEST_KVM_HOLD:-1}" = 1 ]; then
	perl -e 'open(my $k, "+<", "/dev/kvm") or exit 1;
		 defined(ioctl($k, 0xAE01, 0)) or exit 1;	# KVM_CREATE_VM
		 open(my $f, ">", "/run/kvm-held") and close($f);
		 sleep' &
	holder=$!
	while [ ! -e /run/kvm-held ] && kill -0 $holder 2>/dev/null; do
		sleep 0.1
	done
fi

# ---- run ------------------------------------------------------------------
{
	echo "# vmtest: kernel $(uname -r) [$VMTEST_KERNEL_VERSION], $(nproc) CPUs, $(awk '/MemTotal/{print $2}' /proc/meminfo) kB"
	echo "# vmtest: VFIO_SELFTESTS_BDF=$VFIO_SELFTESTS_BDF"
	echo "# vmtest: cmdline: $(cat /proc/cmdline)"
} >/dev/console
# The live copy goes to tmpfs, not to the 9p share: writes to an uncached
# 9p file pin the writer's pages (netfs), which would move the system-wide
# pin counters that tests check.  It is copied to the share at the end.
bash -c "$VMTEST_CMD" </dev/null 2>&1 | tee /tmp/ktap.log >/dev/console
rc=${PIPESTATUS[0]}

cp /tmp/ktap.log $R/ktap.log
dmesg >$R/dmesg.txt
echo "$rc" >$R/rc
exit 0
