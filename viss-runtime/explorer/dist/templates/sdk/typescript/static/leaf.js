// Typed leaves: what the generated tree constructs for every sensor, attribute and actuator.
// A leaf knows its path and codec, so callers read and write plain TypeScript values while
// the client moves wire values.
import { VissError } from "./client.js";
import { Filter } from "./filter.js";
// A string value with this prefix is an in-line error (VISS TRANSPORT §4.1.1), not data.
const INLINE_ERROR_PREFIX = "viss-inline:";
const SCALAR_TYPES = new Set([
    "boolean", "string", "float", "double",
    "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
]);
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
function unavailable(path, action, description) {
    return new VissError({ number: "404", reason: "unavailable_data", description: `${path}: ${description}` }, action);
}
/** The `{path, dp}` item for `path` in a `data` member, which is one item or an array of them. */
function itemFor(data, path) {
    const items = Array.isArray(data) ? data : [data];
    const objects = items.filter(isObject);
    return objects.find((item) => item["path"] === path) ?? (objects.length === 1 ? objects[0] : undefined);
}
/** A `dp` member is one data point or an array of them (history, curve logging). */
function dataPointsOf(item) {
    const dp = item?.["dp"];
    if (dp === undefined || dp === null)
        return [];
    return Array.isArray(dp) ? dp : [dp];
}
export class Sensor {
    client;
    path;
    codec;
    constructor(client, path, codec) {
        this.client = client;
        this.path = path;
        this.codec = codec;
    }
    /** The current value; a VissError (404) when the node has no value yet. */
    async get(opts) {
        return (await this.getDataPoint(opts)).value;
    }
    async getDataPoint(opts) {
        const answer = await this.client.get(this.path, undefined, opts);
        const points = dataPointsOf(itemFor(isObject(answer) ? answer["data"] : undefined, this.path));
        const latest = points[points.length - 1];
        if (latest === undefined)
            throw unavailable(this.path, "get", "the answer has no data point");
        return this.decodePoint(latest, "get");
    }
    /**
     * Calls `onValue` for every value the server reports, in order. Without a filter: on every
     * change for scalar types; for arrays and structs (which VISS change filters do not cover)
     * once a second.
     */
    subscribe(onValue, filter, onEnd) {
        const onEvent = (data) => {
            // A decode error thrown here reaches the client's "error" listeners; the stream goes on.
            for (const point of dataPointsOf(itemFor(data, this.path)))
                onValue(this.decodePoint(point, "subscription"));
        };
        return this.client.subscribe(this.path, filter ?? this.defaultFilter(), onEvent, onEnd);
    }
    /** Recorded values of the last `period` (ISO 8601 duration, e.g. "PT1H"), oldest first. */
    async history(period, opts) {
        const answer = await this.client.get(this.path, Filter.history(period), opts);
        const points = dataPointsOf(itemFor(isObject(answer) ? answer["data"] : undefined, this.path));
        return points.map((point) => this.decodePoint(point, "get"));
    }
    /** This node's metadata (type, datatype, unit, min, max, allowed, description, ...). */
    async metadata(opts) {
        const answer = await this.client.get(this.path, Filter.metadata(), opts);
        const metadata = isObject(answer) ? answer["metadata"] : undefined;
        if (!isObject(metadata))
            throw unavailable(this.path, "get", "the answer has no metadata");
        // The server keys the answer by node name; hand back the node's own entry.
        const name = this.path.split(".").pop() ?? this.path;
        const own = metadata[name];
        return isObject(own) ? own : metadata;
    }
    defaultFilter() {
        return SCALAR_TYPES.has(this.codec.vssType) ? Filter.change("ne", 0) : Filter.timebased(1000);
    }
    /** Wire data point -> typed one; a missing value or an in-line error becomes a VissError. */
    decodePoint(point, action) {
        if (!isObject(point) || point["value"] === undefined || point["value"] === null) {
            throw unavailable(this.path, action, "no value available");
        }
        const value = point["value"];
        if (typeof value === "string" && value.startsWith(INLINE_ERROR_PREFIX)) {
            throw unavailable(this.path, action, value.slice(INLINE_ERROR_PREFIX.length));
        }
        return { value: this.codec.decode(value), ts: String(point["ts"] ?? "") };
    }
}
export class Attribute extends Sensor {
}
export class Actuator extends Sensor {
    /** Sets the target value. The codec checks it first: a bad value rejects without being sent. */
    async set(value, opts) {
        const wire = this.codec.encode(value);
        await this.client.set(this.path, wire, opts);
    }
}
