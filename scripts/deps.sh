#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages this project uses.  Idempotent: prints nothing
# and changes nothing when everything is installed.
#
# Usage: scripts/deps.sh [--check]
#   --check   only report what is missing (exit 1 if anything is)
# Environment:
#   NO_APT=1  never call apt-get; fail with the list of missing packages
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# One line per need, so a reviewer can see why each package is here.
PKGS=(
	linux-source-6.12	# the kernel we patch (Debian's 6.12 LTS tarball)
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod # kernel build
	ccache			# rebuilds after a patch change
	git perl python3-ply python3-git # git am; checkpatch.pl and its SPDX check
	qemu-system-x86		# boots the kernel under TCG with intel-iommu
	libnuma-dev numactl	# NUMA policy in vm_create_test
	gnuplot-nox		# bench charts
	linux-perf		# bench profiles inside the guest
	procps util-linux	# the guest init (mount, dmesg, sysctl) from the host root
	xz-utils		# gen_tar
	rsync			# headers_install (scripts/Makefile.headersinst uses it)
	shellcheck		# the unit stage lints the project's shell
	mmdebstrap		# make check-fresh: a minimal Debian root to run make check in
	busybox-static		# the initramfs of scripts/resume-test.sh (hibernation)
	linux-config-6.12	# make kernel-deb: Debian's own 6.12 config to start from
	debhelper openssl	# make kernel-deb: bindeb-pkg's debian/rules (dh_*), module signing key
	dpkg-dev meson ninja-build # make qemu: dpkg-source, QEMU's build system
	libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev # make qemu: what x86_64-softmmu links
)

case "${1:-}" in
--check) CHECK_ONLY=1 ;;
"") CHECK_ONLY=0 ;;
-h|--help) sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) die "unknown argument '$1' (see --help)" ;;
esac

# (bash drops the "# ..." comments inside the array literal.)
missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$CHECK_ONLY" = 1 ]; then
	echo "missing packages: ${missing[*]}"
	exit 1
fi
if [ "${NO_APT:-0}" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	die "missing Debian packages: ${missing[*]}
  apt-get is needed but not allowed here (NO_APT=1, not root, or no apt-get).
  Install them as root: apt-get install ${missing[*]}"
fi

log "installing: ${missing[*]}"
mkdir -p "$BUILD"
export DEBIAN_FRONTEND=noninteractive
# Package lists may be missing or stale on a fresh machine; update once.
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$BUILD/.apt.log" 2>&1; then
	apt-get update -qq >>"$BUILD/.apt.log" 2>&1 || true
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$BUILD/.apt.log" 2>&1 ||
		{ tail -20 "$BUILD/.apt.log" >&2; die "apt-get install failed (log: $BUILD/.apt.log)"; }
fi
log "installed ${#missing[@]} package(s)"
