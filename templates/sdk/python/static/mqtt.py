"""VISS over MQTT (TRANSPORT §5.3) for the client: through a broker to a vehicle that serves
VISS over MQTT, for a client that cannot reach the vehicle directly. Needs paho-mqtt (the
package's `mqtt` extra).

    client = await VissClient.connect("mqtts://broker:8883/VIN123", cafile="broker-ca.pem")

The URL names the broker and the vehicle (`mqtt://` for a broker without TLS, chosen
explicitly), and the broker's user and password where it wants them
(`mqtts://user:password@broker:8883/VIN123`; client.py takes them out of the URL, so no
message shows them). Each request goes to `<VID>/Vehicle` in the envelope {"topic": <reply topic>,
"request": "<the VISS request as a string>"}; answers and events come back on this client's
own reply topic (`vssgen-client/<random>`), where the WebSocket transport's logic matches
them by requestId and subscriptionId. paho's network thread reconnects by itself and
subscribes the reply topic again on every connect; the vehicle keeps subscriptions across
broker faults, so their events resume on the same topic. While the broker is away a request
fails at once with VissConnectionError (queued, it could land long after its caller gave
up); one whose answer a broker fault lost times out. The vehicle ends a subscription only
when told: VissClient.close() unsubscribes every live one first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import ssl
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from websockets.exceptions import ConnectionClosed

from .client import VissConnectionError

__all__ = ["MqttConnection"]

log = logging.getLogger(__name__)

# Messages from the broker waiting for the reader; beyond, new ones are dropped and logged
# (the reader only parses and routes, so this fills only if the event loop is starved).
INCOMING_BOUND = 4096
# Requests paho keeps while the broker is away; beyond, publishing fails at once.
OUTGOING_BOUND = 1024


class MqttConnection:
    """A broker connection shaped like the WebSocket the transport reads and writes: `send`
    publishes a request in its envelope, iterating yields what arrives on the reply topic."""

    def __init__(self, client: paho.Client, request_topic: str, reply_topic: str,
                 incoming: asyncio.Queue[bytes | None]) -> None:
        self._client = client
        self._request_topic = request_topic
        self._reply_topic = reply_topic
        self._incoming = incoming
        self._closed = False

    @classmethod
    async def open(cls, url: str, context: ssl.SSLContext | None, timeout: float,
                   credentials: tuple[str, str] | None = None) -> MqttConnection:
        """Connects to the broker of `url` (`mqtts://host[:port]/<VID>`) as the user of
        `credentials`, if any, and subscribes the reply topic; fails when that does not happen
        within `timeout` seconds."""
        parts = urllib.parse.urlsplit(url)
        vid = parts.path.strip("/")
        if not vid or any(c in vid for c in "#+/\0"):
            raise ValueError(f"{url}: name the vehicle: mqtts://broker:8883/<VID>")
        secure = parts.scheme == "mqtts"
        host, port = parts.hostname or "", parts.port or (8883 if secure else 1883)
        token = secrets.token_hex(8)
        reply_topic = f"vssgen-client/{token}"
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        incoming: asyncio.Queue[bytes | None] = asyncio.Queue(INCOMING_BOUND)
        client = paho.Client(CallbackAPIVersion.VERSION2,
                             client_id=f"vssgen-client-{token}", clean_session=True)
        if secure:
            client.tls_set_context(context or ssl.create_default_context())
        if credentials is not None:
            client.username_pw_set(*credentials)
        client.max_queued_messages_set(OUTGOING_BOUND)
        client.reconnect_delay_set(min_delay=1, max_delay=5)

        def settle(error: BaseException | None) -> None:
            if ready.done():
                return
            if error is None:
                ready.set_result(None)
            else:
                ready.set_exception(error)

        # paho calls these on its network thread: hand everything to the event loop.
        def on_connect(mqtt: paho.Client, _: Any, __: Any, reason: Any, ___: Any) -> None:
            if reason.is_failure:
                loop.call_soon_threadsafe(settle, ConnectionError(f"the broker refused: {reason}"))
            else:
                # A clean session forgot the reply topic: subscribe it on every connect.
                mqtt.subscribe(reply_topic, qos=1)

        def on_subscribe(_: paho.Client, __: Any, ___: Any, reasons: list[Any], ____: Any) -> None:
            refused = [reason for reason in reasons if reason.is_failure]
            error = ConnectionError(f"the broker refused the reply topic: {refused[0]}") if refused else None
            loop.call_soon_threadsafe(settle, error)

        def on_message(_: paho.Client, __: Any, message: paho.MQTTMessage) -> None:
            if message.topic == reply_topic:
                payload = bytes(message.payload)
                loop.call_soon_threadsafe(lambda: _offer(incoming, payload))

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        try:
            client.connect_async(host, port, keepalive=30)
            client.loop_start()
            await asyncio.wait_for(ready, timeout)
        except BaseException as error:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)
            if isinstance(error, TimeoutError):
                raise ConnectionError(f"{url}: no answer from the broker within {timeout} s") from None
            raise
        return cls(client, f"{vid}/Vehicle", reply_topic, incoming)

    async def send(self, message: str) -> None:
        if self._closed:
            raise ConnectionClosed(None, None)
        if not self._client.is_connected():
            raise VissConnectionError("the MQTT broker is not reachable just now")
        envelope = json.dumps({"topic": self._reply_topic, "request": message})
        info = self._client.publish(self._request_topic, envelope, qos=1)
        if info.rc == paho.MQTT_ERR_QUEUE_SIZE:
            raise VissConnectionError(f"more than {OUTGOING_BOUND} requests wait for the broker")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
        _offer(self._incoming, None)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[bytes]:
        while (payload := await self._incoming.get()) is not None:
            yield payload


def _offer(incoming: asyncio.Queue[bytes | None], payload: bytes | None) -> None:
    try:
        incoming.put_nowait(payload)
    except asyncio.QueueFull:
        log.warning("dropped a message from the broker: %d wait to be read", incoming.qsize())
