# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# KTAP for the shell unit tests, printed by the kernel's own helpers
# (tools/testing/selftests/kselftest/ktap_helpers.sh, in the tree that make
# check's tree stage imports).  Source it, then:
#   plan N; ok RC "name" [diagnostic]; is GOT WANT "name"; skip "name" "reason";
#   done_testing (last: exits 0 only if every planned test passed or skipped)
KTAP_HELPERS=${KTAP_HELPERS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/linux-patched/tools/testing/selftests/kselftest/ktap_helpers.sh}
if [ ! -r "$KTAP_HELPERS" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP no $KTAP_HELPERS (make kernel-headers imports the kernel tree)"
	exit 4
fi
# shellcheck source=/dev/null
. "$KTAP_HELPERS"

plan() { ktap_print_header; ktap_set_plan "$1"; }
# ok <rc> <name> [diagnostic]: rc 0 passes; the diagnostic is printed on a failure.
ok() {
	if [ "$1" = 0 ]; then
		ktap_test_pass "$2"
	else
		ktap_test_fail "$2"
		[ -n "${3:-}" ] && ktap_print_msg "$3"
	fi
	return 0
}
# skip <name> <reason>
skip() { ktap_test_skip "$1"; ktap_print_msg "$1: $2"; }
# is <got> <want> <name>
is() {
	[ "$1" = "$2" ]; ok $? "$3" "got '$1', want '$2'"
}
done_testing() {
	[ $((KTAP_TESTNO - 1)) = "$KSFT_NUM_TESTS" ] ||
		ktap_print_msg "planned $KSFT_NUM_TESTS tests, ran $((KTAP_TESTNO - 1))"
	ktap_finished
}
# ktap_tmpdir: a scratch directory in $tmp, removed when the script exits.
ktap_tmpdir() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
}
