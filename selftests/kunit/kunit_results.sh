#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The results of the KUnit suites that patches/ adds, as KTAP.  Built-in
# KUnit tests run at boot; their results stay in debugfs
# (/sys/kernel/debug/kunit/<suite>/results, CONFIG_KUNIT_DEBUGFS).  Each
# test case becomes one result named <suite>.<case>; the exit status is 1
# if any failed, 4 (skip) if this kernel has no KUnit or none of the suites.
#
# Usage: kunit_results.sh [-h] [SUITE...]   (default: vfio_iommu_type1)
set -u

case "${1:-}" in -h|--help) sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(vfio_iommu_type1)
D=${KUNIT_DIR:-/sys/kernel/debug/kunit}	# KUNIT_DIR: for tests of this script

if [ ! -d "$D" ] && ! grep -q " /sys/kernel/debug " /proc/mounts; then
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
fi
echo "TAP version 13"
if [ ! -d "$D" ]; then
	echo "1..0 # SKIP no $D (CONFIG_KUNIT, CONFIG_KUNIT_DEBUGFS)"
	exit 4
fi

# Case lines are indented once (4 spaces) under the suite's own subtest.
results=()
for s in "${suites[@]}"; do
	f=$D/$s/results
	if [ ! -r "$f" ]; then
		results+=("skip $s # SKIP suite $s is not built in this kernel")
		continue
	fi
	# "    ok 3 name # SKIP why": keep the name and any directive.
	while read -r verdict rest; do
		case $rest in
		*"# SKIP"*) results+=("skip $s.$rest") ;;
		*) results+=("$verdict $s.$rest") ;;
		esac
	done < <(sed -nE 's/^    (not ok|ok) [0-9]+ /\1 /p' "$f" | sed 's/^not ok/not_ok/')
	echo "# $s: $(grep -E '^    ok ' "$f" | grep -cv '# SKIP') passed," \
	     "$(grep -cE '^    not ok ' "$f") failed, $(grep -E '^    ok ' "$f" | grep -c '# SKIP') skipped"
	grep -E '^ +# ' "$f" | grep -v '# Subtest:' | sed 's/^ */# /'
done

echo "1..${#results[@]}"
n=0 fail=0 ran=0
for r in "${results[@]}"; do
	n=$((n + 1))
	case $r in
	"ok "*) echo "ok $n ${r#ok }"; ran=1 ;;
	"not_ok "*) echo "not ok $n ${r#not_ok }"; fail=1; ran=1 ;;
	"skip "*) echo "ok $n ${r#skip }" ;;
	esac
done
[ $fail = 0 ] || exit 1
[ $ran = 1 ] || exit 4
exit 0
