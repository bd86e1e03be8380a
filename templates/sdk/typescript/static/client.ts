// VISS v3.0 client: one connection shared by every call of a generated SDK.
//
// Transports, chosen by the URL scheme:
//   wss:// ws://     WebSocket, sub-protocol "VISSv3": get, set, subscribe, unsubscribe;
//                    requests correlated by requestId; reconnects and re-subscribes by itself.
//   https:// http:// fetch: get and set only (HTTP has no subscriptions in VISS).
//   mqtts://broker:8883/<VID> mqtt://...   Node only: through an MQTT broker to a vehicle
//                    serving VISS over MQTT (mqtt.ts, the "mqtt" package); as WebSocket.
//   grpcs://host:5443 grpc://...   Node only: the VISS gRPC service (grpc.ts, the
//                    "@grpc/grpc-js" and "protobufjs" packages); as WebSocket.
//
// Runs in browsers (native WebSocket and fetch) and in Node. Node without a global WebSocket
// (Node < 22) loads the "ws" package on demand, MQTT URLs the "mqtt" package and gRPC URLs
// "@grpc/grpc-js" and "protobufjs"; all are optional dependencies.

import type { Filter } from "./filter.js";
import { mqttSocketFactory, type MqttCredentials } from "./mqtt.js";

/** A request's timeout when the options give none. */
const DEFAULT_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Public types

export interface ClientOptions {
  /** wss://host:port, https://host:port, grpcs://host:port, mqtts://broker:port/<VID>; ws, http, grpc, mqtt without TLS */
  url: string;
  /** PEM certificate(s) to trust for wss://, grpcs:// and mqtts:// in Node (through the "ws", "@grpc/grpc-js" and "mqtt" packages). */
  ca?: string;
  /** Per-request timeout; default 10 000 ms. Also bounds each connection attempt. */
  timeoutMs?: number;
  /** Most requests waiting for an answer at once; default 1024. More are refused. */
  maxPending?: number;
  /** Reconnect after an unexpected close (default on: 100 ms doubling to 5 s, unlimited). */
  reconnect?: false | { initialDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  /** Access token (or token handle) sent with every request. */
  authorization?: string;
  /** A WebSocket constructor to use instead of the global one (tests, other runtimes). */
  WebSocket?: unknown;
}

export interface CallOptions {
  /** Aborting rejects the call with the signal's reason and forgets the request. */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
}

export interface Subscription {
  readonly path: string;
  /** The server's current id; it changes when the subscription is re-created after a reconnect. */
  readonly id: string;
  unsubscribe(): Promise<void>;
}

export type ClientEvent = "open" | "close" | "reconnecting" | "reconnected" | "error";

export interface VissErrorInfo {
  number: string;
  reason: string;
  description: string;
}

/** An error answered by the server (or, for HTTP, its status), with the VISS error fields. */
export class VissError extends Error {
  readonly number: string;
  readonly reason: string;
  readonly description: string;
  /** The action that failed: "get", "set", "subscribe", "unsubscribe" or "subscription". */
  readonly action: string;

  constructor(error: VissErrorInfo, action: string) {
    super(`${action} failed: ${error.number} ${error.reason}: ${error.description}`);
    this.name = "VissError";
    this.number = error.number;
    this.reason = error.reason;
    this.description = error.description;
    this.action = action;
  }
}

export type VissClientErrorCode =
  | "timeout" // no answer within the timeout
  | "closed" // close() was called
  | "connection_lost" // the connection dropped after the request was sent, or reconnecting gave up
  | "connection_failed" // could not connect / the HTTP request did not reach the server
  | "too_many_pending" // maxPending requests already wait for an answer
  | "unsupported" // e.g. subscribe over HTTP
  | "protocol"; // the server sent something that is not a VISS message

/** A failure on this side of the wire: the server never answered, or could not be asked. */
export class VissClientError extends Error {
  readonly code: VissClientErrorCode;

  constructor(code: VissClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VissClientError";
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Internal types and helpers

type Message = Record<string, unknown>;
type Listener = (...args: any[]) => void;
type Timer = ReturnType<typeof setTimeout>;

interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number | undefined;
}

interface Settings {
  timeoutMs: number;
  maxPending: number;
  reconnect: ReconnectPolicy | false;
  /** Read at send time, so authorize() also covers re-subscriptions. */
  authorization: () => string | undefined;
}

const SUBPROTOCOL = "VISSv3";
const MAX_TIMER_MS = 2_147_483_647;

function settingsFrom(options: ClientOptions, authorization: () => string | undefined): Settings {
  const reconnect = options.reconnect === false ? false : {
    initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 5000,
    maxAttempts: options.reconnect?.maxAttempts,
  };
  return {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxPending: options.maxPending ?? 1024,
    reconnect,
    authorization,
  };
}

function isObject(value: unknown): value is Message {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorInfo(value: unknown): VissErrorInfo | undefined {
  if (!isObject(value)) return undefined;
  return {
    number: String(value["number"] ?? ""),
    reason: String(value["reason"] ?? ""),
    description: String(value["description"] ?? ""),
  };
}

/** A message without its undefined members (JSON.stringify drops them too; this is for HTTP). */
function defined(message: Message): Message {
  return Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined));
}

function describeRequest(message: Message): string {
  return `${String(message["action"])} ${String(message["path"] ?? message["subscriptionId"] ?? "")}`.trim();
}

/** Turns a local failure into a VissError for the callbacks that only take VissError (onEnd). */
function asVissError(error: unknown, action: string): VissError {
  if (error instanceof VissError) return error;
  const description = error instanceof Error ? error.message : String(error);
  return new VissError({ number: "503", reason: "service_unavailable", description }, action);
}

/** Refuses a new request before it is queued: closed client, aborted signal, too many pending. */
function refusal(closed: boolean, pending: number, maxPending: number, opts: CallOptions): unknown {
  if (closed) return new VissClientError("closed", "the client is closed");
  if (opts.signal?.aborted) return opts.signal.reason;
  if (pending >= maxPending) {
    return new VissClientError("too_many_pending", `${pending} requests already wait for an answer (maxPending)`);
  }
  return undefined;
}

/** Arms the request's timeout and abort signal; `fail` is called at most once by either. */
function guard(opts: CallOptions, timeoutMs: number, what: string, fail: (error: unknown) => void): () => void {
  const ms = opts.timeoutMs ?? timeoutMs;
  // Timers take at most 2^31 - 1 ms; a larger value would fire at once.
  const delay = Math.min(Math.max(ms, 0), MAX_TIMER_MS);
  const timer = setTimeout(() => fail(new VissClientError("timeout", `${what}: no answer within ${ms} ms`)), delay);
  const signal = opts.signal;
  const onAbort = (): void => fail(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  return () => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
}

class Emitter {
  private readonly listeners = new Map<ClientEvent, Set<Listener>>();

  on(event: ClientEvent, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => void set.delete(listener);
  }

  emit(event: ClientEvent, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        // A throwing listener must not break the connection's message loop.
        if (event !== "error") this.callbackFailed(error);
      }
    }
  }

  /** A user callback threw: tell the "error" listeners, or the console when nobody listens. */
  callbackFailed(error: unknown): void {
    if ((this.listeners.get("error")?.size ?? 0) > 0) this.emit("error", error);
    else console.error("vss client: a callback threw", error);
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket construction (browser, Node >= 22, or the "ws" package)

/** The part of the WebSocket API used here; the browser's, Node's and the "ws" package's all have it. */
interface SocketLike {
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

type SocketConstructor = new (url: string, protocols: string | string[], options?: object) => SocketLike;
type SocketFactory = (url: string) => SocketLike;

function isNode(): boolean {
  const runtime = globalThis as { process?: { versions?: { node?: unknown } } };
  return typeof runtime.process?.versions?.node === "string";
}

async function loadWsPackage(): Promise<SocketConstructor> {
  // A variable specifier: browser bundlers must not try to bundle "ws", and tsc must not
  // need its types in a generated SDK that only targets browsers.
  const specifier = "ws";
  try {
    const module = await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
    return (module.default ?? module.WebSocket) as SocketConstructor;
  } catch (error) {
    throw new VissClientError("unsupported",
      'this runtime has no global WebSocket: install the "ws" package (npm install ws)', { cause: error });
  }
}

async function socketFactory(options: ClientOptions): Promise<SocketFactory> {
  const tls = options.ca === undefined ? undefined : { ca: options.ca };
  if (options.WebSocket !== undefined) {
    const custom = options.WebSocket as SocketConstructor;
    return (url) => new custom(url, SUBPROTOCOL, tls);
  }
  const native = (globalThis as { WebSocket?: unknown }).WebSocket as SocketConstructor | undefined;
  // Node's built-in WebSocket cannot take a CA; with `ca` the "ws" package is needed.
  // Browsers ignore `ca`: they trust what the browser trusts.
  const needsWs = native === undefined || (isNode() && tls !== undefined);
  if (!needsWs) return (url) => new native(url, SUBPROTOCOL);
  if (!isNode()) throw new VissClientError("unsupported", "this runtime has no WebSocket");
  const ws = await loadWsPackage();
  return (url) => new ws(url, SUBPROTOCOL, tls);
}

/**
 * grpc.ts's socket factory, loaded only for grpc URLs. A variable specifier keeps grpc.ts, and
 * the generated .proto text it imports, out of builds that never speak gRPC: browser bundles,
 * and the signal explorer, which compiles this file without the generated ones.
 */
async function grpcSocketFactory(ca: string | undefined, timeoutMs: number): Promise<SocketFactory> {
  const specifier = "./grpc.js";
  const module = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as {
    grpcSocketFactory(ca: string | undefined, timeoutMs: number): Promise<SocketFactory>;
  };
  return module.grpcSocketFactory(ca, timeoutMs);
}

/**
 * The broker's user and password of an MQTT URL (`mqtts://user:password@broker/<VID>`),
 * taken out of `url`: messages name the URL, never the password.
 */
function takeCredentials(url: URL): MqttCredentials | undefined {
  if (url.username === "" && url.password === "") return undefined;
  const credentials = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  url.username = "";
  url.password = "";
  return credentials;
}

function socketErrorText(event: unknown): string {
  const message = isObject(event) ? event["message"] : undefined;
  return typeof message === "string" && message !== "" ? message : "WebSocket error";
}

function frameText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  // The "ws" package may hand text frames over as a Buffer (a Uint8Array).
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  return undefined;
}

/** Handlers that do nothing: "ws" throws on an "error" event nobody listens to, so never null. */
function detach(socket: SocketLike): void {
  const ignore = (): void => undefined;
  socket.onopen = ignore;
  socket.onmessage = ignore;
  socket.onclose = ignore;
  socket.onerror = ignore;
}

function backoffDelay(policy: ReconnectPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  // Jitter: after a server restart, many clients should not all come back in the same instant.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

// ---------------------------------------------------------------------------------------------
// WebSocket channel

interface PendingRequest {
  readonly message: Message;
  sent: boolean;
  /** Set for subscribe requests: the answer binds the server's id to it. */
  readonly subscription: SubscriptionHandle | undefined;
  resolve(answer: Message): void;
  reject(error: unknown): void;
  /** Clears the timeout and the abort listener. */
  dispose(): void;
}

class SubscriptionHandle implements Subscription {
  id = "";
  active = true;

  constructor(
    readonly path: string,
    readonly filter: Filter | undefined,
    readonly onEvent: (data: any) => void,
    readonly onEnd: ((error: VissError) => void) | undefined,
    private readonly channel: WebSocketChannel,
  ) {}

  unsubscribe(): Promise<void> {
    return this.channel.unsubscribe(this);
  }
}

class WebSocketChannel {
  private socket: SocketLike | undefined;
  private state: "connecting" | "open" | "reconnecting" | "closed" = "connecting";
  private lastRequestId = 0;
  private attempt = 0;
  private reconnectTimer: Timer | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  /** Server id -> subscription, for the ids valid on the current connection only. */
  private readonly routes = new Map<string, SubscriptionHandle>();
  /** Every live subscription; re-created on each new connection. */
  private readonly subscriptions = new Set<SubscriptionHandle>();

  constructor(
    private readonly url: string,
    private readonly makeSocket: SocketFactory,
    private readonly settings: Settings,
    private readonly emitter: Emitter,
  ) {}

  async start(): Promise<void> {
    this.adopt(await this.openSocket(), false);
  }

  request(message: Message, opts: CallOptions = {}, subscription?: SubscriptionHandle): Promise<Message> {
    return new Promise((resolve, reject) => {
      const refused = refusal(this.state === "closed", this.pending.size, this.settings.maxPending, opts);
      if (refused !== undefined) return reject(refused);
      const requestId = this.nextRequestId();
      const full = { ...this.authorized(message), requestId };
      const dispose = guard(opts, this.settings.timeoutMs, describeRequest(message), (error) => this.settle(requestId)?.reject(error));
      const entry: PendingRequest = { message: full, sent: false, subscription, resolve, reject, dispose };
      this.pending.set(requestId, entry);
      // While (re)connecting it waits here; adopt() sends it when the connection is up.
      if (this.state === "open") this.transmit(entry);
    });
  }

  async subscribe(path: string, filter: Filter | undefined, onEvent: (data: any) => void,
                  onEnd: ((error: VissError) => void) | undefined, opts: CallOptions): Promise<Subscription> {
    const handle = new SubscriptionHandle(path, filter, onEvent, onEnd, this);
    await this.request(subscribeMessage(handle), opts, handle);
    return handle;
  }

  async unsubscribe(handle: SubscriptionHandle): Promise<void> {
    if (!handle.active) return;
    handle.active = false;
    this.subscriptions.delete(handle);
    // Not bound on this connection (reconnecting): the server has nothing to cancel, and a
    // re-subscribe still in flight is cancelled when its answer comes (see bind()).
    if (this.routes.get(handle.id) !== handle) return;
    this.routes.delete(handle.id);
    try {
      await this.request({ action: "unsubscribe", subscriptionId: handle.id });
    } catch (error) {
      if (!unsubscribeFailureIsHarmless(error)) throw error;
    }
  }

  async unsubscribeAll(): Promise<void> {
    await Promise.all([...this.subscriptions].map((handle) => handle.unsubscribe()));
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.shutDown(new VissClientError("closed", "the client was closed"), false);
    if (socket === undefined) return;
    await closeSocket(socket);
    this.emitter.emit("close", 1000, "client closed");
  }

  // --- sending -------------------------------------------------------------------------------

  private nextRequestId(): string {
    this.lastRequestId += 1;
    return String(this.lastRequestId);
  }

  private authorized(message: Message): Message {
    const token = this.settings.authorization();
    // VISS has no authorization member on unsubscribe.
    if (token === undefined || message["action"] === "unsubscribe") return message;
    return { ...message, authorization: token };
  }

  private transmit(entry: PendingRequest): void {
    try {
      this.socket?.send(JSON.stringify(entry.message));
      entry.sent = true;
    } catch {
      // The socket is going down; the request stays queued for the next connection.
    }
  }

  /** Sends what waited while there was no connection, in the order it was asked. */
  private flush(): void {
    for (const entry of this.pending.values()) {
      if (!entry.sent) this.transmit(entry);
    }
  }

  /** Removes a pending request and disarms its timeout; undefined when it is already gone. */
  private settle(requestId: string): PendingRequest | undefined {
    const entry = this.pending.get(requestId);
    if (entry === undefined) return undefined;
    this.pending.delete(requestId);
    entry.dispose();
    return entry;
  }

  /** Fire and forget: cancels a server subscription nobody wants (its request was given up). */
  private cancelOnServer(subscriptionId: string): void {
    const message = { action: "unsubscribe", subscriptionId, requestId: this.nextRequestId() };
    try {
      this.socket?.send(JSON.stringify(message));
    } catch {
      // The connection is going down, and the subscription with it.
    }
  }

  // --- receiving -----------------------------------------------------------------------------

  private receive(data: unknown): void {
    const text = frameText(data);
    let message: unknown;
    try {
      message = text === undefined ? undefined : JSON.parse(text);
    } catch {
      message = undefined;
    }
    if (!isObject(message)) {
      this.emitter.emit("error", new VissClientError("protocol", "the server sent a frame that is not a JSON object"));
      return;
    }
    if (message["action"] === "subscription") this.deliver(message);
    else this.answer(message);
  }

  private answer(message: Message): void {
    const requestId = message["requestId"];
    const entry = typeof requestId === "string" ? this.settle(requestId) : undefined;
    if (entry === undefined) return this.answerTooLate(message);
    const action = String(entry.message["action"]);
    const error = errorInfo(message["error"]);
    if (error !== undefined) return entry.reject(new VissError(error, action));
    if (entry.subscription !== undefined && !this.bind(entry.subscription, message)) {
      return entry.reject(new VissClientError("protocol", "subscribe answer without a subscriptionId"));
    }
    entry.resolve(message);
  }

  /** A subscribe that was aborted or timed out may still have been created: cancel it. */
  private answerTooLate(message: Message): void {
    const id = message["subscriptionId"];
    if (message["action"] === "subscribe" && message["error"] === undefined && typeof id === "string") {
      this.cancelOnServer(id);
    }
  }

  /** Routes the new server id to the subscription, before any event for it can arrive. */
  private bind(handle: SubscriptionHandle, answer: Message): boolean {
    const id = answer["subscriptionId"];
    if (typeof id !== "string") return false;
    if (!handle.active) {
      // Unsubscribed while its re-subscribe was in flight.
      this.cancelOnServer(id);
      return true;
    }
    handle.id = id;
    this.routes.set(id, handle);
    this.subscriptions.add(handle);
    return true;
  }

  private deliver(event: Message): void {
    const handle = this.routes.get(String(event["subscriptionId"]));
    if (handle === undefined) return; // unsubscribed; events still on the wire are dropped
    const error = errorInfo(event["error"]);
    if (error !== undefined) return this.end(handle, new VissError(error, "subscription"));
    try {
      handle.onEvent(event["data"]);
    } catch (thrown) {
      this.emitter.callbackFailed(thrown);
    }
  }

  /** The subscription is over (error event, or it could not be re-created): tell its owner. */
  private end(handle: SubscriptionHandle, error: VissError): void {
    if (!handle.active) return;
    handle.active = false;
    this.subscriptions.delete(handle);
    if (this.routes.get(handle.id) === handle) this.routes.delete(handle.id);
    try {
      handle.onEnd?.(error);
    } catch (thrown) {
      this.emitter.callbackFailed(thrown);
    }
  }

  // --- connection life cycle -----------------------------------------------------------------

  /** Opens a socket; resolves once it is open, rejects if it closes or errs first or times out. */
  private openSocket(): Promise<SocketLike> {
    return new Promise((resolve, reject) => {
      let socket: SocketLike;
      try {
        socket = this.makeSocket(this.url);
      } catch (error) {
        return reject(new VissClientError("connection_failed", `could not connect to ${this.url}`, { cause: error }));
      }
      let settled = false;
      const finish = (error?: VissClientError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        detach(socket);
        if (error === undefined) return resolve(socket);
        socket.close();
        reject(error);
      };
      const fail = (detail: string): void =>
        finish(new VissClientError("connection_failed", `could not connect to ${this.url}: ${detail}`));
      const timer = setTimeout(() => fail(`no answer within ${this.settings.timeoutMs} ms`), Math.min(this.settings.timeoutMs, MAX_TIMER_MS));
      socket.onopen = () => finish();
      socket.onerror = (event) => fail(socketErrorText(event));
      socket.onclose = (event) => fail(`closed with code ${event.code}`);
    });
  }

  /** Makes an open socket the current connection; after a reconnect, restores subscriptions. */
  private adopt(socket: SocketLike, reconnected: boolean): void {
    this.socket = socket;
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.lost(socket, event.code, event.reason);
    socket.onerror = (event) => this.emitter.emit("error", new VissClientError("connection_lost", socketErrorText(event)));
    this.state = "open";
    this.attempt = 0;
    this.emitter.emit("open");
    if (reconnected) void this.resubscribeAll();
    this.flush();
  }

  private lost(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    detach(socket);
    this.routes.clear(); // the server's ids died with the connection
    this.failSent(new VissClientError("connection_lost", `connection to ${this.url} lost (code ${code})`));
    this.emitter.emit("close", code, reason);
    if (this.state === "closed") return;
    if (this.settings.reconnect === false) {
      return this.shutDown(new VissClientError("connection_lost", `connection to ${this.url} lost (code ${code})`), true);
    }
    this.state = "reconnecting";
    this.scheduleReconnect(this.settings.reconnect);
  }

  /**
   * Requests already sent on the lost connection never get an answer. They are failed rather
   * than repeated: a set may or may not have reached the server, and only the caller can judge.
   */
  private failSent(error: VissClientError): void {
    for (const [requestId, entry] of [...this.pending]) {
      if (entry.sent) this.settle(requestId)?.reject(error);
    }
  }

  private scheduleReconnect(policy: ReconnectPolicy): void {
    this.attempt += 1;
    if (policy.maxAttempts !== undefined && this.attempt > policy.maxAttempts) {
      const error = new VissClientError("connection_lost", `gave up reconnecting to ${this.url} after ${policy.maxAttempts} attempts`);
      this.emitter.emit("error", error);
      return this.shutDown(error, true);
    }
    const delay = backoffDelay(policy, this.attempt);
    this.emitter.emit("reconnecting", this.attempt, delay);
    this.reconnectTimer = setTimeout(() => void this.reconnect(policy), delay);
  }

  private async reconnect(policy: ReconnectPolicy): Promise<void> {
    this.reconnectTimer = undefined;
    let socket: SocketLike;
    try {
      socket = await this.openSocket();
    } catch (error) {
      if (this.state === "closed") return;
      this.emitter.emit("error", error);
      return this.scheduleReconnect(policy);
    }
    if (this.state === "closed") return socket.close(1000);
    this.adopt(socket, true);
  }

  private async resubscribeAll(): Promise<void> {
    await Promise.all([...this.subscriptions].map((handle) => this.resubscribe(handle)));
    if (this.state === "open") this.emitter.emit("reconnected");
  }

  /** Re-creates one subscription with its original path and filter; bind() gives it the new id. */
  private async resubscribe(handle: SubscriptionHandle): Promise<void> {
    try {
      await this.request(subscribeMessage(handle), {}, handle);
    } catch (error) {
      // Lost again or closed: the next connection retries, or close() ended it anyway.
      if (error instanceof VissClientError && (error.code === "connection_lost" || error.code === "closed")) return;
      this.end(handle, asVissError(error, "subscribe"));
    }
  }

  /** Stops for good: no reconnect, pending requests rejected, subscriptions dropped. */
  private shutDown(error: VissClientError, notifySubscriptions: boolean): void {
    this.state = "closed";
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    for (const requestId of [...this.pending.keys()]) this.settle(requestId)?.reject(error);
    const ended = [...this.subscriptions];
    this.subscriptions.clear();
    this.routes.clear();
    for (const handle of ended) {
      if (notifySubscriptions) this.end(handle, asVissError(error, "subscription"));
      handle.active = false;
    }
  }
}

function subscribeMessage(handle: SubscriptionHandle): Message {
  const message: Message = { action: "subscribe", path: handle.path };
  if (handle.filter !== undefined) message["filter"] = handle.filter;
  return message;
}

/** The subscription is gone either way: unknown to the server, or its connection is down. */
function unsubscribeFailureIsHarmless(error: unknown): boolean {
  if (error instanceof VissError) return error.number === "404";
  return error instanceof VissClientError && (error.code === "connection_lost" || error.code === "closed");
}

/** Closes a socket and waits (at most a second) for the close to complete. */
function closeSocket(socket: SocketLike): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      detach(socket);
      resolve();
    };
    const timer = setTimeout(done, 1000);
    socket.onclose = done;
    socket.close(1000, "client closed");
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP channel

/** The VISS reason of an HTTP status that carries a VISS error number. */
export const HTTP_REASONS: Record<number, string> = {
  400: "bad_request",
  401: "invalid_token",
  403: "forbidden_request",
  404: "unavailable_data",
  408: "request_timeout",
  429: "too_many_requests",
  502: "bad_gateway",
  503: "service_unavailable",
  504: "gateway_timeout",
};

class HttpChannel {
  private closed = false;
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly base: URL, private readonly settings: Settings) {}

  async request(message: Message, opts: CallOptions = {}): Promise<Message> {
    const refused = refusal(this.closed, this.inFlight.size, this.settings.maxPending, opts);
    if (refused !== undefined) throw refused;
    const controller = new AbortController();
    const dispose = guard(opts, this.settings.timeoutMs, describeRequest(message), (error) => controller.abort(error));
    this.inFlight.add(controller);
    try {
      const response = await fetch(this.urlFor(message), this.init(message, controller.signal));
      return await readAnswer(response, String(message["action"]));
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (error instanceof VissError || error instanceof VissClientError) throw error;
      throw new VissClientError("connection_failed", `${describeRequest(message)}: ${this.base.origin} unreachable`, { cause: error });
    } finally {
      dispose();
      this.inFlight.delete(controller);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort(new VissClientError("closed", "the client was closed"));
  }

  /** GET /Vehicle/Speed?filter=<json>; the path may use dots or slashes, slashes are sent. */
  private urlFor(message: Message): string {
    const segments = String(message["path"]).split(/[./]/).map(encodeURIComponent).join("/");
    const prefix = `${this.base.origin}${this.base.pathname.replace(/\/+$/, "")}`;
    const filter = message["filter"];
    const query = filter === undefined ? "" : `?filter=${encodeURIComponent(JSON.stringify(filter))}`;
    return `${prefix}/${segments}${query}`;
  }

  private init(message: Message, signal: AbortSignal): RequestInit {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = this.settings.authorization();
    if (token !== undefined) headers["Authorization"] = `Bearer ${token}`;
    if (message["action"] !== "set") return { method: "GET", headers, signal };
    headers["Content-Type"] = "application/json";
    return { method: "POST", headers, signal, body: JSON.stringify({ value: message["value"] }) };
  }
}

/** The body is the VISS answer without action/requestId; an error comes with status = number. */
async function readAnswer(response: Response, action: string): Promise<Message> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = isObject(body) ? errorInfo(body["error"]) : undefined;
  if (error !== undefined) throw new VissError(error, action);
  if (!response.ok) {
    const reason = HTTP_REASONS[response.status] ?? "http_error";
    const description = response.statusText || text.slice(0, 200);
    throw new VissError({ number: String(response.status), reason, description }, action);
  }
  if (!isObject(body)) throw new VissClientError("protocol", `${action}: the server answered something that is not a JSON object`);
  return body;
}

// ---------------------------------------------------------------------------------------------
// The client

export class VissClient {
  readonly transport: "wss" | "ws" | "https" | "http" | "mqtts" | "mqtt" | "grpcs" | "grpc";
  private token: string | undefined;
  private readonly emitter = new Emitter();
  private readonly channel: WebSocketChannel | HttpChannel;

  private constructor(url: URL, options: ClientOptions, makeSocket: SocketFactory | undefined) {
    this.transport = url.protocol.slice(0, -1) as VissClient["transport"];
    this.token = options.authorization;
    const settings = settingsFrom(options, () => this.token);
    this.channel = makeSocket === undefined
      ? new HttpChannel(url, settings)
      : new WebSocketChannel(url.href, makeSocket, settings, this.emitter);
  }

  /** Connects (WebSocket) or just prepares (HTTP). A first connection that fails rejects. */
  static async connect(options: ClientOptions): Promise<VissClient> {
    const url = new URL(options.url);
    const scheme = url.protocol.slice(0, -1);
    if (scheme === "https" || scheme === "http") return new VissClient(url, options, undefined);
    let factory: SocketFactory;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (scheme === "mqtts" || scheme === "mqtt" || scheme === "grpcs" || scheme === "grpc") {
      try {
        factory = scheme.startsWith("mqtt")
          ? await mqttSocketFactory(options.ca, timeoutMs, takeCredentials(url))
          : await grpcSocketFactory(options.ca, timeoutMs);
      } catch (error) {
        throw new VissClientError("unsupported", error instanceof Error ? error.message : String(error), { cause: error });
      }
    } else if (scheme === "wss" || scheme === "ws") {
      factory = await socketFactory(options);
    } else {
      throw new VissClientError("unsupported", `unsupported URL scheme "${scheme}:" (use wss, ws, https, http, grpcs, grpc, mqtts or mqtt)`);
    }
    const client = new VissClient(url, options, factory);
    await (client.channel as WebSocketChannel).start();
    return client;
  }

  /** Closes the connection, stops reconnecting and rejects every pending request. */
  close(): Promise<void> {
    return this.channel.close();
  }

  /** Sets (or with undefined removes) the token sent with later requests. */
  authorize(token: string | undefined): void {
    this.token = token;
  }

  /** The whole answer: `data` (one object or an array) or, with a metadata filter, `metadata`. */
  get(path: string, filter?: Filter, opts?: CallOptions): Promise<any> {
    return this.channel.request(defined({ action: "get", path, filter }), opts);
  }

  async set(path: string, wireValue: unknown, opts?: CallOptions): Promise<void> {
    await this.channel.request({ action: "set", path, value: wireValue }, opts);
  }

  /**
   * Subscribes; `onEvent` gets each event's `data` member, in order. The subscription survives
   * reconnects. `onEnd` is called if the server ends it (an error event) or it cannot be restored.
   */
  async subscribe(path: string, filter: Filter | undefined, onEvent: (data: any) => void,
                  onEnd?: (error: VissError) => void, opts: CallOptions = {}): Promise<Subscription> {
    if (this.channel instanceof HttpChannel) {
      throw new VissClientError("unsupported", `subscribe needs a WebSocket connection (wss://); ${this.transport} has no subscriptions`);
    }
    return this.channel.subscribe(path, filter, onEvent, onEnd, opts);
  }

  async unsubscribeAll(): Promise<void> {
    if (this.channel instanceof WebSocketChannel) await this.channel.unsubscribeAll();
  }

  /**
   * "open" (connected), "close" (code, reason), "reconnecting" (attempt, delayMs),
   * "reconnected" (subscriptions restored), "error" (an Error). Returns a function that removes
   * the listener.
   */
  on(event: ClientEvent, listener: (...args: any[]) => void): () => void {
    return this.emitter.on(event, listener);
  }
}
