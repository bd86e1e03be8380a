"""Typed leaves: what the generated tree.py builds for every sensor, attribute and actuator.

    speed: Sensor[float] = Sensor(client, "Vehicle.Speed", codec.floating("float", 0, 250))
    kmh = await speed.get()

A leaf turns the client's wire answers into typed values with its codec, and an actuator
checks a value with the codec before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from . import filter as filters
from .client import Subscription, VissClient, VissError
from .codec import Codec

__all__ = ["Actuator", "Attribute", "DataPoint", "Sensor"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# A value the server could not provide in a multi-signal answer (TRANSPORT 4.1.1).
INLINE_ERROR_PREFIX = "viss-inline:"

# The datatypes the change filter can compare; arrays and structs have no "every change".
_SCALAR_TYPES = frozenset({
    "boolean", "string", "float", "double",
    "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
})
# subscribe()'s filter when none is given, for arrays and structs.
DEFAULT_PERIOD_MS = 1000


@dataclass(frozen=True)
class DataPoint(Generic[T]):
    """One value and its capture time (ISO 8601 UTC, as the server sent it)."""

    value: T
    ts: str


class _NoValue(Exception):
    """A data point without a usable value (not recorded yet, or an in-line error)."""


class Sensor(Generic[T]):
    """A readable, subscribable leaf."""

    def __init__(self, client: VissClient, path: str, codec: Codec[T]) -> None:
        self.path = path
        self.codec = codec
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}: {self.codec.vss_type}>"

    async def get(self, *, timeout: float | None = None) -> T:
        """The current value; VissError 404 when the server has none yet."""
        return (await self.get_data_point(timeout=timeout)).value

    async def get_data_point(self, *, timeout: float | None = None) -> DataPoint[T]:
        """The current value with its capture time."""
        answer = await self._client.get(self.path, timeout=timeout)
        points = self._decode_all(answer.get("data"), "get")
        if not points:
            description = "no value in the answer"
            raise VissError("404", "unavailable_data", description, "get", self.path)
        return points[-1]

    async def subscribe(
        self,
        on_value: Callable[[DataPoint[T]], None],
        filter: filters.Filter | None = None,
        on_end: Callable[[VissError], None] | None = None,
    ) -> Subscription:
        """Calls `on_value` for every data point of every event, in order. Without a filter:
        every change (change "ne" 0); arrays and structs, which the change filter cannot
        compare, every DEFAULT_PERIOD_MS instead. Data points without a value are skipped."""
        chosen = self._default_filter() if filter is None else filter
        return await self._client.subscribe(
            self.path, chosen, lambda data: self._on_event(data, on_value), on_end
        )

    async def history(self, period: str, *, timeout: float | None = None) -> list[DataPoint[T]]:
        """The values recorded during the last `period` (ISO 8601, e.g. "PT1H"), oldest first;
        VissError 404 when the server recorded none."""
        answer = await self._client.get(self.path, filters.history(period), timeout=timeout)
        return self._decode_all(answer.get("data"), "get")

    async def metadata(self, *, timeout: float | None = None) -> dict[str, Any]:
        """The node's VSS metadata (type, datatype, unit, min, max, description, ...)."""
        answer = await self._client.get(self.path, filters.metadata(1), timeout=timeout)
        tree = answer.get("metadata")
        if not isinstance(tree, dict):
            raise VissError("502", "bad_gateway", "answer without metadata", "get", self.path)
        # The answer is keyed by node name; a leaf's own entry is what callers want.
        own = tree.get(self.path.rsplit(".", 1)[-1])
        return own if isinstance(own, dict) else tree

    def _default_filter(self) -> filters.Filter:
        if self.codec.vss_type in _SCALAR_TYPES:
            return filters.change("ne", 0)
        return filters.timebased(DEFAULT_PERIOD_MS)

    def _on_event(self, data: Any, on_value: Callable[[DataPoint[T]], None]) -> None:
        # Runs in the client's reader: a bad data point is logged, never raised.
        for dp in self._data_points(data):
            try:
                point = self._decode(dp)
            except _NoValue as error:  # normal before the first value is known
                log.debug("%s: skipping an event data point: %s", self.path, error)
                continue
            except ValueError as error:  # the server sent something the codec cannot read
                log.warning("%s: skipping an event data point: %s", self.path, error)
                continue
            on_value(point)

    def _decode_all(self, data: object, action: str) -> list[DataPoint[T]]:
        try:
            return [self._decode(dp) for dp in self._data_points(data)]
        except _NoValue as error:
            raise VissError("404", "unavailable_data", str(error), action, self.path) from None

    def _data_points(self, data: object) -> list[object]:
        """The dps of this leaf in a `data` member: `data` and `dp` may each be an object or
        an array (viss-core.md 4.2)."""
        listed = data if isinstance(data, list) else [data]
        items = [item for item in listed if isinstance(item, dict)]
        own = [item for item in items if item.get("path") == self.path] or items[:1]
        points: list[object] = []
        for item in own:
            dp = item.get("dp")
            points.extend(dp if isinstance(dp, list) else [dp])
        return points

    def _decode(self, dp: object) -> DataPoint[T]:
        if not isinstance(dp, dict) or "value" not in dp:
            raise _NoValue("no value available")
        wire = dp["value"]
        if isinstance(wire, str) and wire.startswith(INLINE_ERROR_PREFIX):
            raise _NoValue(wire)
        return DataPoint(self.codec.decode(wire), str(dp.get("ts", "")))


class Attribute(Sensor[T]):
    """A leaf whose value does not change while the vehicle runs (read only)."""


class Actuator(Sensor[T]):
    """A leaf that can be set; get() reads its current (not its target) value."""

    async def set(self, value: T, *, timeout: float | None = None) -> None:
        """Requests `value`; the codec checks it first (TypeError/ValueError, nothing sent)."""
        await self._client.set(self.path, self.codec.encode(value), timeout=timeout)
