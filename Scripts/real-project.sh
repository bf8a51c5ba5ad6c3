#!/usr/bin/env bash
# A real open-source C project built through sshcc and a real sshd, checked against a local build.
#
#   Scripts/real-project.sh [BIN]      (BIN: directory of the built sshcc, sshccd, sshcc-mux; default: debug build)
#
# Project: the Brotli C library and its command-line tool (36 C files), as bundled in the `brotli` source
# distribution on PyPI (pinned version and SHA-256). It is built twice with `make -j4`, CC=gcc and
# CC="sshcc gcc", and then:
#   - with -O2 -MMD, every object and every .d file must be byte-identical to the local build's, and every
#     object compiled remotely (sshccd's job count);
#   - the sshcc-built `brotli` must round-trip files (compress, decompress, compare), and read what the
#     local build wrote;
#   - with -g -O2 -MMD (autotools' default), every object must be byte-identical too.
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

make_scratch_directory sshcc-real

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

# build TREE CC CFLAGS: the library and the tool with make -j4 (the sdist has no Makefile: setup.py builds it
# for Python). The tree is always built at $work/tree, so both builds record the same DWARF directory.
build() {
    local tree=$1 cc=$2 cflags=$3
    rm -rf "$work/tree"
    mkdir -p "$work/tree"
    tar -xzf "$archive" -C "$work/tree" --strip-components=1
    cat > "$work/tree/Makefile" <<'MAKE'
SOURCES = $(wildcard c/common/*.c c/dec/*.c c/enc/*.c) c/tools/brotli.c
OBJECTS = $(SOURCES:.c=.o)
brotli: $(OBJECTS)
	$(CC) $(OBJECTS) -lm -o $@
%.o: %.c
	$(CC) $(CFLAGS) -Ic/include -c $< -o $@
-include $(OBJECTS:.o=.d)
MAKE
    make -s -C "$work/tree" -j4 CC="$cc" CFLAGS="$cflags"
    rm -rf "$work/$tree"
    mv "$work/tree" "$work/$tree"
}

start_loopback_sshd "$work" "$bin/sshccd" "$work"
export SSHCC_HOSTS="127.0.0.1:$port/4" SSHCC_IDENTITY="$work/id_ed25519" SSHCC_KNOWN_HOSTS="$work/known_hosts"
export SSHCC_DIR="$work/mux" SSHCC_FALLBACK=0
files=$(tar -tzf "$archive" | grep -cE '/c/(common|dec|enc|tools)/[^/]*\.c$')
failed=0

# 1. Release flags: every object and dependency file byte-identical, every compile remote.
echo "== make -j4 CFLAGS='-O2 -MMD': CC=gcc, then CC='sshcc gcc' through sshd on 127.0.0.1:$port ($files files)"
build local gcc "-O2 -MMD"
before=$(grep -c '] info: job ' "$work/sshccd.log" 2>/dev/null || true)
build remote "$bin/sshcc gcc" "-O2 -MMD"
jobs=$(( $(grep -c '] info: job ' "$work/sshccd.log") - before ))
differ=0
for object in $(cd "$work/local" && ls c/*/*.o); do
    for file in "$object" "${object%.o}.d"; do
        cmp -s "$work/local/$file" "$work/remote/$file" || { echo "   DIFFERS: $file"; differ=$((differ + 1)); }
    done
done
echo "   $files objects + $files .d files: $differ differ; sshccd compiled $jobs of $files"
[[ $differ -eq 0 && $jobs -eq $files ]] || failed=1

echo "== round trip with the sshcc-built brotli"
head -c 3000000 /dev/urandom > "$work/random.bin"
cat "$repo"/Sources/*/*.swift "$repo"/Docs/*.md > "$work/text.txt"
for input in "$work/random.bin" "$work/text.txt"; do
    "$work/remote/brotli" -c "$input" > "$input.br"
    "$work/remote/brotli" -d -c "$input.br" | cmp - "$input"
    "$work/local/brotli" -c "$input" | "$work/remote/brotli" -d -c | cmp - "$input"
    echo "   $(basename "$input"): $(stat -c %s "$input") → $(stat -c %s "$input.br") bytes and back: identical"
done

# 2. Debug flags (autotools' default -g -O2): every object byte-identical; where one is not, which of code,
#    symbols and debug information entries differ is shown.
echo "== make -j4 CFLAGS='-g -O2 -MMD'"
build local gcc "-g -O2 -MMD"
build remote "$bin/sshcc gcc" "-g -O2 -MMD"
same=0
for object in $(cd "$work/local" && ls c/*/*.o); do
    if cmp -s "$work/local/$object" "$work/remote/$object"; then same=$((same + 1)); continue; fi
    echo "   DIFFERS: $object"
    failed=1
    for dump in "objdump -d" "readelf --debug-dump=info" "readelf --debug-dump=str" "readelf -s"; do
        if ! diff -q <(cd "$work/local" && $dump "$object" | tail -n +3) \
            <(cd "$work/remote" && $dump "$object" | tail -n +3) >/dev/null; then
            echo "   DIFFERS beyond the line table ($dump): $object"
            failed=1
        fi
    done
    cmp -s "$work/local/${object%.o}.d" "$work/remote/${object%.o}.d" || { echo "   DIFFERS: ${object%.o}.d"; failed=1; }
done
echo "   -g objects byte-identical: $same of $files"

[[ $failed -eq 0 ]] || { echo "FAILED"; exit 1; }
echo "OK: brotli built through sshcc matches the local build and round-trips"
