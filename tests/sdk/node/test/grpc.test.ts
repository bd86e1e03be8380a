// The client over gRPC (src/grpc.ts, grpcs:// URLs, the "@grpc/grpc-js" and "protobufjs"
// packages) against the demo car's VISS gRPC service: typed get, set, subscriptions as server
// streams, history, metadata, struct values and VISS errors; what the protobuf encoding cannot
// carry refused before sending; an untrusted certificate refused; a restart survived with the
// subscription re-created (a demo car of this file's own, stopped by its PID); VAPI's "grpc".

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  connect, Filter, VissClientError, VissError, type Connected, type DataPoint, type Waypoint,
} from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { Vapi } from "../../../../generated/demo-car/sdk/typescript/src/vapi.js";
import { Collector, connectGetAndSubscribe } from "../support/connect.js";
import { caPem, grpcUrl, sleep, waitFor } from "../support/env.js";
import { DemoCar, freePort } from "../support/servers.js";

let car: Connected;

before(async () => {
  car = await connect({ url: grpcUrl(), ca: caPem() });
});

after(async () => {
  await car.client.close();
});

async function rejectsWith(promise: Promise<unknown>, number: string, reason: string): Promise<VissError> {
  let caught: unknown;
  await promise.then(() => assert.fail("expected a VissError"), (error: unknown) => (caught = error));
  assert.ok(caught instanceof VissError, `expected a VissError, got ${String(caught)}`);
  assert.deepEqual([caught.number, caught.reason], [number, reason], caught.message);
  return caught;
}

test("typed get and set over gRPC, values decoded to their TypeScript types", async () => {
  assert.equal(car.client.transport, "grpcs");
  const { vehicle } = car;
  const speed = await vehicle.speed.get();
  assert.ok(typeof speed === "number" && speed >= 0 && speed <= 200, String(speed));
  const door = vehicle.cabin.door.row1.passengerSide.isOpen;
  await door.set(true);
  await waitFor("the door open", async () => (await door.get()) === true, 8000, 100);
  const heating = vehicle.cabin.seat.row2.passengerSide.heating;
  await heating.set(-12);
  await waitFor("the heating at -12", async () => (await heating.get()) === -12, 8000, 100);
  const home: Waypoint = { Name: "Home", Point: { Latitude: 48.137, Longitude: 11.575 }, Priority: 1 };
  // Struct and array values travel as their JSON text; the server checks and accepts them.
  await vehicle.navigation.destination.set(home);
  await vehicle.navigation.stops.set([home, { ...home, Name: "Work", Priority: 2 }]);
  await vehicle.cabin.ambientLight.set([255, 128, 0]);
  await rejectsWith(car.client.set("Vehicle.Navigation.Destination", { Name: "Home" }), "400", "invalid_data");
});

test("subscriptions are streams: events follow a set, unsubscribe ends them", async () => {
  const seat = car.vehicle.cabin.seat.row1.middle.position;
  await seat.set(100);
  const points = new Collector<DataPoint<number>>();
  const moves = await seat.subscribe(points.push, Filter.change("ne", 0));
  const speeds = new Collector<DataPoint<number>>();
  const ticks = await car.vehicle.speed.subscribe(speeds.push, Filter.timebased(100));
  await seat.set(400);
  await points.until("the seat at 400", (point) => point.value === 400, 10_000);
  await speeds.count(3, 10_000);
  assert.notEqual(moves.id, ticks.id, "subscription ids are unique across streams");
  await moves.unsubscribe();
  const count = points.items.length;
  await seat.set(100);
  await sleep(800);
  assert.equal(points.items.length, count, "an event arrived after unsubscribe");
  await ticks.unsubscribe();
});

test("history, metadata and VISS errors over gRPC", async () => {
  const history = await car.vehicle.speed.history("PT5S");
  assert.ok(history.length >= 2, `only ${history.length} samples in five seconds`);
  const metadata = await car.vehicle.cabin.seat.row1.driverSide.position.metadata();
  assert.deepEqual([metadata["datatype"], metadata["max"]], ["uint16", "500"]);
  await rejectsWith(car.client.get("Vehicle.NoSuchSignal"), "404", "unavailable_data");
  await rejectsWith(car.client.set("Vehicle.Speed", "3"), "400", "invalid_data");
  // The proto has no combination-op: an OR is refused before anything is sent.
  const either = Filter.range([{ logicOp: "lt", boundary: 10 }, { logicOp: "gt", boundary: 100 }], "OR");
  const refused = await rejectsWith(car.vehicle.speed.subscribe(() => undefined, either), "400", "bad_request");
  assert.match(refused.description, /protobuf/);
  const unknown = await rejectsWith(car.client.get("Vehicle.Speed", { variant: "bogus" } as unknown as Filter), "400", "bad_request");
  assert.match(unknown.description, /filter variant/);
  assert.equal(typeof (await car.vehicle.speed.get()), "number", "the connection lives on");
});

async function failsAtConnect(url: string): Promise<void> {
  await assert.rejects(connect({ url, timeoutMs: 2000 }), (error: unknown) =>
    error instanceof VissClientError && error.code === "connection_failed", url);
}

test("no server fails at connect", async () => {
  await failsAtConnect(`grpcs://127.0.0.1:${await freePort()}`);
});

test("a restart is survived and the subscription re-created; an untrusted certificate is refused", async () => {
  const grpcPort = await freePort();
  const own = await DemoCar.start(["--grpc-port", String(grpcPort), "--simulate", "--simulate-period-ms", "100"]);
  const url = `grpcs://localhost:${grpcPort}`;
  // Its self-signed certificate is neither in Node's store nor in NODE_EXTRA_CA_CERTS.
  await failsAtConnect(url);
  const { client, vehicle } = await connect({ url, ca: own.ca, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
  try {
    let reconnected = 0;
    client.on("reconnected", () => (reconnected += 1));
    const points = new Collector<DataPoint<number>>();
    await vehicle.speed.subscribe(points.push, Filter.timebased(100));
    await points.count(3, 10_000);
    await own.stop();
    await own.launch();
    await waitFor("reconnected", () => reconnected === 1, 20_000);
    const before = points.items.length;
    await points.count(before + 3, 15_000);
    assert.equal(typeof (await vehicle.speed.get()), "number");
  } finally {
    await client.close();
    await own.dispose();
  }
});

test("VAPI over grpc", async () => {
  const vapi = new Vapi({ grpc: grpcUrl() }, { ca: caPem(), timeoutMs: 5000 });
  const id = vapi.vehicleId;
  try {
    await connectGetAndSubscribe(vapi, "grpc");
  } finally {
    await vapi.ReleaseVehicle(id);
  }
});
