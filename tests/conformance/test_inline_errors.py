"""In-line error values (TRANSPORT §4.1.1, viss-core.md §3.1, §11 item 13;
docs/conformance.md "Errors"): on by default, off with `--inline-errors false`. No
simulator, so an actuator nobody set has no value while an attribute holds its default."""

import pytest

import wire
from flags import INLINE_ERRORS

CABIN = "Vehicle.Cabin"
HAS_VALUE = "DoorCount"  # attribute with a default
NO_VALUE = "Door.Row1.DriverSide.IsOpen"  # actuator, never set here
NO_VALUE_EITHER = "Door.Row2.DriverSide.IsOpen"


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard()


@pytest.fixture(scope="module")
def strict_server(launch):
    return launch.standard(INLINE_ERRORS, "false")


def paths_get(client, relative_paths):
    return client.request({"action": "get", "path": CABIN,
                           "filter": {"variant": "paths", "parameter": relative_paths}})


def timebased_on(client, relative_paths):
    return client.subscribe(CABIN, [{"variant": "paths", "parameter": relative_paths},
                                    {"variant": "timebased", "parameter": {"period": "100"}}])


def full(relative):
    return f"{CABIN}.{relative}"


def test_inline_value_for_a_missing_signal_by_default(ws):
    values = wire.values_by_path(paths_get(ws, [HAS_VALUE, NO_VALUE]))
    assert values[full(NO_VALUE)] == wire.INLINE_MISSING
    assert not str(values[full(HAS_VALUE)]).startswith(wire.INLINE_PREFIX)


def test_inline_value_in_events_by_default(ws):
    sid = timebased_on(ws, [HAS_VALUE, NO_VALUE])
    values = wire.values_by_path(ws.next_event(sid, timeout=2))
    assert values[full(NO_VALUE)] == wire.INLINE_MISSING


def test_a_single_missing_signal_is_404_either_way(ws, strict_server):
    wire.assert_error(ws.request({"action": "get", "path": full(NO_VALUE)}), "404", "unavailable_data")
    with strict_server.client() as client:
        wire.assert_error(client.request({"action": "get", "path": full(NO_VALUE)}), "404", "unavailable_data")


def test_switched_off_a_missing_value_fails_the_read(strict_server):
    with strict_server.client() as client:
        wire.assert_error(paths_get(client, [HAS_VALUE, NO_VALUE]), "404", "unavailable_data")
        assert list(wire.values_by_path(paths_get(client, [HAS_VALUE]))) == [full(HAS_VALUE)]


def test_switched_off_events_leave_the_missing_signal_out(strict_server):
    with strict_server.client() as client:
        sid = timebased_on(client, [HAS_VALUE, NO_VALUE])
        event = client.next_event(sid, timeout=2)
        assert list(wire.values_by_path(event)) == [full(HAS_VALUE)]


def test_switched_off_no_event_when_no_signal_has_a_value(strict_server):
    with strict_server.client() as client:
        sid = timebased_on(client, [NO_VALUE, NO_VALUE_EITHER])
        assert client.events_within(sid, 0.4) == []


def test_the_switch_is_published(ws, strict_server):
    assert wire.single_value(ws.request({"action": "get", "path": "Server.Config.InlineErrors"})) == "true"
    with strict_server.client() as client:
        value = wire.single_value(client.request({"action": "get", "path": "Server.Config.InlineErrors"}))
        assert value == "false"
