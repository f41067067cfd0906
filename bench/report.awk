# SPDX-License-Identifier: GPL-2.0
# A results directory's chart data (data/ram.dat, phases.dat, devices.dat,
# backing.dat) and report.md, in one process, from data/summary.tsv and the
# files of raw/.  bench/report.sh runs it with what awk cannot find or has
# from elsewhere; lists are one item a line:
#   awk -v OUT=DIR -v phases="ram kvm ..." -v groups="$(groups '')" \
#       -v entries=raw/* -v perfs=raw/*/perf-*.txt -v healths=raw/*/health.ktap \
#       -v title_prezero=... -v title_pin_runs=... -v title_rmap_skip_empty=... \
#       -f results.awk -f report.awk
# (switch_title of bench/lib.sh, and the groups by guest RAM then name).

# lines(LIST, A): the non-empty lines of LIST in A[1..n]; returns n.
function lines(list, a,   all, i, m, n) {
	m = split(list, all, "\n")
	for (i = 1; i <= m; i++)
		if (all[i] != "")
			a[++n] = all[i]
	return n
}

# with_prefix(PREFIX, A): the run groups that start with PREFIX, in order,
# in A[1..n]; returns n.
function with_prefix(prefix, a,   i, n) {
	for (i = 1; i <= ngroups; i++)
		if (substr(GROUPS[i], 1, length(prefix)) == prefix)
			a[++n] = GROUPS[i]
	return n
}

# words(FILE, W): the words of FILE in W[1..n]; returns n, or -1 when FILE
# cannot be read.
function words(file, w,   line, all, r) {
	while ((r = getline line < file) > 0)
		all = all " " line
	close(file)
	return r < 0 ? -1 : split(all, w)
}

function nan(v) { return v == "-" ? "NaN" : v }
function base(path) { sub(/.*\//, "", path); return path }
function dir(path) { sub(/\/[^\/]*$/, "", path); return path }

# ---- chart data ---------------------------------------------------------------
function ram_dat(f,   i, c, g, mib, line) {
	print "# size_gib base_legacy base_optimized patched_legacy patched_optimized (median total s), then min max of base_legacy and patched_optimized" > f
	for (i = 1; i <= nram; i++) {
		g = RAM[i]
		mib = get("patched", g, "optimized", "mem_mib")
		if (mib == "-")
			mib = get("base", g, "legacy", "mem_mib")
		line = sprintf("%.3f", mib / 1024)
		for (c = 1; c <= 4; c++)
			line = line " " nan(get(BOOT[c], g, VMM[c], "total_s"))
		for (c = 1; c <= 4; c += 3)
			line = line " " nan(get(BOOT[c], g, VMM[c], "total_min")) " " nan(get(BOOT[c], g, VMM[c], "total_max"))
		print line > f
	}
	close(f)
}

function phases_dat(f,   c, i, line) {
	print "# combination " phases " (median s, RAM sweep at " largest ")" > f
	for (c = 1; c <= 4; c++) {
		line = "\"" BOOT[c] "\\n" VMM[c] "\""
		for (i = 1; i <= nphases; i++)
			line = line " " nan(get(BOOT[c], "ram-" largest, VMM[c], PHASE[i] "_s"))
		print line > f
	}
	close(f)
}

function devices_dat(f,   g, n, i, c, line) {
	print "# flr_devices base_legacy base_optimized patched_legacy patched_optimized (median total s)" > f
	n = with_prefix("devices-", g)
	for (i = 1; i <= n; i++) {
		line = substr(g[i], 9)
		for (c = 1; c <= 4; c++)
			line = line " " nan(get(BOOT[c], g[i], VMM[c], "total_s"))
		print line > f
	}
	close(f)
}

function backing_dat(f,   g, n, i, c, mib, t, line) {
	print "# backing base_optimized patched_optimized (DMA map MiB/s, median)" > f
	n = with_prefix("backing-", g)
	for (i = 1; i <= n; i++) {
		line = "\"" substr(g[i], 9) "\""
		for (c = 2; c <= 4; c += 2) {
			mib = get(BOOT[c], g[i], "optimized", "mem_mib")
			t = get(BOOT[c], g[i], "optimized", "dma_map_s")
			line = line (t == "-" || t + 0 == 0 ? " NaN" : sprintf(" %.1f", mib / t))
		}
		print line > f
	}
	close(f)
}

# ---- report.md ------------------------------------------------------------------
# scenario(GROUP, TITLE): the phase medians of the four combinations, the
# pre-zeroing cost, the ratios.
function scenario(g, title,   c, i, s, w) {
	print "### " title "\n" > md
	s = "| |"
	for (i = 1; i <= nphases; i++)
		s = s " " PHASE[i] " |"
	print s " **total** | total min–max | total CPU | runs |" > md
	s = "|"
	for (i = 1; i <= nphases + 5; i++)
		s = s "---|"
	print s > md
	for (c = 1; c <= 4; c++) {
		s = "| " BOOT[c] " kernel, " VMM[c] " VMM"
		for (i = 1; i <= nphases; i++)
			s = s " | " fmt(get(BOOT[c], g, VMM[c], PHASE[i] "_s"))
		print s " | " fmt(get(BOOT[c], g, VMM[c], "total_s")) \
		    " | " fmt(get(BOOT[c], g, VMM[c], "total_min")) "–" fmt(get(BOOT[c], g, VMM[c], "total_max")) \
		    " | " fmt(get(BOOT[c], g, VMM[c], "total_cpu_s")) " | " get(BOOT[c], g, VMM[c], "runs") " |" > md
	}
	print "" > md
	if (words(OUT "/raw/patched/" g ".prezero", w) >= 2)
		print "Background cost on the patched kernel: before each of its creations kprezerod caught up, in all " w[1] " s of wall time and **" w[2] " s of CPU** (idle priority) for this group.\n" > md
	print "Before → after (base + legacy → patched + optimized): total " \
	    ratio(get("patched", g, "optimized", "total_s"), get("base", g, "legacy", "total_s")) \
	    "; kernel only (optimized VMM on both): total " \
	    ratio(get("patched", g, "optimized", "total_s"), get("base", g, "optimized", "total_s")) \
	    ", dma_map " ratio(get("patched", g, "optimized", "dma_map_s"), get("base", g, "optimized", "dma_map_s")) ".\n" > md
}

# patch_row(NAME, GROUP_PREFIX, PHASE): a switch off vs on.
function patch_row(name, prefix, ph,   off, on) {
	off = prefix "-0"
	on = prefix "-1"
	print "| " name " | " ph \
	    " | " fmt(get("patched", off, "optimized", ph "_s")) " | " fmt(get("patched", on, "optimized", ph "_s")) \
	    " | " ratio(get("patched", on, "optimized", ph "_s"), get("patched", off, "optimized", ph "_s")) \
	    " | " fmt(get("patched", off, "optimized", "total_s")) " | " fmt(get("patched", on, "optimized", "total_s")) \
	    " | " ratio(get("patched", on, "optimized", "total_s"), get("patched", off, "optimized", "total_s")) " |" > md
}

# zeroing_row(LABEL, BOOT, GROUP): one way of zeroing, against pre-zeroing off.
function zeroing_row(label, b, g,   off) {
	off = "patch-prezero-0"
	print "| " label " | " fmt(get(b, g, "optimized", "dma_map_s")) \
	    " | " ratio(get(b, g, "optimized", "dma_map_s"), get("patched", off, "optimized", "dma_map_s")) \
	    " | " fmt(get(b, g, "optimized", "total_s")) \
	    " | " ratio(get(b, g, "optimized", "total_s"), get("patched", off, "optimized", "total_s")) \
	    " | " fmt(get(b, g, "optimized", "total_cpu_s")) " | " get(b, g, "optimized", "runs") " |" > md
}

# zeroing_table(): who pays for zeroing, for the same creation after a VM
# was torn down: nobody ahead (off), kprezerod caught up, kprezerod given
# no time (back to back), the freeing task (base kernel, init_on_free=1).
function zeroing_table() {
	print "### Zeroing: who pays\n" > md
	print "The per-patch creation above (optimized VMM, 1 FLR device + BAR), each" > md
	print "run right after the previous VM was torn down.  *init_on_free=1* is the" > md
	print "base kernel booted with it (the page is cleared by the task that frees" > md
	print "it, the alternative proposed against pre-zeroing); *back to back* is" > md
	print "pre-zeroing with no time for kprezerod between creations.  Ratios are" > md
	print "against pre-zeroing off, which runs in another boot than init_on_free.\n" > md
	print "| zeroing | dma_map s | vs off | total s | vs off | total CPU s | runs |" > md
	print "|---|---|---|---|---|---|---|" > md
	zeroing_row("on allocation (pre-zeroing off)", "patched", "patch-prezero-0")
	zeroing_row("kprezerod, caught up", "patched", "patch-prezero-1")
	if (get("patched", "patch-prezero-b2b", "optimized", "runs") != "-")
		zeroing_row("kprezerod, back to back", "patched", "patch-prezero-b2b")
	if (get("iof", "zeroing-init_on_free", "optimized", "runs") != "-")
		zeroing_row("on free (base kernel, init_on_free=1)", "iof", "zeroing-init_on_free")
	print "" > md
}

# rmap_table(CSV): dirty_log_enable_test's rows, rmap_skip_empty off and on.
function rmap_table(r,   fs, t) {
	print title_rmap_skip_empty ", booted with kvm.tdp_mmu=0:" > md
	print "enabling dirty logging on a sparse memslot (dirty_log_enable_test, 7 enables per mode).\n" > md
	print "| skip empty | slot | pages touched | rmap heads visited | enable min | median | max |" > md
	print "|---|---|---|---|---|---|---|" > md
	fs = FS
	FS = ","
	getline < r
	while ((getline < r) > 0) {
		printf "| %s | %d MiB | %d | %d | %.6f | %.6f | %.6f |\n", $4 ? "on" : "off", $2, $3, $5, $6, $7, $8 > md
		t[$4] = $6
	}
	close(r)
	FS = fs
	if (t[0] > 0)
		printf "\nFastest enable on/off: %.3fx.\n", t[1] / t[0] > md
	print "" > md
}

# profile(PERF_TXT): a boot's top functions for one VMM profile, and its
# flame graph.
function profile(f,   b, p, line, n) {
	b = base(dir(f))
	p = base(f)
	sub(/\.txt$/, "", p)
	sub(/^perf-/, "", p)
	print "### " b " kernel, " p " VMM: top functions\n" > md
	print "![flame graph](charts/flame-" b "-" p ".svg)\n" > md
	print "```" > md
	while (n < 15 && (getline line < f) > 0)
		if (line ~ /^ +[0-9.]+%/) {
			print line > md
			n++
		}
	close(f)
	print "```\n" > md
}

function report(   i, n, g, w, s, r, h, line) {
	print "# VM creation with passthrough devices: before/after the series\n" > md
	print "Generated by `make bench` (bench/report.sh) from the CSV files in `raw/`;" > md
	print "every number below is a median of `" meta("reps") "` runs unless it says otherwise.\n" > md
	print "| | |\n|---|---|" > md
	print "| date | " meta("date") " |" > md
	print "| patched kernel | " meta("kernel") " |" > md
	print "| base kernel | " meta("kernel_base") " |" > md
	print "| machine | " meta("machine") ": " meta("host_cpu") " |" > md
	print "| emulator | " meta("qemu") ", **" meta("accel") "** |" > md
	print "| guest (the kernel under test) | " meta("guest") " |" > md
	print "| project commit | " meta("commit") " |\n" > md
	print "**All times are under QEMU TCG on a 2-core host**: the kernel under test runs" > md
	print "emulated and the VMs it creates run nested in it.  Absolute times are far" > md
	print "slower than hardware; ratios between runs of the same boot are what carries" > md
	print "over.  The VMM is `vm_create_test` (selftests/vm_create): *legacy* is the" > md
	print "VMM behaviour the KVM Forum 2020 talk measured, *optimized* has its VMM-side" > md
	print "fixes (deduplicated maps, the legacy area split, one parallel reset, no dirty" > md
	print "logging on BARs).  Devices: virtio functions behind PCIe root ports (real" > md
	print "FLR) and an ivshmem device with a 1 GiB BAR standing in for a GPU.\n" > md
	print "## Creation time vs RAM\n" > md
	print "![creation time vs RAM](charts/creation-vs-ram.png)\n" > md
	print "| RAM | base + legacy | base + optimized | patched + legacy | patched + optimized | before → after |" > md
	print "|---|---|---|---|---|---|" > md
	for (i = 1; i <= nram; i++) {
		s = "| " substr(RAM[i], 5)
		for (n = 1; n <= 4; n++)
			s = s " | " fmt(get(BOOT[n], RAM[i], VMM[n], "total_s"))
		print s " | " ratio(get("patched", RAM[i], "optimized", "total_s"), get("base", RAM[i], "legacy", "total_s")) " |" > md
	}
	print "\nSeconds, median total.  Phases at " largest ":\n" > md
	print "![phases](charts/phases.png)\n" > md
	print "## Scenarios\n" > md
	for (i = 1; i <= nram; i++)
		scenario(RAM[i], "RAM " substr(RAM[i], 5) ", THP, 1 FLR device + BAR")
	n = with_prefix("devices-", g)
	for (i = 1; i <= n; i++)
		scenario(g[i], substr(g[i], 9) " FLR device(s) + BAR, 1 GiB")
	print "![devices](charts/creation-vs-devices.png)\n" > md
	n = with_prefix("backing-", g)
	for (i = 1; i <= n; i++)
		scenario(g[i], "Backing " substr(g[i], 9) ", 1 GiB")
	print "![DMA map throughput](charts/dma-map-throughput.png)\n" > md
	n = with_prefix("numa-", g)
	for (i = 1; i <= n; i++)
		scenario(g[i], "NUMA " substr(g[i], 6) ": node 1 under pressure, 1 GiB")
	print "## Per patch: its switch off vs on, same boot\n" > md
	print "Patched kernel, optimized VMM, every other switch at its default.\n" > md
	print "| patch (switch) | phase | phase off | phase on | on/off | total off | total on | on/off |" > md
	print "|---|---|---|---|---|---|---|---|" > md
	if (get("patched", "patch-prezero-0", "optimized", "runs") != "-")
		patch_row(title_prezero, "patch-prezero", "dma_map")
	if (get("patched", "patch-pin_runs-0", "optimized", "runs") != "-")
		patch_row(title_pin_runs ", RAM prefaulted", "patch-pin_runs", "dma_map")
	print "" > md
	if (words(OUT "/raw/patched/patch-prezero-1.prezero", w) >= 2) {
		print "Pre-zeroing's background cost, beside its gain: before each *on* run" > md
		print "kprezerod caught up with the memory freed since, " w[1] " s of wall time and" > md
		print "**" w[2] " s of CPU** in all (idle priority), against the map time it saves above.\n" > md
	}
	if (get("patched", "patch-prezero-0", "optimized", "runs") != "-")
		zeroing_table()
	r = OUT "/raw/shadow/patch-rmap_skip_empty.csv"
	if ((getline line < r) >= 0) {
		close(r)
		rmap_table(r)
	}
	print "## Profiles\n" > md
	n = lines(perfs, g)
	for (i = 1; i <= n; i++)
		profile(g[i])
	print "## Files\n" > md
	print "- `raw/<boot>/<group>.csv`: one line per VM creation (the vm_create_test schema), `.ktap` its output" > md
	print "- `data/summary.tsv`: medians per boot, group and profile; `data/*.dat`: chart data" > md
	print "- `charts/`: PNG and SVG charts, flame graphs" > md
	s = "- boots: "
	n = lines(entries, g)
	for (i = 1; i <= n; i++)
		s = s base(g[i]) " "
	print s > md
	n = lines(healths, g)
	for (i = 1; i <= n; i++) {
		s = ""
		while ((getline line < g[i]) > 0)
			if (line ~ /^(not )?ok/) {
				s = line
				break
			}
		close(g[i])
		print "- " base(dir(g[i])) " kernel log: " s > md
	}
	close(md)
}

BEGIN {
	split("base base patched patched", BOOT, " ")
	split("legacy optimized legacy optimized", VMM, " ")
	nphases = split(phases, PHASE, " ")
	ngroups = lines(groups, GROUPS)
	nram = with_prefix("ram-", RAM)
	largest = nram ? substr(RAM[nram], 5) : ""
	ram_dat(OUT "/data/ram.dat")
	phases_dat(OUT "/data/phases.dat")
	devices_dat(OUT "/data/devices.dat")
	backing_dat(OUT "/data/backing.dat")
	md = OUT "/report.md"
	report()
}
