#!/usr/bin/env bash
# Run every fuzz target in turn, with debug assertions on (cargo fuzz -a),
# on the saved corpus in fuzz/corpus/TARGET (new inputs that find new paths
# are added there), and print one line per target: the runs it made and
# the crashes found. A target that stops on a crash still reports the runs
# it made before it.
#   scripts/fuzz.sh 600                     every target, ten minutes each
#   scripts/fuzz.sh --runs 10000000         every target, ten million runs each
#   scripts/fuzz.sh 60 mail list_mail       only these
# Needs cargo-fuzz (installed when missing) and a nightly toolchain (or
# RUSTC_BOOTSTRAP=1 on a stable one); runs without a sanitizer (safe Rust;
# the speed buys more runs). A crash leaves its input in
# fuzz/artifacts/TARGET/ and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time=60)
if [ "${1:-}" = "--runs" ]; then
    limit=(-runs="$2")
    shift 2
elif [ -n "${1:-}" ]; then
    limit=(-max_total_time="$1")
    shift
fi
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(mail manifest bench checks checkpatch_report maintainers aliases line_applier
        list_mail review_toml attestation)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
toolchain=+nightly
rustup toolchain list 2>/dev/null | grep -q '^nightly' || { toolchain=; export RUSTC_BOOTSTRAP=1; }
status=0
for t in "${targets[@]}"; do
    log=fuzz/target/$t.log
    mkdir -p fuzz/target "fuzz/corpus/$t"
    start=$(date +%s)
    if cargo $toolchain fuzz run -a --sanitizer none "$t" "fuzz/corpus/$t" -- \
        "${limit[@]}" -max_len=8192 -print_final_stats=1 >"$log" 2>&1; then
        crashes=0
    else
        crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # Stopped on a crash: the last status line libFuzzer printed says how
    # many runs it had made.
    [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    echo "fuzz: $t: ${runs:-0} runs in $(($(date +%s) - start))s, $crashes crashes (log: $log)"
done
exit $status
