"""Data compression `dc` (viss-core.md §6, §11 item 16; docs/conformance.md "Data
compression"): payload sizes per scheme against the plain message, and a client-side
decoder (dc_decoder.py) whose output must equal the uncompressed message.

The server runs a frozen simulation (flags.py): every leaf has a value that does not change
during the module, so a compressed and a plain read of the same signals carry the same data.
Sizes are printed and appended to the file named by VISS_CONFORMANCE_REPORT."""

import os

import pytest

import wire
from dc_decoder import DcDecoder, assert_same_data, parse_scheme
from flags import FROZEN_SIMULATION

SCHEMES = ("0+1", "2+0", "2+1")
WHOLE_TREE = {"action": "get", "path": "Vehicle", "filter": {"variant": "paths", "parameter": ["*"]}}
SUBSCRIBED = ["Speed", "CurrentLocation.Latitude", "CurrentLocation.Longitude", "Cabin.DoorCount",
              "Cabin.Door.*.*.IsOpen", "Powertrain.TractionBattery.StateOfCharge.Current"]
EVENTS_PER_SUBSCRIPTION = 3


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard(*FROZEN_SIMULATION)


def report(line: str) -> None:
    print(line)
    target = os.environ.get("VISS_CONFORMANCE_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def report_sizes(what: str, scheme: str, plain: int, compressed: int) -> None:
    report(f"dc {what} scheme {scheme}: plain {plain} B, compressed {compressed} B, "
           f"ratio {compressed / plain:.3f}")


def paths_of(message):
    return [item["path"] for item in wire.data_items(message)]


def dp_timestamps(message):
    return [point["ts"] for item in wire.data_items(message) for point in wire.datapoints(item)]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_get_of_the_whole_tree_compresses_and_decodes(ws, scheme):
    compressed = wire.assert_success(ws.request({**WHOLE_TREE, "dc": scheme}, timeout=20))
    plain = wire.assert_success(ws.request(WHOLE_TREE, timeout=20))
    report_sizes("get Vehicle paths [*]", scheme, ws.size_of(plain), ws.size_of(compressed))
    path_scheme, ts_scheme = parse_scheme(scheme)
    # A multi-path get has one response only, so its paths stay full (docs/conformance.md).
    assert sorted(paths_of(compressed)) == sorted(paths_of(plain))
    if ts_scheme == 1:
        assert all(wire.TS_OFFSET.match(ts) for ts in dp_timestamps(compressed)), "dp ts not offsets"
        assert ws.size_of(compressed) < ws.size_of(plain)
    assert_same_data(DcDecoder(scheme, WHOLE_TREE["path"]).decode(compressed), plain)


@pytest.mark.parametrize("scheme", ["2+0", "2+1"])
def test_single_path_get_uses_index_zero(ws, scheme):
    request = {"action": "get", "path": "Vehicle.Speed"}
    compressed = wire.assert_success(ws.request({**request, "dc": scheme}))
    assert paths_of(compressed) == ["0"]
    plain = ws.request(request)
    assert_same_data(DcDecoder(scheme, request["path"]).decode(compressed), plain)


def subscribe_events(ws, dc=None):
    members = {"dc": dc} if dc else {}
    sid = ws.subscribe("Vehicle", [{"variant": "paths", "parameter": SUBSCRIBED},
                                   {"variant": "timebased", "parameter": {"period": "100"}}], **members)
    events = [ws.next_event(sid, timeout=2) for _ in range(EVENTS_PER_SUBSCRIPTION)]
    ws.unsubscribe(sid)
    return events


@pytest.mark.parametrize("scheme", SCHEMES)
def test_subscription_events_compress_and_decode(ws, scheme):
    plain_events = subscribe_events(ws)
    events = subscribe_events(ws, scheme)
    path_scheme, _ = parse_scheme(scheme)
    full_paths = sorted(paths_of(plain_events[0]))
    assert len(full_paths) > 1
    if path_scheme == 2:
        assert sorted(paths_of(events[0])) == full_paths, "the first event carries full paths"
        for later in events[1:]:
            assert all(path.isdigit() for path in paths_of(later)), f"paths not indexes: {paths_of(later)}"
    report_sizes(f"subscription event ({len(full_paths)} signals)", scheme,
                 ws.size_of(plain_events[-1]), ws.size_of(events[-1]))
    assert ws.size_of(events[-1]) < ws.size_of(plain_events[-1])
    decoder = DcDecoder(scheme, "Vehicle")
    for event in events:
        assert_same_data(decoder.decode(event), plain_events[0])


@pytest.mark.parametrize("dc", ["1+0", "1+1", "4+0", "0+2", "8+8"])
def test_unsupported_scheme_is_404_unsupported_feature(ws, dc):
    response = ws.request({"action": "get", "path": "Vehicle.Speed", "dc": dc})
    wire.assert_error(response, "404", "unavailable_data", "Unsupported feature")
    response = ws.request({"action": "subscribe", "path": "Vehicle.Speed", "dc": dc,
                           "filter": {"variant": "timebased", "parameter": {"period": "1000"}}})
    wire.assert_error(response, "404", "unavailable_data", "Unsupported feature")


@pytest.mark.parametrize("dc", ["", "2", "2+", "+1", "a+b", "2+1+0", "2 + 1", "-2+1"])
def test_malformed_scheme_is_400_bad_request(ws, dc):
    wire.assert_error(ws.request({"action": "get", "path": "Vehicle.Speed", "dc": dc}), "400", "bad_request")
