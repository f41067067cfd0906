# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# A minimal KTAP emitter for the shell unit tests.  Source it, then:
#   plan N; ok COND_EXIT_STATUS "name"; ...; done_testing
_n=0 _fail=0 _plan=0
plan() { _plan=$1; echo "TAP version 13"; echo "1..$1"; }
# ok <rc> <name> [diagnostic]: rc 0 passes.
ok() {
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n $2"
	else
		echo "not ok $_n $2"
		[ -n "${3:-}" ] && printf '# %s\n' "$3"
		_fail=$((_fail + 1))
	fi
}
# skip <name> <reason>
skip() {
	_n=$((_n + 1))
	echo "ok $_n $1 # SKIP $2"
}
# is <got> <want> <name>
is() {
	[ "$1" = "$2" ]; ok $? "$3" "got '$1', want '$2'"
}
# done_testing: fails if a test failed or the count differs from the plan.
done_testing() {
	[ "$_n" = "$_plan" ] || { echo "# planned $_plan tests, ran $_n"; return 1; }
	[ $_fail = 0 ]
}
# ktap_tmpdir: a scratch directory in $tmp, removed when the script exits.
ktap_tmpdir() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
}
