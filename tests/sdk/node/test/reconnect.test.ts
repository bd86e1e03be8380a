// Reconnect with re-subscription against a demo car of this file's own, stopped and started
// again on the same port; subscriptions the server ends; giving up. Every process started
// here is stopped by its PID.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  connect, Filter, VissClientError, VissError, type ClientOptions, type Connected,
} from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { Collector } from "../support/connect.js";
import { sleep, waitFor, within } from "../support/env.js";
import { RecordingWebSocket, schemaCheckTest, sentCount, sentSince } from "../support/record.js";
import { DemoCar } from "../support/servers.js";

const cars: DemoCar[] = [];
const clients: Connected[] = [];

after(async () => {
  for (const { client } of clients) await client.close();
  for (const car of cars) await car.dispose();
});

async function ownCar(extra: string[]): Promise<DemoCar> {
  const car = await DemoCar.start(extra);
  cars.push(car);
  return car;
}

async function connectTo(car: DemoCar, extra: Partial<ClientOptions> = {}): Promise<Connected> {
  const connected = await connect({ url: car.url, ca: car.ca, WebSocket: RecordingWebSocket, ...extra });
  clients.push(connected);
  return connected;
}

test("after the server restarts, the client reconnects and re-creates its subscriptions", async () => {
  const server = await ownCar(["--simulate", "--simulate-period-ms", "100"]);
  const { client, vehicle } = await connectTo(server, { reconnect: { initialDelayMs: 50, maxDelayMs: 400 } });
  const lifecycle: string[] = [];
  for (const event of ["open", "close", "reconnecting", "reconnected"] as const) client.on(event, () => lifecycle.push(event));
  const speed = new Collector<number>();
  const subscription = await vehicle.speed.subscribe((dp) => speed.push(dp.value), Filter.timebased(100));
  const door = new Collector<boolean>();
  const doorSubscription = await vehicle.cabin.door.row1.driverSide.isOpen.subscribe((dp) => door.push(dp.value), Filter.change("ne", 0));
  await speed.count(2, 4000);

  const pid = server.pid;
  await server.stop();
  await waitFor("the client to notice", () => lifecycle.includes("close") && lifecycle.includes("reconnecting"), 5000);
  // A request made while the server is down waits for the new connection.
  const waiting = vehicle.vehicleIdentification.seatCount.get({ timeoutMs: 20_000 });
  const mark = sentCount();
  const before = speed.items.length;
  await sleep(400);
  await server.launch();
  assert.notEqual(server.pid, pid, "a new process");
  await waitFor("reconnected", () => lifecycle.includes("reconnected"), 15_000);
  assert.equal(typeof (await within(10_000, "the waiting request", waiting)), "number");

  // Both subscriptions were re-created with their original path and filter...
  const resubscribed = (sentSince(mark) as { action: string; path?: string; filter?: unknown }[]).filter((f) => f.action === "subscribe");
  assert.deepEqual(resubscribed.map((f) => [f.path, f.filter]).sort(), [
    ["Vehicle.Cabin.Door.Row1.DriverSide.IsOpen", Filter.change("ne", 0)],
    ["Vehicle.Speed", Filter.timebased(100)],
  ]);
  // ...and keep delivering to the same callbacks.
  await speed.count(before + 3, 5000);
  const open = await vehicle.cabin.door.row1.driverSide.isOpen.get();
  await vehicle.cabin.door.row1.driverSide.isOpen.set(!open);
  await door.until("the door event after the restart", (value) => value === !open, 5000);
  // Unsubscribing uses the new server id.
  const unsubscribeMark = sentCount();
  await subscription.unsubscribe();
  await doorSubscription.unsubscribe();
  const ids = (sentSince(unsubscribeMark) as { subscriptionId?: string }[]).map((f) => f.subscriptionId);
  assert.deepEqual(ids, [subscription.id, doorSubscription.id]);
  const count = speed.items.length;
  await sleep(400);
  assert.equal(speed.items.length, count);
  assert.deepEqual(lifecycle.filter((e) => e === "open" || e === "reconnected"), ["open", "reconnected"]);
});

test("a subscription the server ends calls onEnd with the VISS error", async () => {
  const server = await ownCar(["--simulate", "--simulate-period-ms", "100", "--max-subscription-duration-ms", "500"]);
  const { vehicle } = await connectTo(server);
  const events = new Collector<number>();
  const ended = new Collector<VissError>();
  await vehicle.speed.subscribe((dp) => events.push(dp.value), Filter.timebased(100), ended.push);
  const [error] = await ended.count(1, 5000);
  assert.ok(error instanceof VissError);
  assert.deepEqual([error.number, error.reason, error.action], ["408", "request_timeout", "subscription"]);
  assert.ok(events.items.length >= 1);
  const count = events.items.length;
  await sleep(400);
  assert.equal(events.items.length, count, "no event after the end");
});

test("without reconnect, a lost connection fails pending calls and ends subscriptions", async () => {
  const server = await ownCar([]);
  const { client, vehicle } = await connectTo(server, { reconnect: false });
  const ended = new Collector<VissError>();
  await vehicle.speed.subscribe(() => undefined, Filter.timebased(1000), ended.push);
  await server.stop();
  const [error] = await ended.count(1, 5000);
  assert.match(error!.description, /lost/);
  const failure = await vehicle.speed.get().then(() => assert.fail("closed"), (e: unknown) => e);
  assert.ok(failure instanceof VissClientError);
  assert.ok(["connection_lost", "closed"].includes(failure.code), failure.code);
  await client.close();
});

test("reconnecting gives up after maxAttempts", async () => {
  const server = await ownCar([]);
  const { client, vehicle } = await connectTo(server, { reconnect: { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 3 } });
  const attempts: number[] = [];
  const errors: unknown[] = [];
  client.on("reconnecting", (attempt: number) => attempts.push(attempt));
  client.on("error", (error: unknown) => errors.push(error));
  await server.stop();
  await waitFor("giving up", () => errors.some((e) => e instanceof VissClientError && /gave up/.test(e.message)), 10_000);
  assert.deepEqual(attempts, [1, 2, 3]);
  const failure = await vehicle.speed.get().then(() => assert.fail("gave up"), (e: unknown) => e);
  assert.ok(failure instanceof VissClientError);
});

schemaCheckTest(6);
