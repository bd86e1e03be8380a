"""Fixtures of the black-box VISS v3 conformance suite.

Binaries: VISS_SERVER_BIN (default /tmp/viss-bin/viss-server), VISS_DEMO_CAR_BIN (default
/tmp/viss-bin/demo-car). Reference data: VSS_SHARED (default ../shared beside the repo).
A missing binary or shared folder fails the tests that need it with a message saying so.

Each test module starts its servers through the module-scoped `launch` fixture (127.0.0.1,
ports 0, a fresh certificate directory) and they are stopped by PID when the module ends.
A module names its main server in a fixture called `server`; `ws` and `http` connect to it.
"""

import os
from pathlib import Path

import pytest

from clients import HttpClient, VissClient
from schema import SCHEMA_FILE, MessageValidator
from server_process import ServerProcess
from vss_tree import STANDARD_JSON

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN_DIR = Path("/tmp/viss-bin")


def _shared_dir() -> Path:
    shared = Path(os.environ.get("VSS_SHARED", REPO_ROOT.parent / "shared")).resolve()
    if not (shared / SCHEMA_FILE).is_file() or not (shared / STANDARD_JSON).is_file():
        pytest.fail(f"the shared reference folder is missing or incomplete: {shared} "
                    f"(set VSS_SHARED to the folder holding schemas/ and vss/)", pytrace=False)
    return shared


def _binary(variable: str, name: str) -> Path:
    binary = Path(os.environ.get(variable, DEFAULT_BIN_DIR / name))
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"server binary not found or not executable: {binary} (set {variable})", pytrace=False)
    return binary


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _shared_dir()


@pytest.fixture(scope="session")
def validator(shared_dir) -> MessageValidator:
    return MessageValidator(shared_dir)


class Server:
    """A started server and ways to talk to it."""

    def __init__(self, process: ServerProcess, validator: MessageValidator):
        self.process = process
        self.validator = validator
        self.endpoints = process.endpoints

    @property
    def ws_port(self) -> int | None:
        return self.endpoints.ws_port

    @property
    def http_port(self) -> int | None:
        return self.endpoints.http_port

    def client(self, subprotocols=("VISSv3",)) -> VissClient:
        assert self.endpoints.ws_url, "this server serves no WebSocket"
        return VissClient(self.endpoints.ws_url, self.endpoints.cert, self.validator, subprotocols)

    @property
    def http(self) -> HttpClient:
        assert self.endpoints.http_base, "this server serves no HTTP"
        return HttpClient(self.endpoints.http_base, self.endpoints.cert, self.validator)


class Launcher:
    """Starts servers for one test module and stops them all at its end."""

    def __init__(self, tmp_dir: Path, shared: Path, validator: MessageValidator):
        self.tmp_dir = tmp_dir
        self.shared = shared
        self.validator = validator
        self.processes: list[ServerProcess] = []

    def standard(self, *flags: str) -> Server:
        """viss-server on the standard tree (the vss-tools JSON export)."""
        return self.viss_server(["--json", str(self.shared / STANDARD_JSON)], *flags)

    def viss_server(self, tree_args: list[str], *flags: str) -> Server:
        return self._start(_binary("VISS_SERVER_BIN", "viss-server"), [*tree_args, *flags])

    def demo_car(self, *flags: str) -> Server:
        return self._start(_binary("VISS_DEMO_CAR_BIN", "demo-car"), list(flags))

    def _start(self, binary: Path, args: list[str]) -> Server:
        workdir = self.tmp_dir / f"server{len(self.processes)}"
        common = ["--address", "127.0.0.1", "--ws-port", "0", "--http-port", "0",
                  "--self-signed-dir", str(workdir / "tls")]
        process = ServerProcess(binary, [*args, *common], workdir)
        self.processes.append(process)
        process.start()
        return Server(process, self.validator)

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()


@pytest.fixture(scope="module")
def launch(tmp_path_factory, shared_dir, validator):
    launcher = Launcher(tmp_path_factory.mktemp("servers"), shared_dir, validator)
    yield launcher
    launcher.stop_all()


@pytest.fixture
def ws(server):
    """A VISSv3 WebSocket client of the module's `server`."""
    with server.client() as client:
        yield client


@pytest.fixture
def http(server) -> HttpClient:
    return server.http

