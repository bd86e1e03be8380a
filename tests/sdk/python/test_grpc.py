"""The client over gRPC (demo_car_sdk.grpc_link; grpcs:// URLs) against the demo car's VISS gRPC
service: subscriptions as server streams, what the protobuf encoding cannot carry refused
before sending, an untrusted certificate refused, a restart survived with the subscription
re-created, and VAPI over the "grpc" protocol. The typed gets, sets, history, metadata and
errors run over gRPC in test_typed_api.py (the any_transport fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_car_sdk import DataPoint, Vehicle, VissClient, VissError, connect, filter
from demo_car_sdk.client import ClientError
from demo_car_sdk.vapi import ProcedureStatus, Vapi
from sdk_support import SENT, Collector, DemoCar, cafile, connect_get_and_subscribe, free_port, grpc_url


async def test_subscriptions_are_streams_that_end_on_unsubscribe() -> None:
    client, vehicle = await connect(grpc_url(), cafile=cafile(), timeout=10.0)
    try:
        assert client.transport == "grpcs" and client.streams
        seat = vehicle.Cabin.Seat.Row2.DriverSide.Position
        await seat.set(100)
        points: Collector[DataPoint[int]] = Collector()
        moves = await seat.subscribe(points, filter.change("ne", 0))
        await seat.set(400)
        await points.wait_until(lambda items: bool(items) and items[-1].value == 400, 10, "400")
        speeds: Collector[DataPoint[float]] = Collector()
        ticks = await vehicle.Speed.subscribe(speeds, filter.timebased(100))
        await speeds.wait_for(3, timeout=10)
        assert moves.id != ticks.id, "subscription ids are unique across streams"
        await moves.unsubscribe()
        count = len(points.items)
        await seat.set(100)
        await asyncio.sleep(0.8)
        assert len(points.items) == count, "an event arrived after unsubscribe"
        await ticks.unsubscribe()
    finally:
        await client.close()


async def test_what_the_protobuf_encoding_cannot_carry_is_a_400_and_the_client_lives_on() -> None:
    client, vehicle = await connect(grpc_url(), cafile=cafile(), timeout=10.0)
    try:
        either = filter.range_([("lt", 10), ("gt", 100)], "OR")
        with pytest.raises(VissError) as refused:
            await vehicle.Speed.subscribe(lambda point: None, either)
        assert refused.value.number == "400" and "protobuf" in refused.value.description
        with pytest.raises(VissError) as unknown:
            await client.get("Vehicle.Speed", {"variant": "Range"})  # miscased: not a variant
        assert unknown.value.number == "400" and "filter variant" in unknown.value.description
        # A wrong filter handed in on purpose: not a message of the SDK's own making, so kept
        # out of test_zz_sent_messages' schema check.
        SENT.entries[:] = [e for e in SENT.entries if e.message.get("filter") != {"variant": "Range"}]
        with pytest.raises(VissError) as missing:
            await client.get("Vehicle.NoSuchSignal")
        assert (missing.value.number, missing.value.reason) == ("404", "unavailable_data")
        assert isinstance(await vehicle.Speed.get(), float)
    finally:
        await client.close()


async def test_an_untrusted_certificate_or_no_server_fails_at_connect() -> None:
    for url in (grpc_url(), f"grpcs://127.0.0.1:{free_port()}"):
        with pytest.raises(ClientError) as failed:
            await VissClient.connect(url, timeout=2.0)
        assert "gRPC" in str(failed.value), failed.value


@pytest.fixture
def own_car(tmp_path: Path) -> Iterator[DemoCar]:
    car = DemoCar(tmp_path / "car", free_port(), grpc_port=free_port())
    car.start()
    try:
        yield car
    finally:
        car.stop()


async def test_a_restart_is_survived_and_the_subscription_recreated(own_car: DemoCar) -> None:
    client = await VissClient.connect(own_car.grpc_url, cafile=str(own_car.cert), timeout=10.0,
                                      initial_delay=0.2, max_delay=1.0)
    vehicle = Vehicle(client)
    happened: Collector[str] = Collector()
    client.on("reconnected", lambda: happened("reconnected"))
    try:
        points: Collector[DataPoint[float]] = Collector()
        subscription = await vehicle.Speed.subscribe(points, filter.timebased(100))
        await points.wait_for(3, timeout=10)
        await asyncio.to_thread(own_car.stop)
        await asyncio.to_thread(own_car.start)
        await happened.wait_for(1, timeout=30)
        before = len(points.items)
        await points.wait_for(before + 3, timeout=15)
        assert subscription.active
        assert isinstance(await vehicle.Speed.get(), float)
    finally:
        await client.close()


async def test_vapi_over_grpc() -> None:
    async with Vapi({"grpc": grpc_url()}, cafile=cafile(), timeout=5.0) as vapi:
        vid = await connect_get_and_subscribe(vapi, "grpc")
        assert (await vapi.Disconnect(vid, "grpc")).Status is ProcedureStatus.SUCCESSFUL
