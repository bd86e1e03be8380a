"""Access control (CORE §8.4.4, §8.8) against the real viss-server binary, over wss, https
and gRPC: the tree `tests/trees/Guarded.vspec` tags its cabin `read-write`, its doors
`write-only` and its location `read-write+consent`; the speed is free. Tokens are signed
here with PyJWT by keys made per run (`cryptography`); the server gets only the public
keys. Every attack is answered `401 invalid_token` with its reason and serves nothing."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import grpc
import jwt
import jwt.utils
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import wire
from filetransfer_client import TERMINATE, DataChannel, download, new_uid, sha1_hex, upload
from flags import FILETRANSFER_DIR, FILETRANSFER_PORT, UPLOAD
from mqtt_broker import Mosquitto
from mqtt_client import MqttVissClient, wait_until_served

TREES = Path(__file__).resolve().parents[1] / "trees"
GUARDED_VSPEC = TREES / "Guarded.vspec"
VIN = "WVWZZZ1JZXW000001"
AUDIENCE = "covesa.global/VISSv3"
LIGHT = "Vehicle.Cabin.Light"
TIMEOUT_S = 5.0

MISSING = "Access token is missing"
INVALID = "Access token is invalid"
EXPIRED = "Access token has expired"


def pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


class Issuer:
    """The ATS's side of the test: private keys that sign tokens."""

    def __init__(self, directory: Path):
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec_public = directory / "ats-es256.pub.pem"
        self.rsa_public = directory / "ats-rs256.pub.pem"
        self.ec_public.write_bytes(pem_public(self.ec))
        self.rsa_public.write_bytes(pem_public(self.rsa))

    def claims(self, scope, **changes) -> dict:
        now = int(time.time())
        claims = {"iat": now - 5, "exp": now + 600, "aud": AUDIENCE, "vin": VIN, "scp": scope,
                  "clx": "Driver+OEM+Vehicle", "jti": str(uuid.uuid4())}
        claims.update(changes)
        return {key: value for key, value in claims.items() if value is not None}

    def es256(self, scope, **changes) -> str:
        return jwt.encode(self.claims(scope, **changes), self.ec, algorithm="ES256")

    def rs256(self, scope, **changes) -> str:
        return jwt.encode(self.claims(scope, **changes), self.rsa, algorithm="RS256")


def signals(*entries) -> list:
    return [{"path": path, "access_permission": permission} for path, permission in entries]


CABIN_RW = signals(("Vehicle.Cabin", "read-write"), ("Vehicle.Door", "read-write"))
CABIN_RO = signals(("Vehicle.Cabin", "read-only"))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value) -> str:
    return b64(json.dumps(value).encode())


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    return Issuer(tmp_path_factory.mktemp("ats"))


@pytest.fixture(scope="module")
def server(launch, issuer, tmp_path_factory):
    purposes = tmp_path_factory.mktemp("policy") / "purposes.json"
    purposes.write_text(json.dumps({"purposes": [{
        "short": "cabin-comfort", "long": "Adjust the cabin for the driver.",
        "contexts": [{"user": ["Owner", "Driver"], "app": ["OEM", "Third party"], "device": "Vehicle"}],
        "signal_access": signals(("Vehicle.Cabin", "read-write"))}]}))
    scope_list = purposes.parent / "scope.json"
    scope_list.write_text(json.dumps({"scope": [{
        "contexts": [{"user": "Passenger", "app": ["OEM", "Third party"], "device": ["Vehicle", "Nomadic"]}],
        "no_access": ["Vehicle.Cabin.Fan"]}]}))
    return launch.viss_server(["-s", str(GUARDED_VSPEC)],
                              "--token-key", f"ES256:{issuer.ec_public}",
                              "--token-key", f"RS256:{issuer.rsa_public}",
                              "--purposes", str(purposes), "--scope-list", str(scope_list))


def request(ws, action, path, token=None, **members):
    message = {"action": action, "path": path, **members}
    if token is not None:
        message["authorization"] = token
    return ws.request(message)


def assert_denied(answer: dict, description: str):
    wire.assert_error(answer, "401", "invalid_token", description)
    assert "data" not in answer and "authorization" not in answer, answer


def test_free_and_write_only_nodes_are_read_without_a_token(ws, issuer):
    wire.assert_success(request(ws, "set", "Vehicle.Speed", value="42.5"))
    assert wire.single_value(request(ws, "get", "Vehicle.Speed")) == "42.5"
    wire.assert_success(request(ws, "set", "Vehicle.Door.IsLocked", issuer.es256(CABIN_RW), value="true"))
    assert wire.single_value(request(ws, "get", "Vehicle.Door.IsLocked")) == "true"


def test_metadata_is_free_but_not_the_values_of_protected_attributes(ws):
    cabin = request(ws, "get", "Vehicle.Cabin", filter={"variant": "metadata", "parameter": "0"})
    wire.assert_success(cabin)
    assert "Trim" in json.dumps(cabin) and "Secret-Trim" not in json.dumps(cabin), cabin
    identification = request(ws, "get", "Vehicle.VehicleIdentification",
                             filter={"variant": "metadata", "parameter": "0"})
    assert VIN in json.dumps(identification), "a free attribute's default is served"


def test_protected_nodes_need_a_token_on_every_transport(ws, server):
    assert_denied(request(ws, "get", LIGHT), MISSING)
    assert_denied(request(ws, "set", LIGHT, value="5"), MISSING)
    assert_denied(request(ws, "set", "Vehicle.Door.IsLocked", value="true"), MISSING)
    assert_denied(request(ws, "get", "Vehicle"), MISSING)  # reaches the cabin: all denied
    assert_denied(request(ws, "subscribe", LIGHT, filter={"variant": "timebased",
                                                           "parameter": {"period": "100"}}), MISSING)
    answer = server.http.get(LIGHT)
    assert answer.status == 401, answer
    assert_denied(answer.body, MISSING)
    challenge = {key.lower(): value for key, value in answer.headers.items()}.get("www-authenticate")
    assert challenge and challenge.startswith("Bearer"), answer.headers


def test_the_whole_flow_over_wss_with_a_handle(ws, issuer):
    token = issuer.es256(CABIN_RW)
    first = wire.assert_success(request(ws, "set", LIGHT, token, value="40"))
    handle = first["authorization"]
    assert len(handle) >= 32 and "." not in handle, first
    assert wire.single_value(request(ws, "get", LIGHT, handle)) == "40"
    wire.assert_success(request(ws, "set", "Vehicle.Door.IsLocked", handle, value="true"))
    assert wire.single_value(request(ws, "get", "Vehicle.Door.IsLocked")) == "true"


def test_a_handle_replayed_from_another_connection_is_refused(server, issuer):
    with server.client() as first:
        answer = request(first, "set", "Vehicle.Cabin.Fan", issuer.es256(CABIN_RW), value="3")
        handle = wire.assert_success(answer)["authorization"]
    with server.client() as second:
        assert_denied(request(second, "get", LIGHT, handle), "Unknown token handle")


def test_a_20_kb_token_over_https_is_refused_by_the_token_limit(server):
    answer = server.http.get(LIGHT, headers={"Authorization": "Bearer " + "e" * 20_000})
    assert answer.status == 401, answer.status
    assert_denied(answer.body, INVALID)


def test_https_takes_a_bearer_token(server, issuer):
    token = issuer.rs256(CABIN_RW)
    written = server.http.post(LIGHT, {"value": "55"}, headers={"Authorization": f"Bearer {token}"})
    assert written.status == 200, written
    read = server.http.get(LIGHT, headers={"Authorization": f"Bearer {token}"})
    assert wire.single_value(read.body) == "55"
    refused = server.http.post(LIGHT, {"value": "1"},
                               headers={"Authorization": f"Bearer {issuer.es256(CABIN_RO)}"})
    assert refused.status == 401
    assert_denied(refused.body, "Access token does not permit writes")


def test_a_purpose_token_covers_its_purposes_signals(ws, issuer):
    token = issuer.es256("cabin-comfort", clx="Owner+Third party+Vehicle")
    wire.assert_success(request(ws, "set", "Vehicle.Cabin.Fan", token, value="7"))
    outside = issuer.es256("cabin-comfort", clx="Passenger+OEM+Vehicle")
    assert_denied(request(ws, "get", LIGHT, outside), "Access token does not cover the requested data")
    unknown = issuer.es256("no-such-purpose")
    assert_denied(request(ws, "get", LIGHT, unknown), "Access token does not cover the requested data")


def test_the_scope_list_keeps_nodes_from_a_context_whatever_the_token_says(ws, issuer):
    passenger = issuer.es256(CABIN_RW, clx="Passenger+OEM+Vehicle")
    wire.assert_success(request(ws, "set", LIGHT, passenger, value="20"))
    assert_denied(request(ws, "set", "Vehicle.Cabin.Fan", passenger, value="2"),
                  "Access token does not cover the requested data")
    driver = issuer.es256(CABIN_RW, clx="Driver+OEM+Vehicle")
    wire.assert_success(request(ws, "set", "Vehicle.Cabin.Fan", driver, value="2"))


def test_consent_tagged_data_needs_consent(ws, issuer):
    scope = signals(("Vehicle.Location", "read-write"))
    without = issuer.es256(scope)
    assert_denied(request(ws, "set", "Vehicle.Location.Latitude", without, value="48.1"),
                  "Consent for the requested data is missing")
    refused = issuer.es256(scope, consent="NO")
    assert_denied(request(ws, "get", "Vehicle.Location.Latitude", refused),
                  "Consent for the requested data is missing")
    granted = issuer.es256(scope, consent="YES")
    wire.assert_success(request(ws, "set", "Vehicle.Location.Latitude", granted, value="48.1"))


def test_the_attack_table(ws, issuer):
    good = issuer.claims(CABIN_RW)
    valid = issuer.es256(CABIN_RW)
    header, payload, _ = valid.split(".")
    public_pem = issuer.ec_public.read_bytes()
    hs_message = f"{b64json({'alg': 'HS256', 'typ': 'JWT'})}.{payload}".encode()
    hs_with_public_key = hs_message.decode() + "." + b64(hmac.new(public_pem, hs_message, hashlib.sha256).digest())
    # Deep enough for any parser's recursion, small enough to pass the size checks.
    nested = "[" * 5_000 + "]" * 5_000
    signed_bomb = f"{b64json({'alg': 'ES256', 'typ': 'JWT'})}.{b64(nested.encode())}"
    signed_bomb += "." + b64(jwt.utils.der_to_raw_signature(
        issuer.ec.sign(signed_bomb.encode(), ec.ECDSA(hashes.SHA256())), ec.SECP256R1()))
    attacker = ec.generate_private_key(ec.SECP256R1())
    with_jku = jwt.encode(good, attacker, algorithm="ES256",
                          headers={"kid": "attacker", "jku": "https://127.0.0.1:9/jwks.json"})
    now = int(time.time())
    attacks = {
        "alg none": (f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{payload}.", INVALID),
        "HS256 signed with the server's public key": (hs_with_public_key, INVALID),
        "forged signature": (f"{header}.{payload}.{b64(b'x' * 64)}", INVALID),
        "claims swapped under a valid signature": (
            f"{header}.{b64json({**good, 'scp': signals(('Vehicle', 'read-write'))})}.{valid.split('.')[2]}",
            INVALID),
        "token for another vehicle": (issuer.es256(CABIN_RW, vin="OTHERVIN000000000"),
                                      "Access token is for another vehicle"),
        "wrong audience": (issuer.es256(CABIN_RW, aud="w3org/gen2"), "Access token is for another audience"),
        "expired": (issuer.es256(CABIN_RW, exp=now - 120), EXPIRED),
        "not yet valid": (issuer.es256(CABIN_RW, nbf=now + 600), "Access token is not yet valid"),
        "read-only scope used for set": (issuer.es256(CABIN_RO), "Access token does not permit writes"),
        "scope for another path": (issuer.es256(signals(("Vehicle.Speed", "read-write"))),
                                   "Access token does not cover the requested data"),
        "purpose without consent": (issuer.es256(signals(("Vehicle", "read-write"))), None),
        "truncated": (valid[:-12], INVALID),
        "60 KB (under the message limit, over the token limit)": ("e" * 60_000, INVALID),
        "bad base64": ("%%%.***.!!!", INVALID),
        "JSON bomb in correctly signed claims": (signed_bomb, INVALID),
        "JSON bomb in the header": (f"{b64(nested.encode())}.{payload}.{valid.split('.')[2]}", INVALID),
        "signed by the attacker's key, named by kid and jku": (with_jku, INVALID),
    }
    for name, (token, description) in attacks.items():
        if name == "purpose without consent":
            answer = request(ws, "get", "Vehicle.Location.Latitude", token)
            description = "Consent for the requested data is missing"
        else:
            answer = request(ws, "set", LIGHT, token, value="99")
        try:
            assert_denied(answer, description)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
    # Nothing was written by any of them, and the connection lives on.
    assert wire.single_value(request(ws, "get", LIGHT, valid)) != "99"
    print(f"attack table: {len(attacks)} attacks, each denied with its reason")


def test_a_subscription_ends_with_a_401_event_when_its_token_expires(ws, issuer):
    token = issuer.es256(CABIN_RO, exp=int(time.time()) - 27)  # 3 s left of the 30 s leeway
    subscription = ws.subscribe(LIGHT, {"variant": "timebased", "parameter": {"period": "200"}},
                                authorization=token)
    end = ws.event_matching(subscription, lambda event: "error" in event, timeout=TIMEOUT_S)
    wire.assert_error(end, "401", "invalid_token", EXPIRED)
    # The subscription is over: there is nothing left to unsubscribe.
    gone = ws.request({"action": "unsubscribe", "subscriptionId": subscription})
    wire.assert_error(gone, "404", "unavailable_data")


def test_grpc_takes_the_token_as_metadata(server, issuer, stubs):
    endpoints = server.endpoints
    credentials = grpc.ssl_channel_credentials(root_certificates=endpoints.cert.read_bytes())
    with grpc.secure_channel(f"localhost:{endpoints.grpc_port}", credentials) as channel:
        viss = stubs.grpc.VISSStub(channel)
        message = stubs.pb.GetRequestMessage(Path=LIGHT, RequestId="g")
        denied = viss.GetRequest(message, timeout=TIMEOUT_S)
        assert denied.Status == 1 and denied.ErrorResponse.Number == "401", denied
        assert denied.ErrorResponse.Description == MISSING
        token = issuer.es256(CABIN_RO)
        served = viss.GetRequest(message, metadata=[("authorization", f"Bearer {token}")], timeout=TIMEOUT_S)
        assert served.Status == 0, served


def test_mqtt_takes_the_token_in_the_request(launch, issuer, tmp_path):
    broker = Mosquitto(tmp_path / "mosquitto").start()
    try:
        launch.viss_server(["-s", str(GUARDED_VSPEC)], "--token-key", f"ES256:{issuer.ec_public}",
                           "--mqtt-broker", broker.url, "--mqtt-vid", "GUARDED-1", "--mqtt-insecure")
        cloud = MqttVissClient(broker, "GUARDED-1")
        try:
            wait_until_served(cloud)
            assert_denied(cloud.request({"action": "get", "path": LIGHT}), MISSING)
            token = issuer.es256(CABIN_RW)
            written = cloud.request({"action": "set", "path": LIGHT, "value": "77", "authorization": token})
            assert "error" not in written, written
            # Clients share the server's MQTT session: a handle would be usable by all.
            assert "authorization" not in written, written
            read = cloud.request({"action": "get", "path": LIGHT, "authorization": token})
            assert read["data"]["dp"]["value"] == "77", read
            assert_denied(cloud.request({"action": "set", "path": LIGHT, "value": "1",
                                         "authorization": issuer.es256(CABIN_RO)}),
                          "Access token does not permit writes")
        finally:
            cloud.close()
    finally:
        broker.stop()


def test_the_server_tree_advertises_access_control(ws):
    security = wire.single_value(request(ws, "get", "Server.Support.Security"))
    assert {"accesscontrol", "consent"} <= set(security), security


def test_a_tree_with_tags_does_not_start_without_keys(launch):
    with pytest.raises(Exception) as refused:
        launch.viss_server(["-s", str(GUARDED_VSPEC)])
    assert "--no-access-control" in str(refused.value)


def test_no_access_control_serves_everything_and_says_so(launch):
    server = launch.viss_server(["-s", str(GUARDED_VSPEC)], "--no-access-control")
    with server.client() as ws:
        wire.assert_success(request(ws, "set", LIGHT, value="12"))
        deviations = wire.single_value(request(ws, "get", "Server.Config.Deviations"))
        assert any("access control off" in deviation for deviation in deviations), deviations


def test_a_protected_file_needs_the_token_on_the_data_channel_too(launch, issuer, tmp_path):
    """File resources under a `validate` tag: the set/get that starts a transfer needs the
    token, and so does the data channel that carries it (`Authorization: Bearer` in its
    handshake). A channel without it, or with a read-only token for a download, gets status
    255 and the transfer stays for its rightful client."""
    files, clip = tmp_path / "files", tmp_path / "clip.bin"
    clip.write_bytes(bytes(range(256)) * 12)
    server = launch.viss_server(
        ["-s", str(TREES / "GuardedFiles.vspec"), "-t", str(TREES / "FileTypes.vspec")],
        "--token-key", f"ES256:{issuer.ec_public}", FILETRANSFER_DIR, str(files),
        FILETRANSFER_PORT, "0", UPLOAD, f"Vehicle.Cabin.DashCamClip={clip}")
    token, read_only = issuer.es256(CABIN_RW), issuer.es256(CABIN_RO)
    cert = server.endpoints.cert
    data = b"a protected map " * 200
    descriptor = {"name": "map.kml", "hash": sha1_hex(data), "uid": new_uid()}
    with server.client() as ws:
        port = wire.single_value(request(
            ws, "get", "Server.Config.Protocol.Websocket.FileTransfer.PortNum"))
        url = f"wss://127.0.0.1:{port}"
        assert_denied(request(ws, "set", "Vehicle.Cabin.MapFile", value=descriptor), MISSING)
        wire.assert_success(request(ws, "set", "Vehicle.Cabin.MapFile", token, value=descriptor))
        for intruder in (None, read_only, "not-a-token"):
            with DataChannel(url, cert, token=intruder) as channel:
                channel.send_data(descriptor["uid"], 0, data, True)
                assert channel.recv_status().status == TERMINATE, intruder
        with DataChannel(url, cert, token=token) as channel:
            result = download(channel, descriptor["uid"], data, 1024)
        assert result.outcome == "ok", result
        assert (files / "Vehicle.Cabin.MapFile" / "map.kml").read_bytes() == data

        assert_denied(request(ws, "get", "Vehicle.Cabin.DashCamClip"), MISSING)
        uid = wire.single_value(request(ws, "get", "Vehicle.Cabin.DashCamClip", token))["uid"]
        with DataChannel(url, cert) as channel:
            assert upload(channel, uid).outcome == "terminated"
        with DataChannel(url, cert, token=token) as channel:
            result = upload(channel, uid)
        assert result.outcome == "ok" and result.data == clip.read_bytes(), result
