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


def make_ca_and_server_cert(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA (test fixture, made per run) and a certificate it signs for
    127.0.0.1/localhost: (CA cert, server cert, server key) as PEM files in `folder`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / f"{name}-ca.pem", folder / f"{name}-server.pem", folder / f"{name}-server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class Postgres:
    def __init__(self, tls: bool = False):
        """`tls`: serve TLS with a certificate from a CA made here (`self.ca`)."""
        self.tls = tls
        self.ca: Path | None = None
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
        options = []
        if self.tls:
            self.ca, cert, key = make_ca_and_server_cert(self.folder, "postgres")
            os.chmod(key, 0o600)
            if self._as:
                for path in (cert, key):
                    os.chown(path, self._as["user"], self._as["group"])
            options = ["-c", "ssl=on", "-c", f"ssl_cert_file={cert}", "-c", f"ssl_key_file={key}"]
        with open(self.log, "wb") as log:
            if self._as:
                os.chown(self.log, self._as["user"], self._as["group"])
            self.process = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-h", "127.0.0.1", "-k", "", "-F", *options],
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
