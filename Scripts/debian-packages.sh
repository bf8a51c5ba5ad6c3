#!/usr/bin/env bash
# Real Debian source packages built as Debian builds them (dpkg-buildpackage, Debian's hardening flags, -g),
# once with the local compiler and once through sshcc and a real sshd, in the same directory; then every
# .deb and every file in it must be byte-identical.
#
#   Scripts/debian-packages.sh [--long] [BIN]   (BIN: directory of sshcc, sshccd, sshcc-mux; default debug build)
#
# Default: lua5.4 (C, and a C++ flavour of the library built by g++ from the same .c files). --long adds
# bzip2 (C), tinyxml2 (C++, CMake) and lz4 (C), and builds each also with DEB_BUILD_OPTIONS=noopt (-O0), except
# tinyxml2, whose -O0 build fails locally (its symbols file lists one symbol fewer than -O0 exports).
# Sources come from deb.debian.org's pool, pinned by the .dsc's SHA-256 (dpkg-source checks the rest). The
# compilers are reached through sshcc's masquerade directory first on PATH (gcc, cc, g++, c++ and the
# x86_64-linux-gnu- names), as a user would set it up; SSHCC_FALLBACK=0, so a job sshcc could not compile
# remotely fails the build instead of hiding behind a local compile. Installs the packages' build
# dependencies (root). Exit status 0 only if every .deb is identical and sshccd compiled jobs of each build.
set -euo pipefail
cd "$(dirname "$0")/.."
. Scripts/loopback-sshd.sh
long=0
[[ ${1:-} == --long ]] && { long=1; shift; }
bin=${1:-}
if [[ -z $bin ]]; then
    swift build 2>&1 | tail -1
    bin=$(swift build --show-bin-path)
fi

# name version dsc-sha256 build-dependencies -O0-too
packages=(
    "lua5.4 5.4.4-3+deb12u1 d47c50154294a68c8a209c5d61bc09e5b22891c01b7c47501ac3f9725eb4a813 debhelper,quilt,libtool,libreadline-dev,autoconf yes"
)
if [[ $long -eq 1 ]]; then
    packages+=(
        "bzip2 1.0.8-5 ed9c40f4de3f9e064535e15eac1c61a0f606763db98f4579dbc04067b94a8944 debhelper yes"
        "tinyxml2 9.0.0+dfsg-3.1 1c60a1d1691419ea45de6a36abc96b6fe12cc519105c617a2a6d891e4455e6e3 debhelper,cmake no"
        "lz4 1.9.4-1 e16302bca544d08d106efc216541f4a0403c8f8a5fad5eaac7588223a55af263 debhelper yes"
    )
fi

make_scratch_directory sshcc-debian

deps=$(printf '%s\n' "${packages[@]}" | awk '{print $4}' | tr ',' '\n' | sort -u)
missing=()
for package in dpkg-dev fakeroot $deps; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "== installing build dependencies: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cache=${SSHCC_CACHE:-$HOME/.cache/sshcc}/debian
mkdir -p "$cache"
fetch() { # fetch NAME VERSION SHA256: the .dsc and its files into $cache
    local name=$1 version=$2 sha=$3 dsc=${1}_${2}.dsc
    local pool=http://deb.debian.org/debian/pool/main/${name:0:1}/$name
    [[ -f $cache/$dsc ]] || python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=60).read())' "$pool/$dsc" "$cache/$dsc"
    [[ $(sha256sum "$cache/$dsc" | cut -d' ' -f1) == "$sha" ]] || { echo "checksum mismatch: $dsc" >&2; exit 1; }
    for file in $(awk '/^Checksums-Sha256:/ {on = 1; next} /^[^ ]/ {on = 0} on {print $3}' "$cache/$dsc"); do
        [[ -f $cache/$file ]] || python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=60).read())' "$pool/$file" "$cache/$file"
    done
}

start_loopback_sshd "$work" "$bin/sshccd" "$work"
export SSHCC_HOSTS="127.0.0.1:$port/4" SSHCC_IDENTITY="$work/id_ed25519" SSHCC_KNOWN_HOSTS="$work/known_hosts"
export SSHCC_DIR="$work/mux" SSHCC_FALLBACK=0
"$bin/sshcc" --install-masquerade "$work/masq" >/dev/null
for name in x86_64-linux-gnu-gcc x86_64-linux-gnu-g++ gcc-12 g++-12 x86_64-linux-gnu-gcc-12 x86_64-linux-gnu-g++-12; do
    ln -sf "$bin/sshcc" "$work/masq/$name"
done
jobs() { grep -c '] info: job ' "$work/sshccd.log" 2>/dev/null || true; }

# build NAME VERSION WHERE OPTIONS: dpkg-buildpackage -B in $work/src (the same path for both builds), the
# .debs moved to $work/WHERE.
build() {
    local name=$1 version=$2 where=$3 options=$4 path=$PATH
    [[ $where == remote ]] && path=$work/masq:$PATH
    rm -rf "$work/src" && mkdir -p "$work/src" "$work/$where"
    (cd "$work/src" && dpkg-source --no-check -x "$cache/${name}_${version}.dsc" tree >/dev/null)
    (cd "$work/src/tree" && PATH=$path DEB_BUILD_OPTIONS="nocheck parallel=4 $options" \
        dpkg-buildpackage -B -uc -us -rfakeroot >"$work/$where.log" 2>&1) ||
        { tail -30 "$work/$where.log"; echo "FAILED: $where build of $name"; return 1; }
    mv "$work"/src/*.deb "$work/$where/"
}

failed=0
for entry in "${packages[@]}"; do
    read -r name version sha _ noopt <<< "$entry"
    fetch "$name" "$version" "$sha"
    for options in "" $([[ $long -eq 1 && $noopt == yes ]] && echo noopt); do
        echo "== $name $version${options:+ ($options)}: dpkg-buildpackage -B, locally, then through sshcc"
        rm -rf "$work/local" "$work/remote"
        build "$name" "$version" local "$options" || { failed=1; continue; }
        before=$(jobs)
        build "$name" "$version" remote "$options" || { failed=1; continue; }
        compiled=$(( $(jobs) - before ))
        same=0 total=0 elf=0
        for deb in "$work"/local/*.deb; do
            total=$((total + 1))
            other=$work/remote/$(basename "$deb")
            if cmp -s "$deb" "$other"; then same=$((same + 1)); else echo "   DIFFERS: $(basename "$deb")"; failed=1; fi
            mkdir -p "$work/x/a" "$work/x/b"
            dpkg-deb -x "$deb" "$work/x/a"
            [[ -f $other ]] && dpkg-deb -x "$other" "$work/x/b"
            while IFS= read -r file; do
                file -b "$work/x/a/$file" | grep -q '^ELF' || continue
                elf=$((elf + 1))
                cmp -s "$work/x/a/$file" "$work/x/b/$file" || echo "      differs: $file"
            done < <(cd "$work/x/a" && find . -type f)
            rm -rf "$work/x"
        done
        echo "   .debs byte-identical: $same of $total ($elf ELF files inside); sshccd compiled $compiled jobs"
        [[ $compiled -gt 0 ]] || { echo "   nothing was compiled remotely"; failed=1; }
    done
done
[[ $failed -eq 0 ]] || { echo "FAILED"; exit 1; }
echo "OK: every package built through sshcc is byte-identical to the local build"
