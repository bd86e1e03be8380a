"""A cloud-side VISS client over MQTT (TRANSPORT §5.3) with paho-mqtt 2: reads a signal,
subscribes to it, prints three events and unsubscribes. docs/mqtt.md explains the protocol.

    # a broker and a vehicle (plain text for a local try only)
    mosquitto -p 1883 &
    cargo run --release -p demo-car -- --mqtt-broker mqtt://127.0.0.1:1883 --mqtt-vid VIN0001 \
        --mqtt-insecure --simulate
    .venv-peers/bin/python examples/mqtt-cloud/cloud_client.py --vid VIN0001 --port 1883

With TLS: --tls --ca broker-ca.pem (and the server's --mqtt-broker mqtts://...).
"""

import argparse
import json
import queue
import time
import uuid

import paho.mqtt.client as mqtt

PATH = "Vehicle.Cabin.Seat.Row1.DriverSide.Massage"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vid", default="VIN0001")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--ca")
    parser.add_argument("--path", default=PATH)
    args = parser.parse_args()

    reply_topic = f"cloud/{uuid.uuid4().hex}"  # unique: only we read it
    answers: queue.Queue[dict] = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    if args.tls:
        client.tls_set(ca_certs=args.ca)
    client.on_connect = lambda c, *_: c.subscribe(reply_topic, qos=1)
    client.on_message = lambda _c, _u, message: answers.put(json.loads(message.payload))
    client.connect(args.host, args.port)
    client.loop_start()

    def send(request: dict) -> None:
        envelope = {"topic": reply_topic, "request": json.dumps(request)}
        client.publish(f"{args.vid}/Vehicle", json.dumps(envelope), qos=1).wait_for_publish(5)

    def ask(request: dict) -> dict:
        """The answer to `request` (events that arrive first are printed)."""
        send(request)
        while True:
            message = answers.get(timeout=10)
            if message.get("requestId") == request["requestId"]:
                return message
            print("event:", message)

    time.sleep(0.5)  # the reply topic's SUBACK
    print("set:", ask({"action": "set", "path": args.path, "value": "2", "requestId": "0"}))
    print("get:", ask({"action": "get", "path": args.path, "requestId": "1"}))
    subscribed = ask({"action": "subscribe", "path": args.path, "requestId": "2",
                      "filter": {"variant": "timebased", "parameter": {"period": "500"}}})
    print("subscribe:", subscribed)
    for _ in range(3):
        print("event:", answers.get(timeout=10))
    print("unsubscribe:", ask({"action": "unsubscribe", "requestId": "3",
                               "subscriptionId": subscribed["subscriptionId"]}))
    client.loop_stop()
    client.disconnect()


if __name__ == "__main__":
    main()
