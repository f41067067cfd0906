// SPDX-License-Identifier: GPL-2.0
/*
 * qemu_create_test: real QEMU as the VMM.  Create a VM with nested KVM, the
 * vfio-pci devices of $VFIO_SELFTESTS_BDF (or the BDF arguments) and guest
 * RAM of a given size and backing, boot a kernel in it, and time it the way
 * Liang Li's talk (KVM Forum 2020) did: from QEMU's start to the guest
 * kernel's first log line, then on to guest user space.
 *
 * The guest runs a bzImage (-k) with an initramfs that this program writes:
 * its /init is a copy of this program (linked statically), which prints a
 * marker with the nonce the host put on the kernel command line and powers
 * the guest off.  earlyprintk puts the kernel's first line on the serial port
 * as soon as the kernel runs.
 *
 * What QEMU did comes from its own trace events ("log" backend, timestamps
 * on): vfio_listener_region_add_ram (a DMA MAP), vfio_listener_region_del
 * (an UNMAP), vfio_pci_reset (a reset QEMU asked for), and the firmware's
 * writes to the PAM registers (pci_cfg_write to the host bridge, 0x90-0x96).
 * What the kernel did: resets counted with kprobes on pcie_flr and
 * pci_bridge_secondary_bus_reset (on open, QEMU's own, on close), and pages
 * served pre-zeroed or cleared (/proc/vmstat).
 *
 * Results (fixed KTAP names; values on "#" lines):
 *   qemu_create.userspace   the guest reached user space and printed the nonce
 *   qemu_create.ram_mapped  at that moment the trace's MAPs, less its UNMAPs,
 *                           cover every byte of guest RAM above 1 MiB
 *   qemu_create.qemu_exit   QEMU exited 0 after the guest powered off
 * and with -X (patches/qemu's switches on), counted as vm_create_test counts:
 *   qemu_create.ram_mapped_once  no DMA UNMAP of guest RAM above 1 MiB
 *   qemu_create.resets_once      the kernel reset the devices exactly as often
 *                           as when this program opens and closes them itself
 *                           (a reset on open, and on close): QEMU asked for
 *                           no reset of its own at machine start
 *   qemu_create.parallel_resets  with the machine-start reset forced
 *                           (x-skip-open-reset=off) and two FLR devices or
 *                           more, x-parallel-reset=on makes the reset phase
 *                           (first vfio_pci_reset to the last device's
 *                           vfio_pci_reset_done) at most 0.6x as long as
 *                           off, with as many kernel-counted resets; the
 *                           shorter of two runs each way
 *   qemu_create.reset_nested  an FLR device at function 1 of a root port
 *                           whose function 0 is empty, x-parallel-reset=on:
 *                           the root port's reset powers the empty slot off
 *                           and so resets the device again inside the
 *                           machine reset's hold phase; every vfio_pci_reset
 *                           must reach its vfio_pci_reset_done (a machine
 *                           start and a system_reset, no guest)
 * One CSV row per run with -c (columns: see csv_header()).  Skips (exit 4)
 * with the reason when there is no /dev/kvm, no QEMU, no guest kernel, no
 * device or not enough memory; bad arguments: one line, exit 1.  QEMU is
 * killed if its serial port and trace stay silent and it stays idle (under
 * a fifth of a CPU) for -S seconds (progress, not a clock), and dies with
 * this program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "ktap_name.h"
#include "kprobe_count.h"
#include "prezero.h"
#include "sysutil.h"
#include "test_util.h"
#include "vfio_dev.h"

#define MARKER		"qemu_create: userspace "
#define NONCE_PARAM	"qemu_create_nonce"	/* no dot: the kernel hands it to init */
#define LOW_END		(1ULL << 20)		/* the legacy area ends here */
#define MAX_DEVS	8
#define MAX_RANGES	256
#define MAX_EXTRA	16			/* -a arguments */
#define PAM_FIRST	0x90			/* q35 host bridge: PAM0..PAM6 */
#define PAM_LAST	0x96
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
#define POWER_DOWN	"reboot: Power down"	/* KERN_EMERG: printed with quiet */

struct range {
	uint64_t start, end;			/* inclusive, as QEMU's trace prints */
};

static struct {
	uint64_t mem;
	const char *backing;
	bool prealloc;
	const char *qemu;
	const char *kernel;
	const char *csv;
	const char *label;
	int stall_s;
	char **bdfs;
	int nr_devs;
	bool fixes;				/* -X, -x: patches/qemu's switches on */
	bool fix_checks;			/* -X: and their checks and runs */
	const char *extra[MAX_EXTRA + 4];	/* -a: more QEMU arguments */
	int nr_extra;
} opt = {
	.mem = 512ULL << 20,
	.backing = "thp",
	.qemu = "qemu-system-x86_64",
	.stall_s = 120,
	.label = "run",
};

struct result {
	/* Seconds from QEMU's start; -1 if it did not happen. */
	double first_line, userspace, exited;
	double first_map, last_map, first_reset, last_reset;
	double resets_end;			/* the nr_devs-th vfio_pci_reset_done */
	double qemu_cpu;			/* user + system, QEMU and its threads */
	uint64_t maps, map_bytes, unmaps, unmap_bytes, high_unmaps;
	uint64_t pam_writes, vfio_resets, resets_done, flr_resets;
	int64_t kernel_resets;			/* -1: not counted */
	uint64_t prezero_skipped, prezero_cleared;
	uint64_t uncovered;			/* RAM above 1 MiB unmapped at the marker */
	bool got_marker;
	bool powered_off;			/* the guest kernel said so */
	int status;				/* QEMU's wait status */
	char why[256];				/* why there is no result, if so */
	char errlog[4200];			/* QEMU's stderr */
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int prezero_on(void)
{
	return !prezero_unavailable() && prezero_enabled();
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the guest: /init ------------------------------------------------------ */

static int guest_init(void)
{
	const char *nonce = getenv(NONCE_PARAM);

	printf("%s%s\n", MARKER, nonce ?: "(none)");
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 0;
}

/* ---- the initramfs: a newc cpio with /init ---------------------------------- */

static int cpio_entry(FILE *f, const char *name, unsigned int mode, const void *data,
		      size_t len)
{
	static unsigned int ino = 1;
	size_t namesz = strlen(name) + 1;
	static const char pad[4];

	fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		ino++, mode, 0, 0, 1, 0, len, 0, 0, 0, 0, namesz, 0);
	fwrite(name, 1, namesz, f);
	fwrite(pad, 1, (4 - (110 + namesz) % 4) % 4, f);
	if (len)
		fwrite(data, 1, len, f);
	fwrite(pad, 1, (4 - len % 4) % 4, f);
	return ferror(f) ? -EIO : 0;
}

/* Write an initramfs whose /init is this program. */
static int make_initramfs(const char *path)
{
	size_t len = 0, cap = 1 << 20;
	char *buf = malloc(cap);
	int fd = open("/proc/self/exe", O_RDONLY), r;
	ssize_t n;
	FILE *f;

	if (!buf || fd < 0) {
		r = -errno;
		free(buf);
		if (fd >= 0)
			close(fd);
		return r;
	}
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
	}
	close(fd);
	f = fopen(path, "w");
	if (!f) {
		free(buf);
		return -errno;
	}
	r = cpio_entry(f, "init", 0100755, buf, len) ?: cpio_entry(f, "TRAILER!!!", 0, NULL, 0);
	free(buf);
	if (fclose(f) && !r)
		r = -errno;
	return r;
}

/* The initramfs, written once per invocation; removed by restore(). */
static char initrd[] = "/tmp/qemu_create.XXXXXX";
static bool initrd_made;

static int initramfs_once(void)
{
	int fd, r;

	if (initrd_made)
		return 0;
	fd = mkstemp(initrd);
	if (fd < 0)
		return -errno;
	close(fd);
	initrd_made = true;
	r = make_initramfs(initrd);
	return r;
}

/* ---- the trace: what QEMU did ------------------------------------------------ */

/*
 * Add or remove [s, e] in the set of mapped ranges (kept disjoint, not
 * sorted; a removal may split a range).
 */
static void ranges_del(struct range *r, int *n, uint64_t s, uint64_t e);

/* Disjoint: what @s..@e overlaps goes first (a listener may map a range twice). */
static void ranges_add(struct range *r, int *n, uint64_t s, uint64_t e)
{
	ranges_del(r, n, s, e);
	TEST_ASSERT(*n < MAX_RANGES, "more than %d mapped ranges", MAX_RANGES);
	r[(*n)++] = (struct range){ s, e };
}

static void ranges_del(struct range *r, int *n, uint64_t s, uint64_t e)
{
	for (int i = 0; i < *n; i++) {
		struct range x = r[i];

		if (x.end < s || x.start > e)
			continue;
		r[i] = r[--(*n)];
		i--;
		if (x.start < s)
			ranges_add(r, n, x.start, s - 1);
		if (x.end > e)
			ranges_add(r, n, e + 1, x.end);
	}
}

/* Bytes of [s, e] that no range covers. */
static uint64_t ranges_uncovered(const struct range *r, int n, uint64_t s, uint64_t e)
{
	uint64_t covered = 0;

	for (int i = 0; i < n; i++) {
		uint64_t a = r[i].start > s ? r[i].start : s;
		uint64_t b = r[i].end < e ? r[i].end : e;

		if (a <= b)
			covered += b - a + 1;
	}
	return e - s + 1 - covered;
}

/*
 * Guest RAM as QEMU's q35 lays it out: up to lowmem below 4 GiB (2 GiB when
 * the guest has 2.75 GiB or more), the rest from 4 GiB.
 */
static uint64_t lowmem(void)
{
	return opt.mem >= 0xb0000000ULL ? 0x80000000ULL : opt.mem;
}

static uint64_t ram_uncovered(const struct range *r, int n)
{
	uint64_t u = ranges_uncovered(r, n, LOW_END, lowmem() - 1);

	if (opt.mem > lowmem())
		u += ranges_uncovered(r, n, 1ULL << 32, (1ULL << 32) + opt.mem - lowmem() - 1);
	return u;
}

/* Does [s, e] take in guest RAM above 1 MiB? */
static bool high_ram(uint64_t s, uint64_t e)
{
	return (s < lowmem() && e >= LOW_END) ||
	       (opt.mem > lowmem() && s < (1ULL << 32) + opt.mem - lowmem() && e >= 1ULL << 32);
}

/* The two numbers after the event name ("0x..."), if any. */
static int two_hex(const char *s, uint64_t *a, uint64_t *b)
{
	const char *p = strstr(s, "0x");

	if (!p)
		return 0;
	*a = strtoull(p, (char **)&p, 16);
	p = strstr(p, "0x");
	if (!p)
		return 1;
	*b = strtoull(p, NULL, 16);
	return 2;
}

/*
 * Read QEMU's trace ("PID@SEC.USEC:event args").  @t0: QEMU's start, and
 * @t_marker: when the guest's marker came (0: never), both CLOCK_REALTIME
 * as the log backend's timestamps are.
 */
static void read_trace(const char *path, double t0, double t_marker, struct result *res)
{
	static struct range mapped[MAX_RANGES];
	int nr_mapped = 0;
	bool measured = false;
	char line[1024];
	FILE *f = fopen(path, "r");

	res->first_map = res->last_map = res->first_reset = res->last_reset = -1;
	res->resets_end = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *at = strchr(line, '@'), *colon = at ? strchr(at, ':') : NULL;
		uint64_t a = 0, b = 0;
		double t;

		if (!at || !colon)
			continue;
		t = strtod(at + 1, NULL) - t0;
		if (t_marker && !measured && t + t0 >= t_marker) {
			res->uncovered = ram_uncovered(mapped, nr_mapped);
			measured = true;
		}
		colon++;
		if (!strncmp(colon, "vfio_listener_region_add_ram ", 29) &&
		    two_hex(colon, &a, &b) == 2) {
			res->maps++;
			res->map_bytes += b - a + 1;
			if (res->first_map < 0)
				res->first_map = t;
			res->last_map = t;
			ranges_add(mapped, &nr_mapped, a, b);
		} else if (!strncmp(colon, "vfio_listener_region_del ", 25) &&
			   two_hex(colon, &a, &b) == 2) {
			res->unmaps++;
			res->unmap_bytes += b - a + 1;
			res->high_unmaps += high_ram(a, b);
			ranges_del(mapped, &nr_mapped, a, b);
		} else if (!strncmp(colon, "vfio_pci_reset ", 15)) {
			res->vfio_resets++;
			if (res->first_reset < 0)
				res->first_reset = t;
			res->last_reset = t;
		} else if (!strncmp(colon, "vfio_pci_reset_flr ", 19)) {
			res->flr_resets++;
		} else if (!strncmp(colon, "vfio_pci_reset_done ", 20)) {
			/* A machine reset resets every device once. */
			if (++res->resets_done == (uint64_t)opt.nr_devs)
				res->resets_end = t;
		} else if (!strncmp(colon, "pci_cfg_write mch ", 18)) {
			char *reg = strstr(colon, "@0x");

			if (reg) {
				unsigned long r = strtoul(reg + 1, NULL, 16);

				res->pam_writes += r >= PAM_FIRST && r <= PAM_LAST;
			}
		}
	}
	if (t_marker && !measured)
		res->uncovered = ram_uncovered(mapped, nr_mapped);
	fclose(f);
}

/* ---- one run ------------------------------------------------------------------ */

static const char *backend(char *buf, size_t len)
{
	const char *pre = opt.prealloc ? ",prealloc=on" : "";

	if (!strcmp(opt.backing, "thp") || !strcmp(opt.backing, "4k"))
		snprintf(buf, len, "memory-backend-ram,id=ram0,size=%" PRIu64 "%s", opt.mem, pre);
	else if (!strcmp(opt.backing, "shmem"))
		snprintf(buf, len, "memory-backend-memfd,id=ram0,size=%" PRIu64 "%s", opt.mem, pre);
	else if (!strcmp(opt.backing, "hugetlb2m") || !strcmp(opt.backing, "hugetlb1g"))
		snprintf(buf, len, "memory-backend-memfd,id=ram0,size=%" PRIu64
			 ",hugetlb=on,hugetlbsize=%s%s", opt.mem,
			 opt.backing[7] == '2' ? "2M" : "1G", pre);
	else
		return NULL;
	return buf;
}

/* Start QEMU with its serial port on a pipe; the pid, or -errno. */
static pid_t start_qemu(const char *initrd, const char *trace, const char *nonce, int *serial,
			const char *errlog)
{
	char mem[32], be[256], append[256], dev[MAX_DEVS][64];
	const char *argv[96];
	int p[2], n = 0;
	pid_t pid;

	snprintf(mem, sizeof(mem), "%" PRIu64 "M", opt.mem >> 20);
	snprintf(append, sizeof(append),
		 "console=ttyS0 earlyprintk=serial,ttyS0,115200 quiet panic=-1 %s=%s", NONCE_PARAM,
		 nonce);
	const char * const head[] = {
		opt.qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-machine", opt.fixes ? "q35,accel=kvm,memory-backend=ram0,x-ram-apart-1m=on" :
					"q35,accel=kvm,memory-backend=ram0",
		"-cpu", "host",
		"-m", mem, "-object", backend(be, sizeof(be)),
	};
	const char * const tail[] = {
		"-kernel", opt.kernel, "-initrd", initrd, "-append", append,
		"-serial", "stdio", "-msg", "timestamp=on", "-D", trace,
		"-trace", "enable=vfio_listener_region_add_ram",
		"-trace", "enable=vfio_listener_region_del",
		"-trace", "enable=vfio_pci_reset*",
		"-trace", "enable=pci_cfg_write",
	};

	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		argv[n++] = head[i];
	for (int i = 0; i < opt.nr_devs; i++) {
		snprintf(dev[i], sizeof(dev[i]), "vfio-pci,host=%s", opt.bdfs[i]);
		argv[n++] = "-device";
		argv[n++] = dev[i];
	}
	for (size_t i = 0; i < ARRAY_SIZE(tail); i++)
		argv[n++] = tail[i];
	if (opt.fixes) {
		argv[n++] = "-global";
		argv[n++] = "vfio-pci.x-skip-open-reset=on";
	}
	for (int i = 0; i < opt.nr_extra; i++)
		argv[n++] = opt.extra[i];
	argv[n] = NULL;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(p[0]);
		close(p[1]);
		return e;
	}
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);
		int err = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* Nothing of QEMU outlives this program. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 0);
		/* Only the guest's serial port on the pipe: QEMU's warnings apart. */
		dup2(p[1], 1);
		dup2(err >= 0 ? err : null, 2);
		close(null);
		if (err >= 0)
			close(err);
		execvp(opt.qemu, (char **)argv);
		fprintf(stderr, "exec %s: %s\n", opt.qemu, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	*serial = p[0];
	return pid;
}

/*
 * Is QEMU busy: did it use a fifth of a CPU or more (utime + stime of
 * /proc/PID/stat) since the last call (@ticks, @when: its CPU time and the
 * time then)?  Pinning keeps a QEMU thread busy in the kernel; a QEMU whose
 * nested guest sits halted still wakes for its own timers, a few ticks a
 * minute: that is no progress.
 */
static bool qemu_cpu_busy(pid_t pid, unsigned long long *ticks, double *when)
{
	unsigned long long ut = 0, st = 0;
	double now = now_mono(), hz = sysconf(_SC_CLK_TCK);
	char path[64], buf[1024], *p;
	FILE *f;
	bool moved;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* After "pid (comm)": state is field 3, utime 14, stime 15. */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return false;
	moved = *when > 0 && (ut + st - *ticks) / hz >= 0.2 * (now - *when);
	*ticks = ut + st;
	*when = now;
	return moved;
}

static int64_t kernel_resets(struct kprobe_count *flr, struct kprobe_count *bus)
{
	uint64_t a = 0, b = 0;

	if (kprobe_count_read(flr, &a) || kprobe_count_read(bus, &b))
		return -1;
	return a + b;
}

/*
 * The resets the kernel does for the devices without QEMU: open them all
 * through one type1v2 container, as QEMU does, and close them again,
 * counting.  -1 if they could not be counted or opened.
 */
static int64_t open_close_resets(void)
{
	struct vfio_pci_dev *dev[MAX_DEVS] = {};
	struct kprobe_count flr = {}, bus = {};
	struct vfio_iommu *iommu = NULL;
	int64_t n = -1;
	int i;

	if (kprobe_count_start(&flr, "pcie_flr") ||
	    kprobe_count_start(&bus, "pci_bridge_secondary_bus_reset"))
		goto out;
	iommu = __vfio_iommu_init(VFIO_MODE_TYPE1V2);
	if (!iommu)
		goto out;
	for (i = 0; i < opt.nr_devs; i++) {
		dev[i] = __vfio_pci_open(iommu, opt.bdfs[i]);
		if (!dev[i]) {
			ksft_print_msg("opening %s: %s\n", opt.bdfs[i], strerror(errno));
			break;
		}
	}
	for (int j = i - 1; j >= 0; j--)
		vfio_pci_close(dev[j]);
	vfio_iommu_cleanup(iommu);
	if (i == opt.nr_devs)
		n = kernel_resets(&flr, &bus);
out:
	kprobe_count_stop(&flr);
	kprobe_count_stop(&bus);
	return n;
}

/*
 * Create the VM and wait for it to power off.  The serial output goes to
 * @log, each line stamped with its time from QEMU's start; QEMU's trace to
 * @trace_base.trace and its messages to @trace_base.stderr, both kept.
 */
static void run_once(struct result *res, FILE *log, const char *trace_base)
{
	char trace[4200], nonce[32];
	char line[512];
	uint64_t sk0 = 0, cl0 = 0, sk1 = 0, cl1 = 0;
	struct kprobe_count flr = {}, bus = {};
	double t0, t0_real, t_marker = 0, last_output;
	unsigned long long cpu_ticks = 0;
	double cpu_when = 0;
	size_t used = 0;
	struct rusage ru0, ru;
	bool counting;
	int serial = -1, r;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->first_line = res->userspace = res->exited = -1;
	res->first_map = res->last_map = res->first_reset = res->last_reset = -1;
	r = initramfs_once();
	if (r) {
		snprintf(res->why, sizeof(res->why), "writing the initramfs %s: %s", initrd,
			 strerror(-r));
		return;
	}
	snprintf(trace, sizeof(trace), "%s.trace", trace_base);
	snprintf(nonce, sizeof(nonce), "%08lx", random() & 0xffffffffUL);

	counting = !kprobe_count_start(&flr, "pcie_flr") &&
		   !kprobe_count_start(&bus, "pci_bridge_secondary_bus_reset");
	vmstat_read("prezero_alloc_skipped", &sk0);
	vmstat_read("prezero_alloc_cleared", &cl0);

	getrusage(RUSAGE_CHILDREN, &ru0);
	t0 = now_mono();
	t0_real = now_real();
	snprintf(res->errlog, sizeof(res->errlog), "%s.stderr", trace_base);
	unlink(trace);	/* never an earlier run's */
	pid = start_qemu(initrd, trace, nonce, &serial, res->errlog);
	if (pid < 0) {
		snprintf(res->why, sizeof(res->why), "starting %s: %s", opt.qemu, strerror(-pid));
		goto out;
	}
	last_output = t0;
	for (;;) {
		struct pollfd pfd = { .fd = serial, .events = POLLIN };
		ssize_t n;
		char *nl;

		r = poll(&pfd, 1, 1000);
		if (r == 0) {
			struct stat st;

			/*
			 * Progress: serial output, a growing trace, or a busy
			 * QEMU (one DMA map of a large guest pins for minutes
			 * with neither).
			 */
			if ((!stat(trace, &st) && st.st_mtime >= (time_t)now_real() - 1) ||
			    qemu_cpu_busy(pid, &cpu_ticks, &cpu_when))
				last_output = now_mono();
			if (now_mono() - last_output > opt.stall_s) {
				snprintf(res->why, sizeof(res->why),
					 "no serial output or trace for %d s (-S): QEMU killed",
					 opt.stall_s);
				kill(pid, SIGKILL);
				break;
			}
			continue;
		}
		n = read(serial, line + used, sizeof(line) - 1 - used);
		if (n > 0) {
			last_output = now_mono();
			used += n;
		}
		/* Whole lines; a full buffer or the end of the output flushes a part. */
		while ((nl = memchr(line, '\n', used)) || used == sizeof(line) - 1 ||
		       (n <= 0 && used)) {
			size_t len = nl ? (size_t)(nl - line) + 1 : used;
			double t = now_mono() - t0;

			if (res->first_line < 0)
				res->first_line = t;
			if (len > strlen(MARKER) + strlen(nonce) &&
			    !memcmp(line, MARKER, strlen(MARKER)) &&
			    !memcmp(line + strlen(MARKER), nonce, strlen(nonce))) {
				res->got_marker = true;
				res->userspace = t;
				t_marker = t0_real + t;
			}
			if (memmem(line, len, POWER_DOWN, strlen(POWER_DOWN)))
				res->powered_off = true;
			fprintf(log, "[%9.3f] ", t);
			fwrite(line, 1, len, log);
			if (!nl)
				fputc('\n', log);
			memmove(line, line + len, used - len);
			used -= len;
		}
		if (n <= 0)
			break;
	}
	close(serial);
	waitpid(pid, &res->status, 0);
	res->exited = now_mono() - t0;
	getrusage(RUSAGE_CHILDREN, &ru);
	res->qemu_cpu = (ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
			(ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
			(ru.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
			(ru.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	read_trace(trace, t0_real, t_marker, res);
out:
	res->kernel_resets = counting ? kernel_resets(&flr, &bus) : -1;
	kprobe_count_stop(&flr);
	kprobe_count_stop(&bus);
	vmstat_read("prezero_alloc_skipped", &sk1);
	vmstat_read("prezero_alloc_cleared", &cl1);
	res->prezero_skipped = sk1 - sk0;
	res->prezero_cleared = cl1 - cl0;
}

/* ---- report ------------------------------------------------------------------- */

/*
 * CSV: one row per run, these columns.  Times in seconds from QEMU's start
 * (-1: did not happen), counts from QEMU's trace and the kernel, as above.
 */
static const char * const csv_cols[] = {
	"label", "kernel", "prezero_enabled", "mem_mib", "backing", "prealloc", "devices",
	"first_line_s", "userspace_s", "exit_s", "qemu_cpu_s", "first_map_s", "last_map_s",
	"first_reset_s", "last_reset_s", "maps", "map_mib", "unmaps", "unmap_mib",
	"high_unmaps", "pam_writes", "qemu_resets", "kernel_resets", "prezero_skipped",
	"prezero_cleared", "ram_uncovered_kib", "userspace_reached", "qemu_status",
	"qemu_fixes",
};

static void csv_header(FILE *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(csv_cols); i++)
		fprintf(f, "%s%c", csv_cols[i], i + 1 < ARRAY_SIZE(csv_cols) ? ',' : '\n');
}

static void csv_quoted(FILE *f, const char *v)
{
	fputc('"', f);
	for (const char *c = v; *c; c++)
		fprintf(f, *c == '"' ? "\"\"" : "%c", *c);
	fputc('"', f);
}

static void csv_row(FILE *f, const struct result *r)
{
	const double times[] = { r->first_line, r->userspace, r->exited, r->qemu_cpu,
				 r->first_map, r->last_map, r->first_reset, r->last_reset };
	const uint64_t counts[] = { r->maps, r->map_bytes >> 20, r->unmaps, r->unmap_bytes >> 20,
				    r->high_unmaps, r->pam_writes, r->vfio_resets };

	const char *kver = getenv("VMTEST_KERNEL_VERSION") ?: "unknown";

	/* The label and the kernel's description (it has commas): quoted. */
	csv_quoted(f, opt.label);
	fputc(',', f);
	csv_quoted(f, kver);
	fprintf(f, ",%d,%" PRIu64 ",%s,%d,", prezero_on(), opt.mem >> 20, opt.backing,
		opt.prealloc);
	for (int i = 0; i < opt.nr_devs; i++)
		fprintf(f, "%s%s", i ? " " : "", opt.bdfs[i]);
	for (size_t i = 0; i < ARRAY_SIZE(times); i++)
		fprintf(f, ",%.3f", times[i]);
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++)
		fprintf(f, ",%" PRIu64, counts[i]);
	/* ram_uncovered_kib: -1 when the guest never got there to measure it. */
	fprintf(f, ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%d,%d,%d\n", r->kernel_resets,
		r->prezero_skipped, r->prezero_cleared,
		r->got_marker ? (int64_t)(r->uncovered >> 10) : -1, r->got_marker, r->status,
		opt.fixes);
}

static void print_run(const char *what, const struct result *r)
{
	ksft_print_msg("%s: first guest line %.3f s, user space %.3f s, QEMU exit %.3f s (status 0x%x), QEMU CPU %.3f s\n",
		       what, r->first_line, r->userspace, r->exited, r->status, r->qemu_cpu);
	ksft_print_msg("%s: DMA maps (RAM and BARs) %" PRIu64 " (%" PRIu64 " MiB) from %.3f to %.3f s, unmaps %" PRIu64
		       " (%" PRIu64 " MiB), %" PRIu64 " of them above 1 MiB; PAM writes %" PRIu64 "\n",
		       what, r->maps, r->map_bytes >> 20, r->first_map, r->last_map, r->unmaps,
		       r->unmap_bytes >> 20, r->high_unmaps, r->pam_writes);
	ksft_print_msg("%s: resets: QEMU %" PRIu64 " (%.3f to %.3f s), kernel %" PRId64
		       " (open, QEMU's, close); pages served pre-zeroed %" PRIu64 ", cleared %" PRIu64 "\n",
		       what, r->vfio_resets, r->first_reset, r->last_reset, r->kernel_resets,
		       r->prezero_skipped, r->prezero_cleared);
}

/*
 * What the test changes on the machine, put back on every way out: the
 * normal end, ksft_exit_*(), a failed TEST_ASSERT, the runner's SIGTERM;
 * and the initramfs goes.
 */
static struct {
	char thp[32];			/* THP's mode before -b 4k, "" if untouched */
	size_t hpage;			/* the pool grown, 0 if untouched */
	unsigned long pool;
	int prezero;			/* pre-zeroing before -P, -1 if untouched */
} saved = { .prezero = -1 };

static void restore(void)
{
	if (saved.thp[0])
		sys_write_str(THP_ENABLED, saved.thp);
	if (saved.hpage)
		hugetlb_pool_restore(saved.hpage, saved.pool);
	if (saved.prezero >= 0)
		prezero_set_enabled(saved.prezero);
	if (initrd_made)
		unlink(initrd);
	initrd_made = false;
	saved.thp[0] = 0;
	saved.hpage = 0;
	saved.prezero = -1;
}

static void on_signal(int sig)
{
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* "4G", "512M", "2048K" or bytes; 0 if it is none of those. */
static uint64_t size_arg(const char *a)
{
	char *end;
	uint64_t v = strtoull(a, &end, 10);
	int shift = !strcmp(end, "G") ? 30 : !strcmp(end, "M") ? 20 : !strcmp(end, "K") ? 10 :
		    !*end ? 0 : -1;

	if (end == a || shift < 0 || v > (UINT64_MAX >> shift))
		return 0;
	return v << shift;
}

/* Pre-zeroing as @on asks, waiting for kprezerod to catch up when on. */
static void set_prezero(bool on)
{
	const char *why = prezero_unavailable();
	int r;

	if (why)
		ksft_exit_skip("-P: %s\n", why);
	if (saved.prezero < 0)
		saved.prezero = prezero_enabled();
	r = prezero_set_enabled(on);
	if (r)
		ksft_exit_fail_msg("pre-zeroing %s: %s\n", on ? "on" : "off", strerror(-r));
	if (on) {
		double cpu = prezero_worker_cpu(), s = prezero_wait_caught_up(PREZERO_STALL_S);

		if (s < 0)
			ksft_exit_fail_msg("kprezerod made no progress for %d s\n", PREZERO_STALL_S);
		/* The background work that buys the run's saving, beside it. */
		ksft_print_msg("pre-zeroing on: kprezerod caught up after %.1f s, using %.1f s of CPU\n",
			       s, prezero_worker_cpu() - cpu);
	}
}

/* ---- the talk's sizes ------------------------------------------------------------ */

#define REFERENCE_RATIO	10.0	/* the talk: 38 s -> 3.3 s, ~2 min -> 4.4 s */
#define FLAT_RATIO	1.1	/* 4 devices vs 1, at 48 GiB with pre-zeroing on */

static bool fits(uint64_t gib, int devs, const char *name)
{
	uint64_t avail_kb = 0;

	meminfo_kb("MemAvailable", &avail_kb);
	if ((avail_kb >> 20) < gib + 4) {
		ksft_test_result_skip_named(name, "needs %" PRIu64 " GiB available (guest RAM + 4), this machine has %" PRIu64 " GiB\n",
					    gib + 4, avail_kb >> 20);
		return false;
	}
	if (opt.nr_devs < devs) {
		ksft_test_result_skip_named(name, "needs %d devices in VFIO_SELFTESTS_BDF, %d given\n",
					    devs, opt.nr_devs);
		return false;
	}
	if (prezero_unavailable()) {
		ksft_test_result_skip_named(name, "%s\n", prezero_unavailable());
		return false;
	}
	return true;
}

/* One creation of @gib GiB with the first @devs devices; pre-zeroing @on. */
static void reference_run(uint64_t gib, int devs, bool on, struct result *r, FILE *log,
			  const char *log_path)
{
	char base[4200], what[64];
	int nr = opt.nr_devs;

	opt.mem = gib << 30;
	opt.nr_devs = devs;
	set_prezero(on);
	snprintf(base, sizeof(base), "%s.%" PRIu64 "g-%ddev-%s", log_path, gib, devs,
		 on ? "on" : "off");
	ksft_print_msg("%" PRIu64 " GiB, %d device(s), pre-zeroing %s: starting QEMU\n", gib, devs,
		       on ? "on" : "off");
	run_once(r, log, base);
	snprintf(what, sizeof(what), "%" PRIu64 "g-%ddev-%s", gib, devs, on ? "on" : "off");
	print_run(what, r);
	opt.nr_devs = nr;
}

/*
 * --reference (-R): the talk's two creations with real QEMU, pre-zeroing
 * off then on in this boot; before >= 10 x after, QEMU start -> the guest's
 * first line.  The QEMU is whatever -q names: with Debian's, which has none
 * of the talk's VMM fixes, all of the saving is the kernel's.
 */
static void reference(FILE *log, const char *log_path)
{
	static const struct { const char *name; uint64_t gib; int devs; } ref[] = {
		{ "qemu_reference_48g_1dev", 48, 1 },
		{ "qemu_reference_192g_4dev", 192, 4 },
	};
	struct result off, on, on4;
	bool have_48g_on = false;
	struct result on1;

	ksft_set_plan(3);
	for (int i = 0; i < 2; i++) {
		double ratio;

		if (!fits(ref[i].gib, ref[i].devs, ref[i].name))
			continue;
		reference_run(ref[i].gib, ref[i].devs, false, &off, log, log_path);
		reference_run(ref[i].gib, ref[i].devs, true, &on, log, log_path);
		if (i == 0) {
			on1 = on;
			have_48g_on = on.got_marker;
		}
		ratio = on.first_line > 0 ? off.first_line / on.first_line : 0;
		ksft_print_msg("%s: first guest line %.3f s -> %.3f s (%.1fx; the talk: 38 s -> 3.3 s, ~2 min -> 4.4 s), all of it the kernel's with a QEMU without the talk's VMM fixes\n",
			       ref[i].name, off.first_line, on.first_line, ratio);
		if (!off.got_marker || !on.got_marker)
			ksft_test_result_fail("%s\n", ref[i].name);
		else if (timing_unreliable())
			ksft_test_result_skip_named(ref[i].name, "%s\n", timing_unreliable());
		else
			ksft_test_result(ratio >= REFERENCE_RATIO, "%s\n", ref[i].name);
	}
	if (!have_48g_on) {
		ksft_test_result_skip_named("qemu_reference_flat_devices",
					    "needs the 48 GiB, 1-device creation\n");
		return;
	}
	if (!fits(48, 4, "qemu_reference_flat_devices"))
		return;
	reference_run(48, 4, true, &on4, log, log_path);
	ksft_print_msg("qemu_reference_flat_devices: 48 GiB, pre-zeroing on: 1 device %.3f s, 4 devices %.3f s (%.2fx, at most %.1fx)\n",
		       on1.first_line, on4.first_line, on4.first_line / on1.first_line, FLAT_RATIO);
	if (!on4.got_marker)
		ksft_test_result_fail("qemu_reference_flat_devices\n");
	else if (timing_unreliable())
		ksft_test_result_skip_named("qemu_reference_flat_devices", "%s\n", timing_unreliable());
	else
		ksft_test_result(on4.first_line <= FLAT_RATIO * on1.first_line,
				 "qemu_reference_flat_devices\n");
}

/* ---- set-up and main ---------------------------------------------------------- */


static void usage(const char *name)
{
	printf("Usage: %s [options] [BDF...]\n"
	       "Create a VM with real QEMU (nested KVM, vfio-pci devices), boot a kernel in it\n"
	       "and time QEMU start -> first guest line -> guest user space; count DMA maps,\n"
	       "unmaps, resets and pre-zeroed pages.  BDFs from the arguments or\n"
	       "$VFIO_SELFTESTS_BDF (each bound to vfio-pci).\n"
	       "  -m SIZE     guest RAM [512M]\n"
	       "  -b BACKING  thp | 4k (anonymous, THP off for the run) | shmem | hugetlb2m |\n"
	       "              hugetlb1g [thp]\n"
	       "  -p          prealloc=on\n"
	       "  -P MODE     pre-zeroing for the run: keep (as it is), off, on (wait until\n"
	       "              kprezerod caught up), both (off, then on: one run each) [keep]\n"
	       "  -N          no device: the RAM-only baseline (BDFs ignored)\n"
	       "  -R          the talk's sizes: 48 GiB with the first device, 192 GiB with\n"
	       "              four, pre-zeroing off then on (needs the RAM: skips otherwise);\n"
	       "              off >= 10 x on; then 4 devices <= 1.1 x 1 at 48 GiB, on\n"
	       "  -k BZIMAGE  guest kernel [$VMTEST_TOP/build/obj-patched/arch/x86/boot/bzImage]\n"
	       "  -q QEMU     [qemu-system-x86_64]\n"
	       "  -X          the switches of patches/qemu on (make qemu; -q build/qemu/...):\n"
	       "              x-ram-apart-1m=on, vfio-pci.x-skip-open-reset=on; asserts that\n"
	       "              no RAM above 1 MiB was unmapped (qemu_create.ram_mapped_once),\n"
	       "              and that the kernel reset the devices as often as when\n"
	       "              this program opens and closes them (qemu_create.resets_once);\n"
	       "              then 4 more runs with the machine-start reset forced, serial\n"
	       "              and parallel: with 2 FLR devices or more, parallel's reset\n"
	       "              phase <= 0.6 x serial's (qemu_create.parallel_resets); an FLR\n"
	       "              device at function 1 of an empty slot, parallel: every reset\n"
	       "              completes (qemu_create.reset_nested)\n"
	       "  -x          the switches on as with -X, and only the runs -P asks for,\n"
	       "              none of -X's checks (for benches)\n"
	       "  -a ARG      one more QEMU argument (repeat for more)\n"
	       "  -c FILE     append a CSV row per run (header if the file is new)\n"
	       "  -l LABEL    the CSV's label column [run]\n"
	       "  -o FILE     the guest's serial output, each line stamped; QEMU's trace and\n"
	       "              messages of run N in FILE.N.trace and FILE.N.stderr\n"
	       "              [$VMTEST_RESULTS/qemu_create.log, else /tmp/qemu_create.log]\n"
	       "  -S SECONDS  kill QEMU after this long without serial output, trace or QEMU\n"
	       "              busy (a fifth of a CPU or more) [120]\n"
	       "  -h, --help  this help\n", name);
}

static bool in_path(const char *prog)
{
	char path[4096], *dirs, *d, *save;

	if (strchr(prog, '/'))
		return !access(prog, X_OK);
	dirs = strdup(getenv("PATH") ?: "/usr/bin:/bin");
	for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/%s", d, prog);
		if (!access(path, X_OK)) {
			free(dirs);
			return true;
		}
	}
	free(dirs);
	return false;
}

/* Does "QEMU -OPTION VALUE,help" (a device's or machine's properties) list PROP? */
static bool qemu_has_prop(const char *option, const char *value, const char *prop)
{
	char line[512];
	bool found = false;
	int p[2], status;
	pid_t pid;
	FILE *f;

	if (pipe2(p, O_CLOEXEC))
		return false;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (!pid) {
		char arg[128];
		int null = open("/dev/null", O_RDWR);

		snprintf(arg, sizeof(arg), "%s,help", value);
		dup2(null, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execlp(opt.qemu, opt.qemu, option, arg, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && fgets(line, sizeof(line), f))
		found |= !!strstr(line, prop);
	if (f)
		fclose(f);
	else
		close(p[0]);
	waitpid(pid, &status, 0);
	return found;
}

static void bad_arg(const char *name, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", name);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(KSFT_FAIL);
}

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ }
};

#define PARALLEL_RATIO	0.6

/*
 * qemu_create.parallel_resets (-X, a QEMU with x-parallel-reset): QEMU resets
 * the devices at machine start (x-skip-open-reset=off), one after the other
 * (x-parallel-reset=off) or all at once (on); two runs each way,
 * alternating.  The reset phase is from the first vfio_pci_reset to the
 * nr_devs-th vfio_pci_reset_done.  Returns KSFT_PASS, KSFT_FAIL or KSFT_SKIP
 * (@why set).
 */
static int parallel_resets(FILE *log, const char *log_path, char *why, size_t len)
{
	static const char * const sw[] = { "off", "on" };
	static const char * const prop[] = {
		"vfio-pci.x-parallel-reset=off", "vfio-pci.x-parallel-reset=on",
	};
	double phase[2] = { -1, -1 };
	int64_t kres = -2;
	uint64_t flrs = UINT64_MAX;
	bool ok = true;
	char base[4096 + 32];

	for (int run = 0; run < 4; run++) {
		int on = run & 1, n = opt.nr_extra;
		struct result r;
		double p;

		opt.extra[opt.nr_extra++] = "-global";
		opt.extra[opt.nr_extra++] = "vfio-pci.x-skip-open-reset=off";
		opt.extra[opt.nr_extra++] = "-global";
		opt.extra[opt.nr_extra++] = prop[on];
		snprintf(base, sizeof(base), "%s.resets-%s-%d", log_path, sw[on], run / 2 + 1);
		run_once(&r, log, base);
		opt.nr_extra = n;

		p = r.first_reset >= 0 && r.resets_end >= 0 ? r.resets_end - r.first_reset : -1;
		ksft_print_msg("x-parallel-reset=%s: reset phase %.3f s (%.3f to %.3f s), %" PRIu64
			       " FLRs, %" PRIu64 " of %d devices done; kernel resets %" PRId64 "%s%s\n",
			       sw[on], p, r.first_reset, r.resets_end, r.flr_resets, r.resets_done,
			       opt.nr_devs, r.kernel_resets, r.why[0] ? "; " : "", r.why);
		if (!r.got_marker || p < 0 || r.kernel_resets < 0) {
			ok = false;
			continue;
		}
		/* The same resets either way, only at once: counted by the kernel. */
		if (kres != -2 && r.kernel_resets != kres) {
			ksft_print_msg("kernel resets differ between runs: %" PRId64 " and %" PRId64 "\n",
				       kres, r.kernel_resets);
			ok = false;
		}
		kres = r.kernel_resets;
		flrs = r.flr_resets < flrs ? r.flr_resets : flrs;
		if (phase[on] < 0 || p < phase[on])
			phase[on] = p;
	}
	if (!ok)
		return KSFT_FAIL;
	if (flrs < 2) {
		snprintf(why, len, "%" PRIu64 " FLR device(s): nothing to overlap\n", flrs);
		return KSFT_SKIP;
	}
	ksft_print_msg("reset phase, shorter of two runs: off %.3f s, on %.3f s (%.2fx, at most %.1fx)\n",
		       phase[0], phase[1], phase[1] / phase[0], PARALLEL_RATIO);
	return phase[1] <= PARALLEL_RATIO * phase[0] ? KSFT_PASS : KSFT_FAIL;
}

/*
 * qemu_create.reset_nested (-X): see the top.  QEMU stops before the guest
 * runs (-S); its monitor on stdin gets "system_reset" and "quit".
 */
static int reset_nested(const char *log_path, char *why, size_t len)
{
	char path[4096 + 32], rm[64], dev[128];
	const char *bdf = NULL;
	struct result r = {};
	int p[2], status;
	pid_t pid;

	for (int i = 0; i < opt.nr_devs && !bdf; i++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method", opt.bdfs[i]);
		if (!sys_read_str(path, rm, sizeof(rm)) && strstr(rm, "flr"))
			bdf = opt.bdfs[i];
	}
	if (!bdf) {
		snprintf(why, len, "no device with FLR in its reset_method\n");
		return KSFT_SKIP;
	}
	snprintf(dev, sizeof(dev), "vfio-pci,host=%s,bus=rp1,addr=0.1,x-parallel-reset=on,x-skip-open-reset=off",
		 bdf);
	snprintf(path, sizeof(path), "%s.nested.trace", log_path);
	unlink(path);
	if (pipe2(p, O_CLOEXEC))
		return KSFT_FAIL;
	pid = fork();
	if (pid < 0)
		return KSFT_FAIL;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[0], STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execlp(opt.qemu, opt.qemu, "-nodefaults", "-no-user-config", "-display", "none",
		       "-machine", "q35,accel=kvm", "-m", "256M",
		       "-device", "pcie-root-port,id=rp1,chassis=9,slot=9", "-device", dev,
		       "-S", "-monitor", "stdio", "-msg", "timestamp=on", "-D", path,
		       "-trace", "enable=vfio_pci_reset*", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	/* The monitor reads these once QEMU is up; the pipe's end makes it quit too. */
	if (write(p[1], "system_reset\nquit\n", 18) != 18)
		ksft_print_msg("reset_nested: writing to QEMU's monitor: %s\n", strerror(errno));
	close(p[1]);
	waitpid(pid, &status, 0);
	read_trace(path, 0, 0, &r);
	ksft_print_msg("reset_nested: %s at function 1 of an empty slot: vfio_pci_reset %" PRIu64
		       ", vfio_pci_reset_done %" PRIu64 ", QEMU status 0x%x (trace %s)\n",
		       bdf, r.vfio_resets, r.resets_done, status, path);
	return WIFEXITED(status) && !WEXITSTATUS(status) && r.vfio_resets >= 2 &&
	       r.resets_done == r.vfio_resets ? KSFT_PASS : KSFT_FAIL;
}

int main(int argc, char *argv[])
{
	static char kernel[4096];
	const char *mode = "keep", *log_path = NULL;
	static char log_default[4096], trace_base[4096 + 16];
	struct result res[2];
	size_t hpage = 0;
	bool ok_user = true, ok_map = true, ok_exit = true, ok_once = true, no_dev = false;
	bool ok_resets = true;
	int64_t own_resets = -1;
	int parallel = KSFT_SKIP, nested = KSFT_SKIP;
	char parallel_why[256] = "", nested_why[256] = "";
	bool reference_mode = false;
	uint64_t avail_kb = 0;
	int c, r, nr_runs;
	FILE *log;

	/* The guest's /init: PID 1 with the nonce the host put there. */
	if (getpid() == 1 && getenv(NONCE_PARAM))
		return guest_init();

	opt.nr_devs = vfio_selftests_get_bdfs(&argc, argv, &opt.bdfs);
	while ((c = getopt_long(argc, argv, "m:b:pP:NRk:q:Xxa:c:l:o:S:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			opt.mem = size_arg(optarg);
			if (!opt.mem || opt.mem % (2ULL << 20))
				bad_arg(argv[0], "-m %s: must be a non-zero multiple of 2M", optarg);
			break;
		case 'b':
			opt.backing = optarg;
			break;
		case 'p':
			opt.prealloc = true;
			break;
		case 'P':
			mode = optarg;
			if (strcmp(mode, "keep") && strcmp(mode, "off") && strcmp(mode, "on") &&
			    strcmp(mode, "both"))
				bad_arg(argv[0], "-P %s: keep, off, on or both", optarg);
			break;
		case 'N':
			no_dev = true;
			break;
		case 'R':
			reference_mode = true;
			break;
		case 'k':
			opt.kernel = optarg;
			break;
		case 'q':
			opt.qemu = optarg;
			break;
		case 'X':
			opt.fix_checks = true;
			opt.fixes = true;
			break;
		case 'x':
			opt.fixes = true;
			break;
		case 'a':
			if (opt.nr_extra == MAX_EXTRA)
				bad_arg(argv[0], "-a %s: at most 16 more QEMU arguments", optarg);
			opt.extra[opt.nr_extra++] = optarg;
			break;
		case 'c':
			opt.csv = optarg;
			break;
		case 'l':
			opt.label = optarg;
			break;
		case 'o':
			log_path = optarg;
			break;
		case 'S':
			opt.stall_s = atoi(optarg);
			if (opt.stall_s <= 0)
				bad_arg(argv[0], "-S %s: a number of seconds", optarg);
			break;
		case 'h':
			usage(argv[0]);
			return KSFT_PASS;
		default:
			usage(argv[0]);
			return KSFT_FAIL;
		}
	}
	if (optind < argc)
		bad_arg(argv[0], "'%s': not an option nor a PCI address (DDDD:BB:DD.F)", argv[optind]);
	{
		char be[256];

		if (!backend(be, sizeof(be)))
			bad_arg(argv[0], "-b %s: thp, 4k, shmem, hugetlb2m or hugetlb1g", opt.backing);
	}
	if (no_dev)
		opt.nr_devs = 0;
	if (opt.nr_devs > MAX_DEVS)
		bad_arg(argv[0], "%s: at most 8 devices", "BDF");
	for (int i = 0; i < opt.nr_devs; i++) {
		char drv[64];
		int r = vfio_bdf_driver(opt.bdfs[i], drv, sizeof(drv));

		if (r == -ENODEV)
			bad_arg(argv[0], "%s: no such PCI device", opt.bdfs[i]);
		if (strcmp(drv, "vfio-pci")) {
			fprintf(stderr, "%s: %s is bound to '%s', not vfio-pci\n", argv[0],
				opt.bdfs[i], drv[0] ? drv : "(no driver)");
			return KSFT_FAIL;
		}
	}
	if (!opt.kernel && getenv("VMTEST_TOP")) {
		snprintf(kernel, sizeof(kernel), "%s/build/obj-patched/arch/x86/boot/bzImage",
			 getenv("VMTEST_TOP"));
		opt.kernel = kernel;
	}

	if (!strncmp(opt.backing, "hugetlb", 7)) {
		hpage = opt.backing[7] == '2' ? 2UL << 20 : 1UL << 30;
		if (opt.mem % hpage)
			bad_arg(argv[0], "-m: not a multiple of the %s huge page size", opt.backing);
	}
	if (reference_mode && strcmp(opt.backing, "thp"))
		bad_arg(argv[0], "-R: THP guest RAM only, not %s", opt.backing);
	atexit(restore);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	ksft_print_header();
	if (!reference_mode && strcmp(mode, "keep") && prezero_unavailable())
		ksft_exit_skip("-P: %s\n", prezero_unavailable());
	if (access("/dev/kvm", R_OK | W_OK))
		ksft_exit_skip("no /dev/kvm: QEMU needs KVM here\n");
	if (!in_path(opt.qemu))
		ksft_exit_skip("%s not found (apt install qemu-system-x86, or -q)\n", opt.qemu);
	if (opt.fixes && (!qemu_has_prop("-device", "vfio-pci", "x-skip-open-reset") ||
			  !qemu_has_prop("-machine", "q35", "x-ram-apart-1m")))
		ksft_exit_skip("-X: %s lacks the switches of patches/qemu (make qemu, then -q build/qemu/qemu-system-x86_64)\n",
			       opt.qemu);
	if (!opt.kernel || access(opt.kernel, R_OK))
		ksft_exit_skip("no guest kernel %s (make kernel, or -k)\n",
			       opt.kernel ?: "($VMTEST_TOP unset)");
	if (!opt.nr_devs && !no_dev && !reference_mode)
		ksft_exit_skip("no device: pass BDFs or set VFIO_SELFTESTS_BDF (bound to vfio-pci)\n");
	if (!log_path) {
		/* Kept with the runner's results when there are any. */
		snprintf(log_default, sizeof(log_default), "%s/qemu_create.log",
			 getenv("VMTEST_RESULTS") ?: "/tmp");
		log_path = log_default;
	}
	if (reference_mode) {
		log = fopen(log_path, "we");
		if (!log)
			ksft_exit_fail_msg("%s: %s\n", log_path, strerror(errno));
		setvbuf(log, NULL, _IOLBF, 0);
		srandom(getpid() ^ time(NULL));
		reference(log, log_path);
		fclose(log);
		if (ksft_cnt.ksft_xskip == ksft_plan) {
			ksft_print_cnts();
			exit(KSFT_SKIP);
		}
		ksft_finished();
	}
	meminfo_kb("MemAvailable", &avail_kb);
	if (hpage) {
		r = hugetlb_pool_ensure(hpage, opt.mem / hpage, &saved.pool);
		saved.hpage = hpage;	/* grown even when it then failed */
		if (r)
			ksft_exit_skip("%" PRIu64 " MiB of %s pages: the pool cannot hold them\n",
				       opt.mem >> 20, opt.backing);
	} else if (opt.mem + (256ULL << 20) > (avail_kb << 10)) {
		ksft_exit_skip("%" PRIu64 " MiB of guest RAM: only %" PRIu64 " MiB available\n",
			       opt.mem >> 20, avail_kb >> 10);
	}
	log = fopen(log_path, "we");
	if (!log)
		ksft_exit_fail_msg("%s: %s\n", log_path, strerror(errno));
	setvbuf(log, NULL, _IOLBF, 0);

	ksft_set_plan(3 + 4 * (opt.fix_checks && opt.nr_devs));
	if (opt.fix_checks && opt.nr_devs) {
		own_resets = open_close_resets();
		ksft_print_msg("the kernel's own resets of the %d device(s), opened and closed without QEMU: %" PRId64 "\n",
			       opt.nr_devs, own_resets);
	}
	ksft_print_msg("QEMU: %s; guest: %" PRIu64 " MiB %s%s, %d device(s) %s%s, kernel %s\n",
		       opt.qemu, opt.mem >> 20, opt.backing, opt.prealloc ? " prealloc" : "",
		       opt.nr_devs, opt.nr_devs ? opt.bdfs[0] : "", opt.nr_devs > 1 ? " ..." : "",
		       opt.kernel);
	if (!strcmp(opt.backing, "4k")) {
		char cur[64], *b, *e;

		/* "always [madvise] never": the bracketed one is in force. */
		if (sys_read_str(THP_ENABLED, cur, sizeof(cur)))
			cur[0] = 0;
		b = strchr(cur, '[');
		e = b ? strchr(b, ']') : NULL;
		if (!e)
			ksft_exit_fail_msg("-b 4k: cannot read %s\n", THP_ENABLED);
		*e = 0;
		snprintf(saved.thp, sizeof(saved.thp), "%s", b + 1);
		if (sys_write_str(THP_ENABLED, "never"))
			ksft_exit_fail_msg("-b 4k: cannot turn THP off in %s\n", THP_ENABLED);
	}
	srandom(getpid() ^ time(NULL));

	nr_runs = !strcmp(mode, "both") ? 2 : 1;
	for (int i = 0; i < nr_runs; i++) {
		const char *what = !strcmp(mode, "both") ? (i ? "on" : "off") : mode;

		if (strcmp(what, "keep"))
			set_prezero(!strcmp(what, "on"));
		ksft_print_msg("run %d/%d (pre-zeroing %s): starting QEMU\n", i + 1, nr_runs,
			       prezero_on() ? "on" : "off");
		snprintf(trace_base, sizeof(trace_base), "%s.%d", log_path, i + 1);
		run_once(&res[i], log, trace_base);
		if (res[i].why[0])
			ksft_print_msg("run %d: %s\n", i + 1, res[i].why);
		print_run(what, &res[i]);
		ok_user &= res[i].got_marker;
		ok_once &= res[i].got_marker && !res[i].high_unmaps;
		ok_resets &= res[i].got_marker && own_resets >= 0 &&
			     res[i].kernel_resets == own_resets;
		if (opt.fix_checks && opt.nr_devs && res[i].kernel_resets != own_resets)
			ksft_print_msg("run %d: the kernel counted %" PRId64 " resets, %" PRId64 " without QEMU\n",
				       i + 1, res[i].kernel_resets, own_resets);
		ok_map &= res[i].got_marker && res[i].maps && !res[i].uncovered;
		/* QEMU exits 0 on a guest panic too (-no-reboot): power-off it must be. */
		ok_exit &= WIFEXITED(res[i].status) && !WEXITSTATUS(res[i].status) &&
			   res[i].powered_off && !res[i].why[0];
		if (!res[i].powered_off)
			ksft_print_msg("run %d: no \"%s\" from the guest\n", i + 1, POWER_DOWN);
		if (!WIFEXITED(res[i].status) || WEXITSTATUS(res[i].status)) {
			FILE *e = fopen(res[i].errlog, "r");
			char l[256];

			for (int n = 0; e && n < 5 && fgets(l, sizeof(l), e); n++)
				ksft_print_msg("QEMU: %s", l);
			if (e)
				fclose(e);
		}
		if (!res[i].got_marker)
			ksft_print_msg("run %d: no marker with nonce from the guest (serial log: %s)\n",
				       i + 1, log_path);
		else if (res[i].uncovered)
			ksft_print_msg("run %d: %" PRIu64 " KiB of guest RAM above 1 MiB not DMA-mapped when the guest reached user space\n",
				       i + 1, res[i].uncovered >> 10);
		if (opt.csv) {
			bool fresh = access(opt.csv, F_OK);
			FILE *f = fopen(opt.csv, "a");

			if (!f)
				ksft_exit_fail_msg("%s: %s\n", opt.csv, strerror(errno));
			if (fresh)
				csv_header(f);
			csv_row(f, &res[i]);
			fclose(f);
		}
	}
	if (nr_runs == 2 && res[0].userspace > 0 && res[1].userspace > 0)
		ksft_print_msg("on/off: first guest line %.2fx, user space %.2fx (reported, not asserted)\n",
			       res[1].first_line / res[0].first_line,
			       res[1].userspace / res[0].userspace);
	if (opt.fix_checks && opt.nr_devs && qemu_has_prop("-device", "vfio-pci", "x-parallel-reset")) {
		parallel = parallel_resets(log, log_path, parallel_why, sizeof(parallel_why));
		nested = reset_nested(log_path, nested_why, sizeof(nested_why));
	} else {
		snprintf(parallel_why, sizeof(parallel_why), "%s has no vfio-pci.x-parallel-reset\n",
			 opt.qemu);
		snprintf(nested_why, sizeof(nested_why), "%s", parallel_why);
	}
	fclose(log);
	restore();

	ksft_test_result(ok_user, "qemu_create.userspace\n");
	if (opt.nr_devs)
		ksft_test_result(ok_map, "qemu_create.ram_mapped\n");
	else
		ksft_test_result_skip_named("qemu_create.ram_mapped",
					    "no device: nothing is DMA-mapped\n");
	ksft_test_result(ok_exit, "qemu_create.qemu_exit\n");
	if (opt.fix_checks && opt.nr_devs) {
		ksft_test_result(ok_once, "qemu_create.ram_mapped_once\n");
		ksft_test_result(ok_resets, "qemu_create.resets_once\n");
		if (parallel == KSFT_SKIP)
			ksft_test_result_skip_named("qemu_create.parallel_resets", "%s", parallel_why);
		else
			ksft_test_result(parallel == KSFT_PASS, "qemu_create.parallel_resets\n");
		if (nested == KSFT_SKIP)
			ksft_test_result_skip_named("qemu_create.reset_nested", "%s", nested_why);
		else
			ksft_test_result(nested == KSFT_PASS, "qemu_create.reset_nested\n");
	}
	ksft_finished();
}
