"""A client-side decoder for VISS data compression (`dc`, viss-core.md §6 and
docs/conformance.md "Data compression"): turns request-local path indexes back into paths
and millisecond timestamp offsets back into ISO 8601 timestamps."""

import copy
from datetime import timedelta

import wire


def parse_scheme(dc: str) -> tuple[int, int]:
    """`"A+B"` -> (A, B)."""
    path_scheme, _, ts_scheme = dc.partition("+")
    return int(path_scheme), int(ts_scheme)


class DcDecoder:
    """Decodes the responses of one request (a get, or a subscription's events in order).

    `request_path` is the request's `path`; a single-path request is answered with `"0"`
    from its first response on, a multi-path one with full paths in its first response and
    afterwards each path's index in the byte-wise sorted list of those paths."""

    def __init__(self, dc: str, request_path: str):
        self.path_scheme, self.ts_scheme = parse_scheme(dc)
        self.request_path = request_path
        self.sorted_paths: list[str] | None = None

    def decode(self, message: dict) -> dict:
        decoded = copy.deepcopy(message)
        if "data" not in decoded:
            return decoded
        items = decoded["data"] if isinstance(decoded["data"], list) else [decoded["data"]]
        if self.path_scheme == 2:
            self._decode_paths(items)
        if self.ts_scheme == 1:
            message_time = wire.parse_ts(decoded["ts"])
            for item in items:
                for point in wire.datapoints(item):
                    point["ts"] = _absolute(point["ts"], message_time)
        return decoded

    def _decode_paths(self, items: list[dict]) -> None:
        compressed = [item["path"] for item in items if item["path"].isdigit()]
        if not compressed:
            if self.sorted_paths is None:
                self.sorted_paths = sorted(item["path"] for item in items)
            return
        assert len(compressed) == len(items), f"mixed full and compressed paths: {items}"
        table = self.sorted_paths if self.sorted_paths is not None else [self.request_path]
        for item in items:
            index = int(item["path"])
            assert index < len(table), f"path index {index} beyond the {len(table)} paths"
            item["path"] = table[index]


def _absolute(ts: str, message_time) -> str:
    """A `+n`/`-n` millisecond offset from the message `ts` as ISO 8601; an ISO value (the
    server may keep it for large offsets, §6) stays as it is."""
    if not wire.TS_OFFSET.match(ts):
        wire.parse_ts(ts)
        return ts
    instant = message_time + timedelta(milliseconds=int(ts))
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def assert_same_data(decoded: dict, plain: dict) -> None:
    """Values equal, data point timestamps equal to the millisecond, paths equal."""
    decoded_points = _points_by_path(decoded)
    plain_points = _points_by_path(plain)
    assert sorted(decoded_points) == sorted(plain_points), "decoded paths differ from the plain message"
    for path, points in plain_points.items():
        other = decoded_points[path]
        assert [p["value"] for p in other] == [p["value"] for p in points], f"values differ at {path}"
        for mine, theirs in zip(other, points):
            if theirs["value"] == wire.INLINE_MISSING:
                continue  # no capture time: its ts is the time of the read, which differs
            difference = abs(wire.parse_ts(mine["ts"]) - wire.parse_ts(theirs["ts"]))
            assert difference < timedelta(milliseconds=1), (
                f"{path}: decoded ts {mine['ts']} vs plain {theirs['ts']}")


def _points_by_path(message: dict) -> dict[str, list[dict]]:
    return {item["path"]: wire.datapoints(item) for item in wire.data_items(message)}
