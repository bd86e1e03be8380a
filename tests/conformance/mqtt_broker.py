"""Debian's mosquitto as the real broker of the MQTT tests: a configuration of its own in a
temporary folder, a free loopback port, plain or TLS (a certificate made by the openssl
CLI), started and stopped (or killed, to test broker faults) by its PID."""

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


def mosquitto_binary() -> str:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("mosquitto is not installed (apt-get install mosquitto; .ci/run does)",
                pytrace=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A test CA and a broker certificate it signs, for 127.0.0.1 and localhost (made per
    run by the openssl CLI; nothing is kept). Returns (CA certificate, broker key); the
    broker's certificate is `broker-cert.pem` beside them."""
    ca_cert, ca_key = folder / "ca-cert.pem", folder / "ca-key.pem"
    key, request, cert = folder / "broker-key.pem", folder / "broker.csr", folder / "broker-cert.pem"
    extensions = folder / "broker.ext"
    extensions.write_text("basicConstraints=critical,CA:FALSE\n"
                          "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for command in (
        ["req", "-x509", *ec, "-days", "1", "-subj", "/CN=vssgen test CA",
         "-keyout", str(ca_key), "-out", str(ca_cert)],
        ["req", *ec, "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(request)],
        ["x509", "-req", "-in", str(request), "-CA", str(ca_cert), "-CAkey", str(ca_key),
         "-CAcreateserial", "-days", "1", "-extfile", str(extensions), "-out", str(cert)],
    ):
        subprocess.run(["openssl", *command], check=True, capture_output=True, timeout=30)
    return ca_cert, key


def make_client_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A client certificate signed by the test CA of `make_certificate` (same folder)."""
    key, request, cert = folder / f"{name}-key.pem", folder / f"{name}.csr", folder / f"{name}-cert.pem"
    extensions = folder / f"{name}.ext"
    extensions.write_text("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n")
    for command in (
        ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(request)],
        ["x509", "-req", "-in", str(request), "-CA", str(folder / "ca-cert.pem"),
         "-CAkey", str(folder / "ca-key.pem"), "-CAcreateserial", "-days", "1",
         "-extfile", str(extensions), "-out", str(cert)],
    ):
        subprocess.run(["openssl", *command], check=True, capture_output=True, timeout=30)
    return cert, key


class Mosquitto:
    """One broker on 127.0.0.1:`port` (kept across restarts). With `require_certificate`
    (TLS only) a client must present a certificate signed by the test CA."""

    def __init__(self, folder: Path, tls: bool = False, require_certificate: bool = False,
                 persistence: bool = False):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls = tls
        self.cert: Path | None = None
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen | None = None
        # run as ourselves: started as root, mosquitto would switch to its own user, which
        # cannot read the certificate in our private temporary folder
        lines = [f"user {getpass.getuser()}",
                 f"listener {self.port} 127.0.0.1", "allow_anonymous true", "set_tcp_nodelay true",
                 *(["persistence true", f"persistence_location {folder}/"] if persistence
                   else ["persistence false"]),
                 # the hostile tests publish 1 MB envelopes
                 "max_packet_size 4000000"]
        if tls:
            self.cert, key = make_certificate(folder)  # clients trust `cert`, the test CA
            lines += [f"certfile {folder / 'broker-cert.pem'}", f"keyfile {key}"]
            if require_certificate:
                lines += [f"cafile {self.cert}", "require_certificate true"]
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self) -> "Mosquitto":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([mosquitto_binary(), "-c", str(self.config)],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"mosquitto exited: {self.log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("mosquitto did not listen in time")

    def kill(self) -> None:
        """SIGKILL: the broker vanishes without a goodbye, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
