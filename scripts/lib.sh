# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared shell helpers for scripts/*.sh.  Source it; do not run it.
#
# Every script that sources this file gets:
#   TOP       the repository root
#   BUILD     the git-ignored build directory (kernel trees, objects, ccache)
#   log/warn/die            messages on stderr, prefixed with the script name
#   git_scratch DIR ARGS    git in a scratch tree of build/, with an identity
#   stage_begin/stage_end   "== stage: NAME" ... "== stage: NAME took Ns"

shopt -s inherit_errexit

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
PROG=$(basename "$0")

# Commits made in build/'s scratch trees (git am) need an identity; a fresh
# machine has none configured.
git_scratch() {
	local dir=$1
	shift
	git -C "$dir" -c user.name="$(git config user.name || echo "vm-create-speedup build")" \
		-c user.email="$(git config user.email || echo "build@localhost")" "$@"
}

log()  { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die()  { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# Kernel variants: "patched" (patches/series applied), "base" (the same Debian
# source with no patches, for A/B) and "debug" (patched + configs/debug/*).
kvariant_check() {
	case "$1" in
	patched|base|debug) ;;
	*) die "unknown KVARIANT '$1' (patched, base or debug)" ;;
	esac
}

# The source tree a variant builds from, and its object directory.
ksrc_dir() { [ "$1" = base ] && echo "$BUILD/linux-base" || echo "$BUILD/linux-patched"; }
kobj_dir() { echo "$BUILD/obj-$1"; }

declare -A _stage_t0
stage_begin() {
	_stage_t0[$1]=$(date +%s)
	printf '== stage: %s\n' "$1"
}
stage_end() {
	printf '== stage: %s took %ss\n' "$1" $(( $(date +%s) - ${_stage_t0[$1]} ))
}
