// The typed API over https:// against the shared demo car: get, set, metadata and history;
// subscriptions are refused (VISS has none over HTTP); errors carry the VISS number.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  codec, Filter, Sensor, VissClientError, VissError, type Connected,
} from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { connectHttps, connectWss } from "../support/connect.js";
import { sleep, waitFor } from "../support/env.js";
import { schemaCheckTest, sent, sentCount, sentSince } from "../support/record.js";

let car: Connected;

before(async () => {
  car = await connectHttps();
});

after(async () => {
  await car.client.close();
});

test("the client reports the https transport", () => {
  assert.equal(car.client.transport, "https");
});

test("get over https decodes typed values", async () => {
  const mark = sentCount();
  const speed = await car.vehicle.speed.get();
  assert.ok(typeof speed === "number" && speed >= 0 && speed <= 200);
  assert.equal(typeof (await car.vehicle.tripTime.get()), "bigint");
  const fuels = await car.vehicle.vehicleIdentification.fuelTypes.get();
  assert.ok(Array.isArray(fuels) && fuels.length > 0);
  const dp = await car.vehicle.cabin.temperature.getDataPoint();
  assert.ok(Number.isFinite(Date.parse(dp.ts)));
  // They went over HTTP, as GETs of the path.
  const requests = sent.slice(mark);
  assert.equal(requests.length, 4);
  assert.ok(requests.every((r) => r.transport === "http"));
  assert.deepEqual(requests[0]!.message, { action: "get", path: "Vehicle.Speed" });
});

test("set over https moves an actuator", async () => {
  const position = car.vehicle.cabin.seat.row2.driverSide.position;
  const target = (await position.get()) === 300 ? 200 : 300;
  await position.set(target);
  await waitFor(`the seat to reach ${target}`, async () => (await position.get()) === target, 8000, 100);
  const door = car.vehicle.cabin.door.row2.passengerSide.isLocked;
  const locked = await door.get();
  await door.set(!locked);
  await waitFor("the lock to toggle", async () => (await door.get()) === !locked, 5000, 50);
  await door.set(locked);
});

test("metadata and history over https", async () => {
  const metadata = await car.vehicle.cabin.seat.row2.driverSide.heating.metadata();
  assert.deepEqual([metadata["type"], metadata["datatype"], metadata["min"], metadata["max"]], ["actuator", "int8", "-100", "100"]);
  await sleep(1000);
  const history = await car.vehicle.speed.history("PT5S");
  assert.ok(history.length >= 3, `${history.length} samples`);
  const times = history.map((dp) => Date.parse(dp.ts));
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!);
  const last = sentSince(sentCount() - 1)[0] as { filter?: unknown };
  assert.deepEqual(last.filter, { variant: "history", parameter: "PT5S" });
});

test("server errors over https are VissErrors with the VISS number and reason", async () => {
  const unknown = new Sensor(car.client, "Vehicle.NoSuchSignal", codec.boolean());
  const missing = await unknown.get().then(() => assert.fail("unknown path"), (e: unknown) => e);
  assert.ok(missing instanceof VissError);
  assert.deepEqual([missing.number, missing.reason, missing.action], ["404", "unavailable_data", "get"]);
  const refused = await car.client.set("Vehicle.Speed", "3").then(() => assert.fail("a sensor"), (e: unknown) => e);
  assert.ok(refused instanceof VissError);
  assert.deepEqual([refused.number, refused.reason, refused.action], ["400", "invalid_data", "set"]);
  const outside = await car.client.set("Vehicle.Cabin.Seat.Row2.DriverSide.Position", "501").then(() => assert.fail("limit"), (e: unknown) => e);
  assert.ok(outside instanceof VissError && outside.number === "400");
});

test("subscribe over https is refused without sending anything", async () => {
  const mark = sentCount();
  const error = await car.vehicle.speed.subscribe(() => undefined, Filter.timebased(100)).then(() => assert.fail("no subscriptions over HTTP"), (e: unknown) => e);
  assert.ok(error instanceof VissClientError);
  assert.equal(error.code, "unsupported");
  assert.match(error.message, /WebSocket/);
  assert.equal(sentCount(), mark);
  await car.client.unsubscribeAll(); // nothing to do, no error
});

test("limits are checked before an HTTP request is made", async () => {
  const mark = sentCount();
  await assert.rejects(car.vehicle.cabin.seat.row2.driverSide.position.set(501), RangeError);
  await assert.rejects(car.vehicle.cabin.infotainment.source.set("CASSETTE" as "USB"), RangeError);
  assert.equal(sentCount(), mark);
});

test("an AbortSignal cancels an HTTP call; https and wss read the same attribute", async () => {
  const reason = new Error("stop");
  const controller = new AbortController();
  controller.abort(reason);
  await assert.rejects(car.vehicle.speed.get({ signal: controller.signal }), (e) => e === reason);
  const ws = await connectWss();
  try {
    assert.equal(await car.vehicle.vehicleIdentification.vin.get(), await ws.vehicle.vehicleIdentification.vin.get());
  } finally {
    await ws.client.close();
  }
});

schemaCheckTest(10);
