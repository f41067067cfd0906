#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit tests of scripts/: the KTAP counter, the kernel-log scanner, and the
# argument checks of vmtest.sh, deps.sh and kernel.sh.  Prints KTAP.
set -u
T=$(cd "$(dirname "$0")" && pwd)
S=$T/../scripts
. "$T/ktap.sh"
ktap_tmpdir

plan 52

# ---- ktap-summary.sh
out=$("$S/ktap-summary.sh" "$T/fixtures/nested.ktap"); rc=$?
is "$out" "2 passed, 1 failed, 3 skipped" "ktap-summary counts the innermost results of a nested log"
is $rc 1 "ktap-summary exits 1 when something failed"
printf 'TAP version 13\n1..1\nok 1 a\n# ok 2 b # SKIP x\n' >"$tmp/ok.ktap"
"$S/ktap-summary.sh" -q "$tmp/ok.ktap"; is $? 0 "ktap-summary exits 0 when nothing failed"
printf 'no results here\n' >"$tmp/none.ktap"
out=$("$S/ktap-summary.sh" "$tmp/none.ktap"); rc=$?
is "$out/$rc" "0 passed, 0 failed, 0 skipped/1" "ktap-summary fails a log with no results"
out=$("$S/ktap-summary.sh" "$tmp/ok.ktap" "$T/fixtures/nested.ktap")
is "$out" "3 passed, 1 failed, 4 skipped" "ktap-summary adds up several files"
out=$("$S/ktap-summary.sh" "$T/fixtures/count-rule.ktap")
is "$out" "5 passed, 3 failed, 2 skipped" "ktap-summary counts each test once (count-rule.ktap)"
"$S/ktap-summary.sh" -l "$T/fixtures/count-rule.ktap" >"$tmp/l"
is "$(grep -c 'crashed_after_cases' "$tmp/l")" 1 "a program that fails after passing cases counts as one failure"
is "$(grep -c 'one_case_fails\|all_pass\|kunit_style' "$tmp/l")" 0 "a program with subtests is not counted itself"
is "$(grep -c 'no_subtests' "$tmp/l")" 1 "a program with no subtests counts once"
is "$(awk -F'\t' '$1 == "fail" && $3 == "inner.two"' "$tmp/l" | wc -l)" 1 "a failure two levels down counts under a passing parent"
is "$(grep -c '[0-9]s)\|#' "$tmp/l")" 0 "listed names carry no directive"

# ---- kernel-health.sh
"$S/kernel-health.sh" "$T/fixtures/dmesg-clean.txt" >"$tmp/h"; is $? 0 "kernel-health passes a clean boot log"
for f in "$T"/fixtures/dmesg-bad-*.txt; do
	"$S/kernel-health.sh" "$f" >"$tmp/h"; rc=$?
	grep -q '^not ok 1 kernel_health' "$tmp/h"
	ok $(( rc == 1 && $? == 0 ? 0 : 1 )) "kernel-health flags $(basename "$f" .txt | sed 's/dmesg-bad-//')"
done
mkdir "$tmp/res"; cp "$T/fixtures/dmesg-bad-warning.txt" "$tmp/res/console.log"
"$S/kernel-health.sh" "$tmp/res" >/dev/null; is $? 1 "kernel-health falls back to console.log without dmesg.txt"
"$S/kernel-health.sh" "$tmp/nothing" >/dev/null 2>&1; is $? 2 "kernel-health exits 2 without a log"

# ---- vmtest.sh: refuses bad input before booting anything
BUILD=$tmp/build "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q 'no kernel at' "$tmp/e"; is "$rc/$?" "1/0" "vmtest fails clearly without a kernel"
mkdir -p "$tmp/build/obj-patched/arch/x86/boot" && : >"$tmp/build/obj-patched/arch/x86/boot/bzImage"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_DEVICES="edu gpu" "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "unknown device 'gpu'" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects an unknown device"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_DEVICES="virtio:x" "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "bad count" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects a bad device count"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_CPUS=3 VMTEST_NODES=2 "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "multiple of VMTEST_NODES" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects vCPUs that do not split over nodes"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_STALL=0 "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "VMTEST_STALL" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects a zero stall window"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_SLOWDOWN=half "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "VMTEST_SLOWDOWN" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects a bad slowdown"
KVARIANT=nope "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "unknown KVARIANT" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects an unknown KVARIANT"
"$S/vmtest.sh" --help | tail -1 | grep -q 'meta.txt records it'; ok $? "vmtest --help prints its whole header"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_SWAP=lots "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "VMTEST_SWAP: bad size" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects a bad swap size"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_INITRD=$tmp/none.cpio "$S/vmtest.sh" >/dev/null 2>"$tmp/e"; rc=$?
grep -q "VMTEST_INITRD: no file" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects a missing initramfs"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_DIMMS=two "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "VMTEST_DIMMS: 'two' is not N:SIZE" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects a malformed DIMM list"
BUILD=$tmp/build VMTEST_RESULTS=$tmp/r VMTEST_DIMMS=1:100M "$S/vmtest.sh" true >/dev/null 2>"$tmp/e"; rc=$?
grep -q "multiple of 128M" "$tmp/e"; is "$rc/$?" "1/0" "vmtest rejects a DIMM that is not whole memory blocks"
BUILD=$tmp/build KSFT_INSTALL_PATH=$tmp/none "$S/resume-test.sh" >/dev/null 2>"$tmp/e"; rc=$?
grep -q "run 'make selftests' first" "$tmp/e"; is "$rc/$?" "1/0" "resume-test fails clearly without the test program"

# ---- kernel.sh, deps.sh
KVARIANT=nope "$S/kernel.sh" version >/dev/null 2>"$tmp/e"; rc=$?
grep -q "unknown KVARIANT" "$tmp/e"; is "$rc/$?" "1/0" "kernel.sh rejects an unknown KVARIANT"
"$S/kernel.sh" frobnicate >/dev/null 2>"$tmp/e"; is $? 1 "kernel.sh rejects an unknown command"
"$S/deps.sh" --bogus >/dev/null 2>&1; is $? 1 "deps.sh rejects an unknown argument"
"$S/check-fresh.sh" --bogus >/dev/null 2>&1; is $? 1 "check-fresh.sh rejects an unknown argument"
"$S/upstream-tests.sh" bogus >/dev/null 2>&1; is $? 1 "upstream-tests.sh rejects an unknown command"
is "$("$S/upstream-tests.sh" list | grep -c '^mm:\|^kvm:')" "$("$S/upstream-tests.sh" list | wc -l)" \
	"upstream-tests.sh lists collection:program entries only"
# upstream-tests.sh run: known failures become XFAIL, others fail (fake programs)
mkdir -p "$tmp/up/kvm" "$tmp/up/mm"
printf '#!/bin/sh\necho "1..3"; echo "ok 1 a"; echo "not ok 2 known one"; echo "not ok 3 other"; exit 1\n' >"$tmp/up/mm/cow"
printf '#!/bin/sh\necho "1..1"; echo "not ok 1 flaky"; exit 1\n' >"$tmp/up/mm/gup_test"
chmod +x "$tmp/up/mm/cow" "$tmp/up/mm/gup_test"
printf '# c\nmm:cow\tknown one\tfail\tbase too\nmm:gup_test\tflaky\tfail\tbase too\n' >"$tmp/known"
UPSTREAM_DIR=$tmp/up UPSTREAM_KNOWN=$tmp/known UPSTREAM_NO_SETUP=1 "$S/upstream-tests.sh" run mm >"$tmp/up.ktap" 2>&1
is $? 1 "upstream-tests.sh run fails on an unknown failure"
grep -q '^# ok 2 known one # XFAIL' "$tmp/up.ktap"; is $? 0 "a listed failure becomes XFAIL"
grep -q '^not ok 1 mm:cow # exit=1' "$tmp/up.ktap"; is $? 0 "a program with an unlisted failure fails"
grep -q '^ok 2 mm:gup_test -u # XFAIL' "$tmp/up.ktap"; is $? 0 "a program with only listed failures is XFAIL"
grep -q '^not ok 5 mm:gup_longterm # not built' "$tmp/up.ktap"; is $? 0 "a program that was not built fails"
# ---- selftests/kunit: debugfs KUnit results -> flat KTAP
K=$T/../selftests/kunit/kunit_results.sh
KUNIT_DIR=$T/fixtures/kunit "$K" >"$tmp/ku" 2>&1; is $? 1 "kunit_results fails when a case failed"
grep -q '^ok 1 vfio_iommu_type1.vpfn_count_two_in_one_page$' "$tmp/ku"; is $? 0 "kunit_results names a case <suite>.<case>"
grep -q '^not ok 2 vfio_iommu_type1.vpfn_count_bounded$' "$tmp/ku"; is $? 0 "kunit_results reports a failed case"
grep -q '^ok 3 vfio_iommu_type1.vpfn_count_empty # SKIP why$' "$tmp/ku"; is $? 0 "kunit_results keeps a case's SKIP"
is "$("$S/ktap-summary.sh" "$tmp/ku")" "1 passed, 1 failed, 1 skipped" "kunit_results counts each case once"
KUNIT_DIR=$tmp/nokunit "$K" >/dev/null 2>&1; is $? 4 "kunit_results skips without KUnit"
"$K" --help | grep -q "Usage"; is $? 0 "kunit_results --help"
"$S/check.sh" bogus >/dev/null 2>"$tmp/e"; rc=$?
grep -q "unknown stage" "$tmp/e"; is "$rc/$?" "1/0" "check.sh rejects an unknown stage"

done_testing
