"""VAPI v1.0, the COVESA Vehicle API, on top of this SDK's VISS client.

    vapi = Vapi({"wss": "wss://car.local:6443", "https": "https://car.local:8443"}, cafile="ca.pem")
    await vapi.Connect(vapi.vehicle_id, "wss", "")
    got = await vapi.Get(vapi.vehicle_id, "Vehicle.Speed", "", "")
    if got.Status is ProcedureStatus.SUCCESSFUL:
        print(got.Data[0].SignalData[0].Value)
    seats = await vapi.GetPropertiesSeating(vapi.vehicle_id)
    await vapi.MoveSeat(vapi.vehicle_id, MatrixId("Row1", "DriverSide"), LONGITUDINAL, BACKWARD, "")

Procedures keep the names, parameters and output members of the specification (`Get`,
`vehicleId`, `stCredentials`, `GetOutput.Status`, `.Error`, `.Data`...). A procedure never
raises for a VISS error or a failure to reach the vehicle: it answers `Status=FAILED` with
an `ErrorData` (Code = the VISS error number, Reason and Description as VISS words them;
client-side failures use the VISS numbers that fit: 400 bad_request, 404 unavailable_data,
408 request_timeout, 429 too_many_requests, 503 service_unavailable). Only programming
errors (and asyncio cancellation) propagate.

Mapping onto one VISS server (one Vapi object = one vehicle, `vapi.vehicle_id`):

* Common: `Connect(vehicleId, protocol, clientCredentials)` opens a VISS session over
  "wss" (WebSocket), "https", "mqtt" (through a broker, `mqtts://broker/<VID>`; the
  `mqtt` extra) or "grpc" (`grpcs://host:5443`; the `grpc` extra), whichever URLs the Vapi
  was given; the first protocol
  connected is the default until `SelectProtocol` picks another connected one.
  `Disconnect` closes one session, `ReleaseVehicle` all of them: the services running over
  it end without further callbacks (subscriptions end, a moving seat goes on to its
  target, a massage is switched off). Credentials: with `access_control` (the ecosystem's
  AGTS and ATS, CORE §8; see access.py), `clientCredentials`, when not empty, is the
  client's proof of identity and Connect answers the AGTS's access grant token as
  `LtCredential` (a refused proof opens no session); `GetStCredentials(vehicleId,
  ltCredentials, purpose)` trades it at the ATS for an access token, waiting for the
  owner's consent where the purpose needs it. Without `access_control`,
  `clientCredentials`, when not empty, is the session's default VISS access token,
  `LtCredential` is "" and GetStCredentials answers FAILED, 404. Every procedure's `stCredentials`, when not empty, is sent as the request's VISS
  `authorization` (a WebSocket subscription re-created after a reconnect uses the token of
  the latest call).
  `GetMetadata` is a VISS get with the metadata filter (whole subtree), as JSON text.
  `CancelService` ends a subscription, stops a seat movement where it is, or stops a
  massage.
* Data: `Get`, `Set`, `Subscribe`, `Unsubscribe` are the VISS actions. `filter` is the VISS
  filter expression as JSON text ("" = none; Subscribe's default is every change:
  {"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}); `value` is the VISS value
  as text ("42", "true"; a struct or array as JSON text: '{"Name":"x"}', '["1","2"]');
  values come back the same way in `DataPoint.Value`. Subscribe needs wss, mqtt or grpc.
* Seating: `GetPropertiesSeating` reads the metadata of `Vehicle.Cabin.Seat` at run time:
  the seats are the branches two levels below it (row, then column: `Row1.DriverSide`) and a
  seat supports the VAPI movement types for which it has a numeric actuator with min and max:
  LONGITUDINAL `Position`, VERTICAL `Height`, BACKREST `Backrest.Recline`, LUMBAR
  `Backrest.Lumbar.Support` or `Backrest.Lumbar`; and a massage type per numeric actuator
  named `Massage` (its name is the relative path in lower case, e.g. "massage"; levels
  from its `allowed` values or min..max). A Percentage maps linearly onto min..max (0 =
  min: FORWARD, DOWN, FORWARD_RECLINE, DEFLATE). A tree without any of these signals makes
  the seating procedures answer FAILED with Code 404, Reason "unavailable_data".
  `MoveSeat` without a callback is synchronous: it sets the target and returns when the
  actuator's current value reaches it (followed by a change subscription over wss, by
  polling over https), or FAILED after `move_timeout` seconds (the seat is then stopped);
  cancelling the awaiting task stops the seat too. With a callback it is asynchronous: it
  returns ONGOING with a ServiceId at once, the callback gets ONGOING with each new position
  and a last SUCCESSFUL (or FAILED) output; `CancelService` stops the seat at its current
  position (the target is set to the current value) and the callback gets SUCCESSFUL with
  that position. `ActivateMassage` sets the massage level for `intensity` and returns
  ONGOING with a ServiceId at once; after `duration` seconds (0 = until CancelService) the
  massage is switched off (its lowest level) and the callback, if any, gets SUCCESSFUL.

Not implemented: GetVehicle (vehicle discovery), ServiceInquiry and Invoke have no counterpart on a VISS server (they are services of the vehicle's back end); the
HVAC, exterior lighting and interior lighting service groups are placeholders ("xxx") in
VAPI v1.0 and have no procedures to implement.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from . import codec as codecs
from .access import AccessControl
from . import filter as filters
from .client import (
    ClientError,
    RequestTimeout,
    Subscription,
    VissClient,
    VissConnectionError,
    VissError,
)

__all__ = [
    "BACKREST",
    "BACKWARD",
    "BACKWARD_RECLINE",
    "DEFLATE",
    "DOWN",
    "FORWARD",
    "FORWARD_RECLINE",
    "INFLATE",
    "LONGITUDINAL",
    "LUMBAR",
    "UP",
    "VERTICAL",
    "ColumnData",
    "ConnectOutput",
    "DataContainer",
    "DataPoint",
    "ErrorData",
    "GeneralOutput",
    "GetMetadataOutput",
    "GetOutput",
    "GetPropertiesSeatingOutput",
    "GetStCredentialsOutput",
    "MassageOutput",
    "MatrixId",
    "MoveSeatOutput",
    "Percentage",
    "ProcedureStatus",
    "RaggedMatrix",
    "RowDef",
    "SubscribeOutput",
    "SupportData",
    "Vapi",
]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Datatypes of the specification


class ProcedureStatus(IntEnum):
    """The outcome of a procedure call (or of the latest callback of a service)."""

    ONGOING = 1  # in execution of latest call
    SUCCESSFUL = 0  # terminated successfully in latest call
    FAILED = -1  # terminated due to failure in latest call


@dataclass(frozen=True)
class ErrorData:
    Code: int
    Reason: str
    Description: str


@dataclass(frozen=True)
class DataPoint:
    Value: str
    Timestamp: str


@dataclass(frozen=True)
class DataContainer:
    Path: str
    SignalData: list[DataPoint]


Percentage = float
"""A float from 0 to 100."""


@dataclass(frozen=True)
class MatrixId:
    """A seat: its row and column names, e.g. MatrixId("Row1", "DriverSide")."""

    RowName: str
    ColumnName: str


@dataclass(frozen=True)
class SupportData:
    Name: str
    Description: str


@dataclass(frozen=True)
class ColumnData:
    Name: str
    MovementSupport: list[SupportData]
    MassageSupport: list[SupportData]


@dataclass(frozen=True)
class RowDef:
    RowName: str
    Column: list[ColumnData]


RaggedMatrix = list[RowDef]


@dataclass(frozen=True)
class GeneralOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None


@dataclass(frozen=True)
class ConnectOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None
    LtCredential: str = ""


@dataclass(frozen=True)
class GetStCredentialsOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None
    StCredentials: str = ""


@dataclass(frozen=True)
class GetMetadataOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None
    Metadata: str = ""


@dataclass(frozen=True)
class GetOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None
    Data: list[DataContainer] = field(default_factory=list)


@dataclass(frozen=True)
class SubscribeOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None
    Data: list[DataContainer] = field(default_factory=list)
    ServiceId: int = 0


@dataclass(frozen=True)
class GetPropertiesSeatingOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None
    Properties: RaggedMatrix = field(default_factory=list)


@dataclass(frozen=True)
class MoveSeatOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None
    Position: Percentage = 0.0
    ServiceId: int = 0


@dataclass(frozen=True)
class MassageOutput:
    Status: ProcedureStatus
    Error: ErrorData | None = None
    ServiceId: int = 0


# Movement types.
LONGITUDINAL = "longitudinal"  # Forward-backward direction of the vehicle
VERTICAL = "vertical"  # Up-down direction of the vehicle
BACKREST = "backrest"  # Seat backrest angular
LUMBAR = "lumbar"  # Seat inflate-deflate lumbar

# Movement directions, as Percentage end points.
FORWARD = 0.0  # longitudinal movement
BACKWARD = 100.0  # longitudinal movement
UP = 100.0  # vertical movement
DOWN = 0.0  # vertical movement
INFLATE = 100.0  # lumbar movement
DEFLATE = 0.0  # lumbar movement
FORWARD_RECLINE = 0.0  # backrest movement
BACKWARD_RECLINE = 100.0  # backrest movement

PROTOCOLS = ("wss", "https", "mqtt", "grpc")
"""The protocols a Vapi speaks: the VISS transports of this SDK."""

SubscribeCallback = Callable[[SubscribeOutput], None]
MoveSeatCallback = Callable[[MoveSeatOutput], None]
MassageCallback = Callable[[MassageOutput], None]

_SEATING = "Vehicle.Cabin.Seat"
# (movement type, relative paths below a seat in order of preference, description)
_MOVEMENTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (LONGITUDINAL, ("Position",), "Forward-backward direction of the vehicle"),
    (VERTICAL, ("Height",), "Up-down direction of the vehicle"),
    (BACKREST, ("Backrest.Recline",), "Seat backrest angular"),
    (LUMBAR, ("Backrest.Lumbar.Support", "Backrest.Lumbar"), "Seat inflate-deflate lumbar"),
)
_INTEGERS = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")
_FLOATS = ("float", "double")
_UINT32_MAX = 2**32 - 1


# --------------------------------------------------------------------------------------------
# Errors as ErrorData


def _error(code: int, reason: str, description: str) -> ErrorData:
    return ErrorData(code, reason, description)


def _error_of(exception: BaseException) -> ErrorData:
    """The ErrorData of a failed VISS call (or of a value the SDK refused before sending)."""
    if isinstance(exception, VissError):
        code = int(exception.number) if exception.number.isdigit() else 0
        return ErrorData(code, exception.reason, exception.description)
    if isinstance(exception, RequestTimeout):
        return _error(408, "request_timeout", str(exception))
    if isinstance(exception, VissConnectionError):
        return _error(503, "service_unavailable", str(exception))
    if isinstance(exception, ClientError) and "pending requests" in str(exception):
        return _error(429, "too_many_requests", str(exception))
    if isinstance(exception, ClientError):
        return _error(503, "service_unavailable", str(exception))
    if isinstance(exception, (ValueError, TypeError)):
        return _error(400, "invalid_data", str(exception))
    return _error(503, "service_unavailable", repr(exception))


_CALL_FAILURES = (VissError, ClientError, ValueError, TypeError)
"""What a VISS call may raise that a procedure answers as FAILED."""


def _unsupported(what: str) -> ErrorData:
    return _error(404, "unavailable_data", f"the vehicle does not support {what}")


def _no_service(service_id: int) -> ErrorData:
    return _error(404, "unavailable_data", f"no ongoing service with ServiceId {service_id}")


# --------------------------------------------------------------------------------------------
# Values


def _value_text(value: object) -> str:
    """A VISS value as VAPI text: a scalar's string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _wire_value(text: str) -> object:
    """VAPI value text to a VISS value: JSON text of an array or object is that structure,
    anything else is the scalar string itself."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return text
        if isinstance(parsed, (list, dict)):
            return parsed
    return text


def _containers(data: object) -> list[DataContainer]:
    """The `data` member of a VISS answer or event (object or array; dp object or array)."""
    listed = data if isinstance(data, list) else [data]
    containers: list[DataContainer] = []
    for item in listed:
        if not isinstance(item, dict):
            continue
        dp = item.get("dp")
        points = dp if isinstance(dp, list) else [dp]
        signal = [
            DataPoint(_value_text(point.get("value")), str(point.get("ts", "")))
            for point in points
            if isinstance(point, dict) and "value" in point
        ]
        containers.append(DataContainer(str(item.get("path", "")), signal))
    return containers


def _parse_filter(text: str) -> filters.Filter | None:
    if not text.strip():
        return None
    parsed = json.loads(text)
    if isinstance(parsed, dict) or (
        isinstance(parsed, list) and parsed and all(isinstance(item, dict) for item in parsed)
    ):
        return parsed
    raise ValueError(f"a filter is a JSON object or array of objects, got {text!r}")


def _is_percentage(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 100
    )


def _number(text: object) -> float | None:
    try:
        number = float(str(text))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------------------------
# The seating model, discovered from metadata


@dataclass(frozen=True)
class _Actuator:
    """A numeric actuator of a seat and the codec of its values."""

    path: str
    datatype: str
    low: float
    high: float
    codec: codecs.Codec[Any]

    def decode(self, wire: object) -> float:
        number = _number(wire)
        if number is None:
            raise ValueError(f"{self.path}: {wire!r} is not a number")
        return number

    def encode(self, value: float) -> object:
        typed: int | float = round(value) if self.datatype in _INTEGERS else float(value)
        return self.codec.encode(typed)


@dataclass(frozen=True)
class _Axis:
    """A movement type of a seat: an actuator whose min..max is 0..100 %."""

    movement: str
    description: str
    actuator: _Actuator

    @property
    def tolerance(self) -> float:
        return max((self.actuator.high - self.actuator.low) * 0.005, 1e-9)

    def value_at(self, percent: float) -> float:
        low, high = self.actuator.low, self.actuator.high
        value = low + (high - low) * percent / 100.0
        return float(round(value)) if self.actuator.datatype in _INTEGERS else value

    def percent_of(self, value: float) -> Percentage:
        low, high = self.actuator.low, self.actuator.high
        return min(100.0, max(0.0, (value - low) / (high - low) * 100.0))

    def reached(self, value: float, target: float) -> bool:
        return abs(value - target) <= self.tolerance


@dataclass(frozen=True)
class _Massage:
    """A massage type of a seat: its levels, lowest (off) first."""

    name: str
    description: str
    actuator: _Actuator
    levels: tuple[float, ...]  # the allowed levels, sorted; empty: any value in low..high

    @property
    def off(self) -> float:
        return self.levels[0] if self.levels else self.actuator.low

    def level_at(self, intensity: float) -> float:
        """0 % is off; any other intensity at least the lowest level above off."""
        if self.levels:
            steps = len(self.levels) - 1
            return self.levels[min(steps, math.ceil(intensity / 100.0 * steps))]
        low, high = self.actuator.low, self.actuator.high
        value = low + (high - low) * intensity / 100.0
        return float(math.ceil(value)) if self.actuator.datatype in _INTEGERS else value


@dataclass(frozen=True)
class _Seat:
    row: str
    column: str
    axes: dict[str, _Axis]
    massages: dict[str, _Massage]


def _leaves(children: object, prefix: str = "") -> dict[str, dict[str, Any]]:
    """The leaves below a metadata node's children, by relative path."""
    found: dict[str, dict[str, Any]] = {}
    if not isinstance(children, dict):
        return found
    for name, node in children.items():
        if not isinstance(node, dict):
            continue
        path = f"{prefix}{name}"
        if isinstance(node.get("children"), dict):
            found.update(_leaves(node["children"], f"{path}."))
        else:
            found[path] = node
    return found


def _actuator(path: str, meta: dict[str, Any], need_limits: bool) -> _Actuator | None:
    """A numeric actuator (with min < max when `need_limits`), or None when `meta` is not one.
    Its codec checks the node's limits, where it has them, before anything is sent."""
    datatype = meta.get("datatype")
    if meta.get("type") != "actuator" or datatype not in _INTEGERS + _FLOATS:
        return None
    low, high = _number(meta.get("min")), _number(meta.get("max"))
    if need_limits and (low is None or high is None or not low < high):
        return None
    codec: codecs.Codec[Any]
    if datatype in _INTEGERS:
        codec = codecs.integer(
            datatype,
            None if low is None else math.ceil(low),
            None if high is None else math.floor(high),
        )
    else:
        codec = codecs.floating(datatype, low, high)
    return _Actuator(path, datatype, low or 0.0, high or 0.0, codec)


def _seat(branch: str, row: str, column: str, children: object) -> _Seat:
    leaves = _leaves(children)
    base = f"{branch}.{row}.{column}"
    axes: dict[str, _Axis] = {}
    for movement, candidates, description in _MOVEMENTS:
        for relative in candidates:
            meta = leaves.get(relative)
            actuator = _actuator(f"{base}.{relative}", meta, True) if meta else None
            if actuator is not None:
                axes[movement] = _Axis(movement, description, actuator)
                break
    massages: dict[str, _Massage] = {}
    for relative, meta in leaves.items():
        segments = relative.split(".")
        if segments[-1] != "Massage" or "Switch" in segments:
            continue
        allowed = [_number(text) for text in meta.get("allowed") or []]
        levels = tuple(sorted(level for level in allowed if level is not None))
        actuator = _actuator(f"{base}.{relative}", meta, not levels)
        if actuator is None:
            continue
        name = relative.lower()
        description = str(meta.get("description", "")) or relative
        massages[name] = _Massage(name, description, actuator, levels)
    return _Seat(row, column, axes, massages)


def _seating(branch: str, metadata: object) -> list[_Seat]:
    """The seats of a metadata answer for `branch`: rows, then columns, that support at least
    one movement or massage."""
    root = metadata.get(branch.rsplit(".", 1)[-1]) if isinstance(metadata, dict) else None
    rows = root.get("children") if isinstance(root, dict) else None
    seats: list[_Seat] = []
    if not isinstance(rows, dict):
        return seats
    for row, row_node in rows.items():
        columns = row_node.get("children") if isinstance(row_node, dict) else None
        if not isinstance(columns, dict):
            continue
        for column, column_node in columns.items():
            children = column_node.get("children") if isinstance(column_node, dict) else None
            if not isinstance(children, dict):
                continue
            seat = _seat(branch, row, column, children)
            if seat.axes or seat.massages:
                seats.append(seat)
    return seats


def _properties(seats: list[_Seat]) -> RaggedMatrix:
    rows: dict[str, list[ColumnData]] = {}
    for seat in seats:
        rows.setdefault(seat.row, []).append(ColumnData(
            seat.column,
            [SupportData(axis.movement, axis.description) for axis in seat.axes.values()],
            [SupportData(massage.name, massage.description) for massage in seat.massages.values()],
        ))
    return [RowDef(row, columns) for row, columns in rows.items()]


# --------------------------------------------------------------------------------------------
# Following an actuator's current value


class _Watch:
    """The current values of one numeric actuator, in order, as they change: a change
    subscription over WebSocket, polling over HTTPS. A VissError in the queue ends it."""

    def __init__(self, client: VissClient, actuator: _Actuator, poll_interval: float) -> None:
        self._client = client
        self._actuator = actuator
        self._poll_interval = poll_interval
        self.queue: asyncio.Queue[float | VissError] = asyncio.Queue()
        self._subscription: Subscription | None = None
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._client.streams:
            self._subscription = await self._client.subscribe(
                self._actuator.path, filters.change("ne", 0), self._on_event, self.queue.put_nowait
            )
        else:
            self._poller = asyncio.create_task(self._poll())

    def _on_event(self, data: Any) -> None:
        for container in _containers(data):
            for point in container.SignalData:
                number = _number(point.Value)
                if number is not None:
                    self.queue.put_nowait(number)

    async def _poll(self) -> None:
        last: float | None = None
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                answer = await self._client.get(self._actuator.path)
            except VissError as error:
                self.queue.put_nowait(error)
                return
            except ClientError as error:
                self.queue.put_nowait(VissError(*_as_viss(error)))
                return
            for container in _containers(answer.get("data")):
                for point in container.SignalData:
                    number = _number(point.Value)
                    if number is not None and number != last:
                        last = number
                        self.queue.put_nowait(number)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._subscription is not None:
            subscription, self._subscription = self._subscription, None
            with contextlib.suppress(*_CALL_FAILURES):
                await subscription.unsubscribe()


def _as_viss(error: BaseException) -> tuple[str, str, str]:
    data = _error_of(error)
    return str(data.Code), data.Reason, data.Description


# --------------------------------------------------------------------------------------------
# Services: what a ServiceId names


class _Service:
    def __init__(self, service_id: int, protocol: str) -> None:
        self.service_id = service_id
        self.protocol = protocol

    async def cancel(self) -> GeneralOutput:
        """CancelService: ends the service in its current state."""
        raise NotImplementedError

    async def drop(self) -> None:
        """Disconnect: ends the service without callbacks."""
        raise NotImplementedError


def _notify(callback: Callable[[Any], None] | None, output: object) -> None:
    if callback is None:
        return
    try:
        callback(output)
    except Exception:
        log.exception("a VAPI callback failed")


class _SubscriptionService(_Service):
    def __init__(self, service_id: int, protocol: str, subscription: Subscription) -> None:
        super().__init__(service_id, protocol)
        self.subscription = subscription

    async def cancel(self) -> GeneralOutput:
        try:
            await self.subscription.unsubscribe()
        except _CALL_FAILURES as error:
            return GeneralOutput(ProcedureStatus.FAILED, _error_of(error))
        return GeneralOutput(ProcedureStatus.SUCCESSFUL)

    async def drop(self) -> None:
        with contextlib.suppress(*_CALL_FAILURES):
            await self.subscription.unsubscribe()


class _Move(_Service):
    """One MoveSeat: an axis, its target, the watch on its current value."""

    def __init__(self, service_id: int, protocol: str, client: VissClient, axis: _Axis,
                 target: float, watch: _Watch, callback: MoveSeatCallback | None) -> None:
        super().__init__(service_id, protocol)
        self.client = client
        self.axis = axis
        self.target = target
        self.watch = watch
        self.callback = callback
        self.current = math.nan
        self.task: asyncio.Task[None] | None = None
        self.finished = False

    def output(self, status: ProcedureStatus, error: ErrorData | None = None) -> MoveSeatOutput:
        position = self.axis.percent_of(self.current) if math.isfinite(self.current) else 0.0
        return MoveSeatOutput(status, error, position, self.service_id)

    async def follow(self, deadline: float, progress: bool) -> MoveSeatOutput:
        """Until the current value reaches the target (or the watch fails, or `deadline`)."""
        loop = asyncio.get_running_loop()
        while not (math.isfinite(self.current) and self.axis.reached(self.current, self.target)):
            remaining = deadline - loop.time()
            try:
                # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that
                # arrives as the queue yields an item.
                async with asyncio.timeout(max(remaining, 0)):
                    item = await self.watch.queue.get()
            except TimeoutError:
                await self.halt()
                description = f"{self.axis.actuator.path} did not reach {self.target} in time"
                timed_out = _error(408, "request_timeout", description)
                return self.output(ProcedureStatus.FAILED, timed_out)
            if isinstance(item, VissError):
                return self.output(ProcedureStatus.FAILED, _error_of(item))
            self.current = item
            if progress and not self.axis.reached(item, self.target):
                _notify(self.callback, self.output(ProcedureStatus.ONGOING))
        return self.output(ProcedureStatus.SUCCESSFUL)

    async def halt(self) -> ErrorData | None:
        """Stops the seat where it is: its target becomes its current value."""
        try:
            answer = await self.client.get(self.axis.actuator.path)
            points = [p for c in _containers(answer.get("data")) for p in c.SignalData]
            if not points:
                raise VissError("404", "unavailable_data", "no current value", "get")
            self.current = self.axis.actuator.decode(points[-1].Value)
            await self.client.set(self.axis.actuator.path, self.axis.actuator.encode(self.current))
        except _CALL_FAILURES as error:
            return _error_of(error)
        return None

    async def cancel(self) -> GeneralOutput:
        self.finished = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        error = await self.halt()
        await self.watch.stop()
        if error is not None:
            _notify(self.callback, self.output(ProcedureStatus.FAILED, error))
            return GeneralOutput(ProcedureStatus.FAILED, error)
        _notify(self.callback, self.output(ProcedureStatus.SUCCESSFUL))
        return GeneralOutput(ProcedureStatus.SUCCESSFUL)

    async def drop(self) -> None:
        self.finished = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.watch.stop()


class _MassageRun(_Service):
    def __init__(self, service_id: int, protocol: str, client: VissClient, massage: _Massage,
                 callback: MassageCallback | None) -> None:
        super().__init__(service_id, protocol)
        self.client = client
        self.massage = massage
        self.callback = callback
        self.timer: asyncio.Task[None] | None = None

    async def switch_off(self) -> ErrorData | None:
        actuator = self.massage.actuator
        try:
            await self.client.set(actuator.path, actuator.encode(self.massage.off))
        except _CALL_FAILURES as error:
            return _error_of(error)
        return None

    def finish(self, error: ErrorData | None) -> GeneralOutput:
        status = ProcedureStatus.FAILED if error else ProcedureStatus.SUCCESSFUL
        _notify(self.callback, MassageOutput(status, error, self.service_id))
        return GeneralOutput(status, error)

    async def cancel(self) -> GeneralOutput:
        await self._stop_timer()
        return self.finish(await self.switch_off())

    async def drop(self) -> None:
        # Nobody could stop it once the session is gone.
        await self._stop_timer()
        error = await self.switch_off()
        if error is not None:
            log.warning("switching %s off failed: %s", self.massage.actuator.path, error)

    async def _stop_timer(self) -> None:
        if self.timer is not None and self.timer is not asyncio.current_task():
            self.timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.timer


# --------------------------------------------------------------------------------------------
# The API


class Vapi:
    """VAPI v1.0 procedures for the one vehicle served by a VISS server.

    `endpoints` maps the protocols offered (PROTOCOLS) to their URLs; `cafile` is the
    PEM file to trust for them; `timeout` bounds every VISS request; `move_timeout` bounds a
    MoveSeat; `poll_interval` is how often a movement is polled over https;
    `access_control` names the ecosystem's AGTS and ATS, if it has them (Connect then
    answers a long-term credential and GetStCredentials works)."""

    def __init__(
        self,
        endpoints: Mapping[str, str],
        *,
        cafile: str | None = None,
        timeout: float = 10.0,
        vehicle_id: int = 1,
        move_timeout: float = 60.0,
        poll_interval: float = 0.1,
        seating_branch: str = _SEATING,
        access_control: AccessControl | None = None,
    ) -> None:
        unknown = sorted(set(endpoints) - set(PROTOCOLS))
        if unknown:
            raise ValueError(f"unknown protocols {unknown}: use {list(PROTOCOLS)}")
        self.endpoints = dict(endpoints)
        self.vehicle_id = vehicle_id
        self._cafile = cafile
        self._timeout = timeout
        self._move_timeout = move_timeout
        self._poll_interval = poll_interval
        self._seating_branch = seating_branch
        self._access = access_control
        self._clients: dict[str, VissClient] = {}
        # Service starts in flight by protocol, and the condition Disconnect waits on.
        self._starting: dict[str, int] = {}
        self._started = asyncio.Condition()
        self._tokens: dict[str, str | None] = {}
        self._default: str | None = None
        self._services: dict[int, _Service] = {}
        self._ids = itertools.count(1)
        self._seats: dict[str, list[_Seat]] = {}

    async def __aenter__(self) -> Vapi:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.ReleaseVehicle(self.vehicle_id)

    @property
    def protocol(self) -> str | None:
        """The default protocol ("wss" or "https"), None before the first Connect."""
        return self._default

    # -- common procedures ---------------------------------------------------------------------

    async def Connect(
        self, vehicleId: int, protocol: str, clientCredentials: str = ""
    ) -> ConnectOutput:
        """Opens a session over `protocol`; the first one becomes the default protocol. With
        `access_control`, a non-empty `clientCredentials` is the client's proof for the AGTS
        and `LtCredential` the access grant token it answers; without, it is the session's
        token."""
        problem = self._check_vehicle(vehicleId) or self._check_protocol(protocol)
        if problem:
            return ConnectOutput(ProcedureStatus.FAILED, problem)
        granted = ""
        if self._access is not None and clientCredentials:
            try:
                granted = await self._access.grant(clientCredentials)
            except _CALL_FAILURES as error:
                return ConnectOutput(ProcedureStatus.FAILED, _error_of(error))
        token = None if granted else clientCredentials or None
        self._tokens[protocol] = token
        if protocol not in self._clients:
            try:
                self._clients[protocol] = await VissClient.connect(
                    self.endpoints[protocol], cafile=self._cafile, timeout=self._timeout,
                    authorization=token,
                )
            except (ClientError, OSError, ValueError) as error:
                return ConnectOutput(ProcedureStatus.FAILED, _error_of(
                    error if isinstance(error, ClientError) else VissConnectionError(str(error))))
        if self._default is None:
            self._default = protocol
        return ConnectOutput(ProcedureStatus.SUCCESSFUL, None, granted)

    async def GetStCredentials(
        self, vehicleId: int, ltCredentials: str, purpose: str
    ) -> GetStCredentialsOutput:
        """An access token for `purpose` from the ATS, given the long-term credential Connect
        answered; waits for the owner's consent where the purpose needs it. Needs
        `access_control`."""
        problem = self._check_vehicle(vehicleId)
        if problem:
            return GetStCredentialsOutput(ProcedureStatus.FAILED, problem)
        if self._access is None:
            return GetStCredentialsOutput(ProcedureStatus.FAILED, _error(
                404, "unavailable_data", "no access-control server is configured (access_control)"))
        try:
            token = await self._access.access_token(ltCredentials, purpose)
        except _CALL_FAILURES as error:
            return GetStCredentialsOutput(ProcedureStatus.FAILED, _error_of(error))
        return GetStCredentialsOutput(ProcedureStatus.SUCCESSFUL, None, token)

    async def Disconnect(self, vehicleId: int, protocol: str) -> GeneralOutput:
        """Closes the session over `protocol`; services running over it end without
        callbacks (a massage is switched off first)."""
        problem = self._check_vehicle(vehicleId) or self._check_protocol(protocol)
        if problem:
            return GeneralOutput(ProcedureStatus.FAILED, problem)
        client = self._clients.pop(protocol, None)
        if client is None:
            return GeneralOutput(ProcedureStatus.FAILED, _error(
                400, "bad_request", f"not connected over {protocol}"))
        # Before any await: a procedure running meanwhile must not find the session half gone.
        self._seats.pop(protocol, None)
        if self._default == protocol:
            self._default = next(iter(self._clients), None)
        # Services being started over it register first, and so end with it below.
        async with self._started:
            await self._started.wait_for(lambda: not self._starting.get(protocol))
        for service in [s for s in self._services.values() if s.protocol == protocol]:
            self._services.pop(service.service_id, None)
            await service.drop()
        await client.close()
        return GeneralOutput(ProcedureStatus.SUCCESSFUL)

    async def ReleaseVehicle(self, vehicleId: int) -> GeneralOutput:
        """Closes the sessions over every protocol."""
        problem = self._check_vehicle(vehicleId)
        if problem:
            return GeneralOutput(ProcedureStatus.FAILED, problem)
        for protocol in list(self._clients):
            await self.Disconnect(vehicleId, protocol)
        return GeneralOutput(ProcedureStatus.SUCCESSFUL)

    async def SelectProtocol(self, vehicleId: int, protocol: str) -> GeneralOutput:
        """Makes a connected protocol the one later procedures use."""
        problem = self._check_vehicle(vehicleId) or self._check_protocol(protocol)
        if problem:
            return GeneralOutput(ProcedureStatus.FAILED, problem)
        if protocol not in self._clients:
            return GeneralOutput(ProcedureStatus.FAILED, _error(
                400, "bad_request", f"Connect over {protocol} before selecting it"))
        self._default = protocol
        return GeneralOutput(ProcedureStatus.SUCCESSFUL)

    async def GetMetadata(
        self, vehicleId: int, path: str, stCredentials: str = ""
    ) -> GetMetadataOutput:
        """The metadata of the subtree at `path`, as JSON text."""
        client, problem = self._session(vehicleId, stCredentials)
        if client is None:
            return GetMetadataOutput(ProcedureStatus.FAILED, problem)
        try:
            answer = await client.get(path, filters.metadata(0))
        except _CALL_FAILURES as error:
            return GetMetadataOutput(ProcedureStatus.FAILED, _error_of(error))
        metadata = json.dumps(answer.get("metadata"))
        return GetMetadataOutput(ProcedureStatus.SUCCESSFUL, None, metadata)

    async def CancelService(self, vehicleId: int, serviceId: int) -> GeneralOutput:
        """Ends an ongoing service in its current state: a subscription is ended, a seat
        stops where it is, a massage is switched off."""
        problem = self._check_vehicle(vehicleId)
        if problem:
            return GeneralOutput(ProcedureStatus.FAILED, problem)
        service = self._services.pop(serviceId, None)
        if service is None:
            return GeneralOutput(ProcedureStatus.FAILED, _no_service(serviceId))
        return await service.cancel()

    # -- data procedures -----------------------------------------------------------------------

    async def Get(
        self, vehicleId: int, path: str, filter: str = "", stCredentials: str = ""
    ) -> GetOutput:
        """The latest value(s) of the signal(s) `path` (and `filter`, e.g. paths or history)
        addresses."""
        client, problem = self._session(vehicleId, stCredentials)
        if client is None:
            return GetOutput(ProcedureStatus.FAILED, problem)
        try:
            chosen = _parse_filter(filter)
            if chosen is not None and "metadata" in _variants(chosen):
                return GetOutput(ProcedureStatus.FAILED, _error(
                    400, "bad_request", "the metadata filter belongs to GetMetadata"))
            answer = await client.get(path, chosen)
        except _CALL_FAILURES as error:
            return GetOutput(ProcedureStatus.FAILED, _error_of(error))
        return GetOutput(ProcedureStatus.SUCCESSFUL, None, _containers(answer.get("data")))

    async def Set(
        self, vehicleId: int, path: str, value: str, stCredentials: str = ""
    ) -> GeneralOutput:
        """Provides `value` to the actuator `path` (the status says the vehicle took it, not
        that the actuator got there)."""
        client, problem = self._session(vehicleId, stCredentials)
        if client is None:
            return GeneralOutput(ProcedureStatus.FAILED, problem)
        if not isinstance(value, str):
            return GeneralOutput(ProcedureStatus.FAILED, _error(
                400, "invalid_data", f"a VAPI value is a string, got {type(value).__name__}"))
        try:
            await client.set(path, _wire_value(value))
        except _CALL_FAILURES as error:
            return GeneralOutput(ProcedureStatus.FAILED, _error_of(error))
        return GeneralOutput(ProcedureStatus.SUCCESSFUL)

    async def Subscribe(
        self,
        vehicleId: int,
        path: str,
        filter: str,
        stCredentials: str,
        callback: SubscribeCallback,
    ) -> SubscribeOutput:
        """Starts a subscription: ONGOING with its ServiceId at once; `callback` gets ONGOING
        with the Data of every event, or FAILED with the error that ended it."""
        client, problem = self._session(vehicleId, stCredentials)
        if client is None:
            return SubscribeOutput(ProcedureStatus.FAILED, problem)
        if not client.streams:
            return SubscribeOutput(ProcedureStatus.FAILED, _error(
                400, "bad_request", f"Subscribe is not available over {self._default}: "
                "Connect and SelectProtocol wss, mqtt or grpc"))
        service_id = next(self._ids)

        def on_event(data: Any) -> None:
            _notify(callback, SubscribeOutput(ProcedureStatus.ONGOING, None, _containers(data),
                                              service_id))

        def on_end(error: VissError) -> None:
            self._services.pop(service_id, None)
            failed = SubscribeOutput(ProcedureStatus.FAILED, _error_of(error), [], service_id)
            _notify(callback, failed)

        protocol = self._protocol()
        async with self._starting_over(protocol):
            try:
                chosen = _parse_filter(filter)
                subscription = await client.subscribe(
                    path, filters.change("ne", 0) if chosen is None else chosen, on_event, on_end)
            except _CALL_FAILURES as error:
                return SubscribeOutput(ProcedureStatus.FAILED, _error_of(error))
            # An error event may end it before this line runs (its callback has had FAILED then).
            if subscription.active:
                service = _SubscriptionService(service_id, protocol, subscription)
                self._services[service_id] = service
            return SubscribeOutput(ProcedureStatus.ONGOING, None, [], service_id)

    async def Unsubscribe(self, vehicleId: int, serviceId: int) -> GeneralOutput:
        """Ends the subscription `serviceId`."""
        problem = self._check_vehicle(vehicleId)
        if problem:
            return GeneralOutput(ProcedureStatus.FAILED, problem)
        service = self._services.get(serviceId)
        if not isinstance(service, _SubscriptionService):
            return GeneralOutput(ProcedureStatus.FAILED, _no_service(serviceId))
        del self._services[serviceId]
        return await service.cancel()

    # -- seating -------------------------------------------------------------------------------

    async def GetPropertiesSeating(self, vehicleId: int) -> GetPropertiesSeatingOutput:
        """The seats and the movements and massages each supports, read from the vehicle's
        metadata now (FAILED, Code 404, when it has no seating service)."""
        client, problem = self._session(vehicleId, "")
        if client is None:
            return GetPropertiesSeatingOutput(ProcedureStatus.FAILED, problem)
        seats, problem = await self._discover(client, refresh=True)
        if problem:
            return GetPropertiesSeatingOutput(ProcedureStatus.FAILED, problem)
        return GetPropertiesSeatingOutput(ProcedureStatus.SUCCESSFUL, None, _properties(seats))

    async def MoveSeat(
        self,
        vehicleId: int,
        seatId: MatrixId,
        movementType: str,
        position: Percentage,
        stCredentials: str = "",
        callback: MoveSeatCallback | None = None,
    ) -> MoveSeatOutput:
        """Moves a seat along `movementType` to `position` %: synchronously without a
        callback (returns when there), asynchronously with one (returns ONGOING and a
        ServiceId at once; CancelService stops it where it is)."""
        client, problem = self._session(vehicleId, stCredentials)
        if client is None:
            return MoveSeatOutput(ProcedureStatus.FAILED, problem)
        if not _is_percentage(position):
            return MoveSeatOutput(ProcedureStatus.FAILED, _error(
                400, "invalid_data", f"position must be a Percentage (0..100), got {position!r}"))
        protocol = self._protocol()
        async with self._starting_over(protocol):
            seat, problem = await self._find_seat(client, seatId)
            if seat is None:
                return MoveSeatOutput(ProcedureStatus.FAILED, problem)
            axis = seat.axes.get(movementType)
            if axis is None:
                return MoveSeatOutput(ProcedureStatus.FAILED, _unsupported(
                    f"the {movementType!r} movement of seat {seatId.RowName}.{seatId.ColumnName}"))
            move = _Move(next(self._ids), protocol, client, axis, axis.value_at(position),
                         _Watch(client, axis.actuator, self._poll_interval), callback)
            deadline = asyncio.get_running_loop().time() + self._move_timeout
            try:
                await move.watch.start()
            except _CALL_FAILURES as error:
                return move.output(ProcedureStatus.FAILED, _error_of(error))
            try:
                await client.set(axis.actuator.path, axis.actuator.encode(move.target))
                answer = await client.get(axis.actuator.path)
                points = [p for c in _containers(answer.get("data")) for p in c.SignalData]
                if points:
                    move.current = axis.actuator.decode(points[-1].Value)
            except _CALL_FAILURES as error:
                await move.watch.stop()
                return move.output(ProcedureStatus.FAILED, _error_of(error))
            except BaseException:
                await asyncio.shield(move.watch.stop())
                raise
            if callback is not None:
                self._services[move.service_id] = move
                move.task = asyncio.create_task(self._move_in_background(move, deadline))
                return move.output(ProcedureStatus.ONGOING)
        # A synchronous move is no registered service: Disconnect need not wait for it (its
        # client closing fails it).
        return await self._move_now(move, deadline)

    async def ActivateMassage(
        self,
        vehicleId: int,
        seatId: MatrixId,
        massageType: str,
        intensity: Percentage,
        duration: int,
        stCredentials: str = "",
        callback: MassageCallback | None = None,
    ) -> MassageOutput:
        """Massages at `intensity` % for `duration` seconds (0: until CancelService); returns
        ONGOING and a ServiceId once the level is set; `callback` gets the end."""
        client, problem = self._session(vehicleId, stCredentials)
        if client is None:
            return MassageOutput(ProcedureStatus.FAILED, problem)
        if not _is_percentage(intensity):
            return MassageOutput(ProcedureStatus.FAILED, _error(
                400, "invalid_data", f"intensity must be a Percentage (0..100), got {intensity!r}"))
        valid = isinstance(duration, int) and not isinstance(duration, bool)
        if not valid or not 0 <= duration <= _UINT32_MAX:
            return MassageOutput(ProcedureStatus.FAILED, _error(
                400, "invalid_data", f"duration must be a uint32 of seconds, got {duration!r}"))
        protocol = self._protocol()
        async with self._starting_over(protocol):
            seat, problem = await self._find_seat(client, seatId)
            if seat is None:
                return MassageOutput(ProcedureStatus.FAILED, problem)
            massage = seat.massages.get(massageType)
            if massage is None:
                return MassageOutput(ProcedureStatus.FAILED, _unsupported(
                    f"the {massageType!r} massage of seat {seatId.RowName}.{seatId.ColumnName}"))
            try:
                await client.set(massage.actuator.path,
                                 massage.actuator.encode(massage.level_at(float(intensity))))
            except _CALL_FAILURES as error:
                return MassageOutput(ProcedureStatus.FAILED, _error_of(error))
            run = _MassageRun(next(self._ids), protocol, client, massage, callback)
            self._services[run.service_id] = run
            if duration > 0:
                run.timer = asyncio.create_task(self._massage_timer(run, duration))
            return MassageOutput(ProcedureStatus.ONGOING, None, run.service_id)

    # -- internals -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _starting_over(self, protocol: str) -> AsyncIterator[None]:
        """Marks a service start over `protocol` until its service is registered: Disconnect
        waits for it and then ends the service with the session. Without this, a massage
        whose set was in flight when the session closed stayed on, with nothing left to
        switch it off."""
        self._starting[protocol] = self._starting.get(protocol, 0) + 1
        try:
            yield
        finally:
            self._starting[protocol] -= 1
            async with self._started:
                self._started.notify_all()

    def _check_vehicle(self, vehicleId: int) -> ErrorData | None:
        if vehicleId != self.vehicle_id:
            return _error(404, "unavailable_data", f"unknown vehicleId {vehicleId!r}")
        return None

    def _check_protocol(self, protocol: str) -> ErrorData | None:
        if protocol not in self.endpoints:
            offered = [p for p in PROTOCOLS if p in self.endpoints]
            return _error(400, "bad_request", f"protocol {protocol!r} is not offered: {offered}")
        return None

    def _protocol(self) -> str:
        assert self._default is not None
        return self._default

    def _session(
        self, vehicleId: int, stCredentials: str
    ) -> tuple[VissClient | None, ErrorData | None]:
        """The default protocol's client, authorized for the next request."""
        problem = self._check_vehicle(vehicleId)
        if problem:
            return None, problem
        if self._default is None:
            return None, _error(503, "service_unavailable", "not connected: call Connect first")
        client = self._clients[self._default]
        # The client copies the token into the request before its first await, so concurrent
        # procedures with different credentials do not mix them up.
        client.authorize(stCredentials or self._tokens.get(self._default))
        return client, None

    async def _discover(
        self, client: VissClient, refresh: bool
    ) -> tuple[list[_Seat], ErrorData | None]:
        protocol = self._protocol()
        if refresh or protocol not in self._seats:
            try:
                answer = await client.get(self._seating_branch, filters.metadata(0))
            except VissError as error:
                if error.number == "404":
                    return [], _unsupported(f"seating ({self._seating_branch} is not in its tree)")
                return [], _error_of(error)
            except _CALL_FAILURES as error:
                return [], _error_of(error)
            self._seats[protocol] = _seating(self._seating_branch, answer.get("metadata"))
        seats = self._seats[protocol]
        if not seats:
            return [], _unsupported(
                f"seating (no seat below {self._seating_branch} has a movement or massage "
                "actuator)")
        return seats, None

    async def _find_seat(
        self, client: VissClient, seatId: MatrixId
    ) -> tuple[_Seat | None, ErrorData | None]:
        seats, problem = await self._discover(client, refresh=False)
        if problem:
            return None, problem
        for seat in seats:
            if (seat.row, seat.column) == (seatId.RowName, seatId.ColumnName):
                return seat, None
        return None, _unsupported(f"seat {seatId.RowName}.{seatId.ColumnName}")

    async def _move_now(self, move: _Move, deadline: float) -> MoveSeatOutput:
        try:
            return await move.follow(deadline, progress=False)
        except asyncio.CancelledError:
            # The caller gave up: the seat stops where it is.
            await asyncio.shield(self._halt_quietly(move))
            raise
        finally:
            await asyncio.shield(move.watch.stop())

    @staticmethod
    async def _halt_quietly(move: _Move) -> None:
        error = await move.halt()
        if error is not None:
            log.warning("stopping %s failed: %s", move.axis.actuator.path, error)

    async def _move_in_background(self, move: _Move, deadline: float) -> None:
        outcome = await move.follow(deadline, progress=True)
        if move.finished:
            return
        move.finished = True
        self._services.pop(move.service_id, None)
        await move.watch.stop()
        _notify(move.callback, outcome)

    async def _massage_timer(self, run: _MassageRun, duration: int) -> None:
        await asyncio.sleep(duration)
        if self._services.pop(run.service_id, None) is None:
            return
        run.finish(await run.switch_off())


def _variants(chosen: filters.Filter) -> set[str]:
    listed = chosen if isinstance(chosen, list) else [chosen]
    return {str(item.get("variant")) for item in listed}
