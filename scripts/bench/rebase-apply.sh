#!/usr/bin/env bash
# Side by side, in one run, on Debian's linux-source-6.12 as a git tree:
#   series rebase  vs  git rebase      (5 and 100 patches, onto a base that
#                                       touches the same files, no conflicts)
#   series rebase on the full tree vs the same rebase on a ten-file tree
#   series apply   vs  git am  vs  quilt push -a   (120 patches)
# Prints a Markdown report (medians of hyperfine runs and ratios) on stdout.
# usage: scripts/bench/rebase-apply.sh [RUNS]   (SERIES_BENCH_KEEP=1 keeps the work folder)
# Needs: hyperfine, quilt, git; `cargo build --release` is run first.
set -euo pipefail
runs=${1:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
series=$here/target/release/series
src=$("$here/scripts/kernel-source.sh" tree)
work=$(mktemp -d /tmp/series-bench.XXXXXX)
[ -n "${SERIES_BENCH_KEEP:-}" ] && echo "work folder: $work" >&2 || trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Bench Author" GIT_AUTHOR_EMAIL=bench@example.org
export GIT_COMMITTER_NAME="Bench Author" GIT_COMMITTER_EMAIL=bench@example.org
export GIT_AUTHOR_DATE="1700000000 +0000" GIT_COMMITTER_DATE="1700000000 +0000"
export SERIES_NOW="1700000000 +0000"

# A full clone (hard links) with its worktree checked out.
git clone -q "$src" "$work/linux"
cd "$work/linux"
files=$(git ls-files 'mm/*.c' 'kernel/*.c' 'fs/*.c' | sed -n '1,120p')

# The series: patch i inserts a line after line 10 of file i. The new base
# appends a line to the end of each of those files: same files, no conflict.
make_series() { # N BRANCH
    git checkout -q -B "$2" v6.12
    local i=0
    for f in $(echo "$files" | sed -n "1,${1}p"); do
        i=$((i + 1))
        sed -i "10a /* series bench: patch $i */" "$f"
        git commit -q -am "bench: patch $i of $1 in $f" -m "Signed-off-by: Bench Author <bench@example.org>"
    done
}
git checkout -q -B newbase v6.12
for f in $files; do echo "/* series bench: upstream */" >> "$f"; done
git commit -q -am "bench: upstream touches the same files"
make_series 5 series5
make_series 100 series100
make_series 120 series120
git checkout -q v6.12

# Series folders imported from the branches; each run starts from a copy.
for n in 5 100 120; do
    mkdir -p "$work/p$n"
    (cd "$work/p$n" && "$series" --tree "$work/linux" init --base v6.12 --name bench$n "v6.12..series$n" > /dev/null)
done

# The ten-file tree: the five files the 5-patch series touches plus five
# more, with the same two bases.
mkdir -p "$work/small" && cd "$work/small" && git init -q -b master
for f in $(echo "$files" | sed -n '1,10p'); do mkdir -p "$(dirname "$f")"; git -C "$work/linux" show "v6.12:$f" > "$f"; done
git add -A && git commit -q -m base && git tag v6.12
git checkout -q -B newbase
for f in $(echo "$files" | sed -n '1,10p'); do echo "/* series bench: upstream */" >> "$f"; done
git commit -q -am "bench: upstream"
git checkout -q -B series5 v6.12
i=0; for f in $(echo "$files" | sed -n '1,5p'); do i=$((i + 1)); sed -i "10a /* series bench: patch $i */" "$f"; git commit -q -am "bench: patch $i of 5 in $f" -m "Signed-off-by: Bench Author <bench@example.org>"; done
git checkout -q v6.12
mkdir -p "$work/small5" && (cd "$work/small5" && "$series" --tree "$work/small" init --base v6.12 --name small5 v6.12..series5 > /dev/null)

cd "$work"
hf() { # NAME COMMAND... (hyperfine JSON into $work/NAME.json)
    local name=$1; shift
    hyperfine --style none --runs "$runs" --export-json "$work/$name.json" "$@" > /dev/null
}
median() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(' '.join('%.4f' % x['median'] for x in r))" "$1"; }

for n in 5 100; do
    hf rebase$n \
        --prepare "rm -rf $work/r$n && cp -r $work/p$n $work/r$n" \
        -n "series rebase $n" "cd $work/r$n && $series --tree $work/linux rebase newbase" \
        --prepare "git -C $work/linux checkout -q -f -B work series$n" \
        -n "git rebase $n" "git -C $work/linux rebase -q newbase"
done
hf rebase-small \
    --prepare "rm -rf $work/s5 && cp -r $work/small5 $work/s5" \
    -n "series rebase 5, ten-file tree" "cd $work/s5 && $series --tree $work/small rebase newbase" \
    --prepare "rm -rf $work/r5 && cp -r $work/p5 $work/r5" \
    -n "series rebase 5, full tree" "cd $work/r5 && $series --tree $work/linux rebase newbase"

# Apply 120 patches: series apply (a branch, in memory), git am (worktree),
# quilt push -a (worktree).
git -C "$work/linux" checkout -q -f v6.12
mkdir -p "$work/quilt/patches"
ls "$work/p120/series/patches" > "$work/quilt/patches/series"
cp "$work/p120/series/patches/"*.patch "$work/quilt/patches/"
hf apply120 \
    --prepare "true" \
    -n "series apply 120" "cd $work/p120 && $series --tree $work/linux apply --branch bench-apply --force" \
    --prepare "git -C $work/linux am --abort 2>/dev/null; git -C $work/linux checkout -q -f -B am v6.12" \
    -n "git am 120" "git -C $work/linux am -q $work/p120/series/patches/*.patch" \
    --prepare "cd $work/linux && git checkout -q -f v6.12 && git clean -qfdx && rm -rf .pc patches && cp -r $work/quilt/patches patches" \
    -n "quilt push -a 120" "cd $work/linux && QUILT_PATCHES=patches quilt push -q -a"

# The resulting trees must be the same.
t_series=$(git -C "$work/linux" rev-parse bench-apply^{tree})
git -C "$work/linux" checkout -q -f -B am v6.12 && git -C "$work/linux" am -q "$work/p120/series/patches/"*.patch
t_am=$(git -C "$work/linux" rev-parse HEAD^{tree})
cd "$work/linux" && git checkout -q -f v6.12 && git clean -qfdx && rm -rf .pc patches && cp -r "$work/quilt/patches" patches
QUILT_PATCHES=patches quilt push -q -a > /dev/null
rm -rf patches .pc && git add -A && t_quilt=$(git write-tree) && git reset -q --hard
cd "$work" && rm -rf r100 && cp -r p100 r100 && (cd r100 && "$series" --tree "$work/linux" rebase newbase > /dev/null)
git -C "$work/linux" checkout -q -f -B work series100 && git -C "$work/linux" rebase -q newbase
t_git_rebase=$(git -C "$work/linux" rev-parse HEAD^{tree})
git -C "$work/linux" checkout -q -f -B check newbase && git -C "$work/linux" am -q "$work/r100/series/patches/"*.patch
t_series_rebase=$(git -C "$work/linux" rev-parse HEAD^{tree})

read -r s5 g5 <<< "$(median rebase5.json)"
read -r s100 g100 <<< "$(median rebase100.json)"
read -r small full <<< "$(median rebase-small.json)"
read -r sa am quilt <<< "$(median apply120.json)"
ratio() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
same() { [ "$1" = "$2" ] && echo "identical ($1)" || echo "DIFFERENT ($1 vs $2)"; }
cat <<EOF
Tree: Debian linux-source-6.12 ($(git -C "$work/linux" ls-files | wc -l) files), one commit.
Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); hyperfine, $runs runs each, medians in seconds.

| comparison | series | reference | ratio |
|---|---|---|---|
| rebase 5 patches (vs git rebase) | $s5 | $g5 | $(ratio "$s5" "$g5") |
| rebase 100 patches (vs git rebase) | $s100 | $g100 | $(ratio "$s100" "$g100") |
| apply 120 patches (vs git am) | $sa | $am | $(ratio "$sa" "$am") |
| apply 120 patches (vs quilt push -a) | $sa | $quilt | $(ratio "$sa" "$quilt") |
| rebase 5 patches: full tree vs ten-file tree | $full | $small | $(ratio "$full" "$small") |

Resulting trees: apply: series vs git am $(same "$t_series" "$t_am"); git am vs quilt $(same "$t_am" "$t_quilt").
Rebase 100: series (git am of its patches on the new base) vs git rebase $(same "$t_series_rebase" "$t_git_rebase").
EOF
