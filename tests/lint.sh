#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lints of the project's own code, as KTAP:
#   sh.lint     every shell script, by shellcheck (warnings and errors; a directive in the
#               script names and explains each exception)
#   checkpatch  every C file of selftests/ and tests/ with the kernel's
#               checkpatch.pl from build/linux-patched, "selftests profile":
#               the types below are ignored, each for a stated reason.
set -u
T=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$T/.." && pwd)
. "$T/ktap.sh"

# The selftests profile: what checkpatch flags in idioms of user-space tests.
#   VOLATILE            device registers mapped into user space (edu's BAR)
#                       are volatile by nature
#   COMPLEX_MACRO, MULTISTATEMENT_MACRO_USE_DO_WHILE, MACRO_WITH_FLOW_CONTROL
#                       kselftest_harness tables (FIXTURE_VARIANT_ADD lists)
#                       and timed-phase wrappers are macros that expand to
#                       declarations or must return from the caller
#   EMBEDDED_FUNCTION_NAME  a word of a message that happens to be the name
#                       of the function printing it ("help", "bad_input")
#   REPEATED_WORD       "old new new old old new" is the order of rounds
#   STATIC_CONST_CHAR_ARRAY  argv-style arrays are char *[] by type
IGNORE=VOLATILE,COMPLEX_MACRO,MULTISTATEMENT_MACRO_USE_DO_WHILE,MACRO_WITH_FLOW_CONTROL
IGNORE+=,EMBEDDED_FUNCTION_NAME,REPEATED_WORD,STATIC_CONST_CHAR_ARRAY

cd "$TOP" || exit 1
mapfile -t sh < <({ git ls-files '*.sh' .ci/run; git ls-files -o --exclude-standard '*.sh'; } | sort -u)
mapfile -t c < <({ git ls-files 'selftests/*.[ch]' 'tests/*.[ch]'; git ls-files -o --exclude-standard 'selftests/*.[ch]' 'tests/*.[ch]'; } | sort -u)
CHECKPATCH=${CHECKPATCH:-$TOP/build/linux-patched/scripts/checkpatch.pl}

plan 2
if command -v shellcheck >/dev/null; then
	out=$(shellcheck -S warning -x -P SCRIPTDIR "${sh[@]}" 2>&1); rc=$?
	ok $rc "lint.shellcheck" "$(printf '%s\n' "$out" | grep -E '^In |SC[0-9]+' | head -20)"
	echo "# shellcheck: ${#sh[@]} scripts"
else
	skip lint.shellcheck "shellcheck not installed (make deps)"
fi
if [ -x "$CHECKPATCH" ]; then
	out=""
	for f in "${c[@]}"; do
		out+=$("$CHECKPATCH" --no-tree --file --terse --show-types --ignore "$IGNORE" \
			"$TOP/$f" 2>&1 | grep -v '^total:' | sed "s|$TOP/||")
	done
	[ -z "$out" ]; ok $? "lint.checkpatch" "$(printf '%s\n' "$out" | head -20)"
	echo "# checkpatch (selftests profile): ${#c[@]} files"
else
	skip lint.checkpatch "no $CHECKPATCH (make check's tree stage makes it)"
fi
done_testing
