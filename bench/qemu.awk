# SPDX-License-Identifier: GPL-2.0
# Real-QEMU section of report.md, from raw/<boot>/qemu.csv (bench/guest-bench.sh
# section 6; the columns are qemu_create_test's, csv_header()).  Labels are
# "<qemu>:<group>", qemu debian or patched, group ram-<size>-<backing> or
# devices-<n>.  Medians of the runs that reached guest user space.  mawk: the
# two quoted leading fields (label, kernel) are taken off before splitting.
#
# fmt() and ratio() come from results.awk.  With -v data=DIR it also writes
# DIR/qemu.tsv (column, group, runs, median, min, max of first_line_s: the
# cover letter's numbers) and DIR/qemu-ram.dat (a gnuplot block per backing:
# GiB, then the median of each of the four columns, "-" where none ran).
#
# Usage: awk -f results.awk -f qemu.awk [-v data=DIR] raw/*/qemu.csv >section.md

function median(s,   v, n, i, j, t) {
	n = split(s, v, " ")
	if (!n)
		return "-"
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

# Least-squares slope of first_line_s over GiB for one column and backing.
function slope(c, b,   i, x, y, n, sx, sy, sxx, sxy, v) {
	n = sx = sy = sxx = sxy = 0
	for (i = 1; i <= nsizes; i++) {
		v = cell(c, "ram-" SIZE[i] "-" b)
		if (v == "-")
			continue
		x = MIB[SIZE[i]] / 1024
		y = v + 0
		n++; sx += x; sy += y; sxx += x * x; sxy += x * y
	}
	if (n < 2 || n * sxx == sx * sx)
		return "-"
	return (n * sxy - sx * sy) / (n * sxx - sx * sx)
}

# extreme(s, want_max): the smallest or largest of a space-separated list.
function extreme(s, want_max,   v, n, i, m) {
	n = split(s, v, " ")
	if (!n)
		return "-"
	m = v[1]
	for (i = 2; i <= n; i++)
		if (want_max ? v[i] + 0 > m + 0 : v[i] + 0 < m + 0)
			m = v[i]
	return m
}

function cell(c, g) {
	return (c, g) in T ? median(T[c, g]) : "-"
}

# Column c: "<boot>+<qemu>".
function row(label, g,   s, i) {
	s = "| " label
	for (i = 1; i <= 4; i++)
		s = s " | " fmt(cell(COLS[i], g))
	return s " | " ratio(cell(COLS[4], g), cell(COLS[1], g)) " |"
}

FNR == 1 {
	boot = FILENAME
	sub(/\/qemu\.csv$/, "", boot)
	sub(/.*\//, "", boot)
	for (i = 1; i <= split($0, h, ","); i++)
		COL[h[i]] = i - 2
	next
}
{
	if (!match($0, /^"[^"]*","[^"]*",/))
		next
	label = substr($0, 2, index(substr($0, 2), "\"") - 1)
	split(substr($0, RLENGTH + 1), f, ",")
	if (f[COL["userspace_reached"]] != 1)
		next
	q = label
	sub(/:.*/, "", q)
	g = label
	sub(/^[^:]*:/, "", g)
	c = boot "+" q
	T[c, g] = T[c, g] " " f[COL["first_line_s"]]
	R[c, g] = R[c, g] " " f[COL["kernel_resets"]]
	U[c, g] = U[c, g] " " f[COL["high_unmaps"]]
	if (g ~ /^ram-/) {
		split(g, p, "-")
		if (!(p[2] in MIB)) {
			MIB[p[2]] = f[COL["mem_mib"]]
			SIZE[++nsizes] = p[2]
		}
		if (!(p[3] in BSEEN)) {
			BSEEN[p[3]] = 1
			BACK[++nback] = p[3]
		}
	}
	if (g ~ /^devices-/ && !((g) in DSEEN)) {
		DSEEN[g] = 1
		DEV[++ndev] = substr(g, 9)
	}
	any = 1
}
END {
	if (!any)
		exit
	COLS[1] = "base+debian"; COLS[2] = "base+patched"
	COLS[3] = "patched+debian"; COLS[4] = "patched+patched"
	# Sizes and device counts in ascending order.
	for (i = 2; i <= nsizes; i++)
		for (j = i; j > 1 && MIB[SIZE[j - 1]] + 0 > MIB[SIZE[j]] + 0; j--) {
			t = SIZE[j]; SIZE[j] = SIZE[j - 1]; SIZE[j - 1] = t
		}
	for (i = 2; i <= ndev; i++)
		for (j = i; j > 1 && DEV[j - 1] + 0 > DEV[j] + 0; j--) {
			t = DEV[j]; DEV[j] = DEV[j - 1]; DEV[j - 1] = t
		}
	print "## Real QEMU: QEMU start to the guest's first line (the talk's metric)\n"
	print "`qemu_create_test` (selftests/qemu_create) in the same boots: a real QEMU"
	print "creates a VM with nested KVM and vfio-pci devices and boots a kernel in it;"
	print "the time is from QEMU's start to the guest kernel's first line on the serial"
	print "port.  *Debian* is the distribution's QEMU binary; *patched* is `make qemu`"
	print "(patches/qemu) with its switches on (`-x`: x-ram-apart-1m, x-skip-open-reset)."
	print "Seconds, median of the runs that reached guest user space; pre-zeroing on"
	print "(kprezerod caught up) on the patched kernel.  Under TCG, about 1-2 s of every"
	print "run is fixed (nested TCG running QEMU, SeaBIOS and the guest's first steps).\n"
	print "| RAM, backing | base kernel + Debian QEMU | base + patched QEMU | patched kernel + Debian QEMU | patched + patched QEMU | before -> after |"
	print "|---|---|---|---|---|---|"
	for (b = 1; b <= nback; b++)
		for (i = 1; i <= nsizes; i++)
			print row(SIZE[i] " " BACK[b], "ram-" SIZE[i] "-" BACK[b])
	print "\nRAM-dependent slope (least squares over the sizes, s/GiB), and the goal:"
	print "with every fix, <= 0.05x the base kernel + Debian QEMU.\n"
	print "| backing | base + Debian | base + patched QEMU | patched + Debian | patched + patched QEMU | after/before | goal <= 0.05x |"
	print "|---|---|---|---|---|---|---|"
	for (b = 1; b <= nback; b++) {
		s = "| " BACK[b]
		for (i = 1; i <= 4; i++) {
			v = slope(COLS[i], BACK[b])
			SL[i] = v
			s = s " | " (v == "-" ? "-" : sprintf("%.3f", v))
		}
		r = ratio(SL[4], SL[1])
		met = r == "-" ? "-" : (SL[4] / SL[1] <= 0.05 ? "met" : "not met")
		print s " | " r " | " met " |"
	}
	if (ndev) {
		print "\nDevices (1 GiB THP, FLR virtio functions + the BAR device), and the goal:"
		print "4 devices <= 1.1x the 1-device time.\n"
		print "| FLR devices | base + Debian | base + patched QEMU | patched + Debian | patched + patched QEMU | before -> after |"
		print "|---|---|---|---|---|---|"
		for (i = 1; i <= ndev; i++)
			print row(DEV[i], "devices-" DEV[i])
		print ""
		s = "| " DEV[ndev] " / " DEV[1] " devices"
		for (i = 1; i <= 4; i++)
			s = s " | " ratio(cell(COLS[i], "devices-" DEV[ndev]), cell(COLS[i], "devices-" DEV[1]))
		print "| | base + Debian | base + patched QEMU | patched + Debian | patched + patched QEMU |"
		print "|---|---|---|---|---|"
		print s " |"
		print "\nKernel-counted device resets and unmaps of RAM above 1 MiB, median per run, at " DEV[ndev] " device(s):\n"
		print "| | base + Debian | base + patched QEMU | patched + Debian | patched + patched QEMU |"
		print "|---|---|---|---|---|"
		s = "| resets"
		for (i = 1; i <= 4; i++)
			s = s " | " (((COLS[i], "devices-" DEV[ndev]) in R) ? median(R[COLS[i], "devices-" DEV[ndev]]) : "-")
		print s " |"
		s = "| unmaps above 1 MiB"
		for (i = 1; i <= 4; i++)
			s = s " | " (((COLS[i], "devices-" DEV[ndev]) in U) ? median(U[COLS[i], "devices-" DEV[ndev]]) : "-")
		print s " |"
	}
	for (b = 1; b <= nback; b++)
		if (BACK[b] == "4k") {
			g = "ram-" SIZE[nsizes] "-4k"
			print "\n4K at " SIZE[nsizes] ": base + Debian / patched + patched QEMU = " \
			      ratio(cell(COLS[1], g), cell(COLS[4], g)) " faster (goal >= 3x)."
		}
	print ""
	if (data == "")
		exit
	print "column\tgroup\truns\tfirst_line_s\tmin\tmax" >(data "/qemu.tsv")
	close(data "/qemu.tsv")
	for (k in T) {	# sorted, so that a rerun's file compares line by line
		split(k, kp, SUBSEP)
		print kp[1] "\t" kp[2] "\t" split(T[k], tmp, " ") "\t" median(T[k]) "\t" \
		      extreme(T[k], 0) "\t" extreme(T[k], 1) | ("sort >>" data "/qemu.tsv")
	}
	close("sort >>" data "/qemu.tsv")
	for (b = 1; b <= nback; b++) {
		print "# " BACK[b] ": GiB, " COLS[1] ", " COLS[2] ", " COLS[3] ", " COLS[4] >(data "/qemu-ram.dat")
		for (i = 1; i <= nsizes; i++) {
			s = MIB[SIZE[i]] / 1024
			for (c = 1; c <= 4; c++)
				s = s "\t" cell(COLS[c], "ram-" SIZE[i] "-" BACK[b])
			print s >(data "/qemu-ram.dat")
		}
		print "\n" >(data "/qemu-ram.dat")
	}
}
