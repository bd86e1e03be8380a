"""The generated demo-car server (examples/demo-car): reads, writes and struct values
(docs/conformance.md "set": struct values are checked member by member). Its struct types
are in examples/demo-car/DemoTypes.vspec: Types.Waypoint {Name string, Point Types.GeoPoint
{Latitude double -90..90, Longitude double -180..180}, Priority uint8}."""

import copy

import pytest

import wire

DESTINATION = "Vehicle.Navigation.Destination"  # actuator Types.Waypoint
STOPS = "Vehicle.Navigation.Stops"  # actuator Types.Waypoint[]
AMBIENT_LIGHT = "Vehicle.Cabin.AmbientLight"  # actuator uint8[]
MASSAGE = "Vehicle.Cabin.Seat.Row1.DriverSide.Massage"  # actuator uint8, allowed [0, 1, 2, 3]
WAYPOINT = {"Name": "Depot", "Point": {"Latitude": "48.137", "Longitude": "11.575"}, "Priority": "2"}


@pytest.fixture(scope="module")
def server(launch):
    return launch.demo_car()


def set_(ws, path, value):
    return ws.request({"action": "set", "path": path, "value": value})


def get_value(ws, path):
    return wire.single_value(ws.request({"action": "get", "path": path}))


def same(got, expected):
    """Equal values, numbers compared as numbers ("2" == "2.0")."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(
            same(got[key], expected[key]) for key in expected)
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(map(same, got, expected))
    if got == expected:
        return True
    try:
        return float(got) == float(expected)
    except (TypeError, ValueError):
        return False


def waypoint_with(change):
    value = copy.deepcopy(WAYPOINT)
    change(value)
    return value


def test_a_correct_struct_is_accepted_and_read_back(ws):
    wire.assert_success(set_(ws, DESTINATION, WAYPOINT))
    assert same(get_value(ws, DESTINATION), WAYPOINT)


BAD_WAYPOINTS = {
    "unknown member": lambda w: w.update(Colour="red"),
    "unknown nested member": lambda w: w["Point"].update(Altitude="500"),
    "missing member": lambda w: w.pop("Priority"),
    "missing nested member": lambda w: w["Point"].pop("Longitude"),
    "wrong member type": lambda w: w.update(Priority="first"),
    "wrong nested type": lambda w: w["Point"].update(Latitude="north"),
    "member out of range": lambda w: w.update(Priority="256"),
    "nested member out of range": lambda w: w["Point"].update(Latitude="95"),
    "nested struct as a string": lambda w: w.update(Point="48.137,11.575"),
}


@pytest.mark.parametrize("name", sorted(BAD_WAYPOINTS))
def test_a_bad_struct_is_400_invalid_data(ws, name):
    wire.assert_error(set_(ws, DESTINATION, waypoint_with(BAD_WAYPOINTS[name])), "400", "invalid_data")


def test_a_member_as_a_json_number_is_400(ws):
    # CORE §4.2 says invalid_data, TRANSPORT §4.1.3 bad_request for schema violations.
    wire.assert_error(set_(ws, DESTINATION, waypoint_with(lambda w: w.update(Priority=2))), "400")


def test_a_struct_given_as_a_string_is_400_invalid_data(ws):
    wire.assert_error(set_(ws, DESTINATION, "Depot"), "400", "invalid_data")


def test_a_rejected_struct_leaves_the_value(ws):
    wire.assert_success(set_(ws, DESTINATION, WAYPOINT))
    set_(ws, DESTINATION, waypoint_with(BAD_WAYPOINTS["nested member out of range"]))
    assert same(get_value(ws, DESTINATION), WAYPOINT)


def test_struct_array_items_are_checked(ws):
    second = waypoint_with(lambda w: w.update(Name="Home", Priority="3"))
    wire.assert_success(set_(ws, STOPS, [WAYPOINT, second]))
    assert same(get_value(ws, STOPS), [WAYPOINT, second])
    bad = waypoint_with(BAD_WAYPOINTS["wrong nested type"])
    wire.assert_error(set_(ws, STOPS, [WAYPOINT, bad]), "400", "invalid_data")


def test_array_actuator(ws):
    wire.assert_success(set_(ws, AMBIENT_LIGHT, ["255", "128", "0"]))
    assert get_value(ws, AMBIENT_LIGHT) == ["255", "128", "0"]
    for bad in (["256"], ["-1"], ["red"], "255"):
        wire.assert_error(set_(ws, AMBIENT_LIGHT, bad), "400", "invalid_data")


def test_allowed_values_of_a_number(ws):
    wire.assert_success(set_(ws, MASSAGE, "2"))
    wire.assert_error(set_(ws, MASSAGE, "4"), "400", "invalid_data")


def test_change_filter_on_a_struct_is_400_invalid_data(ws):
    """§5.5: change compares numeric, boolean (and, with ne 0, string) values only."""
    response = ws.request({"action": "subscribe", "path": DESTINATION,
                           "filter": {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}}})
    wire.assert_error(response, "400", "invalid_data")


def test_events_carry_the_set_struct(ws):
    moved = waypoint_with(lambda w: w["Point"].update(Latitude="48.2"))
    wire.assert_success(set_(ws, DESTINATION, moved))
    sid = ws.subscribe(DESTINATION, {"variant": "timebased", "parameter": {"period": "100"}})
    assert same(wire.single_value(ws.next_event(sid, timeout=2)), moved)


def test_attributes_read_their_metadata_default(ws):
    response = wire.assert_success(ws.request({
        "action": "get", "path": "Vehicle.VehicleIdentification",
        "filter": {"variant": "metadata", "parameter": "0"}}))
    children = response["metadata"]["VehicleIdentification"]["children"]
    with_default = {name: meta for name, meta in children.items() if "default" in meta}
    assert with_default, "the demo car's identification attributes have defaults"
    for name, meta in with_default.items():
        value = get_value(ws, f"Vehicle.VehicleIdentification.{name}")
        assert same(value, meta["default"]), f"{name}: {value!r} vs default {meta['default']!r}"


def test_slash_paths_and_the_server_tree(server, ws):
    assert get_value(ws, "Vehicle/VehicleIdentification/Brand") == get_value(ws, "Vehicle.VehicleIdentification.Brand")
    assert sorted(get_value(ws, "Server.Support.Protocol")) == ["grpc", "http", "ws"]
    assert get_value(ws, "Server.Config.Protocol.Websocket.Primary.PortNum") == str(server.ws_port)


def test_http_on_the_demo_car(http):
    answer = http.post("Vehicle/Navigation/Destination", {"value": WAYPOINT})
    assert answer.status == 200
    assert same(wire.single_value(http.get("Vehicle/Navigation/Destination").body), WAYPOINT)
