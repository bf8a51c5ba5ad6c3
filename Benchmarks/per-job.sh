#!/usr/bin/env bash
# Per-job wall time with hyperfine (not interleaved; Benchmarks/compare.sh is the full comparison), side by
# side in one run: local gcc -c; Debian's distcc over TCP to a local distccd; distcc's SSH mode (a fresh ssh + distccd --inetd per job); sshcc through a local sshd.
# Also sshcc's own start-up. Prints medians (hyperfine) and each one's overhead over local gcc.
# Usage: Benchmarks/per-job.sh [RUNS]      (needs: hyperfine, distcc, openssh-server; run as any user)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-40}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 1; }
. Benchmarks/common.sh
cd "$work"
printf 'int add(int a, int b) { return a + b; }\n' > tiny.c

mkdir -p "$work/logs" && chown "$user" "$work/logs"
start_loopback_sshd "$work" "$bin/sshccd" "$work/logs"
pids+=("$sshd_pid")

# distccd over TCP on loopback.
dport=$((40000 + RANDOM % 20000))
distccd --daemon --no-detach --listen 127.0.0.1 --port "$dport" --allow 127.0.0.1 --jobs 4 \
    --log-stderr --log-level error &
pids+=("$!")
sleep 0.5

# distcc's SSH mode: one ssh per job running distccd --inetd on the server.
cat > ssh-wrapper <<SH
#!/bin/sh
exec ssh -q -i $work/id_ed25519 -p $port -o UserKnownHostsFile=$work/known_hosts -o BatchMode=yes "\$@"
SH
chmod +x ssh-wrapper

export SSHCC_DIR="$work/mux" SSHCC_HOSTS="$user@127.0.0.1:$port" SSHCC_IDENTITY="$work/id_ed25519" SSHCC_KNOWN_HOSTS="$work/known_hosts" SSHCC_FALLBACK=0
mkdir -p "$work/distcc"
export DISTCC_FALLBACK=0 DISTCC_SKIP_LOCAL_RETRY=1 DISTCC_DIR="$work/distcc"
hyperfine -N --warmup 3 --runs "$runs" --export-json results.json \
    -n local-gcc "gcc -c tiny.c -o local.o" \
    -n distcc-tcp "env DISTCC_HOSTS=127.0.0.1:$dport/4 distcc gcc -c tiny.c -o tcp.o" \
    -n distcc-ssh "env DISTCC_HOSTS=$user@127.0.0.1 DISTCC_SSH=$work/ssh-wrapper distcc gcc -c tiny.c -o ssh.o" \
    -n sshcc "$bin/sshcc gcc -c tiny.c -o sshcc.o" \
    -n sshcc-startup "$bin/sshcc --version" >/dev/null
cmp local.o sshcc.o && cmp local.o tcp.o

python3 - results.json <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = results["local-gcc"]["median"]
tcp = results["distcc-tcp"]["median"] - base
print(f"{'what':<15}{'median ms':>11}{'over local gcc':>16}{'overhead vs distcc-tcp':>25}")
for name, r in results.items():
    m = r["median"]
    extra = "" if name in ("local-gcc", "sshcc-startup") else f"{(m - base) * 1000:+.1f} ms"
    ratio = "" if name in ("local-gcc", "sshcc-startup") else f"{(m - base) / tcp:.2f}x"
    print(f"{name:<15}{m * 1000:>11.1f}{extra:>16}{ratio:>25}")
PY
echo "sshccd jobs served: $(grep -c 'info: job' logs/sshccd.log); sshd logins: $(grep -c 'Accepted publickey' sshd.log)"
