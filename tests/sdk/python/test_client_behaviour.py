"""The client under load and when things go wrong, through the typed tree: request-id
correlation under concurrency (the demo car, and a peer that answers in reverse order),
timeouts, cancellation, close(), the pending-request bound and the authorization member."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from demo_car_sdk import DataPoint, Vehicle, VissClient, connect, filter
from demo_car_sdk.client import ClientClosed, ClientError, RequestTimeout
from demo_car_sdk.leaf import Sensor
from sdk_support import SENT, Collector, FakeServer, answer_for, cafile, ws_url

Pair = tuple[VissClient, Vehicle]


def pending(client: VissClient) -> dict[str, Any]:
    """The WebSocket transport's table of requests waiting for an answer."""
    table: dict[str, Any] = client._impl._pending  # type: ignore[union-attr]
    return table


async def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# --------------------------------------------------------------------------------------------
# correlation


async def test_concurrent_requests_get_their_own_answers(wss: Pair) -> None:
    _, vehicle = wss
    ident = vehicle.VehicleIdentification
    seats = vehicle.Cabin.Seat
    reads: list[Sensor[Any]] = [ident.VIN, ident.Year, ident.BodyType, ident.FuelTypes,
                                ident.SeatCount, ident.Brand, vehicle.Powertrain.Type,
                                vehicle.Chassis.Axle.Row1.TrackWidth, vehicle.Powertrain.Battery.Capacity,
                                seats.Row2.PassengerSide.Headrest.Angle, vehicle.StartTime]
    expected = [await leaf.get() for leaf in reads]  # attributes and an actuator no test sets
    mark = SENT.count()
    rounds = 8
    results = await asyncio.gather(*(leaf.get() for _ in range(rounds) for leaf in reads))
    assert results == expected * rounds
    ids = [entry.message["requestId"] for entry in SENT.since(mark)]
    assert len(ids) == rounds * len(reads) and len(set(ids)) == len(ids), "request ids are unique"


async def test_answers_in_reverse_order_reach_their_callers() -> None:
    """A peer that holds every request and then answers them last-first."""
    count = 24
    held: list[tuple[ServerConnection, dict[str, Any]]] = []

    async def hold_then_reverse(connection: ServerConnection, message: dict[str, Any]) -> None:
        held.append((connection, message))
        if len(held) == count:
            for peer, request in reversed(held):
                value = str(index_of[request["path"]])
                await peer.send(answer_for(request, data={"path": request["path"],
                                "dp": {"value": value, "ts": "2026-01-01T00:00:00Z"}}))

    async with FakeServer(hold_then_reverse) as fake:
        client, vehicle = await connect(fake.url, timeout=10)
        seats = [getattr(getattr(vehicle.Cabin.Seat, row), side)
                 for row in ("Row1", "Row2") for side in ("DriverSide", "Middle", "PassengerSide")]
        leaves: list[Sensor[int]] = [s.Position for s in seats] + [s.Heating for s in seats] + \
            [s.Backrest.Lumbar for s in seats] + [s.Headrest.Height for s in seats]
        assert len(leaves) == count
        index_of = {leaf.path: index for index, leaf in enumerate(leaves)}
        try:
            values = await asyncio.gather(*(leaf.get() for leaf in leaves))
        finally:
            await client.close()
    assert values == list(range(count))
    assert [m["requestId"] for _, m in held] != [m["requestId"] for _, m in reversed(held)]


async def test_a_late_answer_is_not_taken_for_the_next_request() -> None:
    """The first request times out; its answer arrives later, between the answers of the next
    two, and must not be mistaken for either."""
    async def late_first(connection: ServerConnection, message: dict[str, Any]) -> None:
        number = int(message["requestId"])
        dp = {"value": str(number * 10), "ts": "2026-01-01T00:00:00Z"}
        answer = answer_for(message, data={"path": message["path"], "dp": dp})
        if number == 1:
            asyncio.get_running_loop().call_later(0.6, lambda: asyncio.ensure_future(connection.send(answer)))
        else:
            await connection.send(answer)

    async with FakeServer(late_first) as fake:
        client, vehicle = await connect(fake.url)
        try:
            started = time.monotonic()
            with pytest.raises(RequestTimeout) as caught:
                await vehicle.Cabin.Seat.Row1.DriverSide.Position.get(timeout=0.3)
            assert isinstance(caught.value, TimeoutError)
            assert 0.25 <= time.monotonic() - started < 2.0
            assert pending(client) == {}
            assert await vehicle.Cabin.Seat.Row1.DriverSide.Position.get() == 20
            await asyncio.sleep(0.6)  # the late answer of request 1 ("10") arrives now
            assert await vehicle.Cabin.Seat.Row1.DriverSide.Position.get() == 30
        finally:
            await client.close()


# --------------------------------------------------------------------------------------------
# timeouts, cancellation, close


async def test_the_connection_timeout_applies_to_every_call() -> None:
    async with FakeServer(lambda connection, message: None) as fake:
        client, vehicle = await connect(fake.url, timeout=0.4)
        try:
            started = time.monotonic()
            with pytest.raises(RequestTimeout, match="no answer within 0.4 s"):
                await vehicle.Speed.get()
            assert 0.35 <= time.monotonic() - started < 3.0
            with pytest.raises(RequestTimeout):
                await vehicle.Cabin.Door.Row1.DriverSide.IsOpen.set(True)
            with pytest.raises(RequestTimeout):
                await vehicle.Speed.subscribe(lambda point: None, filter.timebased(100))
            assert pending(client) == {} and client._subscriptions == {}
            assert len(fake.received) == 3
        finally:
            await client.close()


async def test_cancelling_the_awaiting_task_drops_the_request() -> None:
    async with FakeServer(lambda connection, message: None) as fake:
        client, vehicle = await connect(fake.url, timeout=30)
        try:
            task = asyncio.create_task(vehicle.Speed.get())
            await until(lambda: len(fake.received) == 1)
            assert len(pending(client)) == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert pending(client) == {}
        finally:
            await client.close()


async def test_cancelling_a_subscribe_in_flight_leaves_no_subscription() -> None:
    """The subscribe is cancelled before its answer; when the answer comes anyway, the client
    cancels that server subscription and delivers none of its events."""
    held: list[tuple[ServerConnection, dict[str, Any]]] = []

    def hold(connection: ServerConnection, message: dict[str, Any]) -> None:
        held.append((connection, message))

    async with FakeServer(hold) as fake:
        client, vehicle = await connect(fake.url, timeout=30)
        try:
            points: Collector[DataPoint[float]] = Collector()
            task = asyncio.create_task(vehicle.Speed.subscribe(points, filter.timebased(100)))
            await until(lambda: len(held) == 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            connection, request = held[0]
            await connection.send(answer_for(request, subscriptionId="9"))
            event = {"action": "subscription", "subscriptionId": "9", "ts": "2026-01-01T00:00:00Z",
                     "data": {"path": "Vehicle.Speed", "dp": {"value": "1", "ts": "2026-01-01T00:00:00Z"}}}
            await connection.send(json.dumps(event))
            await until(lambda: len(held) == 2)
            assert held[1][1]["action"] == "unsubscribe"
            assert held[1][1]["subscriptionId"] == "9"
            await asyncio.sleep(0.2)
            assert points.items == [] and client._subscriptions == {} and pending(client) == {}
        finally:
            await client.close()


async def test_cancelling_against_the_demo_car_keeps_the_connection_usable(wss: Pair) -> None:
    client, vehicle = wss
    tasks = [asyncio.create_task(vehicle.Speed.get()) for _ in range(20)]
    await asyncio.sleep(0)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results), results
    assert pending(client) == {}
    assert isinstance(await vehicle.Speed.get(), float)
    assert await vehicle.VehicleIdentification.SeatCount.get() in range(2, 10)


async def test_close_fails_pending_and_later_requests() -> None:
    async with FakeServer(lambda connection, message: None) as fake:
        client, vehicle = await connect(fake.url, timeout=30)
        task = asyncio.create_task(vehicle.Speed.get())
        await until(lambda: len(fake.received) == 1)
        await client.close()
        with pytest.raises(ClientClosed, match="closed"):
            await task
        with pytest.raises(ClientClosed):
            await vehicle.Speed.get()
        await client.close()  # idempotent


async def test_the_number_of_pending_requests_is_bounded() -> None:
    async with FakeServer(lambda connection, message: None) as fake:
        client = await VissClient.connect(fake.url, timeout=30, max_pending=2)
        vehicle = Vehicle(client)
        try:
            first = asyncio.create_task(vehicle.Speed.get())
            second = asyncio.create_task(vehicle.IsMoving.get())
            await until(lambda: len(fake.received) == 2)
            with pytest.raises(ClientError, match="more than 2 pending"):
                await vehicle.TripTime.get()
            assert len(fake.received) == 2
            first.cancel()
            second.cancel()
            await asyncio.gather(first, second, return_exceptions=True)
        finally:
            await client.close()


async def test_the_authorization_token_goes_with_every_request_but_unsubscribe() -> None:
    async def answer(connection: ServerConnection, message: dict[str, Any]) -> None:
        if message["action"] == "subscribe":
            await connection.send(answer_for(message, subscriptionId="7"))
        elif message["action"] == "get":
            dp = {"value": "1", "ts": "2026-01-01T00:00:00Z"}
            await connection.send(answer_for(message, data={"path": message["path"], "dp": dp}))
        else:
            await connection.send(answer_for(message))

    async with FakeServer(answer) as fake:
        client, vehicle = await connect(fake.url, authorization="token-1")
        try:
            await vehicle.TripTime.get()
            await vehicle.Cabin.Door.Row1.DriverSide.IsOpen.set(True)
            subscription = await vehicle.TripTime.subscribe(lambda point: None)
            await subscription.unsubscribe()
            client.authorize("token-2")
            await vehicle.TripTime.get()
            client.authorize(None)
            await vehicle.TripTime.get()
        finally:
            await client.close()
    tokens = [(m["action"], m.get("authorization")) for m in fake.received]
    assert tokens == [("get", "token-1"), ("set", "token-1"), ("subscribe", "token-1"),
                      ("unsubscribe", None), ("get", "token-2"), ("get", None)]
    subscribe = fake.received[2]
    assert subscribe["filter"] == {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}}
    assert json.dumps(fake.received[1]["value"]) == '"true"'


async def test_an_unreachable_server_fails_at_connect() -> None:
    with pytest.raises(ConnectionError):
        await connect("wss://localhost:1", cafile=cafile(), timeout=3)
    assert ws_url().startswith("wss://")
