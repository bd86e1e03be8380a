"""Errors by the table (viss-core.md §4.7, §11 item 9; docs/conformance.md "Errors"): every
error object is `number`, `reason`, `description` from the ten-row table, the response
echoes action and requestId, and HTTP answers with the error number as its status."""

import json
import urllib.parse

import pytest

import wire

VOLUME = "Vehicle.Cabin.Infotainment.Media.Volume"
TIMEBASED = {"variant": "timebased", "parameter": {"period": "100"}}

# Requests that must fail, with the error the spec or our docs name (None: any table row).
FAILING_REQUESTS = {
    "get unknown signal": ({"action": "get", "path": "Vehicle.NoSuch"}, ("404", "unavailable_data")),
    "get empty path": ({"action": "get", "path": ""}, ("400", None)),
    "get path not a string": ({"action": "get", "path": 7}, ("400", "bad_request")),
    "get leading delimiter": ({"action": "get", "path": ".Vehicle.Speed"}, ("400", None)),
    "get empty segment": ({"action": "get", "path": "Vehicle..Speed"}, ("400", None)),
    "get filter is a string": ({"action": "get", "path": "Vehicle", "filter": "paths"}, ("400", "bad_request")),
    "get unknown variant": ({"action": "get", "path": "Vehicle",
                             "filter": {"variant": "sideways", "parameter": "1"}}, (None, None)),
    "get dc malformed": ({"action": "get", "path": "Vehicle.Speed", "dc": "fast"}, ("400", "bad_request")),
    "set without value": ({"action": "set", "path": VOLUME}, ("400", "bad_request")),
    "set without path": ({"action": "set", "value": "1"}, ("400", "bad_request")),
    "set with filter": ({"action": "set", "path": VOLUME, "value": "1", "filter": TIMEBASED}, ("400", None)),
    "set out of range": ({"action": "set", "path": VOLUME, "value": "101"}, ("400", "invalid_data")),
    "subscribe unknown signal": ({"action": "subscribe", "path": "Vehicle.NoSuch", "filter": TIMEBASED},
                                 ("404", "unavailable_data")),
    "subscribe period zero": ({"action": "subscribe", "path": VOLUME,
                               "filter": {"variant": "timebased", "parameter": {"period": "0"}}}, ("400", None)),
    "subscribe period text": ({"action": "subscribe", "path": VOLUME,
                               "filter": {"variant": "timebased", "parameter": {"period": "soon"}}}, ("400", None)),
    "subscribe bad logic-op": ({"action": "subscribe", "path": VOLUME, "filter": {
        "variant": "change", "parameter": {"logic-op": "bigger", "diff": "1"}}}, ("400", None)),
    "subscribe range of three": ({"action": "subscribe", "path": VOLUME, "filter": {
        "variant": "range", "parameter": [{"logic-op": "gt", "boundary": "1"}] * 3}}, ("400", None)),
    "unsubscribe without id": ({"action": "unsubscribe"}, ("400", "bad_request")),
    "unsubscribe unknown id": ({"action": "unsubscribe", "subscriptionId": "12345678"}, ("404", "unavailable_data")),
}


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard()


@pytest.mark.parametrize("name", sorted(FAILING_REQUESTS))
def test_error_response_is_a_table_row_with_echoes(ws, name):
    message, (number, reason) = FAILING_REQUESTS[name]
    response = ws.request({**message, "requestId": f"err-{name}"})
    assert "error" in response, f"{name} did not fail: {response}"
    wire.check_error_v3(response["error"])
    assert set(response) == {"action", "requestId", "error", "ts"}, f"error response members: {response}"
    assert response["action"] == message["action"] and response["requestId"] == f"err-{name}"
    if number is not None:
        wire.assert_error(response, number, reason)


def test_a_numeric_request_id_is_not_echoed_as_a_number(ws):
    """The schema makes requestId a string; a response may not carry a number there."""
    ws.send_text(json.dumps({"action": "get", "path": "Vehicle.NoSuch", "requestId": 17}), action="get")
    response = ws.next_message()
    assert not isinstance(response.get("requestId"), int), response


@pytest.mark.parametrize("request_path,filter_,expected", [
    ("Vehicle/NoSuch", None, ("404", "unavailable_data")),
    ("Vehicle/Speed", {"variant": "paths"}, ("400", "bad_request")),
    ("Vehicle/Speed", "not json at all", ("400", "bad_request")),
    ("Vehicle/Speed", {"variant": "history", "parameter": "P1Y"}, ("400", None)),
])
def test_http_errors_are_table_rows_with_their_status(http, request_path, filter_, expected):
    url = http.url(request_path)
    if filter_ is not None:
        text = filter_ if isinstance(filter_, str) else json.dumps(filter_)
        url += "?filter=" + urllib.parse.quote(text, safe="")
    answer = http.call("GET", url)
    number, reason = expected
    assert answer.status == int(number)
    wire.assert_error(answer.body, number, reason)
