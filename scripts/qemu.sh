#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the QEMU the real-QEMU tests can switch: Debian's qemu source (the
# version of the installed qemu-system-x86, Debian's own patches applied)
# with patches/qemu/series on top.  Every change in the series is behind a
# property that defaults to stock behaviour, so one binary runs both.
#
# Usage: scripts/qemu.sh [prepare|build|all|version]   (default: all)
#   prepare  apt-get source qemu into build/qemu-src/ (adding a deb-src entry
#            made from the host's apt sources if there is none), import it
#            into build/qemu-src/qemu (a git repo, tagged debian/<version>)
#            and apply patches/qemu/series with git am
#   build    configure build/qemu (x86_64-softmmu, KVM only, no TCG, no
#            tools or docs, firmware from Debian's packages) and build
#            build/qemu/qemu-system-x86_64 with ninja (ccache when present)
#   version  print what was built
# Environment:
#   JOBS=N   parallel jobs (default: nproc)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

JOBS=${JOBS:-$(nproc)}
SRCDIR=$BUILD/qemu-src
REPO=$SRCDIR/qemu
OBJ=$BUILD/qemu
SERIES=$TOP/patches/qemu/series
# The switches the series adds and the tests use; the build is checked for them.
SWITCHES=(x-ram-apart-1m x-skip-open-reset x-parallel-reset)
CONFIGURE=(--target-list=x86_64-softmmu --without-default-features --enable-kvm
	--disable-tcg --disable-docs --disable-user --disable-tools
	--disable-guest-agent --enable-fdt=system --enable-trace-backends=log
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu)

git_q() { git_scratch "$REPO" "$@"; }

deb_version() {
	dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null ||
		die "qemu-system-x86 is not installed (make deps)"
}

# The deb-src twins of the deb entries under ROOT (/etc/apt): deb822 files
# (sources.list.d/*.sources) and one-line ones (sources.list).
deb_src_822() {
	local f
	for f in "$1"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		sed 's/^Types:.*/Types: deb-src/' "$f"
		echo
	done
}
deb_src_list() {
	[ ! -f "$1/sources.list" ] || sed -n 's/^deb /deb-src /p' "$1/sources.list"
}

# apt-get source needs deb-src entries; derive them from the deb ones.
ensure_deb_src() {
	local out=/etc/apt/sources.list.d/vm-create-speedup-src
	grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
	[ "$(id -u)" = 0 ] || die "no deb-src entry in the apt sources; add one (as root) and retry"
	deb_src_822 /etc/apt >"$out.sources.new"
	deb_src_list /etc/apt >"$out.list.new"
	mv "$out.sources.new" "$out.sources"
	mv "$out.list.new" "$out.list"
	[ -s "$out.sources" ] || rm -f "$out.sources"
	[ -s "$out.list" ] || rm -f "$out.list"
	log "added deb-src entries ($out.*); apt-get update"
	apt-get update -qq >"$BUILD/.apt-src.log" 2>&1 ||
		{ tail -5 "$BUILD/.apt-src.log" >&2; die "apt-get update failed"; }
}

prepare() {
	local ver dsc tag n=0 p hash
	ver=$(deb_version)
	dsc=$SRCDIR/qemu_${ver#*:}.dsc
	tag=debian/${ver#*:}
	tag=${tag//[~:]/_}
	mkdir -p "$SRCDIR"
	if [ ! -f "$dsc" ]; then
		ensure_deb_src
		log "apt-get source qemu=$ver"
		(cd "$SRCDIR" && apt-get source -qq --download-only "qemu=$ver") >&2 ||
			die "apt-get source qemu=$ver failed"
	fi
	if ! git -C "$REPO" rev-parse -q --verify "refs/tags/$tag" >/dev/null 2>&1; then
		rm -rf "$REPO"
		log "unpacking $(basename "$dsc") (Debian's patches applied)"
		dpkg-source -x "$dsc" "$REPO" >"$SRCDIR/dpkg-source.log" 2>&1 ||
			{ tail -5 "$SRCDIR/dpkg-source.log" >&2; die "dpkg-source -x $dsc failed"; }
		# quilt's bookkeeping is not source
		rm -rf "$REPO/.pc"
		git -C "$REPO" init -q
		git_q config gc.auto 0
		git_q add -A
		git_q commit -q -m "Debian qemu $ver (Debian's patches applied)"
		git_q tag "$tag"
	fi
	# As in kernel.sh: a blank context line as an empty line, which
	# checkpatch outside a source tree does not call trailing whitespace.
	git_q config diff.suppressBlankEmpty true
	hash=$( (cat "$SERIES"; sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$SERIES" |
		 while read -r p; do cat "$TOP/patches/qemu/$p"; done) | sha256sum)
	if [ "$(cat "$REPO/.git/series.sha256" 2>/dev/null)" = "$hash:$(git_q rev-parse HEAD)" ]; then
		return 0	# applied already: leave the files (and the build) alone
	fi
	git_q checkout -q -f "$tag"
	git_q clean -q -fdx
	while read -r p; do
		n=$((n + 1))
		git_q am -q --whitespace=nowarn "$TOP/patches/qemu/$p" ||
			{ git_q am --abort || true; die "patches/qemu/$p does not apply on $tag"; }
	done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$SERIES")
	echo "$hash:$(git_q rev-parse HEAD)" >"$REPO/.git/series.sha256"
	log "applied $n patch(es) from patches/qemu/series on $tag"
}

build() {
	local t0=$SECONDS want have s
	[ -d "$REPO/.git" ] || die "no QEMU source: run '$0 prepare' first"
	want="${CONFIGURE[*]}"
	have=$(cat "$OBJ/.configure-args" 2>/dev/null || true)
	if [ ! -f "$OBJ/build.ninja" ] || [ "$want" != "$have" ]; then
		rm -rf "$OBJ"
		mkdir -p "$OBJ"
		log "configure ${CONFIGURE[*]}"
		(cd "$OBJ" && "$REPO/configure" "${CONFIGURE[@]}") >"$OBJ/configure.log" 2>&1 ||
			{ tail -20 "$OBJ/configure.log" >&2; die "configure failed (log: $OBJ/configure.log)"; }
		echo "$want" >"$OBJ/.configure-args"
	fi
	ninja -C "$OBJ" -j "$JOBS" qemu-system-x86_64 >"$OBJ/ninja.log" 2>&1 ||
		{ tail -30 "$OBJ/ninja.log" >&2; die "build failed (log: $OBJ/ninja.log)"; }
	# Run from the build tree, QEMU looks for firmware under qemu-bundle/ at
	# the configured paths: point those at Debian's packages (SeaBIOS; the
	# option ROMs -kernel boots with).
	for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
		mkdir -p "$OBJ/qemu-bundle$(dirname "$d")"
		ln -sfn "$d" "$OBJ/qemu-bundle$d"
	done
	for f in seabios/bios-256k.bin qemu/linuxboot_dma.bin; do
		[ -f "$OBJ/qemu-bundle/usr/share/$f" ] || die "no /usr/share/$f (the seabios and qemu-system-data packages)"
	done
	have=$({ "$OBJ/qemu-system-x86_64" -device vfio-pci,help
		 "$OBJ/qemu-system-x86_64" -machine q35,help; } 2>/dev/null)
	for s in "${SWITCHES[@]}"; do
		grep -q -- "$s" <<<"$have" || die "the build lacks the switch $s"
	done
	printf '%s; patches/qemu: %s patch(es), HEAD %s\n' "$("$OBJ/qemu-system-x86_64" --version | head -1)" \
		"$(git -C "$REPO" rev-list --count HEAD~0 ^"$(git -C "$REPO" describe --tags --abbrev=0)")" \
		"$(git -C "$REPO" rev-parse --short=12 HEAD)" >"$OBJ/qemu.version"
	log "built $(cat "$OBJ/qemu.version") in $((SECONDS - t0))s"
}

case "${1:-all}" in
prepare) prepare ;;
build) build ;;
all) prepare; build ;;
version) cat "$OBJ/qemu.version" ;;
-h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown step '$1' (see --help)" ;;
esac
