# SPDX-License-Identifier: GPL-2.0
# "perf script" (with -g call chains) to folded stacks: one line per distinct
# stack, "comm;outermost;...;innermost COUNT", the input of flame.awk.
function flush(   i, s) {
	if (n == 0)
		return
	s = comm
	for (i = n; i >= 1; i--)
		s = s ";" fr[i]
	count[s]++
	n = 0
}
/^[^ \t]/ { flush(); comm = $1; next }
/^[ \t]+[0-9a-f]+ / {
	f = $2
	sub(/\+0x[0-9a-f]+$/, "", f)
	if (f == "[unknown]") {
		f = $3
		gsub(/[()]/, "", f)
		sub(/.*\//, "", f)
		f = "[" f "]"
	}
	fr[++n] = f
	next
}
/^$/ { flush() }
END {
	flush()
	for (s in count)
		print s, count[s]
}
