#!/usr/bin/env python3
"""series against git on a real distribution's kernel patch series, carried
from one release of the kernel to the next, in one run.

usage: scripts/bench/real-series.py --packaging DIR [--rev REV] [--spec FILE]
                                    [--older VERSION] [--runs N] [--keep]
                                    [--work DIR]

The trees: two consecutive releases of Debian's linux-source-6.12 binary
package, each unpacked and committed into one git repository (the older one,
then the newer one on top of it): the newer is the one installed, the older
is downloaded with `apt-get download linux-source-6.12=VERSION` (default:
the newest older version apt knows). Both are cached under
${SERIES_CACHE:-~/.cache/series}.

The series: the patches a distribution's kernel package applies, in the
order its RPM spec file lists them (`PatchNNNN:` lines), taken from a clone
of the packaging repository (--packaging, at --rev). Written for the
Clear Linux package `clearlinux-pkgs/linux` at a 6.12 version (d02388c,
6.12.12), whose patches are git format-patch mails; any spec file with
`Patch` lines works. Each patch is committed on the older release with git
am (a mail) or git apply and a commit (a plain diff); a patch that no
longer applies there is left out and counted.

Compared, interleaved after one warm-up round, N timed rounds, each command
under GNU time (wall, user+system CPU, peak RSS):

  rebase  series rebase <newer>  |  git replay --onto <newer>
          (every round starts without the objects earlier rounds made: new
          packs removed, loose objects pruned)
  apply   series apply --checkout  |  git am, both on the older release
          checked out in the same clone

and the results: series' rebased patches applied on the newer release
against git replay's last commit (trees), series apply's branch against the
series' own commits and against git am's (trees), and a clean worktree after
series apply --checkout. Prints a Markdown report. Needs git, GNU time
(/usr/bin/time), apt-get, dpkg-deb, xz and python3; the clones are made in
--work (default: the system's temporary folder; use a folder on disk, not a
tmpfs, for the figures docs/PERFORMANCE.md quotes).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from scale import compare, drop_new_packs, keep_packs, sh  # noqa: E402

PACKAGE = "linux-source-6.12"
TARBALL = "usr/src/linux-source-6.12.tar.xz"


def versions():
    """(installed version, the next older version apt knows)."""
    installed = sh("dpkg-query -W -f '${Version}' %s" % PACKAGE)
    known = sh("apt-cache madison %s | awk -F'|' '{gsub(/ /, \"\", $2); print $2}'" % PACKAGE).split()
    older = [v for v in known if subprocess.run(
        ["dpkg", "--compare-versions", v, "lt", installed]).returncode == 0]
    if not older:
        sys.exit("bench: apt knows no %s older than %s" % (PACKAGE, installed))
    older.sort(key=lambda v: [int(x) if x.isdigit() else x for x in re.split(r"[.~+-]", v)])
    return installed, older[-1]


def upstream_of(version):
    """6.12.117-1~deb12u1 -> 6.12.117"""
    return version.split("-")[0]


def trees(cache, older, newer):
    """A git repository holding the older release and, on top of it, the
    newer one; tags debian-<upstream> for each. Made once."""
    repo = os.path.join(cache, "linux-6.12-%s-%s" % (upstream_of(older), upstream_of(newer)))
    if os.path.exists(os.path.join(repo, ".git", "series-done")):
        return repo
    tmp = repo + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    debs = os.path.join(cache, "debs")
    os.makedirs(debs, exist_ok=True)
    deb = [f for f in os.listdir(debs) if f.startswith("%s_%s_" % (PACKAGE, older.replace(":", "%3a")))]
    if not deb:
        sh("cd %s && apt-get download -qq %s=%s" % (debs, PACKAGE, older))
        deb = [f for f in os.listdir(debs) if f.startswith(PACKAGE + "_")]
    older_tar = os.path.join(tmp, "older.tar.xz")
    sh("dpkg-deb --fsys-tarfile %s | tar -xO ./%s > %s" % (os.path.join(debs, deb[0]), TARBALL, older_tar))
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="Debian", GIT_AUTHOR_EMAIL="debian@localhost",
               GIT_COMMITTER_NAME="Debian", GIT_COMMITTER_EMAIL="debian@localhost",
               GIT_AUTHOR_DATE="1700000000 +0000", GIT_COMMITTER_DATE="1700000000 +0000")
    work = os.path.join(tmp, "linux")
    os.makedirs(work)
    sh("git init -q -b master && git config gc.auto 0", cwd=work, env=env)
    for tarball, version in ((older_tar, older), ("/" + TARBALL, newer)):
        # Everything but .git goes, then the release is unpacked in its place.
        sh("find . -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +", cwd=work, env=env)
        sh("tar -xJf %s --strip-components=1" % tarball, cwd=work, env=env)
        # Debian appends "/*" to .gitignore: add everything.
        sh("git add -A --force && git commit -q -m 'Linux %s (Debian %s %s)' && git tag debian-%s"
           % (upstream_of(version), PACKAGE, version, upstream_of(version)), cwd=work, env=env)
    sh("git repack -adq && touch .git/series-done", cwd=work, env=env)
    os.remove(older_tar)
    shutil.rmtree(repo, ignore_errors=True)
    os.rename(work, repo)
    shutil.rmtree(tmp)
    return repo


def spec_patches(packaging, rev, spec):
    """The spec's patches in its order: [(name, bytes)]."""
    text = sh("git -C %s show %s:%s" % (packaging, rev, spec))
    names = re.findall(r"^Patch\d+:\s*(\S+)", text, re.M)
    out = []
    for name in names:
        data = subprocess.run(["git", "-C", packaging, "show", "%s:%s" % (rev, name)],
                              capture_output=True).stdout
        out.append((name, data))
    return out


def commit_patches(linux, base, patches, work):
    """Commit each patch on `base` as branch `distro`; returns (applied
    names, left-out names)."""
    sh("git checkout -q -f -B distro %s" % base, cwd=linux)
    applied, left = [], []
    for i, (name, data) in enumerate(patches):
        path = os.path.join(work, "p.patch")
        open(path, "wb").write(data)
        if subprocess.run(["git", "apply", "--check", path], cwd=linux,
                          capture_output=True).returncode != 0:
            left.append(name)
            continue
        date = "%d +0000" % (1700000000 + 60 * i)
        env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        mail = re.search(rb"^Subject: ", data, re.M) and re.search(rb"^From: ", data, re.M)
        if mail:
            r = subprocess.run(["git", "am", "-q", "--keep-cr", path], cwd=linux, env=env,
                               capture_output=True)
            if r.returncode != 0:
                sh("git am --abort", cwd=linux, check=False)
                left.append(name)
                continue
        else:
            sh("git apply --index %s && git commit -q -m %s" % (path, name[:-len(".patch")] if name.endswith(".patch") else name),
               cwd=linux, env=env)
        applied.append(name)
    return applied, left


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--packaging", required=True, help="a clone of the distribution's kernel packaging")
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--spec", default="linux.spec")
    ap.add_argument("--older", default=None, help="the older %s version (default: the one before the installed one)" % PACKAGE)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--work", default=None)
    a = ap.parse_args()

    newer, older = versions()
    if a.older:
        older = a.older
    cache = os.environ.get("SERIES_CACHE", os.path.expanduser("~/.cache/series"))
    src = trees(cache, older, newer)
    base, onto = "debian-" + upstream_of(older), "debian-" + upstream_of(newer)

    work = tempfile.mkdtemp(prefix="series-bench-real.", dir=a.work)
    series = os.path.join(work, "series")
    sh("cargo build --release --quiet --manifest-path %s/Cargo.toml" % ROOT)
    shutil.copy(os.path.join(ROOT, "target/release/series"), series)
    if a.keep:
        print("bench: work folder %s" % work, file=sys.stderr)
    os.environ.update({
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench Author", "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "Bench Author", "GIT_COMMITTER_EMAIL": "bench@example.org",
        "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000",
        "SERIES_NOW": "1700000000 +0000", "XDG_CACHE_HOME": os.path.join(work, "cache"),
    })
    try:
        run(a, series, src, work, base, onto, older, newer)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(a, series, src, work, base, onto, older, newer):
    linux = os.path.join(work, "linux")
    # No reflogs and no automatic gc: a rebased commit a reflog kept would
    # survive the prune that starts every rebase round.
    sh("git clone -q -c gc.auto=0 -c core.logAllRefUpdates=false %s %s" % (src, linux))
    sh("git -C %s branch -q -f %s origin/master && git -C %s fetch -q --tags origin" % (linux, "newer", linux))
    patches = spec_patches(a.packaging, a.rev, a.spec)
    applied, left = commit_patches(linux, base, patches, work)
    n = len(applied)
    if n == 0:
        sys.exit("bench: no patch of %s applies on %s" % (a.spec, base))
    sh("git -C %s checkout -q -f --detach %s && git -C %s reflog expire --expire=now --all && git -C %s repack -adq"
       % (linux, base, linux, linux))
    keep_packs(linux)
    stat = sh("git -C %s diff --shortstat %s distro" % (linux, base))
    upstream_stat = sh("git -C %s diff --shortstat %s %s" % (linux, base, onto))
    files = int(sh("git -C %s ls-tree -r %s | wc -l" % (linux, onto)))
    folder = os.path.join(work, "p")
    os.makedirs(folder)
    sh("%s --tree %s init --base %s --name distro %s..distro" % (series, linux, base, base), cwd=folder)
    packaging_rev = sh("git -C %s rev-parse --short %s" % (a.packaging, a.rev))
    packaging_name = sh("git -C %s config --get remote.origin.url || basename %s" % (a.packaging, a.packaging), check=False)

    def fresh(name):
        return "rm -rf {w}/{name} && cp -r {p} {w}/{name}".format(w=work, name=name, p=folder)

    def clean():
        return ("git -C {r} checkout -q -f --detach {b} && (git -C {r} branch -q -D am applied 2>/dev/null || true)"
                " && {drop}").format(r=linux, b=base, drop=drop_new_packs(linux))

    replay = "git -C %s replay --onto %s %s..distro" % (linux, onto, base)
    results = {}
    results["rebase"] = compare("rebase", [
        ("series rebase", clean() + " && " + fresh("r"),
         "cd %s/r && %s --tree %s rebase %s > /dev/null" % (work, series, linux, onto)),
        ("git replay", clean(), "%s > /dev/null" % replay),
    ], a.runs, work)
    results["apply"] = compare("apply", [
        ("series apply --checkout", clean(),
         "cd %s && %s --tree %s apply --branch applied --force --checkout > /dev/null" % (folder, series, linux)),
        ("git am", clean() + " && git -C %s checkout -q -f -B am %s" % (linux, base),
         "git -C %s am -q %s/series/patches/*.patch" % (linux, folder)),
    ], a.runs, work)

    checks = []
    sh(fresh("r") + " && cd %s/r && %s --tree %s rebase %s > /dev/null && %s --tree %s apply --branch check-rebase --force > /dev/null"
       % (work, series, linux, onto, series, linux))
    checks.append(("rebase: series (its rebased patches applied on %s) vs git replay" % onto,
                   sh("git -C %s rev-parse check-rebase^{tree}" % linux),
                   sh("git -C %s rev-parse $(%s | awk '{print $3}')^{tree}" % (linux, replay))))
    # Its objects are in a pack the next clean removes.
    sh("git -C %s branch -q -D check-rebase" % linux)
    sh(clean())
    sh("cd %s && %s --tree %s apply --branch applied --force --checkout > /dev/null" % (folder, series, linux))
    own = sh("git -C %s rev-parse distro^{tree}" % linux)
    checks.append(("apply: series --checkout vs the series' own commits", sh("git -C %s rev-parse applied^{tree}" % linux), own))
    status = sh("git -C %s status --porcelain --untracked-files=no" % linux)
    checks.append(("apply: series --checkout leaves a clean worktree", "clean" if not status else status[:60], "clean"))
    sh("git -C %s checkout -q -f -B am %s && git -C %s am -q %s/series/patches/*.patch" % (linux, base, linux, folder))
    checks.append(("apply: git am vs the series' own commits", sh("git -C %s rev-parse am^{tree}" % linux), own))

    cpu = sh("sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1")
    fs = sh("df -T %s | awk 'NR==2 {print $2}'" % work)
    print("Trees: Debian %s %s as %s, and %s as %s on top of it (%d files)." % (PACKAGE, older, base, newer, onto, files))
    print("%s..%s: %s." % (base, onto, upstream_stat))
    print("Series: the patches of %s at %s (%s), in its order: %d of %d applied on %s (%s); left out, not applying there: %s."
          % (a.spec, packaging_rev, packaging_name, n, len(patches), base, stat, ", ".join(left) or "none"))
    print("Machine: %s cores (%s); %s; clones on %s; one warm-up round, then %d interleaved rounds;"
          " medians of wall and of CPU (user+system) seconds, peak RSS the largest." % (
              os.cpu_count(), cpu, sh("git --version"), fs, a.runs))
    print()
    print("| work | series CPU | git CPU | series / git CPU | series wall | git wall | series / git wall | series peak MiB | git peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for what, ours, theirs in (("rebase", "series rebase", "git replay"), ("apply", "series apply --checkout", "git am")):
        s, g = results[what][ours], results[what][theirs]
        print("| %s: %s vs %s | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f | %.0f | %.0f |" % (
            what, ours, theirs, s[1], g[1], s[1] / g[1] if g[1] else 0, s[0], g[0], s[0] / g[0] if g[0] else 0, s[2], g[2]))
    print()
    bad = 0
    for label, x, y in checks:
        ok = x == y
        bad += not ok
        print("- %s: %s" % (label, ("same (%s)" % x[:12]) if ok else "DIFFERENT (%s vs %s)" % (x[:40], y[:40])))
    if bad:
        sys.exit("bench: %d comparisons differ" % bad)


if __name__ == "__main__":
    main()
