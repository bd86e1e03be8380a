"""VISS over gRPC (TRANSPORT §5.4) for the client: the `VISS` service of the payload encoding's
schema (`viss_v3_0.proto`, shipped in this package) at `grpcs://host:5443`, or `grpc://` for a
server run without TLS. Needs grpcio, grpcio-tools and protobuf (the package's `grpc` extra).

    client = await VissClient.connect("grpcs://car.local:5443", cafile="ca.pem")

The message classes come from the .proto at run time (grpc.protos_and_services), so no stubs
are generated. Each JSON request the WebSocket transport writes is translated to its protobuf
message, sent as its call, and the answer translated back to the JSON the transport reads,
following the payload encoding's rules (docs/protobuf.md of vssgen): values are strings, an
array or struct value travels as its JSON text, `data`, `dp` and `filter` hold one object or
several, metadata is its JSON text, and a range filter's boundaries are always ANDed (an `OR`
is answered with error 400 before anything is sent). Gets, sets and unsubscribes are unary
calls that wait for the channel to be ready (a server restart between calls is invisible); a
subscription is a server stream whose first message answers the subscribe. A stream broken
by a lost connection ends this connection, so the transport reconnects and subscribes again.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import urllib.parse
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]
from websockets.exceptions import ConnectionClosed

from .client import HTTP_REASONS, MAX_MESSAGE_BYTES

__all__ = ["GrpcConnection"]

log = logging.getLogger(__name__)

# Answers and events waiting for the reader; beyond, events are dropped and logged (the
# reader only parses and routes, so this fills only if the event loop is starved).
INCOMING_BOUND = 4096

DEFAULT_PORT = 5443

# How long a call may wait for its answer (a subscribe: its first message) before it is
# cancelled. Only a bound against leaked calls: the caller's own timeout, enforced by the
# transport, is what reports a timeout.
CALL_BOUND_S = 60.0

# HTTP/2 pings find a connection that vanished without a FIN (a dropped radio link), as the
# WebSocket transport's pings do; without them a silent subscription would wait forever.
KEEPALIVE = [("grpc.keepalive_time_ms", 20_000), ("grpc.keepalive_timeout_ms", 10_000),
             ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0)]

# The filter variants of VISS v3 (the proto's FilterVariant, lower-case).
_VARIANTS = ("paths", "timebased", "range", "change", "curvelog", "history", "metadata")

# The HTTP status (and so the VISS error number and reason) of every other failed call;
# any code not here is 503.
_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
}


# Channels closing in the background (a reference keeps the task from being collected).
_closing: set[asyncio.Task[None]] = set()


@functools.cache
def _schema() -> tuple[Any, Any]:
    """The message classes and service stubs of viss_v3_0.proto (compiled once, in memory)."""
    return grpc.protos_and_services(f"{__package__}/viss_v3_0.proto")  # type: ignore[no-any-return]


class GrpcConnection:
    """A gRPC channel shaped like the WebSocket the transport reads and writes: `send` makes
    the call of a JSON request, iterating yields the JSON answers and events."""

    def __init__(self, channel: grpc.aio.Channel, incoming: asyncio.Queue[str | None],
                 bound: float) -> None:
        protos, services = _schema()
        self._protos = protos
        self._stub = services.VISSStub(channel)
        self._channel = channel
        self._incoming = incoming
        self._bound = bound  # CALL_BOUND_S: a call waiting for a channel is not kept forever
        self._calls: set[asyncio.Task[None]] = set()
        # Subscriptions this client asked to end: their streams end, and that is no loss.
        self._unsubscribed: set[str] = set()
        self._closed = False

    @classmethod
    async def open(cls, url: str, cafile: str | None, timeout: float) -> GrpcConnection:
        """Connects to `url` (`grpcs://host[:port]`, `grpc://` without TLS); fails when the
        channel is not ready within `timeout` seconds."""
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host  # an IPv6 literal
        target = f"{host}:{parts.port or DEFAULT_PORT}"
        options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                   ("grpc.max_send_message_length", MAX_MESSAGE_BYTES), *KEEPALIVE]
        if parts.scheme == "grpcs":
            roots = Path(cafile).read_bytes() if cafile else None
            credentials = grpc.ssl_channel_credentials(root_certificates=roots)
            channel = grpc.aio.secure_channel(target, credentials, options=options)
        else:
            channel = grpc.aio.insecure_channel(target, options=options)
        try:
            await asyncio.wait_for(channel.channel_ready(), timeout)
        except BaseException as error:
            await channel.close()
            if isinstance(error, TimeoutError):
                raise ConnectionError(f"{url}: no gRPC connection within {timeout} s "
                                      "(the address, or a certificate not trusted)") from None
            raise
        return cls(channel, asyncio.Queue(INCOMING_BOUND), max(timeout, CALL_BOUND_S))

    async def send(self, message: str) -> None:
        if self._closed:
            raise ConnectionClosed(None, None)
        request = json.loads(message)
        try:
            call = self._call(request)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            # What the proto cannot carry is refused here, as the server would refuse it.
            self._answer(_failure(request, "400", "bad_request",
                                  f"not expressible in the VISS protobuf encoding: {error}"))
            return
        task = asyncio.create_task(self._guard(request, call))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    def _call(self, request: dict[str, Any]) -> Callable[[], Any]:
        """The call that sends `request` and reads its answers, once built."""
        protos, stub = self._protos, self._stub
        action = request.get("action")
        if action == "get":
            message = protos.GetRequestMessage(Path=request["path"], **_common(request))
            if "filter" in request:
                message.Filter.CopyFrom(_filter(protos, request["filter"]))
            return lambda: self._unary(stub.GetRequest, message, "get")
        if action == "set":
            message = protos.SetRequestMessage(
                Path=request["path"], Value=_value_text(request["value"]),
                **_optional(request, ("authorization", "Authorization"),
                            ("requestId", "RequestId")))
            return lambda: self._unary(stub.SetRequest, message, "set")
        if action == "unsubscribe":
            self._unsubscribed.add(_text(request["subscriptionId"]))
            message = protos.UnsubscribeRequestMessage(
                SubscriptionId=request["subscriptionId"],
                **_optional(request, ("requestId", "RequestId")))
            return lambda: self._unary(stub.UnsubscribeRequest, message, "unsubscribe")
        if action == "subscribe":
            message = protos.SubscribeRequestMessage(Path=request["path"], **_common(request))
            if "filter" in request:
                message.Filter.CopyFrom(_filter(protos, request["filter"]))
            return lambda: self._stream(stub.SubscribeRequest(message, wait_for_ready=True))
        raise ValueError(f"{action!r} is not a request action")

    async def _unary(self, method: Any, message: Any, action: str) -> None:
        answer = _response(self._protos, action,
                           await method(message, wait_for_ready=True, timeout=self._bound))
        if action == "unsubscribe" and "error" in answer:
            self._unsubscribed.discard(message.SubscriptionId)  # it lives on, or never was
        self._answer(answer)

    async def _stream(self, call: Any) -> None:
        """Forwards the subscribe answer and the events. A live subscription's stream that
        the server ends, or that fails (it shuts down; a proxy drops it; the connection
        breaks), is a lost connection, so that the transport dials again and re-creates the
        subscription."""
        messages = call.__aiter__()
        try:
            async with asyncio.timeout(self._bound):
                first = await anext(messages, None)
        except TimeoutError:
            call.cancel()  # nobody waits for it any more
            return
        live: str | None = None
        try:
            message = first
            while message is not None:
                answer = _stream_message(self._protos, message)
                self._answer(answer)
                if "error" in answer:
                    live = None  # refused, or ended by an error event (an expired token)
                elif answer["action"] == "subscribe":
                    live = answer.get("subscriptionId")
                message = await anext(messages, None)
        except grpc.aio.AioRpcError as error:
            if live is None:
                raise  # the subscribe itself failed: _guard answers it
            log.debug("the stream of subscription %s failed: %s", live, error.details())
        if live is not None and live not in self._unsubscribed and not self._closed:
            log.debug("the server ended the stream of subscription %s", live)
            self._lose()
            return
        self._unsubscribed.discard(live or "")

    async def _guard(self, request: dict[str, Any], call: Callable[[], Any]) -> None:
        """Runs a call. UNAVAILABLE (the connection broke under it) ends this connection; a
        call past CALL_BOUND_S is left to the caller's own timeout; any other failure answers
        the request with the VISS error of its status (a local cancel raises CancelledError,
        so a CANCELLED status came from the server or a proxy)."""
        try:
            await call()
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if self._closed or code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return
            if code == grpc.StatusCode.UNAVAILABLE:
                log.debug("gRPC connection lost: %s", error.details())
                self._lose()
                return
            status = _STATUS.get(code, 503)
            self._answer(_failure(request, str(status), HTTP_REASONS[status],
                                  f"gRPC {code.name}: {error.details()}"))

    def _answer(self, answer: dict[str, Any]) -> None:
        try:
            self._incoming.put_nowait(json.dumps(answer))
        except asyncio.QueueFull:
            log.warning("dropped a gRPC answer: %d wait to be read", self._incoming.qsize())

    async def close(self) -> None:
        if self._closed:
            return
        self._shut()
        await self._channel.close()

    def _lose(self) -> None:
        """Ends this connection from one of its calls: the reader sees the end and dials
        again; the channel closes in the background."""
        self._shut()
        task = asyncio.create_task(self._channel.close())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    def _shut(self) -> None:
        """No more calls; the reader sees the end (and, unless the client closes, reconnects)."""
        self._closed = True
        # Cancelling the calls ends every subscription stream, and so its subscription.
        current = asyncio.current_task()
        for task in list(self._calls):
            if task is not current:
                task.cancel()
        if self._incoming.full():
            self._incoming.get_nowait()  # the end must reach the reader
        self._incoming.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[str]:
        while (answer := await self._incoming.get()) is not None:
            yield answer


# -- JSON -> protobuf (requests) ------------------------------------------------------------


def _optional(request: dict[str, Any], *names: tuple[str, str]) -> dict[str, str]:
    """The optional string fields the request has, under their proto names."""
    return {field: _text(request[key]) for key, field in names if key in request}


def _common(request: dict[str, Any]) -> dict[str, str]:
    return _optional(request, ("authorization", "Authorization"), ("dc", "DataCompression"),
                     ("requestId", "RequestId"))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _value_text(value: Any) -> str:
    """A VISS value as the proto's string: a string as itself, an array or struct as its JSON
    text; numbers and booleans are not VISS v3 values."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    raise TypeError(f"the value {value!r} is not a VISS v3 value (a string, array or object)")


def _one_or_many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _filter(protos: Any, value: Any) -> Any:
    expressions = protos.FilterExpressions()
    for item in _one_or_many(value):
        expressions.FilterExp.append(_expression(protos, item))
    return expressions


def _expression(protos: Any, item: dict[str, Any]) -> Any:
    variant = _text(item["variant"])
    if variant not in _VARIANTS:
        raise ValueError(f"{variant!r} is not a VISS v3 filter variant")
    parameter = item.get("parameter")
    value: dict[str, Any] = {}
    if parameter is not None:
        if variant == "paths":
            value["ValuePaths"] = {"RelativePath": [_text(p) for p in _one_or_many(parameter)]}
        elif variant == "timebased":
            value["ValueTimebased"] = {"Period": _text(parameter["period"])}
        elif variant == "range":
            value["ValueRange"] = [_boundary(boundary) for boundary in _one_or_many(parameter)]
        elif variant == "change":
            value["ValueChange"] = {"LogicOperator": _text(parameter["logic-op"]),
                                    "Diff": _text(parameter["diff"])}
        elif variant == "curvelog":
            value["ValueCurvelog"] = {"MaxErr": _text(parameter["maxerr"]),
                                      "BufSize": _text(parameter["bufsize"])}
        elif variant == "history":
            value["ValueHistory"] = {"TimePeriod": _text(parameter)}
        elif variant == "metadata":
            value["ValueMetadata"] = {"Tree": _text(parameter)}
    expression = protos.FilterExpressions.FilterExpression
    return expression(Variant=variant.upper(), Value=value)


def _boundary(boundary: dict[str, Any]) -> dict[str, str]:
    if boundary.get("combination-op", "AND") != "AND":
        raise ValueError("a range's `combination-op` OR: the VISS v3.0 protobuf encoding "
                         "always ANDs two boundaries")
    return {"LogicOperator": _text(boundary["logic-op"]), "Boundary": _text(boundary["boundary"])}


# -- protobuf -> JSON (answers and events) --------------------------------------------------


def _failure(request: dict[str, Any], number: str, reason: str, description: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"action": request.get("action"),
                              "error": {"number": number, "reason": reason,
                                        "description": description}}
    if "requestId" in request:
        answer["requestId"] = request["requestId"]
    return answer


def _put_optional(answer: dict[str, Any], key: str, message: Any, field: str) -> None:
    if message.HasField(field):
        answer[key] = getattr(message, field)


def _put_common(answer: dict[str, Any], message: Any, error_field: str = "ErrorResponse") -> None:
    if message.HasField(error_field):
        failure = getattr(message, error_field)
        answer["error"] = {"number": failure.Number, "reason": failure.Reason,
                           "description": failure.Description}
    if message.Ts:
        answer["ts"] = message.Ts


def _response(protos: Any, action: str, message: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"action": action}
    _put_optional(answer, "requestId", message, "RequestId")
    if action == "get" and message.HasField("SuccessResponse"):
        success = message.SuccessResponse
        if success.HasField("DataPack"):
            answer["data"] = _data(success.DataPack)
        if success.HasField("Metadata"):
            answer["metadata"] = _json_or_text(success.Metadata, dict)
    if action != "unsubscribe":
        _put_optional(answer, "authorization", message, "Authorization")
    _put_common(answer, message)
    return answer


def _stream_message(protos: Any, message: Any) -> dict[str, Any]:
    if message.MType == protos.EVENT:
        event = message.Event
        answer: dict[str, Any] = {"action": "subscription"}
        if event.SubscriptionId:
            answer["subscriptionId"] = event.SubscriptionId
        if event.HasField("SuccessResponse") and event.SuccessResponse.HasField("DataPack"):
            answer["data"] = _data(event.SuccessResponse.DataPack)
        _put_common(answer, event)
        return answer
    response = message.Response
    answer = {"action": "subscribe"}
    if response.RequestId:
        answer["requestId"] = response.RequestId
    _put_optional(answer, "subscriptionId", response, "SubscriptionId")
    _put_optional(answer, "authorization", response, "Authorization")
    _put_common(answer, response)
    return answer


def _many_or_one(items: list[Any]) -> Any:
    return items[0] if len(items) == 1 else items


def _data(packages: Any) -> Any:
    return _many_or_one([
        {"path": package.Path,
         "dp": _many_or_one([{"value": _json_or_text(point.Value, (list, dict)), "ts": point.Ts}
                             for point in package.Dp])}
        for package in packages.Data])


def _json_or_text(text: str, kinds: type | tuple[type, ...]) -> Any:
    """The JSON array or object a value's text is, or the text itself."""
    if text.startswith(("[", "{")):
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        if isinstance(parsed, kinds):
            return parsed
    return text
