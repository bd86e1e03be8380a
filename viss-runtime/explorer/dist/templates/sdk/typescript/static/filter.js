// Filter builders: typed constructors for the VISS v3.0 filter objects (CORE §7).
//
// Each builder returns the exact wire object, with every parameter written as a string as
// the v3.0 schema wants ("period": "100", not 100). Bad parameters throw RangeError here
// rather than coming back as "400 bad_request" from the server.
const LOGIC_OPS = {
    eq: "eq", ne: "ne", gt: "gt", gte: "gte", lt: "lt", lte: "lte", ge: "gte", le: "lte",
};
// ISO 8601 duration limited to days, hours, minutes and seconds (CORE §7.2).
const HISTORY_PERIOD = /^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$/;
function logicOp(op) {
    const known = LOGIC_OPS[op];
    if (known === undefined)
        throw new RangeError(`unknown logic operator ${JSON.stringify(op)}`);
    return known;
}
/** A number given as number or numeric string, written as the string the wire wants. */
function numeric(name, value) {
    const text = typeof value === "number" ? String(value) : value.trim();
    if (text === "" || !Number.isFinite(Number(text))) {
        throw new RangeError(`${name} must be a finite number, got ${JSON.stringify(value)}`);
    }
    return text;
}
function positiveInteger(name, value) {
    if (!Number.isInteger(value) || value <= 0) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    return String(value);
}
function positiveOrZero(depth) {
    if (!Number.isInteger(depth) || depth < 0)
        throw new RangeError(`metadata depth must be an integer >= 0, got ${depth}`);
    return String(depth);
}
function boundaryObject(range) {
    return { "logic-op": logicOp(range.logicOp), boundary: numeric("boundary", range.boundary) };
}
function historyPeriod(period) {
    const hasAmount = /\d/.test(period);
    if (!HISTORY_PERIOD.test(period) || !hasAmount || period.endsWith("T")) {
        throw new RangeError(`history period must be an ISO 8601 duration like "PT30M" or "P1DT2H", got ${JSON.stringify(period)}`);
    }
    const days = /^P(\d+)D/.exec(period);
    if (days?.[1] !== undefined && Number(days[1]) >= 999) {
        throw new RangeError(`history period must be under 999 days, got ${JSON.stringify(period)}`);
    }
    return period;
}
export const Filter = {
    /** An event every `periodMs` milliseconds with the current value. Subscribe only. */
    timebased(periodMs) {
        return { variant: "timebased", parameter: { period: positiveInteger("period", periodMs) } };
    },
    /**
     * An event when the value changed by `diff` in the sense of `logicOp`:
     * ("ne", 0) = any change; ("gt", 0) on a boolean = false -> true. Subscribe only.
     */
    change(op, diff) {
        return { variant: "change", parameter: { "logic-op": logicOp(op), diff: numeric("diff", diff) } };
    },
    /**
     * An event while the value is inside the range: one boundary, or two joined by
     * `combinationOp` (default AND on the server). Subscribe only.
     */
    range(ranges, combinationOp) {
        const [first, second, ...rest] = ranges;
        if (first === undefined || rest.length > 0) {
            throw new RangeError(`range takes one or two boundaries, got ${ranges.length}`);
        }
        if (second === undefined) {
            if (combinationOp !== undefined)
                throw new RangeError("combinationOp needs two boundaries");
            return { variant: "range", parameter: boundaryObject(first) };
        }
        const head = boundaryObject(first);
        if (combinationOp !== undefined)
            head["combination-op"] = combinationOp;
        return { variant: "range", parameter: [head, boundaryObject(second)] };
    },
    /** Curve logging: keeps only points needed to stay within `maxErr`, per `bufSize` samples. */
    curvelog(maxErr, bufSize) {
        if (!(maxErr >= 0))
            throw new RangeError(`maxErr must be a number >= 0, got ${maxErr}`);
        return { variant: "curvelog", parameter: { maxerr: numeric("maxErr", maxErr), bufsize: positiveInteger("bufSize", bufSize) } };
    },
    /** Recorded values of the last `period` (ISO 8601 duration, e.g. "PT1H"). Get only. */
    history(period) {
        return { variant: "history", parameter: historyPeriod(period) };
    },
    /** Node metadata; `depth` generations, 0 = the whole subtree (the default). Get only. */
    metadata(depth = 0) {
        return { variant: "metadata", parameter: positiveOrZero(depth) };
    },
    /** Several nodes below the request path; `*` matches exactly one path segment. */
    paths(relative) {
        if (relative.length === 0)
            throw new RangeError("paths needs at least one relative path");
        return { variant: "paths", parameter: [...relative] };
    },
    /** Several filters ANDed together, e.g. combine(paths([...]), timebased(100)). */
    combine(...filters) {
        return filters.flatMap((filter) => (Array.isArray(filter) ? filter : [filter]));
    },
};
