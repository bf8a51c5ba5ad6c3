#!/usr/bin/env bash
# Placement across a farm: several loopback sshd hosts whose compilers take emulated, known times (a `gcc` on
# each host's PATH sleeps, then hands over to the real gcc: the same toolchain, so sshcc's check passes), and
# two compile accounts as two users. Each situation runs a build (`make -jN` of tiny files through sshcc) and
# prints its makespan against the ideal one — the shortest any placement could reach with those hosts, slots
# and times — and whether it is within the target: 1.25 × ideal + 0.5 s (start-up). So it measures
# placement, not this machine's two cores.
#
# Usage (as root: the second user is an account of its own): Benchmarks/placement.sh [ROUNDS] [SITUATION…]
# SITUATION: busy-host, speeds, speeds-first, two-users, small-host (default: all). ROUNDS (default 1): each
# situation runs that many times; the worst round counts.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
shift || true
situations=("$@")
[[ ${#situations[@]} -gt 0 ]] || situations=(busy-host speeds speeds-first two-users small-host)
[[ $(id -u) -eq 0 ]] || { echo "placement.sh: run as root (it makes a second compile account)" >&2; exit 2; }
. Benchmarks/common.sh

second=sshcc-bench2
id "$second" >/dev/null 2>&1 || useradd --system --shell /bin/sh --home-dir /nonexistent --no-create-home "$second"
usermod -p '*' "$second"

# start_host NAME SECONDS JOBS: an sshd whose sshccd runs JOBS compiles at once (its own slot set), each taking
# SECONDS more than the real one. Sets the variable NAME_port.
start_host() {
    local name=$1 seconds=$2 jobs=$3 dir=$work/$situation/$1
    mkdir -p "$dir/bin" "$dir/logs"
    chmod 755 "$dir" "$dir/bin"
    chmod 1777 "$dir/logs"
    cat > "$dir/bin/gcc" <<SCRIPT
#!/bin/sh
# An emulated slow compile: a compile (-c) waits $seconds s, then the real gcc does it.
case " \$* " in *" -c "*) case " \$* " in *" -###"*) ;; *) sleep $seconds ;; esac ;; esac
exec /usr/bin/gcc "\$@"
SCRIPT
    chmod 755 "$dir/bin/gcc"
    LOOPBACK_SUBSYSTEM="Subsystem sshcc PATH=$dir/bin:/usr/bin:/bin $bin/sshccd --config none --log $dir/logs/sshccd-%u.log --jobs $jobs --slots bench-$name-$$ --direct-steps off --gcc-plugins $dir/gcc-plugins --objects none" \
        start_loopback_sshd "$dir" "$bin/sshccd" "$dir/logs"
    pids+=("$sshd_pid")
    cat "$work/id_ed25519.pub" >> "$dir/authorized_keys"
    cat "$dir/known_hosts" >> "$work/known_hosts"
    printf -v "${name}_port" '%s' "$port"
}

ssh-keygen -q -t ed25519 -N '' -C sshcc-bench-user -f "$work/id_ed25519"
: > "$work/known_hosts"
chmod 644 "$work/id_ed25519.pub" "$work/known_hosts"
export SSHCC_IDENTITY=$work/id_ed25519 SSHCC_KNOWN_HOSTS=$work/known_hosts SSHCC_SSH_CONFIG=/dev/null
export SSHCC_FALLBACK=0

# project NAME COUNT: COUNT tiny C files and a Makefile.
project() {
    local dir=$work/$1
    mkdir -p "$dir"
    for i in $(seq "$2"); do echo "int f$i(int x) { return x * $i; }" > "$dir/f$i.c"; done
    printf 'objects := $(patsubst %%.c,%%.o,$(wildcard *.c))\nall: $(objects)\n%%.o: %%.c\n\t$(CC) -c $< -o $@\n' \
        > "$dir/Makefile"
}

# build USER-SPEC-PREFIX MUX PROJECT JOBS HOSTS: one build's wall time in seconds (printed).
build() {
    local prefix=$1 mux=$2 dir=$3 jobs=$4 hosts=$5 started ended
    rm -f "$dir"/*.o
    started=$(date +%s.%N)
    SSHCC_DIR=$mux SSHCC_HOSTS="$hosts" make -s -j"$jobs" -C "$dir" CC="$bin/sshcc gcc" >/dev/null
    ended=$(date +%s.%N)
    python3 -c "print(f'{$ended - $started:.2f}')"
    ls "$dir"/*.o >/dev/null
}

# ideal N "SLOTS:SECONDS …": the shortest makespan for N equal jobs on hosts with those slots and times.
ideal() {
    python3 - "$@" <<'PY'
import sys
n = int(sys.argv[1]); hosts = [tuple(map(float, h.split(':'))) for h in sys.argv[2].split()]
t = 0.0
while sum(int(s) * int((t + 1e-9) // d) for s, d in hosts) < n: t += 0.01
print(f"{t:.2f}")
PY
}

report() {  # SITUATION MEASURED IDEAL
    python3 - "$@" <<'PY'
import sys
name, measured, ideal = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
target = 1.25 * ideal + 0.5
print(f"{name:<58} {measured:6.2f} s  ideal {ideal:5.2f} s  ratio {measured / ideal:4.2f}  "
      f"target {target:5.2f} s  {'OK' if measured <= target else 'MISSED'}")
PY
}

worst() { sort -n | tail -1; }

# warm MUX HOSTS: one compile through HOSTS, so that the wrapper's toolchain identity is kept in MUX (a first
# build in a fresh SSHCC_DIR computes it in every wrapper at once) and the daemon is connected, as it usually
# is when a build starts (it outlives builds for 10 minutes).
warm() {
    mkdir -p "$work/warm"
    echo 'int warm(void) { return 0; }' > "$work/warm/w.c"
    SSHCC_DIR=$1 SSHCC_HOSTS="$2" "$bin/sshcc" gcc -c "$work/warm/w.c" -o "$work/warm/w.o"
}
# forget MUX: the daemon stops and what it learned is dropped (the toolchain identity stays).
forget() {
    SSHCC_DIR=$1 "$bin/sshcc" --stop >/dev/null
    rm -f "$1/speeds"
}
as_second() {  # runs a command as the second user, with its own copy of the key
    install -o "$second" -m 600 "$work/id_ed25519" "$work/id_second"
    runuser -u "$second" -- env SSHCC_IDENTITY="$work/id_second" SSHCC_KNOWN_HOSTS="$work/known_hosts" \
        SSHCC_SSH_CONFIG=/dev/null SSHCC_FALLBACK=0 PATH="$PATH" "$@"
}

printf 'placement benchmark, %s round(s) per situation, %s\n' "$rounds" "$(date -u +%FT%TZ)"
for situation in "${situations[@]}"; do
    case $situation in
    busy-host)
        # Another user keeps host 1's four slots busy; user 1 builds 16 one-second jobs over hosts 1 and 2.
        start_host a 1 4; start_host b 1 4
        project p1 16; project busy 400
        chmod -R a+rwX "$work/busy"
        install -d -o "$second" -m 700 "$work/mux-busy"
        times=()
        for _ in $(seq "$rounds"); do
            ( as_second env SSHCC_DIR="$work/mux-busy" SSHCC_HOSTS="$second@127.0.0.1:$a_port/4" \
                make -s -k -j4 -C "$work/busy" CC="$bin/sshcc gcc" >/dev/null 2>&1 & echo $! > "$work/busy.pid"; wait ) &
            warm "$work/mux-p1" "$user@127.0.0.1:$a_port/4 $user@127.0.0.1:$b_port/4"
            sleep 3   # the other user's build fills host 1
            times+=("$(build "" "$work/mux-p1" "$work/p1" 16 "$user@127.0.0.1:$a_port/4 $user@127.0.0.1:$b_port/4")")
            # What user 1's daemon saw of host 1: the other user's jobs in its slots.
            SSHCC_DIR=$work/mux-p1 "$bin/sshcc" --status | grep -A2 "$a_port: " | grep "load:" | sed 's/^ */    host 1 as user 1 saw it: /' || true
            pkill -u "$second" make || true
            wait || true
        done
        report "another user keeps host 1 busy; 16 jobs over hosts 1, 2 (fair share)" "$(printf '%s\n' "${times[@]}" | worst)" \
            "$(ideal 16 "4:1 2:1")"   # host 2, and host 1 shared fairly with the other user
        grep -c "compiled on" "$work/mux-p1/mux.log" >/dev/null 2>&1 || true
        printf '    the other user compiled %s job(s) meanwhile\n' "$(ls "$work/busy"/*.o 2>/dev/null | wc -l)"
        ;;
    speeds | speeds-first)
        # Host 1 does a job in 0.2 s, host 2 in 3 s; 30 jobs. `speeds`: after a first build of the same size
        # (what it learned is kept); `speeds-first`: the first build, nothing learned yet.
        start_host fast 0.2 4; start_host slow 3 4
        project p2 30
        hosts="$user@127.0.0.1:$fast_port/4 $user@127.0.0.1:$slow_port/4"
        times=()
        for round in $(seq "$rounds"); do
            rm -rf "$work/mux-$situation-$round"
            warm "$work/mux-$situation-$round" "$hosts"
            forget "$work/mux-$situation-$round"
            first=$(build "" "$work/mux-$situation-$round" "$work/p2" 30 "$hosts")
            if [[ $situation == speeds ]]; then
                # The daemon outlives the build (as it does for 10 minutes); what it learned is also kept in
                # SSHCC_DIR for the next daemon (tested in PlacementTests).
                times+=("$(build "" "$work/mux-$situation-$round" "$work/p2" 30 "$hosts")")
            else
                times+=("$first")
            fi
        done
        what="after a first build"
        [[ $situation == speeds ]] || what="first build, nothing learned"
        report "host 1 0.2 s, host 2 3 s a job; 30 jobs, $what" "$(printf '%s\n' "${times[@]}" | worst)" \
            "$(ideal 30 "4:0.2 4:3")"
        SSHCC_DIR=$work/mux-$situation-1 "$bin/sshcc" --status | grep -E '^[^ ]|speed:|load:' | sed 's/^/    /'
        ;;
    two-users)
        # Two users start 16 one-second jobs each on two equal hosts at once; the later one to finish counts.
        start_host c 1 4; start_host d 1 4
        project p3 16; project p4 16
        chmod -R a+rwX "$work/p4"
        hosts1="$user@127.0.0.1:$c_port/4 $user@127.0.0.1:$d_port/4"
        hosts2="$second@127.0.0.1:$c_port/4 $second@127.0.0.1:$d_port/4"
        times=()
        warm "$work/mux-p3" "$hosts1"
        install -d -o "$second" -m 700 "$work/mux-p4"
        chown -R "$second" "$work/warm"
        as_second env SSHCC_DIR="$work/mux-p4" SSHCC_HOSTS="$hosts2" "$bin/sshcc" gcc -c "$work/warm/w.c" -o "$work/warm/w2.o"
        for _ in $(seq "$rounds"); do
            started=$(date +%s.%N)
            build "" "$work/mux-p3" "$work/p3" 16 "$hosts1" >/dev/null &
            one=$!
            as_second env SSHCC_DIR="$work/mux-p4" SSHCC_HOSTS="$hosts2" make -s -B -j16 -C "$work/p4" \
                CC="$bin/sshcc gcc" >/dev/null
            wait "$one"
            ended=$(date +%s.%N)
            times+=("$(python3 -c "print(f'{$ended - $started:.2f}')")")
        done
        report "two users, 16 jobs each, two equal hosts, at once" "$(printf '%s\n' "${times[@]}" | worst)" \
            "$(ideal 32 "8:1")"
        ;;
    small-host)
        # Host 1 runs one compile at a time but is listed /4; host 2 runs four. 16 half-second jobs.
        start_host e 0.5 1; start_host f 0.5 4
        project p5 16
        warm "$work/mux-p5" "$user@127.0.0.1:$e_port/4 $user@127.0.0.1:$f_port/4"
        times=()
        for _ in $(seq "$rounds"); do
            times+=("$(build "" "$work/mux-p5" "$work/p5" 16 "$user@127.0.0.1:$e_port/4 $user@127.0.0.1:$f_port/4")")
        done
        report "host 1 runs 1 at a time but is listed /4, host 2 runs 4" "$(printf '%s\n' "${times[@]}" | worst)" \
            "$(ideal 16 "1:0.5 4:0.5")"
        ;;
    *) echo "unknown situation: $situation" >&2; exit 2 ;;
    esac
    # Each situation's daemons and hosts stop before the next starts (stopping is idempotent; cleanup repeats it).
    for dir in "$work"/mux*; do [[ -d $dir ]] && SSHCC_DIR=$dir "$bin/sshcc" --stop >/dev/null 2>&1 || true; done
    for dir in "$work/mux-p4" "$work/mux-busy"; do
        [[ -d $dir ]] && as_second env SSHCC_DIR="$dir" "$bin/sshcc" --stop >/dev/null 2>&1 || true
    done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    # PLACEMENT_LOGS=DIR keeps each daemon's log (run with SSHCC_LOG_LEVEL=debug to see every job).
    if [[ -n ${PLACEMENT_LOGS:-} ]]; then
        mkdir -p "$PLACEMENT_LOGS"
        for log in "$work"/mux*/mux.log; do [[ -f $log ]] && cp "$log" "$PLACEMENT_LOGS/$situation-$(basename "$(dirname "$log")").log"; done
    fi
done
