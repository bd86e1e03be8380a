"""Value encoding over the whole standard tree (viss-core.md §3, §11 items 4-5): with the
simulator every leaf holds a value, and each one must be the §3.1 string form of its
datatype within its limits, judged against the reference export."""

import pytest

import vss_tree
import wire
from flags import FROZEN_SIMULATION


@pytest.fixture(scope="module")
def server(launch):
    return launch.standard(*FROZEN_SIMULATION)


@pytest.fixture(scope="module")
def whole_tree(server):
    with server.client() as client:
        return client.request({"action": "get", "path": "Vehicle"}, timeout=20)


def test_a_branch_read_returns_every_leaf(whole_tree, shared_dir):
    paths = [item["path"] for item in wire.data_items(whole_tree)]
    assert len(paths) == len(set(paths))
    assert sorted(paths) == sorted(vss_tree.leaves(shared_dir, "Vehicle"))


def test_every_value_is_encoded_per_its_datatype(whole_tree, shared_dir):
    """In-line error values (signals the simulator does not feed) are no values to judge;
    every scalar datatype of the tree must still be covered by real values."""
    nodes = vss_tree.standard_nodes(shared_dir)
    problems, covered = {}, set()
    for path, value in wire.values_by_path(whole_tree).items():
        if value == wire.INLINE_MISSING:
            continue
        covered.add(nodes[path]["datatype"])
        if problem := wire.value_problem(value, nodes[path]):
            problems[path] = problem
    assert not problems, f"{len(problems)} badly encoded values, e.g. {dict(list(problems.items())[:10])}"
    scalar_types = {node["datatype"] for node in vss_tree.leaves(shared_dir).values() if "[]" not in node["datatype"]}
    assert scalar_types <= covered, f"no values of {scalar_types - covered}"


def test_every_datapoint_has_an_iso_utc_timestamp(whole_tree):
    message_time = wire.parse_ts(whole_tree["ts"])
    for item in wire.data_items(whole_tree):
        captured = wire.parse_ts(item["dp"]["ts"])
        assert captured <= message_time, f"{item['path']} captured after the read"


def test_paths_star_reads_the_same_signals(ws, whole_tree):
    response = ws.request({"action": "get", "path": "Vehicle",
                           "filter": {"variant": "paths", "parameter": ["*"]}}, timeout=20)
    assert sorted(wire.values_by_path(response)) == sorted(wire.values_by_path(whole_tree))


def test_values_stay_until_the_next_sample(ws, whole_tree):
    """A value keeps its capture time: reading it again gives the same data point."""
    items = [item for item in wire.data_items(whole_tree) if item["dp"]["value"] != wire.INLINE_MISSING][:20]
    for item in items:
        again = wire.data_items(ws.request({"action": "get", "path": item["path"]}))[0]
        assert again["dp"] == item["dp"], item["path"]
