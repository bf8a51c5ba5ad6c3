#!/usr/bin/env python3
"""Measures the round trip the WAN relay really gives: an echo server behind a delay-relay.py with the given
settings, 30 small pings, prints the median in ms. Usage: rtt-probe.py DELAY_MS [MBIT]"""
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

delay = sys.argv[1]
mbit = sys.argv[2:3]
echo = socket.create_server(("127.0.0.1", 0))


def serve():
    connection, _ = echo.accept()
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while data := connection.recv(65536):
        connection.sendall(data)


threading.Thread(target=serve, daemon=True).start()
probe = socket.create_server(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
relay_args = [str(port), str(echo.getsockname()[1]), delay] + (["--mbit", mbit[0]] if mbit else [])
relay = subprocess.Popen([sys.executable, str(Path(__file__).with_name("delay-relay.py"))] + relay_args)
try:
    for _ in range(100):
        try:
            client = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.05)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(31):
        start = time.perf_counter()
        client.sendall(b"x" * 100)
        received = 0
        while received < 100:
            received += len(client.recv(65536))
        times.append((time.perf_counter() - start) * 1000)
    print(f"{statistics.median(times[1:]):.2f}")
finally:
    relay.terminate()
