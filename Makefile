# SPDX-License-Identifier: GPL-2.0
# Speeding up VM creation with passthrough devices: kernel patches against
# Linux 6.12 LTS, selftests that measure them, and the pipeline that boots the
# patched kernel under QEMU to run them.  "make help" lists the targets.

KVARIANT ?= patched
export KVARIANT

SHELL := /bin/bash
SCRIPTS := scripts

.DEFAULT_GOAL := help

help:
	@echo "Main targets (set-up included):"
	@echo "  make bench          before/after evidence: results/<date>-<kernel>-<machine>/"
	@echo "  make check          unit tests and lints, selftests, kernels (patched, debug), suite and"
	@echo "                      the kernel's mm/kvm selftests in guests (scripts/check.sh --help)"
	@echo "Steps:"
	@echo "  make deps           install the Debian packages used (idempotent)"
	@echo "  make kernel         build Debian linux-source-6.12 + patches/series (KVARIANT=patched|base|debug)"
	@echo "  make kernel-deb     the patched kernel as .debs for a real host, from a distro config, in build/"
	@echo "                      (scripts/kernel-deb.sh --help; KDEB_LOCALMODCONFIG=1 trims it to lsmod)"
	@echo "  make qemu           Debian's QEMU source + patches/qemu (switches default off) in build/qemu"
	@echo "  make selftests      build the suite and install it in build/kselftest_install"
	@echo "  make vmtest         boot the kernel under QEMU TCG and run VMTEST_CMD (default: the suite)"
	@echo "  make check-fresh    make check in a fresh minimal Debian 12 root (cold: no ccache, no tree)"
	@echo "  make check-patches  checkpatch --strict, and a build after every patch of the series"
	@echo "  make report         redo report.md, charts and cover letter of results/latest (or RESULTS=dir)"
	@echo "  make clean          remove selftest builds; 'make distclean' removes build/"
	@echo "Variables: KVARIANT, VMTEST_MEM, VMTEST_CPUS, VMTEST_NODES, VMTEST_DEVICES,"
	@echo "  VMTEST_APPEND, VMTEST_CMD, VMTEST_TIMEOUT (see scripts/vmtest.sh --help);"
	@echo "  BENCH_SIZES, BENCH_SCALE, BENCH_DEVICES, BENCH_BACKINGS, BENCH_REPS,"
	@echo "  BENCH_HOST=1 (bare metal: no runner; bench/bench.sh --help)"

deps:
	@$(SCRIPTS)/deps.sh

kernel: deps
	@$(SCRIPTS)/kernel.sh all

# The patched kernel as Debian packages for bare metal (README, "Bare metal").
kernel-deb: deps
	@$(SCRIPTS)/kernel-deb.sh all

# Debian's QEMU with patches/qemu (the talk's VMM fixes, each behind a switch).
qemu: deps
	@$(SCRIPTS)/qemu.sh all

# Only what the selftests need from the kernel: the tree and its headers.
kernel-headers: deps
	@$(SCRIPTS)/kernel.sh prepare
	@$(SCRIPTS)/kernel.sh config
	@$(SCRIPTS)/kernel.sh headers

selftests: kernel-headers
	@$(MAKE) --no-print-directory -C selftests install

vmtest: kernel selftests
	@$(SCRIPTS)/vmtest.sh

# STAGES: a subset of make check's stages (scripts/check.sh --help).
check: deps
	@$(SCRIPTS)/check.sh $(STAGES)

# make check in a minimal Debian 12 root, as on a brand-new machine.
check-fresh: deps
	@$(SCRIPTS)/check-fresh.sh $(if $(STAGES),-- $(STAGES))

check-patches: deps
	@$(SCRIPTS)/check-patches.sh

bench: deps
	@bench/bench.sh

RESULTS ?= results/latest
report:
	@bench/report.sh $(RESULTS)
	@bench/cover-letter.sh $(RESULTS)

clean:
	@$(MAKE) --no-print-directory -C selftests clean 2>/dev/null || true
	rm -rf build/selftests build/kselftest_install

distclean:
	rm -rf build

.PHONY: help deps kernel kernel-deb qemu kernel-headers selftests vmtest check check-fresh check-patches bench report \
	clean distclean
