#!/bin/bash
# loop.sh under each setting of the series' two switches (kvm.rmap_skip_empty,
# pre-zeroing), N runs each.
for cfg in "Y 1" "N 1" "Y 0" "N 0"; do
	set -- $cfg
	echo "$1" > /sys/module/kvm/parameters/rmap_skip_empty
	echo "$2" > /sys/kernel/mm/prezero/enabled
	N=${N:-4} "$(dirname "$0")/loop.sh"
done
dmesg | grep -i "warn\|bug\|rmap\|kvm" | tail -20
