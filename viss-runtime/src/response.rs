//! Response and event encoding into a caller-owned, reused `Vec<u8>`.
//!
//! Responses are written by hand rather than through serde: the layout is fixed, members
//! come in the order the spec examples show (`action`, `requestId`, payload, `ts`), and
//! nothing here allocates once the buffer has grown to its working size.

use jiff::Timestamp;

pub use crate::json::{write_json_array, write_json_str, write_ts};

use crate::error::VissError;
use crate::protocol::Version;
use crate::value::{INLINE_PREFIX, Value};

/// The in-line error value for a signal without data (TRANSPORT §4.1.1).
pub const INLINE_NOT_AVAILABLE: &str = "viss-inline:Data-not-available";

const _: () = assert!(INLINE_NOT_AVAILABLE.len() > INLINE_PREFIX.len());

/// Opens a message: `{"action":"<action>"` plus `,"requestId":"<id>"` when present.
pub fn begin(out: &mut Vec<u8>, action: Option<&str>, request_id: Option<&str>) {
    out.push(b'{');
    let mut first = true;
    if let Some(action) = action {
        out.extend_from_slice(b"\"action\":");
        write_json_str(out, action);
        first = false;
    }
    if let Some(id) = request_id {
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(b"\"requestId\":");
        write_json_str(out, id);
    }
}

/// Writes `,"<key>":` (or without the comma right after `{`).
pub fn key(out: &mut Vec<u8>, name: &str) {
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Closes a message with its top-level `ts`.
pub fn finish(out: &mut Vec<u8>, now: Timestamp) {
    key(out, "ts");
    write_ts(out, now);
    out.push(b'}');
}

/// Writes the `error` member: v3 `{"number":"404","reason":..,"description":..}`, v2
/// `{"number":404,"reason":..,"message":..}` with v2's reasons.
pub fn write_error(out: &mut Vec<u8>, error: VissError, version: Version) {
    key(out, "error");
    match version {
        Version::V3 => {
            out.extend_from_slice(b"{\"number\":\"");
            out.extend_from_slice(error.number().as_bytes());
            out.extend_from_slice(b"\",\"reason\":\"");
            out.extend_from_slice(error.reason().as_bytes());
            out.extend_from_slice(b"\",\"description\":");
        }
        Version::V2 => {
            let (number, reason) = error.v2_number_and_reason();
            out.extend_from_slice(b"{\"number\":");
            out.extend_from_slice(number.as_bytes());
            out.extend_from_slice(b",\"reason\":\"");
            out.extend_from_slice(reason.as_bytes());
            out.extend_from_slice(b"\",\"message\":");
        }
    }
    write_json_str(out, error.description());
    out.push(b'}');
}

/// Who an error answers: the request's `action`, `requestId` and (VISSv2 unsubscribe)
/// `subscriptionId`, echoed when present, and the session's version.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorContext<'a> {
    pub action: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub subscription_id: Option<&'a str>,
    pub version: Version,
}

/// A complete error response.
pub fn error_response(
    out: &mut Vec<u8>,
    context: ErrorContext<'_>,
    error: VissError,
    now: Timestamp,
) {
    out.clear();
    begin(out, context.action, context.request_id);
    if let Some(id) = context.subscription_id {
        key(out, "subscriptionId");
        write_json_str(out, id);
    }
    write_error(out, error, context.version);
    finish(out, now);
}

/// A complete error event; the subscription ends with it (CORE §5.2).
pub fn error_event(
    out: &mut Vec<u8>,
    subscription_id: &str,
    error: VissError,
    now: Timestamp,
    version: Version,
) {
    out.clear();
    begin(out, Some("subscription"), None);
    key(out, "subscriptionId");
    write_json_str(out, subscription_id);
    write_error(out, error, version);
    finish(out, now);
}

/// Writes one data point `{"value":...,"ts":...}`; `None` writes the in-line error value.
pub fn write_dp(out: &mut Vec<u8>, value: Option<&Value>, ts: Timestamp) {
    out.extend_from_slice(b"{\"value\":");
    match value {
        Some(value) => value.write_json(out),
        None => write_json_str(out, INLINE_NOT_AVAILABLE),
    }
    out.extend_from_slice(b",\"ts\":");
    write_ts(out, ts);
    out.push(b'}');
}

/// Opens one data object: `{"path":"<path>","dp":`.
pub fn begin_data_object(out: &mut Vec<u8>, path: &str) {
    out.extend_from_slice(b"{\"path\":");
    write_json_str(out, path);
    out.extend_from_slice(b",\"dp\":");
}

/// Writes the value of a `data` member in the spec's two shapes: one data object for one
/// item, an array of them for several. For each item, `path_of` gives its path and `write_dp`
/// writes its `dp` value (one datapoint, or an array of them).
pub fn write_data_objects<'a, T>(
    out: &mut Vec<u8>,
    items: impl ExactSizeIterator<Item = T>,
    path_of: impl Fn(&T) -> &'a str,
    mut write_dp: impl FnMut(&mut Vec<u8>, T),
) {
    let many = items.len() > 1;
    if many {
        out.push(b'[');
    }
    for (position, item) in items.enumerate() {
        if position > 0 {
            out.push(b',');
        }
        begin_data_object(out, path_of(&item));
        write_dp(out, item);
        out.push(b'}');
    }
    if many {
        out.push(b']');
    }
}
