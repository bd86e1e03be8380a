//! Arbitrary bytes as a VISS-over-MQTT envelope, as the broker hands them to the server:
//! the JSON form on `<VID>/Vehicle` (first byte even) or the protobuf `MqttRequest` on
//! `<VID>/Vehicle/protobuf` (odd). Whatever is read must be safe to act on: a reply topic
//! is never empty, never has a wildcard or NUL, never a `$` topic, never too long, whether
//! the envelope is accepted or refused with a topic to send the error to. An accepted
//! request goes through its codec and the engine like any request.
#![no_main]

#[path = "../harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;
use viss_runtime::codec::Codec as _;
use viss_runtime::codec::{Json, protobuf::Protobuf};
use viss_runtime::server::mqtt::envelope::{self, MAX_TOPIC_BYTES};

fn assert_publishable(topic: &str) {
    assert!(!topic.is_empty(), "empty reply topic");
    assert!(topic.len() <= MAX_TOPIC_BYTES, "reply topic too long");
    assert!(!topic.contains(['#', '+']), "reply topic {topic:?}");
    assert!(!topic.chars().any(char::is_control), "reply topic {topic:?}");
    assert!(!topic.starts_with('$'), "reserved reply topic {topic:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let protobuf = mode % 2 == 1;
    let parsed = if protobuf {
        envelope::parse_protobuf(payload)
    } else {
        envelope::parse_json(payload)
    };
    let envelope = match parsed {
        Ok(envelope) => envelope,
        Err(refused) => {
            if let Some(topic) = &refused.topic {
                assert_publishable(topic);
            }
            assert!(!refused.reason.is_empty());
            return;
        }
    };
    assert_publishable(&envelope.topic);
    if !protobuf {
        assert!(std::str::from_utf8(&envelope.request).is_ok(), "a JSON string is UTF-8");
    }
    let mut scratch = Vec::new();
    let decoded = if protobuf {
        Protobuf.decode(&envelope.request, &mut scratch)
    } else {
        Json.decode(&envelope.request, &mut scratch)
    };
    let Ok(request) = decoded else {
        return;
    };
    let request = request.to_vec();
    let harness = harness::harness();
    let mut session = harness.engine.open_session();
    let mut out = Vec::new();
    harness.engine.handle(&mut session, &request, &mut out);
    assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok(), "the answer is JSON");
    // A subscription's events, as the service would route them to the reply topic.
    harness::stir(harness, mode);
    let mut event = Vec::new();
    while session.next_event(&mut event) {
        assert!(serde_json::from_slice::<serde_json::Value>(&event).is_ok(), "events are JSON");
    }
    harness.engine.close_session(&mut session);
});
