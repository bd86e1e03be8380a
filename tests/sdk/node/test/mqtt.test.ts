// The client through an MQTT broker (src/mqtt.ts, mqtt:// URLs, the "mqtt" package): Debian's
// mosquitto, refusing anonymous clients, and a demo car serving VISS over MQTT, both started
// by the harness (VISS_MQTT_URL, with the broker's user and password). The typed get, set,
// errors and subscriptions, a wrong password, and VAPI's "mqtt" protocol.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  connect, Filter, VissClientError, VissError, type Connected, type DataPoint,
} from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { LONGITUDINAL, ProcedureStatus, Vapi } from "../../../../generated/demo-car/sdk/typescript/src/vapi.js";
import { Collector, connectGetAndSubscribe } from "../support/connect.js";
import { mqttUrl, sleep } from "../support/env.js";

/** A connection once the car answers: it subscribes its request topic when it has reached the
 * broker, which may be after the harness started it. */
async function reached(): Promise<Connected> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const car = await connect({ url: mqttUrl(), timeoutMs: 1000 });
    try {
      await car.vehicle.speed.get();
      return car;
    } catch (error) {
      await car.client.close();
      if (Date.now() > deadline) throw error;
    }
  }
}

test("typed calls and subscriptions through the broker", async () => {
  const car = await reached();
  try {
    assert.equal(car.client.transport, "mqtt");
    const speed = await car.vehicle.speed.get();
    assert.ok(speed >= 0 && speed <= 200, String(speed));
    const seat = car.vehicle.cabin.seat.row2.driverSide.position;
    const points = new Collector<DataPoint<number>>();
    const moves = await seat.subscribe(points.push, Filter.change("ne", 0));
    await seat.set(450);
    await points.until("the seat at 450", (point) => point.value === 450, 10_000);
    await moves.unsubscribe();
    const count = points.items.length;
    await seat.set(50);
    await sleep(800);
    assert.equal(points.items.length, count, "an event arrived after unsubscribe");
    await assert.rejects(car.client.get("Vehicle.NoSuchSignal"), (error: unknown) =>
      error instanceof VissError && error.number === "404" && error.reason === "unavailable_data");
  } finally {
    await car.client.close();
  }
});

test("a URL without a vehicle or without a broker fails clearly", async () => {
  const broker = mqttUrl().replace(/\/[^/]*$/, "");
  for (const url of [broker, "mqtt://127.0.0.1:1/VIN"]) {
    await assert.rejects(connect({ url, timeoutMs: 2000 }), (error: unknown) =>
      error instanceof VissClientError && error.code === "connection_failed", url);
  }
});

test("the broker refuses a wrong password or none, and no message shows it", async () => {
  const url = new URL(mqttUrl());
  assert.ok(url.username !== "" && url.password !== "", "the harness's broker wants a user and password");
  const wrong = new URL(url.href);
  wrong.password = "not-the-password";
  const anonymous = new URL(url.href);
  anonymous.username = "";
  anonymous.password = "";
  for (const refused of [wrong.href, anonymous.href]) {
    await assert.rejects(connect({ url: refused, timeoutMs: 3000 }), (error: unknown) =>
      error instanceof VissClientError && error.code === "connection_failed"
        && !`${error.message} ${String(error.cause)}`.includes("not-the-password"), refused);
  }
});

test("VAPI over mqtt", async () => {
  const car = await reached();
  await car.client.close();
  const vapi = new Vapi({ mqtt: mqttUrl() }, { timeoutMs: 5000 });
  const id = vapi.vehicleId;
  try {
    await connectGetAndSubscribe(vapi, "mqtt");
    const moved = await vapi.MoveSeat(id, { RowName: "Row2", ColumnName: "Middle" }, LONGITUDINAL, 60, "");
    assert.deepEqual([moved.Status, moved.Position], [ProcedureStatus.SUCCESSFUL, 60], JSON.stringify(moved));
  } finally {
    await vapi.ReleaseVehicle(id);
  }
});
