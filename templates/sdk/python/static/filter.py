"""Typed builders for VISS v3 filter expressions (viss-core.md section 5).

Each function returns the wire filter object, `{"variant": ..., "parameter": ...}`, ready to
be passed as the `filter` of a get or subscribe; `combine()` joins several into the array
form (at most one `paths` plus one other variant is what every server must support).
Numeric parameters are written as JSON strings, as the protocol requires.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal, cast

__all__ = [
    "Filter",
    "FilterObject",
    "LogicOp",
    "Number",
    "change",
    "combine",
    "curvelog",
    "history",
    "metadata",
    "paths",
    "range_",
    "timebased",
]

FilterObject = dict[str, Any]
"""One filter: {"variant": ..., "parameter": ...}."""

Filter = FilterObject | list[FilterObject]
"""A filter expression: one filter object, or a list of them that must all hold."""

LogicOp = Literal["eq", "ne", "gt", "gte", "lt", "lte"]
"""The comparison operators of `range` and `change`, spelled as VISS v3 spells them."""

Number = int | float | str

_LOGIC_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# ISO 8601 durations as VISS restricts them: days, hours, minutes and seconds only.
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?")


def _number(name: str, value: Number) -> str:
    """A numeric parameter as the JSON string the server expects."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name}: {value} is not a finite number")
    text = value if isinstance(value, str) else str(value)
    if not _JSON_NUMBER.fullmatch(text):
        raise ValueError(f"{name}: {value!r} is not a number")
    return text


def _logic_op(value: str) -> LogicOp:
    if value in _LOGIC_OPS:
        return cast(LogicOp, value)
    raise ValueError(f"logic-op must be one of {list(_LOGIC_OPS)}, got {value!r}")


def timebased(period_ms: int) -> FilterObject:
    """An event with the current value every `period_ms` milliseconds (subscribe only)."""
    if isinstance(period_ms, bool) or not isinstance(period_ms, int):
        raise TypeError(f"period_ms: expected int, got {type(period_ms).__name__}")
    if period_ms <= 0:
        raise ValueError(f"period_ms must be positive, got {period_ms}")
    return {"variant": "timebased", "parameter": {"period": str(period_ms)}}


def change(logic_op: LogicOp, diff: Number) -> FilterObject:
    """An event when (new - previous) `logic_op` `diff` holds, e.g. change("ne", 0) on any change
    (subscribe only; booleans and strings take diff 0)."""
    return {
        "variant": "change",
        "parameter": {"logic-op": _logic_op(logic_op), "diff": _number("diff", diff)},
    }


def range_(
    ranges: Sequence[tuple[LogicOp, Number]],
    combination_op: Literal["AND", "OR"] | None = None,
) -> FilterObject:
    """An event while the value satisfies one boundary, e.g. range_([("gt", 100)]), or two
    boundaries joined by `combination_op` (default AND), e.g.
    range_([("lt", 5), ("gt", 10)], "OR") (subscribe only)."""
    bounds: list[dict[str, str]] = [
        {"logic-op": _logic_op(op), "boundary": _number("boundary", boundary)}
        for op, boundary in ranges
    ]
    if len(bounds) == 1:
        if combination_op is not None:
            raise ValueError("combination_op needs two boundaries")
        return {"variant": "range", "parameter": bounds[0]}
    if len(bounds) != 2:
        raise ValueError(f"range_ takes one or two boundaries, got {len(bounds)}")
    if combination_op is not None:
        if combination_op not in ("AND", "OR"):
            raise ValueError(f"combination_op must be 'AND' or 'OR', got {combination_op!r}")
        # The v3 form: the operator travels on the first boundary.
        bounds[0]["combination-op"] = combination_op
    return {"variant": "range", "parameter": bounds}


def curvelog(max_err: float, buf_size: int) -> FilterObject:
    """Curve logging: buffer `buf_size` samples, send the ones that matter within `max_err`
    (subscribe only)."""
    if isinstance(buf_size, bool) or not isinstance(buf_size, int):
        raise TypeError(f"buf_size: expected int, got {type(buf_size).__name__}")
    if buf_size <= 0:
        raise ValueError(f"buf_size must be positive, got {buf_size}")
    return {
        "variant": "curvelog",
        "parameter": {"maxerr": _number("max_err", max_err), "bufsize": str(buf_size)},
    }


def history(period: str) -> FilterObject:
    """The recorded values of the last `period`, an ISO 8601 duration such as "PT1H" or
    "P2DT12H" (get only)."""
    match = _DURATION.fullmatch(period) if isinstance(period, str) else None
    # "P" and "PT" match the pattern but name no duration at all.
    if match is None or period in ("P", "PT") or period.endswith("T"):
        raise ValueError(f"history: {period!r} is not an ISO 8601 duration like 'PT1H'")
    days = match.group(1)
    if days is not None and int(days) >= 999:
        raise ValueError(f"history: at most 998 days, got {period!r}")
    return {"variant": "history", "parameter": period}


def metadata(depth: int = 0) -> FilterObject:
    """The node's metadata, `depth` generations deep (0 = the whole subtree; get only)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"metadata: depth must be a non-negative int, got {depth!r}")
    return {"variant": "metadata", "parameter": str(depth)}


def paths(relative: Sequence[str]) -> FilterObject:
    """Several nodes below the request path, e.g. paths(["Speed", "Cabin.Door.*.*.IsOpen"])
    (`*` matches one segment; for subscriptions the first path triggers and may not use `*`)."""
    names = [relative] if isinstance(relative, str) else list(relative)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"paths: expected non-empty relative paths, got {relative!r}")
    return {"variant": "paths", "parameter": names}


def combine(*filters: Filter) -> Filter:
    """All of `filters` at once (the array form); nested arrays are flattened."""
    combined: list[FilterObject] = []
    for item in filters:
        combined.extend(item if isinstance(item, list) else [item])
    if not combined:
        raise ValueError("combine: no filters given")
    return combined
