#!/usr/bin/env python3
"""Runs benchmark commands interleaved (round after round, every command once per round, in a shuffled
order), so a slow moment of the machine hits every contender alike. Prints medians, the overhead over
local gcc, the ratio of that overhead to distcc over TCP, and the CPU time the whole machine spent busy
during the run (client and server share this machine: it is what each contender costs in CPU).

Usage: compare.py RESULTS.json ROUNDS NAME=COMMAND ... (a COMMAND runs through /bin/sh; `local` names the
reference and `distcc-tcp` the ratio's base). Appends to RESULTS.json (a list of workloads).
"""
import json
import os
import random
import statistics
import subprocess
import sys
import time

out, rounds, pairs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
title = pairs.pop(0)
commands = dict(p.split("=", 1) for p in pairs)
times = {name: [] for name in commands}
cpu = {name: [] for name in commands}


def busy_seconds():
    """CPU time the machine has spent busy (all but idle and iowait), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


for name, command in commands.items():  # warm-up: caches, the mux daemon, ControlMaster
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
for _ in range(rounds):
    order = list(commands)
    random.shuffle(order)
    for name in order:
        start, busy = time.perf_counter(), busy_seconds()
        subprocess.run(commands[name], shell=True, check=True, stdout=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - start)
        cpu[name].append(busy_seconds() - busy)

medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
cpu_medians = {name: statistics.median(t) * 1000 for name, t in cpu.items()}
base = medians.get("local")
tcp = medians.get("distcc-tcp")
print(f"\n## {title} ({rounds} rounds, median ms)")
print(f"| {'what':<22} | {'median':>8} | {'over local':>10} | {'vs distcc-tcp':>13} | {'CPU ms':>8} |")
print(f"| {'-' * 22} | {'-' * 8}: | {'-' * 10}: | {'-' * 13}: | {'-' * 8}: |")
for name, m in medians.items():
    over = "" if base is None or name == "local" else f"{m - base:+.1f}"
    ratio = ""
    if tcp is not None and base is not None and name not in ("local",) and tcp - base > 0:
        ratio = f"{(m - base) / (tcp - base):.2f}x" if "startup" not in name else ""
    print(f"| {name:<22} | {m:>8.1f} | {over:>10} | {ratio:>13} | {cpu_medians[name]:>8.0f} |")
try:
    existing = json.load(open(out))
except (OSError, ValueError):
    existing = []
existing.append({"workload": title, "rounds": rounds, "median_ms": medians, "cpu_ms": cpu_medians})
json.dump(existing, open(out, "w"), indent=1)
