"""Reconnecting: a demo car of our own (VISS_DEMO_CAR_BIN on a free 127.0.0.1 port) is stopped
and started again on the same port; the client reconnects by itself, re-creates its
subscriptions on the new connection (same callback, same Subscription object), lets requests
made meanwhile wait for the connection, and gives up after max_attempts, ending the
subscriptions. Every process started here is stopped by its PID."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_car_sdk import DataPoint, Vehicle, VissClient, VissError, filter
from demo_car_sdk.client import ClientClosed, RequestTimeout
from sdk_support import Collector, DemoCar, free_port


@pytest.fixture
def own_car(tmp_path: Path) -> Iterator[DemoCar]:
    car = DemoCar(tmp_path / "car", free_port())
    car.start()
    try:
        yield car
    finally:
        car.stop()


async def test_reconnects_and_resubscribes_after_a_restart_on_the_same_port(own_car: DemoCar) -> None:
    client = await VissClient.connect(own_car.url, cafile=str(own_car.cert), timeout=10,
                                      initial_delay=0.1, max_delay=0.5)
    vehicle = Vehicle(client)
    happened: Collector[str] = Collector()
    for name in ("close", "reconnecting", "reconnected", "open"):
        client.on(name, lambda *args, name=name: happened(name))
    ended: list[VissError] = []
    try:
        points: Collector[DataPoint[float]] = Collector()
        subscription = await vehicle.Speed.subscribe(points, filter.timebased(100), ended.append)
        first_id = subscription.id
        await points.wait_for(3, timeout=10)
        old_pid = own_car.pid

        await asyncio.to_thread(own_car.stop)
        await happened.wait_until(lambda items: "close" in items, 10, "close")
        before = len(points.items)
        # A request made while the connection is down waits for it (within its timeout)...
        waiting = asyncio.create_task(vehicle.VehicleIdentification.SeatCount.get(timeout=30))
        # ...and one with a short timeout gives up.
        with pytest.raises(RequestTimeout):
            await vehicle.Speed.get(timeout=0.3)
        await asyncio.sleep(0.5)
        assert len(points.items) == before, "events while the server was down?"
        assert not waiting.done()
        assert "reconnecting" in happened.items

        await asyncio.to_thread(own_car.start)
        assert own_car.pid != old_pid
        seats = await asyncio.wait_for(waiting, 30)
        assert 2 <= seats <= 9
        await points.wait_for(before + 3, timeout=15)
        assert happened.items.count("reconnected") == 1
        assert subscription.active and subscription.id, "same Subscription object, still live"
        assert ended == []
        assert first_id  # the server id may or may not change; the object hides it
        assert isinstance(await vehicle.Speed.get(), float)
        await subscription.unsubscribe()
        count = len(points.items)
        await asyncio.sleep(0.4)
        assert len(points.items) == count
    finally:
        await client.close()


async def test_gives_up_after_max_attempts_and_ends_subscriptions(own_car: DemoCar) -> None:
    client = await VissClient.connect(own_car.url, cafile=str(own_car.cert), timeout=5,
                                      initial_delay=0.05, max_delay=0.1, max_attempts=3)
    vehicle = Vehicle(client)
    errors: list[object] = []
    client.on("error", errors.append)
    try:
        ended: Collector[VissError] = Collector()
        points: Collector[DataPoint[int]] = Collector()
        subscription = await vehicle.Chassis.SteeringAngle.subscribe(points, filter.timebased(100),
                                                                     ended)
        await points.wait_for(1)
        started = time.monotonic()
        await asyncio.to_thread(own_car.stop)
        await ended.wait_for(1, timeout=15)
        assert time.monotonic() - started < 15
        error = ended.items[0]
        assert (error.number, error.reason) == ("503", "service_unavailable")
        assert "gave up after 3 attempts" in error.description
        assert not subscription.active
        assert any(isinstance(item, ClientClosed) for item in errors)
        with pytest.raises(ClientClosed):
            await vehicle.Speed.get()
    finally:
        await client.close()


async def test_without_reconnect_the_first_drop_is_final(own_car: DemoCar) -> None:
    client = await VissClient.connect(own_car.url, cafile=str(own_car.cert), reconnect=False)
    vehicle = Vehicle(client)
    try:
        assert isinstance(await vehicle.Speed.get(), float)
        ended: Collector[VissError] = Collector()
        await vehicle.Speed.subscribe(lambda point: None, filter.timebased(500), ended)
        await asyncio.to_thread(own_car.stop)
        await ended.wait_for(1, timeout=10)
        assert "reconnecting is disabled" in ended.items[0].description
        with pytest.raises(ClientClosed):
            await vehicle.Speed.get()
    finally:
        await client.close()
