"""Helpers of the Python SDK suite: where the server is, a recorder of every message the SDK
sends, bounded waits for callbacks, a demo car of our own (stopped by its PID) and small
in-process WebSocket peers that misbehave on purpose (silent, answering out of order).

Environment (set by viss-server/tests/sdk.rs): VISS_WS_URL (wss://localhost:PORT),
VISS_HTTP_URL (https://localhost:PORT), VISS_CA (the server's self-signed certificate),
VISS_DEMO_CAR_BIN (the server binary); VSS_SHARED (default ../shared beside the repo).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import queue
import re
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import Server, ServerConnection, serve

from demo_car_sdk import client as sdk_client
from demo_car_sdk.grpc_link import GrpcConnection
from demo_car_sdk.vapi import ProcedureStatus, SubscribeOutput, Vapi

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILE = Path("schemas") / "viss-v3-messages.schema.json"
OVERLAY_FILE = REPO_ROOT / "schemas" / "viss-v3-messages.overlay.json"

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Environment


def env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} is not set: run this suite through viss-server/tests/sdk.rs, or set "
                    "VISS_WS_URL, VISS_HTTP_URL, VISS_CA and VISS_DEMO_CAR_BIN by hand",
                    pytrace=False)
    return value


def ws_url() -> str:
    return env("VISS_WS_URL")


def http_url() -> str:
    return env("VISS_HTTP_URL")


def grpc_url() -> str:
    return env("VISS_GRPC_URL")


def cafile() -> str:
    path = env("VISS_CA")
    if not Path(path).is_file():
        pytest.fail(f"VISS_CA={path} is not a file", pytrace=False)
    return path


def demo_car_bin() -> Path:
    binary = Path(env("VISS_DEMO_CAR_BIN"))
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"VISS_DEMO_CAR_BIN={binary} is not an executable", pytrace=False)
    return binary


def shared_dir() -> Path:
    shared = Path(os.environ.get("VSS_SHARED", REPO_ROOT.parent / "shared")).resolve()
    if not (shared / SCHEMA_FILE).is_file():
        pytest.fail(f"the VISS schema is missing: {shared / SCHEMA_FILE} (set VSS_SHARED)",
                    pytrace=False)
    return shared


# --------------------------------------------------------------------------------------------
# The schema with the repo's overlay


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def apply_overlay(schema: dict[str, Any], overlay: dict[str, Any]) -> list[str]:
    """Replaces the schema at every patch's JSON pointer (RFC 6901), as vssgen does; returns
    the pointers that do not resolve (skipped, as vssgen skips them)."""
    skipped: list[str] = []
    for patch in overlay["patches"]:
        pointer: str = patch["pointer"]
        tokens = [_unescape(token) for token in pointer.split("/")[1:]]
        parent: Any = schema
        try:
            for token in tokens[:-1]:
                parent = parent[int(token)] if isinstance(parent, list) else parent[token]
            last = tokens[-1]
            if isinstance(parent, list):
                index = int(last)
                if not 0 <= index < len(parent):
                    raise IndexError(index)
                parent[index] = copy.deepcopy(patch["value"])
            elif isinstance(parent, dict) and last in parent:
                parent[last] = copy.deepcopy(patch["value"])
            else:
                raise KeyError(last)
        except (KeyError, IndexError, ValueError, TypeError):
            skipped.append(pointer)
    return skipped


def patched_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((shared_dir() / SCHEMA_FILE).read_text())
    overlay: dict[str, Any] = json.loads(OVERLAY_FILE.read_text())
    skipped = apply_overlay(schema, overlay)
    if skipped:
        warnings.warn(f"overlay patches that do not apply to this schema: {skipped}")
    return schema


# --------------------------------------------------------------------------------------------
# Every message the SDK sends


@dataclass
class Sent:
    # "ws" (a WebSocket text frame), "http" (the message behind a request) or "grpc" (the
    # JSON request a gRPC call is translated from)
    transport: str
    message: Any
    where: str  # the test that sent it


@dataclass
class SentLog:
    """Records every WebSocket frame any SDK connection sends, every message the HTTPS
    transport turns into a request and every request the gRPC link translates, by wrapping
    ClientConnection.send, _HttpTransport._http_request and GrpcConnection.send for the whole
    session."""

    entries: list[Sent] = field(default_factory=list)
    current_test: str = ""
    _installed: bool = False

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        log = self
        original_send = ClientConnection.send
        original_http = sdk_client._HttpTransport._http_request
        original_grpc = GrpcConnection.send

        def record(transport: str, message: Any) -> None:
            try:
                decoded = json.loads(message)
            except (TypeError, ValueError):
                decoded = message  # not JSON: kept as it is so that validation fails
            log.entries.append(Sent(transport, decoded, log.current_test))

        async def recording_send(self: ClientConnection, message: Any, *args: Any,
                                 **kwargs: Any) -> None:
            record("ws", message)
            await original_send(self, message, *args, **kwargs)

        async def recording_grpc(self: GrpcConnection, message: str) -> None:
            record("grpc", message)
            await original_grpc(self, message)

        def recording_http(self: Any, message: dict[str, Any]) -> Any:
            log.entries.append(Sent("http", copy.deepcopy(message), log.current_test))
            return original_http(self, message)

        ClientConnection.send = recording_send  # type: ignore[method-assign,assignment]
        sdk_client._HttpTransport._http_request = recording_http  # type: ignore[method-assign]
        GrpcConnection.send = recording_grpc  # type: ignore[method-assign]

    def count(self) -> int:
        return len(self.entries)

    def since(self, mark: int) -> list[Sent]:
        return self.entries[mark:]


SENT = SentLog()


@contextmanager
def nothing_sent() -> Iterator[None]:
    """Asserts that the block sends no message at all (checks that happen before sending)."""
    mark = SENT.count()
    yield
    extra = SENT.since(mark)
    assert not extra, f"messages were sent: {[entry.message for entry in extra]}"


# --------------------------------------------------------------------------------------------
# Bounded waits


class Collector(Generic[T]):
    """A callback that collects what it is given; waits are bounded in time."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._changed = asyncio.Event()

    def __call__(self, item: T) -> None:
        self.items.append(item)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[T]:
        """At least `count` items, or an AssertionError after `timeout` seconds."""
        return await self.wait_until(lambda items: len(items) >= count, timeout,
                                     f"{count} items")

    async def wait_until(self, done: Callable[[list[T]], bool], timeout: float = 10.0,
                         what: str = "the condition") -> list[T]:
        deadline = time.monotonic() + timeout
        while not done(self.items):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {what} within {timeout} s; got {self.items!r}")
            self._changed.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                pass
        return self.items


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1,
                     what: str = "condition") -> Any:
    """Polls an async `check()` until it returns a truthy value (bounded in time)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} did not hold within {timeout} s (last: {last!r})")


# --------------------------------------------------------------------------------------------
# A demo car of our own


WS_LINE = re.compile(r"WebSocket:\s+wss://\S+?:(\d+)\s")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0


async def connect_get_and_subscribe(vapi: Vapi, protocol: str) -> str:
    """VAPI's Connect over `protocol`, a Get, and a Subscribe that delivers two outputs and
    is unsubscribed; the vehicle id."""
    vid = vapi.vehicle_id
    assert (await vapi.Connect(vid, protocol, "")).Status is ProcedureStatus.SUCCESSFUL
    got = await vapi.Get(vid, "Vehicle.Speed", "", "")
    assert got.Status is ProcedureStatus.SUCCESSFUL, got
    outputs: Collector[SubscribeOutput] = Collector()
    started = await vapi.Subscribe(
        vid, "Vehicle.Speed", '{"variant":"timebased","parameter":{"period":"200"}}', "", outputs)
    assert started.Status is ProcedureStatus.ONGOING, started
    await outputs.wait_for(2)
    assert (await vapi.Unsubscribe(vid, started.ServiceId)).Status is ProcedureStatus.SUCCESSFUL
    return vid


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DemoCar:
    """A demo car on 127.0.0.1:`port` (WebSocket; and gRPC on `grpc_port` if given), started
    and stopped by PID. Its self-signed certificate stays in `workdir/tls` across restarts."""

    def __init__(self, workdir: Path, port: int, grpc_port: int | None = None) -> None:
        self.binary = demo_car_bin()
        self.workdir = workdir
        self.port = port
        self.grpc_port = grpc_port
        self.cert = workdir / "tls" / "cert.pem"
        self._process: subprocess.Popen[str] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"wss://localhost:{self.port}"

    @property
    def grpc_url(self) -> str:
        assert self.grpc_port is not None, "started without gRPC"
        return f"grpcs://localhost:{self.grpc_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        assert self._process is None or self._process.poll() is not None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        args = [str(self.binary), "--address", "127.0.0.1", "--ws-port", str(self.port),
                "--http-port", "0", "--self-signed-dir", str(self.workdir / "tls"),
                "--simulate", "--simulate-period-ms", "100"]
        args += ["--grpc-port", str(self.grpc_port)] if self.grpc_port else ["--no-grpc"]
        # The server reads VISS_* variables as settings; the suite's own must not leak in.
        clean = {key: value for key, value in os.environ.items() if not key.startswith("VISS_")}
        with open(self.workdir / f"stderr{self.starts}.log", "wb") as stderr:
            self._process = subprocess.Popen(args, cwd=self.workdir, env=clean,
                                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                             stderr=stderr, text=True)
        lines: queue.Queue[str | None] = queue.Queue()
        process = self._process

        def drain() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        seen: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise AssertionError(f"demo-car did not listen within {START_TIMEOUT_S} s: {seen}")
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                self.stop()
                raise AssertionError(f"demo-car exited before listening: {seen}")
            seen.append(line)
            match = WS_LINE.search(line)
            if match:
                assert int(match.group(1)) == self.port, line
                return

    def stop(self) -> None:
        """SIGTERM by PID, a bounded wait, then SIGKILL."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


# --------------------------------------------------------------------------------------------
# In-process WebSocket peers (plain ws://, sub-protocol VISSv3)


Handler = Callable[[ServerConnection, dict[str, Any]], Any]


class FakeServer:
    """A VISSv3 WebSocket peer whose behaviour a test scripts: `on_request(connection,
    message)` may answer (await connection.send) or not."""

    def __init__(self, on_request: Handler) -> None:
        self.on_request = on_request
        self.received: list[dict[str, Any]] = []
        self._server: Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeServer:
        protocols: Any = ["VISSv3"]
        self._server = await serve(self._serve, "127.0.0.1", 0, subprotocols=protocols)
        self.port = list(self._server.sockets)[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        async with asyncio.timeout(5):
            await self._server.wait_closed()

    async def _serve(self, connection: ServerConnection) -> None:
        async for frame in connection:
            message = json.loads(frame)
            self.received.append(message)
            result = self.on_request(connection, message)
            if asyncio.iscoroutine(result):
                await result


def answer_for(message: dict[str, Any], **members: Any) -> str:
    return json.dumps({"action": message["action"], "requestId": message["requestId"],
                       "ts": "2026-01-01T00:00:00Z", **members})
