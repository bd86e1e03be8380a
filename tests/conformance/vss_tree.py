"""The standard VSS tree as the reference export describes it (../shared/vss/json/vss.json),
so tests derive expected datatypes, limits and defaults from the data instead of typing
them in."""

import json
from functools import lru_cache
from pathlib import Path

STANDARD_JSON = Path("vss") / "json" / "vss.json"


@lru_cache(maxsize=2)
def standard_nodes(shared_dir: Path) -> dict[str, dict]:
    """Full dot path -> node (without `children`), every node of the standard tree."""
    tree = json.loads((shared_dir / STANDARD_JSON).read_text())
    nodes: dict[str, dict] = {}

    def walk(path: str, node: dict) -> None:
        nodes[path] = {key: value for key, value in node.items() if key != "children"}
        for name, child in node.get("children", {}).items():
            walk(f"{path}.{name}", child)

    for name, root in tree.items():
        walk(name, root)
    return nodes


def leaves(shared_dir: Path, under: str = "") -> dict[str, dict]:
    prefix = f"{under}." if under else ""
    return {path: node for path, node in standard_nodes(shared_dir).items()
            if node.get("type") != "branch" and (path.startswith(prefix) or path == under)}


def attributes_with_default(shared_dir: Path, under: str) -> dict[str, dict]:
    return {path: node for path, node in leaves(shared_dir, under).items()
            if node["type"] == "attribute" and "default" in node}


def default_as_wire(node: dict) -> object:
    """A node's `default` as VISS sends it (§3.1): strings, arrays of strings."""
    default = node["default"]
    if isinstance(default, list):
        return [_wire_scalar(item) for item in default]
    return _wire_scalar(default)


def _wire_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
