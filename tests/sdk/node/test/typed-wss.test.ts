// The typed API over wss:// against the shared demo car: get, set, the subscription
// filters, unsubscribe, history, metadata, VISS errors, limits and allowed values checked
// before anything is sent, and struct values.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  BodyType, codec, Filter, FuelTypes, Sensor, Switch, VissError, WaypointCodec,
  type Connected, type DataPoint, type Waypoint,
} from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { Collector, connectWss } from "../support/connect.js";
import { sleep, waitFor } from "../support/env.js";
import { schemaCheckTest, sentCount, sentSince } from "../support/record.js";

let car: Connected;

before(async () => {
  car = await connectWss();
});

after(async () => {
  await car.client.close();
});

const seat = () => car.vehicle.cabin.seat.row1.driverSide;

/** Sets a numeric actuator and waits (bounded) until its current value is the target. */
async function settle(leaf: { set(v: number): Promise<void>; get(): Promise<number> }, target: number): Promise<void> {
  await leaf.set(target);
  let last = Number.NaN;
  await waitFor(`the actuator to reach ${target} (at ${last})`, async () => (last = await leaf.get()) === target, 8000, 100);
}

/** Asserts that `promise` rejects with a VissError carrying `number` and `reason`. */
async function rejectsWithVissError(promise: Promise<unknown>, number: string, reason: string, action: string): Promise<VissError> {
  let caught: unknown;
  await promise.then(() => assert.fail("expected a VissError"), (error: unknown) => (caught = error));
  assert.ok(caught instanceof VissError, `expected a VissError, got ${String(caught)}`);
  assert.equal(caught.number, number);
  assert.equal(caught.reason, reason);
  assert.equal(caught.action, action);
  assert.ok(caught.description.length > 0);
  assert.ok(caught.message.includes(number));
  return caught;
}

test("get decodes every datatype to its TypeScript type", async () => {
  const { vehicle } = car;
  const speed: number = await vehicle.speed.get();
  assert.ok(speed >= 0 && speed <= 200, `speed ${speed}`);
  assert.equal(typeof (await vehicle.isMoving.get()), "boolean");
  assert.equal(typeof (await vehicle.tripTime.get()), "bigint");
  const temperature = await vehicle.cabin.temperature.get();
  assert.ok(Number.isInteger(temperature) && temperature >= -40 && temperature <= 60);
  const year = await vehicle.vehicleIdentification.year.get();
  assert.ok(year >= 1990 && year <= 2100);
  assert.ok(BodyType.includes(await vehicle.vehicleIdentification.bodyType.get()));
  const fuels = await vehicle.vehicleIdentification.fuelTypes.get();
  assert.ok(Array.isArray(fuels) && fuels.length > 0 && fuels.every((fuel) => FuelTypes.includes(fuel)), String(fuels));
  assert.equal(typeof (await vehicle.vehicleIdentification.vin.get()), "string");
  const dp: DataPoint<number> = await vehicle.speed.getDataPoint();
  assert.ok(Number.isFinite(Date.parse(dp.ts)), `ts ${dp.ts}`);
  assert.ok(Math.abs(Date.now() - Date.parse(dp.ts)) < 60_000);
});

test("set moves a boolean, an enum and a numeric actuator; get sees the new value", async () => {
  const door = car.vehicle.cabin.door.row1.driverSide;
  const open = await door.isOpen.get();
  await door.isOpen.set(!open);
  await waitFor("the door to toggle", async () => (await door.isOpen.get()) === !open, 5000, 50);
  await door.isOpen.set(open);
  await waitFor("the door to toggle back", async () => (await door.isOpen.get()) === open, 5000, 50);

  const target: Switch = (await door.window.switch.get()) === "OPEN" ? "CLOSE" : "OPEN";
  await door.window.switch.set(target);
  await waitFor("the window switch", async () => (await door.window.switch.get()) === target, 5000, 50);

  await settle(seat().position, 120);
  assert.equal(await seat().position.get(), 120);
});

test("subscribe with a timebased filter delivers the value every period", async () => {
  const events = new Collector<{ dp: DataPoint<number>; at: number }>();
  const subscribed = Date.now();
  const subscription = await car.vehicle.speed.subscribe((dp) => events.push({ dp, at: Date.now() }), Filter.timebased(100));
  try {
    assert.equal(subscription.path, "Vehicle.Speed");
    assert.ok(subscription.id.length > 0);
    const got = await events.count(5, 4000);
    for (const { dp } of got) assert.ok(typeof dp.value === "number" && dp.value >= 0 && dp.value <= 200);
    // Five events need at least four periods: not a flood of everything the simulator does.
    // Counted from before the subscription, since a client that was held up gets events
    // in a bunch (the ticks themselves are never early).
    assert.ok(got[4]!.at - subscribed >= 390, `5 events ${got[4]!.at - subscribed} ms after subscribing`);
  } finally {
    await subscription.unsubscribe();
  }
});

test("subscribe with a change filter follows an actuator moving to its target", async () => {
  const position = seat().position;
  await settle(position, 0);
  const events = new Collector<number>();
  const subscription = await position.subscribe((dp) => events.push(dp.value), Filter.change("ne", 0));
  try {
    await position.set(400);
    await events.until("the target value 400", (value) => value === 400, 8000);
    const values = events.items.filter((value) => value !== 0); // an initial event may carry the start
    assert.ok(values.length >= 3, `the simulator moves in steps: ${values}`);
    for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!, `not increasing: ${values}`);
    assert.ok(values[0]! > 0 && values[0]! < 400, `first step ${values[0]}`);
  } finally {
    await subscription.unsubscribe();
  }
});

test("subscribe with a change filter on a boolean reports each toggle", async () => {
  const keyPad = car.vehicle.cabin.door.row1.driverSide.keyPad.isEnabled;
  const start = await keyPad.get();
  const events = new Collector<boolean>();
  const subscription = await keyPad.subscribe((dp) => events.push(dp.value), Filter.change("ne", 0));
  try {
    await keyPad.set(!start);
    await events.until("the toggle", (value) => value === !start);
    await keyPad.set(start);
    await events.until("the toggle back", (value) => value === start && events.items.includes(!start));
  } finally {
    await subscription.unsubscribe();
  }
});

test("subscribe with a two-boundary range and combination-op AND reports only values inside", async () => {
  const position = seat().position;
  await settle(position, 0);
  const events = new Collector<number>();
  const inside = (v: number): boolean => v > 100 && v < 450;
  const subscription = await position.subscribe((dp) => events.push(dp.value),
    Filter.range([{ logicOp: "gt", boundary: 100 }, { logicOp: "lt", boundary: 450 }], "AND"));
  try {
    await settle(position, 500);
    await sleep(450); // two more simulator rounds: no event may come for 500
    assert.ok(events.items.length >= 1, "the seat passed through the range");
    assert.ok(events.items.every(inside), `values outside (100, 450): ${events.items}`);
  } finally {
    await subscription.unsubscribe();
  }
});

test("subscribe with a two-boundary range and combination-op OR reports only values outside the gap", async () => {
  const position = seat().position;
  await settle(position, 500);
  const events = new Collector<number>();
  const outside = (v: number): boolean => v < 100 || v > 450;
  const subscription = await position.subscribe((dp) => events.push(dp.value),
    Filter.range([{ logicOp: "lt", boundary: 100 }, { logicOp: "gt", boundary: 450 }], "OR"));
  try {
    await settle(position, 0);
    await events.until("a value below 100", (value) => value < 100);
    await sleep(450);
    assert.ok(events.items.every(outside), `values in [100, 450]: ${events.items}`);
    assert.ok(!events.items.some((v) => v >= 100 && v <= 450));
  } finally {
    await subscription.unsubscribe();
  }
});

test("subscribe with a curvelog filter delivers buffered series of data points", async () => {
  const points = new Collector<DataPoint<number>>();
  const raw = new Collector<unknown>();
  const subscription = await car.vehicle.speed.subscribe(points.push, Filter.curvelog(0.01, 4));
  const rawSubscription = await car.client.subscribe("Vehicle.Speed", Filter.curvelog(0.01, 4), raw.push);
  try {
    await points.count(4, 6000);
    const series = await raw.until("an event with a dp array", (data) =>
      Array.isArray((data as { dp?: unknown }).dp) && ((data as { dp: unknown[] }).dp.length >= 2), 6000);
    assert.ok(series !== undefined);
    const times = points.items.map((dp) => Date.parse(dp.ts));
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, "points arrive oldest first");
    assert.ok(points.items.every((dp) => typeof dp.value === "number"));
  } finally {
    await subscription.unsubscribe();
    await rawSubscription.unsubscribe();
  }
});

test("unsubscribe stops the events and sends the server's subscription id", async () => {
  const events = new Collector<number>();
  const subscription = await car.vehicle.speed.subscribe((dp) => events.push(dp.value), Filter.timebased(100));
  await events.count(2, 3000);
  const mark = sentCount();
  const id = subscription.id;
  await subscription.unsubscribe();
  const frames = sentSince(mark) as { action: string; subscriptionId?: string }[];
  assert.deepEqual(frames.map((f) => [f.action, f.subscriptionId]), [["unsubscribe", id]]);
  const count = events.items.length;
  await sleep(500);
  assert.equal(events.items.length, count, "no event after unsubscribe");
  await subscription.unsubscribe(); // a second time is a no-op
  assert.equal(sentSince(mark).length, 1);
});

test("unsubscribeAll ends every subscription of the client", async () => {
  const a = new Collector<number>();
  const b = new Collector<number>();
  await car.vehicle.speed.subscribe((dp) => a.push(dp.value), Filter.timebased(100));
  await car.vehicle.cabin.temperature.subscribe((dp) => b.push(dp.value), Filter.timebased(100));
  await a.count(1, 3000);
  await b.count(1, 3000);
  const mark = sentCount();
  await car.client.unsubscribeAll();
  assert.equal((sentSince(mark) as { action: string }[]).filter((f) => f.action === "unsubscribe").length, 2);
  const counts = [a.items.length, b.items.length];
  await sleep(500);
  assert.deepEqual([a.items.length, b.items.length], counts);
});

test("history returns the recorded values, oldest first", async () => {
  await sleep(1200); // some samples of this process's lifetime
  const history = await car.vehicle.speed.history("PT1S");
  assert.ok(history.length >= 3, `only ${history.length} samples in one second at 200 ms`);
  assert.ok(history.length <= 8, `${history.length} samples in one second at 200 ms`);
  const times = history.map((dp) => Date.parse(dp.ts));
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, "oldest first");
  assert.ok(Date.now() - times[0]! <= 2500, "within the period asked");
  assert.ok(history.every((dp) => typeof dp.value === "number" && dp.value >= 0 && dp.value <= 200));
  // A period that is no ISO 8601 duration is refused before sending.
  const mark = sentCount();
  await assert.rejects(car.vehicle.speed.history("1 hour"), RangeError);
  assert.equal(sentCount(), mark);
});

test("metadata describes the node", async () => {
  const metadata = await seat().position.metadata();
  assert.equal(metadata["type"], "actuator");
  assert.equal(metadata["datatype"], "uint16");
  assert.equal(metadata["unit"], "mm");
  assert.equal(metadata["min"], "0");
  assert.equal(metadata["max"], "500");
  const massage = await seat().massage.metadata();
  assert.deepEqual(massage["allowed"], ["0", "1", "2", "3"]);
  const speed = await car.vehicle.speed.metadata();
  assert.equal(speed["type"], "sensor");
  assert.equal(speed["unit"], "km/h");
});

test("server errors surface as VissError with the VISS number and reason", async () => {
  const unknown = new Sensor(car.client, "Vehicle.NoSuchSignal", codec.float("float"));
  await rejectsWithVissError(unknown.get(), "404", "unavailable_data", "get");
  // A struct sensor the simulator never feeds: no value yet, a VissError, not a bogus decode.
  await rejectsWithVissError(car.vehicle.currentLocation.position.get(), "404", "unavailable_data", "get");
  // Only actuators have set() in the typed tree; the untyped client reaches the server's checks.
  await rejectsWithVissError(car.client.set("Vehicle.Speed", "3"), "400", "invalid_data", "set");
  await rejectsWithVissError(car.client.set(seat().position.path, "600"), "400", "invalid_data", "set");
  await rejectsWithVissError(unknown.subscribe(() => undefined, Filter.timebased(100)), "404", "unavailable_data", "subscribe");
  await rejectsWithVissError(car.vehicle.speed.subscribe(() => undefined, { variant: "timebased", parameter: { period: "-5" } }),
    "400", "bad_request", "subscribe");
  await rejectsWithVissError(car.vehicle.speed.subscribe(() => undefined, Filter.history("PT1S")), "400", "bad_request", "subscribe");
  // The connection is still fine afterwards.
  assert.equal(typeof (await car.vehicle.speed.get()), "number");
});

test("limits, datatypes and allowed values are checked before anything is sent", async () => {
  const { vehicle } = car;
  const mark = sentCount();
  const s = seat();
  await assert.rejects(s.position.set(501), RangeError);
  await assert.rejects(s.position.set(-1), RangeError);
  await assert.rejects(s.position.set(2.5), RangeError);
  await assert.rejects(s.position.set("100" as unknown as number), TypeError);
  await assert.rejects(s.heating.set(-101), RangeError);
  await assert.rejects(s.massage.set(4 as unknown as 0), /not one of the allowed values/);
  await assert.rejects(s.backrest.recline.set(60.6), RangeError);
  await assert.rejects(s.backrest.recline.set(Number.NaN), RangeError);
  await assert.rejects(s.headrest.angle.set(128), RangeError); // int8's own range
  await assert.rejects(s.headrest.height.set(121), RangeError);
  await assert.rejects(vehicle.cabin.door.row1.driverSide.window.switch.set("UP" as Switch), /not one of the allowed values/);
  await assert.rejects(vehicle.cabin.door.row1.driverSide.isOpen.set("true" as unknown as boolean), TypeError);
  await assert.rejects(vehicle.powertrain.battery.chargeLimit.set(49), RangeError);
  await assert.rejects(vehicle.powertrain.transmission.selectedGear.set(9), RangeError);
  await assert.rejects(vehicle.powertrain.transmission.driveMode.set("TURBO" as "ECO"), RangeError);
  await assert.rejects(vehicle.cabin.ambientLight.set([255, 256, 0]), /uint8\[\]\[1\]/);
  assert.equal(sentCount(), mark, "a refused value must not reach the wire");
  // The boundaries themselves are accepted and sent.
  await s.position.set(500);
  await s.massage.set(3);
  await s.headrest.height.set(120);
  assert.equal(sentCount(), mark + 3);
  await s.massage.set(0);
});

test("struct values: nested structs and arrays of structs go out in their wire form", async () => {
  const home: Waypoint = { Name: "Home", Point: { Latitude: 48.137, Longitude: 11.575 }, Priority: 1 };
  const work: Waypoint = { Name: "Work", Point: { Latitude: -33.9, Longitude: 151.2 }, Priority: 2 };
  const navigation = car.vehicle.navigation;
  let mark = sentCount();
  await navigation.destination.set(home);
  const [destination] = sentSince(mark) as { action: string; path: string; value: unknown }[];
  assert.deepEqual(destination, {
    action: "set", path: "Vehicle.Navigation.Destination", requestId: (destination as { requestId: string } | undefined)?.["requestId"],
    value: { Name: "Home", Point: { Latitude: "48.137", Longitude: "11.575" }, Priority: "1" },
  });
  mark = sentCount();
  await navigation.stops.set([home, work]);
  const [stops] = sentSince(mark) as { value: unknown }[];
  assert.deepEqual(stops?.value, [
    { Name: "Home", Point: { Latitude: "48.137", Longitude: "11.575" }, Priority: "1" },
    { Name: "Work", Point: { Latitude: "-33.9", Longitude: "151.2" }, Priority: "2" },
  ]);
  // The codec decodes what it encodes.
  assert.deepEqual(WaypointCodec.decode(WaypointCodec.encode(work)), work);
  // Bad structs never leave the client.
  mark = sentCount();
  await assert.rejects(navigation.destination.set({ Name: "x", Point: { Latitude: 91, Longitude: 0 }, Priority: 1 }),
    /Types\.Waypoint\.Point: Types\.GeoPoint\.Latitude/);
  await assert.rejects(navigation.destination.set({ Name: "x", Point: { Latitude: 1, Longitude: 0 } } as Waypoint), /member "Priority" is missing/);
  await assert.rejects(navigation.destination.set({ ...home, Extra: 1 } as Waypoint), /unknown member "Extra"/);
  await assert.rejects(navigation.stops.set([home, { ...work, Priority: 256 }]), RangeError);
  assert.equal(sentCount(), mark);
});

schemaCheckTest(40);
