#!/usr/bin/env python3
"""Resident memory of a built server before and after use (issue 5).

Starts BINARY (a generated server, e.g. from idle_rss_standard_server.sh) on loopback with
plain ws://, reads VmRSS after WAIT seconds idle, then asks for the metadata of the whole
tree and gets every leaf once over one WebSocket, reading VmRSS after each step. The idle
figure shows what start-up touches; the others what serving the whole tree adds.

Usage: vssgen/benches/rss_after_walk.py BINARY   (needs the `websockets` package)
"""

import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time

import websockets

WAIT = 3


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))


def leaf_paths(node, path):
    children = node.get("children")
    if not children:
        return [path]
    return [leaf for name, child in children.items() for leaf in leaf_paths(child, f"{path}.{name}")]


def ws_port(server):
    deadline = time.time() + 10
    while time.time() < deadline:
        found = re.search(r"ws://127\.0\.0\.1:(\d+)", server.stderr.readline())
        if found:
            return int(found.group(1))
    raise SystemExit("the server did not say where it listens")


async def walk(binary):
    flags = ["--address", "127.0.0.1", "--ws-port", "0", "--grpc-port", "0", "--no-http", "--insecure",
             "--log-level", "info", "--self-signed-dir", tempfile.mkdtemp()]
    server = subprocess.Popen([binary, *flags], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        port = ws_port(server)
        time.sleep(WAIT)
        idle = rss_kib(server.pid)
        async with websockets.connect(f"ws://127.0.0.1:{port}", subprotocols=["VISSv3"]) as ws:
            await ws.send(json.dumps({"action": "get", "path": "Vehicle", "requestId": "m",
                                      "filter": {"variant": "metadata", "parameter": "0"}}))
            root = json.loads(await ws.recv())["metadata"]["Vehicle"]
            after_metadata = rss_kib(server.pid)
            leaves = leaf_paths(root, "Vehicle")
            for number, path in enumerate(leaves):
                await ws.send(json.dumps({"action": "get", "path": path, "requestId": str(number)}))
                await ws.recv()
            after_gets = rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"| {idle / 1024:.2f} MB | {after_metadata / 1024:.2f} MB | "
          f"{after_gets / 1024:.2f} MB ({len(leaves)} leaves) |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print("| idle | after whole-tree metadata | after a get of every leaf |")
    print("|---|---|---|")
    asyncio.run(walk(sys.argv[1]))
