#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Release checks of patches/series, KTAP on stdout:
#   - scripts/checkpatch.pl --strict on every patch: no ERROR, WARNING or CHECK;
#   - bisectability: the series is applied one patch at a time in its own
#     worktree (build/linux-bisect) and the kernel is built after each, with
#     -Werror (x86_64_defconfig sets CONFIG_WERROR), so no patch breaks the
#     build or adds a warning.
#
# Usage: scripts/check-patches.sh [--no-build]
# Exit status: 1 if any check failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

build=1
case "${1:-}" in
--no-build) build=0 ;;
-h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) die "unknown argument '$1'" ;;
esac

"$TOP/scripts/kernel.sh" prepare >&2 || die "cannot prepare the kernel tree"
SRC=$(ksrc_dir patched)
mapfile -t patches < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/patches/series")
total=${#patches[@]}
[ $build = 1 ] && total=$((total * 2))
echo "TAP version 13"
echo "1..$total"
[ ${#patches[@]} -gt 0 ] || { echo "# patches/series is empty"; exit 0; }

n=0 fail=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	# /usr/bin first: spdxcheck.py needs Debian's python3 with python3-ply.
	out=$(PATH=/usr/bin:$PATH perl "$SRC/scripts/checkpatch.pl" --strict -q --root="$SRC" "$TOP/patches/$p" 2>&1)
	rc=$?
	if [ $rc = 0 ] && ! grep -qE '^(ERROR|WARNING|CHECK)' <<<"$out"; then
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
for p in "${patches[@]}"; do
	n=$((n + 1))
	if ! git -C "$BISECT" -c user.name=check -c user.email=check@localhost am -q "$TOP/patches/$p" >&2; then
		git -C "$BISECT" am --abort >/dev/null 2>&1
		echo "not ok $n build after: $p # does not apply"
		fail=1
		break
	fi
	t0=$SECONDS
	make -s -C "$BISECT" O="$OBJ" olddefconfig >/dev/null &&
	make -s -C "$BISECT" O="$OBJ" -j"$(nproc)" CC="ccache gcc" bzImage >"$OBJ/build.log" 2>&1
	rc=$?
	if [ $rc = 0 ] && ! grep -qiE 'warning:' "$OBJ/build.log"; then
		echo "ok $n build after: $p # $((SECONDS - t0))s"
	else
		grep -iE 'warning:|error:' "$OBJ/build.log" | head -20 | sed 's/^/# /'
		echo "not ok $n build after: $p"
		fail=1
	fi
done
exit $fail
