#!/usr/bin/env bash
# Client CPU per build: what one developer's machine spends to keep servers busy. Brotli 1.2.1's 36 C files
# (PyPI, as Scripts/real-project.sh) built with make -j4, CFLAGS "-g -O2" and "-O2", with
#   local    CC=gcc (for scale: the whole compile here)
#   sshcc    CC="sshcc gcc" through the loopback sshd (sshccd)
#   distcc   CC="distcc gcc" over TCP to a local distccd
# How it counts: the client side is every process make starts (make, the wrappers, their preprocessors:
# getrusage of make's children, user + system) plus, for sshcc, the mux daemon (its utime + stime from
# /proc before it stops). The server side is the rest of what the whole machine spent meanwhile (/proc/stat,
# every core; for sshcc until its daemon has stopped and the connections have ended): sshd, sshccd and the
# compilers, or distccd and its compilers. The machine must be otherwise idle. Each build runs RUNS times; the
# medians are printed.
# Usage: Benchmarks/client-cpu.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
. Benchmarks/common.sh
cache=${SSHCC_CACHE:-$HOME/.cache/sshcc}
mkdir -p "$cache"
[[ -f $cache/brotli-1.2.1.tar.gz ]] ||
    python3 -m pip download --quiet --no-deps --no-binary :all: brotli==1.2.1 -d "$cache"
mkdir -p "$work/logs" && chown "$user" "$work/logs"
start_servers
export SSHCC_HOSTS="$user@127.0.0.1:$port/4" SSHCC_IDENTITY="$work/id_ed25519"
export SSHCC_KNOWN_HOSTS="$work/known_hosts" SSHCC_FALLBACK=0 DISTCC_HOSTS="127.0.0.1:$dport/4" DISTCC_FALLBACK=0

# machine_cpu: CPU seconds the whole machine has spent (user, nice, system, irq, softirq of every core).
machine_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {printf "%.2f\n", ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat
}

# cpu CC CFLAGS: "CLIENT SERVER" CPU seconds of one clean build.
cpu() {
    local cc=$1 cflags=$2 tree=$work/tree
    rm -rf "$tree" && mkdir -p "$tree"
    tar -xzf "$cache/brotli-1.2.1.tar.gz" -C "$tree" --strip-components=1
    printf '%s\n' 'SOURCES = $(wildcard c/common/*.c c/dec/*.c c/enc/*.c) c/tools/brotli.c' \
        'all: $(SOURCES:.c=.o)' '%.o: %.c' '	$(CC) $(CFLAGS) -Ic/include -c $< -o $@' > "$tree/Makefile"
    local mux=0
    export SSHCC_DIR=$work/mux-$RANDOM
    if [[ $cc == sshcc ]]; then
        "$bin/sshcc" gcc -O2 -c -x c /dev/null -o "$work/warm.o"   # the daemon up and logged in, not counted
        mux=$(cat "$SSHCC_DIR"/*.pid 2>/dev/null || pgrep -n -f "sshcc-mux.*$SSHCC_DIR" || echo 0)
    fi
    local before=0 machine_before
    machine_before=$(machine_cpu)
    [[ $mux != 0 ]] && before=$(awk '{print $14 + $15}' "/proc/$mux/stat")
    local times
    case $cc in
        local) times=$( { /usr/bin/time -f "%U %S" make -s -C "$tree" -j4 CC=gcc CFLAGS="$cflags"; } 2>&1 | tail -1) ;;
        sshcc) times=$( { /usr/bin/time -f "%U %S" make -s -C "$tree" -j4 CC="$bin/sshcc gcc" CFLAGS="$cflags"; } 2>&1 | tail -1) ;;
        distcc) times=$( { /usr/bin/time -f "%U %S" make -s -C "$tree" -j4 CC="distcc gcc" CFLAGS="$cflags"; } 2>&1 | tail -1) ;;
    esac
    local daemon=0
    if [[ $mux != 0 ]]; then
        daemon=$(awk -v b="$before" -v hz="$(getconf CLK_TCK)" '{print ($14 + $15 - b) / hz}' "/proc/$mux/stat")
        "$bin/sshcc" --stop >/dev/null 2>&1 || true
        sleep 1
    fi
    local machine_after
    machine_after=$(machine_cpu)
    echo "$times $daemon $machine_before $machine_after" |
        awk '{client = $1 + $2 + $3; printf "%.2f %.2f\n", client, $5 - $4 - client}'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

echo "| CFLAGS | local compile | sshcc client | distcc client | sshcc / distcc | sshcc server | distcc server |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for cflags in "-g -O2" "-O2"; do
    declare -A client=() server=()
    for cc in local sshcc distcc; do
        results=$(for _ in $(seq "$runs"); do cpu "$cc" "$cflags"; done)
        client[$cc]=$(echo "$results" | cut -d' ' -f1 | median)
        server[$cc]=$(echo "$results" | cut -d' ' -f2 | median)
    done
    ratio=$(awk -v a="${client[sshcc]}" -v b="${client[distcc]}" 'BEGIN {printf "%.2f", a / b}')
    echo "| $cflags | ${client[local]} s | ${client[sshcc]} s | ${client[distcc]} s | $ratio | ${server[sshcc]} s | ${server[distcc]} s |"
done
