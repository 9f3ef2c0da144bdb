#!/usr/bin/env python3
"""Make a realistic synthetic patch series on a kernel tree, for benchmarks.

usage: make-series.py REPO BASE COUNT [SEED]

Writes, with one `git fast-import` (no worktree, no index):
  refs/heads/gen<N>     the first N commits of a COUNT-commit series on BASE,
                        for N in 5, 50, 100, 445, 1000 (those up to COUNT)
                        and COUNT itself
  refs/heads/upstream   one commit on BASE that appends a line to every file
                        the series modifies (never one it renames or deletes),
                        so a rebase onto it merges every file, without conflicts

The series: commit 2 adds a new file, commit 3 renames a file (and edits it),
commit 4 deletes one; every other commit edits 1 to 5 C files with 1 to 4
hunks each (new blocks of up to 40 lines, rewritten lines, deleted lines),
and about half of its files are ones earlier commits already touched. No
edit comes within 6 lines of a file's end, where upstream appends. The same
SEED gives the same series, byte for byte.
"""
import random
import subprocess
import sys

PREFIXES = (5, 50, 100, 445, 1000)
MARGIN = 6  # lines at the end of a file that the series never touches


def git(repo, *args, data=None):
    return subprocess.run(
        ["git", "-C", repo, *args], input=data, check=True, capture_output=True
    ).stdout


def main():
    repo, base, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 445)
    base_id = git(repo, "rev-parse", base + "^{commit}").decode().strip()
    listing = git(repo, "ls-tree", "-r", "-l", base_id)
    pool = []
    for line in listing.decode().splitlines():
        meta, path = line.split("\t", 1)
        _, kind, oid, size = meta.split()
        if kind == "blob" and path.endswith(".c") and 8000 <= int(size) <= 120000:
            pool.append((path, oid))
    pool.sort()
    rng.shuffle(pool)
    pool = pool[:3000]

    # File contents at BASE, read once through one cat-file process.
    cat = subprocess.run(
        ["git", "-C", repo, "cat-file", "--batch"],
        input="".join(oid + "\n" for _, oid in pool).encode(),
        check=True,
        capture_output=True,
    ).stdout
    files, at = {}, 0
    for path, _ in pool:
        header_end = cat.index(b"\n", at)
        size = int(cat[at:header_end].split()[2])
        files[path] = cat[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
    current = {p: files[p].split(b"\n") for p, _ in pool}

    untouched = [p for p, _ in pool]
    touched, renamed_from, deleted, added = [], set(), set(), set()

    def take_untouched():
        p = untouched.pop()
        touched.append(p)
        return p

    def edit(path, i):
        lines = current[path]
        limit = len(lines) - MARGIN
        for h in range(rng.randint(1, 4)):
            at = rng.randint(10, max(11, limit - 45))
            kind = rng.random()
            if kind < 0.5:
                n = rng.choice((1, 2, 3, 5, 8, 13, 21, 40))
                block = [b"\t/* gen %d.%d: line %d of a new block */" % (i, h, k) for k in range(n)]
                lines[at:at] = block
            elif kind < 0.85:
                n = rng.randint(1, 6)
                for k in range(at, min(at + n, limit)):
                    lines[k] = lines[k] + b" /* gen %d.%d */" % (i, h)
            else:
                n = rng.randint(1, 4)
                del lines[at : min(at + n, limit)]
            limit = len(lines) - MARGIN

    out = []
    mark = 0

    def blob(data):
        nonlocal mark
        mark += 1
        out.append(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        return mark

    when = 1700000000
    parent = base_id
    marks = {}
    for i in range(1, count + 1):
        changes = []
        if i == 2:
            path = "mm/gen_new_file.c"
            body = b"".join(b"/* gen: line %d of a new file */\n" % k for k in range(60))
            changes.append(b"M 100644 :%d %s\n" % (blob(body), path.encode()))
            added.add(path)
            subject = "gen: add %s" % path
        elif i == 3:
            old = take_untouched()
            touched.remove(old)
            new = old[:-2] + "_renamed.c"
            current[new] = current.pop(old)
            renamed_from.add(old)
            edit(new, i)
            touched.append(new)
            changes.append(b"D %s\n" % old.encode())
            changes.append(b"M 100644 :%d %s\n" % (blob(b"\n".join(current[new])), new.encode()))
            subject = "gen: rename %s" % old
        elif i == 4:
            gone = untouched.pop()
            deleted.add(gone)
            changes.append(b"D %s\n" % gone.encode())
            subject = "gen: delete %s" % gone
        else:
            n = rng.choice((1, 1, 1, 2, 2, 3, 5))
            chosen = []
            for _ in range(n):
                if touched and (rng.random() < 0.5 or not untouched):
                    p = rng.choice(touched)
                else:
                    p = take_untouched()
                if p not in chosen:
                    chosen.append(p)
            for p in chosen:
                edit(p, i)
                changes.append(b"M 100644 :%d %s\n" % (blob(b"\n".join(current[p])), p.encode()))
            subject = "gen: patch %d, %d file%s" % (i, len(chosen), "" if len(chosen) == 1 else "s")
        message = ("%s\n\nGenerated change %d of %d for the series benchmarks.\n\n"
                   "Signed-off-by: Bench Author <bench@example.org>\n" % (subject, i, count)).encode()
        mark += 1
        marks[i] = mark
        out.append(b"commit refs/heads/gen%d\nmark :%d\n" % (count, mark))
        out.append(b"author Bench Author <bench@example.org> %d +0000\n" % (when + i))
        out.append(b"committer Bench Author <bench@example.org> %d +0000\n" % (when + i))
        out.append(b"data %d\n%s" % (len(message), message))
        out.append(b"from %s\n" % (parent.encode() if isinstance(parent, str) else b":%d" % parent))
        out.extend(changes)
        out.append(b"\n")
        parent = mark

    for n in sorted(set(PREFIXES) | {count}):
        if n <= count:
            out.append(b"reset refs/heads/gen%d\nfrom :%d\n\n" % (n, marks[n]))

    # Upstream: a line appended to every file the series modifies.
    changes = []
    for p in sorted(set(touched) - added):
        if p in files:
            data = files[p] + (b"" if files[p].endswith(b"\n") else b"\n") + b"/* upstream: a later change */\n"
            changes.append(b"M 100644 :%d %s\n" % (blob(data), p.encode()))
    message = b"upstream: touch the files the series touches\n"
    out.append(b"commit refs/heads/upstream\n")
    out.append(b"author Upstream <upstream@example.org> %d +0000\n" % when)
    out.append(b"committer Upstream <upstream@example.org> %d +0000\n" % when)
    out.append(b"data %d\n%s" % (len(message), message))
    out.append(b"from %s\n" % base_id.encode())
    out.extend(changes)
    out.append(b"\n")

    git(repo, "fast-import", "--quiet", "--force", data=b"".join(out))
    print("%d commits, %d files touched, upstream modifies %d" % (count, len(touched), len(changes)))


if __name__ == "__main__":
    main()
