#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 that misbehaves on a schedule, for Scripts/stress.sh: it forwards LISTEN_PORT to
TARGET_PORT, and every EVERY seconds it stops forwarding (both ways, every connection) for STALL seconds, then
drops every connection it carries (a reset, as a dying NAT or a rebooted router would). New connections are
accepted throughout. Usage: fault-relay.py LISTEN_PORT TARGET_PORT EVERY STALL. Writes the number of drops
to stdout as they happen.
"""
import socket
import struct
import sys
import threading
import time

listen_port, target_port, every, stall = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
lock = threading.Lock()
connections = []  # (client, server) pairs
flowing = threading.Event()
flowing.set()


def pump(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            flowing.wait()
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def saboteur():
    drops = 0
    while True:
        time.sleep(every)
        flowing.clear()
        time.sleep(stall)
        with lock:
            victims = list(connections)
            connections.clear()
        for client, server in victims:
            reset(client)
            reset(server)
        flowing.set()
        drops += 1
        print(f"drop {drops}: {len(victims)} connection(s) reset after a {stall:g} s stall", flush=True)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", listen_port))
listener.listen(64)
threading.Thread(target=saboteur, daemon=True).start()
while True:
    client, _ = listener.accept()
    try:
        server = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        continue
    with lock:
        connections.append((client, server))
    threading.Thread(target=pump, args=(client, server), daemon=True).start()
    threading.Thread(target=pump, args=(server, client), daemon=True).start()
