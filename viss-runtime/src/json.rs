//! JSON writing primitives: strings, arrays and VISS timestamps into a reused `Vec<u8>`.
//!
//! A leaf module (it uses nothing else of the crate), so the tree, values and messages can
//! all write JSON without depending on one another.

use std::cell::Cell;
use std::io::Write as _;

use jiff::Timestamp;

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
