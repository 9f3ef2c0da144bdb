#!/usr/bin/env bash
# Side by side, in one run, on Debian's linux-source-6.12 as a git tree, for
# a 5- and a 100-patch series of one-line notes, and the 445-patch series
# scripts/bench/make-series.py generates (mixed sizes, several files per
# patch, a new file, a rename, a deletion):
#   series check (no cache; and a rerun with nothing changed, cached)
#   checkpatch.pl, one process per patch, one after another
#   checkpatch.pl, one process for all the patches
#   b4 prep --check, with its cache emptied; and a rerun, cached
# Prints a Markdown report (medians and ratios) and whether series and
# checkpatch.pl report the same findings.
# usage: scripts/bench/check.sh [RUNS [RUNS_445]]   (RUNS_445 defaults to 1:
# one round of the 445-patch comparison takes about a quarter of an hour)
# Needs: hyperfine, b4 (pip install b4), git, perl.
set -euo pipefail
runs=${1:-3}
runs445=${2:-1}
here=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
series=$here/target/release/series
src=$("$here/scripts/kernel-source.sh" tree)
work=$(mktemp -d /tmp/series-bench-check.XXXXXX)
[ -n "${SERIES_BENCH_KEEP:-}" ] && echo "work folder: $work" >&2 || trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=$work/gitconfig GIT_CONFIG_NOSYSTEM=1
printf '[user]\n\tname = Bench Author\n\temail = bench@example.org\n' > "$GIT_CONFIG_GLOBAL"
export GIT_AUTHOR_DATE="1700000000 +0000" GIT_COMMITTER_DATE="1700000000 +0000"
export SERIES_NOW="1700000000 +0000"
export XDG_CACHE_HOME=$work/cache

git clone -q "$src" "$work/linux"
cd "$work/linux"
files=$(git ls-files 'mm/*.c' 'kernel/*.c' 'fs/*.c' | sed -n '1,100p')

# Patch i adds a small function after line 10 of file i; every tenth one
# leaves trailing whitespace, so the checkers have something to find.
make_series() { # N BRANCH
    git checkout -q -B "$2" v6.12
    local i=0 ws
    for f in $(echo "$files" | sed -n "1,${1}p"); do
        i=$((i + 1))
        ws=""; [ $((i % 10)) -eq 0 ] && ws="  "
        sed -i "10a /* series bench: patch $i */$ws" "$f"
        git commit -q -am "bench: note patch $i in $(basename "$f")" \
            -m "Mark the file for the benchmark of series check." \
            -m "Signed-off-by: Bench Author <bench@example.org>"
    done
}
python3 "$here/scripts/bench/make-series.py" . v6.12 445 > /dev/null
git branch -q -f check445 gen445
sizes="5 100 445"
for n in $sizes; do
    [ "$n" = 445 ] || make_series $n check$n
    mkdir -p "$work/p$n" && (cd "$work/p$n" && "$series" --tree "$work/linux" init --base v6.12 --name check$n --subject "bench: $n patches" "v6.12..check$n" > /dev/null)
    printf 'Benchmark series.\n' > "$work/p$n/series/cover.md"
    git checkout -q -B b4-$n check$n
    # With the fixed dates above, both branches would get the same cover
    # commit, and b4 then disowns one of them: enroll with the real clock.
    env -u GIT_AUTHOR_DATE -u GIT_COMMITTER_DATE b4 prep -e v6.12 > "$work/b4-enroll-$n.log" 2>&1 || { cat "$work/b4-enroll-$n.log" >&2; exit 1; }
done
# b4 must really check: fail loudly rather than time an error.
for n in $sizes; do
    git checkout -q b4-$n
    if ! b4 prep --check > "$work/b4-check-$n.log" 2>&1 || ! grep -q "^Success:" "$work/b4-check-$n.log"; then
        echo "b4 prep --check does not run on b4-$n:" >&2
        cat "$work/b4-check-$n.log" >&2
        exit 1
    fi
done
git checkout -q v6.12

cd "$work"
median() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(' '.join('%.4f' % x['median'] for x in r))" "$1"; }
for n in $sizes; do
    pdir=$work/p$n/series/patches
    r=$runs; [ "$n" = 445 ] && r=$runs445
    hyperfine --style none -i --runs "$r" --export-json "$work/check$n.json" \
        --prepare "true" \
        -n "series check $n, no cache" "cd $work/p$n && $series --tree $work/linux check --no-cache" \
        --prepare "cd $work/p$n && $series --tree $work/linux check > /dev/null 2>&1 || true" \
        -n "series check $n, cached rerun" "cd $work/p$n && $series --tree $work/linux check" \
        --prepare "true" \
        -n "checkpatch.pl $n, a process each" "cd $work/linux && for p in $pdir/*.patch; do ./scripts/checkpatch.pl -q \$p > /dev/null; done" \
        --prepare "true" \
        -n "checkpatch.pl $n, one process" "cd $work/linux && ./scripts/checkpatch.pl -q $pdir/*.patch" \
        --prepare "rm -rf $XDG_CACHE_HOME/b4" \
        -n "b4 prep --check $n, no cache" "cd $work/linux && git checkout -q b4-$n && b4 prep --check" \
        --prepare "true" \
        -n "b4 prep --check $n, cached rerun" "cd $work/linux && git checkout -q b4-$n && b4 prep --check" \
        > /dev/null
done

# The same findings: checkpatch's own totals against series' checkpatch findings.
findings() { # N -> "errors warnings" from series, then from checkpatch.pl
    (cd "$work/p$1" && "$series" --tree "$work/linux" check --no-cache --json || true) |
        python3 -c "import json,sys; f=[x for x in json.load(sys.stdin)['findings'] if x['source']=='checkpatch']; print(sum(x['severity']=='error' for x in f), sum(x['severity']=='warning' for x in f))"
    (cd "$work/linux" && ./scripts/checkpatch.pl "$work/p$1/series/patches/"*.patch || true) |
        awk '/^total:/ {e+=$2; w+=$4} END {print e+0, w+0}'
}
ratio() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
echo "Tree: Debian linux-source-6.12; checkpatch.pl of that tree; $(b4 --version | head -1 | sed 's/^/b4 /'); $(nproc) cores; hyperfine, $runs runs each ($runs445 for 445 patches), medians in seconds."
echo
echo "| patches | series check | series check, cached rerun | checkpatch.pl, a process each | checkpatch.pl, one process | b4 prep --check | b4, cached rerun | series / b4 | series cached / b4 cached |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in $sizes; do
    read -r s sc cp1 cpall b4 b4c <<< "$(median "$work/check$n.json")"
    echo "| $n | $s | $sc | $cp1 | $cpall | $b4 | $b4c | $(ratio "$s" "$b4") | $(ratio "$sc" "$b4c") |"
done
echo
for n in $sizes; do
    read -r se sw ce cw <<< "$(findings $n | tr '\n' ' ')"
    echo "Findings, $n patches: series reports $se errors and $sw warnings from checkpatch; checkpatch.pl alone $ce and $cw."
done
