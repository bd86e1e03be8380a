"""Filters on the standard tree (viss-core.md §5, §11 items 7, 8, 17, 18): paths with
wildcards, the combination and method rules, history and metadata. Expected node sets come
from the reference export (vss_tree.py)."""

import re
from datetime import datetime, timedelta, timezone

import pytest

import vss_tree
import wire

CABIN = "Vehicle.Cabin"
NAV_VOLUME = "Vehicle.Cabin.Infotainment.Navigation.Volume"  # actuator uint8, set only by the history test
DOOR_OPEN = "Vehicle.Cabin.Door.{}.IsOpen"
DOORS = [f"Row{row}.{side}" for row in (1, 2) for side in ("DriverSide", "PassengerSide")]


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard()


def get(ws, path, filter_):
    return ws.request({"action": "get", "path": path, "filter": filter_})


def paths_filter(parameter):
    return {"variant": "paths", "parameter": parameter}


def returned_paths(response):
    return [item["path"] for item in wire.data_items(response)]


def leaves_matching(shared_dir, pattern):
    return sorted(path for path in vss_tree.leaves(shared_dir) if re.fullmatch(pattern, path))


def supported_filters(ws):
    return wire.single_value(ws.request({"action": "get", "path": "Server.Support.Filter"}))


# -- paths ----------------------------------------------------------------------------------

def test_wildcard_matches_exactly_one_segment(ws, shared_dir):
    response = get(ws, CABIN, paths_filter(["Door.*.*.IsOpen"]))
    expected = leaves_matching(shared_dir, r"Vehicle\.Cabin\.Door\.[^.]+\.[^.]+\.IsOpen")
    assert len(expected) == 4
    assert sorted(returned_paths(response)) == expected


def test_branch_end_point_stands_for_its_leaves(ws, shared_dir):
    response = get(ws, CABIN, paths_filter(["Door.Row1.DriverSide.Window"]))
    assert sorted(returned_paths(response)) == sorted(vss_tree.leaves(shared_dir, "Vehicle.Cabin.Door.Row1.DriverSide.Window"))


def test_paths_parameter_may_be_one_string(ws):
    as_array = get(ws, CABIN, paths_filter(["Door.*.*.IsOpen"]))
    as_string = get(ws, CABIN, paths_filter("Door.*.*.IsOpen"))
    assert sorted(returned_paths(as_string)) == sorted(returned_paths(as_array))


def test_paths_accept_slash_delimiters(ws):
    dotted = get(ws, CABIN, paths_filter(["Door.*.*.IsOpen"]))
    slashed = get(ws, CABIN, paths_filter(["Door/*/*/IsOpen"]))
    assert sorted(returned_paths(slashed)) == sorted(returned_paths(dotted))


def test_signals_are_deduplicated(ws):
    first = "Door.Row1.DriverSide.IsOpen"
    response = get(ws, CABIN, paths_filter([first, "Door.*.*.IsOpen", first, "Door.Row1.*.IsOpen"]))
    paths = returned_paths(response)
    assert len(paths) == len(set(paths)) == 4, paths


def test_every_paths_element_must_match(ws):
    response = get(ws, CABIN, paths_filter(["DoorCount", "NoSuchNode.*"]))
    wire.assert_error(response, "404", "unavailable_data")


@pytest.mark.parametrize("condition", [
    {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}},
    {"variant": "range", "parameter": {"logic-op": "gt", "boundary": "0"}},
], ids=["change", "range"])
def test_first_paths_element_with_wildcard_is_refused_for_change_and_range(ws, condition):
    response = ws.request({"action": "subscribe", "path": "Vehicle.Cabin.Door",
                           "filter": [paths_filter(["*.*.IsOpen"]), condition]})
    wire.assert_error(response, "400", "bad_request")


def set_(ws, path, value):
    wire.assert_success(ws.request({"action": "set", "path": path, "value": value}))


def test_change_triggers_on_the_first_path_and_events_are_deduplicated(ws):
    """§5.10: a concrete first path, then a wildcard covering it again."""
    for door in DOORS:
        set_(ws, DOOR_OPEN.format(door), "false")
    sid = ws.subscribe("Vehicle.Cabin.Door", [
        paths_filter(["Row1.DriverSide.IsOpen", "*.*.IsOpen"]),
        {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}}])
    ws.events_within(sid, 0.3)
    set_(ws, DOOR_OPEN.format("Row2.PassengerSide"), "true")
    assert not ws.events_within(sid, 0.3), "a signal other than the first path triggered"
    set_(ws, DOOR_OPEN.format("Row1.DriverSide"), "true")
    event = ws.next_event(sid, timeout=2)
    values = wire.values_by_path(event)
    assert sorted(values) == sorted(DOOR_OPEN.format(door) for door in DOORS), "event lists each signal once"
    assert values[DOOR_OPEN.format("Row1.DriverSide")] == "true"
    assert values[DOOR_OPEN.format("Row2.PassengerSide")] == "true"


def test_timebased_with_paths_sends_every_signal(ws):
    sid = ws.subscribe(CABIN, [paths_filter(["DoorCount", "SeatRowCount"]),
                               {"variant": "timebased", "parameter": {"period": "100"}}])
    event = ws.next_event(sid, timeout=2)
    assert sorted(wire.values_by_path(event)) == ["Vehicle.Cabin.DoorCount", "Vehicle.Cabin.SeatRowCount"]


# -- combination and method rules -------------------------------------------------------------

@pytest.mark.parametrize("filter_", [
    {"variant": "timebased", "parameter": {"period": "100"}},
    {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}},
    {"variant": "range", "parameter": {"logic-op": "gt", "boundary": "0"}},
    {"variant": "curvelog", "parameter": {"maxerr": "1", "bufsize": "10"}},
], ids=lambda f: f["variant"])
def test_subscribe_only_filters_on_get_are_incorrect(ws, filter_):
    wire.assert_error(get(ws, "Vehicle.Cabin.DoorCount", filter_), "400", "bad_request", "Incorrect filter")


@pytest.mark.parametrize("filter_", [
    {"variant": "history", "parameter": "PT1M"},
    {"variant": "metadata", "parameter": "1"},
], ids=lambda f: f["variant"])
def test_read_only_filters_on_subscribe_are_incorrect(ws, filter_):
    response = ws.request({"action": "subscribe", "path": "Vehicle.Cabin.DoorCount", "filter": filter_})
    wire.assert_error(response, "400", "bad_request", "Incorrect filter")


def test_more_than_two_filters_is_400(ws):
    response = ws.request({"action": "subscribe", "path": CABIN, "filter": [
        paths_filter(["DoorCount"]), {"variant": "timebased", "parameter": {"period": "100"}},
        {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}}]})
    wire.assert_error(response, "400", "bad_request")


def test_two_paths_filters_are_400(ws):
    response = get(ws, CABIN, [paths_filter(["DoorCount"]), paths_filter(["SeatRowCount"])])
    wire.assert_error(response, "400", "bad_request")


def test_unadvertised_combination_is_refused(ws):
    """§5.1: beyond paths + one other, a combination must be listed as `a+b`."""
    message = {"action": "subscribe", "path": "Vehicle.Cabin.DoorCount", "filter": [
        {"variant": "timebased", "parameter": {"period": "100"}},
        {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}}]}
    response = ws.request(message)
    if "timebased+change" in supported_filters(ws):
        wire.assert_success(response)
    else:
        wire.assert_error(response, "400", "bad_request")


def test_filter_without_parameter_is_400(ws):
    wire.assert_error(get(ws, CABIN, {"variant": "paths"}), "400", "bad_request")


# -- history ----------------------------------------------------------------------------------

def history(period):
    return {"variant": "history", "parameter": period}


def test_history_with_nothing_recorded_is_404(ws):
    assert "history" in supported_filters(ws), "history is recorded by default"
    response = get(ws, "Vehicle.Speed", history("PT1M"))
    wire.assert_error(response, "404", "unavailable_data")
    assert response["error"]["description"] != "Unsupported feature"


def test_history_returns_earlier_values_but_not_the_current_one(ws):
    before = datetime.now(timezone.utc)
    for value in ("11", "12", "13"):
        set_(ws, NAV_VOLUME, value)
    response = get(ws, NAV_VOLUME, history("PT1M"))
    items = wire.data_items(response)
    assert [item["path"] for item in items] == [NAV_VOLUME]
    points = sorted(wire.datapoints(items[0]), key=lambda point: wire.parse_ts(point["ts"]))
    assert [point["value"] for point in points] == ["11", "12"], "history is every earlier value, not the current"
    for point in points:
        assert before - timedelta(seconds=5) <= wire.parse_ts(point["ts"]) <= wire.parse_ts(response["ts"])
    with_paths = get(ws, "Vehicle.Cabin.Infotainment.Navigation", [paths_filter(["Volume"]), history("PT1M")])
    assert wire.data_items(with_paths) == items, "paths + history (an array filter on get, §18-Q1)"


@pytest.mark.parametrize("period", ["P1Y", "P1M", "P1W", "PT", "1H", "P999D", "PT-5M", "P2DT12H30M1S2"])
def test_malformed_history_period_is_400(ws, period):
    wire.assert_error(get(ws, "Vehicle.Speed", history(period)), "400")


@pytest.mark.parametrize("period", ["P2DT12H", "PT30M", "P998D", "PT1H2M3S", "P1D"])
def test_well_formed_history_period_is_accepted(ws, period):
    response = get(ws, "Vehicle.Speed", history(period))
    if "error" in response:
        wire.assert_error(response, "404", "unavailable_data")


# -- metadata -------------------------------------------------------------------------------

def metadata(ws, path, depth, paths=None):
    filter_ = {"variant": "metadata", "parameter": depth}
    if paths is not None:
        filter_ = [paths_filter(paths), filter_]
    response = wire.assert_success(get(ws, path, filter_))
    assert isinstance(response.get("metadata"), dict) and "data" not in response, response
    return response["metadata"]


def child_names(shared_dir, path):
    prefix = path + "."
    return sorted({p[len(prefix):].split(".")[0] for p in vss_tree.standard_nodes(shared_dir) if p.startswith(prefix)})


def test_metadata_depth_one_is_the_node_only(ws):
    meta = metadata(ws, CABIN, "1")
    assert list(meta) == ["Cabin"]
    assert meta["Cabin"]["type"] == "branch"
    assert "children" not in meta["Cabin"]


def test_metadata_depth_two_adds_the_children(ws, shared_dir):
    cabin = metadata(ws, CABIN, "2")["Cabin"]
    children = cabin["children"]
    assert isinstance(children, dict), "children keyed by name (§5.8)"
    assert sorted(children) == child_names(shared_dir, CABIN)
    assert all("children" not in child for child in children.values()), "depth 2 stops at the children"


def flatten(name, meta):
    yield name, meta
    for child, child_meta in meta.get("children", {}).items():
        yield from flatten(f"{name}.{child}", child_meta)


def test_metadata_depth_zero_is_the_whole_subtree(ws, shared_dir):
    branch = "Vehicle.Cabin.Door"
    meta = metadata(ws, branch, "0")
    described = dict(flatten("Vehicle.Cabin.Door", meta["Door"]))
    reference = {p: n for p, n in vss_tree.standard_nodes(shared_dir).items() if p == branch or p.startswith(branch + ".")}
    assert sorted(described) == sorted(reference)
    for path, node in reference.items():
        assert described[path]["type"] == node["type"], path
        if "datatype" in node:
            assert described[path]["datatype"] == node["datatype"], path


def test_metadata_of_a_leaf(ws, shared_dir):
    node = vss_tree.standard_nodes(shared_dir)["Vehicle.Cabin.DoorCount"]
    meta = metadata(ws, "Vehicle.Cabin.DoorCount", "0")["DoorCount"]
    assert meta["type"] == node["type"] and meta["datatype"] == node["datatype"]
    assert meta["description"] == node["description"]


def test_metadata_with_paths_describes_each_node(ws):
    meta = metadata(ws, "Vehicle.Cabin.Door", "1", paths=["*.*.IsOpen"])
    assert len(meta) == 4, f"one entry per addressed node: {list(meta)}"
    assert all(entry["type"] == "actuator" for entry in meta.values())


def test_metadata_combines_only_with_paths(ws):
    response = get(ws, CABIN, [{"variant": "metadata", "parameter": "1"}, history("PT1M")])
    wire.assert_error(response, "400")


@pytest.mark.parametrize("depth", ["-1", "x", "", "1.5"])
def test_malformed_metadata_depth_is_400(ws, depth):
    wire.assert_error(get(ws, CABIN, {"variant": "metadata", "parameter": depth}), "400")
