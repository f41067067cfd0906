#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit tests of scripts/: the KTAP counter, the kernel-log scanner, the
# argument checks of vmtest.sh, deps.sh, kernel.sh and qemu.sh (and its
# deb-src entries), kernel-deb.sh's
# config step (no build), bench.sh's refusals with BENCH_HOST=1, and the one
# checkpatch exception of check-patches.sh.
# Prints KTAP.
set -u
T=$(cd "$(dirname "$0")" && pwd)
S=$T/../scripts
. "$T/ktap.sh"
ktap_tmpdir

plan 80

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
"$S/ktap-summary.sh" -f "$T/fixtures/failure-context.ktap" >"$tmp/f"; rc=$?
is "$rc/$(grep -c '^not ok: ' "$tmp/f")" "1/1" "ktap-summary -f lists the one counted failure and exits 1"
is "$(grep -c 'churner 1: bad byte' "$tmp/f")" 1 "ktap-summary -f shows the diagnostics printed before a failure"
is "$(grep -c '^not ok: .*: y # bad pattern$' "$tmp/f")" 1 "ktap-summary -f keeps the reason after the name"
is "$(grep -c 'ok 1 x\|TAP version\|1\.\.2' "$tmp/f")" 0 "ktap-summary -f leaves out results, versions and plans before it"
for i in $(seq 20); do echo "# line $i"; done >"$tmp/long.ktap"; echo "not ok 1 long" >>"$tmp/long.ktap"
"$S/ktap-summary.sh" -f "$tmp/long.ktap" >"$tmp/f"
is "$(sed -n '2p;$p' "$tmp/f" | tr -d ' ' | tr '\n' ,)" "#line6,#line20," "ktap-summary -f keeps the last 15 lines before a failure"

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
"$S/kernel-health.sh" --no-verdict "$T/fixtures/stalled" >"$tmp/h"; rc=$?
is "$rc/$("$S/ktap-summary.sh" "$tmp/h")" "1/0 passed, 1 failed, 0 skipped" \
	"kernel-health --no-verdict: one failure; the console's own results are not counted"
is "$(grep -c '^# console: .*RUN .*thp_cpu_list' "$tmp/h")/$(grep -c '^# blocked: .*drain_all_pages' "$tmp/h")/$(grep -c 'Show State\|task:init' "$tmp/h")" \
	"1/1/0" "kernel-health --no-verdict shows the last lines before the SysRq dump and its blocked tasks only"

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
# uffd-unit-tests maps at a fixed 1 GiB hint the randomized brk heap can
# take: it must run with ADDR_NO_RANDOMIZE (0x0040000) in its personality
printf '#!/bin/bash\necho "1..1"; p=$(cat /proc/self/personality); (( 0x$p & 0x40000 )) && echo "ok 1 norandom" || { echo "not ok 1 norandom $p"; exit 1; }\n' >"$tmp/up/mm/uffd-unit-tests"
chmod +x "$tmp/up/mm/uffd-unit-tests"
UPSTREAM_DIR=$tmp/up UPSTREAM_KNOWN=$tmp/known UPSTREAM_NO_SETUP=1 "$S/upstream-tests.sh" run mm >"$tmp/up.ktap" 2>&1
is $? 1 "upstream-tests.sh run fails on an unknown failure"
grep -q '^# ok 2 known one # XFAIL' "$tmp/up.ktap"; is $? 0 "a listed failure becomes XFAIL"
grep -q '^not ok 1 mm:cow # exit=1' "$tmp/up.ktap"; is $? 0 "a program with an unlisted failure fails"
grep -q '^ok 2 mm:gup_test -u # XFAIL' "$tmp/up.ktap"; is $? 0 "a program with only listed failures is XFAIL"
grep -q '^not ok 5 mm:gup_longterm # not built' "$tmp/up.ktap"; is $? 0 "a program that was not built fails"
grep -q '^ok 13 mm:uffd-unit-tests$' "$tmp/up.ktap"; is $? 0 "uffd-unit-tests runs with address-space randomization off"
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

# ---- kernel-deb.sh: the config step only (the package build is not run
# here).  Debian's own 6.12 config, the tree the tree stage prepared, a
# scratch object directory.
"$S/kernel-deb.sh" frobnicate >/dev/null 2>&1; is $? 1 "kernel-deb.sh rejects an unknown command"
: >"$tmp/lsmod"
KDEB_LOCALMODCONFIG=1 KDEB_LSMOD=$tmp/lsmod KDEB_OBJ=$tmp/lmc "$S/kernel-deb.sh" config >/dev/null 2>"$tmp/e"; rc=$?
grep -q "no loaded module listed" "$tmp/e"; is "$rc/$?" "1/0" "kernel-deb.sh refuses localmodconfig with no module listed"
DEB_CONFIG=/usr/src/linux-config-6.12/config.amd64_none_amd64.xz
KTREE=$T/../build/linux-patched
if [ ! -r "$DEB_CONFIG" ] || [ ! -f "$KTREE/Makefile" ]; then
	while read -r n; do
		skip "$n" "needs $DEB_CONFIG (make deps) and $KTREE (make check's tree stage)"
	done <<-EOF
	kernel-deb.sh config keeps every option the series and the tests need
	kernel-deb.sh config: CONFIG_PAGE_PREZERO=y
	kernel-deb.sh config: the release ends in -prezero
	kernel-deb.sh config keeps the distro's modules (KVM, VFIO =m)
	kernel-deb.sh config: no IOMMU debugfs
	kernel-deb.sh config: no debug info
	kernel-deb.sh check names a missing option
	kernel-deb.sh check flags a debug option the distro config lacks
	EOF
else
	KDEB_SRC=$KTREE KDEB_OBJ=$tmp/deb KDEB_BASE_CONFIG=$DEB_CONFIG nice "$S/kernel-deb.sh" config >"$tmp/kd" 2>&1
	ok $? "kernel-deb.sh config keeps every option the series and the tests need" "$(tail -5 "$tmp/kd")"
	grep -h 'config ok' "$tmp/kd" | sed 's/^/# /'
	grep -q '^CONFIG_PAGE_PREZERO=y$' "$tmp/deb/.config"; ok $? "kernel-deb.sh config: CONFIG_PAGE_PREZERO=y"
	grep -q '^CONFIG_LOCALVERSION="-prezero"$' "$tmp/deb/.config"; ok $? "kernel-deb.sh config: the release ends in -prezero"
	# The distro's modules stay modules: KVM and VFIO are =m in Debian's config.
	is "$(grep -cE '^CONFIG_(KVM|KVM_AMD|KVM_INTEL|VFIO|VFIO_PCI)=m$' "$tmp/deb/.config")" 5 "kernel-deb.sh config keeps the distro's modules (KVM, VFIO =m)"
	grep -q '^# CONFIG_IOMMU_DEBUGFS is not set$' "$tmp/deb/.config"; ok $? "kernel-deb.sh config: no IOMMU debugfs"
	grep -q '^CONFIG_DEBUG_INFO=y' "$tmp/deb/.config"; is $? 1 "kernel-deb.sh config: no debug info"
	sed -i '/CONFIG_PAGE_PREZERO/d' "$tmp/deb/.config"
	KDEB_SRC=$KTREE KDEB_OBJ=$tmp/deb "$S/kernel-deb.sh" check >/dev/null 2>"$tmp/e"; rc=$?
	grep -q '^  CONFIG_PAGE_PREZERO: want y, got not set$' "$tmp/e"; is "$rc/$?" "1/0" "kernel-deb.sh check names a missing option"
	echo CONFIG_PAGE_PREZERO=y >>"$tmp/deb/.config"
	echo CONFIG_KASAN=y >>"$tmp/deb/.config"
	KDEB_SRC=$KTREE KDEB_OBJ=$tmp/deb "$S/kernel-deb.sh" check >/dev/null 2>"$tmp/e"; rc=$?
	grep -q '^  CONFIG_KASAN: a debug option' "$tmp/e"; is "$rc/$?" "1/0" "kernel-deb.sh check flags a debug option the distro config lacks"
fi

# ---- bench.sh BENCH_HOST=1 (bare metal): one line and exit 4 when this
# host cannot run it.  (This one has no /dev/vfio; on a host with both
# /dev/kvm and /dev/vfio the second case would start the bench: skipped.)
B=$T/../bench
BENCH_HOST=1 VFIO_SELFTESTS_BDF='' "$B/bench.sh" >/dev/null 2>"$tmp/e"; rc=$?
is "$rc/$(wc -l <"$tmp/e")/$(grep -c 'skip: BENCH_HOST=1: no devices' "$tmp/e")" "4/1/1" "bench.sh BENCH_HOST=1 refuses without devices"
if [ -c /dev/kvm ] && [ -e /dev/vfio ]; then
	skip "bench.sh BENCH_HOST=1 refuses without /dev/kvm or /dev/vfio" "this host has both"
else
	BENCH_HOST=1 VFIO_SELFTESTS_BDF=0000:00:00.0 "$B/bench.sh" >/dev/null 2>"$tmp/e"; rc=$?
	is "$rc/$(wc -l <"$tmp/e")/$(grep -c 'skip: BENCH_HOST=1: no /dev/\(kvm\|vfio\)' "$tmp/e")" "4/1/1" \
		"bench.sh BENCH_HOST=1 refuses without /dev/kvm or /dev/vfio"
	sed 's/^/# /' "$tmp/e"
fi
BENCH_HOST=yes "$B/bench.sh" >/dev/null 2>&1; is $? 1 "bench.sh rejects a bad BENCH_HOST"


# ---- qemu.sh: arguments, and the deb-src entries it derives for apt-get source
"$S/qemu.sh" frobnicate >/dev/null 2>&1; is $? 1 "qemu.sh rejects an unknown step"
"$S/qemu.sh" --help | grep -q "patches/qemu/series"; is $? 0 "qemu.sh --help"
eval "$(sed -n '/^deb_src_822()/,/^}/p; /^deb_src_list()/,/^}/p' "$S/qemu.sh")"
out=$(deb_src_822 "$T/fixtures/apt")
is "$(grep -c '^Types: deb-src$' <<<"$out")/$(grep -c '^Types: deb$' <<<"$out")" "1/0" \
	"qemu.sh: a deb822 file's Types becomes deb-src, other files ignored"
is "$(grep -c '^URIs: http://deb.debian.org/debian$' <<<"$out")" 1 "qemu.sh: the rest of the deb822 entry is kept"
is "$(deb_src_list "$T/fixtures/apt")" "deb-src http://deb.debian.org/debian-security bookworm-security main" \
	"qemu.sh: one-line deb entries get a deb-src twin, comments and deb-src lines do not"

# ---- check-patches.sh: the PAGEFLAG CamelCase exception, and nothing else
eval "$(sed -n '/^pageflag_camelcase()/,/^}/p' "$S/check-patches.sh")"
out=$(pageflag_camelcase <"$T/fixtures/checkpatch-camelcase.txt")
is "$(grep -c '^EXEMPT' <<<"$out")" 3 "check-patches exempts __SetPage##uname, a PAGEFLAG argument, __ClearPageZeroed"
is "$(grep -c '^CHECK' <<<"$out")" 1 "check-patches keeps any other CamelCase check"

done_testing
