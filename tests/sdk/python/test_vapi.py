"""VAPI v1.0 (demo_car_sdk.vapi) against the demo car: the common procedures (Connect,
SelectProtocol, Disconnect, ReleaseVehicle, GetMetadata, CancelService), the data procedures
(Get, Set, Subscribe, Unsubscribe) over wss and https, and the seating service group
(GetPropertiesSeating discovered from the server's metadata, MoveSeat synchronous and
asynchronous with CancelService, ActivateMassage) -- and a tree without seats."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from demo_car_sdk import DataPoint, Vehicle, connect
from demo_car_sdk.vapi import (
    BACKREST,
    BACKWARD,
    DEFLATE,
    FORWARD,
    INFLATE,
    LONGITUDINAL,
    LUMBAR,
    VERTICAL,
    GetOutput,
    MassageOutput,
    MatrixId,
    MoveSeatOutput,
    ProcedureStatus,
    SubscribeOutput,
    Vapi,
)
from sdk_support import Collector, FakeServer, answer_for, cafile, eventually, http_url, ws_url

ONGOING, SUCCESSFUL, FAILED = ProcedureStatus.ONGOING, ProcedureStatus.SUCCESSFUL, ProcedureStatus.FAILED
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


@pytest.fixture
async def vapi() -> AsyncIterator[Vapi]:
    """A Vapi of the shared demo car with a wss session (the default protocol)."""
    api = Vapi({"wss": ws_url(), "https": http_url()}, cafile=cafile(), timeout=10, move_timeout=30)
    connected = await api.Connect(api.vehicle_id, "wss", "")
    assert connected.Status is SUCCESSFUL and connected.Error is None
    try:
        yield api
    finally:
        released = await api.ReleaseVehicle(api.vehicle_id)
        assert released.Status is SUCCESSFUL


async def on_protocol(api: Vapi, protocol: str) -> None:
    if protocol not in ("wss",):
        assert (await api.Connect(api.vehicle_id, protocol, "")).Status is SUCCESSFUL
    assert (await api.SelectProtocol(api.vehicle_id, protocol)).Status is SUCCESSFUL
    assert api.protocol == protocol


@pytest.fixture
async def probe() -> AsyncIterator[Vehicle]:
    """A typed client of its own, to check what VAPI did without going through VAPI."""
    client, vehicle = await connect(ws_url(), cafile=cafile())
    try:
        yield vehicle
    finally:
        await client.close()


async def current(vehicle: Vehicle, path: str) -> Any:
    """The current value of `path`, read through the typed tree."""
    node: Any = vehicle
    for name in path.split(".")[1:]:
        node = getattr(node, name)
    return await node.get()


# --------------------------------------------------------------------------------------------
# common procedures


async def test_connect_select_protocol_disconnect_and_release() -> None:
    api = Vapi({"wss": ws_url(), "https": http_url()}, cafile=cafile())
    vid = api.vehicle_id
    before = await api.Get(vid, "Vehicle.Speed")
    assert before.Status is FAILED and before.Error and before.Error.Code == 503
    wrong = await api.Connect(vid + 1, "wss", "")
    assert wrong.Status is FAILED and wrong.Error and wrong.Error.Code == 404
    mqtt = await api.Connect(vid, "mqtt", "")
    assert mqtt.Status is FAILED and mqtt.Error and mqtt.Error.Reason == "bad_request"
    early = await api.SelectProtocol(vid, "https")
    assert early.Status is FAILED, "SelectProtocol needs a Connect first"

    connected = await api.Connect(vid, "wss", "")
    assert (connected.Status, connected.Error, connected.LtCredential) == (SUCCESSFUL, None, "")
    assert api.protocol == "wss"
    assert (await api.Connect(vid, "https", "")).Status is SUCCESSFUL
    assert api.protocol == "wss", "the first protocol stays the default"
    assert (await api.SelectProtocol(vid, "https")).Status is SUCCESSFUL
    assert api.protocol == "https"
    assert (await api.Get(vid, "Vehicle.Speed")).Status is SUCCESSFUL
    refused = await api.Subscribe(vid, "Vehicle.Speed", "", "", lambda output: None)
    assert refused.Status is FAILED and refused.Error and refused.Error.Code == 400
    assert "wss" in refused.Error.Description

    assert (await api.Disconnect(vid, "https")).Status is SUCCESSFUL
    assert api.protocol == "wss", "the remaining session becomes the default"
    again = await api.Disconnect(vid, "https")
    assert again.Status is FAILED
    assert (await api.Get(vid, "Vehicle.Speed")).Status is SUCCESSFUL
    assert (await api.ReleaseVehicle(vid)).Status is SUCCESSFUL
    after = await api.Get(vid, "Vehicle.Speed")
    assert after.Status is FAILED and after.Error and after.Error.Code == 503


async def test_connect_to_an_unreachable_vehicle_fails_without_raising() -> None:
    api = Vapi({"wss": "wss://localhost:1"}, cafile=cafile(), timeout=3)
    output = await api.Connect(api.vehicle_id, "wss", "")
    assert output.Status is FAILED and output.Error
    assert (output.Error.Code, output.Error.Reason) == (503, "service_unavailable")
    assert api.protocol is None
    with pytest.raises(ValueError):
        Vapi({"someip": "someip://x"})


async def test_get_metadata(vapi: Vapi) -> None:
    output = await vapi.GetMetadata(vapi.vehicle_id, "Vehicle.Cabin.Seat.Row1.DriverSide.Position", "")
    assert output.Status is SUCCESSFUL and output.Error is None
    metadata = json.loads(output.Metadata)
    assert metadata["Position"]["datatype"] == "uint16"
    assert (metadata["Position"]["min"], metadata["Position"]["max"]) == ("0", "500")
    branch = json.loads((await vapi.GetMetadata(vapi.vehicle_id, "Vehicle.Cabin.Door", "")).Metadata)
    assert "IsOpen" in branch["Door"]["children"]["Row1"]["children"]["DriverSide"]["children"]
    unknown = await vapi.GetMetadata(vapi.vehicle_id, "Vehicle.NoSuch", "")
    assert unknown.Status is FAILED and unknown.Error
    assert (unknown.Error.Code, unknown.Error.Reason) == (404, "unavailable_data")


# --------------------------------------------------------------------------------------------
# data procedures


@pytest.mark.parametrize("protocol", ["wss", "https"])
async def test_get_and_set_never_raise_for_viss_errors(vapi: Vapi, protocol: str) -> None:
    await on_protocol(vapi, protocol)
    vid = vapi.vehicle_id
    got = await vapi.Get(vid, "Vehicle.Speed", "", "")
    assert isinstance(got, GetOutput) and got.Status is SUCCESSFUL and got.Error is None
    assert [c.Path for c in got.Data] == ["Vehicle.Speed"]
    point = got.Data[0].SignalData[0]
    assert 0 <= float(point.Value) <= 200 and ISO_UTC.match(point.Timestamp)

    several = await vapi.Get(vid, "Vehicle.Cabin.Door", '{"variant":"paths","parameter":["*.*.IsOpen"]}', "")
    assert several.Status is SUCCESSFUL
    assert len(several.Data) == 4 and all(c.Path.endswith(".IsOpen") for c in several.Data)
    assert all(c.SignalData[0].Value in ("true", "false") for c in several.Data)

    history = await vapi.Get(vid, "Vehicle.Speed", '{"variant":"history","parameter":"PT10M"}', "")
    assert history.Status is SUCCESSFUL and len(history.Data[0].SignalData) >= 2

    unknown = await vapi.Get(vid, "Vehicle.NoSuch", "", "")
    assert unknown.Status is FAILED and unknown.Error and unknown.Data == []
    assert (unknown.Error.Code, unknown.Error.Reason) == (404, "unavailable_data")
    assert unknown.Error.Description
    bad_filter = await vapi.Get(vid, "Vehicle.Speed", "{not json", "")
    assert bad_filter.Status is FAILED and bad_filter.Error and bad_filter.Error.Code == 400
    metadata = await vapi.Get(vid, "Vehicle.Speed", '{"variant":"metadata","parameter":"0"}', "")
    assert metadata.Status is FAILED and metadata.Error and "GetMetadata" in metadata.Error.Description

    # Disjoint actuators per protocol.
    lock = f"Vehicle.Cabin.Door.Row1.DriverSide.{'IsLocked' if protocol == 'wss' else 'IsOpen'}"
    start = (await vapi.Get(vid, lock, "", "")).Data[0].SignalData[0].Value
    flipped = "false" if start == "true" else "true"
    assert (await vapi.Set(vid, lock, flipped, "")).Status is SUCCESSFUL

    async def flipped_now() -> bool:
        return (await vapi.Get(vid, lock, "", "")).Data[0].SignalData[0].Value == flipped

    await eventually(flipped_now, 5, 0.1, f"{lock} == {flipped}")

    out_of_range = await vapi.Set(vid, "Vehicle.Cabin.Seat.Row1.DriverSide.Position", "501", "")
    assert out_of_range.Status is FAILED and out_of_range.Error
    assert (out_of_range.Error.Code, out_of_range.Error.Reason) == (400, "invalid_data")
    sensor = await vapi.Set(vid, "Vehicle.Speed", "10", "")
    assert sensor.Status is FAILED and sensor.Error and sensor.Error.Code == 400
    struct = '{"Name":"Home","Point":{"Latitude":"48.1","Longitude":"11.5"},"Priority":"1"}'
    assert (await vapi.Set(vid, "Vehicle.Navigation.Destination", struct, "")).Status is SUCCESSFUL
    assert (await vapi.Set(vid, "Vehicle.Cabin.AmbientLight", '["1","2","3"]', "")).Status is SUCCESSFUL
    bad_struct = await vapi.Set(vid, "Vehicle.Navigation.Destination", '{"Name":"Home"}', "")
    assert bad_struct.Status is FAILED and bad_struct.Error and bad_struct.Error.Code == 400


async def test_subscribe_and_unsubscribe(vapi: Vapi) -> None:
    vid = vapi.vehicle_id
    outputs: Collector[SubscribeOutput] = Collector()
    every_200_ms = '{"variant":"timebased","parameter":{"period":"200"}}'
    started = await vapi.Subscribe(vid, "Vehicle.Speed", every_200_ms, "", outputs)
    assert started.Status is ONGOING and started.Error is None and started.ServiceId > 0
    await outputs.wait_for(3)
    assert all(o.Status is ONGOING and o.ServiceId == started.ServiceId for o in outputs.items)
    assert all(o.Data[0].Path == "Vehicle.Speed" and 0 <= float(o.Data[0].SignalData[0].Value) <= 200
               for o in outputs.items)
    assert (await vapi.Unsubscribe(vid, started.ServiceId)).Status is SUCCESSFUL
    count = len(outputs.items)
    await asyncio.sleep(0.6)
    assert len(outputs.items) == count
    again = await vapi.Unsubscribe(vid, started.ServiceId)
    assert again.Status is FAILED and again.Error and again.Error.Code == 404

    # The default filter: every change.
    toggles: Collector[SubscribeOutput] = Collector()
    keypad = "Vehicle.Cabin.Door.Row1.DriverSide.KeyPad.IsEnabled"
    second = await vapi.Subscribe(vid, keypad, "", "", toggles)
    assert second.Status is ONGOING
    start = (await vapi.Get(vid, keypad)).Data[0].SignalData[0].Value
    flipped = "false" if start == "true" else "true"
    assert (await vapi.Set(vid, keypad, flipped)).Status is SUCCESSFUL
    await toggles.wait_until(lambda items: any(o.Data[0].SignalData[0].Value == flipped for o in items), 5)
    assert (await vapi.CancelService(vid, second.ServiceId)).Status is SUCCESSFUL

    curvelog = '{"variant":"curvelog","parameter":{"maxerr":"1","bufsize":"10"}}'
    refused = await vapi.Subscribe(vid, "Vehicle.IsMoving", curvelog, "", lambda output: None)
    assert refused.Status is FAILED and refused.Error
    assert (refused.Error.Code, refused.Error.Reason) == (400, "invalid_data")


# --------------------------------------------------------------------------------------------
# seating


async def test_get_properties_seating_is_discovered_from_metadata(vapi: Vapi) -> None:
    output = await vapi.GetPropertiesSeating(vapi.vehicle_id)
    assert output.Status is SUCCESSFUL and output.Error is None
    # What the server's metadata says (read here independently of the Vapi).
    metadata = json.loads((await vapi.GetMetadata(vapi.vehicle_id, "Vehicle.Cabin.Seat", "")).Metadata)
    rows = metadata["Seat"]["children"]
    assert [row.RowName for row in output.Properties] == list(rows)
    for row in output.Properties:
        assert [column.Name for column in row.Column] == list(rows[row.RowName]["children"])
        for column in row.Column:
            seat = rows[row.RowName]["children"][column.Name]["children"]
            movements = {s.Name: s.Description for s in column.MovementSupport}
            assert set(movements) == {LONGITUDINAL, BACKREST, LUMBAR}, "no Seat.Height: no vertical"
            assert VERTICAL not in movements and "Height" not in seat
            assert movements[LONGITUDINAL] == "Forward-backward direction of the vehicle"
            assert [(s.Name, s.Description) for s in column.MassageSupport] == [
                ("massage", seat["Massage"]["description"])]
    assert len(output.Properties) == 2 and all(len(row.Column) == 3 for row in output.Properties)


async def test_move_seat_synchronously_to_a_position(vapi: Vapi, probe: Vehicle) -> None:
    vid, seat = vapi.vehicle_id, MatrixId("Row1", "DriverSide")
    path = "Vehicle.Cabin.Seat.Row1.DriverSide"
    first = await vapi.MoveSeat(vid, seat, LONGITUDINAL, 20.0, "")
    assert isinstance(first, MoveSeatOutput)
    assert (first.Status, first.Error, first.Position) == (SUCCESSFUL, None, 20.0)
    assert await current(probe, f"{path}.Position") == 100  # 20 % of 0..500 mm
    started = time.monotonic()
    back = await vapi.MoveSeat(vid, seat, LONGITUDINAL, BACKWARD, "")
    took = time.monotonic() - started
    assert (back.Status, back.Position) == (SUCCESSFUL, 100.0)
    # It returned when the seat got there: 100 -> 300 -> 400 -> 450 -> 475 -> 500 takes rounds.
    assert await current(probe, f"{path}.Position") == 500
    assert took >= 0.5, took
    # Already there: at once.
    started = time.monotonic()
    assert (await vapi.MoveSeat(vid, seat, LONGITUDINAL, BACKWARD, "")).Status is SUCCESSFUL
    assert time.monotonic() - started < 5.0, "no change event comes: it must not wait for one"
    recline = await vapi.MoveSeat(vid, seat, BACKREST, 50.0, "")
    assert recline.Status is SUCCESSFUL and recline.Position == pytest.approx(50.0, abs=0.5)
    assert await current(probe, f"{path}.Backrest.Recline") == pytest.approx(25.25, abs=0.01)
    lumbar = await vapi.MoveSeat(vid, seat, LUMBAR, INFLATE, "")
    assert (lumbar.Status, lumbar.Position) == (SUCCESSFUL, 100.0)
    assert await current(probe, f"{path}.Backrest.Lumbar") == 100


async def test_move_seat_over_https_follows_by_polling(vapi: Vapi, probe: Vehicle) -> None:
    await on_protocol(vapi, "https")
    output = await vapi.MoveSeat(vapi.vehicle_id, MatrixId("Row1", "Middle"), LONGITUDINAL, 64.0, "")
    assert (output.Status, output.Error, output.Position) == (SUCCESSFUL, None, 64.0)
    assert await current(probe, "Vehicle.Cabin.Seat.Row1.Middle.Position") == 320


async def test_move_seat_asynchronously_and_cancel_it_mid_movement(vapi: Vapi, probe: Vehicle) -> None:
    vid, seat = vapi.vehicle_id, MatrixId("Row1", "PassengerSide")
    position = "Vehicle.Cabin.Seat.Row1.PassengerSide.Position"
    assert (await vapi.MoveSeat(vid, seat, LONGITUDINAL, FORWARD, "")).Status is SUCCESSFUL
    assert await current(probe, position) == 0

    updates: Collector[MoveSeatOutput] = Collector()
    started = await vapi.MoveSeat(vid, seat, LONGITUDINAL, BACKWARD, "", updates)
    assert started.Status is ONGOING and started.ServiceId > 0 and started.Position < 50
    # 0 -> 250 -> 375 -> ...: stop after the first step.
    await updates.wait_until(lambda items: any(0 < o.Position < 100 for o in items), 5, "a step")
    cancelled = await vapi.CancelService(vid, started.ServiceId)
    assert cancelled.Status is SUCCESSFUL and cancelled.Error is None
    last = updates.items[-1]
    assert last.Status is SUCCESSFUL and last.ServiceId == started.ServiceId
    assert 0 < last.Position < 100, last
    assert all(o.Status is ONGOING for o in updates.items[:-1])
    ongoing = [o.Position for o in updates.items[:-1]]
    assert ongoing == sorted(ongoing)
    stopped_at = round(last.Position * 5)  # percent of 0..500 mm
    await asyncio.sleep(1.2)  # the simulator would have reached 500 by now
    assert await current(probe, position) == stopped_at
    assert 0 < stopped_at < 500
    assert len(updates.items) == len(ongoing) + 1, "no callback after the final one"
    gone = await vapi.CancelService(vid, started.ServiceId)
    assert gone.Status is FAILED and gone.Error and gone.Error.Code == 404


async def test_asynchronous_move_reports_progress_until_it_arrives(vapi: Vapi, probe: Vehicle) -> None:
    vid, seat = vapi.vehicle_id, MatrixId("Row1", "PassengerSide")
    assert (await vapi.MoveSeat(vid, seat, LUMBAR, INFLATE, "")).Status is SUCCESSFUL
    updates: Collector[MoveSeatOutput] = Collector()
    started = await vapi.MoveSeat(vid, seat, LUMBAR, DEFLATE, "", updates)
    assert (started.Status, started.Position) == (ONGOING, 100.0)
    await updates.wait_until(lambda items: bool(items) and items[-1].Status is not ONGOING, 10, "the end")
    assert [o.Status for o in updates.items] == [ONGOING] * (len(updates.items) - 1) + [SUCCESSFUL]
    positions = [o.Position for o in updates.items]
    assert positions[-1] == 0.0 and positions == sorted(positions, reverse=True)
    assert len(positions) >= 3, positions  # 100 -> 50 -> 25 -> 13 -> 6 -> 0
    assert await current(probe, "Vehicle.Cabin.Seat.Row1.PassengerSide.Backrest.Lumbar") == 0
    ended = await vapi.CancelService(vid, started.ServiceId)
    assert ended.Status is FAILED, "the service ended by itself"


async def test_cancelling_a_synchronous_move_stops_the_seat(vapi: Vapi, probe: Vehicle) -> None:
    vid, seat = vapi.vehicle_id, MatrixId("Row2", "Middle")
    position = probe.Cabin.Seat.Row2.Middle.Position
    assert (await vapi.MoveSeat(vid, seat, LONGITUDINAL, FORWARD, "")).Status is SUCCESSFUL
    assert await position.get() == 0
    seen: Collector[DataPoint[int]] = Collector()
    watching = await position.subscribe(seen)
    task = asyncio.create_task(vapi.MoveSeat(vid, seat, LONGITUDINAL, BACKWARD, ""))
    await seen.wait_for(1, timeout=5)  # the first step: 0 -> 250
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(1.2)  # uncancelled, it would be at 500 by now
    await watching.unsubscribe()
    stopped = await position.get()
    assert 0 < stopped < 500, stopped
    assert stopped == seen.items[-1].value, "it stays where it was stopped"


async def test_move_seat_refusals_are_failed_outputs(vapi: Vapi) -> None:
    vid = vapi.vehicle_id
    driver = MatrixId("Row1", "DriverSide")
    for output, code in [
        (await vapi.MoveSeat(vid, driver, LONGITUDINAL, 100.5, ""), 400),
        (await vapi.MoveSeat(vid, driver, LONGITUDINAL, float("nan"), ""), 400),
        (await vapi.MoveSeat(vid, MatrixId("Row3", "DriverSide"), LONGITUDINAL, 10, ""), 404),
        (await vapi.MoveSeat(vid, driver, VERTICAL, 10, ""), 404),
        (await vapi.MoveSeat(vid + 7, driver, LONGITUDINAL, 10, ""), 404),
    ]:
        assert output.Status is FAILED and output.Error and output.Error.Code == code, output


async def test_activate_massage_for_a_duration_and_cancel_one(vapi: Vapi, probe: Vehicle) -> None:
    vid, seat = vapi.vehicle_id, MatrixId("Row1", "DriverSide")
    massage = "Vehicle.Cabin.Seat.Row1.DriverSide.Massage"
    ends: Collector[MassageOutput] = Collector()
    started = time.monotonic()
    output = await vapi.ActivateMassage(vid, seat, "massage", 100.0, 1, "", ends)
    assert output.Status is ONGOING and output.ServiceId > 0 and output.Error is None

    async def level(expected: int) -> bool:
        return bool(await current(probe, massage) == expected)

    await eventually(lambda: level(3), 3, 0.1, "massage at the top level")
    await ends.wait_for(1, timeout=5)
    assert time.monotonic() - started >= 0.9
    assert (ends.items[0].Status, ends.items[0].ServiceId) == (SUCCESSFUL, output.ServiceId)
    await eventually(lambda: level(0), 3, 0.1, "massage off")

    stopped: Collector[MassageOutput] = Collector()
    second = await vapi.ActivateMassage(vid, seat, "massage", 40.0, 0, "", stopped)
    assert second.Status is ONGOING
    await eventually(lambda: level(2), 3, 0.1, "40 % = level 2 of 0..3")
    await asyncio.sleep(0.3)
    assert stopped.items == [], "duration 0 runs until cancelled"
    assert (await vapi.CancelService(vid, second.ServiceId)).Status is SUCCESSFUL
    assert [o.Status for o in stopped.items] == [SUCCESSFUL]
    await eventually(lambda: level(0), 3, 0.1, "massage off")

    for refused, code in [
        (await vapi.ActivateMassage(vid, seat, "shiatsu", 50, 1, ""), 404),
        (await vapi.ActivateMassage(vid, seat, "massage", -1, 1, ""), 400),
        (await vapi.ActivateMassage(vid, seat, "massage", 50, -1, ""), 400),
        (await vapi.ActivateMassage(vid, MatrixId("Row9", "Middle"), "massage", 50, 1, ""), 404),
    ]:
        assert refused.Status is FAILED and refused.Error and refused.Error.Code == code, refused


async def test_disconnect_switches_a_running_massage_off_without_callbacks(probe: Vehicle) -> None:
    api = Vapi({"wss": ws_url()}, cafile=cafile())
    vid, seat = api.vehicle_id, MatrixId("Row2", "DriverSide")
    assert (await api.Connect(vid, "wss", "")).Status is SUCCESSFUL
    calls: Collector[MassageOutput] = Collector()
    assert (await api.ActivateMassage(vid, seat, "massage", 1.0, 0, "", calls)).Status is ONGOING
    massage = probe.Cabin.Seat.Row2.DriverSide.Massage

    async def level(expected: int) -> bool:
        return bool(await massage.get() == expected)

    await eventually(lambda: level(1), 3, 0.1, "1 % = the lowest level above off")
    assert (await api.Disconnect(vid, "wss")).Status is SUCCESSFUL
    assert api.protocol is None
    await eventually(lambda: level(0), 3, 0.1, "massage off")
    assert calls.items == []


async def test_a_disconnect_racing_a_massage_start_leaves_no_massage_on(probe: Vehicle) -> None:
    """The start registers its service before Disconnect ends the session's services: without
    that, the set in flight switched the massage on and the closed client could not switch it
    off. Rounds of the race, the start first and the disconnect first."""
    api = Vapi({"wss": ws_url()}, cafile=cafile())
    vid, seat = api.vehicle_id, MatrixId("Row2", "PassengerSide")
    massage = probe.Cabin.Seat.Row2.PassengerSide.Massage

    async def off() -> bool:
        return bool(await massage.get() == 0)

    started = 0
    for round_ in range(8):
        assert (await api.Connect(vid, "wss", "")).Status is SUCCESSFUL
        assert (await api.GetPropertiesSeating(vid)).Status is SUCCESSFUL  # seats known

        async def start() -> MassageOutput:
            if round_ % 2:
                await asyncio.sleep(0)  # the disconnect goes first
            return await api.ActivateMassage(vid, seat, "massage", 100.0, 0, "")

        output, stopped = await asyncio.gather(start(), api.Disconnect(vid, "wss"))
        assert stopped.Status is SUCCESSFUL, stopped
        started += output.Status is ONGOING
        await eventually(off, 5, 0.1, f"massage off after round {round_}")
    assert started > 0, "no round started the massage before its session ended"


# --------------------------------------------------------------------------------------------
# a vehicle without seating signals


def seatless_metadata(connection: ServerConnection, message: dict[str, Any]) -> Any:
    """A VISS peer whose seats have only sensors (no movement or massage actuator)."""
    if message.get("filter", {}).get("variant") == "metadata" and message["path"] == "Vehicle.Cabin.Seat":
        seat = {"type": "branch", "description": "A seat.", "children": {
            "IsBelted": {"type": "sensor", "datatype": "boolean", "description": "Belted."},
            "Position": {"type": "sensor", "datatype": "uint16", "min": "0", "max": "500",
                         "description": "Read-only position."},
            "Backrest": {"type": "branch", "description": "Backrest.", "children": {
                "Recline": {"type": "actuator", "datatype": "float", "description": "No limits."}}}}}
        metadata = {"Seat": {"type": "branch", "description": "Seats.", "children": {
            "Row1": {"type": "branch", "description": "Row.", "children": {"DriverSide": seat}}}}}
        return connection.send(answer_for(message, metadata=metadata))
    error = {"number": "404", "reason": "unavailable_data", "description": "Data is unknown"}
    return connection.send(answer_for(message, error=error))


def no_seat_branch(connection: ServerConnection, message: dict[str, Any]) -> Any:
    error = {"number": "404", "reason": "unavailable_data", "description": "Data is unknown"}
    return connection.send(answer_for(message, error=error))


@pytest.mark.parametrize("peer", [seatless_metadata, no_seat_branch])
async def test_a_tree_without_seating_signals_reports_the_service_as_unsupported(peer: Any) -> None:
    async with FakeServer(peer) as fake:
        api = Vapi({"wss": fake.url})
        assert (await api.Connect(api.vehicle_id, "wss", "")).Status is SUCCESSFUL
        try:
            properties = await api.GetPropertiesSeating(api.vehicle_id)
            assert properties.Status is FAILED and properties.Properties == []
            error = properties.Error
            assert error and (error.Code, error.Reason) == (404, "unavailable_data")
            assert "seating" in error.Description
            seat = MatrixId("Row1", "DriverSide")
            moved = await api.MoveSeat(api.vehicle_id, seat, LONGITUDINAL, 50, "")
            assert moved.Status is FAILED and moved.Error and moved.Error.Code == 404
            massage = await api.ActivateMassage(api.vehicle_id, seat, "massage", 50, 1, "")
            assert massage.Status is FAILED and massage.Error and massage.Error.Code == 404
            assert not any(m["action"] == "set" for m in fake.received), "nothing was moved"
        finally:
            await api.ReleaseVehicle(api.vehicle_id)


async def test_credentials_become_viss_authorization_and_subscription_errors_reach_the_callback() -> None:
    async def peer(connection: ServerConnection, message: dict[str, Any]) -> None:
        if message["action"] == "subscribe":
            await connection.send(answer_for(message, subscriptionId="5"))
            error = {"number": "408", "reason": "request_timeout", "description": "subscription expired"}
            await connection.send(json.dumps({"action": "subscription", "subscriptionId": "5",
                                              "error": error, "ts": "2026-01-01T00:00:00Z"}))
        else:
            dp = {"value": "1", "ts": "2026-01-01T00:00:00Z"}
            await connection.send(answer_for(message, data={"path": message["path"], "dp": dp}))

    async with FakeServer(peer) as fake:
        api = Vapi({"wss": fake.url})
        vid = api.vehicle_id
        assert (await api.Connect(vid, "wss", "session-token")).Status is SUCCESSFUL
        try:
            first, second, third = await asyncio.gather(
                api.Get(vid, "Vehicle.Speed", "", "token-a"),
                api.Get(vid, "Vehicle.TripTime", "", "token-b"),
                api.Get(vid, "Vehicle.IsMoving", "", ""))
            assert [o.Status for o in (first, second, third)] == [SUCCESSFUL] * 3
            tokens = {m["path"]: m.get("authorization") for m in fake.received}
            assert tokens == {"Vehicle.Speed": "token-a", "Vehicle.TripTime": "token-b",
                              "Vehicle.IsMoving": "session-token"}
            ended: Collector[SubscribeOutput] = Collector()
            started = await api.Subscribe(vid, "Vehicle.Speed", "", "", ended)
            assert started.Status is ONGOING
            await ended.wait_for(1)
            last = ended.items[0]
            assert (last.Status, last.ServiceId) == (FAILED, started.ServiceId)
            assert last.Error and (last.Error.Code, last.Error.Reason) == (408, "request_timeout")
            assert (await api.Unsubscribe(vid, started.ServiceId)).Status is FAILED, "already over"
        finally:
            await api.ReleaseVehicle(vid)
