#!/usr/bin/env python3
"""A TCP relay that emulates a WAN on loopback (this kernel has no tc netem): delay, and optionally a bandwidth cap.

Usage: delay-relay.py LISTEN_PORT TARGET_PORT DELAY_MS [--mbit RATE] [--count FILE]
Every chunk is forwarded DELAY_MS after it arrived, in order, so the round trip grows by 2 x DELAY_MS; a new
connection's first bytes wait one round trip more (the TCP handshake a real WAN would cost). With --mbit, each
direction is one link of RATE Mbit/s shared by all connections (as a build's jobs share an office uplink): a
chunk leaves when the link has finished sending the chunks before it, at RATE. With --count, the bytes relayed
each way are written to FILE ("up DOWN" = client→server, server→client) twice a second and at exit.
Listens on 127.0.0.1 only.
"""
import argparse
import os
import queue
import signal
import socket
import threading
import time

CHUNK = 16384  # small enough that a capped link serialises smoothly (6.5 ms at 20 Mbit/s)

# Threads, not asyncio: a thread's time.sleep wakes within ~0.1 ms of its due time, while asyncio's timers
# (epoll in whole milliseconds, plus the loop's latency) added ~1.5 ms each way: a 20 ms round trip measured 23.


class Link:
    """One direction of the emulated line: a delay and an optional rate, shared by every connection."""

    def __init__(self, delay, mbit):
        self.delay = delay
        self.bytes_per_second = mbit * 1e6 / 8 if mbit else None
        self.free_at = 0.0
        self.bytes = 0
        self.lock = threading.Lock()

    def due(self, size):
        """When a chunk of `size` bytes that arrives now comes out at the far end."""
        now = time.monotonic()
        with self.lock:
            self.bytes += size
            if self.bytes_per_second is None:
                return now + self.delay
            start = max(now, self.free_at)
            self.free_at = start + size / self.bytes_per_second
            return self.free_at + self.delay


def pump(source, target, link):
    """Forwards source → target, each chunk at its due time; then passes the end of stream on."""
    chunks = queue.Queue()

    def send():
        while True:
            due, data = chunks.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                target.sendall(data)
            except OSError:
                return
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        while data := source.recv(CHUNK):
            chunks.put((link.due(len(data)), data))
    except OSError:
        pass
    chunks.put((0, None))
    sender.join()


def handle(client, target, up, down):
    # A real WAN delays the TCP handshake too: the client's first bytes would arrive 1.5 round trips after
    # it called connect(). Its connect() here returns at once, so hold its data back one more round trip.
    time.sleep(up.delay + down.delay)
    try:
        server = socket.create_connection(("127.0.0.1", target))
    except OSError:
        client.close()
        return
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=pump, args=(server, client, down), daemon=True)
    back.start()
    pump(client, server, up)
    back.join()
    for s in (client, server):
        s.close()


def write_count(path, up, down):
    if path:
        with open(path, "w") as f:
            f.write(f"{up.bytes} {down.bytes}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("listen", type=int)
    parser.add_argument("target", type=int)
    parser.add_argument("delay_ms", type=float)
    parser.add_argument("--mbit", type=float, default=None)
    parser.add_argument("--count", default=None)
    args = parser.parse_args()
    up, down = Link(args.delay_ms / 1000, args.mbit), Link(args.delay_ms / 1000, args.mbit)
    listener = socket.create_server(("127.0.0.1", args.listen), backlog=128)

    def stop(*_):
        write_count(args.count, up, down)
        os._exit(0)  # drop open connections at once, as a killed relay would

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)

    def counts():
        while True:
            write_count(args.count, up, down)
            time.sleep(0.5)

    threading.Thread(target=counts, daemon=True).start()
    while True:
        client, _ = listener.accept()
        threading.Thread(target=handle, args=(client, args.target, up, down), daemon=True).start()


main()
