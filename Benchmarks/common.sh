# Sourced by the benchmark scripts: a release build, a scratch directory cleaned up on exit (with every mux
# daemon, ControlMaster and server the script started), and the login account for the loopback sshd.
# Sets: repo, bin, work, pids (append the PIDs of servers you start), user; defines start_servers.
. Scripts/loopback-sshd.sh
repo=$PWD
bash Scripts/install-deps
swift build -c release --static-swift-stdlib 2>&1 | tail -1
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)

work=$(mktemp -d /tmp/sshcc-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for dir in "$work"/mux*; do
        local stopper=$bin/sshcc
        [[ $dir == */mux-before* ]] && stopper=${baseline:-$bin}/sshcc   # an earlier build's daemon (compare.sh)
        [[ -d $dir ]] || continue
        # A daemon answers only its own user: another account's (object-cache.sh's second user) is stopped as it.
        local owner
        owner=$(stat -c %U "$dir")
        if [[ $owner == "$(id -un)" ]]; then
            SSHCC_DIR=$dir "$stopper" --stop >/dev/null 2>&1 || true
        else
            runuser -u "$owner" -- env SSHCC_DIR="$dir" "$stopper" --stop >/dev/null 2>&1 || true
        fi
    done
    for control in "$work"/cm-*; do [[ -S $control ]] && ssh -S "$control" -O exit x 2>/dev/null || true; done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# sshd starts a subsystem through the login shell, and bash may read a heavy ~/.bashrc (root's pyenv init
# here costs ~150 ms per channel): as root, log in as a dedicated /bin/sh account, as Keys/README.md
# recommends for compile accounts.
user=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
    user=sshcc-bench
    id "$user" >/dev/null 2>&1 || useradd --system --shell /bin/sh --home-dir /nonexistent --no-create-home "$user"
    usermod -p '*' "$user"   # a locked password field ('!') makes sshd refuse even key logins
fi

# start_servers: the loopback sshd with sshccd (logging into $work/logs, which must exist) and Debian's
# distccd on TCP port $dport, both stopped on exit. Sets port (sshd's) and dport.
start_servers() {
    start_loopback_sshd "$work" "$bin/sshccd" "$work/logs"
    pids+=("$sshd_pid")
    dport=$((40000 + RANDOM % 10000))
    distccd --daemon --no-detach --listen 127.0.0.1 --port "$dport" --allow 127.0.0.1 --jobs 4 --log-stderr \
        --log-level error &
    pids+=("$!")
}
