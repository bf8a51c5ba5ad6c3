#!/usr/bin/env bash
# What the -g debug layout costs: sshcc gcc -g -O2 -c with the layout (default) and with SSHCC_DEBUG_LAYOUT=plain,
# beside a local compile, for a small C file, a large C file (Brotli's encode.c: 2.2 MB preprocessed) and a C++
# file with <iostream>, <map>, <vector>, <string>. Also the preprocessing alone (gcc -E against
# gcc -E -dD -fdebug-cpp) and whether each object is byte-identical to the local one.
# Usage: Benchmarks/debug-layout.sh [RUNS]      (needs hyperfine; fetches brotli from PyPI like Scripts/real-project.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 1; }
. Benchmarks/common.sh
cache=${SSHCC_CACHE:-$HOME/.cache/sshcc}
mkdir -p "$cache"
[[ -f $cache/brotli-1.2.1.tar.gz ]] ||
    python3 -m pip download --quiet --no-deps --no-binary :all: brotli==1.2.1 -d "$cache"
cd "$work"
tar -xzf "$cache/brotli-1.2.1.tar.gz"
printf '#include <stdio.h>\n#define TWICE(x) ((x) + (x))\nint main(void) { printf("%%d\\n", TWICE(21)); return 0; }\n' > small.c
cat > iostream.cpp <<'CPP'
#include <iostream>
#include <map>
#include <string>
#include <vector>
#define SQUARE(v) ((v) * (v))
int main() { std::vector<int> v{1, 2, 3}; std::map<std::string, int> m; for (int x : v) m["s"] += SQUARE(x);
             std::cout << m["s"] << "\n"; return 0; }
CPP
mkdir -p logs && chown "$user" logs
start_loopback_sshd "$work" "$bin/sshccd" "$work/logs"
pids+=("$sshd_pid")
export SSHCC_DIR="$work/mux" SSHCC_HOSTS="$user@127.0.0.1:$port" SSHCC_IDENTITY="$work/id_ed25519"
export SSHCC_KNOWN_HOSTS="$work/known_hosts" SSHCC_FALLBACK=0

for case in "gcc small.c" "gcc -Ibrotli-1.2.1/c/include brotli-1.2.1/c/enc/encode.c" "g++ iostream.cpp"; do
    set -- $case
    compiler=$1; shift
    echo "== $compiler -g -O2 -c $*"
    echo "   preprocessed: $($compiler -g -O2 "$@" -E | wc -c) bytes; annotated: $($compiler -g -O2 "$@" -E -dD -fdebug-cpp | wc -c) bytes"
    hyperfine -N --warmup 1 --runs "$runs" --style basic \
        -n "gcc -E" "$compiler -g -O2 $* -E -o /dev/null" \
        -n "gcc -E -dD -fdebug-cpp" "$compiler -g -O2 $* -E -dD -fdebug-cpp -o /dev/null" \
        -n local "$compiler -g -O2 $* -c -o local.o" \
        -n "sshcc (layout)" "$bin/sshcc $compiler -g -O2 $* -c -o layout.o" \
        -n "sshcc (plain)" "env SSHCC_DEBUG_LAYOUT=plain $bin/sshcc $compiler -g -O2 $* -c -o plain.o" 2>&1 |
        grep -E "^Benchmark|Time \(mean"
    echo "   layout object identical to local: $(cmp -s local.o layout.o && echo yes || echo no);" \
        "plain: $(cmp -s local.o plain.o && echo yes || echo no)"
done
