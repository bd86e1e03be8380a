"""VISS over MQTT (TRANSPORT §5.3, PAYLOAD ENCODING MQTT realization): the real demo-car
server connects out to Debian's mosquitto; cloud clients are Python paho-mqtt. Reads with
filters, writes, subscriptions and their events, the error classes, isolation between
reply topics, protobuf on `<VID>/Vehicle/protobuf`, hostile payloads, TLS to the broker,
and a broker killed and restarted mid-subscription."""

import json
import queue
import time

import pytest

from mqtt_broker import Mosquitto, make_client_certificate
from mqtt_client import MqttVissClient, wait_until_served

VID = "VIN-TEST-1"
MASSAGE = "Vehicle.Cabin.Seat.Row1.DriverSide.Massage"  # actuator uint8, allowed 0..3
BRAND = "Vehicle.VehicleIdentification.Brand"
RECONNECT_MAX_MS = 1000


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def server(launch, broker):
    server = launch.demo_car("--mqtt-broker", broker.url, "--mqtt-vid", VID, "--mqtt-insecure",
                             "--mqtt-reconnect-max-ms", str(RECONNECT_MAX_MS))
    client = MqttVissClient(broker, VID, "probe")
    try:
        wait_until_served(client)
    finally:
        client.close()
    return server


@pytest.fixture
def cloud(server, broker):
    client = MqttVissClient(broker, VID)
    yield client
    client.close()


def value_of(answer: dict):
    assert "error" not in answer, answer
    return answer["data"]["dp"]["value"]


def test_the_server_prints_and_advertises_its_mqtt_topics(server, cloud):
    assert any("MQTT:" in line and f"{VID}/Vehicle" in line for line in server.process.stdout_lines)
    protocols = value_of(cloud.request({"action": "get", "path": "Server.Support.Protocol"}))
    assert "mqtt" in protocols
    topic = value_of(cloud.request({"action": "get",
                                    "path": "Server.Config.Protocol.Mqtt.Primary.Topic"}))
    assert topic == f"{VID}/Vehicle"
    protobuf = value_of(cloud.request({"action": "get",
                                       "path": "Server.Config.Protocol.Mqtt.Protobuf.Topic"}))
    assert protobuf == f"{VID}/Vehicle/protobuf"


def test_set_then_get_and_get_with_a_paths_filter(cloud):
    answer = cloud.request({"action": "set", "path": MASSAGE, "value": "2"})
    assert "error" not in answer and answer["action"] == "set", answer
    assert value_of(cloud.request({"action": "get", "path": MASSAGE})) == "2"
    answer = cloud.request({"action": "get", "path": "Vehicle.Cabin.Seat.Row1.DriverSide",
                            "filter": {"variant": "paths", "parameter": ["Massage"]}})
    data = answer["data"]
    data = data if isinstance(data, list) else [data]
    assert [item["path"] for item in data] == [MASSAGE]
    assert data[0]["dp"]["value"] == "2"


def test_subscribe_events_unsubscribe(cloud):
    cloud.request({"action": "set", "path": MASSAGE, "value": "0"})
    answer = cloud.request({"action": "subscribe", "path": MASSAGE,
                            "filter": {"variant": "change",
                                       "parameter": {"logic-op": "ne", "diff": "0"}}})
    subscription = answer["subscriptionId"]
    for value in ("1", "3"):
        cloud.request({"action": "set", "path": MASSAGE, "value": value})
        event = cloud.events(subscription, 1)[0]
        assert event["data"]["dp"]["value"] == value
    answer = cloud.request({"action": "unsubscribe", "subscriptionId": subscription})
    assert "error" not in answer, answer
    cloud.request({"action": "set", "path": MASSAGE, "value": "2"})
    time.sleep(0.3)
    assert [m for m in cloud.drain() if m.get("subscriptionId") == subscription] == []


@pytest.mark.parametrize("request_, number", [
    ({"action": "get", "path": "Vehicle.NoSuchSignal"}, "404"),
    ({"action": "set", "path": MASSAGE, "value": "7"}, "400"),  # not in the allowed list
    ({"action": "set", "path": BRAND, "value": "x"}, "400"),  # an attribute: not settable
    ({"action": "unsubscribe", "subscriptionId": "987654"}, "404"),
    ({"action": "fly", "path": MASSAGE}, "400"),
])
def test_the_error_classes(cloud, request_, number):
    answer = cloud.request(request_)
    assert answer["error"]["number"] == number, answer


def test_a_request_that_is_not_a_string_or_not_json_gets_400_on_the_reply_topic(cloud):
    cloud.publish_raw(json.dumps({"topic": cloud.reply_topic,
                                  "request": {"action": "get", "path": MASSAGE}}))
    assert cloud.receive()["error"]["number"] == "400"
    cloud.publish_raw(json.dumps({"topic": cloud.reply_topic, "request": "{not json"}))
    assert cloud.receive()["error"]["number"] == "400"


def test_two_clients_never_see_each_others_answers(server, broker):
    first, second = MqttVissClient(broker, VID, "a"), MqttVissClient(broker, VID, "b")
    try:
        subscription = first.request({"action": "subscribe", "path": MASSAGE,
                                      "filter": {"variant": "change",
                                                 "parameter": {"logic-op": "ne", "diff": "0"}}}
                                     )["subscriptionId"]
        for n in range(20):
            # the same requestId from both: each answer goes to its own topic only
            for client in (first, second):
                client.send({"action": "get", "path": MASSAGE, "requestId": f"same-{n}"})
        second.request({"action": "set", "path": MASSAGE, "value": "1"})
        second.request({"action": "set", "path": MASSAGE, "value": "2"})
        for client in (first, second):
            # receive() asserts every message is on our topic; the broker orders neither
            # client's answers against the other's, so each is waited for (10 s at most)
            def drained_answers() -> list[dict]:
                return [m for m in client.drain() if str(m.get("requestId", "")).startswith("same-")]
            answers = []
            deadline = time.monotonic() + 10
            while len(answers) < 20 and time.monotonic() < deadline:
                answers += drained_answers()
            time.sleep(0.2)  # then none more may come
            answers += drained_answers()
            assert len(answers) == 20, answers
        assert first.events(subscription, 0) == []
        first.request({"action": "unsubscribe", "subscriptionId": subscription})
    finally:
        first.close()
        second.close()


def test_protobuf_on_the_protobuf_topic(server, broker, stubs):
    client = MqttVissClient(broker, VID, "pb")
    try:
        request = stubs.pb.GetRequestMessage(Path=MASSAGE, RequestId="pb-1")
        envelope = stubs.enc.ProtobufMessage(Method=stubs.enc.MessageMethod.Value("GET"))
        envelope.Get.MType = stubs.enc.MessageType.Value("REQUEST")
        envelope.Get.Request.CopyFrom(request)
        wrapped = stubs.enc.MqttRequest(Topic=client.reply_topic, Request=envelope)
        client.publish_raw(wrapped.SerializeToString(), topic=f"{VID}/Vehicle/protobuf")
        topic, payload = client.receive_raw()
        assert topic == client.reply_topic
        answer = stubs.enc.ProtobufMessage()
        answer.ParseFromString(payload)
        assert stubs.enc.MessageMethod.Name(answer.Method) == "GET"
        response = answer.Get.Response
        assert response.RequestId == "pb-1"
        assert stubs.pb.ResponseStatus.Name(response.Status) == "SUCCESS", response
        data = response.SuccessResponse.DataPack.Data
        assert [item.Path for item in data] == [MASSAGE]
        assert data[0].Dp[0].Value in {"0", "1", "2", "3"}
    finally:
        client.close()


def test_hostile_payloads_leave_the_server_serving(server, cloud, broker):
    spy = MqttVissClient(broker, VID, "spy", reply_topic="#")  # sees every publish
    try:
        spy.drain()
        hostile = [
            b"{not json",
            b"\x00\xff\xfe binary garbage \x13\x37",
            json.dumps({"topic": "a/#", "request": "{}"}).encode(),
            json.dumps({"topic": "+/x", "request": "{}"}).encode(),
            json.dumps({"topic": f"{VID}/Vehicle", "request": "{}"}).encode(),  # a loop
            json.dumps({"topic": cloud.reply_topic, "request": "x" * 1_000_000}).encode(),
            json.dumps({"request": "{}"}).encode(),
        ]
        for payload in hostile:
            cloud.publish_raw(payload)
        # Only the 1 MB envelope has a reply topic to answer on: its error, nothing else.
        answer = cloud.receive()
        assert answer["error"]["number"] == "400", answer
        assert "at most" in answer["error"]["description"]
        time.sleep(0.3)
        published = []
        while True:
            try:
                topic, payload = spy.receive_raw(0.05)
            except queue.Empty:
                break
            published.append((topic, payload[:60]))
        server_replies = [topic for topic, _ in published
                          if not topic.startswith(f"{VID}/Vehicle") and topic != cloud.reply_topic]
        assert server_replies == [], published
        assert server.process.is_running()
        assert value_of(cloud.request({"action": "get", "path": MASSAGE})) in {"0", "1", "2", "3"}
    finally:
        spy.close()


def test_broker_killed_and_restarted_mid_subscription(server, broker):
    cloud = MqttVissClient(broker, VID, "restart")
    try:
        cloud.request({"action": "set", "path": MASSAGE, "value": "0"})
        subscription = cloud.request({"action": "subscribe", "path": MASSAGE,
                                      "filter": {"variant": "change",
                                                 "parameter": {"logic-op": "ne", "diff": "0"}}}
                                     )["subscriptionId"]
        acknowledged = cloud.request({"action": "set", "path": MASSAGE, "value": "1"})
        assert "error" not in acknowledged
        cloud.events(subscription, 1)
        broker.kill()
        time.sleep(0.5)
        broker.start()
        # Back within the backoff bound (jitter below the cap) plus connect time.
        took = wait_until_served(cloud, timeout=RECONNECT_MAX_MS / 1000 + 10)
        print(f"\nserved again {took:.2f} s after the broker came back")
        assert took < RECONNECT_MAX_MS / 1000 + 5, took
        # The set acknowledged before the crash is there, once.
        assert value_of(cloud.request({"action": "get", "path": MASSAGE})) == "1"
        # The subscription resumed on the same reply topic (docs/mqtt.md).
        cloud.request({"action": "set", "path": MASSAGE, "value": "3"})
        event = cloud.events(subscription, 1, timeout=10)[0]
        assert event["data"]["dp"]["value"] == "3"
        assert "error" not in cloud.request({"action": "unsubscribe",
                                             "subscriptionId": subscription})
        log = server.process.stderr_tail(200)
        assert "MQTT broker connection lost" in log and "connected to the MQTT broker" in log, log
    finally:
        cloud.close()


def test_tls_to_the_broker_and_plain_text_only_when_chosen(launch, tmp_path_factory):
    tls_broker = Mosquitto(tmp_path_factory.mktemp("mosquitto-tls"), tls=True).start()
    try:
        launch.demo_car("--mqtt-broker", tls_broker.url, "--mqtt-vid", "VIN-TLS",
                        "--mqtt-ca", str(tls_broker.cert))
        client = MqttVissClient(tls_broker, "VIN-TLS", "tls")
        try:
            wait_until_served(client)
            assert value_of(client.request({"action": "get", "path": "Server.Support.Protocol"}))
        finally:
            client.close()
        # Plain mqtt:// without the explicit choice: the server refuses to start and says why.
        with pytest.raises(AssertionError) as refused:
            launch.demo_car("--mqtt-broker", f"mqtt://127.0.0.1:{tls_broker.port}",
                            "--mqtt-vid", "VIN-PLAIN")
        assert "mqtt.insecure" in str(refused.value), refused.value
    finally:
        tls_broker.stop()


def test_a_broker_that_wants_client_certificates_gets_the_vehicles(launch, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mosquitto-mtls")
    broker = Mosquitto(folder, tls=True, require_certificate=True).start()
    try:
        vehicle = make_client_certificate(folder, "vehicle")
        cloud_cert = make_client_certificate(folder, "cloud")
        launch.demo_car("--mqtt-broker", broker.url, "--mqtt-vid", "VIN-MTLS",
                        "--mqtt-ca", str(broker.cert), "--mqtt-client-cert", str(vehicle[0]),
                        "--mqtt-client-key", str(vehicle[1]))
        client = MqttVissClient(broker, "VIN-MTLS", "mtls", certificate=cloud_cert)
        try:
            wait_until_served(client)
        finally:
            client.close()
        # Without its certificate the vehicle never gets in: nothing answers.
        launch.demo_car("--mqtt-broker", broker.url, "--mqtt-vid", "VIN-NOCERT",
                        "--mqtt-ca", str(broker.cert))
        client = MqttVissClient(broker, "VIN-NOCERT", "nocert", certificate=cloud_cert)
        try:
            with pytest.raises(AssertionError, match="did not answer"):
                wait_until_served(client, timeout=3)
        finally:
            client.close()
    finally:
        broker.stop()


def test_a_vehicle_with_a_persistent_session_answers_what_came_while_it_was_away(
        launch, tmp_path_factory):
    """The vehicle in a tunnel: requests published while it is offline wait at the broker
    (its session kept, QoS 1) and are answered when it is back."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto-persist"), persistence=True).start()
    flags = ("--mqtt-broker", broker.url, "--mqtt-vid", "VIN-TUNNEL", "--mqtt-insecure",
             "--mqtt-persistent-session")
    try:
        vehicle = launch.demo_car(*flags)
        client = MqttVissClient(broker, "VIN-TUNNEL", "tunnel")
        try:
            wait_until_served(client)
            client.request({"action": "set", "path": MASSAGE, "value": "3"})
            client.drain()
            vehicle.process.stop()  # SIGTERM: a clean goodbye, the broker keeps the session
            client.send({"action": "get", "path": MASSAGE, "requestId": "while-away"})
            time.sleep(0.5)
            assert client.drain() == [], "answered while the vehicle was away"
            launch.demo_car(*flags)  # the same client id: the broker hands over what waited
            answer = client.receive(timeout=15)
            assert answer["requestId"] == "while-away", answer
            assert "error" in answer or answer["data"]["dp"]["value"] in {"0", "1", "2", "3"}
        finally:
            client.close()
    finally:
        broker.stop()
