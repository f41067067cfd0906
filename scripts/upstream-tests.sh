#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's own mm and kvm selftests, from the same tree as the patched
# kernel, as a regression gate for the series (make check, stage upstream).
#
# Usage: scripts/upstream-tests.sh build          (on the host)
#        scripts/upstream-tests.sh run [mm|kvm]   (in the guest, as root)
#        scripts/upstream-tests.sh list
#   build  builds the tests listed below from build/linux-<variant> into
#          build/upstream/ (the kernel's own Makefiles and flags)
#   run    turns every switch of the series on (pre-zeroing, pin_runs,
#          rmap_skip_empty), reserves huge pages, runs each test from a
#          writable directory and prints KTAP in the kselftest runner's
#          format.  A failure listed in scripts/upstream-known-failures.txt
#          (it fails on the base kernel too) becomes "ok ... # XFAIL"; any
#          other failure fails.  No test is run against a clock: the runner
#          that boots the guest kills it only when its console stays silent.
#   list   prints the tests, one "collection:name args" per line
# Environment: KVARIANT (patched), UPSTREAM_KNOWN (the known-failures file),
#   UPSTREAM_DIR (build/upstream), UPSTREAM_NO_SETUP=1 (run without touching
#   switches or huge pages: the unit tests run fake programs on the host).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KVARIANT=${KVARIANT:-patched}
UP=${UPSTREAM_DIR:-$BUILD/upstream}
KNOWN=${UPSTREAM_KNOWN:-$TOP/scripts/upstream-known-failures.txt}

# collection:program [arguments], sized for QEMU TCG.  The order is the run
# order.  Not here, with the reason:
#   mm:khugepaged  does not build in 6.12.117's tree (KSFT_SKIP undeclared
#                  in khugepaged.c: a missing #include "../kselftest.h")
#   memslot_perf_test's last test (5, "RW"): the test's own 10 s alarm on a
#                  host/guest sync (host_perform_sync()) fires under nested
#                  TCG, a clock-based verdict of the test itself; tests 0-4
#                  (map, unmap, unmap chunked, move active/inactive) run
TESTS=(
	"mm:cow"
	"mm:gup_test -u"
	"mm:gup_test -a"
	"mm:gup_test -ct -F 0x1 0 19 0x1000"
	"mm:gup_longterm"
	"mm:madv_populate"
	"mm:migration"
	"mm:split_huge_page_test"
	"mm:mremap_test"
	"mm:mkdirty"
	"mm:map_populate"
	"mm:pagemap_ioctl"
	"mm:uffd-unit-tests"
	"mm:hugetlb-madvise"
	"mm:compaction_test"
	"kvm:set_memory_region_test"
	"kvm:memslot_modification_stress_test -i 64"
	"kvm:memslot_perf_test -s 128 -l 1 -r 1 -e 4"
	"kvm:dirty_log_test -i 8 -I 10 -M all"
)

# Programs run with address-space randomization off (setarch -R), with the
# reason.  uffd-unit-tests maps its shmem areas at a fixed hint, 1 GiB
# (BASE_PMD_ADDR in uffd-common.c), and err()s if the kernel places them
# elsewhere.  The binary is built -no-pie, and 6.12's x86_64 randomizes
# the start of the brk heap over 1 GiB above the binary's end
# (arch_randomize_brk(): SZ_1G), so about one
# run in 220 puts the heap inside the hinted range: "mmap of memfd failed at
# 0x40000000" (CI, 2026-12-03; measured on the host: a -no-pie program with
# the same heap and hint missed it 18 times in 4000 runs, 0 of 300 under
# setarch -R).  Later kernels reserve the range with mmap(NULL) instead.
# mremap_test (also -no-pie) puts its source at the lowest free address above
# mmap_min_addr + 40 MiB and, for "with 40MB Preamble", maps the 40 MiB below
# the destination with MAP_FIXED_NOREPLACE without checking that range first
# (remap_region() checks only the destination itself): when the randomized
# heap lands there, "Failed to map dest preamble region: File exists"
# (check-fresh, 2026-12-04; on the host 7 of 160 runs failed that way, 0 of
# 210 under setarch -R).
NO_ASLR=" mm:uffd-unit-tests mm:mremap_test "

programs() {	# collection -> its programs, once each
	local t
	for t in "${TESTS[@]}"; do
		t=${t%% *}
		[ "${t%%:*}" = "$1" ] && echo "${t#*:}"
	done | sort -u
}

build() {
	local src obj mm=() kvm=() p
	src=$(ksrc_dir "$KVARIANT")
	obj=$(kobj_dir "$KVARIANT")
	[ -f "$obj/usr/include/linux/kvm.h" ] || die "no kernel headers in $obj/usr/include: run 'make kernel-headers'"
	mkdir -p "$UP/mm" "$UP/kvm"
	for p in $(programs mm); do mm+=("$UP/mm/$p"); done
	for p in $(programs kvm); do kvm+=("$p"); done
	make -s --no-print-directory -C "$src/tools/testing/selftests/mm" OUTPUT="$UP/mm" \
		KHDR_INCLUDES="-isystem $obj/usr/include" "${mm[@]}"
	make -s --no-print-directory -C "$src/tools/testing/selftests/kvm" -f Makefile \
		-f "$TOP/selftests/lib/libkvm.mk" OUTPUT="$UP/kvm" \
		KHDR_INCLUDES="-isystem $obj/usr/include" kvm-tests KVM_TESTS="${kvm[*]}"
	for p in "${kvm[@]}"; do
		[ -x "$UP/kvm/$p" ] || die "kvm:$p was not built"
	done
	log "built $(( ${#mm[@]} + ${#kvm[@]} )) upstream tests in ${UP#$TOP/}"
}

# known PROGRAM SUBTEST: is this failure listed?  Lines of the file:
#   collection:program<TAB>subtest name or *<TAB>base result<TAB>why
known() {
	[ -f "$KNOWN" ] || return 1
	awk -F'\t' -v p="$1" -v s="$2" '
		/^#/ || NF < 2 { next }
		$1 == p && ($2 == "*" || $2 == s) { found = 1 }
		END { exit !found }' "$KNOWN"
}

# Every switch of the series on; each write is checked, so a kernel without
# the series (or a renamed knob) is reported, not silently tested as base.
switches_on() {
	local f
	for f in /sys/kernel/mm/prezero/enabled /sys/module/vfio_iommu_type1/parameters/pin_runs \
		 /sys/module/kvm/parameters/rmap_skip_empty; do
		if [ -w "$f" ]; then
			case $f in *prezero*) echo 1 >"$f" ;; *) echo Y >"$f" ;; esac
			echo "# upstream: $f = $(cat "$f")"
		else
			echo "# upstream: $f: not present (kernel without the series?)"
		fi
	done
}

run() {
	local only=${1:-} n=0 total=0 t name prog args rc nfail nknown line sub
	local mmu dir bad=0 t0 pre
	shopt -s lastpipe	# the loop below runs in this shell: its counts stay
	mmu=$(cat /sys/module/kvm/parameters/tdp_mmu 2>/dev/null || echo "?")
	for t in "${TESTS[@]}"; do
		[ -z "$only" ] || [ "${t%%:*}" = "$only" ] && total=$((total + 1))
	done
	echo "TAP version 13"
	echo "1..$total"
	[ "${UPSTREAM_NO_SETUP:-0}" = 1 ] || switches_on
	echo "# upstream: kvm.tdp_mmu=$mmu, $(grep -c ^processor /proc/cpuinfo) CPUs, NUMA nodes: $(ls -d /sys/devices/system/node/node* | wc -l)"
	[ "${UPSTREAM_NO_SETUP:-0}" = 1 ] || echo 128 >/proc/sys/vm/nr_hugepages
	dir=$(mktemp -d /tmp/upstream.XXXXXX)
	for t in "${TESTS[@]}"; do
		[ -n "$only" ] && [ "${t%%:*}" != "$only" ] && continue
		n=$((n + 1))
		name=${t%% *} args=""
		[ "$name" != "$t" ] && args=${t#* }
		prog=$UP/${name%%:*}/${name#*:}
		echo "# selftests: upstream: $t"
		if [ ! -x "$prog" ]; then
			echo "not ok $n $t # not built: run 'scripts/upstream-tests.sh build'"
			bad=1
			continue
		fi
		# From a writable directory (gup_longterm creates files in it).
		# The output is streamed (the runner watches the console for
		# progress); known failures of subtests become XFAIL on the way.
		nfail=0 nknown=0 t0=$SECONDS
		set +e
		pre=()
		if [[ $NO_ASLR == *" $name "* ]]; then
			pre=(setarch "$(uname -m)" -R)
			echo "# upstream: $name: address-space randomization off (setarch -R; see NO_ASLR)"
		fi
		# shellcheck disable=SC2086 # args are words
		(cd "$dir" && exec "${pre[@]}" "$prog" $args) </dev/null 2>&1 |
		while IFS= read -r line; do
			if [[ $line =~ ^([[:space:]]*)not\ ok\ ([0-9]+)\ ?(.*)$ ]]; then
				sub=${BASH_REMATCH[3]%% # *}
				if known "$name" "$sub"; then
					line="${BASH_REMATCH[1]}ok ${BASH_REMATCH[2]} $sub # XFAIL known failure, base kernel too"
					nknown=$((nknown + 1))
				else
					nfail=$((nfail + 1))
				fi
			fi
			printf '# %s\n' "$line"
		done
		rc=${PIPESTATUS[0]}
		set -e
		echo "# upstream: $t: exit $rc after $((SECONDS - t0))s"
		if [ $rc = 0 ]; then
			echo "ok $n $t"
		elif [ $rc = 4 ]; then
			echo "ok $n $t # SKIP"
		elif [ $nfail = 0 ] && { [ $nknown -gt 0 ] || known "$name" "*"; }; then
			echo "ok $n $t # XFAIL exit=$rc: known failures only (scripts/upstream-known-failures.txt)"
		else
			echo "not ok $n $t # exit=$rc"
			bad=1
		fi
		[ $nfail = 0 ] || bad=1
	done
	rm -rf "$dir"
	return $bad
}

case "${1:-}" in
build) build ;;
run) shift; run "$@" ;;
list) printf '%s\n' "${TESTS[@]}" ;;
-h|--help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown command '${1:-}' (build, run, list; see --help)" ;;
esac
