// What needs no server: the schema check itself (so the per-file checks mean something), the
// filter builders against the schema, and the codecs' edges.

import assert from "node:assert/strict";
import { test } from "node:test";
import { codec, Filter, WaypointCodec } from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { applyPatch, schemaErrors } from "../support/schema.js";

test("the schema check rejects bad messages, and the overlay is applied", () => {
  assert.equal(schemaErrors({ action: "get", path: "Vehicle.Speed", requestId: "1" }), undefined);
  assert.notEqual(schemaErrors({ action: "subscribe", path: "Vehicle.Speed", requestId: "1" }), undefined, "subscribe needs a filter");
  assert.notEqual(schemaErrors({ action: "get", path: "Vehicle.Speed", requestId: 1 }), undefined, "requestId is a string");
  assert.notEqual(schemaErrors({ action: "set", path: "Vehicle.Speed", value: 3, requestId: "1" }), undefined, "values are strings");
  assert.notEqual(schemaErrors({ action: "fly", path: "Vehicle" }), undefined);
  const nested = { action: "set", path: "Vehicle.Navigation.Destination", requestId: "2",
    value: { Name: "a", Point: { Latitude: "1", Longitude: "2" }, Priority: "1" } };
  assert.notEqual(schemaErrors(nested, false), undefined, "the published schema has no nested structs");
  assert.equal(schemaErrors(nested), undefined, "the overlay allows them");
  const pathsAndHistory = { action: "get", path: "Vehicle", requestId: "3",
    filter: [Filter.paths(["Speed"]), Filter.history("PT1M")] };
  assert.notEqual(schemaErrors(pathsAndHistory, false), undefined);
  assert.equal(schemaErrors(pathsAndHistory), undefined);
  assert.throws(() => applyPatch({ a: {} }, { pointer: "/a/b/c", value: 1 }), /does not resolve/);
});

test("every filter builder produces a schema-valid subscribe or get", () => {
  const subscribe = (filter: Filter) => ({ action: "subscribe", path: "Vehicle.Speed", filter, requestId: "1" });
  const get = (filter: Filter) => ({ action: "get", path: "Vehicle", filter, requestId: "1" });
  for (const filter of [
    Filter.timebased(100), Filter.change("ne", 0), Filter.change("ge", "1.5"), Filter.range([{ logicOp: "gt", boundary: 5 }]),
    Filter.range([{ logicOp: "lt", boundary: 5 }, { logicOp: "gt", boundary: "10" }], "OR"), Filter.curvelog(0.5, 10),
    Filter.combine(Filter.paths(["Speed", "Cabin.Door.*.*.IsOpen"]), Filter.timebased(500)),
  ]) assert.equal(schemaErrors(subscribe(filter)), undefined, JSON.stringify(filter));
  for (const filter of [Filter.history("P1DT2H"), Filter.metadata(), Filter.metadata(2), Filter.paths(["Speed"]),
    Filter.combine(Filter.paths(["Cabin"]), Filter.metadata(1))]) assert.equal(schemaErrors(get(filter)), undefined, JSON.stringify(filter));
  assert.deepEqual(Filter.change("ge", 1), { variant: "change", parameter: { "logic-op": "gte", diff: "1" } });
  assert.deepEqual(Filter.range([{ logicOp: "lt", boundary: 5 }, { logicOp: "gt", boundary: 10 }], "OR"), {
    variant: "range", parameter: [{ "logic-op": "lt", boundary: "5", "combination-op": "OR" }, { "logic-op": "gt", boundary: "10" }],
  });
  assert.throws(() => Filter.timebased(0), RangeError);
  assert.throws(() => Filter.timebased(1.5), RangeError);
  assert.throws(() => Filter.range([]), RangeError);
  assert.throws(() => Filter.range([{ logicOp: "gt", boundary: 1 }], "OR"), RangeError);
  assert.throws(() => Filter.curvelog(-1, 5), RangeError);
  assert.throws(() => Filter.history("P1Y"), RangeError);
  assert.throws(() => Filter.history("P999D"), RangeError);
  assert.throws(() => Filter.change("gt", "abc"), RangeError);
});

test("codecs: 64-bit integers, number text, float32 and structs at their edges", () => {
  const u64 = codec.bigint("uint64");
  assert.equal(u64.encode(2n ** 64n - 1n), "18446744073709551615");
  assert.equal(u64.decode("18446744073709551615"), 2n ** 64n - 1n);
  assert.throws(() => u64.encode(-1n), RangeError);
  assert.throws(() => u64.encode(1 as unknown as bigint), TypeError);
  assert.equal(codec.int("uint16").decode("1e3"), 1000);
  assert.throws(() => codec.int("uint8").decode("2.5"), RangeError);
  assert.throws(() => codec.int("uint8").decode(7), TypeError);
  assert.throws(() => codec.float("float").encode(1e39), RangeError);
  assert.equal(codec.float("double").encode(1e39), "1e+39");
  assert.throws(() => codec.boolean().decode("yes"), TypeError);
  assert.throws(() => codec.string().encode("viss-inline:Data-not-available"), RangeError);
  assert.throws(() => WaypointCodec.decode({ Name: "x", Point: { Latitude: "1" }, Priority: "1" }), /Longitude/);
});
