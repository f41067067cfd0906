#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel we test: Debian's linux-source-6.12 with patches/series.
#
# Usage: scripts/kernel.sh [prepare|config|build|headers|all|version]   (default: all)
#   prepare  import the Debian tarball into build/linux (a git repo, one commit
#            per Debian version, tagged debian/<version>), apply patches/series
#            with git am, and check the variant's source tree out at the result
#   config   x86_64 defconfig + configs/*.config (+ configs/patched/*.config,
#            options the series adds, unless KVARIANT=base; + configs/debug/
#            for KVARIANT=debug), then verify every requested option took effect
#   build    bzImage with ccache
#   headers  headers_install into the object dir (for the selftests)
#   version  print the recorded version line of the variant
# Environment:
#   KVARIANT=patched|base|debug   (default patched)
#   JOBS=N                        parallel jobs (default: nproc)
#
# Layout under build/:
#   linux/           git repo; its work tree is scratch space for git am
#   linux-base/      worktree at the Debian commit (KVARIANT=base)
#   linux-patched/   worktree at Debian + patches/series (patched, debug)
#   obj-<variant>/   O= object dir; kernel.version records what was built
#
# Only the files a series change really changes get new mtimes: the series is
# applied in the scratch tree and the build worktree is then moved with
# "git checkout", which leaves unchanged files alone.  That keeps a rebuild
# after editing one patch small.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KVARIANT=${KVARIANT:-patched}
kvariant_check "$KVARIANT"
JOBS=${JOBS:-$(nproc)}
SRC=$(ksrc_dir "$KVARIANT")
OBJ=$(kobj_dir "$KVARIANT")
REPO=$BUILD/linux
TARBALL=/usr/src/linux-source-6.12.tar.xz

git_b() { git_scratch "$REPO" "$@"; }

deb_version() { dpkg-query -W -f='${Version}' linux-source-6.12; }
# git refuses '~' and ':' in ref names.
deb_tag() { echo "debian/$(deb_version | tr '~:' '_.')"; }

import_tarball() {
	local tag; tag=$(deb_tag)
	[ -f "$TARBALL" ] || die "$TARBALL is missing: run 'make deps'"
	if [ -d "$REPO/.git" ] && git_b rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
		return 0
	fi
	log "importing $TARBALL ($(deb_version)) into $REPO"
	mkdir -p "$REPO"
	if [ ! -d "$REPO/.git" ]; then
		git init -q "$REPO"
		git_b config core.autocrlf false
		git_b config gc.auto 0
	else
		# A newer Debian upload: replace the tree, keep the history so
		# the series can be rebased with "git rebase --onto".
		git_b checkout -q --detach "$(git_b describe --tags --abbrev=0 --match 'debian/*')"
		git_b rm -rq --ignore-unmatch .
		find "$REPO" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
	fi
	tar -xf "$TARBALL" -C "$REPO" --strip-components=1
	# Debian's .gitignore ignores "/*" (its packaging repo is separate): force.
	git_b add -A -f .
	git_b commit -q -m "Debian linux-source-6.12 $(deb_version)" \
		-m "Imported from $TARBALL by scripts/kernel.sh."
	git_b tag "$tag"
}

# Hash of what the patched tree is made of: the base commit and the patches.
series_files() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/patches/series"
}
series_hash() {
	{
		git_b rev-parse "$(deb_tag)^{commit}"
		series_files | while read -r p; do
			[ -f "$TOP/patches/$p" ] || die "patches/series names '$p' but patches/$p does not exist"
			echo "$p"; cat "$TOP/patches/$p"
		done
	} | sha1sum | cut -d' ' -f1
}

# Apply the series in the scratch tree; print the resulting commit.
apply_series() {
	local base p n=0
	base=$(git_b rev-parse "$(deb_tag)^{commit}")
	git_b am --abort >/dev/null 2>&1 || true
	git_b checkout -q -f --detach "$base"
	git_b clean -qfdx
	while read -r p; do
		n=$((n + 1))
		if ! git_b am -q --keep-cr "$TOP/patches/$p" >"$BUILD/.am.log" 2>&1; then
			git_b am --abort >/dev/null 2>&1 || true
			cat "$BUILD/.am.log" >&2
			die "patch $n of the series, patches/$p, does not apply on $(deb_tag)"
		fi
	done < <(series_files)
	[ $n -gt 0 ] && log "applied $n patch(es) from patches/series" >&2
	git_b rev-parse HEAD
}

checkout_worktree() {	# dir commit
	local dir=$1 commit=$2
	if [ ! -e "$dir/.git" ]; then
		git_b worktree prune
		git_b worktree add -q --detach "$dir" "$commit"
		return
	fi
	if [ -n "$(git -C "$dir" status --porcelain --untracked-files=no)" ]; then
		die "$dir has uncommitted changes; commit them and export them to patches/ (git format-patch), or discard them"
	fi
	git -C "$dir" checkout -q --detach "$commit"
}

prepare() {
	mkdir -p "$BUILD"
	import_tarball
	# Patches exported from the worktrees write a blank context line as an
	# empty line, not a lone space: git am takes both, and checkpatch run
	# on the file outside a kernel tree does not call the space trailing.
	git_b config diff.suppressBlankEmpty true
	local commit head prev="" stamp=$SRC.commit cache=$BUILD/linux-patched.series hash
	[ -f "$stamp" ] && prev=$(cat "$stamp")
	if [ "$KVARIANT" = base ]; then
		commit=$(git_b rev-parse "$(deb_tag)^{commit}")
	else
		hash=$(series_hash)
		if [ -f "$cache" ] && [ "$(sed -n 1p "$cache")" = "$hash" ] &&
		   git_b cat-file -e "$(sed -n 2p "$cache")^{commit}" 2>/dev/null; then
			commit=$(sed -n 2p "$cache")
		else
			commit=$(apply_series)
			printf '%s\n%s\n' "$hash" "$commit" >"$cache"
		fi
	fi
	# Refuse to throw away work committed by hand in the worktree: its
	# HEAD must be where this script left it, or have the same tree as
	# the series (the work was exported to patches/).
	if [ -e "$SRC/.git" ] && [ -n "$prev" ] && [ "${FORCE:-0}" != 1 ]; then
		head=$(git -C "$SRC" rev-parse HEAD)
		if [ "$head" != "$prev" ] &&
		   [ "$(git -C "$SRC" rev-parse "HEAD^{tree}")" != "$(git_b rev-parse "$commit^{tree}")" ]; then
			die "$SRC has work that is not in patches/; export it with
  git -C $SRC format-patch -o $TOP/patches $(deb_tag)..HEAD  (and update patches/series)
or rerun with FORCE=1 to drop it"
		fi
	fi
	checkout_worktree "$SRC" "$commit"
	echo "$commit" >"$stamp"
}

config() {
	local frags=("$TOP"/configs/*.config) hash stamp=$OBJ/.config.inputs
	# Options the series adds exist only in the patched tree.
	[ "$KVARIANT" != base ] && frags+=("$TOP"/configs/patched/*.config)
	[ "$KVARIANT" = debug ] && frags+=("$TOP"/configs/debug/*.config)
	mkdir -p "$OBJ"
	hash=$({ git -C "$SRC" rev-parse HEAD; cat "${frags[@]}"; } | sha1sum | cut -d' ' -f1)
	if [ -f "$OBJ/.config" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
		return 0
	fi
	make -s -C "$SRC" O="$OBJ" x86_64_defconfig >/dev/null
	"$SRC"/scripts/kconfig/merge_config.sh -m -O "$OBJ" "$OBJ/.config" "${frags[@]}" >"$OBJ/.merge.log" 2>&1 ||
		{ cat "$OBJ/.merge.log" >&2; die "merge_config.sh failed"; }
	make -s -C "$SRC" O="$OBJ" olddefconfig >/dev/null
	# merge_config only warns; a requested option that Kconfig dropped
	# (a typo, a missing dependency) is an error here.  A later fragment
	# overrides an earlier one (configs/debug/ turns KVM_INTEL off).
	local bad=0 line sym got
	local -A want=()
	while read -r line; do
		case "$line" in
		CONFIG_*=*) sym=${line%%=*}; want[$sym]=$line ;;
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want[$sym]="# $sym is not set" ;;
		esac
	done < <(cat "${frags[@]}")
	for sym in "${!want[@]}"; do
		got=$(grep -E "^($sym=|# $sym is not set)" "$OBJ/.config" || echo "# $sym is not set")
		if [ "$got" != "${want[$sym]}" ]; then
			warn "config: asked for '${want[$sym]}', got '$got'"
			bad=1
		fi
	done
	[ $bad = 0 ] || die "the kernel config does not match configs/ (see above)"
	echo "$hash" >"$stamp"
}

build() {
	local t0=$SECONDS
	export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$BUILD
	export KBUILD_BUILD_USER=vmtest KBUILD_BUILD_HOST=vmtest
	make -s -C "$SRC" O="$OBJ" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc" bzImage
	record_version
	log "built $(cat "$OBJ/kernel.version") in $((SECONDS - t0))s"
}

headers() {
	make -s -C "$SRC" O="$OBJ" headers_install INSTALL_HDR_PATH="$OBJ/usr" >/dev/null
}

# One line that every result carries: upstream version, Debian upload,
# variant, and what the series was.
record_version() {
	local kv series="none"
	kv=$(make -s -C "$SRC" O="$OBJ" kernelversion)
	if [ "$KVARIANT" != base ]; then
		series="$(series_files | wc -l) patch(es), tree $(git -C "$SRC" rev-parse --short=12 HEAD)"
	fi
	echo "$kv (Debian linux-source-6.12 $(deb_version)) $KVARIANT; series: $series" >"$OBJ/kernel.version"
	echo "$kv" >"$OBJ/kernel.release"
}

cmd=${1:-all}
case "$cmd" in
prepare) prepare ;;
config) config ;;
build) build ;;
headers) headers ;;
all) prepare; config; build; headers ;;
version) cat "$OBJ/kernel.version" ;;
-h|--help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown command '$cmd' (see --help)" ;;
esac
