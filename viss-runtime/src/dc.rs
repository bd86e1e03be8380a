//! Data compression `dc` (CORE App. D): `"A+B"` on `get` and `subscribe`, applied to the
//! responses and events the request produces.
//!
//! * A (paths): `0` none; `2` request-local: a single-path request sends `"0"` for its path
//!   from the first message on; a multi-path subscription sends full paths in its first
//!   event, then each path's index in the byte-wise sorted list of that event's paths. A
//!   multi-path `get` has one response only, so its paths stay whole. `1` (static UIDs)
//!   needs UIDs the trees do not carry and is refused as unsupported.
//! * B (timestamps): `0` none; `1` each `dp.ts` becomes the signed millisecond offset from
//!   the message's own `ts` (`"-123"`, `"+0"`).
//!
//! Compression rewrites the finished message (parse, rewrite, write back): it allocates,
//! but only for requests that ask for it; uncompressed traffic never comes here.

use serde_json::Value as Json;

use crate::error::VissError;

/// The App. B names of the schemes served (`Server.Support.DataCompression`).
pub const SUPPORTED_NAMES: [&str; 2] = ["pathlocal", "timestamplocal"];

/// A parsed `dc` member other than `"0+0"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dc {
    /// Request-local path compression (A = 2).
    pub local_paths: bool,
    /// Request-relative timestamps (B = 1).
    pub relative_ts: bool,
}

/// Parses `"A+B"`: `Ok(None)` for `"0+0"`; `400 bad_request` when it is not two numbers
/// joined by `+`; `404 "Unsupported feature"` for schemes not served.
pub fn parse(text: &str) -> Result<Option<Dc>, VissError> {
    let (paths, timestamps) = text.split_once('+').ok_or(VissError::bad_request())?;
    let number = |part: &str| {
        (!part.is_empty() && part.len() <= 2 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u8>().ok())
            .flatten()
            .ok_or(VissError::bad_request())
    };
    let (paths, timestamps) = (number(paths)?, number(timestamps)?);
    let local_paths = match paths {
        0 => false,
        2 => true,
        _ => return Err(VissError::UnsupportedFeature),
    };
    let relative_ts = match timestamps {
        0 => false,
        1 => true,
        _ => return Err(VissError::UnsupportedFeature),
    };
    Ok((local_paths || relative_ts).then_some(Dc {
        local_paths,
        relative_ts,
    }))
}

/// What request-local path compression remembers between the messages of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathIndex {
    /// The sorted paths of the first message (multi-path subscriptions).
    sorted: Option<Vec<String>>,
}

/// How the paths of one message are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMode {
    /// Whole paths.
    Full,
    /// A single-path request: `"0"`.
    Single,
}

/// Compresses the `data` of a finished message in place. `single_path` is true when the
/// request addresses one signal; `index` carries a subscription's path list from its first
/// event to the next (pass `None` for a `get`: one response only).
pub fn compress(message: &mut Vec<u8>, dc: Dc, single_path: bool, index: Option<&mut PathIndex>) {
    let Ok(mut json) = serde_json::from_slice::<Json>(message) else {
        return;
    };
    let Some(object) = json.as_object_mut() else {
        return;
    };
    let message_ms = object
        .get("ts")
        .and_then(Json::as_str)
        .and_then(|ts| ts.parse::<jiff::Timestamp>().ok())
        .map(|ts| ts.as_millisecond());
    let Some(data) = object.get_mut("data") else {
        return;
    };
    if dc.local_paths {
        compress_paths(data, single_path, index);
    }
    if dc.relative_ts
        && let Some(message_ms) = message_ms
    {
        for_each_data_object(data, |object| {
            if let Some(dp) = object.get_mut("dp") {
                for_each_item(dp, |point| relative_ts(point, message_ms));
            }
        });
    }
    if let Ok(bytes) = serde_json::to_vec(&json) {
        *message = bytes;
    }
}

fn compress_paths(data: &mut Json, single_path: bool, index: Option<&mut PathIndex>) {
    if single_path {
        for_each_data_object(data, |object| {
            object.insert("path".into(), Json::String("0".into()));
        });
        return;
    }
    let Some(index) = index else { return };
    match &index.sorted {
        None => {
            let mut paths = Vec::new();
            for_each_data_object(data, |object| {
                if let Some(Json::String(path)) = object.get("path") {
                    paths.push(path.clone());
                }
            });
            paths.sort();
            paths.dedup();
            index.sorted = Some(paths);
        }
        Some(sorted) => for_each_data_object(data, |object| {
            if let Some(Json::String(path)) = object.get_mut("path")
                && let Ok(position) = sorted.binary_search(path)
            {
                *path = position.to_string();
            }
        }),
    }
}

/// `dp.ts` as the signed offset in milliseconds from the message's `ts`.
fn relative_ts(point: &mut Json, message_ms: i64) {
    let Some(ts) = point.get_mut("ts") else {
        return;
    };
    let Some(millisecond) = ts
        .as_str()
        .and_then(|text| text.parse::<jiff::Timestamp>().ok())
        .map(|ts| ts.as_millisecond())
    else {
        return;
    };
    let offset = millisecond.saturating_sub(message_ms);
    let sign = if offset < 0 { "" } else { "+" };
    *ts = Json::String(format!("{sign}{offset}"));
}

fn for_each_data_object(
    data: &mut Json,
    mut visit: impl FnMut(&mut serde_json::Map<String, Json>),
) {
    for_each_item(data, |item| {
        if let Some(object) = item.as_object_mut() {
            visit(object);
        }
    });
}

/// `visit` on an object, or on each element of an array.
fn for_each_item(value: &mut Json, mut visit: impl FnMut(&mut Json)) {
    match value {
        Json::Array(items) => items.iter_mut().for_each(visit),
        other => visit(other),
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn parse_takes_the_served_schemes_and_tells_bad_from_unsupported() {
        assert_eq!(parse("0+0"), Ok(None));
        let both = Dc {
            local_paths: true,
            relative_ts: true,
        };
        assert_eq!(parse("2+1"), Ok(Some(both)));
        assert_eq!(parse("1+0"), Err(VissError::UnsupportedFeature));
        assert_eq!(parse("0+2"), Err(VissError::UnsupportedFeature));
        for bad in ["", "2", "2+", "+1", "a+b", "2+1+0", "-2+1", "002+1"] {
            assert_eq!(parse(bad), Err(VissError::bad_request()), "{bad}");
        }
    }

    #[test]
    fn single_paths_become_zero_and_times_offsets() {
        let mut message = br#"{"action":"get","requestId":"1","data":{"path":"Vehicle.Speed","dp":{"value":"1","ts":"2025-01-01T00:00:00.877Z"}},"ts":"2025-01-01T00:00:01.000Z"}"#.to_vec();
        let dc = parse("2+1").unwrap().unwrap();
        compress(&mut message, dc, true, None);
        assert_eq!(
            String::from_utf8(message).unwrap(),
            r#"{"action":"get","requestId":"1","data":{"path":"0","dp":{"value":"1","ts":"-123"}},"ts":"2025-01-01T00:00:01.000Z"}"#
        );
    }

    #[test]
    fn a_subscription_indexes_its_sorted_paths_after_the_first_event() {
        let event = |a: &str, b: &str| {
            format!(
                r#"{{"action":"subscription","subscriptionId":"1","data":[{{"path":"{a}","dp":{{"value":"1","ts":"2025-01-01T00:00:01.000Z"}}}},{{"path":"{b}","dp":{{"value":"2","ts":"2025-01-01T00:00:01.000Z"}}}}],"ts":"2025-01-01T00:00:01.000Z"}}"#
            )
            .into_bytes()
        };
        let dc = parse("2+0").unwrap().unwrap();
        let mut index = PathIndex::default();
        let mut first = event("Vehicle.Z", "Vehicle.A");
        compress(&mut first, dc, false, Some(&mut index));
        assert!(
            String::from_utf8(first)
                .unwrap()
                .contains(r#""path":"Vehicle.Z""#)
        );
        let mut second = event("Vehicle.Z", "Vehicle.A");
        compress(&mut second, dc, false, Some(&mut index));
        let text = String::from_utf8(second).unwrap();
        assert!(
            text.contains(r#"[{"path":"1","#) && text.contains(r#"{"path":"0","#),
            "{text}"
        );
        assert!(
            text.contains(r#""ts":"2025-01-01T00:00:01.000Z"}}]"#),
            "{text}"
        );
    }
}
