#!/usr/bin/env python3
"""A TCP relay that adds a fixed delay in each direction: a WAN on loopback (this kernel has no tc netem).

Usage: delay-relay.py LISTEN_PORT TARGET_PORT DELAY_MS
Every chunk is forwarded DELAY_MS after it arrived, in order, so bandwidth is untouched and the round
trip grows by 2 x DELAY_MS; a new connection's first bytes wait one round trip more (the TCP handshake a
real WAN would cost). Listens on 127.0.0.1 only.
"""
import asyncio
import socket
import sys
import time


async def pump(reader, writer, delay):
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
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((time.monotonic() + delay, data))
    except OSError:
        pass
    queue.put_nowait((0, None))
    try:
        await sender
    except OSError:
        pass


async def handle(client_reader, client_writer, target, delay):
    # A real WAN delays the TCP handshake too: the client's first bytes would arrive 1.5 round trips after
    # it called connect(). Its connect() here returns at once, so hold its data back one more round trip.
    await asyncio.sleep(2 * delay)
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    for w in (client_writer, server_writer):
        w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.gather(
        pump(client_reader, server_writer, delay), pump(server_reader, client_writer, delay), return_exceptions=True
    )
    for w in (client_writer, server_writer):
        w.close()


async def main():
    listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
    server = await asyncio.start_server(lambda r, w: handle(r, w, target, delay), "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


asyncio.run(main())
