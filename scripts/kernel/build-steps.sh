#!/usr/bin/env bash
# Build every step of a series with W=1 and report the warnings each step
# adds over the base: mm/memory.o first, then mm/ and arch/x86/mm/.
# usage: scripts/kernel/build-steps.sh LINUX OUT BASE TIP
#   LINUX  the kernel worktree (its checkout is moved to each commit, then
#          back to where it was)
#   OUT    the O= build folder, configured already (make O=OUT ...defconfig)
#   BASE   the commit the series applies to; TIP its last patch
# Prints one line per step and exits non-zero if a step fails to build or
# adds a warning. Warnings are compared without line numbers.
set -euo pipefail
linux=$1 out=$2 base=$3 tip=$4
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
start=$(git -C "$linux" rev-parse HEAD)
warnings() { # LOG -> the warnings, line and column numbers dropped
    grep -E "warning:" "$1" | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort -u || true
}
step=0 bad=0
for commit in "$base" $(git -C "$linux" rev-list --reverse "$base..$tip"); do
    git -C "$linux" checkout -q "$commit"
    # The base is built from scratch, so that its warnings cover every file.
    [ "$step" -eq 0 ] && { find "$out/mm" "$out/arch/x86/mm" -name '*.o' -delete 2>/dev/null || true; }
    title=$(git -C "$linux" log -1 --format=%s "$commit")
    if ! make -C "$linux" O="$out" -j"$(nproc)" W=1 mm/memory.o > "$log/$step.memory" 2>&1 ||
        ! make -C "$linux" O="$out" -j"$(nproc)" W=1 mm/ arch/x86/mm/ > "$log/$step.all" 2>&1; then
        echo "step $step ($title): BUILD FAILED"
        tail -20 "$log/$step.memory" "$log/$step.all" 2>/dev/null
        bad=1
        break
    fi
    cat "$log/$step.memory" "$log/$step.all" > "$log/$step"
    # A step rebuilds only what changed: compare its warnings with those
    # the base printed for the same files.
    if [ "$step" -eq 0 ]; then
        warnings "$log/0" > "$log/base.warnings"
        echo "step 0 (base $(git -C "$linux" log -1 --format=%h "$commit")): built, $(wc -l < "$log/base.warnings") distinct W=1 warnings in mm/ and arch/x86/mm/"
    else
        new=$(warnings "$log/$step" | comm -23 - "$log/base.warnings")
        rebuilt=$(grep -cE "^  CC " "$log/$step" || true)
        if [ -n "$new" ]; then
            echo "step $step ($title): $rebuilt objects rebuilt, NEW WARNINGS:"
            echo "$new"
            bad=1
        else
            echo "step $step ($title): $rebuilt objects rebuilt, no new warnings"
        fi
    fi
    step=$((step + 1))
done
git -C "$linux" checkout -q "$start"
exit $bad
