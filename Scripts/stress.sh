#!/usr/bin/env bash
# Proof under stress, through a real loopback sshd whose RekeyLimit is 256K (so every phase also rekeys):
#   rekey   8 channels moving large sources (and objects) at once: none lost, none hung, none retried;
#   soak    thousands of tiny jobs through one mux daemon: its RSS and open descriptors per 1000 jobs, and no
#           sshccd or channel left on the server afterwards;
#   faults  a parallel build while sshccd processes, sshd session processes and the mux daemon are SIGKILLed
#           at random, through a relay that stalls and then resets every connection: every object right, the
#           build's status right, and how many jobs went local or were compiled twice.
# Usage: Scripts/stress.sh [--short] [BIN]   (BIN: a build's bin directory; default: a fresh release build)
# --short is what CI runs (Scripts/test); the long run's figures are in Docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
short=0
if [[ ${1:-} == --short ]]; then
    short=1
    shift
fi
bin=${1:-}
if [[ -z $bin ]]; then
    swift build -c release --static-swift-stdlib 2>&1 | tail -1
    bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi
bin=$(realpath "$bin")   # /proc/PID/exe names the resolved path: that is how sshccd processes are found
. Scripts/loopback-sshd.sh
if ((short)); then rekey_jobs=96 soak_jobs=1000 fault_jobs=120; else rekey_jobs=500 soak_jobs=10000 fault_jobs=400; fi
fault_jobs=${FAULT_JOBS:-$fault_jobs}   # FAULT_JOBS=N: another size of the faults phase

work=$(mktemp -d /tmp/sshcc-stress.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for dir in "$work"/mux-*; do [[ -d $dir ]] && SSHCC_DIR=$dir "$bin/sshcc" --stop >/dev/null 2>&1 || true; done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

export work bin
mkdir -p "$work/logs"
start_loopback_sshd "$work" "$bin/sshccd" "$work/logs" "RekeyLimit 256K"
pids+=("$sshd_pid")
export SSHCC_IDENTITY=$work/id_ed25519 SSHCC_KNOWN_HOSTS=$work/known_hosts SSHCC_SSH_CONFIG=/dev/null
export SSHCC_HOSTS="127.0.0.1:$port/8" LANG=C

# Every process under our sshd (its session processes and their sshccd), by walking the process tree.
descendants() {
    local children
    children=$(pgrep -P "$1" || true)
    for child in $children; do
        echo "$child"
        descendants "$child"
    done
}
sshccd_pids() {
    for pid in $(descendants "$sshd_pid"); do
        if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$bin/sshccd" ]]; then echo "$pid"; fi
    done
}
session_pids() { pgrep -P "$sshd_pid" || true; }
served() { grep -c '] info: job ' "$work/logs/sshccd.log" 2>/dev/null || true; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
status_field() { SSHCC_DIR=$1 "$bin/sshcc" --status | sed -n "s/.*jobs \([0-9]*\) done, \([0-9]*\) failed.*/\\$2/p" | head -1; }

# compile JOBS LIST: runs each line of LIST ("SOURCE OUTPUT") as `sshcc gcc -O1 -c SOURCE -o OUTPUT`, 8 at a
# time; their stderr goes to $work/stderr. Returns xargs' status (nonzero if any compile failed).
compile() {
    local list=$1
    (cd "$work/project" && exec xargs -P 8 -L 1 sh -c 'exec "$0" gcc -O1 -c "$1" -o "$2"' "$bin/sshcc" \
        < "$list" 2>> "$work/stderr")
}
check_objects() {
    local list=$1 bad=0
    while read -r source output; do
        cmp -s "$work/project/$output" "$work/project/ref/$(basename "$source" .c).o" || bad=$((bad + 1))
    done < "$list"
    echo "$bad"
}

mkdir -p "$work/project/src" "$work/project/ref" "$work/project/out"
cd "$work/project"
# Large, barely compressible sources whose objects are as large: random strings (zstd gains ~25 %).
python3 - <<'PY'
import base64, os
for i in range(24):
    with open(f"src/big{i}.c", "w") as out:
        for j in range(96):
            out.write(f'const char *big{i}_{j} = "{base64.b64encode(os.urandom(2048)).decode()}";\n')
        out.write(f"int big{i}(int x) {{ return x * {i + 3}; }}\n")
for i in range(40):
    with open(f"src/mid{i}.c", "w") as out:
        out.write("#include <stdio.h>\n#include <string.h>\n")
        for j in range(40):
            out.write(f"int f{i}_{j}(const char *s) {{ return (int)strlen(s) * {j} + {i}; }}\n")
        out.write(f'void p{i}(void) {{ printf("%d\\n", f{i}_0("x")); }}\n')
with open("src/tiny.c", "w") as out:
    out.write("int tiny(int x) { return x + 1; }\n")
PY
for source in src/*.c; do gcc -O1 -c "$source" -o "ref/$(basename "$source" .c).o"; done
cd - >/dev/null

echo "== rekey: $rekey_jobs jobs of ~256 KiB sources and objects, 8 at once, sshd RekeyLimit 256K"
export SSHCC_DIR=$work/mux-rekey SSHCC_FALLBACK=0
: > "$work/stderr"
for i in $(seq 0 $((rekey_jobs - 1))); do echo "src/big$((i % 24)).c out/r$i.o"; done > "$work/rekey.list"
started=$(now_ms)
timeout 900 bash -c "$(declare -f compile); compile $work/rekey.list" \
    || fail "rekey: a compile failed or hung: $(tail -5 "$work/stderr")"
seconds=$((($(now_ms) - started) / 1000))
bad=$(check_objects "$work/rekey.list")
done_count=$(status_field "$SSHCC_DIR" 1)
failed_count=$(status_field "$SSHCC_DIR" 2)
moved=$(SSHCC_DIR=$SSHCC_DIR "$bin/sshcc" --status | sed -n 's/.*sent \([0-9]*\) MiB.*received \([0-9]*\) MiB.*/\1 \2/p')
echo "   $seconds s; $done_count done, $failed_count failed (retried) in the daemon; $bad wrong objects"
echo "   moved (sent, received MiB): $moved: ~$(( ($(echo "$moved" | awk '{print $1 + $2}') * 4) )) rekeys"
[[ $bad == 0 && $failed_count == 0 && $done_count == "$rekey_jobs" ]] || fail "rekey: lost, retried or wrong jobs"
[[ ! -s $work/stderr ]] || fail "rekey: the build printed: $(head -5 "$work/stderr")"
"$bin/sshcc" --stop >/dev/null
for _ in $(seq 50); do [[ -z $(sshccd_pids) ]] && break; sleep 0.1; done

echo "== soak: $soak_jobs tiny jobs through one mux daemon, 8 at once"
export SSHCC_DIR=$work/mux-soak
for i in $(seq 0 999); do echo "src/tiny.c out/t$i.o"; done > "$work/soak.list"
printf "   %8s %10s %8s %10s\n" jobs "RSS KiB" fds "jobs/s"
for batch in $(seq 1 $((soak_jobs / 1000))); do
    started=$(now_ms)
    timeout 900 bash -c "$(declare -f compile); compile $work/soak.list" \
        || fail "soak: a compile failed: $(tail -5 "$work/stderr")"
    rate=$((1000 * 1000 / ($(now_ms) - started + 1)))
    daemon=$(cat "$SSHCC_DIR/mux.pid")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")
    fds=$(ls "/proc/$daemon/fd" | wc -l)
    printf "   %8d %10d %8d %10d\n" $((batch * 1000)) "$rss" "$fds" "$rate"
    echo "$rss $fds" >> "$work/soak.curve"
done
[[ $(check_objects "$work/soak.list") == 0 ]] || fail "soak: wrong objects"
channels=$(SSHCC_DIR=$SSHCC_DIR "$bin/sshcc" --status | sed -n 's/.*channels \([0-9]*\) open.*/\1/p')
echo "   channels open at the end: $channels (slots 8)"
((channels <= 8)) || fail "soak: $channels channels for 8 slots"
first_fds=$(head -1 "$work/soak.curve" | cut -d' ' -f2)
last_fds=$(tail -1 "$work/soak.curve" | cut -d' ' -f2)
((last_fds <= first_fds + 2)) || fail "soak: descriptors grew from $first_fds to $last_fds"
SSHCC_DIR=$SSHCC_DIR "$bin/sshcc" --stop >/dev/null
for _ in $(seq 50); do [[ -z $(sshccd_pids) ]] && break; sleep 0.1; done
left=$(sshccd_pids | wc -l)
echo "   after the daemon stopped: $left sshccd process(es), $(session_pids | wc -l) sshd session(s) left on the server"
((left == 0)) || fail "soak: sshccd processes left behind"

echo "== faults: $fault_jobs jobs while sshccd, sshd sessions and the mux daemon are killed, through a relay that"
echo "   stalls 1 s and resets every connection every 4 s"
relay_port=$((port + 1))
python3 Scripts/fault-relay.py "$relay_port" "$port" 4 1 > "$work/relay.log" &
pids+=("$!")
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$relay_port") 2>/dev/null && break; sleep 0.1; done
relay_key=$(sed "s/\]:$port /]:$relay_port /" "$work/known_hosts")
echo "$relay_key" >> "$work/known_hosts"
export SSHCC_DIR=$work/mux-faults SSHCC_HOSTS="127.0.0.1:$relay_port/8" SSHCC_FALLBACK=1
for i in $(seq 0 $((fault_jobs - 1))); do echo "src/mid$((i % 40)).c out/m$i.o"; done > "$work/faults.list"
: > "$work/stderr"
: > "$work/kills"
before=$(served)
(
    set +e
    while true; do
        sleep "0.$((RANDOM % 6 + 3))"
        case $((RANDOM % 10)) in
            0 | 1 | 2 | 3 | 4) victim=$(sshccd_pids | shuf -n 1) kind=sshccd ;;
            5 | 6 | 7) victim=$(session_pids | shuf -n 1) kind=session ;;
            *) victim=$(cat "$SSHCC_DIR/mux.pid" 2>/dev/null || true) kind=daemon ;;
        esac
        [[ -n $victim ]] && kill -KILL "$victim" 2>/dev/null && echo "$kind" >> "$work/kills"
    done
) &
killer=$!
pids+=("$killer")
started=$(now_ms)
status=0
timeout 900 bash -c "$(declare -f compile); compile $work/faults.list" || status=$?
kill "$killer" 2>/dev/null || true
seconds=$((($(now_ms) - started) / 1000))
bad=$(check_objects "$work/faults.list")
local_count=$(grep -c "compiling locally" "$work/stderr" || true)
remote=$((fault_jobs - local_count))
served_count=$(($(served) - before))
echo "   $seconds s, build status $status; kills: $(sort "$work/kills" | uniq -c | awk '{printf "%s %s, ", $1, $2}')relay drops: $(wc -l < "$work/relay.log")"
echo "   $bad wrong objects; $remote jobs compiled remotely, $local_count locally (fallback)"
if ((local_count > 0)); then
    echo "   why they went local:"
    grep "compiling locally" "$work/stderr" | sed 's/[0-9]\{4,\}/N/g; s/^sshcc: warning: //' | sort | uniq -c | sort -rn \
        | head -4 | sed 's/^/     /'
fi
echo "   sshccd finished $served_count compiles for $remote remote jobs: $((served_count - remote)) whose answer a kill or drop lost"
[[ $status == 0 && $bad == 0 ]] || fail "faults: build status $status, $bad wrong objects; $(grep -v "compiling locally\|lost the mux\|trying another" "$work/stderr" | head -5)"
((local_count * 4 <= fault_jobs)) || fail "faults: $local_count of $fault_jobs jobs went local: $(head -3 "$work/stderr")"
echo "== stress: all good"
