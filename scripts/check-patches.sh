#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Release checks of patches/series, KTAP on stdout:
#   - scripts/checkpatch.pl --strict on every patch: no ERROR, WARNING or CHECK;
#     one exception, counted on a '#' line: "Avoid CamelCase" for the page
#     flag accessors the PAGEFLAG macros generate (__SetPageZeroed, and the
#     macro's own argument, Zeroed): checkpatch exempts Page<Foo>,
#     SetPage<Foo> and ClearPage<Foo> but not their non-atomic __ forms,
#     which mm uses under zone->lock (__SetPageReported, __ClearPageBuddy);
#     and UNKNOWN_COMMIT_ID is ignored (Debian's tarball has no history);
#   - bisectability: the series is applied one patch at a time in its own
#     worktree (build/linux-bisect) and the kernel is built after each, with
#     -Werror (x86_64_defconfig sets CONFIG_WERROR), so no patch breaks the
#     build or adds a warning;
#   - 32-bit and FLATMEM: after each patch, the directories the series
#     touches (mm/, drivers/vfio/, arch/x86/kvm/, virt/kvm/) are compiled
#     for i386 (i386_defconfig: FLATMEM, HIGHMEM) with VFIO as modules,
#     the series' options and KUnit tests on, -Werror, in build/obj-i386.
#     (arm64 is not built: no cross compiler is installed by make deps.)
#
# Usage: scripts/check-patches.sh [--no-build | --only x86_64|i386]
#   PATCHES=DIR checks the series in DIR (DIR/series) instead of patches/,
#   e.g. an earlier version, to show a check failing on it.
# Exit status: 1 if any check failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

build=1 arches="x86_64 i386"
case "${1:-}" in
--no-build) build=0 ;;
--only)
	case "${2:-}" in x86_64|i386) arches=$2 ;; *) die "--only x86_64 or --only i386" ;; esac ;;
-h|--help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) die "unknown argument '$1'" ;;
esac

"$TOP/scripts/kernel.sh" prepare >&2 || die "cannot prepare the kernel tree"
SRC=$(ksrc_dir patched)
PATCHES=${PATCHES:-$TOP/patches}
mapfile -t patches < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PATCHES/series")
total=${#patches[@]}
[ $build = 1 ] && total=$((total * (1 + $(wc -w <<<"$arches"))))
echo "TAP version 13"
echo "1..$total"
[ ${#patches[@]} -gt 0 ] || { echo "# patches/series is empty"; exit 0; }

# checkpatch's output with each exempted finding replaced by an EXEMPT line:
# "Avoid CamelCase" of a page flag accessor (__SetPageFoo, __ClearPageFoo,
# __SetPage##uname) or of a PAGEFLAG macro's first argument.
pageflag_camelcase() {
	awk -v RS= -v ORS='\n\n' '
	/^CHECK: Avoid CamelCase: <(__)?(Set|Clear|TestSet|TestClear)?Page([A-Z][A-Za-z]*|##uname)>/ {
		print "EXEMPT"; next }
	/^CHECK: Avoid CamelCase: <[A-Za-z]+>/ {
		w = $0; sub(/^CHECK: Avoid CamelCase: </, "", w); sub(/>.*/, "", w)
		if ($0 ~ ("\n\\+[_A-Z]*PAGEFLAG[_A-Z]*\\(" w ", ")) { print "EXEMPT"; next }
	}
	{ print }'
}

n=0 fail=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	# /usr/bin first: spdxcheck.py needs Debian's python3 with python3-ply.
	# --ignore UNKNOWN_COMMIT_ID: the tree is Debian's source tarball, with
	# no upstream history, so checkpatch cannot look up a Fixes: hash.
	out=$(PATH=/usr/bin:$PATH perl "$SRC/scripts/checkpatch.pl" --strict -q --ignore UNKNOWN_COMMIT_ID \
		--root="$SRC" "$PATCHES/$p" 2>&1)
	rc=$?
	exempt=$(pageflag_camelcase <<<"$out" | grep -c '^EXEMPT' || true)
	out=$(pageflag_camelcase <<<"$out" | grep -v '^EXEMPT')
	[ "$exempt" -gt 0 ] && ! grep -qE '^(ERROR|WARNING|CHECK)' <<<"$out" && rc=0
	if [ $rc = 0 ] && ! grep -qE '^(ERROR|WARNING|CHECK)' <<<"$out"; then
		[ "$exempt" -gt 0 ] &&
			echo "# $p: $exempt CamelCase check(s) of PAGEFLAG accessors exempted (see --help)"
		echo "ok $n checkpatch --strict: $p"
	else
		printf '%s\n' "$out" | head -30 | sed 's/^/# /'
		echo "not ok $n checkpatch --strict: $p"
		fail=1
	fi
done
[ $build = 1 ] || exit $fail

BISECT=$BUILD/linux-bisect
OBJ=$BUILD/obj-bisect
base=$(git -C "$BUILD/linux" describe --tags --abbrev=0 --match 'debian/*')
if [ ! -e "$BISECT/.git" ]; then
	git -C "$BUILD/linux" worktree prune
	git -C "$BUILD/linux" worktree add -q --detach "$BISECT" "$base" || die "cannot create $BISECT"
fi
git -C "$BISECT" am --abort >/dev/null 2>&1
git -C "$BISECT" checkout -q -f --detach "$base"
mkdir -p "$OBJ"
cp "$(kobj_dir patched)/.config" "$OBJ/.config" 2>/dev/null ||
	{ KVARIANT=patched "$TOP/scripts/kernel.sh" config >&2 && cp "$(kobj_dir patched)/.config" "$OBJ/.config"; }
export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$BUILD

# i386: FLATMEM, HIGHMEM, 32-bit dma_addr_t and longs; VFIO and KVM as
# modules; what the series adds (Kconfig drops what a patch has not added
# yet, so the same fragment serves every step).
OBJ32=$BUILD/obj-i386
I386_DIRS="mm/ drivers/vfio/ arch/x86/kvm/ virt/kvm/"
i386_config() {
	make -s -C "$BISECT" O="$OBJ32" ARCH=i386 i386_defconfig >/dev/null &&
	cat >>"$OBJ32/.config" <<-EOF &&
	CONFIG_WERROR=y
	CONFIG_MODULES=y
	CONFIG_IOMMU_SUPPORT=y
	CONFIG_INTEL_IOMMU=y
	CONFIG_VFIO=m
	CONFIG_VFIO_CONTAINER=y
	CONFIG_VFIO_PCI=m
	CONFIG_IOMMUFD=m
	CONFIG_VIRTUALIZATION=y
	CONFIG_KVM=m
	CONFIG_KVM_AMD=m
	CONFIG_KVM_INTEL=m
	CONFIG_TRANSPARENT_HUGEPAGE=y
	CONFIG_HUGETLBFS=y
	CONFIG_KUNIT=y
	CONFIG_PAGE_PREZERO=y
	CONFIG_VFIO_IOMMU_TYPE1_KUNIT_TEST=y
	EOF
	make -s -C "$BISECT" O="$OBJ32" ARCH=i386 olddefconfig >/dev/null
}

# build_verdict RC LOG NAME NOTE: a build passes if it exited 0 and
# printed no warning (-Werror catches most, not those of the linker).
build_verdict() {
	if [ "$1" = 0 ] && ! grep -qiE 'warning:' "$2"; then
		echo "ok $n $3 # $4"
	else
		grep -iE 'warning:|error:' "$2" | head -20 | sed 's/^/# /'
		echo "not ok $n $3"
		fail=1
	fi
}

for p in "${patches[@]}"; do
	n=$((n + 1))
	if ! git -C "$BISECT" -c user.name=check -c user.email=check@localhost am -q "$PATCHES/$p" >&2; then
		git -C "$BISECT" am --abort >/dev/null 2>&1
		echo "not ok $n build after: $p # does not apply"
		fail=1
		break
	fi
	if [[ " $arches " == *" x86_64 "* ]]; then
		t0=$SECONDS
		make -s -C "$BISECT" O="$OBJ" olddefconfig >/dev/null &&
		make -s -C "$BISECT" O="$OBJ" -j"$(nproc)" CC="ccache gcc" bzImage >"$OBJ/build.log" 2>&1
		build_verdict $? "$OBJ/build.log" "build after: $p" "$((SECONDS - t0))s"
		[[ " $arches " == *" i386 "* ]] && n=$((n + 1))
	fi
	if [[ " $arches " == *" i386 "* ]]; then
		t0=$SECONDS
		mkdir -p "$OBJ32"
		# (Kconfig's "override" notes go to config.log, not build.log.)
		# shellcheck disable=SC2086 # I386_DIRS is a list of make targets
		i386_config >"$OBJ32/config.log" 2>&1 &&
		make -s -C "$BISECT" O="$OBJ32" ARCH=i386 -j"$(nproc)" CC="ccache gcc" $I386_DIRS >"$OBJ32/build.log" 2>&1
		rc=$?
		[ -s "$OBJ32/build.log" ] || [ $rc = 0 ] || tail -5 "$OBJ32/config.log" >"$OBJ32/build.log"
		build_verdict $rc "$OBJ32/build.log" "i386 build after: $p" "$I386_DIRS, $((SECONDS - t0))s"
	fi
done
exit $fail
