#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make kernel-deb": the patched kernel as Debian packages, for a real host
# (the runner's bzImage of scripts/kernel.sh boots only under QEMU).
#
# Usage: scripts/kernel-deb.sh [all|config|check|build]   (default: all)
#   config  apply patches/series (kernel.sh prepare: build/linux-patched),
#           configure from a distro config plus what the series and the
#           tests need, and check the result; builds nothing
#   check   only check the .config of the object directory (below)
#   build   bindeb-pkg: linux-image-* and linux-headers-* .debs in build/
#   all     config, then build
# Configuration, in build/obj-deb (never the runner's build/obj-*):
#   1. the distro config: the running kernel's /boot/config-$(uname -r) if
#      it is a 6.x config, else Debian's own for 6.12 (linux-config-6.12,
#      config.amd64_none_amd64.xz), brought to this tree with olddefconfig;
#   2. with KDEB_LOCALMODCONFIG=1, localmodconfig: only the modules loaded
#      now (lsmod, or the file KDEB_LSMOD from the target box) stay;
#   3. configs/*.config except vmtest.config and trim.config (the runner's
#      guest: no modules, no disks), configs/patched/*.config (the options
#      the series adds), selftests/*/config (what the collections need) and
#      configs/deb/host.config (no debug info, no IOMMU debugfs, keys), then
#      olddefconfig.  A "=y" whose option the distro builds as a module
#      stays "=m" (KVM, VFIO);
#   4. CONFIG_LOCALVERSION=$KDEB_LOCALVERSION.
# The check fails, naming them, when an option of those fragments or one
# that a patch of the series adds (its Kconfig hunk) is not =y or =m, or
# has another value than asked; and when an option of configs/debug/ is on
# that the distro config did not have on (no KASAN, lockdep, DEBUG_VM...).
# Environment:
#   KDEB_BASE_CONFIG     the distro config to start from (.xz is fine)
#   KDEB_LOCALVERSION    appended to the kernel release        [-prezero]
#   KDEB_LOCALMODCONFIG  1: trim with localmodconfig (for a build on the
#                        box that will boot it; LMC_KEEP as the kernel's)
#   KDEB_LSMOD           lsmod output of the target box, for step 2
#   KDEB_OBJ             object directory                      [build/obj-deb]
#   KDEB_SRC             a patched source tree to use as it is (no prepare)
#   JOBS                 parallel jobs                         [nproc]
# The boot parameter prezero=on turns pre-zeroing on (it is off by default;
# also /sys/kernel/mm/prezero/enabled): see the README, "Bare metal".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

JOBS=${JOBS:-$(nproc)}
OBJ=${KDEB_OBJ:-$BUILD/obj-deb}
SRC=${KDEB_SRC:-$(ksrc_dir patched)}
LOCALVERSION_WANT=${KDEB_LOCALVERSION--prezero}
DEBIAN_CONFIG=/usr/src/linux-config-6.12/config.amd64_none_amd64.xz

# The fragments, in the order they are merged (a later one wins).
fragments() {
	local f
	for f in "$TOP"/configs/*.config; do
		case ${f##*/} in vmtest.config|trim.config) continue ;; esac
		echo "$f"
	done
	printf '%s\n' "$TOP"/configs/patched/*.config "$TOP"/selftests/*/config \
		"$TOP/configs/deb/host.config"
}

# Options the series' patches add (their Kconfig hunks), one CONFIG_ a line.
series_options() {
	local p
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/patches/series" | while read -r p; do
		sed -n 's/^+config \([A-Za-z0-9_]*\)[[:space:]]*$/CONFIG_\1/p' "$TOP/patches/$p"
	done
}

# The wanted values: "CONFIG_X=v" or "CONFIG_X=n" (not set), the last
# fragment winning, then the series' own options (=y) and the localversion.
wanted() {
	local frags
	mapfile -t frags < <(fragments)
	{
		cat "${frags[@]}"
		series_options | sed 's/$/=y/'
		echo "CONFIG_LOCALVERSION=\"$LOCALVERSION_WANT\""
	} | awk '
		function add(s, val) { if (!(s in v)) order[++n] = s; v[s] = val }
		/^CONFIG_[A-Za-z0-9_]+=/ { i = index($0, "="); add(substr($0, 1, i - 1), substr($0, i + 1)); next }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { add($2, "n") }
		END { for (i = 1; i <= n; i++) print order[i] "=" v[order[i]] }'
}

# The distro config to start from.
base_config() {
	local host
	if [ -n "${KDEB_BASE_CONFIG:-}" ]; then
		[ -r "$KDEB_BASE_CONFIG" ] || die "KDEB_BASE_CONFIG: cannot read $KDEB_BASE_CONFIG"
		echo "$KDEB_BASE_CONFIG"
		return
	fi
	host=/boot/config-$(uname -r)
	if [ -r "$host" ] && head -5 "$host" | grep -q '^# Linux/x86 6\.'; then
		echo "$host"
		return
	fi
	[ -r "$DEBIAN_CONFIG" ] ||
		die "no distro config: no 6.x $host, and no $DEBIAN_CONFIG (make deps installs linux-config-6.12), nor KDEB_BASE_CONFIG"
	echo "$DEBIAN_CONFIG"
}

kmake() { make -s -C "$SRC" O="$OBJ" LOCALVERSION= "$@"; }

config() {
	local base lsmod=${KDEB_LSMOD:-$OBJ/lsmod.txt}
	mkdir -p "$OBJ"
	if [ "${KDEB_LOCALMODCONFIG:-0}" = 1 ]; then
		if [ -z "${KDEB_LSMOD:-}" ]; then
			lsmod >"$lsmod" 2>/dev/null || : >"$lsmod"
		fi
		# A module list with no module would leave a host without its
		# disk and network drivers.
		[ "$(grep -c . "$lsmod" 2>/dev/null)" -gt 1 ] ||
			die "localmodconfig: no loaded module listed in $lsmod (run it on the target box, or set KDEB_LSMOD to its lsmod output)"
	fi
	if [ -z "${KDEB_SRC:-}" ]; then
		KVARIANT=patched "$TOP/scripts/kernel.sh" prepare
	fi
	[ -f "$SRC/Makefile" ] || die "no kernel tree at $SRC"
	base=$(base_config)
	log "configuring $SRC in $OBJ from $base"
	case $base in
	*.xz) xz -dc "$base" >"$OBJ/.config" ;;
	*) cp "$base" "$OBJ/.config" ;;
	esac
	echo "$base" >"$OBJ/kdeb.base"
	kmake olddefconfig >/dev/null
	# What the distro has, for "=y stays =m" and the debug check.
	cp "$OBJ/.config" "$OBJ/.config.distro"
	if [ "${KDEB_LOCALMODCONFIG:-0}" = 1 ]; then
		log "localmodconfig: keeping the $(($(grep -c . "$lsmod") - 1)) modules listed in $lsmod"
		LSMOD=$lsmod kmake localmodconfig < <(yes '') >"$OBJ/localmodconfig.log" 2>&1 ||
			{ tail -20 "$OBJ/localmodconfig.log" >&2; die "localmodconfig failed"; }
	fi
	# The fragment actually merged: a "=y" the distro builds as "=m" stays m.
	wanted | awk -F= -v distro="$OBJ/.config.distro" '
		BEGIN { while ((getline l < distro) > 0) if (l ~ /=m$/) { sub(/=m$/, "", l); mod[l] = 1 } }
		$2 == "n" { print "# " $1 " is not set"; next }
		$2 == "y" && ($1 in mod) { print $1 "=m"; next }
		{ print }' >"$OBJ/kdeb.fragment"
	"$SRC"/scripts/kconfig/merge_config.sh -m -O "$OBJ" "$OBJ/.config" "$OBJ/kdeb.fragment" \
		>"$OBJ/merge.log" 2>&1 || { cat "$OBJ/merge.log" >&2; die "merge_config.sh failed"; }
	kmake olddefconfig >/dev/null
	check
}

# Every wanted option has its value in $OBJ/.config: "=y" is met by y or m,
# "=m" by m or y, an empty string and "not set" also by an absent option.
check() {
	local bad debug
	[ -f "$OBJ/.config" ] || die "no $OBJ/.config: run '$PROG config' first"
	bad=$(wanted | awk -F= -v cfg="$OBJ/.config" '
		BEGIN {
			while ((getline l < cfg) > 0) {
				if (l ~ /^CONFIG_/) { s = l; sub(/=.*/, "", s); got[s] = substr(l, length(s) + 2) }
				else if (l ~ /^# CONFIG_.* is not set$/) { split(l, w, " "); got[w[2]] = "n" }
			}
		}
		{
			s = $1; want = substr($0, length(s) + 2); have = (s in got) ? got[s] : "n"
			ok = want == have
			if ((want == "y" || want == "m") && (have == "y" || have == "m")) ok = 1
			if ((want == "\"\"" || want == "n") && (have == "n" || have == "\"\"")) ok = 1
			if (!ok) printf "  %s: want %s, got %s\n", s, want == "n" ? "not set" : want,
				have == "n" ? "not set" : have
		}')
	# No debug option of configs/debug/ that the distro config did not have.
	debug=$(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=y$/\1/p' "$TOP"/configs/debug/*.config | while read -r s; do
		if grep -qE "^$s=[ym]$" "$OBJ/.config" &&
		   ! grep -qE "^$s=[ym]$" "$OBJ/.config.distro" 2>/dev/null; then
			echo "  $s: a debug option (configs/debug/) the distro config does not have"
		fi
	done)
	if [ -n "$bad$debug" ]; then
		printf '%s\n' "$bad" "$debug" | sed '/^$/d' >&2
		die "$OBJ/.config lacks what the series and the tests need (above)"
	fi
	log "config ok: $(wanted | wc -l) options as wanted (the series adds $(series_options | paste -sd' ' -)); release $(release)"
}

release() {
	echo "$(kmake kernelversion)$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$OBJ/.config")"
}

build() {
	local t0=$SECONDS rel debs
	check
	rel=$(release)
	export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$BUILD
	log "building linux-image-$rel and linux-headers-$rel with $JOBS jobs (bindeb-pkg)"
	# dpkg-buildpackage writes the packages next to the object directory.
	kmake -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc" bindeb-pkg >"$OBJ/build.log" 2>&1 ||
		{ tail -40 "$OBJ/build.log" >&2; die "bindeb-pkg failed (log: $OBJ/build.log)"; }
	echo "$(kmake kernelversion) (Debian linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12)) deb $rel; series: $(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/patches/series" | wc -l) patch(es), tree $(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null || echo unknown); config from $(cat "$OBJ/kdeb.base")" \
		>"$OBJ/kernel.version"
	# (bindeb-pkg also makes linux-libc-dev: not for a host that has Debian's.)
	debs=$(ls -t "$(dirname "$OBJ")"/linux-image-"$rel"_*.deb "$(dirname "$OBJ")"/linux-headers-"$rel"_*.deb 2>/dev/null |
		head -2 | tr '\n' ' ')
	log "built in $((SECONDS - t0))s: $debs"
	log "install them with dpkg -i, then see the README, \"Bare metal\""
}

cmd=${1:-all}
case "$cmd" in
config) config ;;
check) check ;;
build) build ;;
all) config; build ;;
-h|--help) sed -n '3,/^# also \/sys/p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown command '$cmd' (see --help)" ;;
esac
