"""get and set on the standard tree (viss-core.md §11 items 1-6): paths, values, limits,
timestamps, echoes and the request-level errors. No simulator: attributes hold their
defaults, actuators what the tests set (docs/conformance.md "set": state storage)."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

import vss_tree
import wire

VOLUME = "Vehicle.Cabin.Infotainment.Media.Volume"  # actuator uint8, 0..100
DOOR_OPEN = "Vehicle.Cabin.Door.Row1.DriverSide.IsOpen"  # actuator boolean
PERFORMANCE_MODE = "Vehicle.Powertrain.Transmission.PerformanceMode"  # actuator string, allowed
SELECTED_URI = "Vehicle.Cabin.Infotainment.Media.SelectedURI"  # actuator string
DOOR_COUNT = "Vehicle.Cabin.DoorCount"  # attribute with a default
SPEED = "Vehicle.Speed"  # sensor
CLOCK_SLACK = timedelta(seconds=5)


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard()


def get(ws, path, **members):
    return ws.request({"action": "get", "path": path, **members})


def set_(ws, path, value):
    return ws.request({"action": "set", "path": path, "value": value})


def same_value(got, expected, datatype):
    """Equal as values of `datatype` (numbers compare numerically: "2" == "2.0")."""
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(
            same_value(g, e, datatype[:-2]) for g, e in zip(got, expected))
    if datatype in wire.FLOATS or datatype in wire.INTEGER_RANGES:
        return float(got) == float(expected)
    return got == expected


def test_attributes_read_their_default_values(ws, shared_dir):
    attributes = vss_tree.attributes_with_default(shared_dir, "Vehicle.Cabin")
    assert attributes, "the standard tree has attributes with defaults under Vehicle.Cabin"
    for path, node in attributes.items():
        response = get(ws, path)
        assert "error" not in response, f"{path}: {response}"
        value = wire.single_value(response)
        assert wire.data_items(response)[0]["path"] == path
        assert wire.value_problem(value, node) is None, f"{path}: {wire.value_problem(value, node)}"
        assert same_value(value, vss_tree.default_as_wire(node), node["datatype"]), f"{path}: {value!r}"


def test_array_values_are_arrays_of_strings(ws, shared_dir):
    arrays = {path: node for path, node in vss_tree.attributes_with_default(shared_dir, "Vehicle").items()
              if node["datatype"].endswith("[]")}
    assert arrays, "the standard tree has array attributes with defaults"
    for path, node in arrays.items():
        value = wire.single_value(get(ws, path))
        assert isinstance(value, list) and all(isinstance(item, str) for item in value), f"{path}: {value!r}"


def test_slash_and_dot_paths_address_the_same_node(ws):
    dotted = get(ws, DOOR_COUNT)
    slashed = get(ws, DOOR_COUNT.replace(".", "/"))
    assert wire.data_items(slashed)[0]["path"] == DOOR_COUNT, "responses carry dot paths"
    assert wire.single_value(slashed) == wire.single_value(dotted)


def test_branch_get_returns_every_leaf_below(ws, shared_dir):
    branch = "Vehicle.Cabin.Door.Row1.DriverSide"
    response = get(ws, branch)
    paths = [item["path"] for item in wire.data_items(response)]
    assert sorted(paths) == sorted(vss_tree.leaves(shared_dir, branch))
    assert len(paths) == len(set(paths)), "duplicate data items"


@pytest.mark.parametrize("path", ["Vehicle.Cabin.*.DoorCount", "Vehicle.*", "*"])
def test_wildcard_in_request_path_is_400(ws, path):
    wire.assert_error(get(ws, path), "400")


def test_unknown_path_is_404(ws):
    wire.assert_error(get(ws, "Vehicle.Cabin.NoSuchNode"), "404", "unavailable_data")


def test_unknown_root_is_404_data_is_unknown(ws):
    wire.assert_error(get(ws, "Truck.Cabin.DoorCount"), "404", "unavailable_data", "Data is unknown")


def test_paths_are_case_sensitive(ws):
    wire.assert_error(get(ws, DOOR_COUNT.lower()), "404", "unavailable_data")


@pytest.mark.parametrize("path,value", [
    (VOLUME, "42"), (DOOR_OPEN, "true"), (PERFORMANCE_MODE, "SPORT"), (SELECTED_URI, "file:///song.mp3")])
def test_set_actuator_then_get_returns_the_value(ws, path, value):
    response = wire.assert_success(set_(ws, path, value))
    assert set(response) == {"action", "requestId", "ts"}, f"set response members: {response}"
    assert wire.single_value(get(ws, path)) == value


@pytest.mark.parametrize("path,description", [
    (SPEED, "Update of a sensor is not supported"),
    (DOOR_COUNT, "Update of a sensor is not supported"),
    ("Vehicle.Cabin", "Requested action on a branch is not supported"),
])
def test_set_on_non_actuator_is_400_invalid_data(ws, path, description):
    wire.assert_error(set_(ws, path, "1"), "400", "invalid_data", description)


def test_set_outside_min_max_is_400_invalid_data(ws, shared_dir):
    node = vss_tree.standard_nodes(shared_dir)[VOLUME]
    for value in (str(node["max"] + 1), str(node["min"] - 1)):
        wire.assert_error(set_(ws, VOLUME, value), "400", "invalid_data")


def test_set_outside_allowed_is_400_invalid_data(ws, shared_dir):
    allowed = vss_tree.standard_nodes(shared_dir)[PERFORMANCE_MODE]["allowed"]
    wire.assert_error(set_(ws, PERFORMANCE_MODE, "X" + "".join(allowed)), "400", "invalid_data")


@pytest.mark.parametrize("path,value", [
    (VOLUME, "abc"), (VOLUME, "4.5"), (VOLUME, "0x10"), (VOLUME, ""), (VOLUME, ["42"]),
    (DOOR_OPEN, "yes"), (DOOR_OPEN, "True"), (DOOR_OPEN, "1"), (PERFORMANCE_MODE, {"mode": "SPORT"}),
])
def test_badly_represented_value_is_400_invalid_data(ws, path, value):
    wire.assert_error(set_(ws, path, value), "400", "invalid_data")


@pytest.mark.parametrize("value", [42, True, None])
def test_non_string_json_value_is_400(ws, value):
    # CORE §4.2 says invalid_data, TRANSPORT §4.1.3 bad_request for schema violations.
    wire.assert_error(set_(ws, VOLUME, value), "400")


def test_rejected_set_leaves_the_value(ws):
    wire.assert_success(set_(ws, VOLUME, "30"))
    wire.assert_error(set_(ws, VOLUME, "1000"), "400", "invalid_data")
    assert wire.single_value(get(ws, VOLUME)) == "30"


def test_set_of_the_reserved_inline_prefix_is_refused(ws):
    """§3.1, §11 item 13: `viss-inline:` must not appear in ordinary string values, so a
    server cannot store one that a later get would return as data."""
    wire.assert_error(set_(ws, SELECTED_URI, wire.INLINE_MISSING), "400", "invalid_data")


def test_message_and_datapoint_timestamps(ws):
    before = datetime.now(timezone.utc)
    response = get(ws, DOOR_COUNT)
    after = datetime.now(timezone.utc)
    message_time = wire.parse_ts(response["ts"])
    assert before - CLOCK_SLACK <= message_time <= after + CLOCK_SLACK, "ts is the execution time"
    captured = wire.parse_ts(wire.data_items(response)[0]["dp"]["ts"])
    assert captured <= message_time + timedelta(milliseconds=1), "a value is not captured after the read"


def test_set_response_ts_is_the_execution_time(ws):
    before = datetime.now(timezone.utc)
    response = wire.assert_success(set_(ws, VOLUME, "12"))
    assert abs(wire.parse_ts(response["ts"]) - before) <= CLOCK_SLACK


def test_set_value_carries_the_set_time(ws):
    response = wire.assert_success(set_(ws, VOLUME, "13"))
    point = wire.data_items(get(ws, VOLUME))[0]["dp"]
    assert abs(wire.parse_ts(point["ts"]) - wire.parse_ts(response["ts"])) <= timedelta(seconds=1)


@pytest.mark.parametrize("message", [
    {"action": "get", "path": DOOR_COUNT},
    {"action": "get", "path": "Vehicle.NoSuchNode"},
    {"action": "set", "path": VOLUME, "value": "7"},
    {"action": "set", "path": SPEED, "value": "7"},
    {"action": "subscribe", "path": DOOR_COUNT, "filter": {"variant": "timebased", "parameter": {"period": "1000"}}},
    {"action": "subscribe", "path": DOOR_COUNT},
    {"action": "unsubscribe", "subscriptionId": "no-such-subscription"},
], ids=["get", "get-error", "set", "set-error", "subscribe", "subscribe-error", "unsubscribe-error"])
def test_action_and_request_id_are_echoed(ws, message):
    request_id = str(uuid.uuid4())
    response = ws.request({**message, "requestId": request_id})
    assert response["action"] == message["action"]
    assert response["requestId"] == request_id
    assert "ts" in response


@pytest.mark.parametrize("action", [None, "fly", 7, "subscription"], ids=["missing", "unknown", "number", "event"])
def test_request_without_valid_action_gets_error_without_action(ws, action):
    message = {"path": DOOR_COUNT, "requestId": f"no-action-{action}"}
    if action is not None:
        message["action"] = action
    response = ws.request(message)
    assert "action" not in response, f"an invalid action was echoed: {response}"
    assert response["requestId"] == message["requestId"]
    wire.assert_error(response, "400", "bad_request")


def test_invalid_json_is_400_bad_request(ws):
    ws.send_text('{"action": "get", "path": ')
    wire.assert_error(ws.next_message(), "400", "bad_request")


def test_get_without_path_is_400_bad_request(ws):
    wire.assert_error(ws.request({"action": "get"}), "400", "bad_request")


def test_subscribe_without_filter_is_400_missing_or_invalid_filter(ws):
    response = ws.request({"action": "subscribe", "path": DOOR_COUNT})
    wire.assert_error(response, "400", "bad_request", "Missing or invalid filter")
