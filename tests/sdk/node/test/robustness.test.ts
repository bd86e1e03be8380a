// Correlation under concurrency, timeouts, AbortSignal cancellation, the pending-request
// bound and close(). Answers are made late and out of order by a proxy in front of the shared
// demo car; a server that never answers makes timeouts certain.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  connect, Filter, VissClientError, VissError, type Connected,
} from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { Collector, connectWss } from "../support/connect.js";
import { sleep, waitFor, within, wsUrl } from "../support/env.js";
import { RecordingWebSocket, schemaCheckTest, sentCount, sentSince } from "../support/record.js";
import { ReorderingProxy, SilentServer } from "../support/servers.js";

let direct: Connected;
let silent: SilentServer;

before(async () => {
  direct = await connectWss();
  silent = await SilentServer.start();
});

after(async () => {
  await direct.client.close();
  await silent.close();
});

async function viaProxy(holdMs: number): Promise<{ proxy: ReorderingProxy; car: Connected }> {
  const proxy = await ReorderingProxy.start(wsUrl(), holdMs);
  const car = await connect({ url: proxy.url, WebSocket: RecordingWebSocket });
  return { proxy, car };
}

const silentClient = (extra: object = {}): Promise<Connected> =>
  connect({ url: silent.url, WebSocket: RecordingWebSocket, reconnect: false, ...extra });

async function clientError(promise: Promise<unknown>): Promise<VissClientError> {
  let caught: unknown;
  await promise.then(() => assert.fail("expected a VissClientError"), (error: unknown) => (caught = error));
  assert.ok(caught instanceof VissClientError, `expected a VissClientError, got ${String(caught)}`);
  return caught;
}

test("concurrent requests answered late and in reverse order each get their own answer", async () => {
  const id = direct.vehicle.vehicleIdentification;
  const reads = (car: Connected): Promise<unknown>[] => [
    car.vehicle.vehicleIdentification.vin.get(), car.vehicle.vehicleIdentification.year.get(),
    car.vehicle.vehicleIdentification.bodyType.get(), car.vehicle.vehicleIdentification.fuelTypes.get(),
    car.vehicle.vehicleIdentification.seatCount.get(), car.vehicle.powertrain.type.get(),
    car.vehicle.chassis.axle.row1.trackWidth.get(), car.vehicle.powertrain.battery.capacity.get(),
    car.vehicle.cabin.seat.row2.middle.position.get(), car.vehicle.cabin.door.row2.driverSide.window.position.get(),
  ];
  const baseline = await Promise.all(reads(direct));
  assert.equal(baseline[0], await id.vin.get());
  const { proxy, car } = await viaProxy(150);
  try {
    const rounds = 4;
    const all: Promise<unknown>[] = [];
    const failures: Promise<VissError>[] = [];
    for (let round = 0; round < rounds; round++) {
      all.push(...reads(car));
      // Errors in the mix must reach their own callers too.
      failures.push(car.vehicle.navigation.destination.get().then(() => assert.fail("no value"), (e: VissError) => e));
      failures.push(car.client.set("Vehicle.Speed", "1").then(() => assert.fail("a sensor"), (e: VissError) => e));
    }
    const results = await within(10_000, "the concurrent reads", Promise.all(all));
    for (let round = 0; round < rounds; round++) {
      assert.deepEqual(results.slice(round * baseline.length, (round + 1) * baseline.length), baseline, `round ${round}`);
    }
    const errors = await Promise.all(failures);
    assert.deepEqual(errors.map((e) => [e.action, e.number, e.reason]),
      Array.from({ length: rounds }, () => [["get", "404", "unavailable_data"], ["set", "400", "invalid_data"]]).flat());
    // The proxy did hand the answers over out of order.
    const ids = proxy.forwardedIds.map(Number);
    assert.ok(ids.length >= rounds * (baseline.length + 2));
    assert.ok(ids.some((value, i) => i > 0 && value < ids[i - 1]!), `answers came in order: ${ids}`);
  } finally {
    await car.client.close();
    await proxy.close();
  }
});

test("concurrent subscriptions route each event to its own callback", async () => {
  const { proxy, car } = await viaProxy(50);
  try {
    const paths = ["Vehicle.Speed", "Vehicle.Cabin.Temperature", "Vehicle.Powertrain.Engine.Speed", "Vehicle.Chassis.SteeringAngle"];
    const collectors = paths.map(() => new Collector<{ path?: string }>());
    const subscriptions = await Promise.all(paths.map((path, i) =>
      car.client.subscribe(path, Filter.timebased(100), collectors[i]!.push)));
    assert.equal(new Set(subscriptions.map((s) => s.id)).size, paths.length, "distinct server ids");
    for (const collector of collectors) await collector.count(3, 5000);
    paths.forEach((path, i) => assert.ok(collectors[i]!.items.every((data) => data.path === path), `events of ${path}`));
    await car.client.unsubscribeAll();
  } finally {
    await car.client.close();
    await proxy.close();
  }
});

test("a request without an answer times out: per call, per client, and the entry is dropped", async () => {
  const car = await silentClient({ timeoutMs: 300, maxPending: 2 });
  try {
    let started = Date.now();
    const error = await clientError(car.vehicle.speed.get({ timeoutMs: 150 }));
    assert.equal(error.code, "timeout");
    let elapsed = Date.now() - started;
    assert.ok(elapsed >= 140 && elapsed < 2000, `timed out after ${elapsed} ms`);
    started = Date.now();
    assert.equal((await clientError(car.client.get("Vehicle.Speed"))).code, "timeout");
    elapsed = Date.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 2000, `client timeout after ${elapsed} ms`);
    // maxPending is 2: had the timed-out requests stayed pending, these would be refused.
    for (let i = 0; i < 3; i++) assert.equal((await clientError(car.vehicle.speed.get({ timeoutMs: 20 }))).code, "timeout");
    assert.ok(silent.received.length >= 5, "the requests did go out");
  } finally {
    await car.client.close();
  }
});

test("at most maxPending requests wait for an answer", async () => {
  const car = await silentClient({ timeoutMs: 1000, maxPending: 2 });
  try {
    const first = clientError(car.vehicle.speed.get());
    const second = clientError(car.vehicle.isMoving.get());
    const refused = await clientError(car.vehicle.cabin.temperature.get());
    assert.equal(refused.code, "too_many_pending");
    assert.equal((await first).code, "timeout");
    assert.equal((await second).code, "timeout");
  } finally {
    await car.client.close();
  }
});

test("an answer after the timeout is dropped, and the next request gets its own answer", async () => {
  const { proxy, car } = await viaProxy(400);
  try {
    assert.equal((await clientError(car.vehicle.vehicleIdentification.vin.get({ timeoutMs: 100 }))).code, "timeout");
    const year = await car.vehicle.vehicleIdentification.year.get();
    assert.equal(year, await direct.vehicle.vehicleIdentification.year.get());
    // The late answer to the first request (id 1) did arrive, and was not taken for another.
    await waitFor("the late answer", () => proxy.forwardedIds.includes("1"), 3000);
    assert.equal(await car.vehicle.vehicleIdentification.seatCount.get(), await direct.vehicle.vehicleIdentification.seatCount.get());
  } finally {
    await car.client.close();
    await proxy.close();
  }
});

test("a late subscribe answer after a timeout or abort is cancelled on the server", async () => {
  const { proxy, car } = await viaProxy(400);
  try {
    const mark = sentCount();
    const controller = new AbortController();
    let events = 0;
    const aborted = car.client.subscribe("Vehicle.Speed", Filter.timebased(100), () => events++, undefined, { signal: controller.signal });
    const timedOut = car.client.subscribe("Vehicle.Speed", Filter.timebased(100), () => events++, undefined, { timeoutMs: 100 });
    setTimeout(() => controller.abort(new Error("changed my mind")), 50);
    await assert.rejects(aborted, /changed my mind/);
    assert.equal((await clientError(timedOut)).code, "timeout");
    await waitFor("the two unsubscribes", () =>
      (sentSince(mark) as { action: string }[]).filter((f) => f.action === "unsubscribe").length === 2, 3000);
    const frames = sentSince(mark) as { action: string; subscriptionId?: string }[];
    const ids = frames.filter((f) => f.action === "unsubscribe").map((f) => f.subscriptionId);
    assert.ok(ids.every((id) => typeof id === "string" && id.length > 0));
    await sleep(600); // events for them would have come by now
    assert.equal(events, 0, "no event reaches a subscribe that was given up");
  } finally {
    await car.client.close();
    await proxy.close();
  }
});

test("an AbortSignal cancels a call: already aborted (nothing sent) or in flight (its reason)", async () => {
  const reason = new Error("user navigated away");
  const controller = new AbortController();
  controller.abort(reason);
  const mark = sentCount();
  await assert.rejects(direct.vehicle.speed.get({ signal: controller.signal }), (e) => e === reason);
  await assert.rejects(direct.vehicle.cabin.seat.row1.driverSide.position.set(100, { signal: controller.signal }), (e) => e === reason);
  assert.equal(sentCount(), mark, "an aborted call sends nothing");

  const car = await silentClient();
  try {
    const inFlight = new AbortController();
    const started = Date.now();
    const call = car.vehicle.speed.get({ signal: inFlight.signal, timeoutMs: 5000 });
    setTimeout(() => inFlight.abort(reason), 50);
    await assert.rejects(call, (e) => e === reason);
    assert.ok(Date.now() - started < 1000, "rejected at the abort, not at the timeout");
    // AbortSignal.timeout works the same way.
    await assert.rejects(car.vehicle.speed.get({ signal: AbortSignal.timeout(50) }), (e: Error) => e.name === "TimeoutError");
  } finally {
    await car.client.close();
  }
});

test("close() rejects what is pending and refuses what comes after", async () => {
  const car = await silentClient({ timeoutMs: 5000 });
  const pending = clientError(car.vehicle.speed.get());
  await sleep(20);
  await car.client.close();
  assert.equal((await pending).code, "closed");
  assert.equal((await clientError(car.vehicle.speed.get())).code, "closed");
  await car.client.close(); // twice is fine
});

schemaCheckTest(50);
