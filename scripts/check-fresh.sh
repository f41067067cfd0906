#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make check-fresh": run "make check" as a brand-new machine would.
#
# Usage: scripts/check-fresh.sh [--keep] [--root-only] [-- STAGE...]
#   Builds a minimal Debian 12 root with mmdebstrap (cached as
#   build/fresh/root.tar; apt sources and options taken from this host's),
#   clones the checkout's committed HEAD into it, and runs "make check" there
#   as root in a chroot with /proc, /sys and /dev bound: only what make deps
#   installs is there, no ccache, no kernel tree, no tool installed by hand.
#   Prints each stage's time and the total.  Uncommitted changes are not
#   tested (a warning says so), as in CI.
#   --keep     keep the root (build/fresh/root) for debugging; without it the
#              root is removed when the run ends
#   --root-only  only build (or find) the cached root tarball
#   STAGE...   passed to make check (scripts/check.sh), default: all
# The root holds what every machine of this kind has on day one and make
# check itself does not install: make, git and CA certificates.  Exit status:
# make check's.  Log: build/fresh/check.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

keep=0 root_only=0
stages=()
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1 ;;
	--root-only) root_only=1 ;;
	--) shift; stages=("$@"); break ;;
	-h|--help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "needs root (chroot, mounts)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: run 'make deps'"

F=$BUILD/fresh
ROOT=$F/root
TAR=$F/root.tar
INCLUDE=make,git,ca-certificates
mkdir -p "$F"

# Unmount and remove the root, also after a previous run that was killed.
cleanup_mounts() {
	local m
	# Deepest first.
	for m in $(awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}
cleanup() {
	cleanup_mounts
	[ $keep = 1 ] || rm -rf "$ROOT"
}
cleanup_mounts
rm -rf "$ROOT"

# ---- the root, cached ------------------------------------------------------
key=$({ echo "bookworm minbase $INCLUDE"
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } | sha1sum | cut -c1-12)
if [ ! -f "$TAR" ] || [ "$(cat "$TAR.key" 2>/dev/null)" != "$key" ]; then
	srcs=() opts=()
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -s "$f" ] && grep -qE '^(deb |Types:)' "$f" && srcs+=("$f")
	done
	for f in /etc/apt/apt.conf.d/*; do
		[ -f "$f" ] && opts+=(--aptopt="$f")
	done
	[ ${#srcs[@]} -gt 0 ] || die "no apt sources on this host to copy"
	log "building a minimal Debian 12 root with mmdebstrap (once; cached in ${TAR#"$TOP"/})"
	mmdebstrap --variant=minbase --format=tar --include="$INCLUDE" "${opts[@]}" --quiet \
		bookworm "$TAR.tmp" "${srcs[@]}" >"$F/mmdebstrap.log" 2>&1 ||
		{ tail -20 "$F/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $F/mmdebstrap.log)"; }
	mv "$TAR.tmp" "$TAR"
	echo "$key" >"$TAR.key"
fi

[ $root_only = 1 ] && { log "root: ${TAR#"$TOP"/} ($(du -h "$TAR" | cut -f1))"; exit 0; }

# ---- a clone of the checkout in it -------------------------------------------
[ -z "$(git -C "$TOP" status --porcelain --untracked-files=no)" ] ||
	warn "uncommitted changes in $TOP are not tested: only the committed HEAD is cloned"
trap cleanup EXIT
mkdir -p "$ROOT"
tar -xf "$TAR" -C "$ROOT"
git clone -q --no-local "$TOP" "$ROOT/work/check"
head=$(git -C "$ROOT/work/check" log -1 --format='%h %s')
mount --rbind /proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
# Name resolution for apt inside the root.
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true

log "make check ${stages[*]:-} in a fresh Debian 12 root, on $head"
t0=$SECONDS
set +e
chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI=true \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash -c 'cd /work/check && make check STAGES="$*"' bash "${stages[@]}" 2>&1 |
	tee "$F/check.log"
rc=${PIPESTATUS[0]}
set -e
# The run's own logs, kept beside check.log.
rm -rf "$F/results"
cp -r "$ROOT/work/check/results/check/latest/" "$F/results" 2>/dev/null || true
echo "== check-fresh: make check exited $rc after $((SECONDS - t0))s ($(( (SECONDS - t0) / 60 )) min) on $head"
[ $keep = 1 ] && echo "== check-fresh: root kept in $ROOT"
exit "$rc"
