#!/usr/bin/env bash
# The Debian packages, as an administrator and a developer meet them (CI runs this, as root):
#   build them (Scripts/package), install them with dpkg, check what they put in place (man pages,
#   completion, the group, conffiles), compile through the installed server — an sshd whose only sshcc
#   setting is `Include` of the package's drop-in, so sshd starts /usr/bin/sshccd, which reads the
#   package's /etc/sshcc/sshccd.conf and loads its gcc plugin (a -g object, byte-identical to a local one)
#   — with the installed client; then purge both and check that nothing of theirs is left.
# Also Scripts/install and Scripts/uninstall into a scratch prefix.
# Usage: Scripts/packages-check.sh [BIN]   (BIN: a release build's bin directory; default: one made now)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "packages-check: installs packages: run it as root" >&2; exit 1; }
bin=${1:-}
if [[ -z $bin ]]; then
    swift build -c release --static-swift-stdlib 2>&1 | tail -1
    bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi
for package in sshcc sshccd; do
    if dpkg-query -W "$package" > /dev/null 2>&1; then
        echo "packages-check: $package is already installed here; not touching it" >&2
        exit 1
    fi
done
. Scripts/loopback-sshd.sh
work=$(mktemp -d /tmp/sshcc-packages.XXXXXX)
chmod 755 "$work"
sshd_pid=""
installed=0
cleanup() {
    SSHCC_DIR=$work/mux /usr/bin/sshcc --stop > /dev/null 2>&1 || true
    [[ -z $sshd_pid ]] || kill "$sshd_pid" 2> /dev/null || true
    ((installed == 0)) || dpkg --purge sshcc sshccd > /dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

echo "== packages"
bash Scripts/package "$work/debs" "$bin"
group_before=$(getent group sshcc || true)
installed=1
dpkg -i "$work"/debs/*.deb > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
files=$(dpkg -L sshcc sshccd | sort -u)
for file in /usr/bin/sshcc /usr/bin/sshcc-mux /usr/bin/sshccd /usr/share/man/man1/sshcc.1.gz \
    /usr/share/man/man1/sshcc-mux.1.gz /usr/share/man/man8/sshccd.8.gz /etc/sshcc/sshccd.conf \
    /etc/ssh/sshd_config.d/sshcc.conf /usr/share/bash-completion/completions/sshcc \
    /usr/share/zsh/vendor-completions/_sshcc; do
    [[ -f $file ]] || fail "$file is not installed"
done
ls /usr/lib/sshcc/gcc-plugins/*.so > /dev/null || fail "no gcc plugin installed"
getent group sshcc > /dev/null || fail "the group sshcc was not made"
grep -qx "Subsystem sshcc /usr/bin/sshccd" /etc/ssh/sshd_config.d/sshcc.conf || fail "the drop-in names another sshccd"
zcat /usr/share/man/man1/sshcc.1.gz | grep -q "SSHCC_HOSTS" || fail "sshcc(1) lacks the environment"
zcat /usr/share/man/man8/sshccd.8.gz | grep -q "sshccd.conf" || fail "sshccd(8) lacks the configuration file"
completion=$(bash -c '. /usr/share/bash-completion/completions/sshcc; COMP_WORDS=(sshcc --st); COMP_CWORD=1; _sshcc; echo "${COMPREPLY[*]}"')
[[ $completion == "--status --stop" ]] || fail "bash completion of 'sshcc --st' gave '$completion'"
! command -v zsh > /dev/null || zsh -n /usr/share/zsh/vendor-completions/_sshcc || fail "zsh completion does not parse"
/usr/bin/sshcc --help | grep -q "^Usage: sshcc" || fail "sshcc --help"
echo "   installed: $(dpkg-query -W -f='${Package} ${Version}, ' sshcc sshccd)$(wc -l <<< "$files") paths"

echo "== a compile through the installed server and client"
# The package's configuration, with a slot set of this run's own (the machine's default set is not ours).
echo "slots sshcc-packages-check-$$" >> /etc/sshcc/sshccd.conf
/usr/bin/sshccd --show-config | grep -q "^gcc-plugins /usr/lib/sshcc/gcc-plugins$" || fail "sshccd.conf does not name the plugins"
LOOPBACK_SUBSYSTEM="Include /etc/ssh/sshd_config.d/sshcc.conf" LOOPBACK_SETENV="XDG_STATE_HOME=$work/state" \
    start_loopback_sshd "$work" /usr/bin/sshccd "$work"
cat > "$work/hello.c" << 'C'
#include <stdio.h>
#define GREETING "hello from an installed compile server"
int main(void) { puts(GREETING); return 0; }
C
export SSHCC_HOSTS="127.0.0.1:$port" SSHCC_IDENTITY=$work/id_ed25519 SSHCC_KNOWN_HOSTS=$work/known_hosts \
    SSHCC_SSH_CONFIG=/dev/null SSHCC_DIR=$work/mux SSHCC_FALLBACK=0
(cd "$work" && /usr/bin/sshcc gcc -g -O2 -c hello.c -o remote.o) || fail "the compile through the packages failed"
(cd "$work" && gcc -g -O2 -c hello.c -o local.o)
cmp -s "$work/remote.o" "$work/local.o" || fail "the -g object differs from a local compile's"
grep -q "info: job 1: gcc" "$work/state/sshcc/sshccd.log" || fail "sshccd's log (XDG_STATE_HOME) has no job"
echo "   remote -g object byte-identical to the local one; sshccd logged to its account's state directory"
/usr/bin/sshcc --stop > /dev/null
kill "$sshd_pid"
sshd_pid=""

echo "== purge"
dpkg --purge sshcc sshccd > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg --purge"; }
installed=0
left=()
while read -r path; do
    [[ -f $path || -L $path ]] && left+=("$path")
done <<< "$files"
[[ -e /etc/sshcc ]] && left+=(/etc/sshcc)
[[ -e /usr/lib/sshcc ]] && left+=(/usr/lib/sshcc)
((${#left[@]} == 0)) || fail "left after the purge: ${left[*]}"
[[ -n $group_before ]] || getent group sshcc > /dev/null || fail "the group went with the package"
echo "   nothing left (the group sshcc stays: files may belong to it)"

echo "== Scripts/install and Scripts/uninstall under a scratch prefix"
prefix=$work/prefix
bash Scripts/install --prefix "$prefix" --destdir "$work/root" --bin "$bin" 2> /dev/null
[[ -x $work/root$prefix/bin/sshcc && -f $work/root/etc/sshcc/sshccd.conf ]] || fail "install put nothing in place"
grep -qx "gcc-plugins $prefix/lib/sshcc/gcc-plugins" "$work/root/etc/sshcc/sshccd.conf" || fail "install's config"
bash Scripts/uninstall --prefix "$prefix" --destdir "$work/root" 2> /dev/null
[[ -f $work/root/etc/sshcc/sshccd.conf ]] || fail "uninstall removed the configuration without --purge"
bash Scripts/install --prefix "$prefix" --destdir "$work/root" --bin "$bin" 2> /dev/null
bash Scripts/uninstall --prefix "$prefix" --destdir "$work/root" --purge 2> /dev/null
remaining=$(find "$work/root" -type f)
[[ -z $remaining ]] || fail "left after uninstall --purge: $remaining"
echo "== packages: all good"
