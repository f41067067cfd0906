#!/bin/sh
# Toggle kmem tracepoints (static keys in the page allocator's hot path,
# nothing of the prezero series; or KNOB, e.g. /sys/kernel/mm/prezero/enabled)
# while W (2) processes churn shmem pages, N (3000) times.
echo 0 > /sys/kernel/mm/prezero/enabled 2>/dev/null
cat /sys/kernel/mm/prezero/enabled 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
T=/sys/kernel/tracing
echo 0 > $T/tracing_on
pids=""
for w in $(seq ${W:-2}); do
	( while :; do dd if=/dev/zero of=/dev/shm/churn$w bs=1M count=256 2>/dev/null; rm -f /dev/shm/churn$w; done ) &
	pids="$pids $!"
done
i=0
while [ $i -lt ${N:-3000} ]; do
	echo 1 > ${KNOB:-$T/events/kmem/enable}
	echo 0 > ${KNOB:-$T/events/kmem/enable}
	i=$((i + 1))
	[ $((i % 25)) -eq 0 ] && echo "# $i toggles"
done
echo "# done: $i toggles, no oops"
kill $pids 2>/dev/null
