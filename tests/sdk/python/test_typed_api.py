"""The typed tree against the demo car: get, set, history, metadata and errors over wss and
https, and every subscription filter over wss (`vehicle.Cabin.Seat.Row1.DriverSide.Position`
style, no paths in strings)."""

from __future__ import annotations

import asyncio
import math
import re
import time
from typing import Any, get_args

import pytest

from demo_car_sdk import (
    Actuator,
    Attribute,
    DataPoint,
    Sensor,
    Vehicle,
    VissClient,
    VissError,
    codec,
    filter,
)
from demo_car_sdk.client import ClientError
from demo_car_sdk.tree import (
    BodyType,
    DriveMode,
    FuelTypes,
    GeoPoint,
    Source,
    Waypoint,
    WaypointCodec,
)
from sdk_support import SENT, Collector, eventually, nothing_sent

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

Pair = tuple[VissClient, Vehicle]


def leaves(node: object, seen: set[int] | None = None) -> list[Sensor[Any]]:
    """Every leaf handle of a typed (sub)tree, found through its attributes."""
    seen = set() if seen is None else seen
    found: list[Sensor[Any]] = []
    for value in vars(node).values():
        if isinstance(value, Sensor):
            found.append(value)
        elif hasattr(value, "__dict__") and not isinstance(value, VissClient) and id(value) not in seen:
            seen.add(id(value))
            found.extend(leaves(value, seen))
    return found


async def settle(leaf: Actuator[Any], value: Any, timeout: float = 10.0) -> None:
    """Sets `value` and waits (bounded) until the simulator reports it as current."""
    await leaf.set(value)

    async def reached() -> bool:
        return bool(await leaf.get() == value)

    await eventually(reached, timeout, 0.1, f"{leaf.path} == {value!r}")


# --------------------------------------------------------------------------------------------
# get


async def test_get_decodes_every_scalar_kind(any_transport: Pair) -> None:
    client, vehicle = any_transport
    speed = await vehicle.Speed.get()
    assert isinstance(speed, float) and 0 <= speed <= 200
    assert isinstance(await vehicle.IsMoving.get(), bool)
    trip = await vehicle.TripTime.get()
    assert isinstance(trip, int) and not isinstance(trip, bool)
    angle = await vehicle.Chassis.SteeringAngle.get()
    assert isinstance(angle, int) and -720 <= angle <= 720
    assert isinstance(await vehicle.Cabin.Door.Row1.DriverSide.IsOpen.get(), bool)
    # Attributes do not change, so the typed values must equal the decoded raw answers.
    ident = vehicle.VehicleIdentification
    checks: list[tuple[Sensor[Any], type]] = [
        (ident.VIN, str), (ident.Year, int), (ident.SeatCount, int), (ident.BodyType, str),
        (vehicle.Powertrain.Type, str)]
    for leaf, expected_type in checks:
        typed = await leaf.get()
        raw = await client.get(leaf.path)
        assert raw["data"]["path"] == leaf.path
        wire = raw["data"]["dp"]["value"]
        assert isinstance(wire, str), "scalars travel as JSON strings"
        assert isinstance(typed, expected_type)
        assert str(typed) == wire, (leaf.path, typed, wire)
    year = await ident.Year.get()
    assert 1990 <= year <= 2100
    assert await ident.BodyType.get() in get_args(BodyType)


async def test_get_of_enum_and_array_attributes(any_transport: Pair) -> None:
    _, vehicle = any_transport
    fuels = await vehicle.VehicleIdentification.FuelTypes.get()
    assert isinstance(fuels, list) and fuels
    assert set(fuels) <= set(get_args(FuelTypes))


async def test_get_data_point_carries_the_capture_time(any_transport: Pair) -> None:
    _, vehicle = any_transport
    point = await vehicle.Speed.get_data_point()
    assert isinstance(point, DataPoint)
    assert ISO_UTC.match(point.ts), point.ts
    assert isinstance(point.value, float)


async def test_a_value_not_available_is_a_viss_error_not_a_bogus_decode(any_transport: Pair) -> None:
    _, vehicle = any_transport
    # Structs and arrays are not simulated: the server has no value for them.
    with pytest.raises(VissError) as caught:
        await vehicle.CurrentLocation.Position.get()
    assert caught.value.number == "404"
    assert caught.value.reason == "unavailable_data"
    assert caught.value.action == "get"
    assert caught.value.path == "Vehicle.CurrentLocation.Position"


# --------------------------------------------------------------------------------------------
# set


async def test_set_every_scalar_kind_and_read_it_back(any_transport: Pair) -> None:
    client, vehicle = any_transport
    # Disjoint actuators per transport: both runs share the server.
    seat = vehicle.Cabin.Seat.Row2.Middle if client.transport == "wss" else vehicle.Cabin.Seat.Row1.Middle
    doors = vehicle.Cabin.Door.Row2
    door = doors.DriverSide if client.transport == "wss" else doors.PassengerSide

    locked = await door.IsLocked.get()
    await settle(door.IsLocked, not locked)  # boolean
    await settle(seat.Position, 120 if await seat.Position.get() != 120 else 360)  # uint16
    await settle(seat.Heating, -40 if await seat.Heating.get() != -40 else 40)  # int8
    await settle(seat.Backrest.Recline, 12.5 if await seat.Backrest.Recline.get() != 12.5 else 30.0)  # float
    switch = "ONE_SHOT_OPEN" if await door.Window.Switch.get() != "ONE_SHOT_OPEN" else "CLOSE"
    await settle(door.Window.Switch, switch)  # enum
    recline = await seat.Backrest.Recline.get()
    assert isinstance(recline, float)


async def test_set_enums_typed_as_literals(wss: Pair) -> None:
    _, vehicle = wss
    modes: tuple[DriveMode, ...] = get_args(DriveMode)
    current = await vehicle.Powertrain.Transmission.DriveMode.get()
    assert current in modes
    target: DriveMode = modes[(modes.index(current) + 1) % len(modes)]
    await settle(vehicle.Powertrain.Transmission.DriveMode, target)
    sources: tuple[Source, ...] = get_args(Source)
    await settle(vehicle.Cabin.Infotainment.Source, sources[-1])
    # A numeric `allowed` list is a Literal of ints.
    await settle(vehicle.Cabin.Seat.Row2.Middle.Massage, 2)
    massage = await vehicle.Cabin.Seat.Row2.Middle.Massage.get()
    assert massage == 2 and isinstance(massage, int)


async def test_struct_and_array_values_go_out_in_wire_form_and_are_accepted(any_transport: Pair) -> None:
    client, vehicle = any_transport
    point: GeoPoint = {"Latitude": 48.137, "Longitude": -11.5}
    home: Waypoint = {"Name": "Home", "Point": point, "Priority": 2}
    mark = SENT.count()
    await vehicle.Navigation.Destination.set(home)
    await vehicle.Navigation.Stops.set([home, {"Name": "Work", "Point": point, "Priority": 0}])
    await vehicle.Cabin.AmbientLight.set([255, 128, 0])
    sent = [entry.message for entry in SENT.since(mark)]
    sets = [message for message in sent if message.get("action") == "set"]
    assert [message["path"] for message in sets] == [
        "Vehicle.Navigation.Destination", "Vehicle.Navigation.Stops", "Vehicle.Cabin.AmbientLight"]
    assert sets[0]["value"] == {"Name": "Home", "Point": {"Latitude": "48.137", "Longitude": "-11.5"},
                                "Priority": "2"}
    assert WaypointCodec.decode(sets[0]["value"]) == home
    assert sets[1]["value"][1]["Name"] == "Work" and len(sets[1]["value"]) == 2
    assert sets[2]["value"] == ["255", "128", "0"]
    # The server checks struct values itself, so the accepted sets above were well formed.
    with pytest.raises(VissError) as caught:
        await client.set("Vehicle.Navigation.Destination", {"Name": "x"})
    assert (caught.value.number, caught.value.reason) == ("400", "invalid_data")


async def test_limits_are_inclusive(wss: Pair) -> None:
    _, vehicle = wss
    seat = vehicle.Cabin.Seat.Row2.PassengerSide
    await seat.Position.set(500)
    await seat.Position.set(0)
    await seat.Backrest.Recline.set(60.5)
    await seat.Backrest.Recline.set(-10)
    await vehicle.Powertrain.Battery.ChargeLimit.set(50)
    await vehicle.Powertrain.Transmission.SelectedGear.set(-1)


# --------------------------------------------------------------------------------------------
# subscribe / unsubscribe (wss)


async def test_timebased_subscription_delivers_typed_points_until_unsubscribed(wss: Pair) -> None:
    client, vehicle = wss
    points: Collector[DataPoint[float]] = Collector()
    started = time.monotonic()
    subscription = await vehicle.Speed.subscribe(points, filter.timebased(200))
    assert subscription.id and subscription.active and subscription.path == "Vehicle.Speed"
    await points.wait_for(4, timeout=10)
    elapsed = time.monotonic() - started
    # Four events every 200 ms take at least ~0.6 s (the first may come at once).
    assert elapsed >= 0.5, elapsed
    assert all(isinstance(p.value, float) and 0 <= p.value <= 200 for p in points.items)
    assert all(ISO_UTC.match(p.ts) for p in points.items)
    await subscription.unsubscribe()
    assert not subscription.active
    unsubscribes = [e.message for e in SENT.entries if e.message.get("action") == "unsubscribe"]
    assert unsubscribes and unsubscribes[-1]["subscriptionId"] == subscription.id
    count = len(points.items)
    await asyncio.sleep(0.8)
    assert len(points.items) == count, "an event arrived after unsubscribe"
    await subscription.unsubscribe()  # idempotent: nothing more is sent
    assert [e.message for e in SENT.entries if e.message.get("action") == "unsubscribe"] == unsubscribes


async def test_change_subscription_on_a_boolean_reports_each_toggle(wss: Pair) -> None:
    _, vehicle = wss
    lock = vehicle.Cabin.Door.Row1.PassengerSide.IsLocked
    start = await lock.get()
    points: Collector[DataPoint[bool]] = Collector()
    subscription = await lock.subscribe(points)  # default for scalars: change ne 0
    await asyncio.sleep(0.5)
    assert points.items == [], "no change, no event"
    await lock.set(not start)
    await points.wait_until(lambda items: any(p.value is (not start) for p in items), 5, "toggle")
    await lock.set(start)
    await points.wait_until(lambda items: items[-1].value is start, 5, "toggle back")
    await subscription.unsubscribe()
    values = [p.value for p in points.items]
    assert values == [not start, start], values


async def test_change_filter_with_a_threshold_only_reports_large_rises(wss: Pair) -> None:
    _, vehicle = wss
    heating = vehicle.Cabin.Seat.Row2.DriverSide.Heating
    await settle(heating, 0)
    points: Collector[DataPoint[int]] = Collector()
    subscription = await heating.subscribe(points, filter.change("gt", 5))
    await heating.set(100)  # 0 -> 50 -> 75 -> 88 -> 94 -> 100: every step rises by > 5
    await points.wait_until(lambda items: bool(items) and items[-1].value == 100, 10, "100")
    rises = [p.value for p in points.items]
    await settle(heating, -100)  # falling: never reported
    await asyncio.sleep(0.5)
    await subscription.unsubscribe()
    assert [p.value for p in points.items] == rises
    assert rises == sorted(rises) and len(rises) >= 2, rises
    assert all(b - a > 5 for a, b in zip([0, *rises], rises)), rises


async def test_range_filter_with_combination_op_or(wss: Pair) -> None:
    _, vehicle = wss
    lumbar = vehicle.Cabin.Seat.Row2.DriverSide.Backrest.Lumbar
    await settle(lumbar, 50)
    points: Collector[DataPoint[int]] = Collector()
    subscription = await lumbar.subscribe(points, filter.range_([("lt", 20), ("gt", 80)], "OR"))
    await asyncio.sleep(0.5)
    assert points.items == [], "50 is in neither range"
    await lumbar.set(100)
    await points.wait_until(lambda items: bool(items) and items[-1].value == 100, 10, "100")
    await lumbar.set(0)
    await points.wait_until(lambda items: bool(items) and items[-1].value == 0, 10, "0")
    await subscription.unsubscribe()
    values = [p.value for p in points.items]
    assert all(v < 20 or v > 80 for v in values), values
    assert any(v > 80 for v in values) and any(v < 20 for v in values)
    sent = [e.message for e in SENT.entries if e.message.get("action") == "subscribe"
            and e.message["path"] == lumbar.path]
    assert sent[-1]["filter"]["parameter"][0]["combination-op"] == "OR"


async def test_range_filter_with_combination_op_and(wss: Pair) -> None:
    _, vehicle = wss
    recline = vehicle.Cabin.Seat.Row2.DriverSide.Backrest.Recline
    await settle(recline, -10)
    points: Collector[DataPoint[float]] = Collector()
    subscription = await recline.subscribe(points, filter.range_([("gt", 10), ("lt", 45)], "AND"))
    # -10 -> 25.25 (reported) -> 42.9 (reported) -> 51.7 -> ... -> 60.5
    await recline.set(60.5)

    async def arrived() -> bool:
        return bool(await recline.get() == 60.5)

    await eventually(arrived, 10, 0.1, "recline at 60.5")
    await asyncio.sleep(0.3)
    await subscription.unsubscribe()
    values = [p.value for p in points.items]
    assert values, "the way from -10 to 60.5 passes through (10, 45)"
    assert all(10 < v < 45 for v in values), values


async def test_curvelog_drops_points_a_line_explains(wss: Pair) -> None:
    _, vehicle = wss
    tight: Collector[DataPoint[float]] = Collector()
    loose: Collector[DataPoint[float]] = Collector()
    first = await vehicle.Speed.subscribe(tight, filter.curvelog(0, 5))
    second = await vehicle.Speed.subscribe(loose, filter.curvelog(1000, 5))
    await asyncio.sleep(3.0)
    await first.unsubscribe()
    await second.unsubscribe()
    # Over ~15 samples: a maximum error of 1000 km/h keeps only the window end points.
    assert len(loose.items) >= 2, loose.items
    assert len(loose.items) < len(tight.items), (len(loose.items), len(tight.items))
    assert all(0 <= p.value <= 200 for p in loose.items + tight.items)
    stamps = [p.ts for p in tight.items]
    assert stamps == sorted(stamps)


async def test_unsubscribe_all_stops_every_subscription(wss: Pair) -> None:
    client, vehicle = wss
    a: Collector[DataPoint[float]] = Collector()
    b: Collector[DataPoint[int]] = Collector()
    first = await vehicle.Speed.subscribe(a, filter.timebased(100))
    second = await vehicle.Chassis.SteeringAngle.subscribe(b, filter.timebased(100))
    assert first.id != second.id
    await a.wait_for(1)
    await b.wait_for(1)
    await client.unsubscribe_all()
    assert not first.active and not second.active
    counts = (len(a.items), len(b.items))
    await asyncio.sleep(0.5)
    assert (len(a.items), len(b.items)) == counts


async def test_subscription_errors_are_viss_errors(wss: Pair) -> None:
    client, vehicle = wss
    points: Collector[DataPoint[bool]] = Collector()
    with pytest.raises(VissError) as caught:
        await vehicle.IsMoving.subscribe(points, filter.curvelog(1, 10))
    assert (caught.value.number, caught.value.reason) == ("400", "invalid_data")
    assert caught.value.action == "subscribe"
    assert client._subscriptions == {}, "a refused subscription is not kept"


async def test_subscribe_over_https_is_refused_before_sending(https: Pair) -> None:
    _, vehicle = https
    points: Collector[DataPoint[float]] = Collector()
    with nothing_sent(), pytest.raises(ClientError, match="not available over https"):
        await vehicle.Speed.subscribe(points, filter.timebased(100))


# --------------------------------------------------------------------------------------------
# history and metadata


async def test_history_returns_recorded_points_oldest_first(any_transport: Pair) -> None:
    _, vehicle = any_transport

    async def recorded() -> list[DataPoint[float]]:
        points = await vehicle.Speed.history("PT10M")
        return points if len(points) >= 3 else []

    points: list[DataPoint[float]] = await eventually(recorded, 10, 0.2, "3 recorded speeds")
    assert all(isinstance(p.value, float) and 0 <= p.value <= 200 for p in points)
    stamps = [p.ts for p in points]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    # Nothing was ever recorded for an actuator nobody set.
    with pytest.raises(VissError) as caught:
        await vehicle.Cabin.Seat.Row2.PassengerSide.Headrest.Angle.history("PT1H")
    assert caught.value.number == "404"
    with nothing_sent(), pytest.raises(ValueError):
        await vehicle.Speed.history("1 hour")


async def test_metadata_of_leaves(any_transport: Pair) -> None:
    _, vehicle = any_transport
    speed = await vehicle.Speed.metadata()
    assert speed["type"] == "sensor" and speed["datatype"] == "float"
    assert (speed["unit"], speed["min"], speed["max"]) == ("km/h", "0", "200")
    position = await vehicle.Cabin.Seat.Row1.DriverSide.Position.metadata()
    assert (position["type"], position["datatype"], position["min"], position["max"]) == (
        "actuator", "uint16", "0", "500")
    body = await vehicle.VehicleIdentification.BodyType.metadata()
    assert tuple(body["allowed"]) == get_args(BodyType)


async def test_the_typed_tree_matches_the_servers_metadata(wss: Pair) -> None:
    """Every leaf of the generated tree exists on the server with the kind, datatype,
    limits and allowed values its handle and codec were generated with."""
    client, vehicle = wss
    answer = await client.get("Vehicle", filter.metadata(0))
    tree = answer["metadata"]["Vehicle"]

    def node(path: str) -> dict[str, Any]:
        current: dict[str, Any] = tree
        for name in path.split(".")[1:]:
            current = current["children"][name]
        return current

    handles = leaves(vehicle)
    assert len(handles) > 100
    kinds = {Actuator: "actuator", Attribute: "attribute", Sensor: "sensor"}
    for leaf in handles:
        meta = node(leaf.path)
        assert meta["type"] == kinds[type(leaf)], leaf.path
        assert meta["datatype"] == leaf.codec.vss_type, leaf.path
        base = getattr(leaf.codec, "element", leaf.codec)
        if "allowed" in meta:
            allowed = getattr(base, "allowed", None)
            assert allowed is not None, f"{leaf.path}: allowed values without a Literal"
            assert [str(value) for value in allowed] == meta["allowed"], leaf.path
        for limit in ("min", "max"):
            if limit in meta and hasattr(base, limit):
                assert math.isclose(getattr(base, limit), float(meta[limit])), (leaf.path, limit)


# --------------------------------------------------------------------------------------------
# errors


async def test_viss_errors_carry_number_reason_and_description(any_transport: Pair) -> None:
    client, _ = any_transport
    unknown = Sensor(client, "Vehicle.NoSuchSignal", codec.floating("float"))
    with pytest.raises(VissError) as caught:
        await unknown.get()
    error = caught.value
    assert (error.number, error.reason) == ("404", "unavailable_data")
    assert error.description and error.action == "get" and error.path == "Vehicle.NoSuchSignal"
    assert "404" in str(error) and "Vehicle.NoSuchSignal" in str(error)
    # A handle built by hand that claims a sensor is an actuator: the server refuses the set.
    wrong = Actuator(client, "Vehicle.Speed", codec.floating("float", 0, 200))
    with pytest.raises(VissError) as refused:
        await wrong.set(10.0)
    assert (refused.value.number, refused.value.reason, refused.value.action) == (
        "400", "invalid_data", "set")
