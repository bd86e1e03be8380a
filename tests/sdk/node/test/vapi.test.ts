// VAPI v1.0 (src/vapi.ts) against the shared demo car: the common and data procedures, and
// the seating service group discovered from the server's metadata, including a MoveSeat
// cancelled mid-movement. The simulator halves an actuator's distance to its target every
// 200 ms and snaps within 5 % of its range; Seat Position is uint16 0..500.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  BACKREST, BACKWARD, FORWARD, LONGITUDINAL, LUMBAR, ProcedureStatus, Vapi, VERTICAL,
  type MassageOutput, type MatrixId, type MoveSeatOutput, type SubscribeOutput,
} from "../../../../generated/demo-car/sdk/typescript/src/vapi.js";
import { Collector } from "../support/connect.js";
import { caPem, httpUrl, sleep, waitFor, wsUrl } from "../support/env.js";
import { recordFetch, RecordingWebSocket, schemaCheckTest, sent, sentCount } from "../support/record.js";
import { freePort } from "../support/servers.js";

const MIDDLE: MatrixId = { RowName: "Row2", ColumnName: "Middle" };
const PASSENGER: MatrixId = { RowName: "Row2", ColumnName: "PassengerSide" };
const position = "Vehicle.Cabin.Seat.Row2.Middle.Position";

let vapi: Vapi;
let id: number;

function newVapi(extra: object = {}): Vapi {
  recordFetch();
  return new Vapi({ wss: wsUrl(), https: httpUrl() }, { ca: caPem(), WebSocket: RecordingWebSocket, ...extra });
}

/** The current value of a signal, through VAPI Get. */
async function current(path: string): Promise<string> {
  const got = await vapi.Get(id, path, "", "");
  assert.equal(got.Status, ProcedureStatus.SUCCESSFUL, JSON.stringify(got.Error));
  const value = got.Data[0]?.SignalData[0]?.Value;
  assert.ok(value !== undefined);
  return value;
}

/** The value once two reads 300 ms apart agree (a halted actuator may take one more step back). */
async function settled(path: string): Promise<string> {
  let previous = await current(path);
  for (let i = 0; i < 10; i++) {
    await sleep(300);
    const now = await current(path);
    if (now === previous) return now;
    previous = now;
  }
  assert.fail(`${path} did not settle`);
}

before(async () => {
  vapi = newVapi();
  id = vapi.vehicleId;
  const connected = await vapi.Connect(id, "wss", "");
  assert.deepEqual(connected, { Status: ProcedureStatus.SUCCESSFUL, LtCredential: "" });
});

after(async () => {
  await vapi.ReleaseVehicle(id);
});

test("common procedures: Connect, SelectProtocol, Disconnect, and their failures", async () => {
  const fresh = newVapi();
  const early = await fresh.Get(fresh.vehicleId, "Vehicle.Speed", "", "");
  assert.deepEqual([early.Status, early.Error?.Code, early.Error?.Reason], [ProcedureStatus.FAILED, 503, "service_unavailable"]);
  assert.equal((await fresh.Connect(fresh.vehicleId, "mqtt", "")).Error?.Code, 400);
  assert.equal((await fresh.Connect(42, "wss", "")).Error?.Code, 404);
  assert.equal(fresh.protocol, undefined);
  assert.equal((await fresh.Connect(fresh.vehicleId, "https", "")).Status, ProcedureStatus.SUCCESSFUL);
  assert.equal(fresh.protocol, "https");
  assert.equal((await fresh.SelectProtocol(fresh.vehicleId, "wss")).Error?.Code, 400, "wss is not connected yet");
  assert.equal((await fresh.Connect(fresh.vehicleId, "wss", "")).Status, ProcedureStatus.SUCCESSFUL);
  assert.equal(fresh.protocol, "https", "the first connected protocol stays the default");
  let mark = sentCount();
  assert.equal((await fresh.Get(fresh.vehicleId, "Vehicle.Speed", "", "")).Status, ProcedureStatus.SUCCESSFUL);
  assert.equal(sent[mark]?.transport, "http");
  assert.equal((await fresh.SelectProtocol(fresh.vehicleId, "wss")).Status, ProcedureStatus.SUCCESSFUL);
  mark = sentCount();
  assert.equal((await fresh.Get(fresh.vehicleId, "Vehicle.Speed", "", "")).Status, ProcedureStatus.SUCCESSFUL);
  assert.equal(sent[mark]?.transport, "ws");
  assert.equal((await fresh.Disconnect(fresh.vehicleId, "wss")).Status, ProcedureStatus.SUCCESSFUL);
  assert.equal(fresh.protocol, "https", "back to the one still connected");
  assert.equal((await fresh.Disconnect(fresh.vehicleId, "wss")).Error?.Code, 400);
  assert.equal((await fresh.ReleaseVehicle(fresh.vehicleId)).Status, ProcedureStatus.SUCCESSFUL);
  assert.equal(fresh.protocol, undefined);
  // Nobody there: FAILED, not a rejection.
  const nowhere = new Vapi({ wss: `wss://127.0.0.1:${await freePort()}` }, { timeoutMs: 2000 });
  const refused = await nowhere.Connect(nowhere.vehicleId, "wss", "");
  assert.deepEqual([refused.Status, refused.Error?.Code, refused.Error?.Reason], [ProcedureStatus.FAILED, 503, "service_unavailable"]);
});

test("credentials: clientCredentials and stCredentials become the VISS authorization", async () => {
  const fresh = newVapi();
  await fresh.Connect(fresh.vehicleId, "wss", "session-token");
  let mark = sentCount();
  await fresh.Get(fresh.vehicleId, "Vehicle.Speed", "", "");
  await fresh.Get(fresh.vehicleId, "Vehicle.Speed", "", "short-term");
  assert.deepEqual(sent.slice(mark).map((s) => (s.message as { authorization?: string }).authorization), ["session-token", "short-term"]);
  await fresh.ReleaseVehicle(fresh.vehicleId);
});

test("GetMetadata answers the subtree as JSON text", async () => {
  const answer = await vapi.GetMetadata(id, position, "");
  assert.equal(answer.Status, ProcedureStatus.SUCCESSFUL);
  const metadata = JSON.parse(answer.Metadata) as Record<string, Record<string, unknown>>;
  assert.deepEqual([metadata["Position"]?.["datatype"], metadata["Position"]?.["max"]], ["uint16", "500"]);
  const missing = await vapi.GetMetadata(id, "Vehicle.Flux", "");
  assert.deepEqual([missing.Status, missing.Error?.Code, missing.Metadata], [ProcedureStatus.FAILED, 404, ""]);
});

test("Get and Set: values as text, VISS errors as ErrorData, never a rejection", async () => {
  const got = await vapi.Get(id, "Vehicle.Speed", "", "");
  assert.equal(got.Status, ProcedureStatus.SUCCESSFUL);
  assert.equal(got.Data[0]?.Path, "Vehicle.Speed");
  assert.ok(Number.isFinite(Number(got.Data[0]?.SignalData[0]?.Value)));
  assert.ok(Number.isFinite(Date.parse(got.Data[0]?.SignalData[0]?.Timestamp ?? "")));
  const fuels = await vapi.Get(id, "Vehicle.VehicleIdentification.FuelTypes", "", "");
  assert.ok(Array.isArray(JSON.parse(fuels.Data[0]?.SignalData[0]?.Value ?? "")), "arrays come as JSON text");
  const history = await vapi.Get(id, "Vehicle.Speed", '{"variant":"history","parameter":"PT2S"}', "");
  assert.ok((history.Data[0]?.SignalData.length ?? 0) >= 3);
  const branch = await vapi.Get(id, "Vehicle.Cabin.Door.Row1.DriverSide", "", "");
  assert.ok(branch.Data.length >= 5 && branch.Data.every((c) => c.Path.startsWith("Vehicle.Cabin.Door.Row1.DriverSide.")));

  const unknown = await vapi.Get(id, "Vehicle.Flux", "", "");
  assert.deepEqual([unknown.Status, unknown.Error?.Code, unknown.Error?.Reason, unknown.Data], [ProcedureStatus.FAILED, 404, "unavailable_data", []]);
  assert.deepEqual((await vapi.Get(id, "Vehicle.Speed", "{not json", "")).Error?.Code, 400);
  assert.deepEqual((await vapi.Get(id, "Vehicle", '{"variant":"metadata","parameter":"0"}', "")).Error?.Reason, "bad_request");

  assert.deepEqual(await vapi.Set(id, "Vehicle.Cabin.Seat.Row2.Middle.Heating", "-20", ""), { Status: ProcedureStatus.SUCCESSFUL });
  await waitFor("the heating at -20", async () => (await current("Vehicle.Cabin.Seat.Row2.Middle.Heating")) === "-20", 5000, 100);
  const sensor = await vapi.Set(id, "Vehicle.Speed", "10", "");
  assert.deepEqual([sensor.Status, sensor.Error?.Code, sensor.Error?.Reason], [ProcedureStatus.FAILED, 400, "invalid_data"]);
  const outside = await vapi.Set(id, position, "600", "");
  assert.deepEqual([outside.Error?.Code, outside.Error?.Reason], [400, "invalid_data"]);
  const mark = sentCount();
  assert.equal((await vapi.Set(id, "Vehicle.Navigation.Destination",
    '{"Name":"Home","Point":{"Latitude":"48.1","Longitude":"11.5"},"Priority":"1"}', "")).Status, ProcedureStatus.SUCCESSFUL);
  assert.deepEqual((sent[mark]?.message as { value?: unknown }).value, { Name: "Home", Point: { Latitude: "48.1", Longitude: "11.5" }, Priority: "1" });
});

test("Subscribe and Unsubscribe: ONGOING outputs with the ServiceId, then silence", async () => {
  const outputs = new Collector<SubscribeOutput>();
  const started = await vapi.Subscribe(id, "Vehicle.Speed", '{"variant":"timebased","parameter":{"period":"100"}}', "", outputs.push);
  assert.equal(started.Status, ProcedureStatus.ONGOING);
  assert.ok(started.ServiceId > 0);
  const got = await outputs.count(3, 4000);
  for (const output of got) {
    assert.deepEqual([output.Status, output.ServiceId, output.Data[0]?.Path], [ProcedureStatus.ONGOING, started.ServiceId, "Vehicle.Speed"]);
  }
  assert.deepEqual(await vapi.Unsubscribe(id, started.ServiceId), { Status: ProcedureStatus.SUCCESSFUL });
  const count = outputs.items.length;
  await sleep(400);
  assert.equal(outputs.items.length, count);
  assert.equal((await vapi.Unsubscribe(id, started.ServiceId)).Error?.Code, 404);
  // Default filter: every change; CancelService ends a subscription too.
  const changes = new Collector<SubscribeOutput>();
  const door = await vapi.Subscribe(id, "Vehicle.Cabin.Door.Row2.PassengerSide.IsOpen", "", "", changes.push);
  const open = await current("Vehicle.Cabin.Door.Row2.PassengerSide.IsOpen");
  await vapi.Set(id, "Vehicle.Cabin.Door.Row2.PassengerSide.IsOpen", open === "true" ? "false" : "true", "");
  await changes.until("the change", (o) => o.Data[0]?.SignalData[0]?.Value === (open === "true" ? "false" : "true"));
  assert.equal((await vapi.CancelService(id, door.ServiceId)).Status, ProcedureStatus.SUCCESSFUL);
  const unknown = await vapi.Subscribe(id, "Vehicle.Flux", "", "", () => undefined);
  assert.deepEqual([unknown.Status, unknown.Error?.Code, unknown.ServiceId], [ProcedureStatus.FAILED, 404, 0]);
  // Not over https.
  await vapi.Connect(id, "https", "");
  await vapi.SelectProtocol(id, "https");
  const viaHttp = await vapi.Subscribe(id, "Vehicle.Speed", "", "", () => undefined);
  assert.deepEqual([viaHttp.Status, viaHttp.Error?.Code], [ProcedureStatus.FAILED, 400]);
  await vapi.SelectProtocol(id, "wss");
});

test("GetPropertiesSeating discovers the seats from the server's metadata", async () => {
  const answer = await vapi.GetPropertiesSeating(id);
  assert.equal(answer.Status, ProcedureStatus.SUCCESSFUL);
  assert.deepEqual(answer.Properties.map((row) => [row.RowName, row.Column.map((c) => c.Name)]), [
    ["Row1", ["DriverSide", "Middle", "PassengerSide"]],
    ["Row2", ["DriverSide", "Middle", "PassengerSide"]],
  ]);
  for (const row of answer.Properties) {
    for (const column of row.Column) {
      // The demo seat has Position, Backrest.Recline and Backrest.Lumbar, but no Height.
      assert.deepEqual(column.MovementSupport.map((s) => s.Name), [LONGITUDINAL, BACKREST, LUMBAR]);
      assert.deepEqual(column.MassageSupport, [{ Name: "massage", Description: "Massage level." }]);
    }
  }
});

test("a tree without the seating signals reports the service unsupported (404)", async () => {
  for (const seatingBranch of ["Vehicle.Cabin.Door", "Vehicle.Cabin.NoSuchBranch"]) {
    const other = newVapi({ seatingBranch });
    await other.Connect(other.vehicleId, "wss", "");
    const properties = await other.GetPropertiesSeating(other.vehicleId);
    assert.deepEqual([properties.Status, properties.Error?.Code, properties.Error?.Reason, properties.Properties],
      [ProcedureStatus.FAILED, 404, "unavailable_data", []], seatingBranch);
    assert.match(properties.Error?.Description ?? "", /does not support seating/);
    const move = await other.MoveSeat(other.vehicleId, { RowName: "Row1", ColumnName: "DriverSide" }, LONGITUDINAL, 50, "");
    assert.deepEqual([move.Status, move.Error?.Code], [ProcedureStatus.FAILED, 404]);
    const massage = await other.ActivateMassage(other.vehicleId, { RowName: "Row1", ColumnName: "DriverSide" }, "massage", 50, 1, "");
    assert.deepEqual([massage.Status, massage.Error?.Code], [ProcedureStatus.FAILED, 404]);
    await other.ReleaseVehicle(other.vehicleId);
  }
  const vertical = await vapi.MoveSeat(id, MIDDLE, VERTICAL, 50, "");
  assert.deepEqual([vertical.Status, vertical.Error?.Code], [ProcedureStatus.FAILED, 404]);
  assert.equal((await vapi.MoveSeat(id, { RowName: "Row9", ColumnName: "Middle" }, LONGITUDINAL, 50, "")).Error?.Code, 404);
  assert.equal((await vapi.MoveSeat(id, MIDDLE, LONGITUDINAL, 150, "")).Error?.Code, 400);
  assert.equal((await vapi.ActivateMassage(id, PASSENGER, "shiatsu", 50, 1, "")).Error?.Code, 404);
  assert.equal((await vapi.ActivateMassage(id, PASSENGER, "massage", 50, -1, "")).Error?.Code, 400);
});

test("MoveSeat synchronously moves the seat to a position", async () => {
  const forward = await vapi.MoveSeat(id, MIDDLE, LONGITUDINAL, FORWARD, "");
  assert.deepEqual([forward.Status, forward.Position, forward.Error], [ProcedureStatus.SUCCESSFUL, 0, undefined]);
  assert.equal(await current(position), "0");
  const started = Date.now();
  const forty = await vapi.MoveSeat(id, MIDDLE, LONGITUDINAL, 40, "");
  assert.deepEqual([forty.Status, forty.Position], [ProcedureStatus.SUCCESSFUL, 40]);
  assert.equal(await current(position), "200");
  assert.ok(Date.now() - started >= 350, "it waited for the movement (several simulator rounds)");
  const backrest = await vapi.MoveSeat(id, MIDDLE, BACKREST, 50, "");
  assert.equal(backrest.Status, ProcedureStatus.SUCCESSFUL);
  assert.ok(Math.abs(Number(await current("Vehicle.Cabin.Seat.Row2.Middle.Backrest.Recline")) - 25.25) < 0.01);
});

test("an asynchronous MoveSeat cancelled mid-movement stops at the current position", async () => {
  assert.equal((await vapi.MoveSeat(id, MIDDLE, LONGITUDINAL, FORWARD, "")).Status, ProcedureStatus.SUCCESSFUL);
  const outputs = new Collector<MoveSeatOutput>();
  const started = await vapi.MoveSeat(id, MIDDLE, LONGITUDINAL, BACKWARD, "", outputs.push);
  assert.equal(started.Status, ProcedureStatus.ONGOING);
  assert.ok(started.ServiceId > 0);
  const [first] = await outputs.count(1, 3000);
  assert.equal(first?.Status, ProcedureStatus.ONGOING);
  assert.ok(first!.Position > 0 && first!.Position < 100, `first progress ${first?.Position}`);
  assert.equal(first?.ServiceId, started.ServiceId);
  assert.deepEqual(await vapi.CancelService(id, started.ServiceId), { Status: ProcedureStatus.SUCCESSFUL });
  const last = outputs.items.at(-1)!;
  assert.deepEqual([last.Status, last.ServiceId], [ProcedureStatus.SUCCESSFUL, started.ServiceId]);
  assert.ok(last.Position > 0 && last.Position < 100, `stopped at ${last.Position} %`);
  // The seat settles where it was stopped and stays there.
  const stoppedAt = String(Math.round((last.Position / 100) * 500));
  await waitFor(`the seat at ${stoppedAt}`, async () => (await current(position)) === stoppedAt, 3000, 100);
  const count = outputs.items.length;
  await sleep(600);
  assert.equal(await current(position), stoppedAt, "no further movement");
  assert.equal(outputs.items.length, count, "no callback after the cancel");
  assert.equal((await vapi.CancelService(id, started.ServiceId)).Error?.Code, 404);
});

test("an asynchronous MoveSeat left alone reports progress and then SUCCESSFUL", async () => {
  const outputs = new Collector<MoveSeatOutput>();
  const started = await vapi.MoveSeat(id, MIDDLE, LONGITUDINAL, 80, "", outputs.push);
  const done = await outputs.until("SUCCESSFUL", (o) => o.Status === ProcedureStatus.SUCCESSFUL, 8000);
  assert.deepEqual([done.Position, done.ServiceId], [80, started.ServiceId]);
  assert.ok(outputs.items.slice(0, -1).every((o) => o.Status === ProcedureStatus.ONGOING));
  assert.equal(await current(position), "400");
  assert.equal((await vapi.CancelService(id, started.ServiceId)).Error?.Code, 404, "the service is over");
});

test("MoveSeat over https follows the seat by polling", async () => {
  await vapi.SelectProtocol(id, "https");
  try {
    const moved = await vapi.MoveSeat(id, MIDDLE, LONGITUDINAL, 10, "");
    assert.deepEqual([moved.Status, moved.Position], [ProcedureStatus.SUCCESSFUL, 10]);
    assert.equal(await current(position), "50");
  } finally {
    await vapi.SelectProtocol(id, "wss");
  }
});

test("a synchronous MoveSeat that runs out of time or is aborted stops the seat", async () => {
  const quick = newVapi({ moveTimeoutMs: 250 });
  await quick.Connect(quick.vehicleId, "wss", "");
  try {
    // From 50 mm (the previous test) to 500 mm takes four or five simulator rounds.
    assert.equal(await current(position), "50");
    const late = await quick.MoveSeat(quick.vehicleId, MIDDLE, LONGITUDINAL, BACKWARD, "");
    assert.deepEqual([late.Status, late.Error?.Code, late.Error?.Reason], [ProcedureStatus.FAILED, 408, "request_timeout"]);
    const controller = new AbortController();
    const reason = new Error("driver pressed stop");
    const moving = vapi.MoveSeat(id, MIDDLE, LONGITUDINAL, FORWARD, "", undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 250);
    await assert.rejects(moving, (e) => e === reason);
    const stopped = await settled(position);
    assert.notEqual(stopped, "0", "stopped before the end");
    await sleep(600);
    assert.equal(await current(position), stopped, "no further movement");
  } finally {
    await quick.ReleaseVehicle(quick.vehicleId);
  }
});

test("ActivateMassage: a level for the intensity, off after the duration or at CancelService", async () => {
  const massage = "Vehicle.Cabin.Seat.Row2.PassengerSide.Massage";
  const outputs = new Collector<MassageOutput>();
  const started = Date.now();
  const timed = await vapi.ActivateMassage(id, PASSENGER, "massage", 100, 1, "", outputs.push);
  assert.equal(timed.Status, ProcedureStatus.ONGOING);
  await waitFor("massage level 3", async () => (await current(massage)) === "3", 3000, 50);
  const [end] = await outputs.count(1, 4000);
  assert.deepEqual(end, { Status: ProcedureStatus.SUCCESSFUL, ServiceId: timed.ServiceId });
  assert.ok(Date.now() - started >= 950, "after the duration");
  await waitFor("massage off", async () => (await current(massage)) === "0", 3000, 50);

  const open = await vapi.ActivateMassage(id, PASSENGER, "massage", 50, 0, "", outputs.push);
  await waitFor("massage level 2", async () => (await current(massage)) === "2", 3000, 50);
  await sleep(300);
  assert.equal(outputs.items.length, 1, "duration 0 runs until cancelled");
  assert.deepEqual(await vapi.CancelService(id, open.ServiceId), { Status: ProcedureStatus.SUCCESSFUL });
  assert.deepEqual(outputs.items[1], { Status: ProcedureStatus.SUCCESSFUL, ServiceId: open.ServiceId });
  await waitFor("massage off", async () => (await current(massage)) === "0", 3000, 50);
});

test("a Disconnect racing an ActivateMassage leaves no massage on", async () => {
  // The start registers its service before Disconnect ends the session's services: without
  // that, the set in flight switched the massage on and the closed client could not switch
  // it off. Rounds of the race, the start first and the Disconnect first.
  const racer = newVapi();
  const seat: MatrixId = { RowName: "Row1", ColumnName: "Middle" };
  const massage = "Vehicle.Cabin.Seat.Row1.Middle.Massage";
  let started = 0;
  for (let round = 0; round < 8; round++) {
    assert.equal((await racer.Connect(id, "wss", "")).Status, ProcedureStatus.SUCCESSFUL);
    assert.equal((await racer.GetPropertiesSeating(id)).Status, ProcedureStatus.SUCCESSFUL); // seats known
    const start = (async () => {
      if (round % 2 === 1) await Promise.resolve(); // the Disconnect goes first
      return racer.ActivateMassage(id, seat, "massage", 100, 0, "");
    })();
    const [output, stopped] = await Promise.all([start, racer.Disconnect(id, "wss")]);
    assert.equal(stopped.Status, ProcedureStatus.SUCCESSFUL, JSON.stringify(stopped));
    if (output.Status === ProcedureStatus.ONGOING) started += 1;
    await waitFor(`massage off after round ${round}`, async () => (await current(massage)) === "0", 5000, 50);
  }
  assert.ok(started > 0, "no round started the massage before its session ended");
});

schemaCheckTest(30);
