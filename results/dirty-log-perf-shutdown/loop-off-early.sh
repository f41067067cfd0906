#!/bin/bash
# Pre-zeroing off as early as the job can (zeroed_kb and uptime say how
# early), then loop.sh.
echo 0 > /sys/kernel/mm/prezero/enabled
grep -h . /sys/kernel/mm/prezero/zeroed_kb /proc/uptime
exec "$(dirname "$0")/loop.sh"
