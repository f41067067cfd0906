#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scan a guest kernel log for reports that must fail a run even when every
# test passed: WARNING, BUG, Oops, lockdep, KASAN/UBSAN/KFENCE, RCU stalls,
# hung tasks, soft/hard lockups, kmemleak.
#
# Usage: scripts/kernel-health.sh RESULTS_DIR|LOGFILE
#   Reads RESULTS_DIR/dmesg.txt (or console.log when the guest died before
#   saving dmesg).  Prints one KTAP result; exit 0 clean, 1 dirty, 2 no log.
# Usage: scripts/kernel-health.sh --no-verdict RESULTS_DIR
#   For a guest that never finished: a failing result whose diagnostics are
#   how the run ended (meta.txt), the last console lines before the stall
#   guard's SysRq dump and the blocked tasks of that dump.  Exit 1.
set -u
case "${1:-}" in
-h|--help|"") sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
--no-verdict)
	dir=${2:?--no-verdict needs a results directory}
	con=$dir/console.log
	echo "TAP version 13"
	echo "1..1"
	[ -f "$dir/meta.txt" ] && grep -E '^(finished|boot retried):' "$dir/meta.txt" | sed 's/^/# /'
	if [ -s "$con" ]; then
		echo "# last console lines:"
		tr -d '\r' <"$con" | sed '/sysrq: Changing Loglevel/,$d' | tail -n 10 | sed "s/^/# console: /"
		# The dump's blocked tasks (SysRq w): each task line and its
		# first frames, up to "Show State" (SysRq t).
		tr -d '\r' <"$con" | sed -n '/sysrq: Show Blocked State/,/sysrq: Show State/p' |
			grep -E 'task:|^\[ *[0-9.]+\]  [a-z_0-9.]+\+0x' | head -n 30 | sed "s/^/# blocked: /"
	fi
	echo "not ok 1 kernel_health # no verdict: the guest did not finish"
	exit 1 ;;
esac
if [ -d "$1" ]; then
	log=$1/dmesg.txt
	[ -s "$log" ] || log=$1/console.log
else
	log=$1
fi
[ -s "$log" ] || { echo "kernel-health: no log in $1" >&2; exit 2; }

pat='WARNING:|BUG:|Oops|kernel BUG at|general protection fault|Kernel panic'
pat+='|UBSAN:|KFENCE:|possible circular locking|possible recursive locking'
pat+='|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked'
pat+='|rcu: INFO:|self-detected stall|soft lockup|hard LOCKUP'
pat+='|unreferenced object|Call Trace:'

echo "TAP version 13"
echo "1..1"
hits=$(grep -E "$pat" "$log" | head -20)
if [ -z "$hits" ]; then
	echo "ok 1 kernel_health"
	exit 0
fi
n=$(grep -cE "$pat" "$log")
printf '# %s\n' "$hits"
echo "not ok 1 kernel_health # $n report line(s) in $(basename "$log")"
exit 1
