// VAPI v1.0, the COVESA Vehicle API, on top of this SDK's VISS client.
//
//   const vapi = new Vapi({ wss: "wss://car.local:6443", https: "https://car.local:8443" }, { ca });
//   await vapi.Connect(vapi.vehicleId, "wss", "");
//   const got = await vapi.Get(vapi.vehicleId, "Vehicle.Speed", "", "");
//   if (got.Status === ProcedureStatus.SUCCESSFUL) console.log(got.Data[0]?.SignalData[0]?.Value);
//   const seats = await vapi.GetPropertiesSeating(vapi.vehicleId);
//   await vapi.MoveSeat(vapi.vehicleId, { RowName: "Row1", ColumnName: "DriverSide" }, LONGITUDINAL, BACKWARD, "");
//
// Procedures keep the names, parameters and output members of the specification (`Get`,
// `vehicleId`, `stCredentials`, `GetOutput.Status`, `.Error`, `.Data`...). A procedure never
// rejects for a VISS error or a failure to reach the vehicle: it resolves to `Status: FAILED`
// with an `ErrorData` (Code = the VISS error number, Reason and Description as VISS words
// them; client-side failures use the VISS numbers that fit: 400 bad_request / invalid_data,
// 404 unavailable_data, 408 request_timeout, 429 too_many_requests, 503
// service_unavailable). Only programming errors and an aborted AbortSignal reject.
// The Python SDK's vapi.py has the same shape (snake_case options there, camelCase here).
//
// Mapping onto one VISS server (one Vapi object = one vehicle, `vapi.vehicleId`):
//
// * Common: `Connect(vehicleId, protocol, clientCredentials)` opens a VISS session over
//   "wss" (WebSocket), "https", "mqtt" (Node: through a broker, `mqtts://broker/<VID>`) or
//   "grpc" (Node: `grpcs://host:5443`), whichever URLs the Vapi was given; the first protocol
//   connected is the default until `SelectProtocol` picks another connected one.
//   `Disconnect` closes one session, `ReleaseVehicle` all of them (their services end without
//   further callbacks; a massage is switched off first, as nobody could once they are
//   closed). Credentials: with `accessControl` in the options (the ecosystem's AGTS and ATS,
//   CORE §8; see access.ts), `clientCredentials`, when not empty, is the client's proof of
//   identity and Connect answers the AGTS's access grant token as
//   `LtCredential` (a refused proof opens no session); `GetStCredentials(vehicleId,
//   ltCredentials, purpose)` trades it at the ATS for an access token, waiting for the
//   owner's consent where the purpose needs it. Without `accessControl`, `clientCredentials`,
//   when not empty, is the session's default VISS access token, `LtCredential` is "" and
//   GetStCredentials answers FAILED, 404. Every procedure's `stCredentials`, when not empty,
//   is sent as its requests' VISS `authorization`. `GetMetadata` is a VISS get with the metadata filter (whole subtree),
//   as JSON text. `CancelService` ends a subscription, stops a seat movement where it is, or
//   stops a massage.
// * Data: `Get`, `Set`, `Subscribe`, `Unsubscribe` are the VISS actions. `filter` is the VISS
//   filter expression as JSON text ("" = none; Subscribe's default is every change:
//   {"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}); `value` is the VISS value
//   as text ("42", "true"; a struct or array as JSON text: '{"Name":"x"}', '["1","2"]');
//   values come back the same way in `DataPoint.Value`. Subscribe needs wss, mqtt or grpc.
// * Seating: `GetPropertiesSeating` reads the metadata of `Vehicle.Cabin.Seat` at run time:
//   the seats are the branches two levels below it (row, then column: `Row1.DriverSide`) and
//   a seat supports the VAPI movement types for which it has a numeric actuator with min and
//   max: LONGITUDINAL `Position`, VERTICAL `Height`, BACKREST `Backrest.Recline`, LUMBAR
//   `Backrest.Lumbar.Support` or `Backrest.Lumbar`; and a massage type per numeric actuator
//   named `Massage` (its name is the relative path in lower case, e.g. "massage"; levels
//   from its `allowed` values or min..max). A Percentage maps linearly onto min..max (0 =
//   min: FORWARD, DOWN, FORWARD_RECLINE, DEFLATE). A tree without any of these signals makes
//   the seating procedures answer FAILED with Code 404, Reason "unavailable_data".
//   `MoveSeat` without a callback is synchronous: it sets the target and resolves when the
//   actuator's current value reaches it (followed by a change subscription over wss, by
//   polling over https), or FAILED after `moveTimeoutMs` (the seat is then stopped); an
//   aborted `signal` stops the seat too and rejects with the signal's reason. With a
//   callback it is asynchronous: it resolves to ONGOING with a ServiceId at once, the
//   callback gets ONGOING with each new position and a last SUCCESSFUL (or FAILED) output;
//   `CancelService` stops the seat at its current position (the target is set to the
//   current value) and the callback gets SUCCESSFUL with that position. `ActivateMassage`
//   sets the massage level for `intensity` and resolves to ONGOING with a ServiceId at
//   once; after `duration` seconds (0 = until CancelService) the massage is switched off
//   (its lowest level) and the callback, if any, gets SUCCESSFUL.
//
// Not implemented: GetVehicle (vehicle discovery), ServiceInquiry and Invoke have no
// counterpart on a VISS server (they are services of the vehicle's back end);
// the HVAC, exterior lighting and interior lighting service groups are placeholders ("xxx")
// in VAPI v1.0 and have no procedures to implement.

import { AccessControl, type AccessControlOptions } from "./access.js";
import { VissClient, VissClientError, VissError, type ClientOptions, type Subscription } from "./client.js";
import * as codec from "./codec.js";
import { Filter } from "./filter.js";

// ---------------------------------------------------------------------------------------------
// Datatypes of the specification

/** The outcome of a procedure call (or of the latest callback of a service). */
export const ProcedureStatus = {
  ONGOING: 1, // in execution of latest call
  SUCCESSFUL: 0, // terminated successfully in latest call
  FAILED: -1, // terminated due to failure in latest call
} as const;
export type ProcedureStatus = (typeof ProcedureStatus)[keyof typeof ProcedureStatus];

export interface ErrorData {
  Code: number;
  Reason: string;
  Description: string;
}

export interface DataPoint {
  Value: string;
  Timestamp: string;
}

export interface DataContainer {
  Path: string;
  SignalData: DataPoint[];
}

/** A float from 0 to 100. */
export type Percentage = number;

/** A seat: its row and column names, e.g. { RowName: "Row1", ColumnName: "DriverSide" }. */
export interface MatrixId {
  RowName: string;
  ColumnName: string;
}

export interface SupportData {
  Name: string;
  Description: string;
}

export interface ColumnData {
  Name: string;
  MovementSupport: SupportData[];
  MassageSupport: SupportData[];
}

export interface RowDef {
  RowName: string;
  Column: ColumnData[];
}

export type RaggedMatrix = RowDef[];

export interface GeneralOutput {
  Status: ProcedureStatus;
  Error?: ErrorData;
}

export interface ConnectOutput extends GeneralOutput {
  LtCredential: string;
}

export interface GetStCredentialsOutput extends GeneralOutput {
  StCredentials: string;
}

export interface GetMetadataOutput extends GeneralOutput {
  Metadata: string;
}

export interface GetOutput extends GeneralOutput {
  Data: DataContainer[];
}

export interface SubscribeOutput extends GeneralOutput {
  Data: DataContainer[];
  ServiceId: number;
}

export interface GetPropertiesSeatingOutput extends GeneralOutput {
  Properties: RaggedMatrix;
}

export interface MoveSeatOutput extends GeneralOutput {
  Position: Percentage;
  ServiceId: number;
}

export interface MassageOutput extends GeneralOutput {
  ServiceId: number;
}

// Movement types.
export const LONGITUDINAL = "longitudinal"; // Forward-backward direction of the vehicle
export const VERTICAL = "vertical"; // Up-down direction of the vehicle
export const BACKREST = "backrest"; // Seat backrest angular
export const LUMBAR = "lumbar"; // Seat inflate-deflate lumbar

// Movement directions, as Percentage end points.
export const FORWARD = 0; // longitudinal movement
export const BACKWARD = 100; // longitudinal movement
export const UP = 100; // vertical movement
export const DOWN = 0; // vertical movement
export const INFLATE = 100; // lumbar movement
export const DEFLATE = 0; // lumbar movement
export const FORWARD_RECLINE = 0; // backrest movement
export const BACKWARD_RECLINE = 100; // backrest movement

/** The protocols a Vapi speaks: the VISS transports of this SDK. */
export const PROTOCOLS = ["wss", "https", "mqtt", "grpc"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export type SubscribeCallback = (output: SubscribeOutput) => void;
export type MoveSeatCallback = (output: MoveSeatOutput) => void;
export type MassageCallback = (output: MassageOutput) => void;

const SEATING = "Vehicle.Cabin.Seat";
// [movement type, relative paths below a seat in order of preference, description]
const MOVEMENTS: readonly [string, readonly string[], string][] = [
  [LONGITUDINAL, ["Position"], "Forward-backward direction of the vehicle"],
  [VERTICAL, ["Height"], "Up-down direction of the vehicle"],
  [BACKREST, ["Backrest.Recline"], "Seat backrest angular"],
  [LUMBAR, ["Backrest.Lumbar.Support", "Backrest.Lumbar"], "Seat inflate-deflate lumbar"],
];
const INTEGERS = new Set(["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]);
const FLOATS = new Set(["float", "double"]);
const UINT32_MAX = 2 ** 32 - 1;

// ---------------------------------------------------------------------------------------------
// Errors as ErrorData

function error(code: number, reason: string, description: string): ErrorData {
  return { Code: code, Reason: reason, Description: description };
}

/** The ErrorData of a failed VISS call (or of a value the SDK refused before sending). */
function errorOf(failure: unknown): ErrorData {
  if (failure instanceof VissError) {
    return error(/^\d+$/.test(failure.number) ? Number(failure.number) : 0, failure.reason, failure.description);
  }
  if (failure instanceof VissClientError) {
    switch (failure.code) {
      case "timeout": return error(408, "request_timeout", failure.message);
      case "too_many_pending": return error(429, "too_many_requests", failure.message);
      case "unsupported": return error(400, "bad_request", failure.message);
      default: return error(503, "service_unavailable", failure.message);
    }
  }
  if (failure instanceof RangeError || failure instanceof TypeError || failure instanceof SyntaxError) {
    return error(400, "invalid_data", failure.message);
  }
  return error(503, "service_unavailable", failure instanceof Error ? failure.message : String(failure));
}

function unsupported(what: string): ErrorData {
  return error(404, "unavailable_data", `the vehicle does not support ${what}`);
}

function noService(serviceId: number): ErrorData {
  return error(404, "unavailable_data", `no ongoing service with ServiceId ${serviceId}`);
}

function failed<T extends GeneralOutput>(problem: ErrorData, rest: Omit<T, "Status" | "Error">): T {
  return { Status: ProcedureStatus.FAILED, Error: problem, ...rest } as T;
}

function notify<T>(callback: ((output: T) => void) | undefined, output: T): void {
  if (callback === undefined) return;
  try {
    callback(output);
  } catch (thrown) {
    console.error("a VAPI callback failed", thrown);
  }
}

// ---------------------------------------------------------------------------------------------
// Values

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A VISS value as VAPI text: a scalar's string as it is, anything else as JSON. */
function valueText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** VAPI value text to a VISS value: JSON text of an array or object is that structure,
 * anything else is the scalar string itself. */
function wireValue(text: string): unknown {
  const stripped = text.trim();
  if (stripped.startsWith("[") || stripped.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(stripped);
      if (typeof parsed === "object" && parsed !== null) return parsed;
    } catch {
      return text;
    }
  }
  return text;
}

/** The `data` member of a VISS answer or event (object or array; dp object or array). */
function containers(data: unknown): DataContainer[] {
  return (Array.isArray(data) ? data : [data]).filter(isObject).map((item) => {
    const dp = item["dp"];
    const points = (Array.isArray(dp) ? dp : [dp]).filter(isObject).filter((point) => "value" in point);
    return {
      Path: String(item["path"] ?? ""),
      SignalData: points.map((point) => ({ Value: valueText(point["value"]), Timestamp: String(point["ts"] ?? "") })),
    };
  });
}

function parseFilter(text: string): Filter | undefined {
  if (text.trim() === "") return undefined;
  const parsed: unknown = JSON.parse(text);
  if (isObject(parsed) || (Array.isArray(parsed) && parsed.length > 0 && parsed.every(isObject))) return parsed as Filter;
  throw new TypeError(`a filter is a JSON object or array of objects, got ${JSON.stringify(text)}`);
}

function variants(filter: Filter): string[] {
  return (Array.isArray(filter) ? filter : [filter]).map((item) => String((item as { variant?: unknown }).variant));
}

function isPercentage(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 100;
}

function numberOf(text: unknown): number | undefined {
  if (typeof text !== "string" && typeof text !== "number") return undefined;
  if (typeof text === "string" && text.trim() === "") return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

// ---------------------------------------------------------------------------------------------
// The seating model, discovered from metadata

/** A numeric actuator of a seat and the codec of its values. */
class Actuator {
  private readonly codec: codec.Codec<any>;

  constructor(readonly path: string, readonly datatype: string, readonly low: number, readonly high: number,
              min: number | undefined, max: number | undefined) {
    if (datatype === "int64" || datatype === "uint64") {
      this.codec = codec.bigint(datatype, min === undefined ? undefined : BigInt(Math.ceil(min)),
        max === undefined ? undefined : BigInt(Math.floor(max)));
    } else if (INTEGERS.has(datatype)) {
      this.codec = codec.int(datatype as codec.IntType, min === undefined ? undefined : Math.ceil(min),
        max === undefined ? undefined : Math.floor(max));
    } else {
      this.codec = codec.float(datatype as codec.FloatType, min, max);
    }
  }

  decode(wire: unknown): number {
    const number = numberOf(wire);
    if (number === undefined) throw new TypeError(`${this.path}: ${JSON.stringify(wire)} is not a number`);
    return number;
  }

  /** The value checked against the node's limits, before anything is sent. */
  encode(value: number): unknown {
    if (this.datatype === "int64" || this.datatype === "uint64") return this.codec.encode(BigInt(Math.round(value)));
    return this.codec.encode(INTEGERS.has(this.datatype) ? Math.round(value) : value);
  }
}

/** A movement type of a seat: an actuator whose min..max is 0..100 %. */
class Axis {
  constructor(readonly movement: string, readonly description: string, readonly actuator: Actuator) {}

  get tolerance(): number {
    return Math.max((this.actuator.high - this.actuator.low) * 0.005, 1e-9);
  }

  valueAt(percent: number): number {
    const { low, high } = this.actuator;
    const value = low + ((high - low) * percent) / 100;
    return INTEGERS.has(this.actuator.datatype) ? Math.round(value) : value;
  }

  percentOf(value: number): Percentage {
    const { low, high } = this.actuator;
    return Math.min(100, Math.max(0, ((value - low) / (high - low)) * 100));
  }

  reached(value: number, target: number): boolean {
    return Math.abs(value - target) <= this.tolerance;
  }
}

/** A massage type of a seat: its levels, lowest (off) first. */
class Massage {
  constructor(readonly name: string, readonly description: string, readonly actuator: Actuator,
              /** The allowed levels, sorted; empty: any value in low..high. */
              readonly levels: number[]) {}

  get off(): number {
    return this.levels[0] ?? this.actuator.low;
  }

  /** 0 % is off; any other intensity at least the lowest level above off. */
  levelAt(intensity: number): number {
    if (this.levels.length > 0) {
      const steps = this.levels.length - 1;
      return this.levels[Math.min(steps, Math.ceil((intensity / 100) * steps))] ?? this.off;
    }
    const { low, high } = this.actuator;
    const value = low + ((high - low) * intensity) / 100;
    return INTEGERS.has(this.actuator.datatype) ? Math.ceil(value) : value;
  }
}

interface Seat {
  row: string;
  column: string;
  axes: Map<string, Axis>;
  massages: Map<string, Massage>;
}

type Metadata = Record<string, unknown>;

/** The leaves below a metadata node's children, by relative path. */
function leaves(children: unknown, prefix = ""): Map<string, Metadata> {
  const found = new Map<string, Metadata>();
  if (!isObject(children)) return found;
  for (const [name, node] of Object.entries(children)) {
    if (!isObject(node)) continue;
    const path = `${prefix}${name}`;
    if (isObject(node["children"])) {
      for (const [relative, leaf] of leaves(node["children"], `${path}.`)) found.set(relative, leaf);
    } else {
      found.set(path, node);
    }
  }
  return found;
}

/** A numeric actuator (with min < max when `needLimits`), or undefined when `meta` is not one. */
function actuatorOf(path: string, meta: Metadata, needLimits: boolean): Actuator | undefined {
  const datatype = meta["datatype"];
  if (meta["type"] !== "actuator" || typeof datatype !== "string" || !(INTEGERS.has(datatype) || FLOATS.has(datatype))) {
    return undefined;
  }
  const min = numberOf(meta["min"]);
  const max = numberOf(meta["max"]);
  if (needLimits && (min === undefined || max === undefined || !(min < max))) return undefined;
  return new Actuator(path, datatype, min ?? 0, max ?? 0, min, max);
}

function seatOf(branch: string, row: string, column: string, children: unknown): Seat {
  const found = leaves(children);
  const base = `${branch}.${row}.${column}`;
  const axes = new Map<string, Axis>();
  for (const [movement, candidates, description] of MOVEMENTS) {
    for (const relative of candidates) {
      const meta = found.get(relative);
      const actuator = meta === undefined ? undefined : actuatorOf(`${base}.${relative}`, meta, true);
      if (actuator !== undefined) {
        axes.set(movement, new Axis(movement, description, actuator));
        break;
      }
    }
  }
  const massages = new Map<string, Massage>();
  for (const [relative, meta] of found) {
    const segments = relative.split(".");
    if (segments[segments.length - 1] !== "Massage" || segments.includes("Switch")) continue;
    const allowed = Array.isArray(meta["allowed"]) ? meta["allowed"] : [];
    const levels = allowed.map(numberOf).filter((level): level is number => level !== undefined).sort((a, b) => a - b);
    const actuator = actuatorOf(`${base}.${relative}`, meta, levels.length === 0);
    if (actuator === undefined) continue;
    const name = relative.toLowerCase();
    const description = typeof meta["description"] === "string" && meta["description"] !== "" ? meta["description"] : relative;
    massages.set(name, new Massage(name, description, actuator, levels));
  }
  return { row, column, axes, massages };
}

/** The seats of a metadata answer for `branch`: rows, then columns, that support at least one
 * movement or massage. */
function seating(branch: string, metadata: unknown): Seat[] {
  const root = isObject(metadata) ? metadata[branch.split(".").pop() ?? branch] : undefined;
  const rows = isObject(root) ? root["children"] : undefined;
  const seats: Seat[] = [];
  if (!isObject(rows)) return seats;
  for (const [row, rowNode] of Object.entries(rows)) {
    const columns = isObject(rowNode) ? rowNode["children"] : undefined;
    if (!isObject(columns)) continue;
    for (const [column, columnNode] of Object.entries(columns)) {
      if (!isObject(columnNode) || !isObject(columnNode["children"])) continue;
      const seat = seatOf(branch, row, column, columnNode["children"]);
      if (seat.axes.size > 0 || seat.massages.size > 0) seats.push(seat);
    }
  }
  return seats;
}

function properties(seats: Seat[]): RaggedMatrix {
  const rows = new Map<string, ColumnData[]>();
  for (const seat of seats) {
    let columns = rows.get(seat.row);
    if (columns === undefined) {
      columns = [];
      rows.set(seat.row, columns);
    }
    columns.push({
      Name: seat.column,
      MovementSupport: [...seat.axes.values()].map((axis) => ({ Name: axis.movement, Description: axis.description })),
      MassageSupport: [...seat.massages.values()].map((massage) => ({ Name: massage.name, Description: massage.description })),
    });
  }
  return [...rows].map(([RowName, Column]) => ({ RowName, Column }));
}

// ---------------------------------------------------------------------------------------------
// Sessions: a client and the token of the procedure that uses it

class Session {
  constructor(readonly client: VissClient, private readonly token: string | undefined) {}

  /** Runs one VISS call with this procedure's token (the client reads it synchronously). */
  call<T>(request: (client: VissClient) => Promise<T>): Promise<T> {
    this.client.authorize(this.token);
    return request(this.client);
  }

  /** Whether the transport carries subscriptions (HTTP does not). */
  get streams(): boolean {
    return this.client.transport !== "https" && this.client.transport !== "http";
  }
}

// ---------------------------------------------------------------------------------------------
// Following an actuator's current value

const TIMED_OUT = Symbol("timed out");

/** A queue whose reader waits, at most a given time, for the next item. */
class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.items.push(item);
  }

  next(timeoutMs: number, signal?: AbortSignal): Promise<T | typeof TIMED_OUT> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise((resolve, reject) => {
      const waiter = (item: T): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(item);
      };
      const drop = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
      };
      const timer = setTimeout(() => {
        drop();
        signal?.removeEventListener("abort", onAbort);
        resolve(TIMED_OUT);
      }, Math.max(0, Math.min(timeoutMs, 2_147_483_647)));
      const onAbort = (): void => {
        drop();
        clearTimeout(timer);
        reject(signal?.reason);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }
}

/** The current values of one numeric actuator, in order, as they change: a change
 * subscription over WebSocket, polling over HTTPS. A VissError in the queue ends it. */
class Watch {
  readonly queue = new Queue<number | VissError>();
  private subscription: Subscription | undefined;
  private poller: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly session: Session, private readonly actuator: Actuator, private readonly pollIntervalMs: number) {}

  async start(): Promise<void> {
    if (this.session.streams) {
      this.subscription = await this.session.call((client) => client.subscribe(
        this.actuator.path, Filter.change("ne", 0), (data) => this.onEvent(data), (ended) => this.queue.push(ended)));
    } else {
      this.schedulePoll(undefined);
    }
  }

  private onEvent(data: unknown): void {
    for (const container of containers(data)) {
      for (const point of container.SignalData) {
        const number = numberOf(point.Value);
        if (number !== undefined) this.queue.push(number);
      }
    }
  }

  private schedulePoll(last: number | undefined): void {
    if (this.stopped) return;
    this.poller = setTimeout(() => void this.poll(last), this.pollIntervalMs);
  }

  private async poll(last: number | undefined): Promise<void> {
    let answer: unknown;
    try {
      answer = await this.session.call((client) => client.get(this.actuator.path));
    } catch (failure) {
      if (this.stopped) return;
      const data = errorOf(failure);
      this.queue.push(failure instanceof VissError ? failure
        : new VissError({ number: String(data.Code), reason: data.Reason, description: data.Description }, "get"));
      return;
    }
    if (this.stopped) return;
    for (const container of containers(isObject(answer) ? answer["data"] : undefined)) {
      for (const point of container.SignalData) {
        const number = numberOf(point.Value);
        if (number !== undefined && number !== last) {
          last = number;
          this.queue.push(number);
        }
      }
    }
    this.schedulePoll(last);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poller !== undefined) clearTimeout(this.poller);
    this.poller = undefined;
    const subscription = this.subscription;
    this.subscription = undefined;
    try {
      await subscription?.unsubscribe();
    } catch {
      // The subscription is gone with its connection anyway.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Services: what a ServiceId names

interface Service {
  readonly serviceId: number;
  readonly protocol: Protocol;
  /** CancelService: ends the service in its current state. */
  cancel(): Promise<GeneralOutput>;
  /** Disconnect: ends the service without callbacks. */
  drop(): Promise<void>;
}

class SubscriptionService implements Service {
  constructor(readonly serviceId: number, readonly protocol: Protocol, private readonly subscription: Subscription) {}

  async cancel(): Promise<GeneralOutput> {
    try {
      await this.subscription.unsubscribe();
    } catch (failure) {
      return failed<GeneralOutput>(errorOf(failure), {});
    }
    return { Status: ProcedureStatus.SUCCESSFUL };
  }

  async drop(): Promise<void> {
    try {
      await this.subscription.unsubscribe();
    } catch {
      // gone anyway
    }
  }
}

/** One MoveSeat: an axis, its target, the watch on its current value. */
class Move implements Service {
  current = Number.NaN;
  finished = false;
  /** The background follower of an asynchronous move. */
  task: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(readonly serviceId: number, readonly protocol: Protocol, readonly session: Session, readonly axis: Axis,
              readonly target: number, readonly watch: Watch, readonly callback: MoveSeatCallback | undefined) {}

  output(status: ProcedureStatus, problem?: ErrorData): MoveSeatOutput {
    const position = Number.isFinite(this.current) ? this.axis.percentOf(this.current) : 0;
    const output: MoveSeatOutput = { Status: status, Position: position, ServiceId: this.serviceId };
    if (problem !== undefined) output.Error = problem;
    return output;
  }

  /** Until the current value reaches the target (or the watch fails, or `deadline`). */
  async follow(deadline: number, progress: boolean, signal?: AbortSignal): Promise<MoveSeatOutput> {
    // The caller's signal (a synchronous move) stops the wait like CancelService does.
    const forward = (): void => this.stopping.abort(signal?.reason);
    if (signal?.aborted) forward();
    signal?.addEventListener("abort", forward, { once: true });
    try {
      return await this.followUntilThere(deadline, progress);
    } finally {
      signal?.removeEventListener("abort", forward);
    }
  }

  private async followUntilThere(deadline: number, progress: boolean): Promise<MoveSeatOutput> {
    const stop = this.stopping.signal;
    while (!(Number.isFinite(this.current) && this.axis.reached(this.current, this.target))) {
      const item = await this.watch.queue.next(deadline - Date.now(), stop);
      if (item === TIMED_OUT) {
        await this.halt();
        const description = `${this.axis.actuator.path} did not reach ${this.target} in time`;
        return this.output(ProcedureStatus.FAILED, error(408, "request_timeout", description));
      }
      if (item instanceof VissError) return this.output(ProcedureStatus.FAILED, errorOf(item));
      this.current = item;
      if (progress && !this.axis.reached(item, this.target)) notify(this.callback, this.output(ProcedureStatus.ONGOING));
    }
    return this.output(ProcedureStatus.SUCCESSFUL);
  }

  /** Stops the seat where it is: its target becomes its current value. */
  async halt(): Promise<ErrorData | undefined> {
    try {
      const answer: unknown = await this.session.call((client) => client.get(this.axis.actuator.path));
      const points = containers(isObject(answer) ? answer["data"] : undefined).flatMap((c) => c.SignalData);
      const latest = points[points.length - 1];
      if (latest === undefined) throw new VissError({ number: "404", reason: "unavailable_data", description: "no current value" }, "get");
      this.current = this.axis.actuator.decode(latest.Value);
      const wire = this.axis.actuator.encode(this.current);
      await this.session.call((client) => client.set(this.axis.actuator.path, wire));
    } catch (failure) {
      return errorOf(failure);
    }
    return undefined;
  }

  /** Ends the background follower (it resolves; its outcome is no longer reported). */
  private async endTask(): Promise<void> {
    this.finished = true;
    this.stopping.abort(new Error("cancelled"));
    await this.task?.catch(() => undefined);
  }

  async cancel(): Promise<GeneralOutput> {
    await this.endTask();
    const problem = await this.halt();
    await this.watch.stop();
    if (problem !== undefined) {
      notify(this.callback, this.output(ProcedureStatus.FAILED, problem));
      return failed<GeneralOutput>(problem, {});
    }
    notify(this.callback, this.output(ProcedureStatus.SUCCESSFUL));
    return { Status: ProcedureStatus.SUCCESSFUL };
  }

  async drop(): Promise<void> {
    await this.endTask();
    await this.watch.stop();
  }
}

class MassageRun implements Service {
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly serviceId: number, readonly protocol: Protocol, private readonly session: Session,
              private readonly massage: Massage, private readonly callback: MassageCallback | undefined) {}

  async switchOff(): Promise<ErrorData | undefined> {
    const actuator = this.massage.actuator;
    try {
      const wire = actuator.encode(this.massage.off);
      await this.session.call((client) => client.set(actuator.path, wire));
    } catch (failure) {
      return errorOf(failure);
    }
    return undefined;
  }

  finish(problem: ErrorData | undefined): GeneralOutput {
    const output: MassageOutput = { Status: problem === undefined ? ProcedureStatus.SUCCESSFUL : ProcedureStatus.FAILED, ServiceId: this.serviceId };
    if (problem !== undefined) output.Error = problem;
    notify(this.callback, output);
    return problem === undefined ? { Status: ProcedureStatus.SUCCESSFUL } : failed<GeneralOutput>(problem, {});
  }

  async cancel(): Promise<GeneralOutput> {
    this.stopTimer();
    return this.finish(await this.switchOff());
  }

  /** Switched off without a callback: nobody could stop it once its session is gone. */
  async drop(): Promise<void> {
    this.stopTimer();
    const problem = await this.switchOff();
    if (problem !== undefined) console.warn(`switching ${this.massage.actuator.path} off failed: ${problem.Description}`);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The API

export interface VapiOptions {
  /** PEM certificate(s) to trust for wss:// (https:// in Node: NODE_EXTRA_CA_CERTS). */
  ca?: string;
  /** Bounds every VISS request; default 10 000 ms. */
  timeoutMs?: number;
  /** This vehicle's id in the procedures; default 1. */
  vehicleId?: number;
  /** Bounds a MoveSeat; default 60 000 ms. */
  moveTimeoutMs?: number;
  /** How often a movement is polled over https; default 100 ms. */
  pollIntervalMs?: number;
  /** Where the seats are; default "Vehicle.Cabin.Seat". */
  seatingBranch?: string;
  /** The access-control servers (AGTS and ATS) of the vehicle's ecosystem, if it has them:
   * Connect then answers a long-term credential and GetStCredentials works. */
  accessControl?: AccessControlOptions;
  /** Passed on to the VISS client (tests, other runtimes). */
  WebSocket?: unknown;
  reconnect?: ClientOptions["reconnect"];
}

/** VAPI v1.0 procedures for the one vehicle served by a VISS server. */
export class Vapi {
  readonly endpoints: Partial<Record<Protocol, string>>;
  readonly vehicleId: number;
  private readonly clients = new Map<Protocol, VissClient>();
  private readonly tokens = new Map<Protocol, string | undefined>();
  private defaultProtocol: Protocol | undefined;
  private readonly services = new Map<number, Service>();
  /** Service starts in flight by protocol, which Disconnect waits for (see `starting`). */
  private readonly starts = new Map<Protocol, Set<Promise<unknown>>>();
  private lastId = 0;
  private readonly seats = new Map<Protocol, Seat[]>();
  private readonly moveTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly seatingBranch: string;
  private readonly access: AccessControl | undefined;

  /** `endpoints` maps the protocols offered ("wss", "https") to their URLs. */
  constructor(endpoints: Partial<Record<Protocol, string>>, private readonly options: VapiOptions = {}) {
    const unknown = Object.keys(endpoints).filter((key) => !(PROTOCOLS as readonly string[]).includes(key));
    if (unknown.length > 0) throw new TypeError(`unknown protocols ${unknown.join(", ")}: use ${PROTOCOLS.join(", ")}`);
    this.endpoints = { ...endpoints };
    this.vehicleId = options.vehicleId ?? 1;
    this.moveTimeoutMs = options.moveTimeoutMs ?? 60_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.seatingBranch = options.seatingBranch ?? SEATING;
    this.access = options.accessControl === undefined ? undefined : new AccessControl(options.accessControl);
  }

  /** The default protocol ("wss" or "https"), undefined before the first Connect. */
  get protocol(): Protocol | undefined {
    return this.defaultProtocol;
  }

  // --- common procedures ---------------------------------------------------------------------

  /** Opens a session over `protocol`; the first one becomes the default protocol. With
   * `accessControl`, a non-empty `clientCredentials` is the client's proof for the AGTS and
   * `LtCredential` the access grant token it answers; without, it is the session's token. */
  async Connect(vehicleId: number, protocol: string, clientCredentials = ""): Promise<ConnectOutput> {
    const problem = this.checkVehicle(vehicleId) ?? this.checkProtocol(protocol);
    if (problem !== undefined) return failed<ConnectOutput>(problem, { LtCredential: "" });
    const chosen = protocol as Protocol;
    let granted = "";
    if (this.access !== undefined && clientCredentials !== "") {
      try {
        granted = await this.access.grant(clientCredentials);
      } catch (failure) {
        return failed<ConnectOutput>(errorOf(failure), { LtCredential: "" });
      }
    }
    const token = clientCredentials === "" || granted !== "" ? undefined : clientCredentials;
    this.tokens.set(chosen, token);
    if (!this.clients.has(chosen)) {
      try {
        this.clients.set(chosen, await VissClient.connect({
          url: this.endpoints[chosen] ?? "", ca: this.options.ca, timeoutMs: this.options.timeoutMs,
          authorization: token, WebSocket: this.options.WebSocket, reconnect: this.options.reconnect,
        }));
      } catch (failure) {
        return failed<ConnectOutput>(errorOf(failure), { LtCredential: "" });
      }
    }
    this.defaultProtocol ??= chosen;
    return { Status: ProcedureStatus.SUCCESSFUL, LtCredential: granted };
  }

  /** An access token for `purpose` from the ATS, given the long-term credential Connect
   * answered; waits for the owner's consent where the purpose needs it. Needs `accessControl`. */
  async GetStCredentials(vehicleId: number, ltCredentials: string, purpose: string): Promise<GetStCredentialsOutput> {
    const problem = this.checkVehicle(vehicleId);
    if (problem !== undefined) return failed<GetStCredentialsOutput>(problem, { StCredentials: "" });
    if (this.access === undefined) {
      const missing = error(404, "unavailable_data", "no access-control server is configured (VapiOptions.accessControl)");
      return failed<GetStCredentialsOutput>(missing, { StCredentials: "" });
    }
    try {
      return { Status: ProcedureStatus.SUCCESSFUL, StCredentials: await this.access.accessToken(ltCredentials, purpose) };
    } catch (failure) {
      return failed<GetStCredentialsOutput>(errorOf(failure), { StCredentials: "" });
    }
  }

  /** Closes the session over `protocol`; services running over it end silently. */
  async Disconnect(vehicleId: number, protocol: string): Promise<GeneralOutput> {
    const problem = this.checkVehicle(vehicleId) ?? this.checkProtocol(protocol);
    if (problem !== undefined) return failed<GeneralOutput>(problem, {});
    const chosen = protocol as Protocol;
    const client = this.clients.get(chosen);
    if (client === undefined) return failed<GeneralOutput>(error(400, "bad_request", `not connected over ${protocol}`), {});
    this.clients.delete(chosen);
    // Before any await: a procedure running meanwhile must not find the session half gone.
    this.seats.delete(chosen);
    if (this.defaultProtocol === chosen) this.defaultProtocol = this.clients.keys().next().value;
    // Services being started over it register first, and so end with it below.
    await Promise.allSettled([...(this.starts.get(chosen) ?? [])]);
    for (const service of [...this.services.values()].filter((s) => s.protocol === chosen)) {
      this.services.delete(service.serviceId);
      await service.drop();
    }
    await client.close();
    return { Status: ProcedureStatus.SUCCESSFUL };
  }

  /** Closes the sessions over every protocol. */
  async ReleaseVehicle(vehicleId: number): Promise<GeneralOutput> {
    const problem = this.checkVehicle(vehicleId);
    if (problem !== undefined) return failed<GeneralOutput>(problem, {});
    for (const protocol of [...this.clients.keys()]) await this.Disconnect(vehicleId, protocol);
    return { Status: ProcedureStatus.SUCCESSFUL };
  }

  /** Makes a connected protocol the one later procedures use. */
  async SelectProtocol(vehicleId: number, protocol: string): Promise<GeneralOutput> {
    const problem = this.checkVehicle(vehicleId) ?? this.checkProtocol(protocol);
    if (problem !== undefined) return failed<GeneralOutput>(problem, {});
    if (!this.clients.has(protocol as Protocol)) {
      return failed<GeneralOutput>(error(400, "bad_request", `Connect over ${protocol} before selecting it`), {});
    }
    this.defaultProtocol = protocol as Protocol;
    return { Status: ProcedureStatus.SUCCESSFUL };
  }

  /** The metadata of the subtree at `path`, as JSON text. */
  async GetMetadata(vehicleId: number, path: string, stCredentials = ""): Promise<GetMetadataOutput> {
    const [session, problem] = this.session(vehicleId, stCredentials);
    if (session === undefined) return failed<GetMetadataOutput>(problem, { Metadata: "" });
    try {
      const answer: unknown = await session.call((client) => client.get(path, Filter.metadata(0)));
      return { Status: ProcedureStatus.SUCCESSFUL, Metadata: JSON.stringify(isObject(answer) ? answer["metadata"] : null) };
    } catch (failure) {
      return failed<GetMetadataOutput>(errorOf(failure), { Metadata: "" });
    }
  }

  /** Ends an ongoing service in its current state: a subscription is ended, a seat stops where
   * it is, a massage is switched off. */
  async CancelService(vehicleId: number, serviceId: number): Promise<GeneralOutput> {
    const problem = this.checkVehicle(vehicleId);
    if (problem !== undefined) return failed<GeneralOutput>(problem, {});
    const service = this.services.get(serviceId);
    if (service === undefined) return failed<GeneralOutput>(noService(serviceId), {});
    this.services.delete(serviceId);
    return service.cancel();
  }

  // --- data procedures -----------------------------------------------------------------------

  /** The latest value(s) of the signal(s) `path` (and `filter`, e.g. paths or history) addresses. */
  async Get(vehicleId: number, path: string, filter = "", stCredentials = ""): Promise<GetOutput> {
    const [session, problem] = this.session(vehicleId, stCredentials);
    if (session === undefined) return failed<GetOutput>(problem, { Data: [] });
    try {
      const chosen = parseFilter(filter);
      if (chosen !== undefined && variants(chosen).includes("metadata")) {
        return failed<GetOutput>(error(400, "bad_request", "the metadata filter belongs to GetMetadata"), { Data: [] });
      }
      const answer: unknown = await session.call((client) => client.get(path, chosen));
      return { Status: ProcedureStatus.SUCCESSFUL, Data: containers(isObject(answer) ? answer["data"] : undefined) };
    } catch (failure) {
      return failed<GetOutput>(errorOf(failure), { Data: [] });
    }
  }

  /** Provides `value` to the actuator `path` (the status says the vehicle took it, not that the
   * actuator got there). */
  async Set(vehicleId: number, path: string, value: string, stCredentials = ""): Promise<GeneralOutput> {
    const [session, problem] = this.session(vehicleId, stCredentials);
    if (session === undefined) return failed<GeneralOutput>(problem, {});
    if (typeof value !== "string") {
      return failed<GeneralOutput>(error(400, "invalid_data", `a VAPI value is a string, got ${typeof value}`), {});
    }
    try {
      await session.call((client) => client.set(path, wireValue(value)));
      return { Status: ProcedureStatus.SUCCESSFUL };
    } catch (failure) {
      return failed<GeneralOutput>(errorOf(failure), {});
    }
  }

  /** Starts a subscription: ONGOING with its ServiceId at once; `callback` gets ONGOING with the
   * Data of every event, or FAILED with the error that ended it. */
  async Subscribe(vehicleId: number, path: string, filter: string, stCredentials: string,
                  callback: SubscribeCallback): Promise<SubscribeOutput> {
    const [session, problem] = this.session(vehicleId, stCredentials);
    if (session === undefined) return failed<SubscribeOutput>(problem, { Data: [], ServiceId: 0 });
    if (!session.streams) {
      return failed<SubscribeOutput>(error(400, "bad_request",
        `Subscribe is not available over ${this.defaultProtocol ?? ""}: Connect and SelectProtocol wss, mqtt or grpc`), { Data: [], ServiceId: 0 });
    }
    const serviceId = this.nextId();
    const protocol = this.currentProtocol();
    return this.starting(protocol, async (): Promise<SubscribeOutput> => {
      try {
        const chosen = parseFilter(filter) ?? Filter.change("ne", 0);
        const subscription = await session.call((client) => client.subscribe(path, chosen,
          (data) => notify(callback, { Status: ProcedureStatus.ONGOING, Data: containers(data), ServiceId: serviceId }),
          (ended) => {
            this.services.delete(serviceId);
            notify(callback, { Status: ProcedureStatus.FAILED, Error: errorOf(ended), Data: [], ServiceId: serviceId });
          }));
        this.services.set(serviceId, new SubscriptionService(serviceId, protocol, subscription));
      } catch (failure) {
        return failed<SubscribeOutput>(errorOf(failure), { Data: [], ServiceId: 0 });
      }
      return { Status: ProcedureStatus.ONGOING, Data: [], ServiceId: serviceId };
    });
  }

  /** Ends the subscription `serviceId`. */
  async Unsubscribe(vehicleId: number, serviceId: number): Promise<GeneralOutput> {
    const problem = this.checkVehicle(vehicleId);
    if (problem !== undefined) return failed<GeneralOutput>(problem, {});
    const service = this.services.get(serviceId);
    if (!(service instanceof SubscriptionService)) return failed<GeneralOutput>(noService(serviceId), {});
    this.services.delete(serviceId);
    return service.cancel();
  }

  // --- seating -------------------------------------------------------------------------------

  /** The seats and the movements and massages each supports, read from the vehicle's metadata
   * now (FAILED, Code 404, when it has no seating service). */
  async GetPropertiesSeating(vehicleId: number): Promise<GetPropertiesSeatingOutput> {
    const [session, problem] = this.session(vehicleId, "");
    if (session === undefined) return failed<GetPropertiesSeatingOutput>(problem, { Properties: [] });
    const [seats, trouble] = await this.discover(session, true);
    if (trouble !== undefined) return failed<GetPropertiesSeatingOutput>(trouble, { Properties: [] });
    return { Status: ProcedureStatus.SUCCESSFUL, Properties: properties(seats) };
  }

  /**
   * Moves a seat along `movementType` to `position` %: synchronously without a callback
   * (resolves when there), asynchronously with one (resolves to ONGOING and a ServiceId at
   * once; CancelService stops it where it is). Aborting `opts.signal` stops a synchronous
   * move where it is and rejects with the signal's reason.
   */
  async MoveSeat(vehicleId: number, seatId: MatrixId, movementType: string, position: Percentage,
                 stCredentials = "", callback?: MoveSeatCallback, opts: { signal?: AbortSignal } = {}): Promise<MoveSeatOutput> {
    const none = { Position: 0, ServiceId: 0 };
    const [session, problem] = this.session(vehicleId, stCredentials);
    if (session === undefined) return failed<MoveSeatOutput>(problem, none);
    if (!isPercentage(position)) {
      return failed<MoveSeatOutput>(error(400, "invalid_data", `position must be a Percentage (0..100), got ${String(position)}`), none);
    }
    const protocol = this.currentProtocol();
    const begun = await this.starting(protocol, async (): Promise<MoveSeatOutput | (() => Promise<MoveSeatOutput>)> => {
      const [seat, trouble] = await this.findSeat(session, seatId);
      if (seat === undefined) return failed<MoveSeatOutput>(trouble, none);
      const axis = seat.axes.get(movementType);
      if (axis === undefined) {
        return failed<MoveSeatOutput>(unsupported(`the ${JSON.stringify(movementType)} movement of seat ${seatId.RowName}.${seatId.ColumnName}`), none);
      }
      const move = new Move(this.nextId(), protocol, session, axis, axis.valueAt(position),
        new Watch(session, axis.actuator, this.pollIntervalMs), callback);
      const deadline = Date.now() + this.moveTimeoutMs;
      try {
        await move.watch.start();
      } catch (failure) {
        return move.output(ProcedureStatus.FAILED, errorOf(failure));
      }
      try {
        const wire = axis.actuator.encode(move.target);
        await session.call((client) => client.set(axis.actuator.path, wire));
        const answer: unknown = await session.call((client) => client.get(axis.actuator.path));
        const points = containers(isObject(answer) ? answer["data"] : undefined).flatMap((c) => c.SignalData);
        const latest = points[points.length - 1];
        if (latest !== undefined) move.current = axis.actuator.decode(latest.Value);
      } catch (failure) {
        await move.watch.stop();
        return move.output(ProcedureStatus.FAILED, errorOf(failure));
      }
      // A synchronous move is no registered service: Disconnect need not wait for it (its
      // client closing fails it).
      if (callback === undefined) return () => this.moveNow(move, deadline, opts.signal);
      this.services.set(move.serviceId, move);
      move.task = this.moveInBackground(move, deadline);
      return move.output(ProcedureStatus.ONGOING);
    });
    return typeof begun === "function" ? begun() : begun;
  }

  /** Massages at `intensity` % for `duration` seconds (0: until CancelService); resolves to
   * ONGOING and a ServiceId once the level is set; `callback` gets the end. */
  async ActivateMassage(vehicleId: number, seatId: MatrixId, massageType: string, intensity: Percentage, duration: number,
                        stCredentials = "", callback?: MassageCallback): Promise<MassageOutput> {
    const none = { ServiceId: 0 };
    const [session, problem] = this.session(vehicleId, stCredentials);
    if (session === undefined) return failed<MassageOutput>(problem, none);
    if (!isPercentage(intensity)) {
      return failed<MassageOutput>(error(400, "invalid_data", `intensity must be a Percentage (0..100), got ${String(intensity)}`), none);
    }
    if (!Number.isInteger(duration) || duration < 0 || duration > UINT32_MAX) {
      return failed<MassageOutput>(error(400, "invalid_data", `duration must be a uint32 of seconds, got ${String(duration)}`), none);
    }
    const protocol = this.currentProtocol();
    return this.starting(protocol, async (): Promise<MassageOutput> => {
      const [seat, trouble] = await this.findSeat(session, seatId);
      if (seat === undefined) return failed<MassageOutput>(trouble, none);
      const massage = seat.massages.get(massageType);
      if (massage === undefined) {
        return failed<MassageOutput>(unsupported(`the ${JSON.stringify(massageType)} massage of seat ${seatId.RowName}.${seatId.ColumnName}`), none);
      }
      try {
        const wire = massage.actuator.encode(massage.levelAt(intensity));
        await session.call((client) => client.set(massage.actuator.path, wire));
      } catch (failure) {
        return failed<MassageOutput>(errorOf(failure), none);
      }
      const run = new MassageRun(this.nextId(), protocol, session, massage, callback);
      this.services.set(run.serviceId, run);
      if (duration > 0) {
        run.timer = setTimeout(() => void this.massageTimer(run), Math.min(duration * 1000, 2_147_483_647));
      }
      return { Status: ProcedureStatus.ONGOING, ServiceId: run.serviceId };
    });
  }

  // --- internals -----------------------------------------------------------------------------

  /**
   * Runs `start`, a service start over `protocol` up to its service's registration, so that a
   * Disconnect of that protocol waits for it and then ends the service with the session.
   * Without this, a massage whose set was in flight when the session closed stayed on, with
   * nothing left to switch it off.
   */
  private async starting<R>(protocol: Protocol, start: () => Promise<R>): Promise<R> {
    const running = start();
    const starts = this.starts.get(protocol) ?? new Set<Promise<unknown>>();
    this.starts.set(protocol, starts.add(running));
    try {
      return await running;
    } finally {
      starts.delete(running);
    }
  }

  private nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  private currentProtocol(): Protocol {
    if (this.defaultProtocol === undefined) throw new Error("no default protocol");
    return this.defaultProtocol;
  }

  private checkVehicle(vehicleId: number): ErrorData | undefined {
    return vehicleId === this.vehicleId ? undefined : error(404, "unavailable_data", `unknown vehicleId ${String(vehicleId)}`);
  }

  private checkProtocol(protocol: string): ErrorData | undefined {
    if (this.endpoints[protocol as Protocol] !== undefined) return undefined;
    const offered = PROTOCOLS.filter((p) => this.endpoints[p] !== undefined);
    return error(400, "bad_request", `protocol ${JSON.stringify(protocol)} is not offered: ${offered.join(", ")}`);
  }

  /** The default protocol's session, with the procedure's token (or the session's). */
  private session(vehicleId: number, stCredentials: string): [Session, undefined] | [undefined, ErrorData] {
    const problem = this.checkVehicle(vehicleId);
    if (problem !== undefined) return [undefined, problem];
    const protocol = this.defaultProtocol;
    const client = protocol === undefined ? undefined : this.clients.get(protocol);
    if (protocol === undefined || client === undefined) return [undefined, error(503, "service_unavailable", "not connected: call Connect first")];
    return [new Session(client, stCredentials !== "" ? stCredentials : this.tokens.get(protocol)), undefined];
  }

  private async discover(session: Session, refresh: boolean): Promise<[Seat[], undefined] | [Seat[], ErrorData]> {
    const protocol = this.currentProtocol();
    if (refresh || !this.seats.has(protocol)) {
      try {
        const answer: unknown = await session.call((client) => client.get(this.seatingBranch, Filter.metadata(0)));
        this.seats.set(protocol, seating(this.seatingBranch, isObject(answer) ? answer["metadata"] : undefined));
      } catch (failure) {
        if (failure instanceof VissError && failure.number === "404") {
          return [[], unsupported(`seating (${this.seatingBranch} is not in its tree)`)];
        }
        return [[], errorOf(failure)];
      }
    }
    const seats = this.seats.get(protocol) ?? [];
    if (seats.length === 0) return [[], unsupported(`seating (no seat below ${this.seatingBranch} has a movement or massage actuator)`)];
    return [seats, undefined];
  }

  private async findSeat(session: Session, seatId: MatrixId): Promise<[Seat, undefined] | [undefined, ErrorData]> {
    const [seats, problem] = await this.discover(session, false);
    if (problem !== undefined) return [undefined, problem];
    const seat = seats.find((candidate) => candidate.row === seatId.RowName && candidate.column === seatId.ColumnName);
    return seat === undefined ? [undefined, unsupported(`seat ${seatId.RowName}.${seatId.ColumnName}`)] : [seat, undefined];
  }

  private async moveNow(move: Move, deadline: number, signal: AbortSignal | undefined): Promise<MoveSeatOutput> {
    try {
      return await move.follow(deadline, false, signal);
    } catch (failure) {
      // The caller gave up: the seat stops where it is.
      if (signal?.aborted) await move.halt();
      throw failure;
    } finally {
      await move.watch.stop();
    }
  }

  private async moveInBackground(move: Move, deadline: number): Promise<void> {
    let outcome: MoveSeatOutput;
    try {
      outcome = await move.follow(deadline, true);
    } catch {
      return; // cancelled: CancelService reports
    }
    if (move.finished) return;
    move.finished = true;
    this.services.delete(move.serviceId);
    await move.watch.stop();
    notify(move.callback, outcome);
  }

  private async massageTimer(run: MassageRun): Promise<void> {
    run.timer = undefined;
    if (!this.services.delete(run.serviceId)) return;
    run.finish(await run.switchOff());
  }
}
