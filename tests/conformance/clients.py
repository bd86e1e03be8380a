"""Clients for the black-box tests: a VISS WebSocket client (websocket-client) that matches
responses by requestId, buffers events per subscriptionId and checks every message it
receives, and an HTTP client (urllib) that does the same for HTTP bodies and statuses.

Checks applied to every received message:
* VISSv3 session: schema (schema.py), error objects from the table, ISO `ts`, no
  `requestId` in events, and the response echoes the request's action.
* VISSv2 session: v2 error objects (integer number, `message`), ISO `ts`, no `requestId`
  in events (viss-v2-compat.md §2, §10 item 7).
* HTTP: schema with the action added, v3 error objects, status = error number (200 without).
"""

import itertools
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import websocket

import wire
from schema import MessageValidator

TIMEOUT_S = 5.0  # any single response; loopback answers take milliseconds


class ServerClosed(AssertionError):
    pass


class VissClient:
    """One WebSocket connection. `subprotocols=None` offers none (a VISSv2 session)."""

    def __init__(self, url: str, cert: Path | None, validator: MessageValidator,
                 subprotocols: list[str] | None = ("VISSv3",)):
        sslopt = {"ca_certs": str(cert)} if url.startswith("wss://") else None
        self.ws = websocket.create_connection(
            url, subprotocols=list(subprotocols) if subprotocols else None,
            sslopt=sslopt, timeout=TIMEOUT_S)
        headers = self.ws.getheaders() or {}
        self.subprotocol = headers.get("sec-websocket-protocol")
        self.version = 3 if self.subprotocol == "VISSv3" else 2
        self.validator = validator
        self.received: list[dict] = []
        self._sizes: dict[int, int] = {}
        self._events: dict[str, deque] = defaultdict(deque)
        self._early: dict[str, dict] = {}
        self._actions: dict[str, object] = {}
        self._ts_compressed_requests: set[str] = set()
        self._ts_compressed_subscriptions: set[str] = set()
        self._ids = itertools.count(1)

    def __enter__(self) -> "VissClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.ws.close(timeout=1)
        except (OSError, websocket.WebSocketException):
            pass

    # -- requests -------------------------------------------------------------------------

    def send(self, message: dict) -> str:
        """Sends `message` with a fresh requestId unless it has one; returns the id."""
        message = dict(message)
        request_id = message.setdefault("requestId", f"r{next(self._ids)}")
        self._remember(message)
        self.ws.send(json.dumps(message))
        return request_id

    def send_text(self, text: str, request_id: str | None = None, action: object = None) -> None:
        """Sends raw text (invalid JSON, odd shapes). `request_id` and `action` say what the
        answer should echo (None: nothing) so that it can be checked."""
        self._actions[request_id] = action
        self.ws.send(text)

    def request(self, message: dict, timeout: float = TIMEOUT_S) -> dict:
        """Sends `message` and returns its response (events meanwhile are buffered)."""
        return self.response_to(self.send(message), timeout)

    def response_to(self, request_id: str, timeout: float = TIMEOUT_S) -> dict:
        if request_id in self._early:
            return self._early.pop(request_id)
        deadline = time.monotonic() + timeout
        while (message := self._receive(deadline)) is not None:
            if message.get("action") != "subscription" and message.get("requestId") == request_id:
                return message
            if "requestId" in message and message.get("action") != "subscription":
                self._early[message["requestId"]] = message
        raise AssertionError(f"no response to requestId {request_id} within {timeout} s")

    def next_message(self, timeout: float = TIMEOUT_S) -> dict:
        """The next message of any kind (for requests that cannot carry a requestId)."""
        message = self._receive(time.monotonic() + timeout)
        assert message is not None, f"no message within {timeout} s"
        return message

    def _remember(self, message: dict) -> None:
        request_id = message["requestId"]
        self._actions[request_id] = message.get("action")
        dc = message.get("dc")
        if isinstance(dc, str) and dc.endswith("+1"):
            self._ts_compressed_requests.add(request_id)

    # -- subscriptions ----------------------------------------------------------------------

    def subscribe(self, path: str, filter_: object = None, **members) -> str:
        message = {"action": "subscribe", "path": path, **members}
        if filter_ is not None:
            message["filter"] = filter_
        response = wire.assert_success(self.request(message))
        subscription_id = response["subscriptionId"]
        assert isinstance(subscription_id, str) and subscription_id, response
        return subscription_id

    def unsubscribe(self, subscription_id: str) -> dict:
        response = self.request({"action": "unsubscribe", "subscriptionId": subscription_id})
        # Events queued before the response are not "after unsubscribe".
        self._events.pop(subscription_id, None)
        return response

    def next_event(self, subscription_id: str, timeout: float = TIMEOUT_S) -> dict:
        event = self.poll_event(subscription_id, timeout)
        assert event is not None, f"no event for subscription {subscription_id} within {timeout} s"
        return event

    def poll_event(self, subscription_id: str, timeout: float) -> dict | None:
        """The next event of the subscription, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        while not self._events[subscription_id]:
            if self._receive(deadline) is None:
                return None
        return self._events[subscription_id].popleft()

    def events_within(self, subscription_id: str, seconds: float) -> list[dict]:
        """Every event of the subscription that arrives within `seconds` (and any buffered)."""
        deadline = time.monotonic() + seconds
        while self._receive(deadline) is not None:
            pass
        events = list(self._events[subscription_id])
        self._events[subscription_id].clear()
        return events

    def event_matching(self, subscription_id: str, predicate, timeout: float = TIMEOUT_S) -> dict:
        """The first event satisfying `predicate` (earlier ones are dropped)."""
        deadline = time.monotonic() + timeout
        seen = []
        while (remaining := deadline - time.monotonic()) > 0:
            event = self.poll_event(subscription_id, remaining)
            if event is None:
                break
            if predicate(event):
                return event
            seen.append(event)
        raise AssertionError(f"no matching event for {subscription_id} within {timeout} s; saw {seen[-5:]}")

    def size_of(self, message: dict) -> int:
        """The size in bytes of the frame a received message came in."""
        return self._sizes[id(message)]

    # -- receiving --------------------------------------------------------------------------

    def _receive(self, deadline: float) -> dict | None:
        """One message (checked and sorted), or None when the deadline passes."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self.ws.settimeout(remaining)
        try:
            opcode, payload = self.ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return None
        except websocket.WebSocketConnectionClosedException as error:
            raise ServerClosed(f"the server closed the connection: {error}") from error
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise ServerClosed(f"the server closed the connection: {payload!r}")
        assert opcode == websocket.ABNF.OPCODE_TEXT, f"non-text frame {opcode}: {payload[:100]!r}"
        message = json.loads(payload)
        assert isinstance(message, dict), f"message is not a JSON object: {payload[:200]!r}"
        self._check(message)
        self.received.append(message)  # also keeps id(message) unique for size_of
        self._sizes[id(message)] = len(payload)
        if message.get("action") == "subscription":
            self._events[str(message.get("subscriptionId"))].append(message)
        return message

    def _check(self, message: dict) -> None:
        is_event = message.get("action") == "subscription"
        if is_event:
            assert "requestId" not in message, f"an event carries a requestId: {message}"
        request_id = message.get("requestId")
        sent_action = self._actions.get(request_id)
        if message.get("action") == "subscribe" and request_id in self._ts_compressed_requests:
            if "subscriptionId" in message:
                self._ts_compressed_subscriptions.add(message["subscriptionId"])
        offsets = (request_id in self._ts_compressed_requests
                   or message.get("subscriptionId") in self._ts_compressed_subscriptions)
        wire.check_timestamps(message, dp_offsets=offsets)
        if self.version == 3:
            self._check_v3(message, is_event, sent_action, request_id in self._actions)
        elif "error" in message:
            wire.check_error_v2(message["error"])

    def _check_v3(self, message: dict, is_event: bool, sent_action: object, known: bool) -> None:
        context = f" (VISSv3 session, request action {sent_action!r})"
        if "error" in message:
            wire.check_error_v3(message["error"])
        if is_event:
            self.validator.assert_valid(message, context)
        elif sent_action in wire.CLIENT_ACTIONS:
            assert message.get("action") == sent_action, f"action not echoed{context}: {message}"
            self.validator.assert_valid(message, context)
        elif "action" in message and not known:
            # Not attributable to a request of ours (requestId missing or unknown): the
            # waiting request then times out with its own message.
            self.validator.assert_valid(message, " (VISSv3 session, unmatched requestId)")
        else:
            self.validator.assert_valid_without_action(message, "get", context)


@dataclass
class HttpAnswer:
    status: int
    headers: dict
    body: dict | None
    text: str


class HttpClient:
    """HTTP(S) per TRANSPORT §5.2: GET = get, POST {"value":...} = set."""

    def __init__(self, base: str, cert: Path | None, validator: MessageValidator):
        self.base = base
        self.cert = cert
        self.validator = validator
        self.context = ssl.create_default_context(cafile=str(cert)) if base.startswith("https") else None

    def url(self, path: str, filter_: object = None) -> str:
        url = f"{self.base}/{urllib.parse.quote(path, safe='/.')}"
        if filter_ is not None:
            url += "?filter=" + urllib.parse.quote(json.dumps(filter_), safe="")
        return url

    def get(self, path: str, filter_: object = None, headers: dict | None = None) -> HttpAnswer:
        return self.call("GET", self.url(path, filter_), headers=headers)

    def post(self, path: str, body: object, headers: dict | None = None) -> HttpAnswer:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.call("POST", self.url(path), data=data, headers=headers)

    def call(self, method: str, url: str, data: bytes | None = None,
             headers: dict | None = None, context: ssl.SSLContext | None = None) -> HttpAnswer:
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context or self.context) as reply:
                answer = _answer(reply.status, reply.headers, reply.read())
        except urllib.error.HTTPError as error:
            answer = _answer(error.code, error.headers, error.read())
        self._check(method, answer)
        return answer

    def _check(self, method: str, answer: HttpAnswer) -> None:
        """Every HTTP answer is a v3 body; its status is the error number (§7.2)."""
        assert answer.body is not None, f"{method}: status {answer.status}, body is not JSON: {answer.text[:300]!r}"
        action = "set" if method == "POST" else "get"
        self.validator.assert_valid_without_action(answer.body, action, f" (HTTP {method})")
        wire.check_timestamps(answer.body)
        if "error" in answer.body:
            wire.check_error_v3(answer.body["error"])
            assert answer.status == int(answer.body["error"]["number"]), (
                f"HTTP status {answer.status} is not the error number: {answer.body}")
        else:
            assert answer.status == 200, f"HTTP {answer.status} without an error: {answer.body}"


def _answer(status: int, headers, raw: bytes) -> HttpAnswer:
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    return HttpAnswer(status, dict(headers.items()) if headers else {}, body if isinstance(body, dict) else None, text)
