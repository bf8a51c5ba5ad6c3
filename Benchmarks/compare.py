#!/usr/bin/env python3
"""Runs benchmark commands interleaved (round after round, every command once per round, in a shuffled
order), so a slow moment of the machine hits every contender alike. Prints medians, the overhead over
local gcc, and the ratio of that overhead to distcc over TCP.

Usage: compare.py RESULTS.json ROUNDS NAME=COMMAND ... (a COMMAND runs through /bin/sh; `local` names the
reference and `distcc-tcp` the ratio's base). Appends to RESULTS.json (a list of workloads).
"""
import json
import random
import statistics
import subprocess
import sys
import time

out, rounds, pairs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
title = pairs.pop(0)
commands = dict(p.split("=", 1) for p in pairs)
times = {name: [] for name in commands}
for name, command in commands.items():  # warm-up: caches, the mux daemon, ControlMaster
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
for _ in range(rounds):
    order = list(commands)
    random.shuffle(order)
    for name in order:
        start = time.perf_counter()
        subprocess.run(commands[name], shell=True, check=True, stdout=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - start)

medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
base = medians.get("local")
tcp = medians.get("distcc-tcp")
print(f"\n## {title} ({rounds} rounds, median ms)")
print(f"| {'what':<22} | {'median':>8} | {'over local':>10} | {'vs distcc-tcp':>13} |")
print(f"| {'-' * 22} | {'-' * 8}: | {'-' * 10}: | {'-' * 13}: |")
for name, m in medians.items():
    over = "" if base is None or name == "local" else f"{m - base:+.1f}"
    ratio = ""
    if tcp is not None and base is not None and name not in ("local",) and tcp - base > 0:
        ratio = f"{(m - base) / (tcp - base):.2f}x" if "startup" not in name else ""
    print(f"| {name:<22} | {m:>8.1f} | {over:>10} | {ratio:>13} |")
try:
    existing = json.load(open(out))
except (OSError, ValueError):
    existing = []
existing.append({"workload": title, "rounds": rounds, "median_ms": medians})
json.dump(existing, open(out, "w"), indent=1)
