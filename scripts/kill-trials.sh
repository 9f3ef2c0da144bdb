#!/usr/bin/env bash
# Kill `series` at a random moment of a command that saves series/, many
# times, and check after each kill that series/ is the old state or the new
# one, never a mix, that a read then works, and that the command then runs
# to the end. Prints one line per command and a total.
#   scripts/kill-trials.sh [TRIALS]     (default 200 per command)
set -euo pipefail
trials=${1:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
series=$here/target/release/series
work=$(mktemp -d /tmp/series-kill.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Kill Trial" GIT_AUTHOR_EMAIL=kill@example.org
export GIT_COMMITTER_NAME="Kill Trial" GIT_COMMITTER_EMAIL=kill@example.org
export GIT_AUTHOR_DATE="1700000000 +0000" GIT_COMMITTER_DATE="1700000000 +0000"
export SERIES_NOW="1700000000 +0000"

# A tree with a base, 40 patches on it and a new base beside it.
tree=$work/tree
git init -q -b main "$tree"
cd "$tree"
printf 'L:\tlinux-mm@kvack.org\n' >MAINTAINERS
mkdir -p mm scripts
for i in $(seq 1 40); do seq 1 200 >"mm/f$i.c"; done
git add -A && git commit -qm base && git tag base
for i in $(seq 1 40); do
    sed -i "10a patch $i" "mm/f$i.c"
    git commit -qam "mm: patch $i" -m "Change f$i." -m "Signed-off-by: Kill Trial <kill@example.org>"
done
git checkout -q -b newbase base
for i in $(seq 1 40); do echo "upstream $i" >>"mm/f$i.c"; done
git commit -qam upstream && git tag newbase
git checkout -q main
proj=$work/proj
mkdir -p "$proj"
cd "$proj"
"$series" --tree "$tree" init --base base --subject "mm: trial" >/dev/null
printf 'The trial series.\n' >series/cover.md
"$series" bench new t --title T >/dev/null
cp -a series "$work/pristine"

digest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha1sum) | sha1sum | cut -c1-40; }
reset() { rm -rf "$proj/series" "$proj"/.series* "$proj/outgoing"; cp -a "$work/pristine" "$proj/series"; }

total_old=0 total_new=0 total_bad=0
trial_set() {
    local name=$1; shift
    reset
    local old; old=$(digest "$proj/series")
    local t0 t1
    t0=$(date +%s%N)
    "$series" "$@" >/dev/null
    t1=$(date +%s%N)
    local new; new=$(digest "$proj/series")
    local span=$(( (t1 - t0) / 1000 ))   # microseconds
    local nold=0 nnew=0 nbad=0
    for _ in $(seq 1 "$trials"); do
        reset
        "$series" "$@" >/dev/null 2>&1 &
        local pid=$!
        local delay=$(( RANDOM * RANDOM % (span + 1) ))
        sleep "$(printf '0.%06d' "$delay")" 2>/dev/null || true
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        # status reads the series: 0 ready to send, 5 not ready; else broken
        local rc=0
        "$series" status >/dev/null 2>&1 || rc=$?
        if [ "$rc" != 0 ] && [ "$rc" != 5 ]; then
            nbad=$((nbad + 1)); continue
        fi
        local now
        if [ -d "$proj/series" ]; then now=$(digest "$proj/series"); else now=$(digest "$proj/.series.old"); fi
        if [ "$now" = "$old" ]; then nold=$((nold + 1))
        elif [ "$now" = "$new" ]; then nnew=$((nnew + 1))
        else nbad=$((nbad + 1)); continue
        fi
        # The command runs to the end afterwards.
        if ! "$series" "$@" >/dev/null 2>&1 || [ "$(digest "$proj/series")" != "$new" ]; then
            nbad=$((nbad + 1))
        fi
    done
    echo "kill-trials: $name: $trials kills over ${span}us: $nold old, $nnew new, $nbad mixed or unusable"
    total_old=$((total_old + nold)); total_new=$((total_new + nnew)); total_bad=$((total_bad + nbad))
}

trial_set "rebase of 40 patches" --tree "$tree" rebase newbase
trial_set "format (list names learned)" --tree "$tree" format --to linux-mm
trial_set "bench record" bench record t --row r --mean 1 --rsd 1
echo "kill-trials: total: $((total_old + total_new + total_bad)) kills: $total_old old, $total_new new, $total_bad mixed or unusable"
[ "$total_bad" -eq 0 ]
