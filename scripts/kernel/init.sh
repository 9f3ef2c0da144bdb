#!/bin/busybox sh
# /init of the boot-test VM. Rounds of the bigfree workload:
#   default knobs: a 40M munmap (freed in place, no worker), 1G munmaps and
#     exits (no soft lockup, no splat), a 2G munmap (one full chain at the
#     default threshold goes to a worker);
#   threshold writes: -1, 0 and a value past the largest are refused, and
#     the threshold stays as it was;
#   overlap: max_active 1 (in sysfs); a 2G exit alone, a 1100M munmap
#     alone, then the two at once: the munmap's chain, queued behind the
#     exit's running one, is taken back and freed in place instead of
#     waiting for it, so taken_back grows by more at once than alone;
#   lowered knobs (threshold 2048 entries, max_active 4): the worker path
#     runs for every few megabytes;
#   parallel free turned off: no worker runs.
# Prints the counters after each round and any kernel splat, then powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
d=/sys/kernel/debug/parallel_free
wq=/sys/devices/virtual/workqueue/batch_free_wq
echo "boot-test: kernel $(uname -r)"
counters() { # ROUND
    [ -d $d ] && echo "boot-test: $1: workers=$(cat $d/workers) entries=$(cat $d/entries) taken_back=$(cat $d/taken_back)"
}
refused() { # VALUE: write it to the threshold, say whether it was refused
    if echo "$1" > $d/threshold 2>/dev/null; then
        echo "boot-test: threshold $1 accepted (now $(cat $d/threshold))"
    else
        echo "boot-test: threshold $1 refused (still $(cat $d/threshold))"
    fi
}
if [ -d $d ]; then
    echo "boot-test: defaults: enable=$(cat $d/enable) threshold=$(cat $d/threshold) max_active=$(cat $wq/max_active) (sysfs)"
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
    refused -1
    refused 0
    refused 16777217
    refused 99999999999999999999
    refused 16777216
    echo 262144 > $d/threshold
    echo 1 > $wq/max_active
    echo "boot-test: overlap: max_active=$(cat $wq/max_active) threshold=$(cat $d/threshold)"
    back() { cat $d/taken_back; }
    t0=$(back)
    /bin/bigfree -f 2048 | sed 's/^/boot-test: exit alone: /'
    t1=$(back)
    /bin/bigfree 1100 | sed 's/^/boot-test: munmap alone: /'
    t2=$(back)
    rm -f /tmp/go
    BIGFREE_WAIT=/tmp/go /bin/bigfree 1100 > /tmp/b.out &
    b=$!
    BIGFREE_SIGNAL=/tmp/go /bin/bigfree -f 2048 | sed 's/^/boot-test: exit beside a munmap: /'
    wait $b
    sed 's/^/boot-test: munmap beside an exit: /' /tmp/b.out
    t3=$(back)
    echo "boot-test: overlap: chains taken back: exit alone $((t1 - t0)), munmap alone $((t2 - t1)), both at once $((t3 - t2))"
    counters "overlap"
    echo 2048 > $d/threshold
    echo 4 > $wq/max_active
    echo "boot-test: lowered: threshold=$(cat $d/threshold) max_active=$(cat $wq/max_active)"
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
