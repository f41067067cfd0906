/* SPDX-License-Identifier: GPL-2.0 */
/*
 * main() helper for kselftest_harness tests that take a few options of their
 * own: "-X SIZE" options are taken out of argv before the harness sees it,
 * and "-h"/"--help" prints the test's usage, then the harness's.  Trailing
 * BDF arguments are for vfio_selftests_get_bdfs(), called beforehand.
 *
 * Header-only: kselftest_harness.h defines global symbols and may be
 * included by one file only, the test, which includes this after it.
 */
#ifndef SELFTESTS_SUITE_MAIN_H
#define SELFTESTS_SUITE_MAIN_H

#ifndef __KSELFTEST_HARNESS_H
#error "include kselftest_harness.h before suite_main.h"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

struct suite_opt {
	const char *flag;	/* e.g. "-s" */
	const char *help;	/* one line */
	size_t *size;		/* parse_size() of the argument */
	size_t multiple;	/* the value must be a non-zero multiple of this */
};

/*
 * Parse @opts out of argv (exit 1 with a message on a bad value); on
 * -h/--help print @usage, the options and the harness's help, and exit 0.
 * Returns true if the harness was asked to list tests (-l), when a test
 * should not check its prerequisites.
 */
static inline bool suite_parse(int *argc, char *argv[], const struct suite_opt *opts,
			       int nopts, const char *usage)
{
	bool listing = false;
	int i, j, k;

	for (i = 1, j = 1; i < *argc; i++) {
		for (k = 0; k < nopts; k++)
			if (!strcmp(argv[i], opts[k].flag) && i + 1 < *argc)
				break;
		if (k < nopts) {
			size_t v = parse_size(argv[++i]);

			if (!v || (opts[k].multiple && v % opts[k].multiple)) {
				fprintf(stderr, "%s: %s %s: must be a non-zero multiple of %zu\n",
					argv[0], opts[k].flag, argv[i], opts[k].multiple);
				exit(KSFT_FAIL);
			}
			*opts[k].size = v;
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			char *harness_help[] = { argv[0], "-h", NULL };

			printf("%s", usage);
			for (k = 0; k < nopts; k++)
				printf("  %-8s %s\n", opts[k].flag, opts[k].help);
			printf("Harness options (-l lists the tests, -t/-v/-f select them) follow:\n");
			fflush(stdout);
			test_harness_run(2, harness_help);
			exit(KSFT_PASS);
		}
		if (!strcmp(argv[i], "-l"))
			listing = true;
		argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
	return listing;
}

/*
 * Raise every registered test's harness timeout to at least @seconds.  For
 * tests whose pass/fail criterion is progress (they fail when the work stops
 * moving, not when a clock runs out): the harness's alarm then only catches
 * a hang, sized by the caller to the amount of work.
 */
static inline void suite_raise_timeouts(int seconds)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			if (t->timeout < seconds)
				t->timeout = seconds;
}

#endif /* SELFTESTS_SUITE_MAIN_H */
