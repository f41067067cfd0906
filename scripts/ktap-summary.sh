#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Count KTAP/TAP results in logs, each test once.
#
# Usage: scripts/ktap-summary.sh [-q] [-l] [-f] FILE...
#   Prints "N passed, N failed, N skipped".  The count rule:
#   - nesting is read from "# " prefixes (kselftest's runner) and from
#     indentation (KTAP subtests, 2 spaces a level);
#   - a result that has results nested under it (a program and its test
#     cases, a suite and its subtests) is not counted: its children are;
#   - except when it failed and none of its children did (a crash, a timeout
#     or missing results after passing cases): then it counts as one failure,
#     so a failure is never hidden by the passes before it;
#   - "not ok" is a failure (even with "# SKIP" or "# TIMEOUT"), "ok ... # SKIP"
#     a skip, any other "ok" (e.g. "# XFAIL") a pass.
#   -l lists every counted result instead, one per line:
#      "pass|fail|skip<TAB>FILE<TAB>NAME" (NAME: the text after the number,
#      up to the " # " directive), e.g. to track results by name.
#   -f prints every counted failure instead, as "not ok: FILE: NAME # WHY"
#      followed by the lines the log printed since the result before it
#      (its RUN line, assertions, churner messages; the last 15), so that
#      a CI log that keeps only its tail still says why.
#   -q prints nothing.  Exit status: 1 if anything failed or no result was
#   found, else 0.
quiet=0 list=0 fails=0
while :; do
	case "${1:-}" in
	-q) quiet=1; shift ;;
	-l) list=1; shift ;;
	-f) fails=1; shift ;;
	*) break ;;
	esac
done
case "${1:-}" in -h|--help|"") sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
awk -v quiet=$quiet -v list=$list -v fails=$fails '
function reset(  i) { for (i in kids) delete kids[i]; for (i in kidfail) delete kidfail[i]; nctx = 0 }
function count(kind, name,  i) {
	if (kind == "pass") pass++; else if (kind == "fail") fail++; else skip++
	if (list) printf "%s\t%s\t%s\n", kind, FILENAME, name
	if (fails && kind == "fail") {
		printf "not ok: %s: %s%s\n", FILENAME, name, directive
		for (i = (nctx > 15 ? nctx - 15 : 0); i < nctx; i++) printf "    %s\n", ctx[i % 15]
	}
}
FNR == 1 { reset() }
{
	line = $0
	sub(/\r$/, "", line)
	raw = line
	depth = 0
	for (;;) {
		if (line ~ /^# ?/) { sub(/^# ?/, "", line); depth++ }
		else if (line ~ /^(  |\t)/) { sub(/^(  |\t)/, "", line); depth++ }
		else break
	}
	if (line !~ /^(not )?ok [0-9]+/) {
		if (fails && line !~ /^((K?TAP version)|[0-9]+\.\.[0-9]+)/) ctx[nctx++ % 15] = raw
		next
	}
	bad = line ~ /^not ok/
	name = line
	sub(/^(not )?ok [0-9]+ ?(- )?/, "", name)
	directive = ""
	if (match(name, / *# /)) { directive = substr(name, RSTART); name = substr(name, 1, RSTART - 1) }
	if (bad) kind = "fail"
	else if (toupper(directive) ~ /# *SKIP/) kind = "skip"
	else kind = "pass"

	if (!kids[depth]) count(kind, name)
	else if (bad && !kidfail[depth]) count("fail", name " (beyond its subtests)")
	# What was nested under this result is closed; it is a child of
	# every shallower open level.
	for (d in kids) if (d + 0 >= depth) { delete kids[d]; delete kidfail[d] }
	for (d = 0; d < depth; d++) { kids[d]++; if (bad) kidfail[d]++ }
	nctx = 0
}
END {
	if (!quiet && !list && !fails) printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	exit (fail > 0 || pass + skip == 0) ? 1 : 0
}' "$@"
