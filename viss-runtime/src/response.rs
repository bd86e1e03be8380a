//! Response and event encoding into a caller-owned, reused `Vec<u8>`.
//!
//! Responses are written by hand rather than through serde: the layout is fixed, members
//! come in the order the spec examples show (`action`, `requestId`, payload, `ts`), and
//! nothing here allocates once the buffer has grown to its working size.

use std::cell::Cell;
use std::io::Write as _;

use jiff::Timestamp;

use crate::error::VissError;
use crate::value::{INLINE_PREFIX, Value};

/// The in-line error value for a signal without data (TRANSPORT §4.1.1).
pub const INLINE_NOT_AVAILABLE: &str = "viss-inline:Data-not-available";

const _: () = assert!(INLINE_NOT_AVAILABLE.len() > INLINE_PREFIX.len());

/// Writes `items` as a JSON array, each item by `write`.
pub fn write_json_array<T>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'[');
    for (position, item) in items.into_iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// Writes `text` as a JSON string literal, escaping what RFC 8259 requires.
pub fn write_json_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (position, byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..position]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = position + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Length of `YYYY-MM-DDTHH:MM:SS.sssZ`.
const TS_LEN: usize = 24;

thread_local! {
    /// The two most recently formatted timestamps (by millisecond) on this thread: a response
    /// or event usually carries the same one or two times over and over (message time,
    /// capture time), and copying 24 bytes is much cheaper than formatting.
    static RECENT_TS: Cell<[(i64, [u8; TS_LEN]); 2]> = const { Cell::new([(i64::MIN, [0; TS_LEN]); 2]) };
}

/// Writes a timestamp as a JSON string: ISO 8601 UTC with milliseconds and `Z`.
pub fn write_ts(out: &mut Vec<u8>, ts: Timestamp) {
    let millisecond = ts.as_millisecond();
    out.push(b'"');
    let recent = RECENT_TS.with(Cell::get);
    match recent.iter().find(|(key, _)| *key == millisecond) {
        Some((_, text)) => out.extend_from_slice(text),
        None => {
            let start = out.len();
            // Writing into a Vec cannot fail; jiff formats without allocating.
            let _ = write!(out, "{ts:.3}");
            if let Ok(text) = <[u8; TS_LEN]>::try_from(&out[start..]) {
                RECENT_TS.with(|cache| cache.set([(millisecond, text), recent[0]]));
            }
        }
    }
    out.push(b'"');
}

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

/// Writes the `error` member.
pub fn write_error(out: &mut Vec<u8>, error: VissError) {
    key(out, "error");
    out.extend_from_slice(b"{\"number\":\"");
    out.extend_from_slice(error.number().as_bytes());
    out.extend_from_slice(b"\",\"reason\":\"");
    out.extend_from_slice(error.reason().as_bytes());
    out.extend_from_slice(b"\",\"description\":");
    write_json_str(out, error.description());
    out.push(b'}');
}

/// A complete error response.
pub fn error_response(
    out: &mut Vec<u8>,
    action: Option<&str>,
    request_id: Option<&str>,
    error: VissError,
    now: Timestamp,
) {
    out.clear();
    begin(out, action, request_id);
    write_error(out, error);
    finish(out, now);
}

/// A complete error event; the subscription ends with it (CORE §5.2).
pub fn error_event(out: &mut Vec<u8>, subscription_id: &str, error: VissError, now: Timestamp) {
    out.clear();
    begin(out, Some("subscription"), None);
    key(out, "subscriptionId");
    write_json_str(out, subscription_id);
    write_error(out, error);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        write_json_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let mut out = Vec::new();
        let first: Timestamp = "2020-04-15T13:37:00Z".parse().unwrap();
        let second: Timestamp = "2020-04-15T13:37:00.0019Z".parse().unwrap();
        let third: Timestamp = "1999-12-31T23:59:59.999999Z".parse().unwrap();
        // Twice each, to go through the cache, and interleaved to evict.
        for ts in [first, second, first, third, second, third, first] {
            write_ts(&mut out, ts);
            out.push(b' ');
        }
        let text = String::from_utf8(out).unwrap();
        let expected = [
            "2020-04-15T13:37:00.000Z",
            "2020-04-15T13:37:00.001Z",
            "2020-04-15T13:37:00.000Z",
            "1999-12-31T23:59:59.999Z",
            "2020-04-15T13:37:00.001Z",
            "1999-12-31T23:59:59.999Z",
            "2020-04-15T13:37:00.000Z",
        ]
        .map(|ts| format!("\"{ts}\" "))
        .concat();
        assert_eq!(text, expected);
        // Years before 0 are written longer than 24 bytes and bypass the cache.
        let mut far = Vec::new();
        let ancient: Timestamp = "-000001-01-01T00:00:00Z".parse().unwrap();
        write_ts(&mut far, ancient);
        write_ts(&mut far, ancient);
        assert_eq!(
            far,
            br#""-000001-01-01T00:00:00.000Z""-000001-01-01T00:00:00.000Z""#
        );
    }
}
