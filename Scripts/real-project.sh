#!/usr/bin/env bash
# A real open-source C project built through sshcc and a real sshd, checked against a local build.
#
#   Scripts/real-project.sh [BIN]      (BIN: directory of the built sshcc, sshccd, sshcc-mux; default: debug build)
#
# Project: the Brotli C library and its command-line tool (36 C files), as bundled in the `brotli` source
# distribution on PyPI (pinned version and SHA-256). It is built twice with `make -j4`, CC=gcc and
# CC="sshcc gcc", with the flags autotools uses by default (-g -O2) plus -MMD, and then:
#   - every object and every .d file must be byte-identical to the local build's;
#   - every object must have been compiled remotely (sshccd's job count);
#   - the sshcc-built `brotli` must round-trip files (compress, decompress, compare), and read what the
#     local build wrote.
# Exit status 0 only if all of that holds.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. Scripts/loopback-sshd.sh

version=1.2.1
sha256=02b2f7b5a83485efe448a44ddf7983def05c3bb1dcf917d4f7154070260e13de
bin=${1:-}
if [[ -z $bin ]]; then
    swift build 2>&1 | tail -1
    bin=$(swift build --show-bin-path)
fi

work=$(mktemp -d /tmp/sshcc-real.XXXXXX)
chmod 755 "$work"
sshd_pid=""
cleanup() {
    SSHCC_DIR="$work/mux" "$bin/sshcc" --stop >/dev/null 2>&1 || true
    [[ -n $sshd_pid ]] && kill "$sshd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== fetching brotli $version (PyPI source distribution)"
cache=${SSHCC_CACHE:-$HOME/.cache/sshcc}
mkdir -p "$cache"
archive=$cache/brotli-$version.tar.gz
if [[ ! -f $archive ]]; then
    python3 -m pip download --quiet --no-deps --no-binary :all: "brotli==$version" -d "$cache"
fi
actual=$(sha256sum "$archive" | cut -d' ' -f1)
if [[ $actual != "$sha256" ]]; then
    echo "checksum mismatch for $archive: $actual" >&2
    exit 1
fi

for build in local remote; do
    mkdir -p "$work/$build"
    tar -xzf "$archive" -C "$work/$build" --strip-components=1
    # The sdist has no Makefile (setup.py builds it for Python); this one builds the library and the tool.
    cat > "$work/$build/Makefile" <<'MAKE'
CFLAGS = -g -O2 -MMD
SOURCES = $(wildcard c/common/*.c c/dec/*.c c/enc/*.c) c/tools/brotli.c
OBJECTS = $(SOURCES:.c=.o)
brotli: $(OBJECTS)
	$(CC) $(OBJECTS) -lm -o $@
%.o: %.c
	$(CC) $(CFLAGS) -Ic/include -c $< -o $@
-include $(OBJECTS:.o=.d)
MAKE
done
files=$(cd "$work/local" && ls c/*/*.c | wc -l)

echo "== local build: make -j4 CC=gcc ($files files)"
make -s -C "$work/local" -j4 CC=gcc

echo "== remote build: make -j4 CC=\"sshcc gcc\" through a private sshd on 127.0.0.1"
start_loopback_sshd "$work" "$bin/sshccd" "$work"
export SSHCC_HOSTS="127.0.0.1:$port/4" SSHCC_IDENTITY="$work/id_ed25519" SSHCC_KNOWN_HOSTS="$work/known_hosts"
export SSHCC_DIR="$work/mux" SSHCC_FALLBACK=0
# The object records its directory (DW_AT_comp_dir): build the remote tree at the local tree's path.
mv "$work/local" "$work/local-done"
mv "$work/remote" "$work/local"
make -s -C "$work/local" -j4 CC="$bin/sshcc gcc"
mv "$work/local" "$work/remote"
mv "$work/local-done" "$work/local"

echo "== comparing"
differ=0
for object in $(cd "$work/local" && ls c/*/*.o); do
    for file in "$object" "${object%.o}.d"; do
        if ! cmp -s "$work/local/$file" "$work/remote/$file"; then
            echo "   DIFFERS: $file"
            differ=$((differ + 1))
        fi
    done
done
jobs=$(grep -c '] info: job ' "$work/sshccd.log" || true)
echo "   $files objects and .d files compared, $differ differ; sshccd compiled $jobs jobs"

echo "== round trip with the sshcc-built brotli"
head -c 3000000 /dev/urandom > "$work/random.bin"
cat "$repo"/Sources/*/*.swift "$repo"/Docs/*.md > "$work/text.txt"
for input in "$work/random.bin" "$work/text.txt"; do
    "$work/remote/brotli" -c "$input" > "$input.br"
    "$work/remote/brotli" -d -c "$input.br" | cmp - "$input"
    "$work/local/brotli" -c "$input" | "$work/remote/brotli" -d -c | cmp - "$input"
    echo "   $(basename "$input"): $(stat -c %s "$input") → $(stat -c %s "$input.br") bytes and back: identical"
done

[[ $differ -eq 0 && $jobs -eq $files ]] || { echo "FAILED"; exit 1; }
echo "OK: brotli built through sshcc is byte-identical to the local build and round-trips"
