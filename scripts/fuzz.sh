#!/usr/bin/env bash
# Run every fuzz target in turn for SECONDS each (default 60), on the saved
# corpus in fuzz/corpus/TARGET (new inputs that find new paths are added
# there), and print one line per target: runs, and crashes found.
#   scripts/fuzz.sh 600                 every target, ten minutes each
#   scripts/fuzz.sh 60 mail manifest    only these
# Needs the nightly toolchain and cargo-fuzz (installed when missing); runs
# without a sanitizer (safe Rust; the speed buys more runs). A
# crash leaves its input in fuzz/artifacts/TARGET/ and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(mail manifest bench checks checkpatch_report maintainers aliases line_applier)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
status=0
for t in "${targets[@]}"; do
    log=fuzz/target/$t.log
    mkdir -p fuzz/target "fuzz/corpus/$t"
    if cargo +nightly fuzz run --sanitizer none "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -max_len=8192 -print_final_stats=1 >"$log" 2>&1; then
        crashes=0
    else
        crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz: $t: ${runs:-?} runs in ${secs}s, $crashes crashes (log: $log)"
done
exit $status
