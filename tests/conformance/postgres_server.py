"""Debian's PostgreSQL as the real shared database of the storage tests: a fresh cluster
made by `initdb` in a temporary folder, served by `postgres` on a free loopback port (no
Unix socket in the shared folder, fsync off: it is thrown away), started and stopped by
its PID. As root, both run as Debian's `postgres` user (PostgreSQL refuses root)."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from mqtt_broker import free_port

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
USER = "viss"


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[4]))
    if not found:
        pytest.fail("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)",
                    pytrace=False)
    return Path(found[-1]).parent


class Postgres:
    def __init__(self):
        self.bin = postgres_bin()
        # Not under pytest's tmp folder: it is root's alone, and the server runs as `postgres`.
        self.folder = Path(tempfile.mkdtemp(prefix="viss-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.log = self.folder / "postgres.log"
        self.process: subprocess.Popen | None = None
        self._as = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def connection(self, dbname: str = "postgres", port: int | None = None) -> str:
        return f"host=127.0.0.1 port={port or self.port} user={USER} dbname={dbname}"

    def start(self) -> "Postgres":
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
                        "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True, timeout=120, **self._as)
        with open(self.log, "wb") as log:
            if self._as:
                os.chown(self.log, self._as["user"], self._as["group"])
            self.process = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-h", "127.0.0.1", "-k", "", "-F"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **self._as)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True, timeout=10)
            if ready.returncode == 0:
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"PostgreSQL did not start:\n{self.log.read_text(errors='replace')[-2000:]}")

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        done = subprocess.run([str(self.bin / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", dbname,
                               "-c", sql], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def stop(self) -> None:
        """Fast shutdown (SIGINT) by PID, a bounded wait, then SIGKILL; the folder goes."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        shutil.rmtree(self.folder, ignore_errors=True)
