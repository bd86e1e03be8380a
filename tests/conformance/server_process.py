"""One server binary under test: started with ports 0 on 127.0.0.1, its printed URLs and
certificate parsed, and stopped by its PID (terminate, bounded wait, kill)."""

import os
import queue
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# Loading the standard tree from .vspec sources on a busy 2-core machine takes a while;
# everything else starts in well under a second.
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0

# The lines `print_where_to_connect` writes (viss-runtime transport/cli.rs).
WS_LINE = re.compile(r"WebSocket:\s+(wss?)://(\S+?):(\d+)\s")
HTTP_LINE = re.compile(r"HTTP:\s+(https?)://(\S+?):(\d+)/")
GRPC_LINE = re.compile(r"gRPC:\s+(\S+?):(\d+)\s+\((tls|h2c),")
CERT_LINE = re.compile(r"certificate:\s+(.+?)\s+\((?:self-signed|configured)\)\s*$")


class ServerStartError(AssertionError):
    """The server exited or printed nothing usable within the start-up timeout."""


@dataclass
class Endpoints:
    ws_url: str | None = None
    ws_port: int | None = None
    http_base: str | None = None
    http_port: int | None = None
    grpc_port: int | None = None
    grpc_tls: bool = False
    cert: Path | None = None


class ServerProcess:
    """A running server. `args` are the command line after the binary."""

    def __init__(self, binary: Path, args: list[str], workdir: Path):
        self.binary = binary
        self.args = args
        self.workdir = workdir
        self.stderr_path = workdir / "stderr.log"
        self.stdout_lines: list[str] = []
        self.endpoints = Endpoints()
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._process: subprocess.Popen | None = None

    @property
    def command_line(self) -> str:
        return " ".join([str(self.binary), *self.args])

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> "ServerProcess":
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.stderr_path, "wb") as stderr:
            self._process = subprocess.Popen(
                [str(self.binary), *self.args],
                cwd=self.workdir,  # a default viss-tls/ would land here, not in the repo
                env=_clean_environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        # stdout is drained on a thread so the server can never block on a full pipe.
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self._wait_until_listening()
        return self

    def _read_stdout(self) -> None:
        assert self._process and self._process.stdout
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _expected(self) -> dict[str, bool]:
        return {
            "ws": "--no-ws" not in self.args,
            "http": "--no-http" not in self.args,
            "grpc": "--no-grpc" not in self.args,
            "cert": "--insecure" not in self.args,
        }

    def _wait_until_listening(self) -> None:
        expected = self._expected()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._has_all(expected):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise ServerStartError(self._why("did not print where to connect in time"))
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                self.stop()
                raise ServerStartError(self._why("exited before it was listening"))
            self.stdout_lines.append(line)
            self._parse(line)

    def _has_all(self, expected: dict[str, bool]) -> bool:
        found = {
            "ws": self.endpoints.ws_url is not None,
            "http": self.endpoints.http_base is not None,
            "grpc": self.endpoints.grpc_port is not None,
            "cert": self.endpoints.cert is not None,
        }
        return all(found[key] for key, wanted in expected.items() if wanted)

    def _parse(self, line: str) -> None:
        if match := WS_LINE.search(line):
            scheme, host, port = match.groups()
            self.endpoints.ws_url = f"{scheme}://{host}:{port}"
            self.endpoints.ws_port = int(port)
        elif match := HTTP_LINE.search(line):
            scheme, host, port = match.groups()
            self.endpoints.http_base = f"{scheme}://{host}:{port}"
            self.endpoints.http_port = int(port)
        elif match := GRPC_LINE.search(line):
            self.endpoints.grpc_port = int(match.group(2))
            self.endpoints.grpc_tls = match.group(3) == "tls"
        elif match := CERT_LINE.search(line):
            self.endpoints.cert = Path(match.group(1))

    def _why(self, what: str) -> str:
        return (
            f"server {what}: {self.command_line}\n"
            f"stdout:\n{''.join(self.stdout_lines)}\n"
            f"stderr (tail):\n{self.stderr_tail()}"
        )

    def stderr_tail(self, lines: int = 30) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stops this server by its PID: SIGTERM, a bounded wait, then SIGKILL."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


def _clean_environment() -> dict[str, str]:
    """The caller's environment without `VISS_*` variables: the servers read those as
    settings (VISS_INSECURE, VISS_WS_PORT, ...), and each test states its settings as flags."""
    return {key: value for key, value in os.environ.items() if not key.startswith("VISS_")}
