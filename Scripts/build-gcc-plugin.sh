#!/usr/bin/env bash
# Builds sshcc's gcc plugin (Sources/GCCPlugin) for each gcc on this machine that has plugin headers
# (Debian: gcc-N-plugin-dev), into DIR (default /usr/local/lib/sshcc/gcc-plugins, where sshccd looks):
#
#   Scripts/build-gcc-plugin.sh [DIR] [COMPILER...]     (COMPILER: default gcc and every gcc-N on PATH)
#
# One file per gcc build, named after the compiler and its version; sshccd tries each with each compiler
# and uses the one that loads. Exit status 1 if no plugin could be built.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/usr/local/lib/sshcc/gcc-plugins}
shift || true
compilers=("$@")
if [[ ${#compilers[@]} -eq 0 ]]; then
    compilers=(gcc)
    for candidate in $(compgen -c gcc- | grep -E '^gcc-[0-9]+$' | sort -u); do compilers+=("$candidate"); done
fi
mkdir -p "$out"
built=0
for cc in "${compilers[@]}"; do
    command -v "$cc" >/dev/null || continue
    headers=$("$cc" -print-file-name=plugin)/include
    if [[ ! -f $headers/gcc-plugin.h ]]; then
        echo "$cc: no plugin headers (Debian: apt-get install gcc-$("$cc" -dumpversion | cut -d. -f1)-plugin-dev)" >&2
        continue
    fi
    cxx=${cc/gcc/g++}
    command -v "$cxx" >/dev/null || cxx=g++
    name=sshcc-producer-gcc-$("$cc" -dumpfullversion)-$("$cc" -dumpmachine).so
    [[ -f $out/$name && $out/$name -nt Sources/GCCPlugin/sshcc_producer.cc ]] && { built=$((built + 1)); continue; }
    "$cxx" -shared -fPIC -fno-rtti -O2 -I"$headers" Sources/GCCPlugin/sshcc_producer.cc -o "$out/$name.tmp"
    mv "$out/$name.tmp" "$out/$name"
    chmod 644 "$out/$name"
    echo "$out/$name"
    built=$((built + 1))
done
[[ $built -gt 0 ]]
