// Codecs: convert between a typed TypeScript value and its VISS wire form.
//
// On the wire every scalar is a JSON string ("42", "true", "3.5"), an array is a JSON array
// of such strings and a struct is a JSON object keyed by the VSS property names. Encoding
// checks the value against the datatype and the node's limits so that a bad value fails
// here, with a precise message, instead of as a server-side 400 after a round trip.
//
// Errors: TypeError for a value of the wrong kind (a string for a number, a missing struct
// member), RangeError for a value of the right kind outside what the node accepts.
const INT_RANGES = {
    int8: [-128, 127],
    uint8: [0, 255],
    int16: [-32768, 32767],
    uint16: [0, 65535],
    int32: [-2147483648, 2147483647],
    uint32: [0, 4294967295],
};
const BIGINT_RANGES = {
    int64: [-(2n ** 63n), 2n ** 63n - 1n],
    uint64: [0n, 2n ** 64n - 1n],
};
// Largest finite IEEE 754 single-precision value; a "float" beyond it cannot be stored.
const FLOAT32_MAX = 3.4028234663852886e38;
// RFC 8259 number syntax, which VISS uses inside the value strings.
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;
// Strings starting with this prefix are in-line errors (VISS TRANSPORT §4.1.1), not values.
const INLINE_ERROR_PREFIX = "viss-inline:";
function describe(value) {
    if (typeof value === "string")
        return JSON.stringify(value);
    if (typeof value === "bigint")
        return `${value}n`;
    if (Array.isArray(value))
        return "an array";
    if (value === null)
        return "null";
    if (typeof value === "object")
        return "an object";
    return String(value);
}
function expectWireString(wire, vssType) {
    if (typeof wire !== "string") {
        throw new TypeError(`${vssType}: expected a string on the wire, got ${describe(wire)}`);
    }
    return wire;
}
/** Runs `step`, prefixing any error message with `label` so nested failures name their place. */
function within(label, step) {
    try {
        return step();
    }
    catch (error) {
        if (error instanceof RangeError)
            throw new RangeError(`${label}: ${error.message}`);
        if (error instanceof TypeError)
            throw new TypeError(`${label}: ${error.message}`);
        throw error;
    }
}
function checkLimits(vssType, value, min, max) {
    if (min !== undefined && value < min) {
        throw new RangeError(`${vssType}: ${describe(value)} is below the minimum ${describe(min)}`);
    }
    if (max !== undefined && value > max) {
        throw new RangeError(`${vssType}: ${describe(value)} is above the maximum ${describe(max)}`);
    }
}
export function boolean() {
    return {
        vssType: "boolean",
        encode(value) {
            if (typeof value !== "boolean")
                throw new TypeError(`boolean: expected true or false, got ${describe(value)}`);
            return value ? "true" : "false";
        },
        decode(wire) {
            const text = expectWireString(wire, "boolean");
            if (text === "true")
                return true;
            if (text === "false")
                return false;
            throw new TypeError(`boolean: ${describe(text)} is neither "true" nor "false"`);
        },
    };
}
export function string() {
    return {
        vssType: "string",
        encode(value) {
            if (typeof value !== "string")
                throw new TypeError(`string: expected a string, got ${describe(value)}`);
            if (value.startsWith(INLINE_ERROR_PREFIX)) {
                throw new RangeError(`string: values may not start with the reserved prefix "${INLINE_ERROR_PREFIX}"`);
            }
            return value;
        },
        decode(wire) {
            return expectWireString(wire, "string");
        },
    };
}
/** Integers that fit a JS number exactly (up to 32 bits); 64-bit types use `bigint()`. */
export function int(vssType, min, max) {
    const range = INT_RANGES[vssType];
    if (range === undefined)
        throw new TypeError(`int: unknown integer type ${describe(vssType)}`);
    const [lowest, highest] = range;
    const checkType = (value) => {
        if (!Number.isInteger(value))
            throw new RangeError(`${vssType}: ${describe(value)} is not an integer`);
        if (value < lowest || value > highest) {
            throw new RangeError(`${vssType}: ${describe(value)} is outside ${lowest}..${highest}`);
        }
    };
    return {
        vssType,
        encode(value) {
            if (typeof value !== "number")
                throw new TypeError(`${vssType}: expected a number, got ${describe(value)}`);
            checkType(value);
            checkLimits(vssType, value, min, max);
            return String(value);
        },
        decode(wire) {
            const text = expectWireString(wire, vssType);
            // Accept any JSON number text ("1e3" is a valid VISS integer), but it must be whole.
            if (!JSON_NUMBER.test(text) && !INTEGER_TEXT.test(text)) {
                throw new TypeError(`${vssType}: ${describe(text)} is not a number`);
            }
            const value = Number(text);
            checkType(value);
            return value;
        },
    };
}
/** 64-bit integers as JS bigint: a number would silently lose precision above 2^53. */
export function bigint(vssType, min, max) {
    const range = BIGINT_RANGES[vssType];
    if (range === undefined)
        throw new TypeError(`bigint: unknown 64-bit integer type ${describe(vssType)}`);
    const [lowest, highest] = range;
    const checkType = (value) => {
        if (value < lowest || value > highest) {
            throw new RangeError(`${vssType}: ${describe(value)} is outside ${lowest}..${highest}`);
        }
    };
    return {
        vssType,
        encode(value) {
            if (typeof value !== "bigint")
                throw new TypeError(`${vssType}: expected a bigint, got ${describe(value)}`);
            checkType(value);
            checkLimits(vssType, value, min, max);
            return value.toString();
        },
        decode(wire) {
            const text = expectWireString(wire, vssType);
            if (!INTEGER_TEXT.test(text))
                throw new TypeError(`${vssType}: ${describe(text)} is not an integer`);
            const value = BigInt(text);
            checkType(value);
            return value;
        },
    };
}
export function float(vssType, min, max) {
    if (vssType !== "float" && vssType !== "double") {
        throw new TypeError(`float: unknown floating-point type ${describe(vssType)}`);
    }
    const checkType = (value) => {
        // NaN and the infinities have no JSON number spelling, so they cannot travel.
        if (!Number.isFinite(value))
            throw new RangeError(`${vssType}: ${describe(value)} is not a finite number`);
        if (vssType === "float" && Math.abs(value) > FLOAT32_MAX) {
            throw new RangeError(`${vssType}: ${describe(value)} does not fit a 32-bit float`);
        }
    };
    return {
        vssType,
        encode(value) {
            if (typeof value !== "number")
                throw new TypeError(`${vssType}: expected a number, got ${describe(value)}`);
            checkType(value);
            checkLimits(vssType, value, min, max);
            return String(value);
        },
        decode(wire) {
            const text = expectWireString(wire, vssType);
            if (!JSON_NUMBER.test(text) && !INTEGER_TEXT.test(text)) {
                throw new TypeError(`${vssType}: ${describe(text)} is not a number`);
            }
            const value = Number(text);
            checkType(value);
            return value;
        },
    };
}
/** A value restricted to the node's `allowed` list; `base` does the datatype work. */
export function oneOf(base, allowed) {
    const list = allowed.map(describe).join(", ");
    const check = (value) => {
        if (!allowed.includes(value)) {
            throw new RangeError(`${base.vssType}: ${describe(value)} is not one of the allowed values (${list})`);
        }
        return value;
    };
    return {
        vssType: base.vssType,
        encode(value) {
            // The base codec first, so a wrong kind of value is a TypeError, not "not allowed".
            const wire = base.encode(value);
            check(value);
            return wire;
        },
        decode(wire) {
            return check(base.decode(wire));
        },
    };
}
export function array(element) {
    const vssType = `${element.vssType}[]`;
    return {
        vssType,
        encode(value) {
            if (!Array.isArray(value))
                throw new TypeError(`${vssType}: expected an array, got ${describe(value)}`);
            // VISS has no empty array value (the server answers 400): refused before sending.
            if (value.length === 0)
                throw new RangeError(`${vssType}: an empty array is not a VISS value`);
            return value.map((item, index) => within(`${vssType}[${index}]`, () => element.encode(item)));
        },
        decode(wire) {
            if (!Array.isArray(wire))
                throw new TypeError(`${vssType}: expected an array on the wire, got ${describe(wire)}`);
            return wire.map((item, index) => within(`${vssType}[${index}]`, () => element.decode(item)));
        },
    };
}
function isPlainObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
/**
 * A VSS struct: an object with exactly the members listed, keyed by VSS property name.
 * Every member is required on encode and unknown members are refused, so a typo in a
 * property name is caught here. On decode unknown members are ignored: a newer server may
 * know more properties than this generated SDK.
 */
export function struct(vssName, members) {
    const entries = Object.entries(members);
    const known = new Set(entries.map(([name]) => name));
    return {
        vssType: vssName,
        encode(value) {
            if (!isPlainObject(value))
                throw new TypeError(`${vssName}: expected an object, got ${describe(value)}`);
            for (const name of Object.keys(value)) {
                if (!known.has(name))
                    throw new TypeError(`${vssName}: unknown member ${describe(name)}`);
            }
            const wire = {};
            for (const [name, codec] of entries) {
                const member = value[name];
                if (member === undefined)
                    throw new TypeError(`${vssName}: member ${describe(name)} is missing`);
                wire[name] = within(`${vssName}.${name}`, () => codec.encode(member));
            }
            return wire;
        },
        decode(wire) {
            if (!isPlainObject(wire))
                throw new TypeError(`${vssName}: expected an object on the wire, got ${describe(wire)}`);
            const value = {};
            for (const [name, codec] of entries) {
                if (!(name in wire))
                    throw new TypeError(`${vssName}: member ${describe(name)} is missing on the wire`);
                value[name] = within(`${vssName}.${name}`, () => codec.decode(wire[name]));
            }
            return value;
        },
    };
}
