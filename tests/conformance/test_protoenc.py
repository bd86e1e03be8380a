"""Protobuf payloads over WebSocket (PAYLOAD ENCODING, websocket realization): sub-protocol
`VISS-protoenc`, one `ProtobufMessage` (schemas/viss_protoenc.proto) per binary frame, built
and read with the Python `protobuf` classes protoc generated; the real demo-car server over
wss (websocket-client)."""

import json

import pytest
import websocket


MASSAGE = "Vehicle.Cabin.Seat.Row1.DriverSide.Massage"
AMBIENT_LIGHT = "Vehicle.Cabin.AmbientLight"
TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def server(launch):
    return launch.demo_car()


class ProtoClient:
    """One VISS-protoenc connection."""

    def __init__(self, server, stubs):
        self.stubs = stubs
        self.ws = websocket.create_connection(
            server.endpoints.ws_url, subprotocols=["VISS-protoenc"],
            sslopt={"ca_certs": str(server.endpoints.cert)}, timeout=TIMEOUT_S)
        self.subprotocol = (self.ws.getheaders() or {}).get("sec-websocket-protocol")

    def send(self, method: str, request) -> None:
        enc = self.stubs.enc
        envelope = enc.ProtobufMessage(Method=enc.MessageMethod.Value(method))
        member = getattr(envelope, method.capitalize())
        member.MType = enc.MessageType.Value("REQUEST")
        member.Request.CopyFrom(request)
        self.ws.send_binary(envelope.SerializeToString())

    def receive(self):
        opcode, payload = self.ws.recv_data()
        assert opcode == websocket.ABNF.OPCODE_BINARY, f"a binary frame, got opcode {opcode}"
        envelope = self.stubs.enc.ProtobufMessage()
        envelope.ParseFromString(payload)
        return envelope

    def request(self, method: str, request):
        self.send(method, request)
        envelope = self.receive()
        assert self.stubs.enc.MessageMethod.Name(envelope.Method) == method, envelope
        member = getattr(envelope, method.capitalize())
        return member.Stream if method == "SUBSCRIBE" else member.Response

    def close(self):
        self.ws.close()


@pytest.fixture
def client(server, stubs):
    client = ProtoClient(server, stubs)
    yield client
    client.close()


def value_of(response):
    [package] = response.SuccessResponse.DataPack.Data
    return package.Dp[-1].Value


def test_the_handshake_names_visss_protoenc(client):
    assert client.subprotocol == "VISS-protoenc"


def test_set_and_get_round_trip(client, stubs):
    pb = stubs.pb
    answer = client.request("SET", pb.SetRequestMessage(Path=AMBIENT_LIGHT, Value='["1","2","3"]', RequestId="1"))
    assert answer.Status == 0 and answer.RequestId == "1", answer
    response = client.request("GET", pb.GetRequestMessage(Path=AMBIENT_LIGHT, RequestId="2"))
    assert response.Status == 0 and response.RequestId == "2"
    assert json.loads(value_of(response)) == ["1", "2", "3"]
    missing = client.request("GET", pb.GetRequestMessage(Path="Vehicle.Nope", RequestId="3"))
    assert (missing.Status, missing.ErrorResponse.Number, missing.ErrorResponse.Reason) == (
        1, "404", "unavailable_data")


def test_subscribe_events_and_unsubscribe(client, stubs):
    pb, enc = stubs.pb, stubs.enc
    client.request("SET", pb.SetRequestMessage(Path=MASSAGE, Value="0", RequestId="0"))
    subscribe = pb.SubscribeRequestMessage(Path=MASSAGE, RequestId="s")
    expression = pb.FilterExpressions.FilterExpression
    subscribe.Filter.FilterExp.append(expression(
        Variant=expression.FilterVariant.Value("CHANGE"),
        Value=expression.FilterValue(ValueChange={"LogicOperator": "ne", "Diff": "0"})))
    first = client.request("SUBSCRIBE", subscribe)
    assert (first.MType, first.Status) == (0, 0) and first.Response.RequestId == "s", first
    subscription_id = first.Response.SubscriptionId
    client.send("SET", pb.SetRequestMessage(Path=MASSAGE, Value="3", RequestId="1"))
    events, answers = [], []
    while not (events and answers):
        envelope = client.receive()
        if envelope.Method == enc.MessageMethod.Value("SUBSCRIBE"):
            assert envelope.Subscribe.MType == enc.MessageType.Value("STREAM")
            events.append(envelope.Subscribe.Stream)
        else:
            answers.append(envelope.Set.Response)
    [event] = events
    assert event.MType == 1 and event.Event.SubscriptionId == subscription_id
    assert value_of(event.Event) == "3"
    done = client.request("UNSUBSCRIBE", pb.UnsubscribeRequestMessage(SubscriptionId=subscription_id, RequestId="u"))
    assert done.Status == 0 and done.RequestId == "u", done


@pytest.mark.parametrize("garbage", [b"\xff\xff\xff\xff", b"\x08\x07", b"\x12\x02\x08\x01"])
def test_a_frame_that_is_no_request_gets_400_and_the_connection_lives(client, stubs, garbage):
    client.ws.send_binary(garbage)
    envelope = client.receive()
    error = envelope.Get.Response
    assert (error.Status, error.ErrorResponse.Number, error.ErrorResponse.Reason) == (1, "400", "bad_request")
    assert error.ErrorResponse.Description
    response = client.request("GET", stubs.pb.GetRequestMessage(Path=MASSAGE, RequestId="after"))
    assert response.RequestId == "after"


def test_a_text_frame_gets_400_in_protobuf_and_the_connection_lives(client, stubs):
    client.ws.send(json.dumps({"action": "get", "path": MASSAGE, "requestId": "json"}))
    error = client.receive().Get.Response
    assert (error.ErrorResponse.Number, error.ErrorResponse.Reason) == ("400", "bad_request")
    assert "binary" in error.ErrorResponse.Description
    assert client.request("GET", stubs.pb.GetRequestMessage(Path=MASSAGE, RequestId="x")).RequestId == "x"


def test_a_client_offering_both_gets_json(server):
    ws = websocket.create_connection(server.endpoints.ws_url, subprotocols=["VISS-protoenc", "VISSv3"],
                                     sslopt={"ca_certs": str(server.endpoints.cert)}, timeout=TIMEOUT_S)
    try:
        assert (ws.getheaders() or {}).get("sec-websocket-protocol") == "VISSv3"
    finally:
        ws.close()
