"""Every message the SDK sent during this session (each WebSocket frame, the message behind
each HTTPS request, and the request behind each gRPC call) is valid against the VISS v3.0 JSON
schema with the repo's overlay (schemas/viss-v3-messages.overlay.json) applied. Named so
that it runs last; it also sends one message of every kind itself, so that it means
something when run alone."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from demo_car_sdk import VissError, connect, filter
from demo_car_sdk.tree import Waypoint
from sdk_support import SENT, apply_overlay, cafile, grpc_url, http_url, patched_schema, ws_url


async def send_one_of_everything_streamed(url: str) -> None:
    """Every kind of message over a transport that streams (wss, grpcs)."""
    client, vehicle = await connect(url, cafile=cafile())
    try:
        seat = vehicle.Cabin.Seat.Row2.PassengerSide
        await vehicle.Speed.get()
        await vehicle.Speed.history("PT1H")
        await vehicle.Speed.metadata()
        await client.get("Vehicle.Cabin.Door", filter.paths(["*.*.IsOpen", "Row1.DriverSide.IsLocked"]))
        await client.get("Vehicle.Cabin", filter.combine(filter.paths("Door.Row1.*.IsOpen"),
                                                         filter.metadata(1)))
        await seat.Heating.set(5)
        await seat.Backrest.Recline.set(1.25)
        waypoint: Waypoint = {"Name": "A", "Point": {"Latitude": 1.5, "Longitude": 2}, "Priority": 1}
        await vehicle.Navigation.Stops.set([waypoint])
        for chosen in [filter.timebased(1000), filter.change("ne", 0),
                       filter.range_([("gte", 0)]), filter.range_([("lt", 5), ("gt", 10)], "OR"),
                       filter.curvelog(0.5, 10)]:
            try:
                subscription = await vehicle.Speed.subscribe(lambda point: None, chosen)
            except VissError as refused:
                # the protobuf encoding has no `OR`: refused by the gRPC link, still recorded
                assert client.transport == "grpcs" and refused.number == "400", refused
                continue
            await subscription.unsubscribe()
        subscription = await client.subscribe(
            "Vehicle.Cabin.Door",
            filter.combine(filter.paths(["Row1.DriverSide.IsOpen", "*.*.IsOpen"]), filter.timebased(500)),
            lambda data: None)
        await subscription.unsubscribe()
    finally:
        await client.close()


async def send_one_of_everything() -> None:
    for url in (ws_url(), grpc_url()):
        await send_one_of_everything_streamed(url)
    client, vehicle = await connect(http_url(), cafile=cafile())
    try:
        await vehicle.Speed.get()
        await vehicle.Speed.history("PT1H")
        await vehicle.Speed.metadata()
        await vehicle.Cabin.Seat.Row2.PassengerSide.Heating.set(6)
    finally:
        await client.close()


def variants(message: dict[str, Any]) -> set[str]:
    found = message.get("filter")
    listed = found if isinstance(found, list) else [found] if found else []
    return {item["variant"] for item in listed}


async def test_every_message_the_sdk_sent_is_valid_against_the_viss_schema() -> None:
    await send_one_of_everything()
    validator = Draft202012Validator(patched_schema())
    entries = list(SENT.entries)
    assert len(entries) >= 25
    problems = []
    for entry in entries:
        errors = [error.message[:200] for error in validator.iter_errors(entry.message)]
        if errors:
            problems.append(f"{entry.where} ({entry.transport}): {json.dumps(entry.message)[:300]}: {errors}")
    assert not problems, "schema-invalid messages:\n" + "\n".join(problems)
    messages = [entry.message for entry in entries]
    assert {m["action"] for m in messages} == {"get", "set", "subscribe", "unsubscribe"}
    assert set().union(*(variants(m) for m in messages)) >= {
        "timebased", "change", "range", "curvelog", "history", "metadata", "paths"}
    assert {entry.transport for entry in entries} == {"ws", "http", "grpc"}
    ids = [m["requestId"] for e, m in zip(entries, messages) if e.transport in ("ws", "grpc")]
    assert all(isinstance(i, str) and i for i in ids), "every WebSocket and gRPC request has an id"


def test_the_validator_catches_what_the_sdk_must_never_send() -> None:
    """The check above could fail: the patched schema refuses wrong messages."""
    validator = Draft202012Validator(patched_schema())
    for wrong in [
        {"action": "set", "path": "Vehicle.Speed", "value": 5},  # a number, not a string
        {"action": "subscribe", "path": "Vehicle.Speed"},  # no filter
        {"action": "get", "path": "Vehicle.Speed", "filter": {"variant": "timebased",
                                                              "parameter": {"period": 100}}},
        {"action": "unsubscribe"},  # no subscriptionId
        {"action": "get", "path": "Vehicle.Speed", "requestId": 1},
    ]:
        assert not validator.is_valid(wrong), wrong
    # And the overlay matters: a nested struct value is valid only with it.
    nested = {"action": "set", "path": "Vehicle.Navigation.Destination",
              "value": {"Name": "x", "Point": {"Latitude": "1", "Longitude": "2"}, "Priority": "1"}}
    assert validator.is_valid(nested)
    from sdk_support import SCHEMA_FILE, shared_dir

    raw = json.loads((shared_dir() / SCHEMA_FILE).read_text())
    assert not Draft202012Validator(raw).is_valid(nested)
    assert apply_overlay(raw, {"patches": [{"pointer": "/no/such", "value": 1}]}) == ["/no/such"]
