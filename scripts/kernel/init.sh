#!/bin/busybox sh
# /init of the boot-test VM: run the workload with the parallel free knobs set
# low, print the worker counters and any kernel splat, then power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
d=/sys/kernel/debug/parallel_free
echo "boot-test: kernel $(uname -r)"
if [ -d $d ]; then
    echo 16384 > $d/threshold
    echo 4 > $d/max_active
    echo "boot-test: enable=$(cat $d/enable) threshold=$(cat $d/threshold) max_active=$(cat $d/max_active)"
    echo "boot-test: before workers=$(cat $d/workers) pages=$(cat $d/pages)"
fi
/bin/bigfree 384
/bin/bigfree -f 384
/bin/bigfree 64
if [ -d $d ]; then
    echo "boot-test: after workers=$(cat $d/workers) pages=$(cat $d/pages)"
    echo N > $d/enable
    w=$(cat $d/workers)
    /bin/bigfree 384
    echo "boot-test: disabled, workers before=$w after=$(cat $d/workers)"
fi
if dmesg | grep -E "Oops|BUG:|WARNING:|possible (circular|recursive) locking|inconsistent lock state|INFO: task|Call Trace:"; then
    echo "boot-test: KERNEL SPLAT"
else
    echo "boot-test: no splat"
fi
echo "boot-test: done"
poweroff -f
