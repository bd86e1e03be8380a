"""HTTPS (viss-core.md §7.2, §11 items 14-15): GET = get, POST = set, filter in the query,
Authorization: Bearer, status = error number, no subscriptions, TLS only. The HTTP client
(clients.py) checks every body against the schema and every status against its error."""

import socket
import ssl
import urllib.error
import urllib.request
from http.client import HTTPException

import pytest
import websocket

import wire

DOOR_COUNT = "Vehicle.Cabin.DoorCount"
VOLUME = "Vehicle.Cabin.Infotainment.Media.Volume"
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard()


def slash(path):
    return path.replace(".", "/")


def test_get_with_slash_path(http, ws):
    answer = http.get(slash(DOOR_COUNT))
    assert set(answer.body) == {"data", "ts"}, f"HTTP bodies carry no action/requestId: {answer.body}"
    assert wire.data_items(answer.body)[0]["path"] == DOOR_COUNT, "responses carry dot paths"
    websocket_value = wire.single_value(ws.request({"action": "get", "path": DOOR_COUNT}))
    assert wire.single_value(answer.body) == websocket_value


def test_get_with_dot_path(http):
    assert wire.single_value(http.get(DOOR_COUNT).body) == wire.single_value(http.get(slash(DOOR_COUNT)).body)


def test_responses_are_json(http):
    answer = http.get(slash(DOOR_COUNT))
    content_type = {key.lower(): value for key, value in answer.headers.items()}.get("content-type", "")
    assert content_type.startswith("application/json"), content_type


def test_unknown_path_is_status_404(http):
    answer = http.get("Vehicle/NoSuchNode")
    assert answer.status == 404
    wire.assert_error(answer.body, "404", "unavailable_data")


def test_wildcard_path_is_status_400(http):
    assert http.get("Vehicle/*/DoorCount").status == 400


def test_filter_in_the_query(http):
    answer = http.get("Vehicle/Cabin", {"variant": "paths", "parameter": ["Door.*.*.IsOpen"]})
    assert len(wire.data_items(answer.body)) == 4


def test_filter_may_use_the_v2_type_key(http):
    """docs/conformance.md "VISSv2 clients": HTTP carries no version; `type` or `variant`."""
    answer = http.get("Vehicle/Cabin", {"type": "paths", "parameter": "Door/*/*/IsOpen"})
    assert len(wire.data_items(answer.body)) == 4


def test_metadata_over_http(http):
    answer = http.get("Vehicle/Cabin", {"variant": "metadata", "parameter": "1"})
    assert set(answer.body) == {"metadata", "ts"} and "Cabin" in answer.body["metadata"]


def test_post_sets_an_actuator(http):
    answer = http.post(slash(VOLUME), {"value": "33"})
    assert set(answer.body) == {"ts"}, answer.body
    assert wire.single_value(http.get(slash(VOLUME)).body) == "33"


def test_post_on_a_sensor_is_status_400(http):
    answer = http.post("Vehicle/Speed", {"value": "1"})
    wire.assert_error(answer.body, "400", "invalid_data")


def test_post_out_of_limits_is_status_400(http):
    wire.assert_error(http.post(slash(VOLUME), {"value": "1000"}).body, "400", "invalid_data")


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"val": "1"}'])
def test_post_without_a_value_is_status_400(http, body):
    wire.assert_error(http.post(slash(VOLUME), body).body, "400", "bad_request")


def test_authorization_bearer_is_accepted(http):
    """The standard tree has no `validate` tags: a token is carried but never needed, and must
    not make a request fail (tagged trees: test_access_control.py)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert http.get(slash(DOOR_COUNT), headers=headers).status == 200
    assert http.post(slash(VOLUME), {"value": "34"}, headers=headers).status == 200


@pytest.mark.parametrize("variant,parameter", [
    ("timebased", {"period": "100"}),
    ("change", {"logic-op": "ne", "diff": "0"}),
    ("range", {"logic-op": "gt", "boundary": "1"}),
    ("curvelog", {"maxerr": "1", "bufsize": "10"}),
])
def test_no_subscription_over_http(http, variant, parameter):
    answer = http.get(slash(VOLUME), {"variant": variant, "parameter": parameter})
    assert answer.status == 400
    wire.assert_error(answer.body, "400", "bad_request")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_unsupported_method_answers_a_table_error(http, method):
    answer = http.call(method, http.url(slash(VOLUME)), data=b'{"value":"1"}',
                       headers={"Content-Type": "application/json"})
    # The client has checked that the error is a table row and the status its number.
    assert "error" in answer.body, f"{method} was served: {answer.status} {answer.body}"


def test_tls_1_2_is_served(http):
    """CORE §6.1: TLS 1.2."""
    context = ssl.create_default_context(cafile=str(http.cert))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    assert http.call("GET", http.url(slash(DOOR_COUNT)), context=context).status == 200


def test_plain_http_is_refused_on_the_tls_port(server):
    url = f"http://127.0.0.1:{server.http_port}/{slash(DOOR_COUNT)}"
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            status = reply.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, HTTPException):
        return
    assert status != 200, "plain HTTP answered on the TLS listener"


def test_plain_ws_is_refused_on_the_tls_port(server):
    with pytest.raises((websocket.WebSocketException, OSError, socket.timeout)):
        connection = websocket.create_connection(f"ws://127.0.0.1:{server.ws_port}", subprotocols=["VISSv3"], timeout=5)
        connection.close()
