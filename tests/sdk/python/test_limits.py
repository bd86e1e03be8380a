"""Values and filters are checked by the SDK before anything is sent: limits (min/max), the
datatype's own range, allowed values (enums), Python types, struct members. Nothing reaches
the wire (the recorder of every sent message stays unchanged), over both transports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from demo_car_sdk import Vehicle, VissClient, filter
from sdk_support import nothing_sent

Pair = tuple[VissClient, Vehicle]


def refused_sets(vehicle: Vehicle) -> list[tuple[str, Callable[[], Awaitable[None]], type[Exception]]]:
    """(what, the set call, the exception) for values the codecs must refuse."""
    seat = vehicle.Cabin.Seat.Row1.DriverSide
    window = vehicle.Cabin.Door.Row1.DriverSide.Window
    nav = vehicle.Navigation
    # The user programs these as mistakes the type checker would also flag: Any bypasses it.
    anything = cast(Any, None)
    point = {"Latitude": 1.0, "Longitude": 2.0}
    waypoint = {"Name": "x", "Point": point, "Priority": 1}
    return [
        ("uint16 above max", lambda: seat.Position.set(501), ValueError),
        ("uint16 below min", lambda: seat.Position.set(-1), ValueError),
        ("int8 above max", lambda: seat.Heating.set(101), ValueError),
        ("int8 below min", lambda: seat.Heating.set(-101), ValueError),
        ("int8 own range", lambda: seat.Headrest.Angle.set(128), ValueError),
        ("uint8 max only", lambda: seat.Headrest.Height.set(121), ValueError),
        ("gear above max", lambda: vehicle.Powertrain.Transmission.SelectedGear.set(9), ValueError),
        ("charge limit below min", lambda: vehicle.Powertrain.Battery.ChargeLimit.set(49), ValueError),
        ("float above max", lambda: seat.Backrest.Recline.set(60.51), ValueError),
        ("float NaN", lambda: seat.Backrest.Recline.set(float("nan")), ValueError),
        ("float infinity", lambda: seat.Backrest.Recline.set(float("inf")), ValueError),
        ("numeric allowed list", lambda: seat.Massage.set(cast(Any, 4)), ValueError),
        ("string enum", lambda: window.Switch.set(cast(Any, "HALF")), ValueError),
        ("string enum is case-sensitive",
         lambda: vehicle.Powertrain.Transmission.DriveMode.set(cast(Any, "sport")), ValueError),
        ("float for an int", lambda: seat.Position.set(cast(Any, 2.5)), TypeError),
        ("str for an int", lambda: seat.Position.set(cast(Any, "10")), TypeError),
        ("bool for an int", lambda: seat.Position.set(True), TypeError),
        ("int for a bool", lambda: vehicle.Cabin.Door.Row1.DriverSide.IsOpen.set(cast(Any, 1)), TypeError),
        ("str for a float", lambda: seat.Backrest.Recline.set(cast(Any, "1.5")), TypeError),
        ("None", lambda: seat.Position.set(anything), TypeError),
        ("array element out of range", lambda: vehicle.Cabin.AmbientLight.set([1, 2, 256]), ValueError),
        ("str for an array", lambda: vehicle.Cabin.AmbientLight.set(cast(Any, "abc")), TypeError),
        ("struct member missing",
         lambda: nav.Destination.set(cast(Any, {"Name": "x", "Point": point})), TypeError),
        ("struct member unknown",
         lambda: nav.Destination.set(cast(Any, {**waypoint, "Extra": 1})), TypeError),
        ("nested struct limit",
         lambda: nav.Destination.set(cast(Any, {**waypoint, "Point": {"Latitude": 91.0, "Longitude": 0.0}})),
         ValueError),
        ("struct member type",
         lambda: nav.Destination.set(cast(Any, {**waypoint, "Priority": "1"})), TypeError),
        ("struct member datatype range",
         lambda: nav.Destination.set(cast(Any, {**waypoint, "Priority": 256})), ValueError),
        ("array of structs",
         lambda: nav.Stops.set(cast(Any, [waypoint, {**waypoint, "Point": {"Latitude": 0.0}}])), TypeError),
    ]


async def test_values_outside_the_limits_are_refused_before_sending(any_transport: Pair) -> None:
    _, vehicle = any_transport
    cases = refused_sets(vehicle)
    for what, call, expected in cases:
        with nothing_sent(), pytest.raises(expected):
            await call()
            pytest.fail(f"{what}: accepted")  # pragma: no cover


async def test_refusals_name_the_problem(wss: Pair) -> None:
    _, vehicle = wss
    seat = vehicle.Cabin.Seat.Row1.DriverSide
    with pytest.raises(ValueError, match=r"501 is outside 0\.\.500"):
        await seat.Position.set(501)
    with pytest.raises(ValueError, match=r"not one of \[0, 1, 2, 3\]"):
        await seat.Massage.set(cast(Any, 7))
    with pytest.raises(TypeError, match=r"missing members \['Priority'\]"):
        await vehicle.Navigation.Destination.set(
            cast(Any, {"Name": "x", "Point": {"Latitude": 0.0, "Longitude": 0.0}}))
    with pytest.raises(ValueError, match=r"Point\.Latitude"):
        await vehicle.Navigation.Destination.set(
            {"Name": "x", "Point": {"Latitude": -90.5, "Longitude": 0.0}, "Priority": 0})


async def test_bad_filters_are_refused_before_sending(wss: Pair) -> None:
    client, vehicle = wss
    builds: list[Callable[[], object]] = [
        lambda: filter.timebased(0),
        lambda: filter.timebased(cast(Any, "100")),
        lambda: filter.change(cast(Any, "bigger"), 1),
        lambda: filter.change("gt", cast(Any, "ten")),
        lambda: filter.range_([("gt", 1), ("lt", 2), ("lt", 3)]),
        lambda: filter.range_([("gt", 1)], "OR"),
        lambda: filter.curvelog(1, 0),
        lambda: filter.history("1H"),
        lambda: filter.history("P999D"),
        lambda: filter.metadata(-1),
        lambda: filter.paths([]),
    ]
    with nothing_sent():
        for build in builds:
            with pytest.raises((ValueError, TypeError)):
                build()
        with pytest.raises(ValueError):
            await vehicle.Speed.history("PT")
    assert client.transport == "wss"
