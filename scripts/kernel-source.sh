#!/usr/bin/env bash
# Unpack Debian's linux-source-6.12 into a cache, once.
#   scripts/kernel-source.sh scripts   checkpatch.pl, spelling.txt,
#                                      const_structs.checkpatch, get_maintainer.pl,
#                                      kernel-doc and MAINTAINERS, for tests
#   scripts/kernel-source.sh tree      the whole tree as a git repository,
#                                      for benchmarks
# Prints the folder. The cache is ${SERIES_CACHE:-$HOME/.cache/series}.
set -euo pipefail
what=${1:-scripts}
cache=${SERIES_CACHE:-$HOME/.cache/series}
tarball=/usr/src/linux-source-6.12.tar.xz
if [ ! -f "$tarball" ]; then
    echo "kernel-source: installing linux-source-6.12" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends linux-source-6.12 xz-utils >&2
fi
mkdir -p "$cache"
case "$what" in
scripts)
    dir=$cache/linux-6.12-scripts
    # .done-2: the set of files below (kernel-doc was added); an older
    # cache is unpacked again.
    if [ ! -f "$dir/.done-2" ]; then
        rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
        tar -xJf "$tarball" -C "$dir.tmp" --strip-components=1 \
            linux-source-6.12/scripts/checkpatch.pl \
            linux-source-6.12/scripts/spelling.txt \
            linux-source-6.12/scripts/const_structs.checkpatch \
            linux-source-6.12/scripts/get_maintainer.pl \
            linux-source-6.12/scripts/kernel-doc \
            linux-source-6.12/MAINTAINERS
        touch "$dir.tmp/.done-2"
        rm -rf "$dir" && mv "$dir.tmp" "$dir"
    fi
    ;;
tree)
    dir=$cache/linux-6.12
    if [ ! -f "$dir/.git/series-done" ]; then
        rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
        tar -xJf "$tarball" -C "$dir.tmp" --strip-components=1
        (
            cd "$dir.tmp"
            export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
            export GIT_AUTHOR_NAME=Debian GIT_AUTHOR_EMAIL=debian@localhost
            export GIT_COMMITTER_NAME=Debian GIT_COMMITTER_EMAIL=debian@localhost
            export GIT_AUTHOR_DATE="1700000000 +0000" GIT_COMMITTER_DATE="1700000000 +0000"
            git init -q -b master
            git add -A --force    # Debian appends "/*" to .gitignore
            git commit -q -m "Linux 6.12 (Debian linux-source-6.12)"
            git tag v6.12
            touch .git/series-done
        ) >&2
        rm -rf "$dir" && mv "$dir.tmp" "$dir"
    fi
    ;;
*)
    echo "usage: $0 scripts|tree" >&2
    exit 2
    ;;
esac
echo "$dir"
