//! The protobuf encoding on the standard VSS tree: how big a message is in protobuf against
//! JSON (printed once per message), and what the translation costs per message beside the
//! engine's own work on the same request, measured in the same run:
//! - `engine/<message>`: the engine answering the request in JSON (the baseline),
//! - `encode/<message>`: the engine's JSON answer → `VISS-protoenc` frame (what a protobuf
//!   session adds per response or event),
//! - `decode/<message>`: a frame → the JSON the client reads (a client's work, or a test's),
//! - `request/get`: a `VISS-protoenc` get request frame → the engine's JSON request.
//!
//! Messages: a one-signal get response, a one-signal event, and the whole tree (a get of
//! `Vehicle` after every numeric and boolean leaf was fed).

#[path = "../tests/support/vss_json.rs"]
mod vss_json;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use prost::Message as _;
use viss_runtime::codec::Codec as _;
use viss_runtime::codec::protobuf::protoenc::ProtobufMessage;
use viss_runtime::codec::protobuf::{Protobuf, Request, Response};
use viss_runtime::{DataType, DynamicTree, Engine, EngineConfig, ScalarType, Value, VissTree};

fn fed_engine() -> Engine<DynamicTree> {
    let engine = Engine::new(vss_json::standard_tree(), EngineConfig::default());
    let now = Timestamp::now();
    let leaves: Vec<(String, Value)> = engine
        .tree()
        .nodes()
        .iter()
        .filter_map(|node| {
            let value = match node.datatype.as_ref()? {
                DataType::Scalar(ScalarType::Boolean) => Value::Bool(true),
                DataType::Scalar(ScalarType::Float) => Value::Float(21.5),
                DataType::Scalar(ScalarType::Double) => Value::Double(48.137_154),
                DataType::Scalar(scalar) if scalar.is_unsigned() => Value::UInt(42),
                DataType::Scalar(scalar) if scalar.is_integer() => Value::Int(-7),
                _ => return None,
            };
            Some((node.path.to_string(), value))
        })
        .collect();
    for (path, value) in leaves {
        // Values outside a leaf's limits are refused: such leaves just stay unfed.
        let _ = engine.update_path(&path, value, now);
    }
    engine
}

/// The engine's JSON answer to `request`, and the first event it then queues (if any).
fn answer(engine: &Engine<DynamicTree>, request: &str) -> Vec<u8> {
    let mut session = engine.open_session();
    let mut out = Vec::new();
    engine.handle(&mut session, request.as_bytes(), &mut out);
    assert!(
        !out.windows(8).any(|window| window == b"\"error\":"),
        "{request}: {}",
        String::from_utf8_lossy(&out)
    );
    out
}

fn one_event(engine: &Engine<DynamicTree>) -> Vec<u8> {
    let mut session = engine.open_session();
    let mut out = Vec::new();
    let subscribe = r#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"s"}"#;
    engine.handle(&mut session, subscribe.as_bytes(), &mut out);
    engine
        .update_path("Vehicle.Speed", Value::Float(88.5), Timestamp::now())
        .expect("Vehicle.Speed exists");
    assert!(session.next_event(&mut out), "the change gives an event");
    out
}

fn frame_of(json: &[u8]) -> Vec<u8> {
    let mut frame = json.to_vec();
    Protobuf.encode(&mut frame);
    frame
}

fn protobuf(c: &mut Criterion) {
    let engine = fed_engine();
    let get_speed = r#"{"action":"get","path":"Vehicle.Speed","requestId":"1"}"#;
    let get_vehicle = r#"{"action":"get","path":"Vehicle","requestId":"1"}"#;
    let messages = [
        ("get-response", answer(&engine, get_speed), Some(get_speed)),
        ("event", one_event(&engine), None),
        (
            "whole-tree",
            answer(&engine, get_vehicle),
            Some(get_vehicle),
        ),
    ];
    for (name, json, request) in &messages {
        let frame = frame_of(json);
        let decoded = Response::from_envelope(ProtobufMessage::decode(&frame[..]).expect("frame"))
            .expect("a response")
            .to_json();
        let original: serde_json::Value = serde_json::from_slice(json).expect("JSON");
        assert!(
            decoded == original || name == &"whole-tree",
            "{name} round trip"
        );
        eprintln!(
            "size {name}: JSON {} B, protobuf {} B ({:.1}% of JSON)",
            json.len(),
            frame.len(),
            100.0 * frame.len() as f64 / json.len() as f64
        );
        if let Some(request) = request {
            let mut session = engine.open_session();
            let mut out = Vec::with_capacity(json.len());
            c.bench_function(&format!("engine/{name}"), |b| {
                b.iter(|| {
                    engine.handle(&mut session, black_box(request.as_bytes()), &mut out);
                    black_box(out.len())
                })
            });
        }
        c.bench_function(&format!("encode/{name}"), |b| {
            let mut out = Vec::with_capacity(json.len());
            b.iter(|| {
                out.clear();
                out.extend_from_slice(black_box(json));
                Protobuf.encode(&mut out);
                black_box(out.len())
            })
        });
        c.bench_function(&format!("decode/{name}"), |b| {
            b.iter(|| {
                let envelope = ProtobufMessage::decode(black_box(&frame[..])).expect("frame");
                let json = Response::from_envelope(envelope)
                    .expect("response")
                    .to_json();
                black_box(json)
            })
        });
    }
    let request = Request::from_json(&serde_json::from_str(get_speed).expect("JSON"))
        .expect("a get request")
        .into_envelope()
        .encode_to_vec();
    eprintln!(
        "size get-request: JSON {} B, protobuf {} B",
        get_speed.len(),
        request.len()
    );
    c.bench_function("request/get", |b| {
        let mut scratch = Vec::new();
        b.iter(|| {
            let json = Protobuf
                .decode(black_box(&request), &mut scratch)
                .expect("a request");
            black_box(json.len())
        })
    });
}

criterion_group!(benches, protobuf);
criterion_main!(benches);
