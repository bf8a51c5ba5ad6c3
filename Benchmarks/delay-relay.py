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
import asyncio
import os
import signal
import socket
import time

CHUNK = 16384  # small enough that a capped link serialises smoothly (6.5 ms at 20 Mbit/s)


class Link:
    """One direction of the emulated line: a delay and an optional rate, shared by every connection."""

    def __init__(self, delay, mbit):
        self.delay = delay
        self.bytes_per_second = mbit * 1e6 / 8 if mbit else None
        self.free_at = 0.0
        self.bytes = 0

    def due(self, size):
        """When a chunk of `size` bytes that arrives now comes out at the far end."""
        now = time.monotonic()
        self.bytes += size
        if self.bytes_per_second is None:
            return now + self.delay
        start = max(now, self.free_at)
        self.free_at = start + size / self.bytes_per_second
        return self.free_at + self.delay


async def pump(reader, writer, link):
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except OSError:
            pass

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            queue.put_nowait((link.due(len(data)), data))
    except OSError:
        pass
    queue.put_nowait((0, None))
    try:
        await sender
    except OSError:
        pass


async def handle(client_reader, client_writer, target, up, down):
    # A real WAN delays the TCP handshake too: the client's first bytes would arrive 1.5 round trips after
    # it called connect(). Its connect() here returns at once, so hold its data back one more round trip.
    await asyncio.sleep(up.delay + down.delay)
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    for w in (client_writer, server_writer):
        w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.gather(
        pump(client_reader, server_writer, up), pump(server_reader, client_writer, down), return_exceptions=True
    )
    for w in (client_writer, server_writer):
        w.close()


def write_count(path, up, down):
    if path:
        with open(path, "w") as f:
            f.write(f"{up.bytes} {down.bytes}\n")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("listen", type=int)
    parser.add_argument("target", type=int)
    parser.add_argument("delay_ms", type=float)
    parser.add_argument("--mbit", type=float, default=None)
    parser.add_argument("--count", default=None)
    args = parser.parse_args()
    up, down = Link(args.delay_ms / 1000, args.mbit), Link(args.delay_ms / 1000, args.mbit)
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.target, up, down), "127.0.0.1", args.listen)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        while not stop.is_set():
            write_count(args.count, up, down)
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
    write_count(args.count, up, down)
    os._exit(0)  # drop open connections at once, as a killed relay would (no teardown tracebacks)


asyncio.run(main())
