#!/usr/bin/env bash
# Boot a kernel under QEMU with a busybox initramfs and run bigfree in it
# (init.sh says what it runs), under QEMU's software emulation (KVM inside
# the development VM could not run this 4.11 kernel: it stops while
# decompressing), with the default soft-lockup threshold (20 s).
# usage: scripts/kernel/boot-test.sh BZIMAGE [LOG]
# Needs: qemu-system-x86, busybox-static, cpio, gcc (Debian packages).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel=$1
log=${2:-boot-test.log}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/root/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$work/root/bin/busybox"
gcc -O2 -static -o "$work/root/bin/bigfree" "$here/bigfree.c"
install -m 755 "$here/init.sh" "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"
timeout 1800 qemu-system-x86_64 -m 4608 -smp 2 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 panic=-1 transparent_hugepage=never" > "$log" 2>&1 || true
grep "boot-test:" "$log"
grep -q "boot-test: no splat" "$log" && grep -q "boot-test: done" "$log"
