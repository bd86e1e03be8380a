"""The schema repairs (schema.py) accept exactly what viss-core.md §13/§18 says the prose
allows, and nothing the spec forbids: otherwise message validation would prove little."""

import pytest

from schema import load_normative_schema
from jsonschema import Draft202012Validator

TS = "2025-03-01T10:00:00.120Z"
ERROR = {"number": "400", "reason": "invalid_data", "description": "Data value outside limit"}

ACCEPTED_BY_REPAIR = {
    "paths parameter as a string (Q2)": {
        "action": "get", "path": "Vehicle.Cabin", "filter": {"variant": "paths", "parameter": "Door.*.*.IsOpen"}},
    "get with paths + history (Q1)": {
        "action": "get", "path": "Vehicle", "filter": [
            {"variant": "paths", "parameter": ["Speed"]}, {"variant": "history", "parameter": "PT1M"}]},
    "nested struct value (Q3)": {
        "action": "set", "path": "Vehicle.Navigation.Destination",
        "value": {"Name": "Home", "Point": {"Latitude": "48.1", "Longitude": "11.5"}, "Priority": "1"}},
    "set error response": {"action": "set", "requestId": "1", "error": ERROR, "ts": TS},
    "unsubscribe error response": {"action": "unsubscribe", "requestId": "1", "error": ERROR, "ts": TS},
}

STILL_REJECTED = {
    "three filters on get": {
        "action": "get", "path": "Vehicle", "filter": [{"variant": "history", "parameter": "PT1M"}] * 3},
    "v2 filter key type": {"action": "get", "path": "Vehicle", "filter": {"type": "paths", "parameter": ["Speed"]}},
    "error number as a JSON number": {
        "action": "get", "requestId": "1", "error": {**ERROR, "number": 400}, "ts": TS},
    "reason outside the table (expired_token)": {
        "action": "get", "requestId": "1", "error": {**ERROR, "number": "401", "reason": "expired_token"}, "ts": TS},
    "value as a JSON number": {"action": "set", "path": "Vehicle.Speed", "value": 5},
    "response without ts": {"action": "get", "requestId": "1", "data": {"path": "Vehicle.Speed",
                                                                        "dp": {"value": "1", "ts": TS}}},
    "subscribe without filter": {"action": "subscribe", "path": "Vehicle.Speed", "requestId": "1"},
}


@pytest.mark.parametrize("name", sorted(ACCEPTED_BY_REPAIR))
def test_repair_accepts_what_the_prose_allows(validator, shared_dir, name):
    message = ACCEPTED_BY_REPAIR[name]
    original = Draft202012Validator(load_normative_schema(shared_dir))
    assert not original.is_valid(message), f"the normative schema already accepts {name}"
    assert validator.problems(message) == []


@pytest.mark.parametrize("name", sorted(STILL_REJECTED))
def test_repaired_schema_still_rejects(validator, name):
    assert validator.problems(STILL_REJECTED[name]), f"the repaired schema accepts {name}"
