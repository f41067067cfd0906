# SPDX-License-Identifier: GPL-2.0
# Folded stacks ("perf script report stackcollapse"), sorted, to a flame
# graph in SVG: one box per frame, as wide as its share of the samples,
# callers below callees.
#   sort FOLDED | awk -v title="..." -f flame.awk > flame.svg
function emit(d, name, s, e) {
	if (e <= s)
		return
	nr++
	rd[nr] = d; rn[nr] = name; rs[nr] = s; re[nr] = e
	if (d > maxd)
		maxd = d
}
function esc(s) {
	gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
	return s
}
BEGIN { W = 1200; H = 16; PAD = 30; x = 0; pn = 0 }
NF >= 2 {
	c = $NF
	st = $0
	sub(/ [0-9]+$/, "", st)
	n = split(st, f, ";")
	for (i = 1; i <= n && i <= pn && f[i] == pf[i]; i++)
		;
	for (j = pn; j >= i; j--)
		emit(j, pf[j], start[j], x)
	for (j = i; j <= n; j++)
		start[j] = x
	x += c
	for (j = 1; j <= n; j++)
		pf[j] = f[j]
	pn = n
}
END {
	for (j = pn; j >= 1; j--)
		emit(j, pf[j], start[j], x)
	total = x > 0 ? x : 1
	ht = (maxd + 1) * H + 2 * PAD
	printf "<?xml version=\"1.0\" standalone=\"no\"?>\n"
	printf "<svg version=\"1.1\" width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"monospace\" font-size=\"11\">\n", W + 20, ht
	printf "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
	printf "<text x=\"10\" y=\"18\" font-size=\"14\">%s (%d samples)</text>\n", esc(title), x
	for (k = 1; k <= nr; k++) {
		px = 10 + rs[k] / total * W
		w = (re[k] - rs[k]) / total * W
		if (w < 0.3)
			continue
		y = ht - PAD - rd[k] * H
		h = 0
		for (q = 1; q <= length(rn[k]) && q <= 8; q++)
			h = h * 7 + index("abcdefghijklmnopqrstuvwxyz_", substr(rn[k], q, 1))
		r = 205 + h % 50; g = 80 + (h * 3) % 130; b = 40 + h % 40
		printf "<g><title>%s: %d samples (%.2f%%)</title>", esc(rn[k]), re[k] - rs[k], 100 * (re[k] - rs[k]) / total
		printf "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" stroke=\"#f8f8f0\" stroke-width=\"0.5\"/>", px, y, w, H - 1, r, g, b
		if (w > 30) {
			label = rn[k]
			if (length(label) * 6.6 > w - 4)
				label = substr(label, 1, int((w - 4) / 6.6) - 2) ".."
			printf "<text x=\"%.1f\" y=\"%d\">%s</text>", px + 2, y + H - 4, esc(label)
		}
		printf "</g>\n"
	}
	printf "</svg>\n"
}
