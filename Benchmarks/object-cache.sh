#!/usr/bin/env bash
# The server's object cache between users, over an emulated WAN: one sshd + sshccd behind a delaying,
# bandwidth-capped relay (Benchmarks/delay-relay.py), a cache root shared by two compile accounts (each
# account's sshccd trusts the other's part: `objects-share all`), two users with their own mux daemons. User 1
# builds a project clean through the farm (every job compiled and kept), then user 2 builds the same tree
# clean, three times: with SSHCC_ASK=never (the source always sent), auto (each job asks first when the link's
# figures say it wins) and always (every job asks first); then, the cache emptied, user 1 builds clean again
# with every job asking (what a question costs when the answer is always NEED). Prints the wall times, user 2's share of jobs answered
# from the cache, and whether every object of every build is byte-identical to a local compile. Projects: Brotli 1.2.1 (36 files, as wan.sh) and Lua 5.4.4
# (its 33 library and interpreter files, from Debian's source package, as Scripts/debian-packages.sh).
# Usage (as root: the second user is an account of its own): Benchmarks/object-cache.sh [DELAY_MS] [MBIT] [JOBS]
#   (defaults 10 ms each way — a 20 ms round trip —, 20 Mbit/s, make -j8)
set -euo pipefail
cd "$(dirname "$0")/.."
delay=${1:-10}
mbit=${2:-20}
jobs=${3:-8}
[[ $(id -u) -eq 0 ]] || { echo "object-cache.sh: run as root (it makes a second compile account)" >&2; exit 2; }
. Benchmarks/common.sh
cd "$work"
echo "object cache between two users: WAN ${delay} ms each way, ${mbit} Mbit/s; make -j$jobs; $(date -u +%FT%TZ)"

second=sshcc-bench2
id "$second" >/dev/null 2>&1 || useradd --system --shell /bin/sh --home-dir /nonexistent --no-create-home "$second"
usermod -p '*' "$second"

# --- sources: the same tree for both users (same paths: the preprocessed text names them)
cache=${SSHCC_CACHE:-$HOME/.cache/sshcc}
fetch() { # fetch URL FILE SHA256
    [[ -f $2 ]] || { mkdir -p "$(dirname "$2")" && python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=60).read())' "$1" "$2"; }
    echo "$3  $2" | sha256sum -c --quiet
}
# Brotli through pip, as Scripts/real-project.sh (PyPI's file URLs are not stable names).
[[ -f $cache/brotli-1.2.1.tar.gz ]] ||
    python3 -m pip download --quiet --no-deps --no-binary :all: "brotli==1.2.1" -d "$cache"
fetch unused "$cache/brotli-1.2.1.tar.gz" 02b2f7b5a83485efe448a44ddf7983def05c3bb1dcf917d4f7154070260e13de
fetch http://deb.debian.org/debian/pool/main/l/lua5.4/lua5.4_5.4.4.orig.tar.gz "$cache/debian/lua5.4_5.4.4.orig.tar.gz" \
    164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61
mkdir -p tree/brotli tree/lua
tar -xzf "$cache/brotli-1.2.1.tar.gz" -C tree/brotli --strip-components=1
tar -xzf "$cache/debian/lua5.4_5.4.4.orig.tar.gz" -C tree/lua --strip-components=1
cat > tree/brotli/Makefile <<'MAKE'
OBJECTS = $(patsubst %.c,%.o,$(wildcard c/common/*.c c/dec/*.c c/enc/*.c) c/tools/brotli.c)
all: $(OBJECTS)
%.o: %.c
	$(CC) -O2 -Ic/include -c $< -o $@
MAKE
cat > tree/lua/Makefile.sshcc <<'MAKE'
OBJECTS = $(patsubst %.c,%.o,$(filter-out src/luac.c,$(wildcard src/*.c)))
all: $(OBJECTS)
%.o: %.c
	$(CC) -O2 -g -Wall -DLUA_COMPAT_5_3 -DLUA_USE_LINUX -c $< -o $@
MAKE
chmod -R a+rwX tree
# Reference objects: a local compile of each file.
for project in brotli lua; do
    makefile=Makefile
    [[ $project == lua ]] && makefile=Makefile.sshcc
    make -s -j2 -C "tree/$project" -f "$makefile" CC=gcc
    mkdir -p "reference/$project"
    (cd "tree/$project" && find . -name '*.o' -exec cp --parents {} "../../reference/$project/" \; -delete)
done

# --- the server: one cache root both accounts write a part of (sticky, as /tmp), each trusting the other
mkdir -p logs objects && chmod 1777 logs objects
LOOPBACK_SUBSYSTEM="Subsystem sshcc $bin/sshccd --config none --log $work/logs/sshccd-%u.log --jobs 4 --slots bench-objects-$$ --objects $work/objects --objects-share all --gcc-plugins $work/gcc-plugins" \
    start_loopback_sshd "$work" "$bin/sshccd" "$work/logs"
pids+=("$sshd_pid")
relay=$((50000 + RANDOM % 5000))
python3 "$repo/Benchmarks/delay-relay.py" "$relay" "$port" "$delay" --mbit "$mbit" --count "$work/relay-count" &
pids+=("$!")
echo "[127.0.0.1]:$relay $(cut -d' ' -f1,2 host_key.pub)" >> known_hosts
chmod 644 known_hosts id_ed25519.pub
install -o "$second" -m 600 id_ed25519 id_second
sleep 0.5

# build USER PROJECT: a clean build of PROJECT through the farm as USER (1 or 2), prints seconds.
build() {
    local who=$1 project=$2 makefile=Makefile ask=${3:-auto} mux=$work/mux-$1-${3:-auto}
    [[ $project == lua ]] && makefile=Makefile.sshcc
    find "tree/$project" -name '*.o' -delete
    local start end
    start=$(date +%s.%N)
    if [[ $who == 1 ]]; then
        SSHCC_ASK=$ask SSHCC_DIR=$mux SSHCC_HOSTS="$user@127.0.0.1:$relay/4" SSHCC_IDENTITY=$work/id_ed25519 SSHCC_KNOWN_HOSTS=$work/known_hosts \
            SSHCC_SSH_CONFIG=/dev/null SSHCC_FALLBACK=0 make -s -j"$jobs" -C "tree/$project" -f "$makefile" CC="$bin/sshcc gcc"
    else
        runuser -u "$second" -- env SSHCC_ASK="$ask" SSHCC_DIR="$mux" SSHCC_HOSTS="$second@127.0.0.1:$relay/4" SSHCC_IDENTITY="$work/id_second" \
            SSHCC_KNOWN_HOSTS="$work/known_hosts" SSHCC_SSH_CONFIG=/dev/null SSHCC_FALLBACK=0 PATH="$PATH" \
            make -s -j"$jobs" -C "tree/$project" -f "$makefile" CC="$bin/sshcc gcc"
    fi
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}
# same PROJECT: every object equals the local compile's
same() {
    local differing=0 file
    for file in $(cd "reference/$1" && find . -name '*.o'); do
        cmp -s "reference/$1/$file" "tree/$1/$file" || differing=$((differing + 1))
    done
    [[ $differing -eq 0 ]] && echo "all byte-identical" || echo "$differing DIFFER"
}
hits() { cat logs/sshccd-*.log 2>/dev/null | grep -c "cache-hit" || true; }
asked() { cat logs/sshccd-*.log 2>/dev/null | grep -c "asked-first cache-hit" || true; }

# The loopback sshd's AuthorizedKeysFile is WORK/authorized_keys for every account: both log in with one key.
# Each user's toolchain identity is computed once before measuring (a first tiny compile).
echo 'int warm(void) { return 0; }' > tree/warm.c && chmod 666 tree/warm.c
for mode in auto always; do
    SSHCC_ASK=$mode SSHCC_DIR=$work/mux-1-$mode SSHCC_HOSTS="$user@127.0.0.1:$relay/4" SSHCC_IDENTITY=$work/id_ed25519 \
        SSHCC_KNOWN_HOSTS=$work/known_hosts SSHCC_SSH_CONFIG=/dev/null "$bin/sshcc" gcc -c tree/warm.c -o tree/warm1.o
done
chmod 777 tree
modes=(never auto always)
for mode in "${modes[@]}"; do
    install -d -o "$second" -m 700 "$work/mux-2-$mode"
    runuser -u "$second" -- env SSHCC_ASK="$mode" SSHCC_DIR="$work/mux-2-$mode" SSHCC_HOSTS="$second@127.0.0.1:$relay/4" \
        SSHCC_IDENTITY="$work/id_second" SSHCC_KNOWN_HOSTS="$work/known_hosts" SSHCC_SSH_CONFIG=/dev/null \
        "$bin/sshcc" gcc -c tree/warm.c -o tree/warm2.o
done

printf '%-8s %10s %-28s %8s %10s %10s  %s\n' project "user 1 (s)" "user 2 (s), SSHCC_ASK=" ratio "hits" asked objects
for project in brotli lua; do
    count=$(cd "reference/$project" && find . -name '*.o' | wc -l)
    before=$(hits)
    t1=$(build 1 "$project")
    check1=$(same "$project")
    middle=$(hits)
    [[ $((middle - before)) -eq 0 ]] || echo "  (user 1 had $((middle - before)) hits: the cache was not empty)"
    for mode in "${modes[@]}"; do
        asked_before=$(asked)
        start=$(hits)
        t2=$(build 2 "$project" "$mode")
        check2=$(same "$project")
        printf '%-8s %10.2f %-28s %8.2f %5d/%-4d %10d  user 1: %s; user 2: %s\n' "$project" "$t1" \
            "$(printf '%.2f (%s)' "$t2" "$mode")" "$(echo "$t2 / $t1" | bc -l)" "$(($(hits) - start))" "$count" \
            "$(($(asked) - asked_before))" "$check1" "$check2"
    done
    # What asking costs where nothing is kept: user 1's clean build again with every job asking, the cache
    # emptied first (auto above never asked: the host's hit rate was 0).
    rm -rf objects/*
    start=$(hits)
    t3=$(build 1 "$project" always)
    printf '%-8s %10.2f %-28s %8.2f %5d/%-4d %10s  user 1 again, every job asking first, cache empty: %s\n' "$project" \
        "$t1" "$(printf '%.2f (user 1, always)' "$t3")" "$(echo "$t3 / $t1" | bc -l)" "$(($(hits) - start))" "$count" \
        "-" "$(same "$project")"
done
