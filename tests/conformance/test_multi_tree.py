"""Several roots at once (docs/conformance.md "Trees", viss-core.md §2.3): viss-server with
the standard tree and a second tree, each its own root, plus `Server`; the first path
segment picks the tree. No simulator: a sensor of a served tree without a value is "Data
temporarily unaccessible", a path of no served tree "Data is unknown"."""

from pathlib import Path

import pytest

import wire

# A second root: a sensor and an actuator, no units (so no units file is needed).
TRAILER_VSPEC = Path(__file__).resolve().parents[1] / "trees" / "Trailer.vspec"


@pytest.fixture(scope="module")
def server(launch, shared_dir):
    standard = shared_dir / "vss" / "spec" / "VehicleSignalSpecification.vspec"
    return launch.viss_server(["-s", str(standard), "-s", str(TRAILER_VSPEC)])


def get(ws, path, **members):
    return ws.request({"action": "get", "path": path, **members})


def assert_known_without_value(response):
    wire.assert_error(response, "404", "unavailable_data")
    assert response["error"]["description"] != "Data is unknown", response


def test_both_roots_answer(ws):
    assert_known_without_value(get(ws, "Trailer.Weight"))
    assert_known_without_value(get(ws, "Vehicle.Speed"))
    assert wire.single_value(get(ws, "Vehicle.Cabin.DoorCount")), "the standard tree's defaults are served"


def test_second_tree_is_writable_and_readable(ws):
    for value in ("true", "false"):
        wire.assert_success(ws.request({"action": "set", "path": "Trailer.Light", "value": value}))
        assert wire.single_value(get(ws, "Trailer.Light")) == value
    wire.assert_error(ws.request({"action": "set", "path": "Trailer.Weight", "value": "1"}), "400", "invalid_data")


def test_second_tree_metadata(ws):
    response = wire.assert_success(get(ws, "Trailer", filter={"variant": "metadata", "parameter": "0"}))
    trailer = response["metadata"]["Trailer"]
    assert sorted(trailer["children"]) == ["Light", "Weight"]
    assert trailer["children"]["Weight"]["datatype"] == "uint16"


def test_a_root_read_stays_in_its_tree(ws):
    paths = [item["path"] for item in wire.data_items(get(ws, "Trailer"))]
    assert sorted(paths) == ["Trailer.Light", "Trailer.Weight"]


def test_server_root_is_still_served(ws):
    assert "ws" in wire.single_value(get(ws, "Server.Support.Protocol"))


@pytest.mark.parametrize("path", ["Truck.Speed", "Trailers.Weight", "trailer.Weight"])
def test_unknown_root_is_404(ws, path):
    wire.assert_error(get(ws, path), "404", "unavailable_data", "Data is unknown")


def test_second_tree_over_http(server):
    assert server.http.post("Trailer/Light", {"value": "true"}).status == 200
    answer = server.http.get("Trailer/Light")
    assert wire.data_items(answer.body)[0]["path"] == "Trailer.Light"
