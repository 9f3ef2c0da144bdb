#!/usr/bin/env python3
"""series against git on the same work, at several series sizes, in one run.

usage: scripts/bench/scale.py [--runs N] [--sizes 5,50,100,445,1000]
                              [--slow-sizes 5,100,445] [--keep] [--work DIR]

On Debian's linux-source-6.12 as a git tree (86k files), repacked, with a
generated series (scripts/bench/make-series.py: mixed sizes, several files
per patch, later patches touching what earlier ones touched, a rename, a new
file, a deletion) and an upstream commit that modifies every file the series
modifies. Each comparison runs its commands interleaved, one warm-up round
first, then N timed rounds; each run is timed by GNU time (wall, user+system
CPU, peak RSS). Every rebase round starts with the objects earlier rounds
made pruned, so each command writes what it makes. --work puts the clones
elsewhere (a tmpfs, to keep a slow disk's metadata writes out of the CPU
times). Compared, for each size:

  rebase  series rebase  |  git replay --onto
          |  git replay + git format-patch
          |  git rebase in a worktree, default and feature.manyFiles (slow sizes)
  apply   series apply --checkout  |  git am (slow sizes), each on the clone
          with git's defaults and on the one with feature.manyFiles;
          series apply to a branch only (in memory)
  format  series format  |  git format-patch

and rebase and apply of 5 patches on a ten-file tree. The trees of the results
are compared for every comparison: rebase (series apply of the rebased series
on upstream) against git replay's last commit; apply against the series
branch's own last commit and against git am's; format's patch files against
git format-patch's, byte for byte except the signature line.

series is built once, by default (cargo build --release).
Prints a Markdown report on stdout. Needs git, GNU time (/usr/bin/time) and
python3.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def sh(cmd, cwd=None, env=None, check=True):
    r = subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit("bench: %s failed (%d):\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr))
    return r.stdout.strip()


def keep_packs(repo):
    """Record the packs `repo` holds now, for drop_new_packs."""
    sh("cd %s/.git/objects/pack && ls > ../../bench-packs" % repo)


def drop_new_packs(repo):
    """A shell command removing every pack made since keep_packs, and every
    loose object: what a command wrote in an earlier round (series writes a
    pack, git loose objects) is gone before the next."""
    return ("(cd {r}/.git/objects/pack && ls | grep -vxF -f ../../bench-packs | xargs -r rm -f)"
            " && git -C {r} prune --expire=now").format(r=repo)


def timed(cmd, cwd):
    """Run cmd under GNU time: (wall s, cpu s, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as f:
        r = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", f.name, "sh", "-c", cmd],
            cwd=cwd, capture_output=True, text=True,
        )
        if r.returncode != 0:
            sys.exit("bench: %s failed (%d):\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr))
        wall, user, sys_, rss = f.read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(rss) / 1024.0


def compare(name, cases, runs, cwd):
    """cases: [(label, prepare, command)]. Interleaved rounds after one
    warm-up round; returns {label: (median wall, median cpu, max rss)}."""
    samples = {label: [] for label, _, _ in cases}
    for round_ in range(runs + 1):
        for label, prepare, command in cases:
            if prepare:
                sh(prepare, cwd=cwd)
            t = timed(command, cwd)
            if round_ > 0:
                samples[label].append(t)
        print("bench: %s round %d/%d" % (name, round_, runs), file=sys.stderr)
    out = {}
    for label, s in samples.items():
        out[label] = (
            statistics.median(x[0] for x in s),
            statistics.median(x[1] for x in s),
            max(x[2] for x in s),
        )
    return out


def same_bodies(ours, theirs):
    """Whether every patch git format-patch wrote has the same message and
    diff (all after the headers, but the signature) in series format's
    output. Headers differ by design: series adds Message-Id, threading and
    recipients."""
    def body(path):
        data = open(path, "rb").read()
        data = data[data.index(b"\n\n") + 2:]
        return data[: data.rindex(b"\n-- \n")]
    for name in sorted(os.listdir(theirs)):
        if not os.path.exists(os.path.join(ours, name)):
            return "missing " + name
        if body(os.path.join(ours, name)) != body(os.path.join(theirs, name)):
            return "differs in " + name
    return "identical"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="5,50,100,445,1000")
    ap.add_argument("--slow-sizes", default="5,100,445",
                    help="sizes for the worktree commands (git rebase, git am)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--work", default=None,
                    help="folder for the clones (default: the system's temporary folder)")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    slow = [int(x) for x in a.slow_sizes.split(",") if int(x) in sizes]

    src = sh("%s/scripts/kernel-source.sh tree" % ROOT)
    work = tempfile.mkdtemp(prefix="series-bench-scale.", dir=a.work)
    a.work_dir = work
    # Copied, so that a rebuild during the run changes nothing.
    series = os.path.join(work, "series")
    sh("cargo build --release --quiet --manifest-path %s/Cargo.toml" % ROOT)
    shutil.copy(os.path.join(ROOT, "target/release/series"), series)
    if a.keep:
        print("bench: work folder %s" % work, file=sys.stderr)
    env = os.environ
    env.update({
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench Author", "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "Bench Author", "GIT_COMMITTER_EMAIL": "bench@example.org",
        "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000",
        "SERIES_NOW": "1700000000 +0000", "XDG_CACHE_HOME": os.path.join(work, "cache"),
    })
    try:
        run(a, sizes, slow, series, src, work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(a, sizes, slow, series, src, work):
    top = max(sizes)
    linux = os.path.join(work, "linux")
    mf = os.path.join(work, "linux-mf")
    # Two clones with worktrees: git's defaults, and feature.manyFiles as a
    # kernel developer would set it (index v4, untracked cache). No
    # automatic gc during the runs; everything packed before timing.
    # No reflogs: a rebased commit a reflog keeps would survive the prune
    # that starts every rebase round (below).
    sh("git clone -q -c gc.auto=0 -c core.logAllRefUpdates=false %s %s" % (src, linux))
    gen = sh("python3 %s/make-series.py %s v6.12 %d" % (HERE, linux, top))
    sh("git -C %s repack -adq" % linux)
    sh("git clone -q -c gc.auto=0 -c core.logAllRefUpdates=false -c feature.manyFiles=true %s %s" % (linux, mf))
    for r in (linux, mf):
        sh("git -C %s reflog expire --expire=now --all" % r)
    for n in sizes:
        sh("git -C %s branch -q -f gen%d origin/gen%d" % (mf, n, n))
    sh("git -C %s branch -q -f upstream origin/upstream" % mf)
    sh("git -C %s repack -adq" % mf)
    keep_packs(linux)
    keep_packs(mf)
    files = int(sh("git -C %s ls-tree -r v6.12 | wc -l" % linux))
    loose = sh("git -C %s count-objects -v | sed -n 's/^count: //p'" % linux)

    folders = {}
    for n in sizes:
        d = os.path.join(work, "p%d" % n)
        os.makedirs(d)
        sh("%s --tree %s init --base v6.12 --name gen%d v6.12..gen%d" % (series, linux, n, n), cwd=d)
        folders[n] = d

    results = {}
    trees = []

    def fresh(n, name):
        return "rm -rf {w}/{name} && cp -r {p} {w}/{name}".format(w=work, name=name, p=folders[n])

    # Every rebase round starts without the objects earlier rounds made
    # (no branch keeps them; new packs are removed, loose objects pruned),
    # so that each command
    # writes all the blobs, trees and commits it makes, as a rebase onto a
    # new base does. Otherwise git finds them already there and writes
    # nothing.
    def clean(r):
        return ("git -C {r} checkout -q -f --detach v6.12 && (git -C {r} branch -q -D work 2>/dev/null || true)"
                " && {drop}").format(r=r, drop=drop_new_packs(r))

    for n in sizes:
        replay = "git -C %s replay --onto upstream v6.12..gen%d" % (linux, n)
        cases = [
            ("series rebase", clean(linux) + " && " + fresh(n, "r"),
             "cd %s/r && %s --tree %s rebase upstream > /dev/null" % (work, series, linux)),
            ("git replay", clean(linux), "%s > /dev/null" % replay),
            ("git replay + format-patch", clean(linux) + " && rm -rf %s/fp" % work,
             "tip=$(%s | awk '{print $3}') && git -C %s format-patch -q -o %s/fp upstream..$tip" % (replay, linux, work)),
        ]
        if n in slow:
            cases += [
                ("git rebase", clean(linux) + " && git -C %s checkout -q -f -B work gen%d" % (linux, n), "git -C %s rebase -q upstream" % linux),
                ("git rebase, manyFiles", clean(mf) + " && git -C %s checkout -q -f -B work gen%d" % (mf, n), "git -C %s rebase -q upstream" % mf),
            ]
        results[("rebase", n)] = compare("rebase %d" % n, cases, a.runs, work)
        # Trees: series' rebased patches applied on upstream vs git replay's tip.
        sh(fresh(n, "r") + " && cd %s/r && %s --tree %s rebase upstream > /dev/null && %s --tree %s apply --branch check-rebase --force > /dev/null"
           % (work, series, linux, series, linux))
        t_series = sh("git -C %s rev-parse check-rebase^{tree}" % linux)
        sh("git -C %s branch -q -D check-rebase" % linux)
        t_replay = sh("git -C %s rev-parse $(%s | awk '{print $3}')^{tree}" % (linux, replay))
        trees.append(("rebase %d: series vs git replay" % n, t_series, t_replay))
        if n in slow:
            t_rebase = sh("git -C %s rev-parse work^{tree}" % linux)
            trees.append(("rebase %d: git rebase vs git replay" % n, t_rebase, t_replay))

    for n in sizes:
        p = folders[n]
        cases = [
            ("series apply --checkout", "git -C %s checkout -q -f --detach v6.12" % linux,
             "cd %s && %s --tree %s apply --branch applied --force --checkout > /dev/null" % (p, series, linux)),
            ("series apply --checkout, manyFiles", "git -C %s checkout -q -f --detach v6.12" % mf,
             "cd %s && %s --tree %s apply --branch applied --force --checkout > /dev/null" % (p, series, mf)),
            ("series apply, branch only", None,
             "cd %s && %s --tree %s apply --branch applied-mem --force > /dev/null" % (p, series, linux)),
        ]
        if n in slow:
            cases += [
                ("git am", "git -C %s checkout -q -f -B am v6.12" % linux,
                 "git -C %s am -q %s/series/patches/*.patch" % (linux, p)),
                ("git am, manyFiles", "git -C %s checkout -q -f -B am v6.12" % mf,
                 "git -C %s am -q %s/series/patches/*.patch" % (mf, p)),
            ]
        results[("apply", n)] = compare("apply %d" % n, cases, a.runs, work)
        t_gen = sh("git -C %s rev-parse gen%d^{tree}" % (linux, n))
        trees.append(("apply %d: series (checked out) vs the series' own commits" % n, sh("git -C %s rev-parse applied^{tree}" % linux), t_gen))
        trees.append(("apply %d: series (branch only) vs the series' own commits" % n, sh("git -C %s rev-parse applied-mem^{tree}" % linux), t_gen))
        trees.append(("apply %d: series (checked out, manyFiles) vs the series' own commits" % n, sh("git -C %s rev-parse applied^{tree}" % mf), t_gen))
        for r, what in ((linux, ""), (mf, ", manyFiles")):
            status = sh("git -C %s status --porcelain --untracked-files=no" % r)
            trees.append(("apply %d: series --checkout%s leaves a clean worktree" % (n, what), "clean" if not status else status[:60], "clean"))
        if n in slow:
            trees.append(("apply %d: git am vs the series' own commits" % n, sh("git -C %s rev-parse am^{tree}" % linux), t_gen))
            trees.append(("apply %d: git am (manyFiles) vs the series' own commits" % n, sh("git -C %s rev-parse am^{tree}" % mf), t_gen))

    for n in sizes:
        p = folders[n]
        cases = [
            ("series format", "rm -rf %s/sf" % work, "cd %s && %s --tree %s format -o %s/sf > /dev/null" % (p, series, linux, work)),
            ("git format-patch", "rm -rf %s/gf" % work, "git -C %s format-patch -q -o %s/gf v6.12..gen%d" % (linux, work, n)),
        ]
        results[("format", n)] = compare("format %d" % n, cases, a.runs, work)
        same = same_bodies(os.path.join(work, "sf"), os.path.join(work, "gf"))
        trees.append(("format %d: series vs git format-patch, message and diff of every patch" % n, same, "identical"))

    # Ten-file tree: the files gen5 changes and a few more, two commits.
    small = os.path.join(work, "small")
    paths = sh("git -C %s diff --no-renames --name-only --diff-filter=MD v6.12 gen5" % linux).split()
    for q in sh("git -C %s diff --name-only v6.12 upstream" % linux).split():
        if len(paths) >= 10:
            break
        if q not in paths:
            paths.append(q)
    sh("git init -q -b master %s" % small)
    for rev, msg in (("v6.12", "base"), ("upstream", "upstream")):
        for q in paths:
            data = subprocess.run(["git", "-C", linux, "show", "%s:%s" % (rev, q)], capture_output=True).stdout
            if data or rev == "v6.12":
                os.makedirs(os.path.dirname(os.path.join(small, q)), exist_ok=True)
                open(os.path.join(small, q), "wb").write(data)
        sh("git -C %s add -A && git -C %s commit -q -m %s" % (small, small, msg))
        sh("git -C %s tag %s" % (small, rev if rev == "v6.12" else "upstream"))
    sh("git -C %s reset -q --hard v6.12 && git -C %s am -q %s/series/patches/*.patch && git -C %s branch -f gen5 && git -C %s checkout -q --detach v6.12"
       % (small, small, folders[5], small, small))
    sp = os.path.join(work, "small5")
    os.makedirs(sp)
    sh("%s --tree %s init --base v6.12 --name small5 v6.12..gen5" % (series, small), cwd=sp)
    cases = [
        ("series rebase 5, ten-file tree", "rm -rf %s/sr && cp -r %s %s/sr" % (work, sp, work),
         "cd %s/sr && %s --tree %s rebase upstream > /dev/null" % (work, series, small)),
        ("series rebase 5, full tree", fresh(5, "r"), "cd %s/r && %s --tree %s rebase upstream > /dev/null" % (work, series, linux)),
        ("git replay 5, ten-file tree", None, "git -C %s replay --onto upstream v6.12..gen5 > /dev/null" % small),
        ("git replay 5, full tree", None, "git -C %s replay --onto upstream v6.12..gen5 > /dev/null" % linux),
        ("series apply 5, ten-file tree", None, "cd %s && %s --tree %s apply --branch applied --force > /dev/null" % (sp, series, small)),
        ("series apply 5, full tree", None, "cd %s && %s --tree %s apply --branch applied-mem --force > /dev/null" % (folders[5], series, linux)),
    ]
    results[("treesize", 5)] = compare("tree size", cases, a.runs, work)
    sh("rm -rf %s/sr && cp -r %s %s/sr && cd %s/sr && %s --tree %s rebase upstream > /dev/null && %s --tree %s apply --branch check-rebase --force > /dev/null"
       % (work, sp, work, work, series, small, series, small))
    trees.append(("rebase 5, ten-file tree: series vs git replay",
                  sh("git -C %s rev-parse check-rebase^{tree}" % small),
                  sh("git -C %s rev-parse $(git -C %s replay --onto upstream v6.12..gen5 | awk '{print $3}')^{tree}" % (small, small))))

    report(a, sizes, slow, results, trees, files, loose, gen)


def report(a, sizes, slow, results, trees, files, loose, gen):
    cpu = sh("sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1")
    mem = sh("awk '/MemTotal/ {printf \"%.0f GiB\", $2/1048576}' /proc/meminfo")
    git_version = sh("git --version")
    print("Tree: Debian linux-source-6.12, %d files, repacked (%s loose objects), gc.auto=0." % (files, loose))
    print("Series: scripts/bench/make-series.py (%s); upstream modifies every file the series modifies." % gen)
    fs = sh("df -T %s | awk 'NR==2 {print $2}'" % a.work_dir)
    print("Machine: %s cores (%s), %s; %s; clones on %s; one warm-up round, then %d interleaved rounds;"
          " medians of wall and of CPU (user+system) seconds, peak RSS the largest." % (os.cpu_count(), cpu, mem, git_version, fs, a.runs))
    print("Each rebase round starts with the objects of earlier rounds removed (new packs deleted, loose objects pruned): every command writes the objects it makes.")
    print()

    def ratio(x, y):
        return "%.2f" % (x / y) if y else "-"

    print("### Rebase onto upstream\n")
    print("| patches | series CPU | git replay CPU | series / replay | replay + format-patch CPU | series / (replay + format-patch) | git rebase CPU | git rebase (manyFiles) CPU | series wall | git replay wall | series peak MiB | git replay peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        r = results[("rebase", n)]
        s, g, gf = r["series rebase"], r["git replay"], r["git replay + format-patch"]
        gr = r.get("git rebase")
        grm = r.get("git rebase, manyFiles")
        print("| %d | %.3f | %.3f | %s | %.3f | %s | %s | %s | %.3f | %.3f | %.0f | %.0f |" % (
            n, s[1], g[1], ratio(s[1], g[1]), gf[1], ratio(s[1], gf[1]),
            "%.2f" % gr[1] if gr else "-", "%.2f" % grm[1] if grm else "-", s[0], g[0], s[2], g[2]))
    print("\n### Apply on v6.12\n")
    print("Wall seconds and peak MiB; \"mF\" is the clone with feature.manyFiles, for both tools.\n")
    print("| patches | series --checkout | git am | series / git am | series --checkout, mF | git am, mF | series / git am, mF | series peak | git am peak | series peak, mF | git am peak, mF | series branch only | branch only peak |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        r = results[("apply", n)]
        s, sm, m = r["series apply --checkout"], r["series apply --checkout, manyFiles"], r["series apply, branch only"]
        am, amm = r.get("git am"), r.get("git am, manyFiles")
        print("| %d | %.3f | %s | %s | %.3f | %s | %s | %.0f | %s | %.0f | %s | %.3f | %.0f |" % (
            n, s[0], "%.2f" % am[0] if am else "-", ratio(s[0], am[0]) if am else "-",
            sm[0], "%.2f" % amm[0] if amm else "-", ratio(sm[0], amm[0]) if amm else "-",
            s[2], "%.0f" % am[2] if am else "-", sm[2], "%.0f" % amm[2] if amm else "-", m[0], m[2]))
    print("\n### Format\n")
    print("| patches | series format wall | git format-patch wall | ratio | series CPU | git CPU |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        r = results[("format", n)]
        s, g = r["series format"], r["git format-patch"]
        print("| %d | %.3f | %.3f | %s | %.3f | %.3f |" % (n, s[0], g[0], ratio(s[0], g[0]), s[1], g[1]))
    print("\n### Cost per patch (CPU ms)\n")
    print("| patches | series rebase | git replay | series apply, branch only | series format |")
    print("|---|---|---|---|---|")
    for n in sizes:
        print("| %d | %.1f | %.1f | %.1f | %.1f |" % (
            n, 1000 * results[("rebase", n)]["series rebase"][1] / n, 1000 * results[("rebase", n)]["git replay"][1] / n,
            1000 * results[("apply", n)]["series apply, branch only"][1] / n, 1000 * results[("format", n)]["series format"][1] / n))
    print("\n### Tree size (5 patches)\n")
    print("| command | wall | CPU | peak MiB |")
    print("|---|---|---|---|")
    for label, (w, c, m) in results[("treesize", 5)].items():
        print("| %s | %.3f | %.3f | %.0f |" % (label, w, c, m))
    print("\n### Results compared\n")
    bad = 0
    for label, x, y in trees:
        ok = x == y
        bad += not ok
        print("- %s: %s" % (label, ("same (%s)" % x[:12]) if ok else "DIFFERENT (%s vs %s)" % (x[:40], y[:40])))
    if bad:
        sys.exit("bench: %d comparisons differ" % bad)


if __name__ == "__main__":
    main()
