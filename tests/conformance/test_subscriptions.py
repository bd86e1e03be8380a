"""subscribe, events and unsubscribe on the standard tree (viss-core.md §4.4-4.6, §5.3-5.6,
§11 items 2, 7, 9, 14). Signals change only when a test sets an actuator (state storage,
docs/conformance.md "set"), so every trigger is deterministic. Whether a subscription
sends an event with the current value right away is unspecified (§18-Q6): tests drain that
window before they start changing values."""

from datetime import datetime, timedelta, timezone

import pytest

import wire

VOLUME = "Vehicle.Cabin.Infotainment.Media.Volume"  # actuator uint8 0..100
DOOR_OPEN = "Vehicle.Cabin.Door.Row1.DriverSide.IsOpen"  # actuator boolean
PERFORMANCE_MODE = "Vehicle.Powertrain.Transmission.PerformanceMode"  # actuator string
TORQUE_SPLIT = "Vehicle.Powertrain.Transmission.TorqueDistribution"  # actuator float -100..100
CLUTCH = "Vehicle.Powertrain.Transmission.ClutchEngagement"  # actuator float 0..100
DOOR_COUNT = "Vehicle.Cabin.DoorCount"  # attribute with a default
SETTLE_S = 0.3  # long enough for a loopback event to arrive


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard()


def set_(ws, path, value):
    wire.assert_success(ws.request({"action": "set", "path": path, "value": value}))


def subscribe_after_settling(ws, path, filter_):
    sid = ws.subscribe(path, filter_)
    ws.events_within(sid, SETTLE_S)
    return sid


def event_value(event):
    return wire.single_value(event)


def assert_event_with(ws, sid, value):
    event = ws.next_event(sid, timeout=2)
    assert event_value(event) == value, f"expected an event with {value!r}: {event}"


def assert_no_event(ws, sid):
    events = ws.events_within(sid, SETTLE_S)
    assert not events, f"unexpected events: {events}"


def change(op, diff):
    return {"variant": "change", "parameter": {"logic-op": op, "diff": diff}}


def timebased(period_ms):
    return {"variant": "timebased", "parameter": {"period": str(period_ms)}}


def test_subscribe_response_has_id_and_start_time(ws):
    before = datetime.now(timezone.utc)
    response = wire.assert_success(ws.request(
        {"action": "subscribe", "path": DOOR_COUNT, "filter": timebased(1000)}))
    assert set(response) == {"action", "requestId", "subscriptionId", "ts"}, response
    assert abs(wire.parse_ts(response["ts"]) - before) < timedelta(seconds=5)


def test_subscription_ids_are_unique_per_connection(ws):
    ids = {ws.subscribe(DOOR_COUNT, timebased(1000)) for _ in range(5)}
    assert len(ids) == 5


def test_timebased_sends_the_current_value_every_period(ws):
    sid = ws.subscribe(DOOR_COUNT, timebased(100))
    events = ws.events_within(sid, 0.75)
    assert 3 <= len(events) <= 10, f"{len(events)} events in 0.75 s at a 100 ms period"
    value = wire.single_value(ws.request({"action": "get", "path": DOOR_COUNT}))
    assert all(event_value(event) == value for event in events)
    times = [wire.parse_ts(event["ts"]) for event in events]
    # the schedule keeps its phase, so a tick that came late is followed by one that comes
    # early: the period shows in the mean gap, not in every gap
    mean_gap = (times[-1] - times[0]) / (len(times) - 1)
    assert mean_gap >= timedelta(milliseconds=50), f"events closer than the period: {times}"


def test_change_ne_zero_fires_on_each_change_only(ws):
    set_(ws, VOLUME, "10")
    sid = subscribe_after_settling(ws, VOLUME, change("ne", "0"))
    set_(ws, VOLUME, "20")
    assert_event_with(ws, sid, "20")
    set_(ws, VOLUME, "20")
    assert_no_event(ws, sid)
    set_(ws, VOLUME, "21")
    assert_event_with(ws, sid, "21")


def test_change_gt_fires_on_rises_beyond_the_diff(ws):
    # Each step gives the same answer whether "previous" is the last sample or the last
    # reported value (§18-Q5).
    set_(ws, VOLUME, "20")
    sid = subscribe_after_settling(ws, VOLUME, change("gt", "10"))
    set_(ws, VOLUME, "35")
    assert_event_with(ws, sid, "35")
    set_(ws, VOLUME, "40")
    set_(ws, VOLUME, "30")
    assert_no_event(ws, sid)
    set_(ws, VOLUME, "50")
    assert_event_with(ws, sid, "50")


def test_change_on_boolean_gt_zero_fires_on_false_to_true(ws):
    set_(ws, DOOR_OPEN, "false")
    sid = subscribe_after_settling(ws, DOOR_OPEN, change("gt", "0"))
    set_(ws, DOOR_OPEN, "true")
    assert_event_with(ws, sid, "true")
    set_(ws, DOOR_OPEN, "false")
    assert_no_event(ws, sid)


def test_range_single_boundary(ws):
    set_(ws, VOLUME, "10")
    sid = subscribe_after_settling(ws, VOLUME, {"variant": "range", "parameter": {"logic-op": "gt", "boundary": "60"}})
    set_(ws, VOLUME, "70")
    assert_event_with(ws, sid, "70")
    set_(ws, VOLUME, "50")
    assert_no_event(ws, sid)


def test_range_two_boundaries_default_to_and(ws):
    set_(ws, VOLUME, "5")
    sid = subscribe_after_settling(ws, VOLUME, {"variant": "range", "parameter": [
        {"logic-op": "gt", "boundary": "20"}, {"logic-op": "lt", "boundary": "80"}]})
    set_(ws, VOLUME, "90")
    set_(ws, VOLUME, "10")
    assert_no_event(ws, sid)
    set_(ws, VOLUME, "50")
    assert_event_with(ws, sid, "50")


def test_range_combination_op_or(ws):
    set_(ws, VOLUME, "50")
    sid = subscribe_after_settling(ws, VOLUME, {"variant": "range", "parameter": [
        {"logic-op": "lt", "boundary": "20", "combination-op": "OR"}, {"logic-op": "gt", "boundary": "80"}]})
    set_(ws, VOLUME, "10")
    assert_event_with(ws, sid, "10")
    set_(ws, VOLUME, "50")
    assert_no_event(ws, sid)
    set_(ws, VOLUME, "90")
    assert_event_with(ws, sid, "90")


def test_range_with_non_numeric_boundary_is_400_invalid_data(ws):
    response = ws.request({"action": "subscribe", "path": VOLUME, "filter": {
        "variant": "range", "parameter": {"logic-op": "gt", "boundary": "high"}}})
    wire.assert_error(response, "400", "invalid_data")


def test_range_on_a_string_signal_is_400(ws):
    response = ws.request({"action": "subscribe", "path": PERFORMANCE_MODE, "filter": {
        "variant": "range", "parameter": {"logic-op": "gt", "boundary": "1"}}})
    wire.assert_error(response, "400")


def curvelog_points(events):
    return [point for event in events for item in wire.data_items(event) for point in wire.datapoints(item)]


def test_curvelog_drops_points_on_a_straight_line(ws):
    """A flat signal (wiggling 0.1, maxerr 1) keeps only the ends of each buffer (§5.6), so
    a dozen samples through a buffer of 5 give a few points, never every sample."""
    set_(ws, TORQUE_SPLIT, "50")
    sid = ws.subscribe(TORQUE_SPLIT, {"variant": "curvelog", "parameter": {"maxerr": "1", "bufsize": "5"}})
    samples = ["50.1", "50", "50.1", "50", "50.1", "50", "50.1", "50", "50.1", "50", "50.1", "50"]
    for value in samples:
        set_(ws, TORQUE_SPLIT, value)
    events = ws.events_within(sid, SETTLE_S)
    for event in events:
        for item in wire.data_items(event):
            kept = wire.datapoints(item)
            assert len(kept) <= 2, f"interior points of a straight line were kept: {kept}"
            times = [wire.parse_ts(point["ts"]) for point in kept]
            assert times == sorted(times) and len(set(times)) == len(times), "points not in time order"
    points = curvelog_points(events)
    assert all(float(point["value"]) in (50.0, 50.1) for point in points)
    # Two full buffers at least were processed, each keeping its end point.
    assert 2 <= len(points) < len(samples), f"{len(points)} points kept of {len(samples)} samples"


def test_curvelog_keeps_a_spike(ws):
    set_(ws, CLUTCH, "50")
    sid = ws.subscribe(CLUTCH, {"variant": "curvelog", "parameter": {"maxerr": "1", "bufsize": "5"}})
    for value in ["50.1", "90", "50", "50.1", "50", "50.1", "50", "50.1", "50"]:
        set_(ws, CLUTCH, value)
    points = curvelog_points(ws.events_within(sid, SETTLE_S))
    assert any(float(point["value"]) == 90.0 for point in points), f"the spike was dropped: {points}"


def test_curvelog_on_a_non_numeric_signal_is_400_invalid_data(ws):
    response = ws.request({"action": "subscribe", "path": PERFORMANCE_MODE, "filter": {
        "variant": "curvelog", "parameter": {"maxerr": "1", "bufsize": "5"}}})
    wire.assert_error(response, "400", "invalid_data")


def test_unsubscribe_response_and_no_events_after_it(ws):
    sid = ws.subscribe(DOOR_COUNT, timebased(50))
    ws.next_event(sid, timeout=2)
    response = wire.assert_success(ws.unsubscribe(sid))
    assert set(response) == {"action", "requestId", "ts"}, f"v3 unsubscribe response: {response}"
    assert not ws.events_within(sid, SETTLE_S), "events after unsubscribe"


def test_unsubscribe_of_an_unknown_id_is_404(ws):
    wire.assert_error(ws.unsubscribe("no-such-subscription"), "404", "unavailable_data")


def test_unsubscribe_twice_is_404(ws):
    sid = ws.subscribe(DOOR_COUNT, timebased(1000))
    wire.assert_success(ws.unsubscribe(sid))
    wire.assert_error(ws.unsubscribe(sid), "404", "unavailable_data")


def test_subscriptions_are_bound_to_their_connection(server, ws):
    sid = ws.subscribe(DOOR_COUNT, timebased(50))
    with server.client() as other:
        wire.assert_error(other.unsubscribe(sid), "404", "unavailable_data")
        assert not other.events_within(sid, 0.2), "another connection received the events"
    ws.events_within(sid, 0.05)
    ws.next_event(sid, timeout=2)


def test_event_shape(ws):
    sid = ws.subscribe(DOOR_COUNT, timebased(50))
    event = ws.next_event(sid, timeout=2)
    assert set(event) == {"action", "subscriptionId", "data", "ts"}, event
    assert event["subscriptionId"] == sid
    assert wire.data_items(event)[0]["path"] == DOOR_COUNT
