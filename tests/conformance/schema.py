"""The normative VISS v3.0 JSON schema, read from the shared folder at run time, with the
repairs our docs name applied in memory (the file itself is upstream data and never edited).

Each repair first checks that the defect is still in the file, so a corrected upstream
schema makes the suite say which repair to drop instead of silently widening it.
References: `§n` = ../shared/reference/viss-core.md, `Qn` = its §18 open questions.
"""

import copy
import json
from pathlib import Path

from jsonschema import Draft202012Validator

SCHEMA_FILE = Path("schemas") / "viss-v3-messages.schema.json"
BASE = "https://covesa.global/vissv3.0/"

STRING = {"type": "string"}
STRING_ARRAY = {"type": "array", "items": STRING}


def _definition(schema: dict, name: str) -> dict:
    return schema["$defs"][f"{BASE}{name}.schema.json"]


def _filter_branch(schema: dict, variant: str) -> dict:
    """The `oneOf` branch of filter.schema.json for `variant` (paths and history are flat)."""
    for branch in _definition(schema, "filter")["oneOf"]:
        if branch.get("properties", {}).get("variant", {}).get("const") == variant:
            return branch
    raise AssertionError(f"filter schema has no flat branch for {variant!r}")


def allow_string_paths_parameter(schema: dict) -> None:
    """§13 (row "paths filter with a string parameter"), §5.2, Q2: CORE and the HTTP example
    use a single relative path string; the schema only allows an array."""
    parameter = _filter_branch(schema, "paths")["properties"]["parameter"]
    assert parameter == STRING_ARRAY, "the paths-parameter defect is fixed upstream"
    _filter_branch(schema, "paths")["properties"]["parameter"] = {"oneOf": [STRING, STRING_ARRAY]}


def allow_filter_array_on_get(schema: dict) -> None:
    """§13 (row "get with filter array paths+history"), §5.1, Q1: CORE §7 allows `paths`
    plus one other filter on reads; the get schema allows one filter object only. Repaired
    to the subscribe form: one object or an array of 1-2 objects."""
    request = _definition(schema, "get-message")["oneOf"][0]
    single = request["properties"]["filter"]
    assert "oneOf" not in single, "the get-filter-array defect is fixed upstream"
    request["properties"]["filter"] = {
        "oneOf": [single, {"type": "array", "items": single, "minItems": 1, "maxItems": 2}]
    }


def allow_nested_struct_values(schema: dict) -> None:
    """§13 (row "set with a nested struct value"), §3.1, Q3: CORE §4.2 encodes struct members
    by the same rules as values, so a member may itself be a struct object (or an array of
    strings); the v3.0 schema allows string members only. Q3 also notes that an array of
    structs cannot be written in either schema: our servers send it as an array of struct
    objects, so array items may be struct objects too."""
    value_ref = {"$ref": f"{BASE}value.schema.json"}
    branches = _definition(schema, "value")["oneOf"]
    array_branch, object_branch = branches[1], branches[2]
    assert object_branch["patternProperties"][".*"] == STRING, "nested-struct defect is fixed upstream"
    object_branch["patternProperties"][".*"] = value_ref
    struct_object = {"type": "object", "patternProperties": {".*": value_ref}}
    array_branch["items"] = {"oneOf": [STRING, struct_object]}


def separate_success_from_error(schema: dict) -> None:
    """Not in §13's list (found by the project's schema corpus test, same class as §13's
    "HTTP response body" row): the success branch of the set and unsubscribe message schemas
    requires only `ts` and forbids nothing, so every error response (§4.7: action, requestId,
    error, ts) matches both the success and the error branch and fails `oneOf`. Repair: a
    success response has no `error` member."""
    for message in ("set-message", "unsubscribe-message"):
        success = _definition(schema, message)["oneOf"][1]
        assert success["required"] == ["ts"] and "not" not in success, f"{message} defect is fixed upstream"
        success["not"] = {"required": ["error"]}


# §13 / Q8: the error reason enum is NOT extended. `expired_token` appears only in a
# TRANSPORT example; docs/conformance.md keeps v3 errors to the ten-row table (v2 sessions
# use `missing_token`/`expired_token`, but v2 messages are not checked against this schema).
REPAIRS = (
    allow_string_paths_parameter,
    allow_filter_array_on_get,
    allow_nested_struct_values,
    separate_success_from_error,
)


def load_normative_schema(shared_dir: Path) -> dict:
    path = shared_dir / SCHEMA_FILE
    assert path.is_file(), f"the normative schema is missing: {path}"
    return json.loads(path.read_text())


def repaired_schema(shared_dir: Path) -> dict:
    schema = copy.deepcopy(load_normative_schema(shared_dir))
    for repair in REPAIRS:
        repair(schema)
    Draft202012Validator.check_schema(schema)
    return schema


class MessageValidator:
    """Validates server messages against the repaired schema."""

    def __init__(self, shared_dir: Path):
        self._validator = Draft202012Validator(repaired_schema(shared_dir))

    def problems(self, message: object) -> list[str]:
        return [error.message[:300] for error in self._validator.iter_errors(message)]

    def assert_valid(self, message: dict, context: str = "") -> None:
        problems = self.problems(message)
        assert not problems, f"schema-invalid message{context}: {json.dumps(message)[:800]}\n{problems}"

    def assert_valid_without_action(self, message: dict, action: str, context: str = "") -> None:
        """Messages that carry no action by design are validated with `action` added:
        HTTP bodies (§7.2, §13 row "HTTP response body", Q23: HTTP replaces the action by
        the method) and error responses to requests whose action was missing or invalid
        (docs/conformance.md "Errors": echoing it would make a second invalid message)."""
        assert "action" not in message, f"unexpected action{context}: {message}"
        self.assert_valid({"action": action, **message}, context)
