"""A cloud-side VISS client over MQTT, as TRANSPORT §5.3 describes it, on Python paho-mqtt
(v2 callback API, MQTT 3.1.1): it subscribes a unique reply topic of its own, publishes
`{"topic": <reply topic>, "request": "<VISS request as a string>"}` to `<VID>/Vehicle`
and reads answers and events on its reply topic. It resubscribes after every reconnect (a
restarted broker forgets subscriptions)."""

import itertools
import json
import queue
import threading
import time
import uuid

import paho.mqtt.client as mqtt

TIMEOUT_S = 5.0
_ids = itertools.count(1)


class MqttVissClient:
    def __init__(self, broker, vid: str, name: str = "cloud", reply_topic: str | None = None,
                 certificate: tuple | None = None):
        self.vid = vid
        self.reply_topic = reply_topic or f"cloud/{name}/{uuid.uuid4().hex}"
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"test-{name}-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv311)
        if broker.tls:
            cert, key = certificate or (None, None)
            self.client.tls_set(ca_certs=str(broker.cert),
                                certfile=cert and str(cert), keyfile=key and str(key))
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _c, _u, message: self.messages.put(
            (message.topic, message.payload))
        self.client.connect("127.0.0.1", broker.port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(TIMEOUT_S), "the reply topic was not subscribed"

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties):
        if not reason_code.is_failure:
            self.subscribed.clear()
            client.subscribe(self.reply_topic, qos=1)

    @property
    def request_topic(self) -> str:
        return f"{self.vid}/Vehicle"

    def publish_raw(self, payload: bytes | str, topic: str | None = None) -> None:
        info = self.client.publish(topic or self.request_topic, payload, qos=1)
        info.wait_for_publish(TIMEOUT_S)

    def send(self, request: dict, reply_topic: str | None = None) -> None:
        envelope = {"topic": reply_topic or self.reply_topic, "request": json.dumps(request)}
        self.publish_raw(json.dumps(envelope))

    def receive(self, timeout: float = TIMEOUT_S) -> dict:
        topic, payload = self.messages.get(timeout=timeout)
        assert topic == self.reply_topic, f"a message on {topic}, not our reply topic"
        return json.loads(payload)

    def receive_raw(self, timeout: float = TIMEOUT_S) -> tuple[str, bytes]:
        return self.messages.get(timeout=timeout)

    def request(self, request: dict, timeout: float = TIMEOUT_S) -> dict:
        """Sends `request` (a fresh requestId unless it has one) and returns its answer;
        events arriving meanwhile are kept for `events`."""
        request = {"requestId": f"r{next(_ids)}", **request}
        self.send(request)
        deadline = time.monotonic() + timeout
        held = []
        try:
            while True:
                message = self.receive(max(0.01, deadline - time.monotonic()))
                if message.get("requestId") == request["requestId"]:
                    return message
                held.append(message)
        finally:
            for message in held:
                self.messages.put((self.reply_topic, json.dumps(message).encode()))

    def events(self, subscription_id: str, count: int, timeout: float = TIMEOUT_S) -> list[dict]:
        deadline = time.monotonic() + timeout
        events = []
        while len(events) < count:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message.get("subscriptionId") == subscription_id and "requestId" not in message:
                events.append(message)
        return events

    def drain(self) -> list[dict]:
        drained = []
        while True:
            try:
                drained.append(self.receive(0.01))
            except queue.Empty:
                return drained

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_until_served(client: MqttVissClient, timeout: float = 20.0) -> float:
    """Asks until the server answers (it connects to the broker on its own schedule);
    returns the seconds it took."""
    start = time.monotonic()
    while True:
        try:
            client.request({"action": "get", "path": "Server.Support.Protocol"}, timeout=0.5)
            return time.monotonic() - start
        except (queue.Empty, RuntimeError):  # no answer yet, or paho still reconnecting
            if time.monotonic() - start > timeout:
                raise AssertionError(f"the server did not answer over MQTT within {timeout} s")
            time.sleep(0.05)
