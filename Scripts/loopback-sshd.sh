# Sourced by Scripts/demo, the real-project scripts and the benchmarks: a private sshd on 127.0.0.1 with fresh ed25519 keys
# and the sshcc subsystem. (The tests' Swift twin is Tests/TestSupport/SSHDServer.swift.)
#
# start_loopback_sshd WORK SSHCCD LOGDIR [EXTRA]
#   EXTRA: more sshd_config lines (e.g. a RekeyLimit). LOOPBACK_SUBSYSTEM replaces the subsystem line (it comes
#   last: an installed drop-in's `Include` and its Match block); LOOPBACK_SETENV adds NAME=VALUE to the sessions. Writes keys, sshd_config, known_hosts and sshd.log into WORK; sshccd logs into LOGDIR (which the login
#   user must be able to write). Sets sshd_pid and port. sshd binds before it daemonizes, so a port in use
#   fails at once and another is tried. Stop it with: kill "$sshd_pid".
# Where this file is, taken when it is sourced: callers may cd elsewhere before they start a server.
loopback_scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
start_loopback_sshd() {
    local work=$1 sshccd=$2 logdir=$3 extra=${4:-}
    [[ $(id -u) -eq 0 ]] && mkdir -p /run/sshd
    ssh-keygen -q -t ed25519 -N '' -C sshcc-host -f "$work/host_key"
    ssh-keygen -q -t ed25519 -N '' -C sshcc-user -f "$work/id_ed25519"
    cp "$work/id_ed25519.pub" "$work/authorized_keys"
    # sshcc's gcc plugin for this machine's gcc: exact -g objects from directives-only text.
    bash "$loopback_scripts/build-gcc-plugin.sh" "$work/gcc-plugins" gcc >/dev/null
    sshd_pid=""
    for _ in $(seq 20); do
        port=$((20000 + RANDOM % 40000))
        cat > "$work/sshd_config" <<CONF
ListenAddress 127.0.0.1:$port
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PidFile $work/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 100
LogLevel VERBOSE
# The login shell runs the subsystem; when it is bash (root's, here), SHLVL=1 keeps it from sourcing
# ~/.bashrc, as the /bin/sh of a compile account would: the tester's dotfiles are not the server's.
SetEnv SHLVL=1 ${LOOPBACK_SETENV:-}
$extra
${LOOPBACK_SUBSYSTEM:-Subsystem sshcc $sshccd --config none --log $logdir/sshccd.log --jobs 4 --slots-dir $logdir/slots --gcc-plugins $work/gcc-plugins --cache $logdir/sshccd-cache --objects none}
CONF
        /usr/sbin/sshd -t -f "$work/sshd_config"
        # An absolute -E path: sshd changes to / when it daemonizes.
        if /usr/sbin/sshd -f "$work/sshd_config" -E "$work/sshd.log"; then
            for _ in $(seq 50); do [[ -s $work/sshd.pid ]] && break; sleep 0.05; done
            sshd_pid=$(cat "$work/sshd.pid")
            break
        fi
    done
    [[ -n $sshd_pid ]] || { echo "could not start sshd" >&2; cat "$work/sshd.log" >&2; return 1; }
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_key.pub")" > "$work/known_hosts"
}

# make_scratch_directory NAME: $work, a fresh /tmp/NAME.XXXXXX (0755: the login user reads its keys) removed on
# exit, after the mux daemon of $bin/sshcc that used $work/mux and the sshd started there are stopped.
make_scratch_directory() {
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$work"
    sshd_pid=""
    trap 'SSHCC_DIR="$work/mux" "$bin/sshcc" --stop >/dev/null 2>&1 || true
          [[ -n $sshd_pid ]] && kill "$sshd_pid" 2>/dev/null || true
          rm -rf "$work"' EXIT
}
