// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel function hit counts through kprobe events.  See kprobe_count.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

#include "kprobe_count.h"
#include "sysutil.h"

#define GROUP "vmct"

static const char *tracefs(void)
{
	static const char * const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

	for (int i = 0; i < 2; i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/kprobe_events", dirs[i]);
		if (!access(path, W_OK))
			return dirs[i];
	}
	/* Not mounted yet: tracefs can be mounted at its usual place. */
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	    !access("/sys/kernel/tracing/kprobe_events", W_OK))
		return "/sys/kernel/tracing";
	return NULL;
}

/*
 * kprobe_events takes one definition per write; O_APPEND keeps the others.
 * Plain write(2): stdio's append mode seeks first, which this file refuses.
 */
static int append(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

int kprobe_count_start(struct kprobe_count *k, const char *symbol)
{
	const char *t = tracefs();
	char path[256], def[256];
	int r;

	memset(k, 0, sizeof(*k));
	if (!t)
		return -ENOENT;
	snprintf(k->event, sizeof(k->event), "vmct_%s_%d", symbol, getpid());
	snprintf(path, sizeof(path), "%s/kprobe_events", t);
	snprintf(def, sizeof(def), "p:%s/%s %s\n", GROUP, k->event, symbol);
	r = append(path, def);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/events/%s/%s/enable", t, GROUP, k->event);
	r = sys_write_str(path, "1");
	if (r) {
		kprobe_count_stop(k);
		return r;
	}
	k->armed = true;
	return 0;
}

int kprobe_count_read(struct kprobe_count *k, uint64_t *hits)
{
	const char *t = tracefs();
	char path[256], line[256], name[128];
	unsigned long long nhit, nmiss;
	int r = -ENOENT;
	FILE *f;

	if (!t || !k->armed)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/kprobe_profile", t);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %llu %llu", name, &nhit, &nmiss) == 3 &&
		    !strcmp(name, k->event)) {
			*hits = nhit;
			r = nmiss ? -EOVERFLOW : 0;
			break;
		}
	}
	fclose(f);
	return r;
}

void kprobe_count_stop(struct kprobe_count *k)
{
	const char *t = tracefs();
	char path[256], def[256];

	if (!t || !k->event[0])
		return;
	snprintf(path, sizeof(path), "%s/events/%s/%s/enable", t, GROUP, k->event);
	sys_write_str(path, "0");
	snprintf(path, sizeof(path), "%s/kprobe_events", t);
	snprintf(def, sizeof(def), "-:%s/%s\n", GROUP, k->event);
	append(path, def);
	k->armed = false;
	k->event[0] = 0;
}
