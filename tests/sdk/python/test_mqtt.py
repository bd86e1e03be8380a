"""The client through an MQTT broker (demo_car_sdk.mqtt; mqtt:// URLs): Debian's mosquitto,
refusing anonymous clients, and a demo car serving VISS over MQTT, both started by the
harness (VISS_MQTT_URL, with the broker's user and password). The typed get, set, errors and
subscriptions, a wrong password, and VAPI over the "mqtt" protocol."""

from __future__ import annotations

import asyncio
import time
import urllib.parse

import pytest

from demo_car_sdk import DataPoint, Vehicle, VissClient, VissError, connect, filter
from demo_car_sdk.client import ClientError
from demo_car_sdk.vapi import LONGITUDINAL, MatrixId, ProcedureStatus, Vapi
from sdk_support import Collector, connect_get_and_subscribe, env


async def reached() -> tuple[VissClient, Vehicle]:
    """A client once the car answers: it subscribes its request topic when it has reached
    the broker, which may be after the harness started it."""
    url = env("VISS_MQTT_URL")
    deadline = time.monotonic() + 20
    while True:
        client, vehicle = await connect(url, timeout=1.0)
        try:
            await vehicle.Speed.get()
            return client, vehicle
        except ClientError:
            await client.close()
            assert time.monotonic() < deadline, "the car never answered over MQTT"


async def test_typed_calls_and_subscriptions_through_the_broker() -> None:
    client, vehicle = await reached()
    try:
        assert client.transport == "mqtt" and client.streams
        speed = await vehicle.Speed.get()
        assert 0 <= speed <= 200
        seat = vehicle.Cabin.Seat.Row2.Middle.Position
        points: Collector[DataPoint[int]] = Collector()
        moves = await seat.subscribe(points, filter.change("ne", 0))
        await seat.set(400)
        await points.wait_until(lambda items: bool(items) and items[-1].value == 400, 10, "400")
        await moves.unsubscribe()
        count = len(points.items)
        await seat.set(100)
        await asyncio.sleep(0.8)
        assert len(points.items) == count, "an event arrived after unsubscribe"
        try:
            await client.get("Vehicle.NoSuchSignal")
            raise AssertionError("an unknown path must fail")
        except VissError as error:
            assert (error.number, error.reason) == ("404", "unavailable_data"), error
    finally:
        await client.close()


async def test_a_url_without_a_vehicle_or_broker_fails_clearly() -> None:
    broker = env("VISS_MQTT_URL").rsplit("/", 1)[0]
    for url in (broker, "mqtt://127.0.0.1:1/VIN"):
        try:
            await VissClient.connect(url, timeout=2.0)
            raise AssertionError(f"{url} must not connect")
        except (ClientError, ValueError) as error:
            assert str(error), url


async def test_the_broker_refuses_a_wrong_password_and_no_message_shows_it() -> None:
    url = env("VISS_MQTT_URL")
    parts = urllib.parse.urlsplit(url)
    assert parts.username and parts.password, "the harness's broker wants a user and password"
    wrong = url.replace(f":{parts.password}@", ":not-the-password@")
    anonymous = url.replace(f"{parts.username}:{parts.password}@", "")
    for refused_url in (wrong, anonymous):
        with pytest.raises(ClientError) as refused:
            await VissClient.connect(refused_url, timeout=3.0)
        assert "refused" in str(refused.value), refused.value
        assert "not-the-password" not in str(refused.value), refused.value


async def test_vapi_over_mqtt() -> None:
    client, _ = await reached()
    await client.close()
    async with Vapi({"mqtt": env("VISS_MQTT_URL")}, timeout=5.0) as vapi:
        vid = await connect_get_and_subscribe(vapi, "mqtt")
        moved = await vapi.MoveSeat(vid, MatrixId("Row1", "PassengerSide"), LONGITUDINAL, 40.0, "")
        assert (moved.Status, moved.Position) == (ProcedureStatus.SUCCESSFUL, 40.0), moved
