#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The project's unit tests: scripts/ (shell), bench/, the lints (shellcheck,
# checkpatch) and selftests/lib (C, built against the kernel tree's headers).  KTAP on stdout; exit 1 on a failure.
set -u
T=$(cd "$(dirname "$0")" && pwd)
rc=0
"$T/scripts_test.sh" || rc=1
"$T/bench_test.sh" || rc=1
"$T/lint.sh" || rc=1
make -s --no-print-directory -C "$T" >&2 || { echo "not ok 1 lib_test # build failed"; exit 1; }
"$T/../build/selftests/tests/lib_test" || rc=1
exit $rc
