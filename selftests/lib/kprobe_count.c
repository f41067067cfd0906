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

/* The hit count of event @name in kprobe_profile. */
static int profile_hits(const char *t, const char *name, uint64_t *hits)
{
	char path[256], line[256], ev[128];
	unsigned long long nhit, nmiss;
	int r = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kprobe_profile", t);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %llu %llu", ev, &nhit, &nmiss) == 3 && !strcmp(ev, name)) {
			*hits = nhit;
			r = nmiss ? -EOVERFLOW : 0;
			break;
		}
	}
	fclose(f);
	return r;
}

int kprobe_count_start(struct kprobe_count *k, const char *symbol)
{
	const char *t = tracefs();
	char path[256], def[256];
	int r;

	memset(k, 0, sizeof(*k));
	if (!t)
		return -ENOENT;
	k->keep = getenv("KPROBE_COUNT_KEEP") && *getenv("KPROBE_COUNT_KEEP") == '1';
	if (k->keep)
		snprintf(k->event, sizeof(k->event), "vmct_%s", symbol);
	else
		snprintf(k->event, sizeof(k->event), "vmct_%s_%d", symbol, getpid());
	snprintf(path, sizeof(path), "%s/events/%s/%s/enable", t, GROUP, k->event);
	if (access(path, F_OK)) {
		snprintf(def, sizeof(def), "%s/kprobe_events", t);
		snprintf(path, sizeof(path), "p:%s/%s %s\n", GROUP, k->event, symbol);
		r = append(def, path);
		if (r)
			return r;
		k->created = true;
		snprintf(path, sizeof(path), "%s/events/%s/%s/enable", t, GROUP, k->event);
	}
	r = sys_write_str(path, "1");
	if (!r)
		r = profile_hits(t, k->event, &k->base);
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
	int r;

	if (!t || !k->armed)
		return -ENOENT;
	r = profile_hits(t, k->event, hits);
	if (!r)
		*hits -= k->base;
	return r;
}

void kprobe_count_stop(struct kprobe_count *k)
{
	const char *t = tracefs();
	char path[256], def[256];

	if (!t || !k->event[0])
		return;
	/* Kept: later counts go on from this one, without patching text again. */
	if (k->keep)
		goto out;
	snprintf(path, sizeof(path), "%s/events/%s/%s/enable", t, GROUP, k->event);
	sys_write_str(path, "0");
	snprintf(path, sizeof(path), "%s/kprobe_events", t);
	snprintf(def, sizeof(def), "-:%s/%s\n", GROUP, k->event);
	if (k->created)
		append(path, def);
out:
	k->armed = false;
	k->event[0] = 0;
}
