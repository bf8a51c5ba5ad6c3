#!/usr/bin/env bash
# sshcc against Debian's distcc, side by side in one run on this machine, interleaved round by round:
#   local        gcc itself
#   distcc-tcp   distcc over plain TCP to a local distccd (no encryption, no authentication)
#   distcc-cm    distcc through an OpenSSH ControlMaster connection, `ssh -W` to that distccd per job
#                (the best SSH-secured way people use today)
#   sshcc        sshcc through a local sshd (the mux daemon's persistent channels, warmed up)
# Workloads: a tiny file (per-job overhead), a 3,000-line file, a 24-file C project with make -j4; then
# the tiny file and the project again over a WAN: a delaying relay (Benchmarks/delay-relay.py, 10 ms each
# way by default) in front of sshd and distccd. Prints median tables (Markdown) and writes results.json.
# Usage: Benchmarks/compare.sh [ROUNDS] [DELAY_MS] [MBIT]    (needs distcc, openssh-server, python3; any user)
# MBIT caps the WAN's bandwidth (each direction one link shared by all connections; default: no cap).
# BASELINE=DIR adds "sshcc-before": the sshcc, sshcc-mux and sshccd of an earlier build in DIR (its own sshd
# and relay), to show a change costs nothing, e.g.
#   git worktree add ../old REV && (cd ../old && swift build -c release --static-swift-stdlib)
#   BASELINE=../old/.build/release Benchmarks/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
delay=${2:-10}
mbit=${3:-}
wan="+${delay} ms each way${mbit:+, $mbit Mbit/s}"
. Benchmarks/common.sh
cd "$work"

# --- sources
printf 'int add(int a, int b) { return a + b; }\n' > tiny.c
python3 - <<'PY'
# 3,000 lines: 300 functions of 10 lines, some arithmetic the optimiser has to think about.
with open("big.c", "w") as f:
    for i in range(300):
        f.write(f"int f{i}(int x, int y) {{\n    int acc = x ^ {i};\n    for (int k = 0; k < y; k++) {{\n"
                f"        acc = acc * 31 + (k << {i % 5});\n        if (acc > {i * 7}) acc -= y;\n    }}\n"
                f"    acc += x * {i};\n    acc ^= y >> 2;\n    return acc;\n}}\n")
import os
os.makedirs("project/include", exist_ok=True)
with open("project/include/common.h", "w") as f:
    f.write("#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>\n#define MIX(a, b) (((a) << 5) ^ ((b) >> 3))\n")
for n in range(24):
    with open(f"project/m{n}.c", "w") as f:
        f.write('#include "common.h"\n')
        for i in range(12):
            f.write(f"int m{n}_{i}(const char *s) {{\n    int h = {n * 100 + i};\n"
                    f"    for (size_t k = 0; k < strlen(s); k++) h = MIX(h, s[k]) + {i};\n"
                    f"    if (h < 0) h = -h;\n    return h % {97 + i};\n}}\n")
objs = " ".join(f"m{n}.o" for n in range(24))
with open("project/Makefile", "w") as f:
    f.write(f"CFLAGS = -O2 -Iinclude\nOBJS = {objs}\nall: $(OBJS)\n%.o: %.c include/common.h\n\t$(CC) $(CFLAGS) -c $< -o $@\n")
PY

# --- servers: sshd (sshccd subsystem), distccd on TCP, and delaying relays in front of both
mkdir -p logs distcc && chown "$user" logs
start_servers
wan_ssh=$((50000 + RANDOM % 5000))
wan_distcc=$((55000 + RANDOM % 5000))
python3 "$repo/Benchmarks/delay-relay.py" "$wan_ssh" "$port" "$delay" ${mbit:+--mbit "$mbit"} &
pids+=("$!")
python3 "$repo/Benchmarks/delay-relay.py" "$wan_distcc" "$dport" "$delay" ${mbit:+--mbit "$mbit"} &
pids+=("$!")
echo "[127.0.0.1]:$wan_ssh $(cut -d' ' -f1,2 host_key.pub)" >> known_hosts
before=()
if [[ -n ${BASELINE:-} ]]; then
    baseline=$(cd "$repo" && cd "$BASELINE" && pwd)
    mkdir -p before/logs && chown "$user" before/logs
    chmod 755 before
    lan_port=$port
    start_loopback_sshd "$work/before" "$baseline/sshccd" "$work/before/logs"
    pids+=("$sshd_pid")
    before_port=$port port=$lan_port
    wan_before=$((60000 + RANDOM % 5000))
    python3 "$repo/Benchmarks/delay-relay.py" "$wan_before" "$before_port" "$delay" ${mbit:+--mbit "$mbit"} &
    pids+=("$!")
    for p in "$before_port" "$wan_before"; do
        echo "[127.0.0.1]:$p $(cut -d' ' -f1,2 before/host_key.pub)" >> known_hosts
    done
    # The earlier wrapper finds its mux daemon beside itself.
    before_env="env SSHCC_IDENTITY=$work/before/id_ed25519"
    lan_before="$before_env SSHCC_DIR=$work/mux-before-lan SSHCC_HOSTS=$user@127.0.0.1:$before_port $baseline/sshcc gcc"
    wan_before="$before_env SSHCC_DIR=$work/mux-before-wan SSHCC_HOSTS=$user@127.0.0.1:$wan_before $baseline/sshcc gcc"
fi
# before COMMAND: sets extra to the baseline's contender when BASELINE is set, to nothing otherwise.
before() { extra=(); [[ -z ${BASELINE:-} ]] || extra=("sshcc-before=$1"); }
sleep 0.5

# --- OpenSSH ControlMaster, one per link; distcc's SSH mode reaches distccd with `ssh -W` through it
ssh_opts=(-i "$work/id_ed25519" -o UserKnownHostsFile="$work/known_hosts" -o BatchMode=yes -o LogLevel=error)
for link in lan wan; do
    p=$port; [[ $link == wan ]] && p=$wan_ssh
    ssh "${ssh_opts[@]}" -M -S "$work/cm-$link" -o ControlPersist=yes -fN -p "$p" "$user@127.0.0.1"
    cat > "ssh-$link" <<SH
#!/bin/sh
# distcc runs: ssh [-l user] host distccd --inetd. Through the master, talk to distccd's TCP port instead.
exec ssh -S $work/cm-$link -o ControlMaster=no -o LogLevel=error -W 127.0.0.1:$dport 127.0.0.1
SH
    chmod +x "ssh-$link"
done

export DISTCC_FALLBACK=0 DISTCC_SKIP_LOCAL_RETRY=1 DISTCC_DIR="$work/distcc" SSHCC_FALLBACK=0
export SSHCC_IDENTITY="$work/id_ed25519" SSHCC_KNOWN_HOSTS="$work/known_hosts"
lan_sshcc="env SSHCC_DIR=$work/mux-lan SSHCC_HOSTS=$user@127.0.0.1:$port $bin/sshcc gcc"
wan_sshcc="env SSHCC_DIR=$work/mux-wan SSHCC_HOSTS=$user@127.0.0.1:$wan_ssh $bin/sshcc gcc"
lan_tcp="env DISTCC_HOSTS=127.0.0.1:$dport/4 distcc gcc"
wan_tcp="env DISTCC_HOSTS=127.0.0.1:$wan_distcc/4 distcc gcc"
lan_cm="env DISTCC_HOSTS=@127.0.0.1/4 DISTCC_SSH=$work/ssh-lan distcc gcc"
wan_cm="env DISTCC_HOSTS=@127.0.0.1/4 DISTCC_SSH=$work/ssh-wan distcc gcc"
cmp_="python3 $repo/Benchmarks/compare.py $work/results.json"

before "$lan_before -c tiny.c -o b.o"
$cmp_ "$rounds" "tiny file, loopback" \
    "local=gcc -c tiny.c -o l.o" "distcc-tcp=$lan_tcp -c tiny.c -o t.o" "distcc-cm=$lan_cm -c tiny.c -o c.o" \
    "sshcc=$lan_sshcc -c tiny.c -o s.o" "${extra[@]}" "sshcc-startup=$bin/sshcc --version" "gcc-startup=gcc --version"
cmp l.o s.o && cmp l.o t.o && cmp l.o c.o
before "$lan_before -O2 -c big.c -o b.o"
$cmp_ $((rounds / 2)) "3,000-line file, loopback" \
    "local=gcc -O2 -c big.c -o l.o" "distcc-tcp=$lan_tcp -O2 -c big.c -o t.o" \
    "distcc-cm=$lan_cm -O2 -c big.c -o c.o" "sshcc=$lan_sshcc -O2 -c big.c -o s.o" "${extra[@]}"
cmp l.o s.o && cmp l.o t.o
before "make -s -B -j4 -C project CC='$lan_before'"
$cmp_ $((rounds / 4 + 1)) "24-file project, make -j4, loopback" \
    "local=make -s -B -j4 -C project CC=gcc" "distcc-tcp=make -s -B -j4 -C project CC='$lan_tcp'" \
    "distcc-cm=make -s -B -j4 -C project CC='$lan_cm'" "sshcc=make -s -B -j4 -C project CC='$lan_sshcc'" \
    "${extra[@]}"
before "$wan_before -c tiny.c -o b.o"
$cmp_ "$rounds" "tiny file, WAN ($wan)" \
    "local=gcc -c tiny.c -o l.o" "distcc-tcp=$wan_tcp -c tiny.c -o t.o" "distcc-cm=$wan_cm -c tiny.c -o c.o" \
    "sshcc=$wan_sshcc -c tiny.c -o s.o" "${extra[@]}"
cmp l.o s.o
before "make -s -B -j4 -C project CC='$wan_before'"
$cmp_ $((rounds / 4 + 1)) "24-file project, make -j4, WAN ($wan)" \
    "local=make -s -B -j4 -C project CC=gcc" "distcc-tcp=make -s -B -j4 -C project CC='$wan_tcp'" \
    "distcc-cm=make -s -B -j4 -C project CC='$wan_cm'" "sshcc=make -s -B -j4 -C project CC='$wan_sshcc'" \
    "${extra[@]}"
[[ -z ${BASELINE:-} ]] || cmp l.o b.o

echo
echo "sshccd jobs served: $(grep -c 'info: job' logs/sshccd.log); sshd logins (ControlMasters and mux daemons): $(grep -c 'Accepted publickey' sshd.log)"
for link in lan wan; do SSHCC_DIR=$work/mux-$link "$bin/sshcc" --status | sed -n '1,6p'; done
cp results.json "$repo/Benchmarks/last-results.json"
