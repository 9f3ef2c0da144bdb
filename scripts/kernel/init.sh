#!/bin/busybox sh
# /init of the boot-test VM. Three rounds of the bigfree workload:
#   default knobs: a 40M munmap (freed in place, no worker), 1G munmaps and
#     exits (no soft lockup, no splat), a 2G munmap (one full chain at the
#     default threshold goes to a worker);
#   lowered knobs (threshold 2048 entries, max_active 4): the worker path
#     runs for every few megabytes;
#   parallel free turned off: no worker runs.
# Prints the counters after each round and any kernel splat, then powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
d=/sys/kernel/debug/parallel_free
echo "boot-test: kernel $(uname -r)"
counters() { # ROUND
    [ -d $d ] && echo "boot-test: $1: workers=$(cat $d/workers) entries=$(cat $d/entries)"
}
if [ -d $d ]; then
    echo "boot-test: defaults: enable=$(cat $d/enable) threshold=$(cat $d/threshold) max_active=$(cat $d/max_active)"
    ls $d | tr '\n' ' ' | sed 's/^/boot-test: knobs: /'; echo
fi
counters start
/bin/bigfree 40
counters "default knobs, munmap 40M"
/bin/bigfree 1024
/bin/bigfree -f 1024
/bin/bigfree 1024
counters "default knobs, 1G munmap, exit, munmap"
/bin/bigfree 2048
counters "default knobs, munmap 2G"
if [ -d $d ]; then
    echo 2048 > $d/threshold
    echo 4 > $d/max_active
    echo "boot-test: lowered: threshold=$(cat $d/threshold) max_active=$(cat $d/max_active)"
    echo 0 > $d/threshold 2>/dev/null && echo "boot-test: threshold 0 accepted" || echo "boot-test: threshold 0 refused"
    echo 0 > $d/max_active 2>/dev/null && echo "boot-test: max_active 0 accepted" || echo "boot-test: max_active 0 refused"
    /bin/bigfree 384
    /bin/bigfree -f 384
    /bin/bigfree 64
    counters "lowered knobs, 384M munmap and exit, 64M munmap"
    echo N > $d/enable
    /bin/bigfree 384
    /bin/bigfree -f 384
    counters "turned off, 384M munmap and exit"
fi
if dmesg | grep -E "Oops|BUG:|WARNING:|soft lockup|possible (circular|recursive) locking|inconsistent lock state|INFO: task|Call Trace:"; then
    echo "boot-test: KERNEL SPLAT"
else
    echo "boot-test: no splat"
fi
dmesg | grep -E "lockdep|Lock dependency validator" | head -2 | sed 's/^/boot-test: /'
echo "boot-test: done"
poweroff -f
