"""What VISS messages look like on the wire, as plain checks: the error table, timestamps,
the data/dp shapes and the string encoding of values. `§n` = viss-core.md sections."""

import math
import re
from datetime import datetime, timedelta, timezone

# TRANSPORT §4.1, viss-core.md §4.7: the ten rows (reason -> number).
ERROR_TABLE = {
    "bad_request": "400",
    "invalid_data": "400",
    "invalid_token": "401",
    "forbidden_request": "403",
    "unavailable_data": "404",
    "request_timeout": "408",
    "too_many_requests": "429",
    "bad_gateway": "502",
    "service_unavailable": "503",
    "gateway_timeout": "504",
}

# viss-v2-compat.md §6: the v2 table (number as an integer, `message` instead of
# `description`), plus the v3 rows a v2 session may still see (408, 429 keep their v3 reason).
V2_ERROR_TABLE = {
    "bad_request": 400,
    "invalid_data": 400,
    "expired_token": 401,
    "invalid_token": 401,
    "missing_token": 401,
    "forbidden_request": 403,
    "unavailable_data": 404,
    "request_timeout": 408,
    "too_many_requests": 429,
    "service_unavailable": 503,
}

CLIENT_ACTIONS = ("get", "set", "subscribe", "unsubscribe")
INLINE_MISSING = "viss-inline:Data-not-available"  # TRANSPORT §4.1.1
INLINE_PREFIX = "viss-inline:"

# §3.2: YYYY-MM-DDTHH:MM:SS[.fraction]Z, UTC only.
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
# §6: a compressed dp timestamp is a signed millisecond offset ("-123", "+0").
TS_OFFSET = re.compile(r"^[+-]\d+$")
# RFC 8259 number syntax (§3.1) and its integer subset.
JSON_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$")
JSON_INTEGER = re.compile(r"^-?(0|[1-9]\d*)$")

INTEGER_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
FLOATS = ("float", "double")


def parse_ts(text: str) -> datetime:
    """An ISO 8601 UTC timestamp with `Z`, as an aware datetime (fractions beyond
    microseconds are cut, Python keeps six digits)."""
    assert isinstance(text, str) and ISO_UTC.match(text), f"not ISO 8601 UTC with Z: {text!r}"
    seconds, _, fraction = text[:-1].partition(".")
    parsed = datetime.strptime(seconds, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return parsed + timedelta(microseconds=int((fraction or "0")[:6].ljust(6, "0")))


def check_error_v3(error: object) -> None:
    """§4.7: exactly number, reason and description, strings, a row of the table."""
    assert isinstance(error, dict), f"error is not an object: {error!r}"
    assert set(error) == {"number", "reason", "description"}, f"error members: {error}"
    assert all(isinstance(error[key], str) for key in error), f"error members not strings: {error}"
    assert ERROR_TABLE.get(error["reason"]) == error["number"], f"not a row of the error table: {error}"
    assert error["description"], f"empty error description: {error}"


def check_error_v2(error: object) -> None:
    """viss-v2-compat.md §6: integer number, reason, message."""
    assert isinstance(error, dict), f"error is not an object: {error!r}"
    assert set(error) == {"number", "reason", "message"}, f"v2 error members: {error}"
    assert type(error["number"]) is int, f"v2 error number is not an integer: {error}"
    assert V2_ERROR_TABLE.get(error["reason"]) == error["number"], f"not a v2 table row: {error}"
    assert isinstance(error["message"], str) and error["message"], f"v2 error message: {error}"


def error_of(message: dict) -> tuple:
    """(number, reason, description-or-message) of an error message."""
    assert "error" in message, f"expected an error, got {message}"
    error = message["error"]
    return error["number"], error["reason"], error.get("description", error.get("message"))


def assert_error(message: dict, number: str, reason: str | None = None, description: str | None = None):
    got_number, got_reason, got_description = error_of(message)
    assert str(got_number) == number, f"expected error {number}, got {message['error']}"
    if reason is not None:
        assert got_reason == reason, f"expected reason {reason}, got {message['error']}"
    if description is not None:
        assert got_description == description, f"expected {description!r}, got {message['error']}"


def assert_success(message: dict) -> dict:
    assert "error" not in message, f"unexpected error: {message}"
    return message


def data_items(message: dict) -> list[dict]:
    """§4.2: `data` is one object or an array of them."""
    assert_success(message)
    data = message["data"]
    return data if isinstance(data, list) else [data]


def datapoints(item: dict) -> list[dict]:
    """§4.2: `dp` is one object or an array of them."""
    dp = item["dp"]
    return dp if isinstance(dp, list) else [dp]


def values_by_path(message: dict) -> dict[str, object]:
    """path -> value of the (single) data point of each data item."""
    result = {}
    for item in data_items(message):
        points = datapoints(item)
        assert len(points) == 1, f"expected one data point for {item['path']}: {item}"
        result[item["path"]] = points[0]["value"]
    return result


def single_value(message: dict) -> object:
    items = data_items(message)
    assert len(items) == 1, f"expected one data item: {message}"
    return values_by_path(message)[items[0]["path"]]


def check_timestamps(message: dict, dp_offsets: bool = False) -> None:
    """§3.2: the message `ts` and every dp `ts` are ISO 8601 UTC with `Z`; with timestamp
    compression (§6) a dp `ts` may be a signed millisecond offset instead."""
    if "ts" in message:
        parse_ts(message["ts"])
    if not isinstance(message.get("data"), (dict, list)):
        return
    items = message["data"] if isinstance(message["data"], list) else [message["data"]]
    for item in items:
        if not isinstance(item, dict) or "dp" not in item:
            continue
        for point in datapoints(item):
            ts = point.get("ts")
            if dp_offsets and isinstance(ts, str) and TS_OFFSET.match(ts):
                continue
            parse_ts(ts)


def scalar_problem(text: object, datatype: str, node: dict) -> str | None:
    """Why `text` is not a correct §3.1 encoding of a `datatype` value of `node` (a VSS
    JSON node: min, max, allowed), or None."""
    if not isinstance(text, str):
        return f"{text!r} is not a JSON string"
    if text.startswith(INLINE_PREFIX):
        return f"{text!r} uses the reserved in-line prefix"
    if datatype == "boolean":
        return None if text in ("true", "false") else f"{text!r} is not true/false"
    if datatype in INTEGER_RANGES:
        if not JSON_INTEGER.match(text):
            return f"{text!r} is not an integer"
        low, high = INTEGER_RANGES[datatype]
        return None if low <= int(text) <= high else f"{text} outside {datatype}"
    if datatype in FLOATS:
        if not JSON_NUMBER.match(text):
            return f"{text!r} is not an RFC 8259 number"
        return None if math.isfinite(float(text)) else f"{text} is not finite"
    return None


def limit_problem(text: str, node: dict) -> str | None:
    """min/max/allowed of the node (§3.1: the server only holds values within them)."""
    allowed = node.get("allowed")
    if allowed is not None and text not in [str(option) for option in allowed]:
        return f"{text!r} not in allowed {allowed}"
    if "min" in node or "max" in node:
        number = float(text)
        if "min" in node and number < node["min"]:
            return f"{text} below min {node['min']}"
        if "max" in node and number > node["max"]:
            return f"{text} above max {node['max']}"
    return None


def value_problem(value: object, node: dict) -> str | None:
    """Why `value` is not a correct encoding of a value of the VSS JSON `node`, or None."""
    datatype = node["datatype"]
    if datatype.endswith("[]"):
        if not isinstance(value, list) or not value:
            return f"{value!r} is not a non-empty array of strings"
        problems = [value_problem(item, {**node, "datatype": datatype[:-2]}) for item in value]
        return next((problem for problem in problems if problem), None)
    problem = scalar_problem(value, datatype, node)
    if problem is None and datatype != "boolean" and isinstance(value, str):
        problem = limit_problem(value, node)
    return problem
