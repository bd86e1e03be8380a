// VISS over gRPC (TRANSPORT §5.4) for the client, in Node: the `VISS` service of the payload
// encoding's schema (vissProto.ts) at grpcs://host:5443, or grpc:// for a server run without
// TLS. Needs the "@grpc/grpc-js" and "protobufjs" packages (optional dependencies of this SDK).
//
//   const { client, vehicle } = await connect({ url: "grpcs://car.local:5443", ca: carCa });
//
// The messages come from the .proto text at run time (protobufjs), so no stubs are generated.
// The gRPC channel is shaped like a WebSocket, so the WebSocket channel's request ids,
// timeouts, reconnects and subscriptions serve it unchanged: each JSON request is translated
// to its protobuf message and sent as its call, and each answer translated back, by the
// payload encoding's rules (vssgen's docs/protobuf.md): values are strings, an array or struct
// value travels as its JSON text, `data`, `dp` and `filter` hold one object or several,
// metadata is its JSON text, and a range filter's boundaries are always ANDed (an `OR` is
// answered with error 400 before anything is sent). Gets, sets and unsubscribes are unary
// calls that wait for the channel to be ready; a subscription is a server stream whose first
// message answers the subscribe. A stream broken by a lost connection (or ended by the server
// while its subscription lives) closes this socket, so the client reconnects and subscribes
// again. Browsers cannot speak gRPC (it needs HTTP/2 trailers): use wss:// there. The Python
// SDK's grpc_link.py and the Rust client's `grpc` module have the same shape.

import { HTTP_REASONS } from "./client.js";
import { VISS_PROTO } from "./vissProto.js";

type Message = Record<string, any>;

const DEFAULT_PORT = "5443";
/** The largest message read or written (a whole tree's metadata is well below). */
const MAX_MESSAGE_BYTES = 64 * 2 ** 20;
const SERVICE = "/grpcProtobufMessages.VISS/";

/**
 * How long a call may wait for its answer (a subscribe: its first message) before it is
 * cancelled. Only a bound against leaked calls: the caller's own timeout, enforced by the
 * client's channel, is what reports a timeout.
 */
const CALL_BOUND_MS = 60_000;
/** The filter variants of VISS v3 (the proto's FilterVariant, lower-case). */
const VARIANTS = new Set(["paths", "timebased", "range", "change", "curvelog", "history", "metadata"]);

/** gRPC status codes (grpc/doc/statuscodes.md). */
const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
/** The connection broke under the call. */
const UNAVAILABLE = 14;
/** The HTTP status (and so the VISS error) of every other failed call; any other code is 503. */
const HTTP_STATUS: Record<number, number> = {
  3: 400, // INVALID_ARGUMENT
  5: 404, // NOT_FOUND
  7: 403, // PERMISSION_DENIED
  8: 429, // RESOURCE_EXHAUSTED
  11: 400, // OUT_OF_RANGE
  16: 401, // UNAUTHENTICATED
};

// --- the parts of @grpc/grpc-js and protobufjs used here -------------------------------------

interface StatusError extends Error { code?: number; details?: string }

interface CallLike {
  on(event: "data", listener: (message: Message) => void): unknown;
  on(event: "error", listener: (error: StatusError) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  cancel(): void;
}

type Serialize = (value: Message) => Uint8Array;
type Deserialize = (bytes: Uint8Array) => Message;

interface GrpcClientLike {
  waitForReady(deadline: number, callback: (error?: Error) => void): void;
  makeUnaryRequest(method: string, serialize: Serialize, deserialize: Deserialize, argument: Message,
                   metadata: unknown, options: { deadline: number },
                   callback: (error: StatusError | null, value?: Message) => void): CallLike;
  makeServerStreamRequest(method: string, serialize: Serialize, deserialize: Deserialize, argument: Message,
                          metadata: unknown, options: object): CallLike;
  close(): void;
}

interface GrpcModule {
  Client: new (target: string, credentials: unknown, options: object) => GrpcClientLike;
  credentials: { createSsl(rootCerts?: Uint8Array | null): unknown; createInsecure(): unknown };
  Metadata: new () => { setOptions(options: { waitForReady: boolean }): void };
}

interface ProtoType {
  encode(message: object): { finish(): Uint8Array };
  fromObject(object: Message): object;
  decode(bytes: Uint8Array): object;
  toObject(message: object, options: object): Message;
}

interface ProtobufModule {
  parse(source: string, options: { keepCase: boolean }): { root: { lookupType(name: string): ProtoType } };
}

/** Serializers of one message type (JSON-shaped objects with the proto's field names). */
interface Codec { serialize: Serialize; deserialize: Deserialize }

type Codecs = Record<"get" | "set" | "subscribe" | "unsubscribe", { request: Codec; response: Codec }>;

function codecs(protobuf: ProtobufModule): Codecs {
  const { root } = protobuf.parse(VISS_PROTO, { keepCase: true });
  const codec = (name: string): Codec => {
    const type = root.lookupType(`grpcProtobufMessages.${name}`);
    return {
      serialize: (value) => type.encode(type.fromObject(value)).finish(),
      // Enums by name; unset fields left out (an empty non-optional string means "absent").
      deserialize: (bytes) => type.toObject(type.decode(bytes), { enums: String, longs: String, defaults: false }),
    };
  };
  const pair = (request: string, response: string) => ({ request: codec(request), response: codec(response) });
  return {
    get: pair("GetRequestMessage", "GetResponseMessage"),
    set: pair("SetRequestMessage", "SetResponseMessage"),
    subscribe: pair("SubscribeRequestMessage", "SubscribeStreamMessage"),
    unsubscribe: pair("UnsubscribeRequestMessage", "UnsubscribeResponseMessage"),
  };
}

// --- the socket --------------------------------------------------------------------------------

/** A gRPC channel with the WebSocket API the client's channel uses. */
export class GrpcSocket {
  readonly protocol = "VISSv3";
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  private readonly client: GrpcClientLike;
  private readonly calls = new Set<CallLike>();
  /** Subscriptions this client asked to end: their streams end, and that is no loss. */
  private readonly unsubscribed = new Set<string>();
  private closed = false;

  private readonly boundMs: number;

  constructor(url: string, private readonly grpc: GrpcModule, private readonly codecs: Codecs,
              ca: string | undefined, timeoutMs: number) {
    this.boundMs = Math.max(timeoutMs, CALL_BOUND_MS);
    const parsed = new URL(url);
    const target = `${parsed.hostname}:${parsed.port || DEFAULT_PORT}`;
    const credentials = parsed.protocol === "grpcs:"
      ? grpc.credentials.createSsl(ca === undefined ? null : nodeBuffer(ca))
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(target, credentials, {
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
      // HTTP/2 pings find a connection that vanished without a FIN (a dropped radio link);
      // without them a silent subscription would wait forever.
      "grpc.keepalive_time_ms": 20_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.keepalive_permit_without_calls": 1,
    });
    this.client.waitForReady(Date.now() + timeoutMs, (error) => {
      if (this.closed) return;
      if (error === undefined) return this.onopen?.({});
      this.fail(`no gRPC connection within ${timeoutMs} ms (the address, or a certificate not trusted)`);
    });
  }

  send(data: string): void {
    if (this.closed) return;
    const request = JSON.parse(data) as Message;
    try {
      this.call(request);
    } catch (error) {
      // What the proto cannot carry is refused here, as the server would refuse it.
      const detail = error instanceof Error ? error.message : String(error);
      this.answer(failure(request, 400, `not expressible in the VISS protobuf encoding: ${detail}`));
    }
  }

  close(code = 1000, reason = ""): void {
    if (this.closed) return;
    this.closed = true;
    // Cancelling the calls ends every subscription stream, and so its subscription.
    for (const call of this.calls) call.cancel();
    this.calls.clear();
    this.client.close();
    setTimeout(() => this.onclose?.({ code, reason }), 0);
  }

  private call(request: Message): void {
    const action = request["action"];
    if (action === "get" || action === "set" || action === "unsubscribe") {
      if (action === "unsubscribe") this.unsubscribed.add(text(request["subscriptionId"]));
      const message = action === "get" ? getMessage(request)
        : action === "set" ? setMessage(request) : unsubscribeMessage(request);
      this.unary(action, request, message);
    } else if (action === "subscribe") {
      this.stream(request, getMessage(request)); // a subscribe has a get's fields
    } else {
      throw new TypeError(`${JSON.stringify(action)} is not a request action`);
    }
  }

  private unary(action: "get" | "set" | "unsubscribe", request: Message, message: Message): void {
    const { request: out, response: back } = this.codecs[action];
    const method = SERVICE + { get: "GetRequest", set: "SetRequest", unsubscribe: "UnsubscribeRequest" }[action];
    const call = this.client.makeUnaryRequest(method, out.serialize, back.deserialize, message, this.waitForReady(),
      { deadline: Date.now() + this.boundMs }, (error, answer) => {
        this.calls.delete(call);
        if (error !== null) return this.failed(request, error);
        if (answer === undefined) return;
        const translated = response(action, answer);
        // An unsubscribe refused: the subscription lives on (or never was).
        if (action === "unsubscribe" && "error" in translated) this.unsubscribed.delete(message["SubscriptionId"]);
        this.answer(translated);
      });
    this.calls.add(call);
  }

  private stream(request: Message, message: Message): void {
    const { request: out, response: back } = this.codecs.subscribe;
    const call = this.client.makeServerStreamRequest(SERVICE + "SubscribeRequest", out.serialize, back.deserialize,
      message, this.waitForReady(), {});
    let live: string | undefined;
    // Nobody waits for a subscribe that has not been answered by then.
    const unanswered = setTimeout(() => {
      this.calls.delete(call);
      call.cancel();
    }, this.boundMs);
    call.on("data", (part) => {
      clearTimeout(unanswered);
      const answer = streamMessage(part);
      this.answer(answer);
      if ("error" in answer) live = undefined; // refused, or ended by an error event
      else if (answer["action"] === "subscribe") live = answer["subscriptionId"];
    });
    // A live subscription's stream that fails or that the server ends (it shuts down, a
    // proxy drops it, the connection breaks) is a lost connection: the client reconnects
    // and subscribes again. Before the subscribe is answered, a failure answers it.
    const ended = (error?: StatusError): void => {
      clearTimeout(unanswered);
      this.calls.delete(call);
      if (live === undefined) {
        if (error !== undefined) this.failed(request, error);
        return;
      }
      const mine = this.unsubscribed.delete(live);
      live = undefined; // "end" may follow "error": once is enough
      if (!mine) this.fail(`the stream of a subscription ended: ${error?.details ?? "by the server"}`);
    };
    call.on("error", (error) => ended(error));
    call.on("end", () => ended());
    this.calls.add(call);
  }

  private waitForReady(): unknown {
    const metadata = new this.grpc.Metadata();
    metadata.setOptions({ waitForReady: true });
    return metadata;
  }

  /**
   * UNAVAILABLE (the connection broke) closes the socket, and the client reconnects; a call
   * past CALL_BOUND_MS is left to the caller's own timeout; any other failure answers the
   * request with the VISS error of its status.
   */
  private failed(request: Message, error: StatusError): void {
    if (this.closed || error.code === CANCELLED || error.code === DEADLINE_EXCEEDED) return;
    if (error.code === UNAVAILABLE) return this.fail(error.details ?? error.message);
    const status = HTTP_STATUS[error.code ?? -1] ?? 503;
    const reason = `gRPC status ${error.code ?? "?"}: ${error.details ?? error.message}`;
    this.answer(failure(request, status, reason));
  }

  private answer(answer: Message): void {
    // Never inside send(): the caller is still registering what it sent.
    queueMicrotask(() => this.onmessage?.({ data: JSON.stringify(answer) }));
  }

  private fail(detail: string): void {
    if (this.closed) return;
    this.onerror?.(new Error(detail));
    this.close(1006, detail);
  }
}

/** A PEM text as the Buffer grpc-js wants for its root certificates (Node only). */
function nodeBuffer(text: string): Uint8Array {
  const runtime = globalThis as { Buffer?: { from(text: string): Uint8Array } };
  if (runtime.Buffer === undefined) throw new TypeError("gRPC needs Node");
  return runtime.Buffer.from(text);
}

/** Makes gRPC sockets for grpcs:// and grpc:// URLs (Node: @grpc/grpc-js and protobufjs). */
export async function grpcSocketFactory(ca: string | undefined, timeoutMs: number): Promise<(url: string) => GrpcSocket> {
  const grpc = await optional<GrpcModule>("@grpc/grpc-js", "Client");
  const protobuf = await optional<ProtobufModule>("protobufjs", "parse");
  const types = codecs(protobuf);
  return (url) => new GrpcSocket(url, grpc, types, ca, timeoutMs);
}

async function optional<T>(specifier: string, member: string): Promise<T> {
  try {
    // A variable specifier: bundlers must not try to bundle it, and tsc must not need its types.
    const name = specifier;
    const module = (await import(/* webpackIgnore: true */ /* @vite-ignore */ name)) as Record<string, unknown>;
    const found = (member in module ? module : module["default"]) as Record<string, unknown> | undefined;
    if (found?.[member] === undefined) throw new TypeError(`"${specifier}" has no ${member}`);
    return found as T;
  } catch (error) {
    throw new TypeError('grpcs:// and grpc:// URLs need the "@grpc/grpc-js" and "protobufjs" packages '
      + "(npm install @grpc/grpc-js protobufjs)", { cause: error });
  }
}

// --- JSON -> protobuf (requests) -----------------------------------------------------------

function text(value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`${JSON.stringify(value)} is not a string`);
  return value;
}

/** The optional string members the request has, under their proto names. */
function optionalMembers(request: Message, names: Record<string, string>): Message {
  const fields: Message = {};
  for (const [key, field] of Object.entries(names)) {
    if (request[key] !== undefined) fields[field] = text(request[key]);
  }
  return fields;
}

const COMMON = { authorization: "Authorization", dc: "DataCompression", requestId: "RequestId" };

function getMessage(request: Message): Message {
  return { Path: text(request["path"]), ...filterField(request), ...optionalMembers(request, COMMON) };
}

function setMessage(request: Message): Message {
  return {
    Path: text(request["path"]), Value: valueText(request["value"]),
    ...optionalMembers(request, { authorization: "Authorization", requestId: "RequestId" }),
  };
}

function unsubscribeMessage(request: Message): Message {
  return { SubscriptionId: text(request["subscriptionId"]), ...optionalMembers(request, { requestId: "RequestId" }) };
}

/** A VISS value as the proto's string: a string as itself, an array or struct as its JSON text. */
function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  throw new TypeError(`the value ${JSON.stringify(value)} is not a VISS v3 value (a string, array or object)`);
}

function oneOrMany(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function filterField(request: Message): Message {
  if (request["filter"] === undefined) return {};
  return { Filter: { FilterExp: oneOrMany(request["filter"]).map((item) => expression(item as Message)) } };
}

function expression(item: Message): Message {
  const variant = text(item["variant"]);
  if (!VARIANTS.has(variant)) throw new TypeError(`"${variant}" is not a VISS v3 filter variant`);
  const parameter = item["parameter"];
  const value: Message = {};
  if (parameter !== undefined) {
    switch (variant) {
      case "paths": value["ValuePaths"] = { RelativePath: oneOrMany(parameter).map(text) }; break;
      case "timebased": value["ValueTimebased"] = { Period: text(parameter["period"]) }; break;
      case "range": value["ValueRange"] = oneOrMany(parameter).map((boundary) => rangeValue(boundary as Message)); break;
      case "change": value["ValueChange"] = { LogicOperator: text(parameter["logic-op"]), Diff: text(parameter["diff"]) }; break;
      case "curvelog": value["ValueCurvelog"] = { MaxErr: text(parameter["maxerr"]), BufSize: text(parameter["bufsize"]) }; break;
      case "history": value["ValueHistory"] = { TimePeriod: text(parameter) }; break;
      case "metadata": value["ValueMetadata"] = { Tree: text(parameter) }; break;
    }
  }
  return { Variant: variant.toUpperCase(), Value: value };
}

function rangeValue(boundary: Message): Message {
  if ((boundary["combination-op"] ?? "AND") !== "AND") {
    throw new TypeError("a range's `combination-op` OR: the VISS v3.0 protobuf encoding always ANDs two boundaries");
  }
  return { LogicOperator: text(boundary["logic-op"]), Boundary: text(boundary["boundary"]) };
}

// --- protobuf -> JSON (answers and events) ---------------------------------------------------

function failure(request: Message, status: number, description: string): Message {
  const error = { number: String(status), reason: HTTP_REASONS[status] ?? "service_unavailable", description };
  return defined({ action: request["action"], requestId: request["requestId"], error });
}

/** `message` without its undefined members. */
function defined(message: Message): Message {
  return Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined));
}

function errorMember(message: Message): Message | undefined {
  const error = message["ErrorResponse"] as Message | undefined;
  if (error === undefined) return undefined;
  return { number: error["Number"] ?? "", reason: error["Reason"] ?? "", description: error["Description"] ?? "" };
}

function response(action: string, message: Message): Message {
  const success = message["SuccessResponse"] as Message | undefined;
  return defined({
    action,
    requestId: message["RequestId"],
    data: success?.["DataPack"] === undefined ? undefined : data(success["DataPack"]),
    metadata: success?.["Metadata"] === undefined ? undefined : metadataObject(success["Metadata"]),
    error: errorMember(message),
    authorization: message["Authorization"],
    ts: message["Ts"],
  });
}

function streamMessage(message: Message): Message {
  if (message["MType"] === "EVENT") {
    const event = (message["Event"] ?? {}) as Message;
    const success = event["SuccessResponse"] as Message | undefined;
    return defined({
      action: "subscription",
      subscriptionId: event["SubscriptionId"],
      data: success?.["DataPack"] === undefined ? undefined : data(success["DataPack"]),
      error: errorMember(event),
      ts: event["Ts"],
    });
  }
  const answer = (message["Response"] ?? {}) as Message;
  return defined({
    action: "subscribe",
    requestId: answer["RequestId"],
    subscriptionId: answer["SubscriptionId"],
    error: errorMember(answer),
    authorization: answer["Authorization"],
    ts: answer["Ts"],
  });
}

function manyOrOne(items: unknown[]): unknown {
  return items.length === 1 ? items[0] : items;
}

function data(packages: Message): unknown {
  return manyOrOne(((packages["Data"] ?? []) as Message[]).map((item) => ({
    path: item["Path"] ?? "",
    dp: manyOrOne(((item["Dp"] ?? []) as Message[]).map((point) => ({
      value: jsonOrText(point["Value"] ?? ""), ts: point["Ts"] ?? "",
    }))),
  })));
}

/** The metadata object of its JSON text; text that is no JSON object stays a string. */
function metadataObject(value: string): unknown {
  const parsed = jsonOrText(value);
  return Array.isArray(parsed) ? value : parsed;
}

/** The JSON array or object a value's text is, or the text itself. */
function jsonOrText(value: string): unknown {
  if (value.startsWith("[") || value.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === "object" && parsed !== null) return parsed;
    } catch {
      // not JSON: the text itself
    }
  }
  return value;
}
