// A small typed user program: it must compile under --strict (viss-server/tests/sdk.rs).

import { readFileSync } from "node:fs";
import {
  connect, Filter, VissError, type DataPoint, type DriveMode, type Waypoint,
} from "../../../../generated/demo-car/sdk/typescript/src/index.js";

async function main(): Promise<void> {
  const { client, vehicle } = await connect({
    url: process.env["VISS_WS_URL"] ?? "wss://localhost:6443",
    ca: readFileSync(process.env["VISS_CA"] ?? "viss-tls/cert.pem", "utf8"),
  });
  try {
    const speed: number = await vehicle.speed.get();
    const open: boolean = await vehicle.cabin.door.row1.driverSide.isOpen.get();
    const trip: bigint = await vehicle.tripTime.get();
    console.log(speed.toFixed(1), open, trip + 1n);

    const seat = vehicle.cabin.seat.row1.driverSide;
    await seat.position.set(250);
    await seat.massage.set(2);
    const mode: DriveMode = "SPORT";
    await vehicle.powertrain.transmission.driveMode.set(mode);
    await vehicle.cabin.ambientLight.set([255, 128, 0]);

    const subscription = await seat.position.subscribe((dp: DataPoint<number>) => {
      const millimetres: number = dp.value;
      console.log(`seat at ${millimetres} mm (${dp.ts})`);
    }, Filter.change("ne", 0), (error: VissError) => console.error(error.number, error.reason));

    const destination: Waypoint = { Name: "Home", Point: { Latitude: 48.137, Longitude: 11.575 }, Priority: 1 };
    await vehicle.navigation.destination.set(destination);
    await vehicle.navigation.stops.set([destination]);

    const history: DataPoint<number>[] = await vehicle.speed.history("PT1M");
    console.log(history.length);
    await subscription.unsubscribe();
  } catch (error) {
    if (error instanceof VissError) console.error(error.number, error.reason, error.description);
    else throw error;
  } finally {
    await client.close();
  }
}

void main();
