"""The `Server` capabilities tree (viss-core.md §8, §11 items 8 and 10; docs/conformance.md
"Trees"): read with plain get, never written, its values what the server really serves."""

import pytest

import wire
from flags import INSECURE, NO_GRPC, NO_HTTP

# CORE App. B "Server Feature Naming" (viss-core.md §8).
FILTER_NAMES = {"timebased", "change", "paths", "range", "curvelog", "history", "metadata"}
PROTOCOL_NAMES = {"ws", "http", "mqtt", "grpc"}
COMPRESSION_NAMES = {"pathuid", "pathlocal", "timestamplocal"}
WS_PORT_NODE = "Server.Config.Protocol.Websocket.Primary.PortNum"
HTTP_PORT_NODE = "Server.Config.Protocol.Http.Primary.PortNum"
GRPC_PORT_NODE = "Server.Config.Protocol.Grpc.Protobuf.PortNum"


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard()


@pytest.fixture(scope="module")
def ws_only_server(launch):
    return launch.standard(NO_HTTP, NO_GRPC)


@pytest.fixture(scope="module")
def insecure_server(launch):
    return launch.standard(INSECURE)


def read(client, path):
    return wire.single_value(client.request({"action": "get", "path": path}))


def read_list(client, path):
    value = read(client, path)
    assert isinstance(value, list) and value and all(isinstance(item, str) for item in value), (
        f"{path} is not a non-empty string array: {value!r}")
    return value


def test_protocol_lists_the_served_transports(ws):
    assert sorted(read_list(ws, "Server.Support.Protocol")) == ["grpc", "http", "ws"]


def test_port_nodes_are_the_bound_ports(server, ws):
    assert read(ws, WS_PORT_NODE) == str(server.ws_port)
    assert read(ws, HTTP_PORT_NODE) == str(server.http_port)
    assert read(ws, GRPC_PORT_NODE) == str(server.endpoints.grpc_port)


def test_filter_list_names_mandatory_and_served_filters(ws):
    filters = read_list(ws, "Server.Support.Filter")
    assert {"timebased", "change"} <= set(filters)
    for name in filters:
        assert set(name.split("+")) <= FILTER_NAMES, f"not an App. B filter name: {name}"


def test_data_compression_uses_app_b_names(ws):
    names = read_list(ws, "Server.Support.DataCompression")
    assert set(names) <= COMPRESSION_NAMES and {"pathlocal", "timestamplocal"} <= set(names)


def test_encoding_and_subprotocols(ws):
    assert sorted(read_list(ws, "Server.Support.Encoding")) == ["json", "protobuf"]
    assert read_list(ws, "Server.Support.SubProtocol") == ["VISSv3", "VISS-protoenc", "VISSv2"]
    # PAYLOAD ENCODING: the capabilities SHALL say how a client asks for protobuf payloads.
    assert read(ws, "Server.Config.Protocol.Websocket.Protobuf.SubProtocol") == "VISS-protoenc"


def deviations(client):
    """Server.Config.Deviations, or [] when the list is left out (nothing to declare)."""
    config = wire.values_by_path(client.request({"action": "get", "path": "Server.Config"}))
    return config.get("Server.Config.Deviations", [])


def names_insecure_transport(deviation):
    # docs/conformance.md names it "plain transport (insecure)"; the wording is free.
    return "insecure" in deviation.lower()


def test_tls_flag_and_no_plain_transport_deviation(ws):
    assert read(ws, "Server.Config.Tls") == "true"
    assert not any(map(names_insecure_transport, deviations(ws)))


def test_empty_lists_are_left_out(ws):
    """No access control, so no Server.Support.Security (a VISS value is never [])."""
    wire.assert_error(ws.request({"action": "get", "path": "Server.Support.Security"}), "404", "unavailable_data")
    for path, value in wire.values_by_path(ws.request({"action": "get", "path": "Server"})).items():
        assert value != [] and value != "", f"{path} is empty"


def test_metadata_on_server(ws):
    response = wire.assert_success(ws.request({"action": "get", "path": "Server",
                                               "filter": {"variant": "metadata", "parameter": "0"}}))
    root = response["metadata"]["Server"]
    assert root["type"] == "branch"
    assert {"Support", "Config"} <= set(root["children"])
    protocol = root["children"]["Support"]["children"]["Protocol"]
    assert protocol["type"] == "attribute" and protocol["datatype"] == "string[]"


@pytest.mark.parametrize("path", ["Server.Support.Protocol", WS_PORT_NODE, "Server.Config.Tls", "Server.Support"])
def test_set_on_server_nodes_is_400_invalid_data(ws, path):
    response = ws.request({"action": "set", "path": path, "value": ["ws"] if path.endswith("Protocol") else "1"})
    wire.assert_error(response, "400", "invalid_data")


def test_server_tree_over_http(http, ws):
    answer = http.get("Server/Support/Protocol")
    assert wire.single_value(answer.body) == read(ws, "Server.Support.Protocol")


def test_server_without_http_and_grpc_lists_only_ws(ws_only_server):
    with ws_only_server.client() as client:
        assert read_list(client, "Server.Support.Protocol") == ["ws"]
        for absent in (HTTP_PORT_NODE, GRPC_PORT_NODE):
            response = client.request({"action": "get", "path": absent})
            wire.assert_error(response, "404", "unavailable_data")
        assert read(client, WS_PORT_NODE) == str(ws_only_server.ws_port)


def test_insecure_server_declares_the_deviation(insecure_server):
    assert insecure_server.endpoints.ws_url.startswith("ws://")
    with insecure_server.client() as client:
        assert read(client, "Server.Config.Tls") == "false"
        assert any(map(names_insecure_transport, read_list(client, "Server.Config.Deviations")))
        assert sorted(read_list(client, "Server.Support.Protocol")) == ["grpc", "http", "ws"]


def test_limits_are_published(ws):
    limits = wire.values_by_path(ws.request({"action": "get", "path": "Server.Config.Limits"}))
    expected = {"MaxMessageBytes", "EventQueue", "MaxSubscriptionsPerConnection",
                "SubscriptionDurationMs", "CurvelogMaxBuffer", "HistorySamples"}
    assert {path.rsplit(".", 1)[1] for path in limits} == expected
    assert all(wire.JSON_INTEGER.match(value) for value in limits.values()), limits
    assert limits["Server.Config.Limits.SubscriptionDurationMs"] == "0", "no duration limit by default"
