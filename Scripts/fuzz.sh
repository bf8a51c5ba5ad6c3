#!/usr/bin/env bash
# Fuzzes what sshccd does with a client's bytes, and the mux socket's both sides (Sources/WireFuzzing) with libFuzzer for a fixed budget and
# prints its figures. Usage: Scripts/fuzz.sh [SECONDS] (default 300).
# Crashes land in .build-fuzz/crashes/; keep each as a named regression test in
# Tests/DistccWireTests/FuzzRegressions/ (FuzzRegressionTests replays every file there).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
build=.build-fuzz
# Swift's own crash backtracer fights AddressSanitizer over a trapped input; libFuzzer reports it anyway.
export SWIFT_BACKTRACE=enable=no
mkdir -p "$build/modules" "$build/corpus" "$build/crashes"
# swiftc directly: SwiftPM's --sanitize fuzzer left the library targets without coverage counters here.
flags=(-parse-as-library -O -sanitize=fuzzer,address -I "$build/modules" -I Sources/CZstd -I Sources/CLZO
    -Xcc -I/usr/include/lzo)
for module in WireCompression CompileCore ServerPolicy DistccWire KnownHostsFormat MuxCore WireFuzzing; do
    swiftc "${flags[@]}" -emit-library -static -module-name "$module" Sources/"$module"/*.swift \
        -emit-module-path "$build/modules/$module.swiftmodule" -o "$build/modules/lib$module.a"
done
swiftc "${flags[@]}" Fuzz/FuzzMain.swift -L "$build/modules" -lWireFuzzing -lMuxCore -lKnownHostsFormat -lDistccWire -lServerPolicy -lCompileCore \
    -lWireCompression -lzstd -llzo2 \
    -o "$build/sshcc-fuzz" 2>&1 | grep -v "Cannot export local symbol" || true
# Seeds: the regression inputs and a few well-formed requests and replies (first byte: the piece size).
cp Tests/DistccWireTests/FuzzRegressions/* "$build/corpus/" 2>/dev/null || true
python3 - "$build/corpus" <<'PY'
import base64, sys
def frame(token, n): return token.encode() + b"%08x" % n
def request(args, source, version=1):
    b = frame("DIST", version) + frame("ARGC", len(args))
    for a in args: b += frame("ARGV", len(a.encode())) + a.encode()
    return b + frame("DOTI", len(source)) + source
seeds = {
    "request-c": request(["gcc", "-O2", "-c", "a.c", "-o", "/x/a.o"], b"int x;\n"),
    "request-flags": request(["g++", "-std=c++17", "-Wa,--noexecstack", "-fdebug-prefix-map=/a=/b", "-x", "c++", "-c", "b.cc"], b"asm(\".incbin \\\"/etc/passwd\\\"\");"),
    "request-hostile": request(["gcc", "-fplugin=/tmp/p.so", "@/etc/passwd", "-B/tmp", "-c", "a.c"], b"#pragma GCC pch_preprocess \"/x\"\n"),
    # "int x;\n" as LZO1X (protocol 2) and as a zstd frame with its size and one raw block (protocol 4).
    "request-lzo": request(["gcc", "-c", "a.c"], bytes([17 + 7]) + b"int x;\n" + b"\x11\x00\x00", 2),
    "request-zstd": request(["gcc", "-c", "a.c"], b"\x28\xb5\x2f\xfd\x20\x07\x39\x00\x00int x;\n", 4),
    # A host certificate as ssh-keyscan -c prints it (ssh-keygen -s, an ed25519 CA), decoded.
    "host-certificate": base64.b64decode("AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIM6d9E/Zgi6B9hDvyxF2SdLFsdIwFuxjWQyzdcjPiYJrAAAAIHIxa52dV6ZjsVXNlLMYeht386dmNivATPH3LI1XJ3KkAAAAAAAAAAAAAAACAAAAA3dlYgAAACIAAAASYnVpbGQqLmV4YW1wbGUub3JnAAAACDEwLjAuMC43AAAAAGd0hYAAAAAAekMrgAAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgu5YeFhLfNqxzGw7mb4Jea/UCBrpO8e6EP2eiHJ9ukncAAABTAAAAC3NzaC1lZDI1NTE5AAAAQKorHBFY3xO2bck6ahWBsUcEadra332ukJN+wZZ/vC59k8W6EtEOOopLsWZwuiI7l7AcJmxhuPWXg9UCpZsA0Qo="),
    # The mux socket: a wrapper's job with its source in two pieces, an older wrapper's job, and answers.
    "mux-job": frame("MUXV", 12) + b"5 sshcc fuzz" + frame("HOST", 5) + b"a/2\nb" + frame("IOTM", 2) + b"30"
        + frame("JOBA", 18) + b"gcc\0-c\0a.c\0-o\0a.o\0" + frame("JOBC", 3) + b"int" + frame("JOBS", 4) + b" x;\n",
    "mux-old-wrapper": frame("MUXV", 11) + b"4 sshcc 0.1" + frame("JOBH", 4) + b"DIST" + frame("STOP", 0),
    "mux-answer": frame("MUXV", 12) + b"5 sshcc fuzz" + frame("NOTE", 4) + b"h: x" + frame("RHST", 1) + b"h"
        + frame("RSTA", 3) + b"256" + frame("RERR", 2) + b"w\n" + frame("ROUT", 0) + frame("ROBJ", 4) + b"\x7fELF",
    "mux-failure": frame("MUXV", 12) + b"5 sshcc fuzz" + frame("FAIL", 9) + b"104\ndown\n",
    # Protocol 7: a question (DOTH, a SHA-256) answered NEED (digest's first byte even), then the source as one
    # zstd frame; and one answered by a reply (odd), then the next request.
    "question-need": request(["gcc", "-c", "a.c"], b"", 7)[:-12] + frame("DOTH", 32) + bytes(32)
        + frame("DOTI", 16) + b"\x28\xb5\x2f\xfd\x20\x07\x39\x00\x00int x;\n",
    "question-answered": request(["gcc", "-c", "a.c"], b"", 7)[:-12] + frame("DOTH", 32) + bytes([1]) * 32
        + request(["gcc", "-c", "b.c"], b"", 7),
    "need": frame("NEED", 0),
    "reply": frame("DONE", 1) + frame("STAT", 0) + frame("SERR", 3) + b"err" + frame("SOUT", 0) + frame("DOTO", 4) + b"\x7fELF",
}
for name, body in seeds.items():
    for piece in (0, 7, 255):
        open(f"{sys.argv[1]}/{name}-{piece}", "wb").write(bytes([piece]) + body)
PY
cat > "$build/dictionary" <<'DICT'
"DIST"
"ARGC"
"ARGV"
"DOTI"
"DONE"
"STAT"
"SERR"
"SOUT"
"DOTO"
"DOTH"
"NEED"
"00000001"
"-fplugin="
"-Wa,"
"-x"
"-o"
"-c"
"/"
"@"
".incbin"
".include"
"pch_preprocess"
"MUXV"
"JOBA"
"JOBC"
"JOBS"
"RSTA"
"ROBJ"
"STOP"
"5 sshcc fuzz"
"-cert-v01@openssh.com"
DICT
"$build/sshcc-fuzz" "$build/corpus" -dict="$build/dictionary" -max_total_time="$seconds" \
    -artifact_prefix="$build/crashes/" -print_final_stats=1 -max_len=4096 -timeout=10 2>&1 \
    | grep -E "^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written|INFO: Seed|Done )" || true
echo "crashes kept in $build/crashes: $(ls "$build/crashes" | wc -l)"
