"""The whole access-control flow of CORE §8 with real parts: the `viss-auth` binary (AGTS and
ATS, keys generated on its first start, a file-backed consent store) and the real
viss-server serving `tests/trees/Guarded.vspec` with the ATS's public key. The client is
Python's standard library (urllib over TLS) and the suite's WebSocket client.

AGTS → AGT → ATS (a purpose without consent; a purpose whose consent the owner grants, and
one the owner refuses) → wss and https requests with the access token → a subscription
that ends with a 401 event when its token expires."""

import json
import os
import queue
import re
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from hashlib import sha256
from pathlib import Path

import pytest

import wire
from conftest import DEFAULT_BIN_DIR

GUARDED_VSPEC = Path(__file__).resolve().parents[1] / "trees" / "Guarded.vspec"
VIN = "WVWZZZ1JZXW000001"
PROOF = "test-fixture-proof-not-a-real-secret"
CONTEXT = "Owner+Third party+Cloud"
CLIENT = "test-fixture-app"
START_TIMEOUT_S = 20
TIMEOUT_S = 5

PURPOSES = {"purposes": [
    {"short": "cabin-comfort", "long": "Adjust the cabin.",
     "contexts": [{"user": ["Owner", "Driver"], "app": "Third party", "device": "Cloud"}],
     "signal_access": [{"path": "Vehicle.Cabin", "access_permission": "read-write"}]},
    {"short": "find-my-car", "long": "Where the car is parked.", "consent": True,
     "contexts": [{"user": "Owner", "app": "Third party", "device": "Cloud"}],
     "signal_access": [{"path": "Vehicle.Location", "access_permission": "read-write"}]},
    {"short": "location-ads", "long": "Location for advertising.", "consent": True,
     "contexts": [{"user": "Owner", "app": "Third party", "device": "Cloud"}],
     "signal_access": [{"path": "Vehicle.Location", "access_permission": "read-only"}]},
]}


class AuthProcess:
    """A running viss-auth, stopped by its PID."""

    LINE = re.compile(r"AGTS https://([\d.]+):(\d+)/agts")

    def __init__(self, binary: Path, args: list[str], workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        self.stderr = open(workdir / "stderr.log", "wb")
        self.process = subprocess.Popen([str(binary), *args], cwd=workdir, stdout=subprocess.PIPE,
                                        stderr=self.stderr, stdin=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = None
        self.output = []
        deadline = time.monotonic() + START_TIMEOUT_S
        while not any(line.lstrip().startswith("consent store:") for line in self.output):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"viss-auth did not start: {self.output}"
            try:
                line = self.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                self.stop()
                raise AssertionError(f"viss-auth exited: {self.output} "
                                     f"{(workdir / 'stderr.log').read_text(errors='replace')}")
            self.output.append(line)
            if match := self.LINE.search(line):
                self.port = int(match.group(2))

    def _drain(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.stderr.close()


def auth_binary() -> Path:
    binary = Path(os.environ.get("VISS_AUTH_BIN", DEFAULT_BIN_DIR / "viss-auth"))
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"viss-auth not found: {binary} (set VISS_AUTH_BIN)", pytrace=False)
    return binary


class Ecosystem:
    def __init__(self, directory: Path, auth: AuthProcess):
        self.dir = directory
        self.auth = auth
        self.keys = directory / "keys"
        self.context = ssl.create_default_context(cafile=str(self.keys / "tls" / "cert.pem"))
        self.consent_file = self.keys / "consent.json"

    def post(self, path: str, body: dict, port: int | None = None) -> tuple[int, dict]:
        url = f"https://localhost:{port or self.auth.port}/{path}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=self.context) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def grant(self, **changes) -> str:
        status, answer = self.post("agts", {"vin": VIN, "context": CONTEXT, "proof": PROOF, **changes})
        assert status == 201 and answer["action"] == "agt-request", answer
        return answer["token"]

    def token(self, purpose: str, port: int | None = None) -> tuple[int, dict]:
        return self.post("ats", {"action": "at-request", "agToken": self.grant(), "purpose": purpose}, port)

    def decide(self, purpose: str, consent: str):
        store = json.loads(self.consent_file.read_text()) if self.consent_file.exists() else {}
        store.setdefault("decisions", []).append(
            {"vin": VIN, "purpose": purpose, "client": CLIENT, "context": CONTEXT, "consent": consent})
        self.consent_file.write_text(json.dumps(store))


@pytest.fixture(scope="module")
def ecosystem(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ecosystem")
    (directory / "clients.json").write_text(json.dumps({"clients": [
        {"name": CLIENT, "proof_sha256": sha256(PROOF.encode()).hexdigest(),
         "contexts": [CONTEXT, "Driver+Third party+Cloud"]}]}))
    (directory / "purposes.json").write_text(json.dumps(PURPOSES))
    auth = AuthProcess(auth_binary(), ["--port", "0", "--key-dir", str(directory / "keys"),
                                       "--clients", str(directory / "clients.json"),
                                       "--purposes", str(directory / "purposes.json"),
                                       "--vin", VIN], directory / "auth")
    yield Ecosystem(directory, auth)
    auth.stop()


@pytest.fixture(scope="module")
def server(launch, ecosystem):
    return launch.viss_server(["-s", str(GUARDED_VSPEC)],
                              "--token-key", f"ES256:{ecosystem.keys / 'ats-es256.pub.pem'}",
                              "--purposes", str(ecosystem.dir / "purposes.json"),
                              "--token-leeway-secs", "1")


def test_keys_were_generated_on_first_start_and_printed(ecosystem):
    assert any("generated new signing keys" in line for line in ecosystem.auth.output), ecosystem.auth.output
    assert (ecosystem.keys / "ats-es256.pub.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    for private in ("ats-es256.pem", "agts-es256.pem", "tls/key.pem"):
        assert (ecosystem.keys / private).stat().st_mode & 0o777 == 0o600, private


def test_the_agts_checks_proof_roles_and_vehicle(ecosystem):
    bad = {"wrong proof": ({"proof": "guess"}, 401),
           "unknown role": ({"context": "King+Third party+Cloud"}, 401),
           "context the client may not use": ({"context": "Dealer+OEM+Vehicle"}, 401),
           "vehicle outside the ecosystem": ({"vin": "OTHERVIN000000000"}, 403),
           "no vehicle (a token for every vehicle)": ({"vin": None}, 400),
           "long-term grant": ({"key": "thumbprint"}, 400)}
    for name, (changes, status) in bad.items():
        body = {key: value for key, value in {"vin": VIN, "context": CONTEXT, "proof": PROOF,
                                              **changes}.items() if value is not None}
        code, answer = ecosystem.post("agts", body)
        assert code == status and "error" in answer and "token" not in answer, (name, code, answer)


def test_the_ats_checks_the_grant_and_the_purpose(ecosystem):
    agt = ecosystem.grant()
    forged = agt[:-6] + ("AAAAAA" if not agt.endswith("AAAAAA") else "BBBBBB")
    for name, body, status in [
        ("forged grant", {"action": "at-request", "agToken": forged, "purpose": "cabin-comfort"}, 401),
        ("unknown purpose", {"action": "at-request", "agToken": agt, "purpose": "nope"}, 403),
        ("garbage", {"action": "at-request"}, 400),
    ]:
        code, answer = ecosystem.post("ats", body)
        assert code == status and "aToken" not in answer, (name, code, answer)
    code, answer = ecosystem.post("ats", {"action": "at-request", "agToken": ecosystem.grant(
        context="Driver+Third party+Cloud"), "purpose": "find-my-car"})
    assert code == 403 and "context" in answer["error"], answer


def test_a_purpose_token_is_served_over_wss_and_https(ecosystem, server):
    status, answer = ecosystem.token("cabin-comfort")
    assert status == 201, answer
    token = answer["aToken"]
    with server.client() as ws:
        wire.assert_success(ws.request({"action": "set", "path": "Vehicle.Cabin.Light", "value": "30",
                                        "authorization": token}))
        wire.assert_error(ws.request({"action": "get", "path": "Vehicle.Location.Latitude",
                                      "authorization": token}), "401", "invalid_token")
        subscription = ws.subscribe("Vehicle.Cabin.Light", {"variant": "change",
                                                             "parameter": {"logic-op": "ne", "diff": "0"}},
                                    authorization=token)
        wire.assert_success(ws.request({"action": "set", "path": "Vehicle.Cabin.Light", "value": "31",
                                        "authorization": token}))
        event = ws.event_matching(subscription, lambda e: "data" in e)
        assert wire.single_value(event) == "31"
    read = server.http.get("Vehicle.Cabin.Light", headers={"Authorization": f"Bearer {token}"})
    assert read.status == 200 and wire.single_value(read.body) == "31", read


def test_consent_asked_then_granted(ecosystem, server):
    status, answer = ecosystem.token("find-my-car")
    assert status == 201 and answer["consent"] == "NOT_SET" and "aToken" not in answer, answer
    session = answer["sessionId"]
    asks = json.loads(ecosystem.consent_file.with_suffix(".asks.json").read_text())["asks"]
    assert {"vin": VIN, "purpose": "find-my-car", "client": CLIENT, "context": CONTEXT} in asks, asks
    status, answer = ecosystem.post("ats", {"action": "at-inquiry", "sessionId": session})
    assert answer["consent"] == "NOT_SET" and "aToken" not in answer, answer
    ecosystem.decide("find-my-car", "YES")
    status, answer = ecosystem.post("ats", {"action": "at-inquiry", "sessionId": session})
    assert status == 201 and answer["consent"] == "YES", answer
    token = answer["aToken"]
    with server.client() as ws:
        wire.assert_success(ws.request({"action": "set", "path": "Vehicle.Location.Latitude",
                                        "value": "48.5", "authorization": token}))
        read = ws.request({"action": "get", "path": "Vehicle.Location.Latitude", "authorization": token})
        assert wire.single_value(read) == "48.5", read
    status, answer = ecosystem.post("ats", {"action": "at-inquiry", "sessionId": session})
    assert status == 404, "a session ends with its token"


def test_consent_asked_then_refused(ecosystem):
    status, answer = ecosystem.token("location-ads")
    assert answer["consent"] == "NOT_SET", answer
    ecosystem.decide("location-ads", "NO")
    status, answer = ecosystem.post("ats", {"action": "at-inquiry", "sessionId": answer["sessionId"]})
    assert status == 403 and answer["consent"] == "NO" and "aToken" not in answer, answer
    status, answer = ecosystem.token("location-ads")
    assert status == 403 and answer["consent"] == "NO" and "aToken" not in answer, answer


def test_a_subscription_ends_when_its_access_token_expires(ecosystem, server, tmp_path):
    # A second ATS on the same keys, issuing 2-second tokens.
    short = AuthProcess(auth_binary(), ["--port", "0", "--key-dir", str(ecosystem.keys),
                                        "--clients", str(ecosystem.dir / "clients.json"),
                                        "--purposes", str(ecosystem.dir / "purposes.json"),
                                        "--at-lifetime-secs", "2"], tmp_path / "short")
    # connected before the token is issued, and the ATS stopped after the subscribe: the
    # token's 2 seconds are not spent on either
    try:
        with server.client() as ws:
            started = time.monotonic()
            status, answer = ecosystem.token("cabin-comfort", port=short.port)
            assert status == 201, answer
            subscription = ws.subscribe("Vehicle.Cabin.Light", {"variant": "timebased",
                                                                 "parameter": {"period": "500"}},
                                        authorization=answer["aToken"])
            short.stop()
            end = ws.event_matching(subscription, lambda e: "error" in e, timeout=10)
            wire.assert_error(end, "401", "invalid_token", "Access token has expired")
            assert time.monotonic() - started < 6, "ended at exp + leeway, not later"
    finally:
        short.stop()
