/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KTAP results with fixed names.  CI systems (KernelCI, LKFT) track a test's
 * history by its name, so a name is a fixed string: measured values go on
 * "# " diagnostic lines before the result, never into the name.
 *
 * kselftest.h's ksft_test_result_skip() prints no name ("ok N # SKIP why");
 * ksft_test_result_skip_named() prints "ok N NAME # SKIP why".
 *
 * Header-only, after kselftest.h: it uses that file's per-file counters.
 */
#ifndef SELFTESTS_KTAP_NAME_H
#define SELFTESTS_KTAP_NAME_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#ifndef __KSELFTEST_H
#error "include kselftest.h (or kselftest_harness.h) before ktap_name.h"
#endif

static inline __printf(2, 3)
void ksft_test_result_skip_named(const char *name, const char *why, ...)
{
	int saved_errno = errno;
	va_list args;

	ksft_cnt.ksft_xskip++;
	va_start(args, why);
	printf("ok %u %s # SKIP ", ksft_test_num(), name);
	errno = saved_errno;
	vprintf(why, args);
	va_end(args);
}

#endif /* SELFTESTS_KTAP_NAME_H */
