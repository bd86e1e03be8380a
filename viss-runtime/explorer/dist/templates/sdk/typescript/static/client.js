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
import { mqttSocketFactory } from "./mqtt.js";
/** A request's timeout when the options give none. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** An error answered by the server (or, for HTTP, its status), with the VISS error fields. */
export class VissError extends Error {
    number;
    reason;
    description;
    /** The action that failed: "get", "set", "subscribe", "unsubscribe" or "subscription". */
    action;
    constructor(error, action) {
        super(`${action} failed: ${error.number} ${error.reason}: ${error.description}`);
        this.name = "VissError";
        this.number = error.number;
        this.reason = error.reason;
        this.description = error.description;
        this.action = action;
    }
}
/** A failure on this side of the wire: the server never answered, or could not be asked. */
export class VissClientError extends Error {
    code;
    constructor(code, message, options) {
        super(message, options);
        this.name = "VissClientError";
        this.code = code;
    }
}
const SUBPROTOCOL = "VISSv3";
const MAX_TIMER_MS = 2_147_483_647;
function settingsFrom(options, authorization) {
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
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
function errorInfo(value) {
    if (!isObject(value))
        return undefined;
    return {
        number: String(value["number"] ?? ""),
        reason: String(value["reason"] ?? ""),
        description: String(value["description"] ?? ""),
    };
}
/** A message without its undefined members (JSON.stringify drops them too; this is for HTTP). */
function defined(message) {
    return Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined));
}
function describeRequest(message) {
    return `${String(message["action"])} ${String(message["path"] ?? message["subscriptionId"] ?? "")}`.trim();
}
/** Turns a local failure into a VissError for the callbacks that only take VissError (onEnd). */
function asVissError(error, action) {
    if (error instanceof VissError)
        return error;
    const description = error instanceof Error ? error.message : String(error);
    return new VissError({ number: "503", reason: "service_unavailable", description }, action);
}
/** Refuses a new request before it is queued: closed client, aborted signal, too many pending. */
function refusal(closed, pending, maxPending, opts) {
    if (closed)
        return new VissClientError("closed", "the client is closed");
    if (opts.signal?.aborted)
        return opts.signal.reason;
    if (pending >= maxPending) {
        return new VissClientError("too_many_pending", `${pending} requests already wait for an answer (maxPending)`);
    }
    return undefined;
}
/** Arms the request's timeout and abort signal; `fail` is called at most once by either. */
function guard(opts, timeoutMs, what, fail) {
    const ms = opts.timeoutMs ?? timeoutMs;
    // Timers take at most 2^31 - 1 ms; a larger value would fire at once.
    const delay = Math.min(Math.max(ms, 0), MAX_TIMER_MS);
    const timer = setTimeout(() => fail(new VissClientError("timeout", `${what}: no answer within ${ms} ms`)), delay);
    const signal = opts.signal;
    const onAbort = () => fail(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    return () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
    };
}
class Emitter {
    listeners = new Map();
    on(event, listener) {
        let set = this.listeners.get(event);
        if (set === undefined) {
            set = new Set();
            this.listeners.set(event, set);
        }
        set.add(listener);
        return () => void set.delete(listener);
    }
    emit(event, ...args) {
        for (const listener of [...(this.listeners.get(event) ?? [])]) {
            try {
                listener(...args);
            }
            catch (error) {
                // A throwing listener must not break the connection's message loop.
                if (event !== "error")
                    this.callbackFailed(error);
            }
        }
    }
    /** A user callback threw: tell the "error" listeners, or the console when nobody listens. */
    callbackFailed(error) {
        if ((this.listeners.get("error")?.size ?? 0) > 0)
            this.emit("error", error);
        else
            console.error("vss client: a callback threw", error);
    }
}
function isNode() {
    const runtime = globalThis;
    return typeof runtime.process?.versions?.node === "string";
}
async function loadWsPackage() {
    // A variable specifier: browser bundlers must not try to bundle "ws", and tsc must not
    // need its types in a generated SDK that only targets browsers.
    const specifier = "ws";
    try {
        const module = await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
        return (module.default ?? module.WebSocket);
    }
    catch (error) {
        throw new VissClientError("unsupported", 'this runtime has no global WebSocket: install the "ws" package (npm install ws)', { cause: error });
    }
}
async function socketFactory(options) {
    const tls = options.ca === undefined ? undefined : { ca: options.ca };
    if (options.WebSocket !== undefined) {
        const custom = options.WebSocket;
        return (url) => new custom(url, SUBPROTOCOL, tls);
    }
    const native = globalThis.WebSocket;
    // Node's built-in WebSocket cannot take a CA; with `ca` the "ws" package is needed.
    // Browsers ignore `ca`: they trust what the browser trusts.
    const needsWs = native === undefined || (isNode() && tls !== undefined);
    if (!needsWs)
        return (url) => new native(url, SUBPROTOCOL);
    if (!isNode())
        throw new VissClientError("unsupported", "this runtime has no WebSocket");
    const ws = await loadWsPackage();
    return (url) => new ws(url, SUBPROTOCOL, tls);
}
/**
 * grpc.ts's socket factory, loaded only for grpc URLs. A variable specifier keeps grpc.ts, and
 * the generated .proto text it imports, out of builds that never speak gRPC: browser bundles,
 * and the signal explorer, which compiles this file without the generated ones.
 */
async function grpcSocketFactory(ca, timeoutMs) {
    const specifier = "./grpc.js";
    const module = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier));
    return module.grpcSocketFactory(ca, timeoutMs);
}
/**
 * The broker's user and password of an MQTT URL (`mqtts://user:password@broker/<VID>`),
 * taken out of `url`: messages name the URL, never the password.
 */
function takeCredentials(url) {
    if (url.username === "" && url.password === "")
        return undefined;
    const credentials = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = "";
    url.password = "";
    return credentials;
}
function socketErrorText(event) {
    const message = isObject(event) ? event["message"] : undefined;
    return typeof message === "string" && message !== "" ? message : "WebSocket error";
}
function frameText(data) {
    if (typeof data === "string")
        return data;
    // The "ws" package may hand text frames over as a Buffer (a Uint8Array).
    if (data instanceof Uint8Array || data instanceof ArrayBuffer)
        return new TextDecoder().decode(data);
    return undefined;
}
/** Handlers that do nothing: "ws" throws on an "error" event nobody listens to, so never null. */
function detach(socket) {
    const ignore = () => undefined;
    socket.onopen = ignore;
    socket.onmessage = ignore;
    socket.onclose = ignore;
    socket.onerror = ignore;
}
function backoffDelay(policy, attempt) {
    const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
    // Jitter: after a server restart, many clients should not all come back in the same instant.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
class SubscriptionHandle {
    path;
    filter;
    onEvent;
    onEnd;
    channel;
    id = "";
    active = true;
    constructor(path, filter, onEvent, onEnd, channel) {
        this.path = path;
        this.filter = filter;
        this.onEvent = onEvent;
        this.onEnd = onEnd;
        this.channel = channel;
    }
    unsubscribe() {
        return this.channel.unsubscribe(this);
    }
}
class WebSocketChannel {
    url;
    makeSocket;
    settings;
    emitter;
    socket;
    state = "connecting";
    lastRequestId = 0;
    attempt = 0;
    reconnectTimer;
    pending = new Map();
    /** Server id -> subscription, for the ids valid on the current connection only. */
    routes = new Map();
    /** Every live subscription; re-created on each new connection. */
    subscriptions = new Set();
    constructor(url, makeSocket, settings, emitter) {
        this.url = url;
        this.makeSocket = makeSocket;
        this.settings = settings;
        this.emitter = emitter;
    }
    async start() {
        this.adopt(await this.openSocket(), false);
    }
    request(message, opts = {}, subscription) {
        return new Promise((resolve, reject) => {
            const refused = refusal(this.state === "closed", this.pending.size, this.settings.maxPending, opts);
            if (refused !== undefined)
                return reject(refused);
            const requestId = this.nextRequestId();
            const full = { ...this.authorized(message), requestId };
            const dispose = guard(opts, this.settings.timeoutMs, describeRequest(message), (error) => this.settle(requestId)?.reject(error));
            const entry = { message: full, sent: false, subscription, resolve, reject, dispose };
            this.pending.set(requestId, entry);
            // While (re)connecting it waits here; adopt() sends it when the connection is up.
            if (this.state === "open")
                this.transmit(entry);
        });
    }
    async subscribe(path, filter, onEvent, onEnd, opts) {
        const handle = new SubscriptionHandle(path, filter, onEvent, onEnd, this);
        await this.request(subscribeMessage(handle), opts, handle);
        return handle;
    }
    async unsubscribe(handle) {
        if (!handle.active)
            return;
        handle.active = false;
        this.subscriptions.delete(handle);
        // Not bound on this connection (reconnecting): the server has nothing to cancel, and a
        // re-subscribe still in flight is cancelled when its answer comes (see bind()).
        if (this.routes.get(handle.id) !== handle)
            return;
        this.routes.delete(handle.id);
        try {
            await this.request({ action: "unsubscribe", subscriptionId: handle.id });
        }
        catch (error) {
            if (!unsubscribeFailureIsHarmless(error))
                throw error;
        }
    }
    async unsubscribeAll() {
        await Promise.all([...this.subscriptions].map((handle) => handle.unsubscribe()));
    }
    async close() {
        const socket = this.socket;
        this.shutDown(new VissClientError("closed", "the client was closed"), false);
        if (socket === undefined)
            return;
        await closeSocket(socket);
        this.emitter.emit("close", 1000, "client closed");
    }
    // --- sending -------------------------------------------------------------------------------
    nextRequestId() {
        this.lastRequestId += 1;
        return String(this.lastRequestId);
    }
    authorized(message) {
        const token = this.settings.authorization();
        // VISS has no authorization member on unsubscribe.
        if (token === undefined || message["action"] === "unsubscribe")
            return message;
        return { ...message, authorization: token };
    }
    transmit(entry) {
        try {
            this.socket?.send(JSON.stringify(entry.message));
            entry.sent = true;
        }
        catch {
            // The socket is going down; the request stays queued for the next connection.
        }
    }
    /** Sends what waited while there was no connection, in the order it was asked. */
    flush() {
        for (const entry of this.pending.values()) {
            if (!entry.sent)
                this.transmit(entry);
        }
    }
    /** Removes a pending request and disarms its timeout; undefined when it is already gone. */
    settle(requestId) {
        const entry = this.pending.get(requestId);
        if (entry === undefined)
            return undefined;
        this.pending.delete(requestId);
        entry.dispose();
        return entry;
    }
    /** Fire and forget: cancels a server subscription nobody wants (its request was given up). */
    cancelOnServer(subscriptionId) {
        const message = { action: "unsubscribe", subscriptionId, requestId: this.nextRequestId() };
        try {
            this.socket?.send(JSON.stringify(message));
        }
        catch {
            // The connection is going down, and the subscription with it.
        }
    }
    // --- receiving -----------------------------------------------------------------------------
    receive(data) {
        const text = frameText(data);
        let message;
        try {
            message = text === undefined ? undefined : JSON.parse(text);
        }
        catch {
            message = undefined;
        }
        if (!isObject(message)) {
            this.emitter.emit("error", new VissClientError("protocol", "the server sent a frame that is not a JSON object"));
            return;
        }
        if (message["action"] === "subscription")
            this.deliver(message);
        else
            this.answer(message);
    }
    answer(message) {
        const requestId = message["requestId"];
        const entry = typeof requestId === "string" ? this.settle(requestId) : undefined;
        if (entry === undefined)
            return this.answerTooLate(message);
        const action = String(entry.message["action"]);
        const error = errorInfo(message["error"]);
        if (error !== undefined)
            return entry.reject(new VissError(error, action));
        if (entry.subscription !== undefined && !this.bind(entry.subscription, message)) {
            return entry.reject(new VissClientError("protocol", "subscribe answer without a subscriptionId"));
        }
        entry.resolve(message);
    }
    /** A subscribe that was aborted or timed out may still have been created: cancel it. */
    answerTooLate(message) {
        const id = message["subscriptionId"];
        if (message["action"] === "subscribe" && message["error"] === undefined && typeof id === "string") {
            this.cancelOnServer(id);
        }
    }
    /** Routes the new server id to the subscription, before any event for it can arrive. */
    bind(handle, answer) {
        const id = answer["subscriptionId"];
        if (typeof id !== "string")
            return false;
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
    deliver(event) {
        const handle = this.routes.get(String(event["subscriptionId"]));
        if (handle === undefined)
            return; // unsubscribed; events still on the wire are dropped
        const error = errorInfo(event["error"]);
        if (error !== undefined)
            return this.end(handle, new VissError(error, "subscription"));
        try {
            handle.onEvent(event["data"]);
        }
        catch (thrown) {
            this.emitter.callbackFailed(thrown);
        }
    }
    /** The subscription is over (error event, or it could not be re-created): tell its owner. */
    end(handle, error) {
        if (!handle.active)
            return;
        handle.active = false;
        this.subscriptions.delete(handle);
        if (this.routes.get(handle.id) === handle)
            this.routes.delete(handle.id);
        try {
            handle.onEnd?.(error);
        }
        catch (thrown) {
            this.emitter.callbackFailed(thrown);
        }
    }
    // --- connection life cycle -----------------------------------------------------------------
    /** Opens a socket; resolves once it is open, rejects if it closes or errs first or times out. */
    openSocket() {
        return new Promise((resolve, reject) => {
            let socket;
            try {
                socket = this.makeSocket(this.url);
            }
            catch (error) {
                return reject(new VissClientError("connection_failed", `could not connect to ${this.url}`, { cause: error }));
            }
            let settled = false;
            const finish = (error) => {
                if (settled)
                    return;
                settled = true;
                clearTimeout(timer);
                detach(socket);
                if (error === undefined)
                    return resolve(socket);
                socket.close();
                reject(error);
            };
            const fail = (detail) => finish(new VissClientError("connection_failed", `could not connect to ${this.url}: ${detail}`));
            const timer = setTimeout(() => fail(`no answer within ${this.settings.timeoutMs} ms`), Math.min(this.settings.timeoutMs, MAX_TIMER_MS));
            socket.onopen = () => finish();
            socket.onerror = (event) => fail(socketErrorText(event));
            socket.onclose = (event) => fail(`closed with code ${event.code}`);
        });
    }
    /** Makes an open socket the current connection; after a reconnect, restores subscriptions. */
    adopt(socket, reconnected) {
        this.socket = socket;
        socket.onmessage = (event) => this.receive(event.data);
        socket.onclose = (event) => this.lost(socket, event.code, event.reason);
        socket.onerror = (event) => this.emitter.emit("error", new VissClientError("connection_lost", socketErrorText(event)));
        this.state = "open";
        this.attempt = 0;
        this.emitter.emit("open");
        if (reconnected)
            void this.resubscribeAll();
        this.flush();
    }
    lost(socket, code, reason) {
        if (socket !== this.socket)
            return;
        this.socket = undefined;
        detach(socket);
        this.routes.clear(); // the server's ids died with the connection
        this.failSent(new VissClientError("connection_lost", `connection to ${this.url} lost (code ${code})`));
        this.emitter.emit("close", code, reason);
        if (this.state === "closed")
            return;
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
    failSent(error) {
        for (const [requestId, entry] of [...this.pending]) {
            if (entry.sent)
                this.settle(requestId)?.reject(error);
        }
    }
    scheduleReconnect(policy) {
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
    async reconnect(policy) {
        this.reconnectTimer = undefined;
        let socket;
        try {
            socket = await this.openSocket();
        }
        catch (error) {
            if (this.state === "closed")
                return;
            this.emitter.emit("error", error);
            return this.scheduleReconnect(policy);
        }
        if (this.state === "closed")
            return socket.close(1000);
        this.adopt(socket, true);
    }
    async resubscribeAll() {
        await Promise.all([...this.subscriptions].map((handle) => this.resubscribe(handle)));
        if (this.state === "open")
            this.emitter.emit("reconnected");
    }
    /** Re-creates one subscription with its original path and filter; bind() gives it the new id. */
    async resubscribe(handle) {
        try {
            await this.request(subscribeMessage(handle), {}, handle);
        }
        catch (error) {
            // Lost again or closed: the next connection retries, or close() ended it anyway.
            if (error instanceof VissClientError && (error.code === "connection_lost" || error.code === "closed"))
                return;
            this.end(handle, asVissError(error, "subscribe"));
        }
    }
    /** Stops for good: no reconnect, pending requests rejected, subscriptions dropped. */
    shutDown(error, notifySubscriptions) {
        this.state = "closed";
        if (this.reconnectTimer !== undefined)
            clearTimeout(this.reconnectTimer);
        this.reconnectTimer = undefined;
        for (const requestId of [...this.pending.keys()])
            this.settle(requestId)?.reject(error);
        const ended = [...this.subscriptions];
        this.subscriptions.clear();
        this.routes.clear();
        for (const handle of ended) {
            if (notifySubscriptions)
                this.end(handle, asVissError(error, "subscription"));
            handle.active = false;
        }
    }
}
function subscribeMessage(handle) {
    const message = { action: "subscribe", path: handle.path };
    if (handle.filter !== undefined)
        message["filter"] = handle.filter;
    return message;
}
/** The subscription is gone either way: unknown to the server, or its connection is down. */
function unsubscribeFailureIsHarmless(error) {
    if (error instanceof VissError)
        return error.number === "404";
    return error instanceof VissClientError && (error.code === "connection_lost" || error.code === "closed");
}
/** Closes a socket and waits (at most a second) for the close to complete. */
function closeSocket(socket) {
    return new Promise((resolve) => {
        const done = () => {
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
export const HTTP_REASONS = {
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
    base;
    settings;
    closed = false;
    inFlight = new Set();
    constructor(base, settings) {
        this.base = base;
        this.settings = settings;
    }
    async request(message, opts = {}) {
        const refused = refusal(this.closed, this.inFlight.size, this.settings.maxPending, opts);
        if (refused !== undefined)
            throw refused;
        const controller = new AbortController();
        const dispose = guard(opts, this.settings.timeoutMs, describeRequest(message), (error) => controller.abort(error));
        this.inFlight.add(controller);
        try {
            const response = await fetch(this.urlFor(message), this.init(message, controller.signal));
            return await readAnswer(response, String(message["action"]));
        }
        catch (error) {
            if (controller.signal.aborted)
                throw controller.signal.reason;
            if (error instanceof VissError || error instanceof VissClientError)
                throw error;
            throw new VissClientError("connection_failed", `${describeRequest(message)}: ${this.base.origin} unreachable`, { cause: error });
        }
        finally {
            dispose();
            this.inFlight.delete(controller);
        }
    }
    async close() {
        this.closed = true;
        for (const controller of this.inFlight)
            controller.abort(new VissClientError("closed", "the client was closed"));
    }
    /** GET /Vehicle/Speed?filter=<json>; the path may use dots or slashes, slashes are sent. */
    urlFor(message) {
        const segments = String(message["path"]).split(/[./]/).map(encodeURIComponent).join("/");
        const prefix = `${this.base.origin}${this.base.pathname.replace(/\/+$/, "")}`;
        const filter = message["filter"];
        const query = filter === undefined ? "" : `?filter=${encodeURIComponent(JSON.stringify(filter))}`;
        return `${prefix}/${segments}${query}`;
    }
    init(message, signal) {
        const headers = { Accept: "application/json" };
        const token = this.settings.authorization();
        if (token !== undefined)
            headers["Authorization"] = `Bearer ${token}`;
        if (message["action"] !== "set")
            return { method: "GET", headers, signal };
        headers["Content-Type"] = "application/json";
        return { method: "POST", headers, signal, body: JSON.stringify({ value: message["value"] }) };
    }
}
/** The body is the VISS answer without action/requestId; an error comes with status = number. */
async function readAnswer(response, action) {
    const text = await response.text();
    let body;
    try {
        body = text === "" ? {} : JSON.parse(text);
    }
    catch {
        body = undefined;
    }
    const error = isObject(body) ? errorInfo(body["error"]) : undefined;
    if (error !== undefined)
        throw new VissError(error, action);
    if (!response.ok) {
        const reason = HTTP_REASONS[response.status] ?? "http_error";
        const description = response.statusText || text.slice(0, 200);
        throw new VissError({ number: String(response.status), reason, description }, action);
    }
    if (!isObject(body))
        throw new VissClientError("protocol", `${action}: the server answered something that is not a JSON object`);
    return body;
}
// ---------------------------------------------------------------------------------------------
// The client
export class VissClient {
    transport;
    token;
    emitter = new Emitter();
    channel;
    constructor(url, options, makeSocket) {
        this.transport = url.protocol.slice(0, -1);
        this.token = options.authorization;
        const settings = settingsFrom(options, () => this.token);
        this.channel = makeSocket === undefined
            ? new HttpChannel(url, settings)
            : new WebSocketChannel(url.href, makeSocket, settings, this.emitter);
    }
    /** Connects (WebSocket) or just prepares (HTTP). A first connection that fails rejects. */
    static async connect(options) {
        const url = new URL(options.url);
        const scheme = url.protocol.slice(0, -1);
        if (scheme === "https" || scheme === "http")
            return new VissClient(url, options, undefined);
        let factory;
        const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        if (scheme === "mqtts" || scheme === "mqtt" || scheme === "grpcs" || scheme === "grpc") {
            try {
                factory = scheme.startsWith("mqtt")
                    ? await mqttSocketFactory(options.ca, timeoutMs, takeCredentials(url))
                    : await grpcSocketFactory(options.ca, timeoutMs);
            }
            catch (error) {
                throw new VissClientError("unsupported", error instanceof Error ? error.message : String(error), { cause: error });
            }
        }
        else if (scheme === "wss" || scheme === "ws") {
            factory = await socketFactory(options);
        }
        else {
            throw new VissClientError("unsupported", `unsupported URL scheme "${scheme}:" (use wss, ws, https, http, grpcs, grpc, mqtts or mqtt)`);
        }
        const client = new VissClient(url, options, factory);
        await client.channel.start();
        return client;
    }
    /** Closes the connection, stops reconnecting and rejects every pending request. */
    close() {
        return this.channel.close();
    }
    /** Sets (or with undefined removes) the token sent with later requests. */
    authorize(token) {
        this.token = token;
    }
    /** The whole answer: `data` (one object or an array) or, with a metadata filter, `metadata`. */
    get(path, filter, opts) {
        return this.channel.request(defined({ action: "get", path, filter }), opts);
    }
    async set(path, wireValue, opts) {
        await this.channel.request({ action: "set", path, value: wireValue }, opts);
    }
    /**
     * Subscribes; `onEvent` gets each event's `data` member, in order. The subscription survives
     * reconnects. `onEnd` is called if the server ends it (an error event) or it cannot be restored.
     */
    async subscribe(path, filter, onEvent, onEnd, opts = {}) {
        if (this.channel instanceof HttpChannel) {
            throw new VissClientError("unsupported", `subscribe needs a WebSocket connection (wss://); ${this.transport} has no subscriptions`);
        }
        return this.channel.subscribe(path, filter, onEvent, onEnd, opts);
    }
    async unsubscribeAll() {
        if (this.channel instanceof WebSocketChannel)
            await this.channel.unsubscribeAll();
    }
    /**
     * "open" (connected), "close" (code, reason), "reconnecting" (attempt, delayMs),
     * "reconnected" (subscriptions restored), "error" (an Error). Returns a function that removes
     * the listener.
     */
    on(event, listener) {
        return this.emitter.on(event, listener);
    }
}
