"""The VISS v3 client: one connection shared by every call of an SDK.

    client = await VissClient.connect("wss://car.local:6443", cafile="ca.pem")
    answer = await client.get("Vehicle.Speed")

Transports (chosen by the URL scheme):
* wss:// and ws:// -- a WebSocket with the sub-protocol VISSv3 (the `websockets` package).
  Requests carry a requestId (a counter) that correlates their answer; subscriptions
  deliver their events to a callback. After an unexpected close the client reconnects with
  exponential backoff and re-creates every subscription with its original path and filter;
  the Subscription object hides the new server id. Requests made while the connection is
  down wait for it (within their timeout); requests that were in flight when it dropped
  fail with VissConnectionError (their answer is lost and the caller knows best whether
  to repeat them).
* https:// and http:// -- GET (get) and POST (set) with urllib in a worker thread; no
  subscriptions.
* mqtts://broker:8883/<VID> and mqtt:// -- through an MQTT broker to a vehicle serving VISS
  over MQTT (mqtt.py; the package's `mqtt` extra, paho-mqtt): the WebSocket transport's
  logic over the broker, every call and subscriptions too.
* grpcs://host:5443 and grpc:// -- the VISS gRPC service (grpc_link.py; the package's `grpc`
  extra, grpcio): the WebSocket transport's logic over a gRPC channel, each request its call
  and each subscription a server stream, reconnected and re-created like a WebSocket's.

Errors: VissError is an error answer of the server (number, reason, description, action);
ClientError and its subclasses are failures on this side (timeout, connection, overload).
Cancelling the task that awaits a call drops its pending entry.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from .filter import Filter

__all__ = [
    "ClientClosed",
    "ClientError",
    "RequestTimeout",
    "Subscription",
    "VissClient",
    "VissConnectionError",
    "VissError",
]

log = logging.getLogger(__name__)

Response = dict[str, Any]
"""A VISS answer as received: {"action", "requestId", "data" | "metadata" | "error", "ts", ...}."""

AnswerHook = Callable[[Response], None]

SUBPROTOCOL = Subprotocol("VISSv3")
# The largest message accepted from the server: a metadata or history answer for a big
# branch can be far larger than the websockets default of 1 MiB.
MAX_MESSAGE_BYTES = 64 * 2**20

# The VISS reason of an HTTP status that carries a VISS error number (TRANSPORT §4.1).
HTTP_REASONS = {
    400: "bad_request",
    401: "invalid_token",
    403: "forbidden_request",
    404: "unavailable_data",
    408: "request_timeout",
    429: "too_many_requests",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

# Client event names for VissClient.on().
EVENTS = ("open", "close", "reconnecting", "reconnected", "error")


class VissError(Exception):
    """An error answer of the server: the VISS error object plus the action (and, when known,
    the path) it answered."""

    def __init__(
        self, number: str, reason: str, description: str, action: str = "", path: str = ""
    ) -> None:
        super().__init__(number, reason, description)
        self.number = number
        self.reason = reason
        self.description = description
        self.action = action
        self.path = path

    def __str__(self) -> str:
        # Built when shown, so that a path filled in later is part of the message.
        request = f"{self.action} {self.path}".strip() or "request"
        return f"{request}: {self.number} {self.reason}: {self.description}"

    @classmethod
    def from_wire(cls, error: object, action: str, path: str = "") -> VissError:
        """The error of an answer; tolerates a malformed error object rather than hiding it."""
        if not isinstance(error, dict):
            return cls("400", "bad_request", f"malformed error object: {error!r}", action, path)
        return cls(
            str(error.get("number", "")),
            str(error.get("reason", "")),
            str(error.get("description", "")),
            action,
            path,
        )


class ClientError(Exception):
    """A failure on the client side (not an answer of the server)."""


class RequestTimeout(ClientError, TimeoutError):
    """No answer arrived within the request's timeout."""


class VissConnectionError(ClientError, ConnectionError):
    """The server could not be reached, or the connection dropped before the answer came."""


class ClientClosed(VissConnectionError):
    """The client was closed (close(), or reconnecting gave up): no more requests."""


@dataclass(frozen=True)
class _Options:
    timeout: float
    max_pending: int
    reconnect: bool
    initial_delay: float
    max_delay: float
    max_attempts: int | None


class _Listeners:
    """Callbacks registered with VissClient.on(); a failing listener is logged, not raised."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Callable[..., None]]] = {name: [] for name in EVENTS}

    def add(self, event: str, listener: Callable[..., None]) -> Callable[[], None]:
        if event not in self._listeners:
            raise ValueError(f"unknown event {event!r}; one of {list(EVENTS)}")
        self._listeners[event].append(listener)
        return lambda: self._remove(event, listener)

    def _remove(self, event: str, listener: Callable[..., None]) -> None:
        if listener in self._listeners[event]:
            self._listeners[event].remove(listener)

    def emit(self, event: str, *args: object) -> None:
        for listener in list(self._listeners[event]):
            try:
                listener(*args)
            except Exception:
                log.exception("VissClient %r listener failed", event)


def _describe(message: Response) -> str:
    """A short name of a request for error messages: "get Vehicle.Speed"."""
    target = message.get("path") or message.get("subscriptionId") or ""
    return f"{message.get('action')} {target}".strip()


async def _bounded(
    message: Response, timeout: float, call: Callable[[], Awaitable[Response]]
) -> Response:
    """Awaits `call()` for at most `timeout` seconds, turning the expiry into RequestTimeout."""
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            return await call()
    except TimeoutError:
        if scope.expired():
            raise RequestTimeout(f"{_describe(message)}: no answer within {timeout} s") from None
        raise


# --------------------------------------------------------------------------------------------
# HTTPS


class _HttpTransport:
    """get = GET /Path/To/Node?filter=..., set = POST /Path/To/Node {"value": ...}."""

    def __init__(self, url: str, context: ssl.SSLContext | None, options: _Options) -> None:
        self._base = url.rstrip("/")
        self._context = context
        self._options = options
        self._active = 0
        self.listeners = _Listeners()

    async def open(self) -> None:
        """Nothing to open: every request is its own HTTP exchange."""

    async def close(self) -> None:
        """Nothing to close; urllib connections are not kept alive."""

    async def request(
        self, message: Response, timeout: float, on_answer: AnswerHook | None = None
    ) -> Response:
        action = message["action"]
        if action not in ("get", "set"):
            raise ClientError(f"{action} is not available over HTTP(S); connect with wss://")
        if self._active >= self._options.max_pending:
            raise ClientError(f"more than {self._options.max_pending} pending requests")
        request = self._http_request(message)
        self._active += 1
        try:
            # The thread cannot be interrupted; urllib's own timeout bounds it.
            return await _bounded(
                message, timeout, lambda: asyncio.to_thread(self._exchange, request, timeout)
            )
        finally:
            self._active -= 1

    def _http_request(self, message: Response) -> urllib.request.Request:
        # Slashes are the conventional delimiter in URLs; the server accepts both.
        url = f"{self._base}/{urllib.parse.quote(message['path'].replace('.', '/'), safe='/')}"
        if "filter" in message:
            text = json.dumps(message["filter"], separators=(",", ":"))
            url += "?filter=" + urllib.parse.quote(text, safe="")
        headers = {"Accept": "application/json"}
        if "authorization" in message:
            headers["Authorization"] = f"Bearer {message['authorization']}"
        if message["action"] == "get":
            return urllib.request.Request(url, headers=headers, method="GET")
        headers["Content-Type"] = "application/json"
        body = json.dumps({"value": message["value"]}).encode()
        return urllib.request.Request(url, data=body, headers=headers, method="POST")

    def _exchange(self, request: urllib.request.Request, timeout: float) -> Response:
        """Runs in a worker thread: one HTTP exchange, answered by the same JSON bodies as
        the WebSocket (an error body comes with the error number as HTTP status)."""
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self._context) as reply:
                status, raw = reply.status, reply.read()
        except urllib.error.HTTPError as error:
            with error:
                status, raw = error.code, error.read()
        except urllib.error.URLError as error:
            raise VissConnectionError(f"{request.full_url}: {error.reason}") from error
        except TimeoutError:
            raise RequestTimeout(f"{request.full_url}: no answer within {timeout} s") from None
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict) or (status != 200 and "error" not in body):
            raise ClientError(
                f"{request.full_url}: HTTP {status} without a VISS answer: {raw[:200]!r}"
            )
        return body


# --------------------------------------------------------------------------------------------
# WebSocket


@dataclass
class _Pending:
    future: asyncio.Future[Response]
    # Runs in the reader as soon as the answer arrives, before any later message is read:
    # a subscribe answer must map its subscription id before that subscription's first event.
    on_answer: AnswerHook | None


class _Socket(Protocol):
    """What the WebSocket transport reads and writes: a websockets connection, or the broker
    connection of mqtt.py."""

    async def send(self, message: str) -> None: ...

    async def close(self) -> None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...


class _WebSocketTransport:
    """One WebSocket, reconnected after an unexpected close; correlates answers by requestId."""

    def __init__(self, url: str, context: ssl.SSLContext | None, options: _Options) -> None:
        self._url = url
        self._context = context
        self._options = options
        self.listeners = _Listeners()
        # Hooks set by VissClient: an event arrived, the connection dropped, a new connection
        # is up, the transport gave up for good.
        self.on_event: Callable[[Response], None] = lambda message: None
        self.on_lost: Callable[[], None] = lambda: None
        self.on_reconnected: Callable[[], None] = lambda: None
        self.on_closed: Callable[[str], None] = lambda reason: None
        self._ws: _Socket | None = None
        self._closed_reason: str | None = None
        self._changed = asyncio.Event()
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._active = 0
        self._runner: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # -- connection lifecycle ---------------------------------------------------------------

    async def open(self) -> None:
        """The first connection; failing it raises at once (a wrong URL should not retry)."""
        try:
            self._ws = await self._dial()
        except Exception as error:
            raise VissConnectionError(f"cannot connect to {self._url}: {error}") from error
        self._runner = asyncio.create_task(self._run(), name=f"viss-client {self._url}")
        self._runner.add_done_callback(self._runner_done)

    def _runner_done(self, runner: asyncio.Task[None]) -> None:
        # A bug in the reader must not leave callers waiting forever for a connection.
        if not runner.cancelled() and runner.exception() is not None:
            log.error("the VISS client reader failed", exc_info=runner.exception())
            if self._closed_reason is None:
                self._give_up(f"internal error: {runner.exception()!r}")

    async def _dial(self) -> _Socket:
        return await ws_connect(
            self._url,
            ssl=self._context,
            subprotocols=[SUBPROTOCOL],
            open_timeout=self._options.timeout,
            max_size=MAX_MESSAGE_BYTES,
        )

    async def close(self) -> None:
        if self._closed_reason is not None:
            return
        ws = self._ws
        self._shut_down("the client was closed")
        self.listeners.emit("close", "the client was closed")
        if self._runner is not None:
            self._runner.cancel()
        if ws is not None:
            await ws.close()
        if self._runner is not None:
            await asyncio.wait([self._runner])

    def _shut_down(self, reason: str) -> None:
        """Final state: waiting and pending requests fail with ClientClosed(reason)."""
        self._closed_reason = reason
        self._ws = None
        self._fail_pending(lambda: ClientClosed(reason))
        self._notify()
        self.on_closed(reason)

    def _give_up(self, reason: str) -> None:
        self._shut_down(reason)
        self.listeners.emit("error", ClientClosed(reason))

    def _notify(self) -> None:
        """Wakes everything waiting in _wait_connected() to look at the new state."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _run(self) -> None:
        """Reads the connection; after an unexpected close, reconnects (or gives up)."""
        while self._ws is not None:
            await self._read(self._ws)
            if self._closed_reason is not None:
                return
            self._lost()
            if not self._options.reconnect:
                self._give_up("the connection was lost (reconnecting is disabled)")
                return
            ws = await self._reconnect()
            if ws is None:
                attempts = self._options.max_attempts
                self._give_up(f"the connection was lost; gave up after {attempts} attempts")
                return
            self._ws = ws
            self._notify()
            self.listeners.emit("open")
            self.listeners.emit("reconnected")
            self.on_reconnected()

    def _lost(self) -> None:
        self._ws = None
        self._fail_pending(lambda: VissConnectionError("the connection dropped before the answer"))
        self._notify()
        self.on_lost()
        self.listeners.emit("close", "the connection was lost")

    async def _reconnect(self) -> _Socket | None:
        """Dials until it works, waiting initial_delay, doubling up to max_delay, jittered so
        that many clients of a restarted server do not all come back at the same instant."""
        delay = self._options.initial_delay
        attempt = 0
        while self._options.max_attempts is None or attempt < self._options.max_attempts:
            attempt += 1
            pause = delay * random.uniform(0.5, 1.0)
            self.listeners.emit("reconnecting", attempt, pause)
            await asyncio.sleep(pause)
            try:
                return await self._dial()
            except Exception as error:
                log.debug("reconnecting to %s, attempt %d: %s", self._url, attempt, error)
                self.listeners.emit("error", error)
            delay = min(delay * 2, self._options.max_delay)
        return None

    async def _read(self, ws: _Socket) -> None:
        try:
            async for frame in ws:
                self._dispatch(frame)
        except ConnectionClosed:
            pass

    # -- incoming messages --------------------------------------------------------------------

    def _dispatch(self, frame: str | bytes) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            log.warning("ignoring a frame that is not JSON: %.200r", frame)
            return
        if not isinstance(message, dict):
            log.warning("ignoring a frame that is not a JSON object: %.200r", frame)
            return
        if message.get("action") == "subscription":
            self._guarded(self.on_event, message)
            return
        request_id = message.get("requestId")
        pending = self._pending.pop(request_id, None) if isinstance(request_id, str) else None
        if pending is None or pending.future.done():
            self._unmatched(message)
            return
        if pending.on_answer is not None:
            self._guarded(pending.on_answer, message)
        pending.future.set_result(message)

    def _guarded(self, hook: Callable[[Response], None], message: Response) -> None:
        # An exception here would end the reader and with it the connection.
        try:
            hook(message)
        except Exception:
            log.exception("handling %.200r failed", message)

    def _unmatched(self, message: Response) -> None:
        """An answer nobody waits for any more (timed out or cancelled). A subscribe that
        succeeded that way would feed events to nobody forever: cancel it."""
        subscription_id = message.get("subscriptionId")
        if message.get("action") == "subscribe" and isinstance(subscription_id, str):
            self.spawn(self.send_unsubscribe(subscription_id))

    async def send_unsubscribe(self, subscription_id: str) -> None:
        """Fire and forget: nobody waits for the answer (it arrives unmatched)."""
        ws = self._ws
        if ws is None:
            return  # the server dropped the subscription with the connection
        message = {"action": "unsubscribe", "subscriptionId": subscription_id,
                   "requestId": str(next(self._ids))}
        try:
            await ws.send(json.dumps(message))
        except (ConnectionClosed, ClientError):
            pass  # over MQTT: the broker is away just now

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Runs a background coroutine, keeping a reference so that it is not collected."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _fail_pending(self, error: Callable[[], Exception]) -> None:
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            if not entry.future.done():
                entry.future.set_exception(error())

    # -- requests ------------------------------------------------------------------------------

    async def request(
        self, message: Response, timeout: float, on_answer: AnswerHook | None = None
    ) -> Response:
        if self._closed_reason is not None:
            raise ClientClosed(self._closed_reason)
        if self._active >= self._options.max_pending:
            raise ClientError(f"more than {self._options.max_pending} pending requests")
        self._active += 1
        try:
            return await _bounded(message, timeout, lambda: self._exchange(message, on_answer))
        finally:
            self._active -= 1

    async def _exchange(self, message: Response, on_answer: AnswerHook | None) -> Response:
        request_id = str(next(self._ids))
        text = json.dumps({**message, "requestId": request_id})
        stale: _Socket | None = None
        while True:
            ws = await self._wait_connected(stale)
            future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = _Pending(future, on_answer)
            try:
                await ws.send(text)
            except ConnectionClosed:
                # The connection died under it, so no answer can come back on it: send it
                # again on the next connection (get/set/subscribe are safe to repeat).
                self._pending.pop(request_id, None)
                stale = ws
                continue
            except BaseException:
                self._pending.pop(request_id, None)
                raise
            try:
                return await future
            finally:
                # A timeout or cancellation drops the entry; a late answer is then unmatched.
                self._pending.pop(request_id, None)

    async def _wait_connected(self, stale: _Socket | None) -> _Socket:
        """The current connection once there is one (other than `stale`, known to be dead)."""
        while True:
            if self._closed_reason is not None:
                raise ClientClosed(self._closed_reason)
            ws = self._ws
            if ws is not None and ws is not stale:
                return ws
            await self._changed.wait()


class _GrpcTransport(_WebSocketTransport):
    """The WebSocket transport's logic over a gRPC channel (grpc_link.py); a broken stream
    ends the channel, so it is dialled again and the subscriptions re-created."""

    def __init__(self, url: str, cafile: str | None, options: _Options) -> None:
        super().__init__(url, None, options)
        self._cafile = cafile

    async def _dial(self) -> _Socket:
        from .grpc_link import GrpcConnection  # grpcio: the optional `grpc` extra

        return await GrpcConnection.open(self._url, self._cafile, self._options.timeout)


class _MqttTransport(_WebSocketTransport):
    """The WebSocket transport's logic over an MQTT broker (mqtt.py): paho reconnects by
    itself, so the connection it dials stays up until the client closes it."""

    def __init__(self, url: str, context: ssl.SSLContext | None, options: _Options) -> None:
        # Taken out first: messages name the URL, never the broker's password.
        clean, self._credentials = _split_credentials(url)
        super().__init__(clean, context, options)

    async def _dial(self) -> _Socket:
        from .mqtt import MqttConnection  # paho-mqtt: the optional `mqtt` extra

        return await MqttConnection.open(self._url, self._context, self._options.timeout,
                                         self._credentials)


def _split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without its user information, and the broker user and password it named
    (`mqtts://user:password@broker/<VID>`; percent-decoded; no password is an empty one)."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=host))
    return clean, (urllib.parse.unquote(user), urllib.parse.unquote(password))


_Transport = _HttpTransport | _WebSocketTransport


# --------------------------------------------------------------------------------------------
# The public client


class Subscription:
    """A live subscription; its server id changes when it is re-created after a reconnect."""

    def __init__(
        self,
        client: VissClient,
        path: str,
        filter: Filter | None,
        on_event: Callable[[Any], None],
        on_end: Callable[[VissError], None] | None,
    ) -> None:
        self.path = path
        self.filter = filter
        self._client = client
        self._on_event = on_event
        self._on_end = on_end
        self._id = ""
        self._active = True

    @property
    def id(self) -> str:
        """The server's current subscriptionId ("" before the first answer)."""
        return self._id

    @property
    def active(self) -> bool:
        """False once unsubscribed, ended by the server, or the client closed."""
        return self._active

    async def unsubscribe(self) -> None:
        """Stops the subscription; no event is delivered after this is called. Idempotent."""
        await self._client._unsubscribe(self)

    def _deliver(self, data: Any) -> None:
        try:
            self._on_event(data)
        except Exception:
            log.exception("subscription %s on %s: on_event failed", self._id, self.path)

    def _end(self, error: VissError) -> None:
        self._active = False
        if self._on_end is None:
            return
        try:
            self._on_end(error)
        except Exception:
            log.exception("subscription %s on %s: on_end failed", self._id, self.path)

    def __repr__(self) -> str:
        return f"<Subscription {self.path} id={self._id!r} active={self._active}>"


class VissClient:
    """A VISS v3 client; create it with `await VissClient.connect(url, ...)`."""

    transport: str
    """The URL scheme in use: "wss", "ws", "https", "http", "mqtts", "mqtt", "grpcs" or "grpc"."""

    def __init__(
        self, transport: str, impl: _Transport, timeout: float, authorization: str | None
    ) -> None:
        self.transport = transport
        self._impl = impl
        self._timeout = timeout
        self._authorization = authorization
        # Live subscriptions in creation order (a dict as an ordered set), and the same by
        # their id on the current connection.
        self._subscriptions: dict[Subscription, None] = {}
        self._by_id: dict[str, Subscription] = {}
        if isinstance(impl, _WebSocketTransport):
            impl.on_event = self._on_event
            impl.on_lost = self._by_id.clear
            impl.on_reconnected = lambda: impl.spawn(self._resubscribe_all())
            impl.on_closed = self._on_closed

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        cafile: str | None = None,
        timeout: float = 10.0,
        max_pending: int = 1024,
        reconnect: bool = True,
        initial_delay: float = 0.1,
        max_delay: float = 5.0,
        max_attempts: int | None = None,
        authorization: str | None = None,
    ) -> VissClient:
        """Connects to `url` (wss://host:port, https://host:port, grpcs://host:port,
        mqtts://broker:port/<VID>, or ws:// / http:// / grpc:// / mqtt:// for a development
        server or broker without TLS). `cafile` is a PEM file of the CA (or self-signed
        certificate) to trust; without it the system's CAs are used. The first connection
        must succeed; reconnecting (initial_delay doubling up to max_delay, max_attempts
        tries, None = forever) only applies to a connection that was up."""
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in ("wss", "ws", "https", "http", "mqtts", "mqtt", "grpcs", "grpc"):
            raise ValueError(f"unsupported URL scheme {scheme!r}: "
                             "use wss, ws, https, http, mqtts, mqtt, grpcs or grpc")
        if timeout <= 0 or max_pending < 1 or initial_delay <= 0 or max_delay < initial_delay:
            raise ValueError("timeout, max_pending and the delays must be positive, "
                             "and max_delay >= initial_delay")
        if max_attempts is not None and max_attempts < 0:
            raise ValueError("max_attempts must be >= 0 (or None: forever)")
        options = _Options(timeout, max_pending, reconnect, initial_delay, max_delay, max_attempts)
        secure = scheme in ("wss", "https", "mqtts")
        context = ssl.create_default_context(cafile=cafile) if secure else None
        impl: _Transport
        if scheme in ("grpcs", "grpc"):
            impl = _GrpcTransport(url, cafile, options)
        elif scheme in ("mqtts", "mqtt"):
            impl = _MqttTransport(url, context, options)
        elif scheme in ("wss", "ws"):
            impl = _WebSocketTransport(url, context, options)
        else:
            impl = _HttpTransport(url, context, options)
        await impl.open()
        return cls(scheme, impl, timeout, authorization)

    async def close(self) -> None:
        """Closes the connection and stops reconnecting; pending requests fail with
        ClientClosed. Subscriptions end without calling their on_end (over MQTT they are
        unsubscribed first: the vehicle keeps them until told)."""
        if isinstance(self._impl, _MqttTransport):
            for subscription in list(self._subscriptions):
                if self._by_id.get(subscription.id) is subscription:
                    try:
                        async with asyncio.timeout(self._timeout):
                            await self._impl.send_unsubscribe(subscription.id)
                    except (TimeoutError, ClientError):
                        pass
        for subscription in self._subscriptions:
            subscription._active = False
        self._subscriptions.clear()
        self._by_id.clear()
        await self._impl.close()

    async def __aenter__(self) -> VissClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def streams(self) -> bool:
        """Whether this transport carries subscriptions (HTTP does not)."""
        return isinstance(self._impl, _WebSocketTransport)

    def authorize(self, token: str | None) -> None:
        """The access token (or token handle) sent with later requests; None sends none."""
        self._authorization = token

    def on(self, event: str, listener: Callable[..., None]) -> Callable[[], None]:
        """Registers a listener for "open", "close" (reason), "reconnecting" (attempt, delay),
        "reconnected" or "error" (exception); returns a function that removes it."""
        return self._impl.listeners.add(event, listener)

    # -- requests ------------------------------------------------------------------------------

    async def get(
        self, path: str, filter: Filter | None = None, *, timeout: float | None = None
    ) -> Response:
        """The whole answer of a get: its `data` (or, with a metadata filter, `metadata`)."""
        message: Response = {"action": "get", "path": path}
        if filter is not None:
            message["filter"] = filter
        return await self._call(message, timeout)

    async def set(self, path: str, wire_value: object, *, timeout: float | None = None) -> None:
        """Sets an actuator; `wire_value` is already in wire form (see codec.py)."""
        await self._call({"action": "set", "path": path, "value": wire_value}, timeout)

    async def _call(
        self, message: Response, timeout: float | None, on_answer: AnswerHook | None = None
    ) -> Response:
        # The schema has no authorization member on unsubscribe.
        if self._authorization is not None and message["action"] != "unsubscribe":
            message = {**message, "authorization": self._authorization}
        answer = await self._impl.request(
            message, self._timeout if timeout is None else timeout, on_answer
        )
        if "error" in answer:
            raise VissError.from_wire(answer["error"], message["action"], message.get("path", ""))
        return answer

    # -- subscriptions -------------------------------------------------------------------------

    async def subscribe(
        self,
        path: str,
        filter: Filter | None,
        on_event: Callable[[Any], None],
        on_end: Callable[[VissError], None] | None = None,
        *,
        timeout: float | None = None,
    ) -> Subscription:
        """Subscribes (WebSocket only). `on_event` gets each event's `data` member (an object,
        or an array for several signals), in order; `on_end` gets the VissError that ended the
        subscription (an error event, a failed re-subscribe, or a connection that is gone
        for good) -- not called after unsubscribe() or close()."""
        if not self.streams:
            raise ClientError(
                f"subscribe is not available over {self.transport}: connect with wss://"
            )
        subscription = Subscription(self, path, filter, on_event, on_end)
        try:
            await self._call(
                self._subscribe_message(subscription), timeout,
                lambda answer: self._attach(subscription, answer),
            )
        except BaseException:
            # Also on cancellation right after the answer was attached.
            self._discard(subscription)
            raise
        return subscription

    @staticmethod
    def _subscribe_message(subscription: Subscription) -> Response:
        message: Response = {"action": "subscribe", "path": subscription.path}
        if subscription.filter is not None:
            message["filter"] = subscription.filter
        return message

    def _attach(self, subscription: Subscription, answer: Response) -> None:
        """Runs in the reader when a subscribe answer arrives, so that the next message, which
        may be the first event, already finds its subscription."""
        subscription_id = answer.get("subscriptionId")
        if "error" in answer or not isinstance(subscription_id, str):
            return
        if not subscription.active:
            # Unsubscribed while (re-)subscribing: cancel the new server subscription.
            self._send_unsubscribe(subscription_id)
            return
        subscription._id = subscription_id
        self._by_id[subscription_id] = subscription
        self._subscriptions[subscription] = None

    def _on_event(self, message: Response) -> None:
        subscription = self._by_id.get(str(message.get("subscriptionId")))
        if subscription is None:
            return  # unsubscribed, or an event of a previous connection
        if "error" in message:
            self._forget(subscription)
            error = VissError.from_wire(message["error"], "subscription", subscription.path)
            subscription._end(error)
        elif "data" in message:
            subscription._deliver(message["data"])

    def _forget(self, subscription: Subscription) -> None:
        """Removes a subscription from the client's books (not from the server)."""
        subscription._active = False
        self._subscriptions.pop(subscription, None)
        if self._by_id.get(subscription.id) is subscription:
            del self._by_id[subscription.id]

    def _discard(self, subscription: Subscription) -> None:
        """Forgets a subscription and cancels it on the server without waiting."""
        attached = self._by_id.get(subscription.id) is subscription
        self._forget(subscription)
        if attached:
            self._send_unsubscribe(subscription.id)

    def _send_unsubscribe(self, subscription_id: str) -> None:
        if isinstance(self._impl, _WebSocketTransport):
            self._impl.spawn(self._impl.send_unsubscribe(subscription_id))

    async def _unsubscribe(self, subscription: Subscription, timeout: float | None = None) -> None:
        if not subscription.active:
            return
        attached = self._by_id.get(subscription.id) is subscription
        # Forget it first: events that arrive before the answer are no longer delivered.
        self._forget(subscription)
        if not attached:
            return  # its connection is gone, and with it the server's subscription
        try:
            await self._call({"action": "unsubscribe", "subscriptionId": subscription.id}, timeout)
        except VissConnectionError:
            pass  # same: the server drops subscriptions with their connection

    async def unsubscribe_all(self) -> None:
        """Unsubscribes every live subscription; raises the first failure after trying all."""
        results = await asyncio.gather(
            *(subscription.unsubscribe() for subscription in list(self._subscriptions)),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _resubscribe_all(self) -> None:
        """After a reconnect: re-creates every subscription with its original path+filter."""
        await asyncio.gather(*(self._resubscribe(s) for s in list(self._subscriptions)))

    async def _resubscribe(self, subscription: Subscription) -> None:
        try:
            await self._call(
                self._subscribe_message(subscription), None,
                lambda answer: self._attach(subscription, answer),
            )
        except VissError as error:
            self._terminate(subscription, error)
        except RequestTimeout as error:
            timed_out = VissError("408", "request_timeout", str(error), "subscribe")
            self._terminate(subscription, timed_out)
        except VissConnectionError:
            pass  # lost again: the next reconnect tries again (or the client is closing)
        except ClientError as error:  # too many pending requests
            refused = VissError("503", "service_unavailable", str(error), "subscribe")
            self._terminate(subscription, refused)

    def _terminate(self, subscription: Subscription, error: VissError) -> None:
        """The subscription is over for `error`: forget it and tell its on_end."""
        error.path = error.path or subscription.path
        self._forget(subscription)
        subscription._end(error)

    def _on_closed(self, reason: str) -> None:
        """The transport gave up (or was closed): every live subscription has ended."""
        ended = list(self._subscriptions)
        self._subscriptions.clear()
        self._by_id.clear()
        for subscription in ended:
            error = VissError("503", "service_unavailable", reason, "subscription")
            self._terminate(subscription, error)
