"""Engine knobs as flags (docs/conformance.md "Configuration") and what they change on the
wire: the subscription duration limit (408 error events, which end their subscription,
viss-core.md §4.4, §11 item 9), the event queue, history off."""

import time

import pytest

import wire
from flags import EVENT_QUEUE, HISTORY_SAMPLES, MAX_SUBSCRIPTION_DURATION_MS

DOOR_COUNT = "Vehicle.Cabin.DoorCount"  # attribute with a default: timebased events always carry a value
LIMIT_MS = 300


def timebased(period_ms):
    return {"variant": "timebased", "parameter": {"period": str(period_ms)}}


def read(client, path):
    return wire.single_value(client.request({"action": "get", "path": path}))


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard(MAX_SUBSCRIPTION_DURATION_MS, str(LIMIT_MS))


@pytest.fixture(scope="module")
def small_queue_server(launch):
    return launch.standard(EVENT_QUEUE, "1", MAX_SUBSCRIPTION_DURATION_MS, "400")


@pytest.fixture(scope="module")
def no_history_server(launch):
    return launch.standard(HISTORY_SAMPLES, "0")


def is_error_event(event):
    return "error" in event


def test_subscription_ends_with_a_408_error_event(ws):
    started = time.monotonic()
    sid = ws.subscribe(DOOR_COUNT, timebased(50))
    ended = ws.event_matching(sid, is_error_event, timeout=3)
    elapsed = time.monotonic() - started
    assert set(ended) == {"action", "subscriptionId", "error", "ts"}, ended
    assert ended["action"] == "subscription" and ended["subscriptionId"] == sid
    wire.assert_error(ended, "408", "request_timeout")
    assert elapsed >= LIMIT_MS / 1000 * 0.9, f"ended after {elapsed:.3f} s, before the limit"


def test_an_error_event_terminates_the_subscription(ws):
    sid = ws.subscribe(DOOR_COUNT, timebased(50))
    ws.event_matching(sid, is_error_event, timeout=3)
    assert ws.events_within(sid, 0.3) == [], "events after the error event"
    wire.assert_error(ws.unsubscribe(sid), "404", "unavailable_data")


def test_the_duration_limit_is_published(ws):
    assert read(ws, "Server.Config.Limits.SubscriptionDurationMs") == str(LIMIT_MS)


def test_error_events_survive_a_full_event_queue(small_queue_server):
    """docs/conformance.md: an error event is never dropped by a full queue."""
    with small_queue_server.client() as client:
        assert read(client, "Server.Config.Limits.EventQueue") == "1"
        ids = [client.subscribe(DOOR_COUNT, timebased(10)) for _ in range(5)]
        time.sleep(0.8)  # not reading: events pile up while the subscriptions run out
        for sid in ids:
            wire.assert_error(client.event_matching(sid, is_error_event, timeout=3), "408", "request_timeout")
        later = {sid: client.events_within(sid, 0.3 if sid == ids[0] else 0) for sid in ids}
        assert not any(later.values()), f"events after the error events: {later}"


def test_history_off_is_unsupported_feature(no_history_server):
    with no_history_server.client() as client:
        response = client.request({"action": "get", "path": "Vehicle.Speed",
                                   "filter": {"variant": "history", "parameter": "PT1M"}})
        wire.assert_error(response, "404", "unavailable_data", "Unsupported feature")
        assert "history" not in read(client, "Server.Support.Filter")
        assert read(client, "Server.Config.Limits.HistorySamples") == "0"
