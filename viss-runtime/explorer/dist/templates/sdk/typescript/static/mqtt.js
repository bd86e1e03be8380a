// VISS over MQTT (TRANSPORT §5.3) for the client, in Node: through a broker to a vehicle
// that serves VISS over MQTT, for a client that cannot reach the vehicle directly. Needs the
// "mqtt" package (MQTT.js; an optional dependency of this SDK).
//
//   const { client, vehicle } = await connect({ url: "mqtts://broker:8883/VIN123", ca: brokerCa });
//
// The URL names the broker and the vehicle (`mqtt://` for a broker without TLS, chosen
// explicitly), and the broker's user and password where it wants them
// (`mqtts://user:password@broker:8883/VIN123`; client.ts takes them out of the URL, so no
// message shows them). Each request goes to `<VID>/Vehicle` in the envelope {"topic": <reply topic>,
// "request": "<the VISS request as a string>"}; answers and events come back on this client's
// own reply topic (`vssgen-client/<random>`). The broker connection is shaped like a
// WebSocket, so the WebSocket channel's request ids, timeouts and subscriptions serve it
// unchanged. MQTT.js reconnects by itself and the reply topic is subscribed again on every
// connect; the vehicle keeps subscriptions across broker faults, so their events resume on
// the same topic. A request whose answer a broker fault lost times out. The Python SDK's
// mqtt.py and the Rust client's `mqtt` module have the same shape.
/** A broker connection with the WebSocket API the client's channel uses. */
export class MqttSocket {
    protocol = "VISSv3";
    onopen = null;
    onmessage = null;
    onclose = null;
    onerror = null;
    client;
    requestTopic;
    replyTopic;
    opened = false;
    closed = false;
    constructor(url, connect, ca, timeoutMs, credentials) {
        const parsed = new URL(url);
        const vid = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ""));
        if (vid === "" || /[#+/\0]/.test(vid))
            throw new TypeError(`${url}: name the vehicle: mqtts://broker:8883/<VID>`);
        const token = [...crypto.getRandomValues(new Uint8Array(8))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
        this.requestTopic = `${vid}/Vehicle`;
        this.replyTopic = `vssgen-client/${token}`;
        this.client = connect(`${parsed.protocol}//${parsed.host}`, {
            clientId: `vssgen-client-${token}`, clean: true, reconnectPeriod: 1000, connectTimeout: timeoutMs,
            ...(ca === undefined ? {} : { ca }),
            ...credentials,
        });
        // A clean session forgot the reply topic: subscribe it on every connect.
        this.client.on("connect", () => this.client.subscribe(this.replyTopic, { qos: 1 }, (error) => {
            if (error !== null)
                return this.fail(error);
            if (this.opened)
                return;
            this.opened = true;
            this.onopen?.({});
        }));
        this.client.on("message", (topic, payload) => {
            if (topic === this.replyTopic)
                this.onmessage?.({ data: new TextDecoder().decode(payload) });
        });
        this.client.on("error", (error) => this.onerror?.(error));
        // Once open, MQTT.js reconnects by itself: only a first connection that ends is a failure.
        this.client.on("close", () => {
            if (!this.opened && !this.closed)
                this.fail(new Error("the broker closed the connection"));
        });
    }
    send(data) {
        if (this.closed)
            return;
        this.client.publish(this.requestTopic, JSON.stringify({ topic: this.replyTopic, request: data }), { qos: 1 });
    }
    close(code = 1000, reason = "") {
        if (this.closed)
            return;
        this.closed = true;
        this.client.end(true, {}, () => this.onclose?.({ code, reason }));
    }
    fail(error) {
        this.onerror?.(error);
        this.close(1006, error.message);
    }
}
/** Makes broker connections for mqtts:// and mqtt:// URLs (Node: MQTT.js). */
export async function mqttSocketFactory(ca, timeoutMs, credentials) {
    // A variable specifier: bundlers must not try to bundle "mqtt", and tsc must not need its
    // types in an SDK that does not use it.
    const specifier = "mqtt";
    let connect;
    try {
        const module = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier));
        const found = module.connect ?? module.default?.connect;
        if (found === undefined)
            throw new TypeError('the "mqtt" package has no connect()');
        connect = found;
    }
    catch (error) {
        throw new TypeError('mqtts:// and mqtt:// URLs need the "mqtt" package (npm install mqtt)', { cause: error });
    }
    return (url) => new MqttSocket(url, connect, ca, timeoutMs, credentials);
}
