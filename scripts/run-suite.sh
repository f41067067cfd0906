#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the installed suite (build/kselftest_install, from "make selftests")
# with the kernel's run_kselftest.sh; arguments are passed through, e.g.
#   scripts/run-suite.sh -c vfio          one collection
#   scripts/run-suite.sh -t vfio:vfio_dma_map_test
# This is vmtest's default command.  The install directory may be read-only:
# tests write only to /tmp and $VMTEST_RESULTS.
# run_kselftest.sh itself always exits 0: the exit status here is 1 if any
# KTAP result failed (or none was produced), else 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case "${1:-}" in -h|--help) sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
suite=${KSFT_INSTALL_PATH:-$BUILD/kselftest_install}
[ -x "$suite/run_kselftest.sh" ] || die "no installed suite in $suite: run 'make selftests'"
log=$(mktemp /tmp/run-suite.XXXXXX)
"$suite/run_kselftest.sh" "$@" | tee "$log"
case "${1:-}" in -l|--list|-d|--dry-run) exit 0 ;; esac
"$TOP/scripts/ktap-summary.sh" "$log" | sed 's/^/# run-suite: /'
"$TOP/scripts/ktap-summary.sh" -q "$log"
