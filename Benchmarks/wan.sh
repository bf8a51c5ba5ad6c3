#!/usr/bin/env bash
# sshcc against Debian's distcc over an emulated WAN, side by side in one run: every contender reaches its
# server through its own delaying, bandwidth-capped relay (Benchmarks/delay-relay.py: DELAY_MS each way,
# each direction one MBIT link shared by all of a build's connections), which also counts the bytes.
#   local            gcc itself
#   distcc-tcp       distcc over plain TCP to distccd          distcc-tcp-lzo   the same with ,lzo (protocol 2)
#   sshcc-zstd       sshcc, default compression (zstd, the source streamed: protocol 5)
#   sshcc-whole      zstd with the source sent whole (protocol 4): a second sshd whose sshccd speaks only
#                    1,2,4, as sshccd before streaming
#   sshcc-lzo        ,lzo (protocol 2)    sshcc-plain  ,plain (protocol 1)    sshcc-sshzlib  ,plain,sshzlib
# Workloads: a tiny file (per-job latency, in round trips), the largest Brotli file (2 MiB preprocessed, -O0:
# the transfer matters most), then the Brotli C library and tool (36 files, the real project of
# Scripts/real-project.sh) built with make -jJOBS. Prints median wall times and bytes on the wire per job, and
# writes Benchmarks/wan-results.json.
# Usage: Benchmarks/wan.sh [ROUNDS] [DELAY_MS] [MBIT] [JOBS]     (defaults 3, 10, 20, 4; any user)
#   ONLY="distcc-tcp-lzo sshcc-zstd" runs just those contenders besides local (more rounds in the same time;
#   figures in Benchmarks/wan-results-only.json).
#   PIN=1 gives the "server" (sshd, sshccd, distccd and their compilers) CPU 1 and the "client" (make, the
#   wrappers, the mux daemon, local compiles) CPU 0, as two one-core machines (figures in *-pinned.json).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
delay=${2:-10}
mbit=${3:-20}
jobs=${4:-4}
. Benchmarks/common.sh
cd "$work"
rtt=$((2 * delay))
echo "WAN: ${delay} ms each way (round trip ${rtt} ms), ${mbit} Mbit/s each direction; make -j$jobs; $rounds rounds"
measured_rtt=$(python3 "$repo/Benchmarks/rtt-probe.py" "$delay" "$mbit")
echo "the relay's real round trip for 100 bytes: $measured_rtt ms (its own overhead included)"

# --- sources: a tiny file, and Brotli from the PyPI source distribution (pinned, as real-project.sh)
printf 'int add(int a, int b) { return a + b; }\n' > tiny.c
archive=${SSHCC_CACHE:-$HOME/.cache/sshcc}/brotli-1.2.1.tar.gz
if [[ ! -f $archive ]]; then
    mkdir -p "$(dirname "$archive")"
    python3 -m pip download --quiet --no-deps --no-binary :all: brotli==1.2.1 -d "$(dirname "$archive")"
fi
echo "02b2f7b5a83485efe448a44ddf7983def05c3bb1dcf917d4f7154070260e13de  $archive" | sha256sum -c --quiet
mkdir brotli
tar -xzf "$archive" -C brotli --strip-components=1
cat > brotli/Makefile <<'MAKE'
OBJECTS = $(patsubst %.c,%.o,$(wildcard c/common/*.c c/dec/*.c c/enc/*.c) c/tools/brotli.c)
all: $(OBJECTS)
%.o: %.c
	$(CC) -O2 -Ic/include -c $< -o $@
MAKE
files=$(ls brotli/c/{common,dec,enc}/*.c brotli/c/tools/brotli.c | wc -l)
raw=$(cd brotli && for f in c/{common,dec,enc}/*.c c/tools/brotli.c; do gcc -O2 -Ic/include -E "$f"; done | wc -c)
echo "Brotli: $files files, $((raw / 1024)) KiB preprocessed in all ($((raw / files / 1024)) KiB a file)"

# --- servers: sshd with sshccd, distccd on TCP; one relay per contender
mkdir -p logs distcc counts whole/logs && chown "$user" logs whole/logs
start_servers
# The second sshd, for sshcc-whole: its sshccd refuses protocol 5, so the mux sends the source whole.
main_port=$port
main_sshd_pid=$sshd_pid
start_loopback_sshd "$work/whole" "$bin/sshccd --protocols 1,2,4" "$work/whole/logs"
pids+=("$sshd_pid")
whole_port=$port
port=$main_port
if [[ -n ${PIN:-} ]]; then
    # Children inherit the affinity: later sshd sessions, sshccd and compilers, distccd's workers.
    for pid in "$sshd_pid" "$main_sshd_pid" $(pgrep -x distccd); do taskset -a -p -c 1 "$pid" > /dev/null; done
fi
declare -A relay
next=$((50000 + RANDOM % 5000))
for name in distcc-tcp distcc-tcp-lzo sshcc-zstd sshcc-whole sshcc-lzo sshcc-plain sshcc-sshzlib; do
    target=$port
    key=host_key.pub
    [[ $name == distcc-* ]] && target=$dport
    [[ $name == sshcc-whole ]] && target=$whole_port key=whole/host_key.pub
    relay[$name]=$next
    python3 "$repo/Benchmarks/delay-relay.py" "$next" "$target" "$delay" --mbit "$mbit" --count "counts/$name" &
    pids+=("$!")
    echo "[127.0.0.1]:$next $(cut -d' ' -f1,2 "$key")" >> known_hosts
    next=$((next + 1))
done
sleep 0.5

export DISTCC_FALLBACK=0 DISTCC_SKIP_LOCAL_RETRY=1 DISTCC_DIR="$work/distcc" SSHCC_FALLBACK=0
export SSHCC_IDENTITY="$work/id_ed25519" SSHCC_KNOWN_HOSTS="$work/known_hosts"
declare -A cc=(
    [local]=gcc
    [distcc-tcp]="env DISTCC_HOSTS=127.0.0.1:${relay[distcc-tcp]}/4 distcc gcc"
    [distcc-tcp-lzo]="env DISTCC_HOSTS=127.0.0.1:${relay[distcc-tcp-lzo]}/4,lzo distcc gcc"
)
for name in sshcc-zstd sshcc-whole sshcc-lzo sshcc-plain sshcc-sshzlib; do
    option=${name#sshcc-}
    [[ $option == sshzlib ]] && option=plain,sshzlib
    [[ $option == whole ]] && option="zstd SSHCC_IDENTITY=$work/whole/id_ed25519"
    cc[$name]="env SSHCC_DIR=$work/mux-$name SSHCC_HOSTS=$user@127.0.0.1:${relay[$name]}/4,$option $bin/sshcc gcc"
done
order=(local distcc-tcp distcc-tcp-lzo sshcc-zstd sshcc-whole sshcc-lzo sshcc-plain sshcc-sshzlib)
if [[ -n ${ONLY:-} ]]; then
    kept=(local)
    for name in "${order[@]}"; do [[ " $ONLY " == *" $name "* ]] && kept+=("$name"); done
    order=("${kept[@]}")
fi

bytes() { cat "counts/$1" 2>/dev/null || echo "0 0"; }
# run_workload TITLE ROUNDS JOBS_PER_RUN COMMAND_TEMPLATE (@CC@ stands for each contender's compiler)
run_workload() {
    local title=$1 count=$2 per_run=$3 template=$4 args=() name
    declare -A before
    for name in "${order[@]}"; do
        args+=("$name=${template//@CC@/${cc[$name]}}")
        before[$name]=$(bytes "$name")
    done
    ${PIN:+taskset -c 0} python3 "$repo/Benchmarks/compare.py" "$work/results.json" "$count" "$title" "${args[@]}"
    sleep 0.7   # the relays rewrite their counts twice a second
    local runs=$((count + 1))   # compare.py runs each command once more to warm up
    echo
    echo "bytes on the wire per job (client→server + server→client, SSH framing included), $runs runs of $per_run jobs:"
    for name in "${order[@]}"; do
        [[ $name == local ]] && continue
        read -r up0 down0 <<< "${before[$name]}"
        read -r up1 down1 <<< "$(bytes "$name")"
        printf '  %-15s %9d up %9d down\n' "$name" $(((up1 - up0) / runs / per_run)) $(((down1 - down0) / runs / per_run))
        echo "{\"workload\": \"$title\", \"contender\": \"$name\", \"up_per_job\": $(((up1 - up0) / runs / per_run)), \"down_per_job\": $(((down1 - down0) / runs / per_run))}" >> bytes.jsonl
    done
}

run_workload "tiny file, WAN (round trip $rtt ms, $mbit Mbit/s)" $((rounds * 10)) 1 "@CC@ -c tiny.c -o tiny.o"
run_workload "largest Brotli file (c/enc/encode.c, -O0), WAN (round trip $rtt ms, $mbit Mbit/s)" $((rounds * 3)) 1 \
    "cd brotli && @CC@ -O0 -Ic/include -c c/enc/encode.c -o encode-O0.o"
run_workload "Brotli, make -j$jobs, WAN (round trip $rtt ms, $mbit Mbit/s)" "$rounds" "$files" \
    "make -s -B -j$jobs -C brotli CC='@CC@'"

echo
echo "preprocessed per Brotli job: $((raw / files)) bytes on average; sshccd jobs served: $(grep -c 'info: job' logs/sshccd.log)"
for name in sshcc-zstd sshcc-whole sshcc-sshzlib; do
    [[ " ${order[*]} " == *" $name "* ]] || continue
    echo "-- $name"
    SSHCC_DIR=$work/mux-$name "$bin/sshcc" --status | sed -n '4,8p'
done
# A run of some contenders only (ONLY) keeps its figures apart from the full run's.
python3 - "$work/results.json" bytes.jsonl "$repo/Benchmarks/wan-results${ONLY:+-only}${PIN:+-pinned}.json" "$rtt" "$mbit" "$measured_rtt" <<'PY'
import json, sys
times, counts, out, rtt, mbit, measured = sys.argv[1:]
json.dump({"round_trip_ms": int(rtt), "measured_round_trip_ms": float(measured), "mbit": float(mbit),
           "times": json.load(open(times)), "bytes": [json.loads(line) for line in open(counts)]},
          open(out, "w"), indent=1)
tiny = json.load(open(times))[0]["median_ms"]
print(f"\ntiny file, extra over local in round trips (of {rtt} ms nominal / {measured} ms measured):")
for name, ms in tiny.items():
    if name != "local":
        extra = ms - tiny["local"]
        print(f"  {name:<15} {extra / int(rtt):5.2f} / {extra / float(measured):5.2f}")
PY
