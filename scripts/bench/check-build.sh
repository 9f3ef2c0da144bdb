#!/usr/bin/env bash
# series check --build on a real kernel series, side by side with what a
# developer runs by hand for the same work (`git rebase --exec` of the same
# build command in a worktree), in one run:
#   by hand      git worktree at the base, the build, then git rebase -x
#   cold         series check --build, ccache and series' build cache empty
#   ccache       series check --build --no-cache, ccache filled by the run before
#   cached       series check --build, with series' build cache filled
#   distcc cold  as cold, the compiles sent to a distccd on 127.0.0.1
#                (DISTCC_HOSTS, through ccache's CCACHE_PREFIX)
# for the first N commits of BASE..TIP. The build command compiles, with
# x86_64_defconfig, the objects of the .c files the N patches touch that the
# configuration builds (found once, untimed, with make -k at the base).
# Prints a Markdown table of wall times and whether series named the same
# failures (none expected) as the by-hand run.
# usage: scripts/bench/check-build.sh LINUX BASE TIP N
#   e.g. the Clear Linux series scripts/bench/real-series.py --keep leaves:
#   scripts/bench/check-build.sh WORK/linux debian-6.12.117 distro 20
# Needs: git, make, gcc, flex, bison, bc, libelf-dev, ccache, distcc (distccd).
set -euo pipefail
linux=$1 base=$2 tip=$3 n=$4
here=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
series=$here/target/release/series
work=$(mktemp -d "${TMPDIR:-/var/tmp}/series-bench-build.XXXXXX")
[ -n "${SERIES_BENCH_KEEP:-}" ] && echo "work folder: $work" >&2
cleanup() {
    [ -n "${distccd_pid:-}" ] && kill -- -"$distccd_pid" 2>/dev/null || true
    git -C "$work/linux" worktree prune 2>/dev/null || true
    [ -n "${SERIES_BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
export GIT_CONFIG_GLOBAL=$work/gitconfig GIT_CONFIG_NOSYSTEM=1
printf '[user]\n\tname = Bench Author\n\temail = bench@example.org\n' > "$GIT_CONFIG_GLOBAL"
export SERIES_NOW="1700000000 +0000" XDG_CACHE_HOME=$work/cache CCACHE_DIR=$work/ccache
export LC_ALL=C

git clone -q --shared "$linux" "$work/linux"
git -C "$work/linux" fetch -q "$linux" "$tip:bench-tip" "+refs/tags/*:refs/tags/*"
last=$(git -C "$work/linux" rev-list --reverse "$base..bench-tip" | sed -n "${n}p")
[ -n "$last" ] || { echo "bench: fewer than $n commits in $base..$tip" >&2; exit 2; }
git -C "$work/linux" branch -q -f bench "$last"

# The objects: each touched .c file's .o that x86_64_defconfig builds.
objs=$(git -C "$work/linux" diff --name-only "$base" bench -- '*.c' | sed 's/\.c$/.o/' | tr '\n' ' ')
git -C "$work/linux" worktree add -q --detach "$work/probe" "$base"
(cd "$work/probe" && make -s x86_64_defconfig >/dev/null && CCACHE_DISABLE=1 make -s -k -j"$(nproc)" $objs >/dev/null 2>&1) || true
built=""
for o in $objs; do [ -f "$work/probe/$o" ] && built="$built $o"; done
git -C "$work/linux" worktree remove --force "$work/probe"
[ -n "$built" ] || { echo "bench: x86_64_defconfig builds none of: $objs" >&2; exit 2; }
cmd="test -f .config || make -s x86_64_defconfig >/dev/null; make -s -j\$SERIES_BUILD_JOBS$built"

mkdir -p "$work/p"
(cd "$work/p" && "$series" --tree "$work/linux" init --base "$base" --name bench "$base..bench" >/dev/null)
echo "Benchmark." > "$work/p/series/cover.md"

now() { date +%s.%N; }
secs() { python3 -c "print('%.1f' % ($2 - $1))"; }
declare -A took
run_series() { # NAME ARGS...
    local name=$1 t0 t1
    shift
    t0=$(now)
    (cd "$work/p" && "$series" --tree "$work/linux" check --json --build "$cmd" "$@" > "$work/$name.json") || true
    t1=$(now)
    took[$name]=$(secs "$t0" "$t1")
}

# By hand: the base, then every commit, in one worktree (cold ccache).
rm -rf "$CCACHE_DIR"
export PATH=/usr/lib/ccache:$PATH SERIES_BUILD_JOBS=$(nproc)
t0=$(now)
git -C "$work/linux" worktree add -q --detach "$work/hand" "$base"
(cd "$work/hand" && sh -c "$cmd" > "$work/hand.log" 2>&1 \
    && git checkout -q -B hand bench && git rebase -q -x "$cmd" "$base" >> "$work/hand.log" 2>&1) || echo "bench: the by-hand build failed" >&2
t1=$(now)
took[hand]=$(secs "$t0" "$t1")
git -C "$work/linux" worktree remove --force "$work/hand"

rm -rf "$CCACHE_DIR" "$XDG_CACHE_HOME"
run_series cold
run_series ccache --no-cache
run_series cached

# distcc: one distccd on a free port of 127.0.0.1, the same cores.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# As root, distccd runs as nobody: its log is in a folder anyone can write.
chmod 755 "$work" && mkdir -m 777 "$work/distcc" && touch "$work/distcc/distccd.log" && chmod 666 "$work/distcc/distccd.log"
setsid distccd --daemon --no-detach --listen 127.0.0.1 --port "$port" --allow 127.0.0.1 \
    --user nobody --log-level info --log-file "$work/distcc/distccd.log" --jobs "$(nproc)" &
distccd_pid=$!
sleep 1
rm -rf "$CCACHE_DIR" "$XDG_CACHE_HOME"
DISTCC_HOSTS="127.0.0.1:$port/$(nproc)" run_series distcc
compiles=$(grep -c "COMPILE_OK" "$work/distcc/distccd.log" || true)

note() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['build'])" "$work/$1.json"; }
warnings() { python3 -c "import json,sys; print(sum(1 for f in json.load(open(sys.argv[1]))['findings'] if f['rule']=='build-warning'))" "$work/$1.json"; }
echo "Series: the first $n commits of $base..$tip; objects built:$built"
echo "Build: x86_64_defconfig, make -j$(nproc) of those objects; $(nproc) CPUs; $(gcc --version | head -1); $(git --version)."
echo
echo "| run | wall s | vs by hand | series' build line |"
echo "|---|---|---|---|"
echo "| by hand: worktree, build, git rebase -x | ${took[hand]} | 1.00 | - |"
for r in cold ccache cached distcc; do
    ratio=$(python3 -c "print('%.2f' % (${took[$r]} / ${took[hand]}))")
    echo "| series check --build: $r | ${took[$r]} | $ratio | $(note "$r" | tr '|' '/') |"
done
echo
echo "distccd on 127.0.0.1 compiled $compiles objects. New warnings named: cold $(warnings cold), cached $(warnings cached), distcc $(warnings distcc)."
