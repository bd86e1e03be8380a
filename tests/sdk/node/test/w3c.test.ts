// The W3C VISS v1 draft's client-library functions (src/w3c.ts): connect/disconnect, get,
// set, subscribe/unsubscribe(All), authenticate, getVSS() with canGet/canSet/raw and CSS
// selectors, and the connection lifecycle events.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { VissClientError, VissError } from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { VSS, W3CLibrary, type VssNode, type VssTree } from "../../../../generated/demo-car/sdk/typescript/src/w3c.js";
import { Collector } from "../support/connect.js";
import { caPem, waitFor, wsUrl } from "../support/env.js";
import { RecordingWebSocket, schemaCheckTest, sentCount, sentSince } from "../support/record.js";
import { freePort, SilentServer } from "../support/servers.js";

let conn: W3CLibrary;
let tree: VssTree;

const options = () => ({ ca: caPem(), WebSocket: RecordingWebSocket });
const passengerSeat = "Vehicle.Cabin.Seat.Row1.PassengerSide";

before(async () => {
  conn = await W3CLibrary.connect(wsUrl(), options());
  tree = (await conn.getVSS()).raw() as VssTree;
});

after(async () => {
  await conn.disconnect();
});

/** Every [path, node] of the tree, walked here independently of the selector engine. */
function walk(nodes: Record<string, VssNode>, prefix = ""): [string, VssNode][] {
  return Object.entries(nodes).flatMap(([name, node]) => {
    const path = prefix === "" ? name : `${prefix}.${name}`;
    return [[path, node] as [string, VssNode], ...walk(node.children ?? {}, path)];
  });
}

test("connect() takes a URL, or a host and a port; disconnect() reports once", async () => {
  const url = new URL(wsUrl());
  const library = new W3CLibrary(options());
  const events: string[] = [];
  library.on("connect", (at) => events.push(`connect ${at}`));
  library.ondisconnect = (code) => events.push(`disconnect ${code}`);
  assert.equal(library.connected, false);
  await library.connect("localhost", Number(url.port));
  assert.equal(library.url, `wss://localhost:${url.port}`);
  assert.equal(library.connected, true);
  assert.equal(typeof (await library.get("Vehicle.Speed")), "number");
  await library.disconnect();
  assert.deepEqual(events, [`connect wss://localhost:${url.port}`, "disconnect 1000"]);
  await assert.rejects(library.get("Vehicle.Speed"), /not connected/);
  // Nothing listens there: connecting fails with a clear error.
  const nowhere = new W3CLibrary({ ...options(), timeoutMs: 3000 });
  const failure = await nowhere.connect("127.0.0.1", await freePort()).then(() => assert.fail("no server"), (e: unknown) => e);
  assert.ok(failure instanceof VissClientError && failure.code === "connection_failed");
});

test("get converts by the datatype in the metadata; a branch gives path -> value", async () => {
  assert.equal(typeof (await conn.get("Vehicle.Speed")), "number");
  assert.equal(typeof (await conn.get("Vehicle.TripTime")), "bigint");
  assert.equal(typeof (await conn.get("Vehicle.Cabin.Door.Row1.DriverSide.IsOpen")), "boolean");
  const fuels = await conn.get("Vehicle.VehicleIdentification.FuelTypes");
  assert.ok(Array.isArray(fuels) && fuels.every((fuel) => typeof fuel === "string"));
  const window = (await conn.get("Vehicle.Cabin.Door.Row1.DriverSide.Window")) as Record<string, unknown>;
  assert.deepEqual(Object.keys(window).sort(), ["Vehicle.Cabin.Door.Row1.DriverSide.Window.Position", "Vehicle.Cabin.Door.Row1.DriverSide.Window.Switch"]);
  assert.equal(typeof window["Vehicle.Cabin.Door.Row1.DriverSide.Window.Position"], "number");
  const error = await conn.get("Vehicle.Flux.Capacitor").then(() => assert.fail("unknown"), (e: unknown) => e);
  assert.ok(error instanceof VissError && error.number === "404");
});

test("set checks the value against the metadata before sending, then moves the actuator", async () => {
  const position = `${passengerSeat}.Position`;
  const mark = sentCount();
  await assert.rejects(conn.set(position, 501), RangeError);
  await assert.rejects(conn.set(position, "150"), TypeError);
  await assert.rejects(conn.set(`${passengerSeat}.Massage`, 7), /not one of the allowed values/);
  await assert.rejects(conn.set("Vehicle.Speed", 3), /Vehicle.Speed is a sensor: only actuators can be set/);
  await assert.rejects(conn.set("Vehicle.VehicleIdentification.VIN", "X"), /an attribute/);
  assert.equal(sentCount(), mark, "nothing refused was sent");
  await conn.set(position, 150);
  assert.deepEqual((sentSince(mark) as { value?: unknown }[]).map((f) => f.value), ["150"]);
  await waitFor("the seat at 150", async () => (await conn.get(position)) === 150, 8000, 100);
  await conn.set("Vehicle.Cabin.Door.Row2.DriverSide.Window.Switch", "CLOSE");
  await conn.set("Vehicle.Cabin.AmbientLight", [1, 2, 3]);
  assert.deepEqual((sentSince(sentCount() - 1)[0] as { value?: unknown }).value, ["1", "2", "3"]);
});

test("subscribe with the draft's options; unsubscribe by object, by id, or all", async () => {
  const speed = new Collector<[unknown, string, string]>();
  const timed = await conn.subscribe("Vehicle.Speed", { interval: 100, onValue: (value, path, ts) => speed.push([value, path, ts]) });
  assert.deepEqual(timed.filter, { variant: "timebased", parameter: { period: "100" } });
  const got = await speed.count(3, 4000);
  for (const [value, path, ts] of got) {
    assert.equal(typeof value, "number");
    assert.equal(path, "Vehicle.Speed");
    assert.ok(Number.isFinite(Date.parse(ts)));
  }
  let mark = sentCount();
  await conn.unsubscribe(timed);
  assert.deepEqual(sentSince(mark).map((f) => (f as { subscriptionId?: string }).subscriptionId), [timed.id]);

  const door = new Collector<unknown>();
  const onChange = await conn.subscribe("Vehicle.Cabin.Door.Row2.DriverSide.IsOpen", (value) => door.push(value));
  assert.deepEqual(onChange.filter, { variant: "change", parameter: { "logic-op": "ne", diff: "0" } });
  const open = await conn.get("Vehicle.Cabin.Door.Row2.DriverSide.IsOpen");
  await conn.set("Vehicle.Cabin.Door.Row2.DriverSide.IsOpen", !open);
  await door.until("the toggle", (value) => value === !open);
  mark = sentCount();
  await conn.unsubscribe(onChange.id);
  assert.equal(sentSince(mark).length, 1);
  await assert.rejects(conn.unsubscribe("no-such-id"), (e: unknown) => e instanceof VissError && e.number === "404");

  const band = await conn.subscribe(`${passengerSeat}.Position`, { above: 100, below: 450 });
  assert.deepEqual(band.filter, { variant: "range", parameter: [{ "logic-op": "gt", boundary: "100", "combination-op": "AND" }, { "logic-op": "lt", boundary: "450" }] });
  const outside = await conn.subscribe(`${passengerSeat}.Position`, { above: 450, below: 100 });
  assert.equal((outside.filter as { parameter: { "combination-op"?: string }[] }).parameter[0]?.["combination-op"], "OR");
  mark = sentCount();
  await conn.unsubscribeAll();
  assert.equal((sentSince(mark) as { action: string }[]).filter((f) => f.action === "unsubscribe").length, 2);
  await conn.set(`${passengerSeat}.Position`, 0);
});

test("getVSS: raw(), canGet and canSet on the live tree", async () => {
  const vss = await conn.getVSS();
  assert.ok("Vehicle" in (vss.raw() as VssTree));
  const position = vss.raw(`${passengerSeat}.Position`) as VssNode;
  assert.deepEqual([position.type, position.datatype, position.min, position.max], ["actuator", "uint16", "0", "500"]);
  assert.equal(vss.raw("Vehicle/Speed"), vss.raw("Vehicle.Speed"));
  assert.equal(vss.raw("Vehicle.Nope"), undefined);
  assert.equal(vss.canGet("Vehicle.Speed"), true);
  assert.equal(vss.canSet("Vehicle.Speed"), false);
  assert.equal(vss.canSet(`${passengerSeat}.Position`), true);
  assert.equal(vss.canGet("Vehicle.Flux"), false);
  assert.equal(vss.canSet("Vehicle.Flux"), false);
  assert.equal(vss.paths().length, walk(tree).length);
  assert.equal(await conn.getVSS(), vss, "cached");
});

test("canGet and canSet honour inherited validate tags and the token", () => {
  const tagged: VssTree = {
    Vehicle: { type: "branch", children: {
      Speed: { type: "sensor", datatype: "float" },
      Horn: { type: "actuator", datatype: "boolean", validate: "write-only" },
      Cabin: { type: "branch", validate: "read-write+consent", children: {
        Light: { type: "actuator", datatype: "boolean" },
        Temperature: { type: "sensor", datatype: "float" },
      } },
    } },
  };
  const anonymous = new VSS(tagged, false);
  const holder = new VSS(tagged, true);
  assert.deepEqual(["Vehicle.Speed", "Vehicle.Horn", "Vehicle.Cabin.Light", "Vehicle.Cabin.Temperature"].map((p) => [anonymous.canGet(p), anonymous.canSet(p)]),
    [[true, false], [true, false], [false, false], [false, false]]);
  assert.deepEqual(["Vehicle.Speed", "Vehicle.Horn", "Vehicle.Cabin.Light", "Vehicle.Cabin.Temperature"].map((p) => [holder.canGet(p), holder.canSet(p)]),
    [[true, false], [true, true], [true, true], [true, false]]);
  assert.deepEqual(anonymous.findPathByCSS(":writable"), []);
  assert.deepEqual(holder.findPathByCSS("[type=actuator]:writable"), ["Vehicle.Horn", "Vehicle.Cabin.Light"]);
  assert.deepEqual(anonymous.findPathByCSS(":readable:leaf"), ["Vehicle.Speed", "Vehicle.Horn"]);
});

test("findPathByCSS: type, universal, attribute selectors, combinators and pseudo-classes", async () => {
  const vss = await conn.getVSS();
  const all = walk(tree);
  const where = (predicate: (path: string, node: VssNode) => boolean): string[] => all.filter(([p, n]) => predicate(p, n)).map(([p]) => p);

  assert.deepEqual(vss.findPathByCSS("vehicle > speed"), ["Vehicle.Speed"]);
  assert.deepEqual(vss.findPathByCSS("Vehicle>Speed"), ["Vehicle.Speed"]);
  assert.deepEqual(vss.findPathByCSS("chassis speed"), where((p) => p.startsWith("Vehicle.Chassis.") && p.endsWith(".Speed")));
  assert.equal(vss.findPathByCSS("chassis speed").length, 4);
  const seatActuators = vss.findPathByCSS("seat [type=actuator]");
  assert.deepEqual(seatActuators, where((p, n) => p.startsWith("Vehicle.Cabin.Seat.") && n.type === "actuator"));
  assert.equal(seatActuators.length, 6 * 7);
  assert.deepEqual(vss.findPathByCSS("[datatype=boolean]"), where((_, n) => n.datatype === "boolean"));
  assert.deepEqual(vss.findPathByCSS('[datatype="boolean"][type=actuator]'), where((_, n) => n.datatype === "boolean" && n.type === "actuator"));
  assert.deepEqual(vss.findPathByCSS("[unit='km/h']"), where((_, n) => n.unit === "km/h"));
  assert.deepEqual(vss.findPathByCSS("[datatype$='[]']"), where((_, n) => (n.datatype ?? "").endsWith("[]")));
  assert.deepEqual(vss.findPathByCSS("[min^='-']"), where((_, n) => (n.min ?? "").startsWith("-")));
  assert.deepEqual(vss.findPathByCSS("[description*=SEAT i]"), where((_, n) => /seat/i.test(n.description ?? "")));
  assert.deepEqual(vss.findPathByCSS("[allowed~=OPEN]"), where((_, n) => (n.allowed ?? []).includes("OPEN")));
  assert.deepEqual(vss.findPathByCSS("[path^='Vehicle.Cabin.Seat.Row2'][name=Position]"),
    ["Vehicle.Cabin.Seat.Row2.DriverSide.Position", "Vehicle.Cabin.Seat.Row2.Middle.Position", "Vehicle.Cabin.Seat.Row2.PassengerSide.Position"]);
  assert.deepEqual(vss.findPathByCSS("door > * > * > :first-child"), where((p) => /^Vehicle\.Cabin\.Door\.Row\d\.\w+\.IsOpen$/.test(p)));
  assert.deepEqual(vss.findPathByCSS("cabin > :branch"), ["Vehicle.Cabin.Door", "Vehicle.Cabin.Seat", "Vehicle.Cabin.Infotainment"]);
  assert.deepEqual(vss.findPathByCSS("backrest + headrest").length, 6);
  assert.deepEqual(vss.findPathByCSS("headrest + backrest"), []);
  assert.deepEqual(vss.findPathByCSS("occupant ~ headrest").length, 6);
  assert.deepEqual(vss.findPathByCSS(":root"), ["Vehicle"]);
  assert.deepEqual(vss.findPathByCSS("vehicle > *:not(:branch)"), where((p, n) => p.split(".").length === 2 && n.type !== "branch"));
  assert.deepEqual(vss.findPathByCSS("infotainment > *, horn"), ["Vehicle.Cabin.Infotainment.Volume", "Vehicle.Cabin.Infotainment.Source", "Vehicle.Body.Horn"]);
  assert.deepEqual(vss.findPathByCSS("*").length, all.length);
  assert.equal(vss.pathExistsByCSS("seat massage[allowed~='3']"), true);
  assert.equal(vss.pathExistsByCSS("body > flux capacitor"), false);
  assert.equal(vss.pathExists("vehicle speed:first-child"), true);
  for (const bad of ["", "#speed", ".sensor", "speed::before", "[type=actuator", "speed:nth-child(2)", "a >", "[type='x]", ":not(speed"]) {
    assert.throws(() => vss.findPathByCSS(bad), SyntaxError, bad);
  }
});

test("authenticate adds the token to later requests and the VSS is fetched anew", async () => {
  const before = await conn.getVSS();
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const payload = Buffer.from(JSON.stringify({ sub: "test", exp })).toString("base64url");
  const token = `eyJhbGciOiJub25lIn0.${payload}.`;
  const ttl = await conn.authenticate(token);
  assert.ok(ttl !== undefined && ttl > 3590 && ttl <= 3600, `ttl ${ttl}`);
  let mark = sentCount();
  const after = await conn.getVSS();
  assert.notEqual(after, before, "fetched anew");
  await conn.get("Vehicle.Speed");
  const frames = sentSince(mark) as { authorization?: string; filter?: unknown }[];
  assert.ok(frames.length >= 2 && frames.every((f) => f.authorization === token));
  assert.deepEqual(frames[0]!.filter, { variant: "metadata", parameter: "0" });
  assert.equal(await conn.authenticate("opaque-handle"), undefined);
  assert.equal(await conn.authenticate(undefined), undefined);
  mark = sentCount();
  await conn.get("Vehicle.Speed");
  assert.equal((sentSince(mark)[0] as { authorization?: string }).authorization, undefined);
});

test("lifecycle: disconnect, reconnecting and reconnect events when the connection drops", async () => {
  const silent = await SilentServer.start();
  const library = new W3CLibrary({ url: silent.url, WebSocket: RecordingWebSocket, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
  const events: string[] = [];
  library.onconnect = () => events.push("connect");
  library.on("disconnect", () => events.push("disconnect"));
  library.on("reconnecting", () => events.push("reconnecting"));
  library.onreconnect = () => events.push("reconnect");
  try {
    await library.connect();
    assert.equal(library.url, silent.url);
    await waitFor("the server to see the connection", () => silent.connections === 1);
    silent.dropAll();
    await waitFor("reconnect", () => events.includes("reconnect"), 5000);
    assert.deepEqual(events.slice(0, 4), ["connect", "disconnect", "reconnecting", "reconnect"]);
  } finally {
    await library.disconnect();
    await silent.close();
  }
  assert.equal(events.at(-1), "disconnect");
});

schemaCheckTest(20);
