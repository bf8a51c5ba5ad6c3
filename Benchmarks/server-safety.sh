#!/usr/bin/env bash
# What sshccd's safety costs per job: one job through sshccd on stdin (allow-list, source check, two
# compiler runs with the assembly read in between, limits, slot) with and without the Landlock sandbox, against
# the plain `gcc -c` of the same preprocessed text. Usage: Benchmarks/server-safety.sh [RUNS] (default 20).
# BASELINE=/path/to/older/sshccd adds that build as a column (e.g. one built from a commit before the server's safety work; it
# takes no --sandbox option).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
swift build -c release --product sshccd 2>&1 | tail -1
sshccd=$PWD/.build/release/sshccd
work=$(mktemp -d /tmp/sshcc-safety.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jobs"
printf 'int value(int x) { return x * 3; }\n' > "$work/tiny.c"
printf '#include <iostream>\n#include <map>\n#include <string>\n#include <vector>\nint main() { std::map<std::string, std::vector<int>> m; m["a"].push_back(1); std::cout << m.size(); }\n' > "$work/mid.cc"
gcc -E "$work/tiny.c" -o "$work/tiny.i"
g++ -E "$work/mid.cc" -o "$work/mid.ii"
python3 Benchmarks/request.py "$work/tiny.req" 1 "$work/tiny.i" gcc -O2 -c tiny.c
python3 Benchmarks/request.py "$work/mid.req" 1 "$work/mid.ii" g++ -O2 -c mid.cc
server="$sshccd --config none --log $work/log --tmpdir $work/jobs --slots-dir $work/slots --objects none"
for job in tiny mid; do
    compiler=gcc; language=cpp-output; [ $job = mid ] && compiler=g++ && language=c++-cpp-output
    input=$work/$job.i; [ $job = mid ] && input=$work/$job.ii
    echo "== $job ($(wc -c < "$input") bytes preprocessed)"
    hyperfine -N -w 3 -r "$runs" --export-markdown "$work/$job.md" \
        -n "gcc -c (no server)" "sh -c '$compiler -O2 -c -x $language $input -o $work/plain.o'" \
        -n "sshccd, sandbox" "sh -c '$server < $work/$job.req > /dev/null'" \
        -n "sshccd, --sandbox off" "sh -c '$server --sandbox off < $work/$job.req > /dev/null'" \
        ${BASELINE:+-n "baseline sshccd" "sh -c '$BASELINE --log $work/log --tmpdir $work/jobs < $work/$job.req > /dev/null'"} \
        >/dev/null
    cat "$work/$job.md"
done
