#!/usr/bin/env bash
# What running gcc's cc1 and `as` without their driver saves on the server (sshccd --direct-steps auto, the
# default, against off): one sshccd serves JOBS requests in a row on stdin, as it serves a channel, so the
# driver's `-###` runs once for the whole stream. Prints wall and CPU per job for a tiny C file and a C++ file.
# Usage: Benchmarks/direct-steps.sh [RUNS] [JOBS]   (defaults 15 and 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
jobs=${2:-20}
swift build -c release --static-swift-stdlib --product sshccd 2>&1 | tail -1
sshccd=$(swift build -c release --static-swift-stdlib --show-bin-path)/sshccd
work=$(mktemp -d /tmp/sshcc-direct.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jobs"
printf 'int value(int x) { return x * 3; }\n' > "$work/tiny.c"
printf '#include <map>\n#include <string>\nint f(std::map<std::string, int> &m) { return m["a"]; }\n' > "$work/mid.cc"
gcc -E "$work/tiny.c" -o "$work/tiny.i"
g++ -E "$work/mid.cc" -o "$work/mid.ii"
python3 Benchmarks/request.py "$work/tiny.req" "$jobs" "$work/tiny.i" gcc -O2 -c tiny.c
python3 Benchmarks/request.py "$work/mid.req" "$jobs" "$work/mid.ii" g++ -O2 -g -c mid.cc
server="$sshccd --config none --log $work/log --tmpdir $work/jobs --slots-dir $work/slots --objects none"
for job in tiny mid; do
    echo "== $job: $jobs jobs on one sshccd ($(wc -c < "$work/$job.req") bytes of requests)"
    hyperfine -N -w 2 -r "$runs" --export-json "$work/$job.json" \
        -n "direct (cc1, as)" "sh -c '$server < $work/$job.req > /dev/null'" \
        -n "through the driver" "sh -c '$server --direct-steps off < $work/$job.req > /dev/null'" > /dev/null
    python3 - "$work/$job.json" "$jobs" <<'PY'
import json, sys
results, jobs = json.load(open(sys.argv[1]))["results"], int(sys.argv[2])
for r in results:
    print(f"  {r['command']:<20} {r['mean'] * 1000 / jobs:6.2f} ms a job (±{r['stddev'] * 1000 / jobs:.2f}), "
          f"CPU {(r['user'] + r['system']) * 1000 / jobs:6.2f} ms a job")
PY
done
