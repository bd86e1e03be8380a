//! The envelope of VISS over MQTT (TRANSPORT §5.3.3): what a cloud client publishes to
//! `<VID>/Vehicle`, `{"topic":"<its reply topic>","request":"<VISS request as a string>"}`,
//! and its protobuf form on `<VID>/Vehicle/protobuf` (`MqttRequest` in
//! `schemas/viss_protoenc.proto`). Reading an envelope never panics and never trusts it:
//! the reply topic is checked before anything is published to it.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// Longest reply topic accepted (MQTT allows 65,535 bytes; a reply topic is an id).
pub const MAX_TOPIC_BYTES: usize = 1024;

/// A request read from an envelope: where to answer, and the payload for the codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub topic: Cow<'a, str>,
    pub request: Cow<'a, [u8]>,
}

/// Why an envelope was refused, and whether its reply topic could be read (then the
/// client gets the error there; else it is logged and dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused<'a> {
    pub topic: Option<Cow<'a, str>>,
    pub reason: String,
}

/// Reads a JSON envelope. The `request` member must be a string (the spec's form);
/// anything else is refused with its reply topic when that is readable.
pub fn parse_json(payload: &[u8]) -> Result<Envelope<'_>, Refused<'_>> {
    #[derive(Deserialize)]
    struct Raw<'a> {
        #[serde(borrow)]
        topic: Option<&'a RawValue>,
        #[serde(borrow)]
        request: Option<&'a RawValue>,
    }
    let raw: Raw<'_> = serde_json::from_slice(payload).map_err(|error| Refused {
        topic: None,
        reason: format!("the envelope is not a JSON object with `topic` and `request`: {error}"),
    })?;
    let topic = match raw.topic.map(json_str) {
        Some(None) => {
            return Err(Refused {
                topic: None,
                reason: "the envelope's `topic` is not a string".into(),
            });
        }
        Some(Some(topic)) => check_topic(topic).map_err(|reason| Refused {
            topic: None,
            reason,
        })?,
        None => {
            return Err(Refused {
                topic: None,
                reason: "the envelope has no `topic` to answer on".into(),
            });
        }
    };
    let refuse = |reason: &str| Refused {
        topic: Some(topic.clone()),
        reason: reason.to_owned(),
    };
    let request = raw
        .request
        .ok_or_else(|| refuse("the envelope has no `request`"))?;
    let request = json_str(request).ok_or_else(|| {
        refuse(
            "`request` must be the VISS request as a JSON string \
             ({\"topic\":\"..\",\"request\":\"{\\\"action\\\":..}\"})",
        )
    })?;
    let request = match request {
        Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
        Cow::Owned(text) => Cow::Owned(text.into_bytes()),
    };
    Ok(Envelope { topic, request })
}

/// A JSON string's text, borrowed when it has no escapes; `None` for any other JSON value.
fn json_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    serde_json::from_str::<&str>(raw.get())
        .map(Cow::Borrowed)
        .or_else(|_| serde_json::from_str::<String>(raw.get()).map(Cow::Owned))
        .ok()
}

/// Reads a protobuf envelope (`MqttRequest`: field 1 the reply topic, field 2 the
/// `ProtobufMessage`, kept as its bytes for the codec).
#[cfg(feature = "protobuf")]
pub fn parse_protobuf(payload: &[u8]) -> Result<Envelope<'_>, Refused<'_>> {
    use prost::Message as _;
    /// `MqttRequest` with its message field read as bytes (the same wire form).
    #[derive(Clone, PartialEq, prost::Message)]
    struct Wire {
        #[prost(string, tag = "1")]
        topic: String,
        #[prost(bytes = "vec", tag = "2")]
        request: Vec<u8>,
    }
    let wire = Wire::decode(payload).map_err(|error| Refused {
        topic: None,
        reason: format!("the envelope is not an MqttRequest: {error}"),
    })?;
    let topic = check_topic(Cow::Owned(wire.topic)).map_err(|reason| Refused {
        topic: None,
        reason,
    })?;
    Ok(Envelope {
        topic,
        request: Cow::Owned(wire.request),
    })
}

/// U+FDD0..U+FDEF and the last two code points of every plane.
fn is_noncharacter(c: char) -> bool {
    let code = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// A reply topic we may publish to: not empty, no wildcards (`#`, `+`: a publish topic
/// cannot have them), no control characters or non-characters, not a broker-reserved `$`
/// topic, bounded in length.
fn check_topic(topic: Cow<'_, str>) -> Result<Cow<'_, str>, String> {
    let problem = if topic.is_empty() {
        Some("is empty")
    } else if topic.len() > MAX_TOPIC_BYTES {
        Some("is too long")
    } else if topic.contains(['#', '+']) {
        Some("has a wildcard (`#` or `+`)")
    } else if topic.chars().any(|c| c.is_control() || is_noncharacter(c)) {
        // MQTT forbids these in topic names (U+0000, controls SHOULD NOT, non-characters
        // SHOULD NOT); mosquitto disconnects a client that publishes to one, which would
        // let any client knock the vehicle off the broker.
        Some("has a control character or a Unicode non-character")
    } else if topic.starts_with('$') {
        Some("is a reserved `$` topic")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(format!(
            "the reply topic {problem}: nowhere to answer (at most {MAX_TOPIC_BYTES} bytes, \
             no wildcards)"
        )),
        None => Ok(topic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_form_is_read_without_copies() {
        let payload =
            br#"{"topic":"cloud/42","request":"{\"action\":\"get\",\"path\":\"Vehicle.Speed\"}"}"#;
        let envelope = parse_json(payload).expect("read");
        assert_eq!(envelope.topic, "cloud/42");
        assert_eq!(
            &*envelope.request,
            br#"{"action":"get","path":"Vehicle.Speed"}"#
        );
        assert!(matches!(envelope.topic, Cow::Borrowed(_)));
    }

    #[test]
    fn refusals_keep_the_reply_topic_when_it_can_be_read() {
        let object = parse_json(br#"{"topic":"t","request":{"action":"get"}}"#).unwrap_err();
        assert_eq!(object.topic.as_deref(), Some("t"));
        assert!(object.reason.contains("JSON string"), "{}", object.reason);
        let missing = parse_json(br#"{"topic":"t"}"#).unwrap_err();
        assert_eq!(missing.topic.as_deref(), Some("t"));
        for unreadable in [
            &b"not json"[..],
            b"{\"request\":\"{}\"}",
            b"[1,2]",
            b"{\"topic\":7,\"request\":\"{}\"}",
            b"\xff\xfe\x00",
        ] {
            assert_eq!(parse_json(unreadable).unwrap_err().topic, None);
        }
    }

    #[test]
    fn wildcards_reserved_and_oversized_topics_are_never_answered() {
        for topic in [
            "a/#",
            "+/b",
            "",
            "$SYS/x",
            "a\u{0}b",
            "a\u{1}b",
            "a\u{7f}",
            "a\u{9f}",
            "\u{fffe}",
            "\u{fdd0}",
            "\u{10ffff}",
        ] {
            let payload = serde_json::json!({"topic": topic, "request": "{}"}).to_string();
            let refused = parse_json(payload.as_bytes()).unwrap_err();
            assert_eq!(refused.topic, None, "{topic:?}");
        }
        let long = "t".repeat(MAX_TOPIC_BYTES + 1);
        let payload = serde_json::json!({"topic": long, "request": "{}"}).to_string();
        assert_eq!(parse_json(payload.as_bytes()).unwrap_err().topic, None);
    }

    #[cfg(feature = "protobuf")]
    #[test]
    fn the_protobuf_envelope_is_mqtt_request() {
        use crate::codec::protobuf::protoenc::{MqttRequest, ProtobufMessage};
        use prost::Message as _;
        let inner = ProtobufMessage::default();
        let payload = MqttRequest {
            topic: "cloud/pb".into(),
            request: Some(inner.clone()),
        }
        .encode_to_vec();
        let envelope = parse_protobuf(&payload).expect("read");
        assert_eq!(envelope.topic, "cloud/pb");
        assert_eq!(&*envelope.request, inner.encode_to_vec().as_slice());
        assert_eq!(parse_protobuf(b"\xff\xff\xff").unwrap_err().topic, None);
    }
}
