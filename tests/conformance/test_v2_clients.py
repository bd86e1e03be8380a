"""VISSv2 clients on the same server (docs/conformance.md "VISSv2 clients",
viss-v2-compat.md): sub-protocol negotiation, then every action in v2 forms with v2 shapes,
for a client offering no sub-protocol and one offering `VISSv2`. The client wrapper checks
every v2 error object (integer number, `message`) as it arrives."""

import pytest
import websocket

import wire
from flags import REQUIRE_SUBPROTOCOL

DOOR_COUNT = "Vehicle.Cabin.DoorCount"  # attribute with a default
VOLUME = "Vehicle.Cabin.Infotainment.Media.Volume"  # actuator uint8 0..100
FAN = "Vehicle.Cabin.HVAC.Station.Row1.Driver.FanSpeed"  # actuator uint8 0..100
NO_VALUE = "Door.Row1.DriverSide.IsOpen"  # actuator under Vehicle.Cabin, never set here
SETTLE_S = 0.3


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard()


@pytest.fixture(scope="module")
def strict_server(launch):
    return launch.standard(REQUIRE_SUBPROTOCOL)


@pytest.fixture(params=["no-subprotocol", "VISSv2"])
def v2(server, request):
    offer = None if request.param == "no-subprotocol" else ["VISSv2"]
    with server.client(subprotocols=offer) as client:
        assert client.version == 2
        yield client


def set_(client, path, value):
    return wire.assert_success(client.request({"action": "set", "path": path, "value": value}))


def get(client, path, **members):
    return client.request({"action": "get", "path": path, **members})


def assert_v2_error(message, number, reason):
    assert "error" in message, f"expected a v2 error {number}, got {message}"
    error = message["error"]
    assert error["number"] == number and error["reason"] == reason, error
    assert "description" not in error


# -- negotiation ------------------------------------------------------------------------------

@pytest.mark.parametrize("offer,selected", [
    (["VISSv3"], "VISSv3"),
    (["VISSv2", "VISSv3"], "VISSv3"),
    (["wvss1.0", "VISSv3", "VISSv2"], "VISSv3"),
    (["VISSv2"], "VISSv2"),
    (["gen21.0", "VISSv2"], "VISSv2"),
])
def test_subprotocol_negotiation(server, offer, selected):
    with server.client(subprotocols=offer) as client:
        assert client.subprotocol == selected


def test_no_offer_is_a_v2_session_without_the_header(server):
    with server.client(subprotocols=None) as client:
        assert client.subprotocol is None
        assert "sec-websocket-protocol" not in (client.ws.getheaders() or {})


def test_only_unknown_subprotocols_are_refused_with_400(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        server.client(subprotocols=["wvss1.0", "VISS-noenc"])
    assert refused.value.status_code == 400
    body = (refused.value.resp_body or b"").decode(errors="replace")
    assert "VISSv3" in body and "VISSv2" in body, f"the refusal names the served sub-protocols: {body!r}"


def test_require_subprotocol_refuses_a_client_without_one(strict_server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        strict_server.client(subprotocols=None)
    assert 400 <= refused.value.status_code < 500
    with strict_server.client(subprotocols=["VISSv2"]) as client:
        assert client.version == 2


def names_v2_without_subprotocol(deviation):
    # docs/conformance.md names it "VISSv2 without sub-protocol"; the wording is free.
    return "VISSv2" in deviation and "sub-protocol" in deviation


def deviations(client):
    config = wire.values_by_path(client.request({"action": "get", "path": "Server.Config"}))
    return config.get("Server.Config.Deviations", [])


def test_serving_v2_without_subprotocol_is_a_declared_deviation(ws, strict_server):
    assert any(map(names_v2_without_subprotocol, deviations(ws)))
    with strict_server.client() as client:
        assert not any(map(names_v2_without_subprotocol, deviations(client)))


# -- v2 sessions ------------------------------------------------------------------------------

def test_get(v2):
    response = wire.assert_success(get(v2, DOOR_COUNT))
    assert response["action"] == "get" and {"requestId", "data", "ts"} <= set(response)
    assert wire.data_items(response)[0]["path"] == DOOR_COUNT


def test_get_error_is_v2_shaped(v2):
    response = get(v2, "Vehicle.NoSuchNode")
    assert response["action"] == "get"
    assert_v2_error(response, 404, "unavailable_data")


def test_wildcard_path_is_400(v2):
    assert_v2_error(get(v2, "Vehicle.*.DoorCount"), 400, "bad_request")


def test_set_and_read_back(v2):
    set_(v2, VOLUME, "44")
    assert wire.single_value(get(v2, VOLUME)) == "44"
    assert_v2_error(v2.request({"action": "set", "path": "Vehicle.Speed", "value": "1"}), 400, "invalid_data")


def test_subscribe_with_type_change_filter(v2):
    set_(v2, VOLUME, "10")
    sid = v2.subscribe(VOLUME, {"type": "change", "parameter": {"logic-op": "ne", "diff": "0"}})
    v2.events_within(sid, SETTLE_S)
    set_(v2, VOLUME, "20")
    event = v2.next_event(sid, timeout=2)
    assert wire.single_value(event) == "20" and "requestId" not in event


def test_subscribe_without_filter_sends_current_then_every_new_value(v2):
    set_(v2, FAN, "5")
    sid = v2.subscribe(FAN)
    assert wire.single_value(v2.next_event(sid, timeout=2)) == "5", "current value right after subscribing"
    set_(v2, FAN, "6")
    v2.event_matching(sid, lambda event: wire.single_value(event) == "6", timeout=2)


def test_range_with_boundary_op_and_combination_op(v2):
    set_(v2, VOLUME, "50")
    sid = v2.subscribe(VOLUME, {"type": "range", "parameter": [
        {"boundary-op": "lt", "boundary": "20", "combination-op": "OR"}, {"boundary-op": "gt", "boundary": "80"}]})
    v2.events_within(sid, SETTLE_S)
    set_(v2, VOLUME, "90")
    assert wire.single_value(v2.next_event(sid, timeout=2)) == "90"
    set_(v2, VOLUME, "50")
    assert v2.events_within(sid, SETTLE_S) == []


def test_unsubscribe_echoes_the_subscription_id(v2):
    sid = v2.subscribe(DOOR_COUNT, {"type": "timebased", "parameter": {"period": "50"}})
    response = wire.assert_success(v2.unsubscribe(sid))
    assert response["action"] == "unsubscribe" and response["subscriptionId"] == sid
    assert {"requestId", "ts"} <= set(response)
    assert v2.events_within(sid, SETTLE_S) == []


def test_unsubscribe_of_an_unknown_id_is_400_invalid_data(v2):
    response = v2.unsubscribe("424242")
    assert_v2_error(response, 400, "invalid_data")
    assert response["subscriptionId"] == "424242"


def test_history_with_nothing_recorded_is_404(v2):
    response = get(v2, "Vehicle.Speed", filter={"type": "history", "parameter": "PT1M"})
    assert_v2_error(response, 404, "unavailable_data")


def test_history_returns_the_earlier_values(v2):
    # Each set is the actuator's current value (state storage), so it is recorded; history
    # leaves out the current value (CORE §7.2).
    for value in ("31", "32", "33"):
        set_(v2, FAN, value)
    response = wire.assert_success(get(v2, FAN, filter={"type": "history", "parameter": "PT1M"}))
    values = [point["value"] for point in wire.datapoints(wire.data_items(response)[0])]
    assert values[-2:] == ["31", "32"], values


def walk(name, meta):
    yield name, meta
    for child, child_meta in meta.get("children", {}).items():
        yield from walk(child, child_meta)


def test_static_metadata_is_the_whole_subtree(v2):
    response = wire.assert_success(get(v2, "Vehicle.Cabin.Door.Row1.DriverSide",
                                       filter={"type": "static-metadata", "parameter": ""}))
    nodes = dict(walk("DriverSide", response["metadata"]["DriverSide"]))
    assert "Window" in nodes and "Position" in nodes, "grandchildren are included"
    assert nodes["Position"]["datatype"] == "uint8"


def test_static_metadata_keeps_only_the_listed_keys(v2):
    response = wire.assert_success(get(v2, "Vehicle.Cabin.Door.Row1.DriverSide.Window",
                                       filter={"type": "static-metadata", "parameter": ["type", "datatype"]}))
    nodes = list(walk("Window", response["metadata"]["Window"]))
    assert len(nodes) > 1
    for name, meta in nodes:
        assert set(meta) - {"children"} <= {"type", "datatype"}, f"{name}: {sorted(meta)}"
        assert "type" in meta


def test_server_capabilities(v2):
    response = wire.assert_success(get(v2, "Vehicle", filter={"type": "dynamic-metadata",
                                                              "parameter": "server_capabilities"}))
    capabilities = response["metadata"]
    assert set(capabilities) == {"filter", "access_ctrl", "transport_protocol"}, capabilities
    assert {"timebased", "change", "dynamic_metadata"} <= set(capabilities["filter"])
    assert capabilities["access_ctrl"] == []
    assert {"wss", "https"} <= set(capabilities["transport_protocol"])


def test_never_inline_errors(v2):
    response = get(v2, "Vehicle.Cabin", filter={"type": "paths", "parameter": ["DoorCount", NO_VALUE]})
    assert_v2_error(response, 404, "unavailable_data")


def test_dc_is_ignored(v2):
    response = wire.assert_success(get(v2, DOOR_COUNT, dc="2+1"))
    item = wire.data_items(response)[0]
    assert item["path"] == DOOR_COUNT
    wire.parse_ts(item["dp"]["ts"])


# -- v3 sessions refuse v2 forms --------------------------------------------------------------

def test_v3_refuses_the_type_filter_key(ws):
    response = ws.request({"action": "subscribe", "path": VOLUME,
                           "filter": {"type": "change", "parameter": {"logic-op": "ne", "diff": "0"}}})
    wire.assert_error(response, "400", "bad_request", "Missing or invalid filter")
    response = get(ws, "Vehicle.Cabin", filter={"type": "paths", "parameter": ["DoorCount"]})
    wire.assert_error(response, "400", "bad_request", "Missing or invalid filter")

