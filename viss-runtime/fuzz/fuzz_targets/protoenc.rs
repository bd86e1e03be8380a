//! Arbitrary bytes as a `VISS-protoenc` frame, both ways:
//! - a client's frame (first byte even): decoded to the JSON request the engine reads (a
//!   frame that is no request is the codec's error, never a panic); the engine's JSON
//!   answer and events encoded back into frames that decode again;
//! - a server's frame (first byte odd): what a client decoding our responses runs
//!   (`Response::from_envelope(..).to_json()`), which must give JSON whatever it is fed.
#![no_main]

#[path = "../harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;
use prost::Message as _;
use viss_runtime::codec::Codec as _;
use viss_runtime::codec::protobuf::protoenc::ProtobufMessage;
use viss_runtime::codec::protobuf::{Protobuf, Response};

/// Encodes the engine's JSON `message` into a frame and reads it back as a client would.
fn frame_round_trip(message: &[u8]) {
    let mut frame = message.to_vec();
    Protobuf.encode(&mut frame);
    let envelope = ProtobufMessage::decode(&frame[..]).expect("our own frame decodes");
    if let Some(response) = Response::from_envelope(envelope) {
        let json = response.to_json();
        assert!(
            json.is_object(),
            "a response reads back as a JSON object: {json}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, frame)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        if let Ok(envelope) = ProtobufMessage::decode(frame) {
            if let Some(response) = Response::from_envelope(envelope) {
                let _ = serde_json::to_vec(&response.to_json()).expect("JSON");
            }
        }
        return;
    }
    let harness = harness::harness();
    let engine = &harness.engine;
    let mut session = engine.open_session();
    let mut scratch = Vec::new();
    let Ok(request) = Protobuf.decode(frame, &mut scratch) else {
        return;
    };
    let request = request.to_vec();
    let mut out = Vec::new();
    engine.handle(&mut session, &request, &mut out);
    frame_round_trip(&out);
    harness::stir(harness, mode);
    let mut event = Vec::new();
    while session.next_event(&mut event) {
        frame_round_trip(&event);
    }
    engine.close_session(&mut session);
});
