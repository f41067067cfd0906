# SPDX-License-Identifier: GPL-2.0
# Reading a results directory: its meta.txt, its data/summary.tsv (from
# summarize.awk) and the report's two number formats.  report.awk is built on
# these functions; bench/lib.sh's meta, get, fmt and ratio ask them one
# question each:
#   awk -v OUT=DIR [-v S=SUMMARY] -v query=1 -f results.awk QUESTION ARGS...
# with the QUESTION and ARGS of those functions (S defaults to
# OUT/data/summary.tsv).

# meta(KEY): the value of the first KEY= line of meta.txt, or "".
function meta(key,   f, line) {
	if (!meta_read) {
		f = OUT "/meta.txt"
		while ((getline line < f) > 0)
			if (match(line, /^[^=]*=/) && !((substr(line, 1, RLENGTH - 1)) in META))
				META[substr(line, 1, RLENGTH - 1)] = substr(line, RLENGTH + 1)
		close(f)
		meta_read = 1
	}
	return key in META ? META[key] : ""
}

# get(BOOT, GROUP, PROFILE, COLUMN): one value of the summary, or "-".
function get(b, g, p, c,   f, line, n, i, v, h) {
	if (!summary_read) {
		f = S != "" ? S : OUT "/data/summary.tsv"
		if ((getline line < f) > 0)
			for (n = split(line, h, "\t"); n > 0; n--)
				COL[h[n]] = n
		while ((getline line < f) > 0) {
			split(line, v, "\t")
			if ((v[1], v[2], v[3]) in ROW)
				continue
			ROW[v[1], v[2], v[3]] = 1
			for (i in v)
				CELL[v[1], v[2], v[3], i] = v[i]
		}
		close(f)
		summary_read = 1
	}
	return (b, g, p, COL[c]) in CELL ? CELL[b, g, p, COL[c]] : "-"
}

# fmt(V): seconds with 3 decimals, or "-".
function fmt(v) {
	return v == "-" ? "-" : sprintf("%.3f", v)
}

# ratio(A, B): A/B as "0.42x" (three decimals below 0.1: "0.004x"), or "-"
# when either is missing.
function ratio(a, b,   r) {
	if (a == "-" || b == "-" || b + 0 == 0)
		return "-"
	r = a / b
	return sprintf(r < 0.1 ? "%.3fx" : "%.2fx", r)
}

BEGIN {
	if (query) {
		q = ARGV[1]
		if (q == "meta")
			print meta(ARGV[2])
		else if (q == "get")
			print get(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
		else if (q == "fmt")
			print fmt(ARGV[2])
		else if (q == "ratio")
			print ratio(ARGV[2], ARGV[3])
		else {
			print "results.awk: no question '" q "'" > "/dev/stderr"
			exit 2
		}
		exit
	}
}
