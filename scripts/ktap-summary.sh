#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Count KTAP/TAP results in logs.
#
# Usage: scripts/ktap-summary.sh [-q] FILE...
#   Prints "N passed, N failed, N skipped".  Every result line counts, at every
#   nesting level (kselftest's runner marks nested output with "# " prefixes,
#   KTAP with indentation): a program's verdict and each of its test cases.
#   "not ok" is a failure (even with "# SKIP" or "# TIMEOUT"); "ok ... # SKIP"
#   is a skip; "ok ... # XFAIL" and other "ok" lines pass.
#   -q prints nothing.  Exit status: 1 if anything failed or no result was
#   found, else 0.
quiet=0
[ "${1:-}" = -q ] && { quiet=1; shift; }
case "${1:-}" in -h|--help|"") sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
awk -v quiet=$quiet '
{
	line = $0
	sub(/\r$/, "", line)
	while (line ~ /^(# ?|[ \t]+)/) sub(/^(# ?|[ \t]+)/, "", line)
	if (line ~ /^not ok [0-9]+/) { fail++ }
	else if (line ~ /^ok [0-9]+/) {
		if (toupper(line) ~ /# *SKIP/) skip++; else pass++
	}
}
END {
	if (!quiet) printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	exit (fail > 0 || pass + skip == 0) ? 1 : 0
}' "$@"
