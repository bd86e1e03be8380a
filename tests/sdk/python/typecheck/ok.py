"""A small typed user program of the demo car SDK: mypy --strict must accept it."""

from __future__ import annotations

import asyncio

from demo_car_sdk import DataPoint, Subscription, VissError, connect, filter
from demo_car_sdk.tree import DriveMode, Waypoint


def on_speed(point: DataPoint[float]) -> None:
    print(f"{point.ts}: {point.value:.1f} km/h")


def on_door(point: DataPoint[bool]) -> None:
    print("open" if point.value else "closed")


async def main(url: str, cafile: str) -> None:
    client, vehicle = await connect(url, cafile=cafile, timeout=5.0)
    async with client:
        speed: float = await vehicle.Speed.get()
        year: int = await vehicle.VehicleIdentification.Year.get()
        mode: DriveMode = await vehicle.Powertrain.Transmission.DriveMode.get()
        print(speed, year, mode)

        seat = vehicle.Cabin.Seat.Row1.DriverSide
        await seat.Position.set(250)
        await seat.Backrest.Recline.set(12.5)
        await seat.Massage.set(2)
        await vehicle.Cabin.Door.Row1.DriverSide.IsOpen.set(True)
        await vehicle.Powertrain.Transmission.DriveMode.set("SPORT")

        home: Waypoint = {"Name": "Home", "Point": {"Latitude": 48.1, "Longitude": 11.5}, "Priority": 1}
        await vehicle.Navigation.Destination.set(home)

        speeds: Subscription = await vehicle.Speed.subscribe(on_speed, filter.timebased(1000))
        doors = await vehicle.Cabin.Door.Row1.DriverSide.IsOpen.subscribe(on_door)
        history: list[DataPoint[float]] = await vehicle.Speed.history("PT1H")
        print(len(history))
        try:
            await vehicle.CurrentLocation.Position.get()
        except VissError as error:
            print(error.number, error.reason)
        await asyncio.sleep(3)
        await speeds.unsubscribe()
        await doors.unsubscribe()


if __name__ == "__main__":
    asyncio.run(main("wss://localhost:6443", "viss-tls/cert.pem"))
