#!/usr/bin/env bash
# Memory of one idle channel on the server: an sshccd that sshd started for a channel that carries no job,
# measured from /proc/PID/smaps_rollup. Private_Dirty is what each more channel costs; Private_Clean (the
# binary's pages) is shared by every sshccd of the machine. Prints both for the release sshccd (linked at a
# fixed address) and, given a second sshccd as $1 (e.g. a position-independent build), for that one too.
#   swift build -c release --static-swift-stdlib --product sshccd --scratch-path /tmp/pie  # PIE, to compare
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
measure() {
    local sshccd=$1 dir
    dir=$(mktemp -d "$work/idle.XXXX")
    chmod 755 "$dir"; mkdir -p "$dir/logs"; chmod 1777 "$dir/logs"
    start_loopback_sshd "$dir" "$sshccd" "$dir/logs" >/dev/null
    pids+=("$sshd_pid")
    (sleep 4) | ssh -F /dev/null -i "$dir/id_ed25519" -o UserKnownHostsFile="$dir/known_hosts" -p "$port" \
        "$user@127.0.0.1" -s sshcc &
    sleep 2
    local pid
    pid=$(pgrep -n -f "$sshccd --config")
    printf '%-60s %s\n' "$sshccd" "$(grep -E '^(Private_Clean|Private_Dirty|Pss_Anon)' "/proc/$pid/smaps_rollup" | tr -s ' ' | paste -sd' ')"
    wait
}
sync   # a freshly written binary's pages count as dirty until written back
measure "$bin/sshccd"
[[ -z ${1:-} ]] || measure "$1"
