# SPDX-License-Identifier: GPL-2.0
# vm_create_test CSV files (raw/<boot>/<group>.csv) to one row per boot,
# group and VMM profile: the number of runs, the median of every phase's
# wall time, min and max of the total, medians of CPU time and counters.
#   awk -f summarize.awk raw/*/*.csv > data/summary.tsv
function median(key, col,   n, i, j, v, t) {
	n = cnt[key]
	for (i = 1; i <= n; i++)
		v[i] = val[key, col, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function extreme(key, col, want_max,   n, i, m) {
	n = cnt[key]
	m = val[key, col, 1]
	for (i = 2; i <= n; i++)
		if (want_max ? val[key, col, i] + 0 > m + 0 : val[key, col, i] + 0 < m + 0)
			m = val[key, col, i]
	return m
}
BEGIN {
	FS = ","; OFS = "\t"
	ncols = split("ram_s kvm_s iommu_s devices_s dma_map_s bars_s firmware_s boot_s total_s total_cpu_s dma_map_cpu_s map_ioctls vmm_resets kernel_resets mem_mib flr_devices", cols, " ")
}
FNR == 1 {
	delete idx
	for (i = 1; i <= NF; i++)
		idx[$i] = i
	nb = split(FILENAME, parts, "/")
	boot = parts[nb - 1]
	group = parts[nb]
	sub(/\.csv$/, "", group)
	next
}
{
	key = boot SUBSEP group SUBSEP $idx["label"]
	if (!(key in cnt)) {
		order[++nkeys] = key
		backing[key] = $idx["backing"]
		numa[key] = $idx["numa"]
		fixes[key] = $idx["fixes"]
	}
	n = ++cnt[key]
	for (c = 1; c <= ncols; c++)
		val[key, cols[c], n] = (cols[c] in idx) ? $idx[cols[c]] : 0
}
END {
	printf "boot\tgroup\tprofile\truns\tmem_mib\tbacking\tnuma\tflr_devices"
	for (c = 1; c <= 9; c++)
		printf "\t%s", cols[c]
	print "\ttotal_min\ttotal_max\ttotal_cpu_s\tdma_map_cpu_s\tdma_map_min\tdma_map_max\tmap_ioctls\tvmm_resets\tkernel_resets\tfixes"
	for (k = 1; k <= nkeys; k++) {
		key = order[k]
		split(key, kp, SUBSEP)
		printf "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%d", kp[1], kp[2], kp[3], cnt[key],
		       median(key, "mem_mib"), backing[key], numa[key], median(key, "flr_devices")
		for (c = 1; c <= 9; c++)
			printf "\t%.4f", median(key, cols[c])
		printf "\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%d\t%d\t%d\t%s\n",
		       extreme(key, "total_s", 0), extreme(key, "total_s", 1),
		       median(key, "total_cpu_s"), median(key, "dma_map_cpu_s"),
		       extreme(key, "dma_map_s", 0), extreme(key, "dma_map_s", 1),
		       median(key, "map_ioctls"), median(key, "vmm_resets"),
		       median(key, "kernel_resets"), fixes[key]
	}
}
