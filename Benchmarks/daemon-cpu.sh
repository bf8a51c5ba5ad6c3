#!/usr/bin/env bash
# CPU per job on the client side, split: the mux daemon's own (utime + stime from /proc, before and after a
# batch of jobs) and the wrappers' with their local preprocessors (the batch's children, getrusage), for a
# tiny file through a loopback sshd, 4 at a time. With BASELINE=DIR (an earlier build's bin directory) the
# two builds alternate batch by batch. Usage: Benchmarks/daemon-cpu.sh [JOBS_PER_BATCH] [BATCHES]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-400}
batches=${2:-3}
. Benchmarks/common.sh
mkdir -p "$work/logs" "$work/src" && chown "$user" "$work/logs"
start_servers
printf 'int add(int a, int b) { return a + b; }\n' > "$work/src/tiny.c"
export SSHCC_IDENTITY=$work/id_ed25519 SSHCC_KNOWN_HOSTS=$work/known_hosts SSHCC_SSH_CONFIG=/dev/null
export SSHCC_HOSTS="$user@127.0.0.1:$port/4" SSHCC_FALLBACK=0
builds=(now)
[[ -n ${BASELINE:-} ]] && builds+=(before)
bin_of() { [[ $1 == now ]] && echo "$bin" || echo "$BASELINE"; }

# batch BUILD: prints "daemon_us_per_job client_us_per_job wall_us_per_job"
batch() {
    local build=$1 sshcc
    sshcc=$(bin_of "$build")/sshcc
    export SSHCC_DIR=$work/mux-$build
    (cd "$work/src" && "$sshcc" gcc -c tiny.c -o warm.o)   # the daemon and its channels are up
    local daemon ticks_before ticks_after
    daemon=$(cat "$SSHCC_DIR/mux.pid")
    ticks_before=$(awk '{print $14 + $15}' "/proc/$daemon/stat")
    python3 - "$sshcc" "$jobs" "$work/src" <<'PY' > "$work/client"
import os, resource, subprocess, sys, time
sshcc, jobs, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = "".join(f"tiny.c out{i}.o\n" for i in range(jobs))
start = time.monotonic()
subprocess.run(["xargs", "-P", "4", "-L", "1", "sh", "-c", 'exec "$0" gcc -c "$1" -o "$2"', sshcc],
               input=lines.encode(), cwd=src, check=True)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int((usage.ru_utime + usage.ru_stime) * 1e6 / jobs), int(wall * 1e6 / jobs))
PY
    ticks_after=$(awk '{print $14 + $15}' "/proc/$daemon/stat")
    local hz
    hz=$(getconf CLK_TCK)
    read -r client wall < "$work/client"
    echo "$(((ticks_after - ticks_before) * 1000000 / hz / jobs)) $client $wall"
}

for round in $(seq "$batches"); do
    for build in "${builds[@]}"; do
        echo "$build $(batch "$build")" >> "$work/figures"
    done
done
echo "## CPU per tiny job, $batches batches of $jobs jobs, 4 at a time (µs per job; median of batches)"
echo "| build | mux daemon CPU | wrappers + local preprocessing CPU | wall per job |"
echo "| --- | ---: | ---: | ---: |"
for build in "${builds[@]}"; do
    median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
    printf "| %s | %s | %s | %s |\n" "$build" \
        "$(awk -v b="$build" '$1 == b {print $2}' "$work/figures" | median)" \
        "$(awk -v b="$build" '$1 == b {print $3}' "$work/figures" | median)" \
        "$(awk -v b="$build" '$1 == b {print $4}' "$work/figures" | median)"
done
