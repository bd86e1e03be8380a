//! JSON → protobuf → JSON over the engine's whole message corpus (the requests of
//! `support::corpus`, and every response and event the engine wrote for them): each message
//! is encoded to its proto message, to bytes (in the `VISS-protoenc` envelope), decoded and
//! translated back, and must equal the original, or the original after exactly the
//! documented lossy rules of `viss_runtime::codec::protobuf` (counted per rule).

mod support;

use prost::Message as _;
use serde_json::{Value as Json, json};
use support::corpus::{self, Seen};
use viss_runtime::codec::protobuf::protoenc::ProtobufMessage;
use viss_runtime::codec::protobuf::{Request, Response};

/// How many messages needed which rule to compare equal.
#[derive(Debug, Default)]
struct Tally {
    exact: usize,
    /// `[x]` → `x` for `data`, `dp`, `filter`, a range's boundaries.
    single_element_arrays: usize,
    /// a `paths` parameter `"A"` → `["A"]`.
    paths_string: usize,
    /// an explicit `combination-op` `AND` dropped.
    combination_and: usize,
    /// requests that have no protobuf form, with the reason.
    not_expressible: Vec<(String, String)>,
}

/// The original as the protobuf form gives it back, noting which rule changed it.
fn normalize(json: &Json, tally: &mut Tally) -> Json {
    let mut changed = (false, false, false);
    let mut copy = json.clone();
    if let Some(object) = copy.as_object_mut() {
        if let Some(data) = object.get_mut("data") {
            changed.0 |= unwrap_single(data);
            for package in as_items_mut(data) {
                if let Some(dp) = package.get_mut("dp") {
                    changed.0 |= unwrap_single(dp);
                }
            }
        }
        if let Some(filter) = object.get_mut("filter") {
            changed.0 |= unwrap_single(filter);
            for expression in as_items_mut(filter) {
                let variant = expression["variant"].as_str().unwrap_or("").to_owned();
                let Some(parameter) = expression.get_mut("parameter") else {
                    continue;
                };
                match variant.as_str() {
                    "paths" if parameter.is_string() => {
                        *parameter = json!([parameter.take()]);
                        changed.1 = true;
                    }
                    "range" => {
                        changed.0 |= unwrap_single(parameter);
                        for boundary in as_items_mut(parameter) {
                            if boundary.get("combination-op") == Some(&json!("AND")) {
                                boundary.as_object_mut().map(|b| b.remove("combination-op"));
                                changed.2 = true;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    tally.single_element_arrays += usize::from(changed.0);
    tally.paths_string += usize::from(changed.1);
    tally.combination_and += usize::from(changed.2);
    tally.exact += usize::from(changed == (false, false, false));
    copy
}

fn unwrap_single(json: &mut Json) -> bool {
    if let Json::Array(items) = json
        && items.len() == 1
    {
        *json = items.remove(0);
        return true;
    }
    false
}

fn as_items_mut(json: &mut Json) -> Vec<&mut Json> {
    match json {
        Json::Array(items) => items.iter_mut().collect(),
        other => vec![other],
    }
}

fn request_round_trip(text: &str, tally: &mut Tally) -> Option<Json> {
    let Ok(json) = serde_json::from_str::<Json>(text) else {
        tally
            .not_expressible
            .push((text.to_owned(), "not JSON".into()));
        return None;
    };
    let request = match Request::from_json(&json) {
        Ok(request) => request,
        Err(error) => {
            tally.not_expressible.push((text.to_owned(), error.0));
            return None;
        }
    };
    let bytes = request.into_envelope().encode_to_vec();
    let decoded = Request::from_envelope(ProtobufMessage::decode(&bytes[..]).expect("decodes"))
        .expect("a request frame");
    let back = decoded.to_json();
    assert_eq!(back, normalize(&json, tally), "request {text}");
    Some(back)
}

fn response_round_trip(message: &Json, tally: &mut Tally, context: &str) {
    let response = Response::from_json(message)
        .unwrap_or_else(|error| panic!("{message} ({context}) has no protobuf form: {error}"));
    let bytes = response.into_envelope().encode_to_vec();
    let decoded = Response::from_envelope(ProtobufMessage::decode(&bytes[..]).expect("decodes"))
        .expect("a response frame");
    let back = decoded.to_json();
    let mut expected = normalize(message, tally);
    if message.get("action").is_none() {
        // The proto has no action-less error: it travels as a get error.
        expected["action"] = json!("get");
    }
    assert_eq!(back, expected, "{context}");
}

#[test]
fn every_corpus_message_survives_json_protobuf_json() {
    let validator = support::schema_validator();
    let mut requests = Tally::default();
    let mut responses = Tally::default();
    let mut schema_valid_requests = 0;
    let mut messages = 0;
    let run = corpus::run(|seen| match seen {
        Seen::Request(text) => {
            let valid =
                serde_json::from_str::<Json>(text).is_ok_and(|json| validator.is_valid(&json));
            let before = requests.not_expressible.len();
            request_round_trip(text, &mut requests);
            if valid {
                schema_valid_requests += 1;
                if let Some((_, reason)) = requests.not_expressible.get(before) {
                    // The only schema-valid request without a protobuf form: OR ranges.
                    assert!(reason.contains("`combination-op` `OR`"), "{text}: {reason}");
                }
            }
        }
        Seen::Message(message, context) => {
            messages += 1;
            response_round_trip(message, &mut responses, context);
        }
    });
    let expressed = 2 * run.requests - requests.not_expressible.len();
    eprintln!(
        "protobuf round trip: {} requests sent ({} schema-valid): {expressed} round-tripped \
         ({} exact; single-element arrays {}, paths string {}, explicit AND {}); {} without a \
         protobuf form. {messages} responses and events: {} exact; single-element arrays {}",
        2 * run.requests,
        schema_valid_requests,
        requests.exact,
        requests.single_element_arrays,
        requests.paths_string,
        requests.combination_and,
        requests.not_expressible.len(),
        responses.exact,
        responses.single_element_arrays,
    );
    let mut reasons: Vec<&str> = requests
        .not_expressible
        .iter()
        .map(|(_, reason)| reason.as_str())
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    eprintln!("reasons a request had no protobuf form: {reasons:#?}");
    assert!(
        messages > 700 && responses.exact > 600,
        "{messages} messages"
    );
    assert!(requests.exact > 400);
    // Each lossy rule is exercised by the corpus (else its check above proved nothing).
    assert!(requests.single_element_arrays > 0 && requests.paths_string > 0);
    assert!(responses.single_element_arrays == 0 || responses.exact > 0);
}

/// Values are strings on the wire; arrays and structs travel as their JSON text.
#[test]
fn values_arrays_and_structs_keep_their_shape_and_numbers_are_refused() {
    for value in [json!("23.5"), json!(["a", "b"]), json!({"Latitude": "1"})] {
        let request = json!({"action":"set","path":"A.B","value":value,"requestId":"1"});
        let Request::Set(set) = Request::from_json(&request).expect("encodes") else {
            panic!("a set request");
        };
        assert_eq!(
            set.value,
            value.as_str().map_or(value.to_string(), str::to_owned)
        );
        assert_eq!(Request::Set(set).to_json(), request);
    }
    for not_a_value in [json!(1), json!(true), json!(null)] {
        let request = json!({"action":"set","path":"A.B","value":not_a_value,"requestId":"1"});
        let error = Request::from_json(&request).expect_err("not a VISS v3 value");
        assert!(error.0.contains("not a VISS v3 value"), "{error}");
    }
    // The documented ambiguity: a string whose text is a JSON array reads back as one.
    let request = json!({"action":"set","path":"A.B","value":"[1]","requestId":"1"});
    let back = Request::from_json(&request).expect("encodes").to_json();
    assert_eq!(back["value"], json!([1]));
}

#[test]
fn or_ranges_cannot_be_encoded_and_and_ranges_lose_only_the_explicit_and() {
    let range = |combination: &str| {
        json!({"action":"subscribe","path":"Vehicle.Speed","requestId":"1","filter":
            {"variant":"range","parameter":[
                {"logic-op":"lt","boundary":"1","combination-op":combination},
                {"logic-op":"gt","boundary":"5"}]}})
    };
    let error = Request::from_json(&range("OR")).expect_err("OR has no protobuf form");
    assert!(error.0.contains("always ANDed"), "{error}");
    let back = Request::from_json(&range("AND"))
        .expect("AND encodes")
        .to_json();
    assert_eq!(
        back["filter"]["parameter"],
        json!([{"logic-op":"lt","boundary":"1"},{"logic-op":"gt","boundary":"5"}])
    );
}

/// Bytes from outside never panic the `VISS-protoenc` decoder, and whatever it decodes the
/// engine answers: random bytes, and valid request frames with bytes flipped, cut or added
/// (bounded: proptest's case count).
mod hostile_frames {
    use super::*;
    use proptest::prelude::*;
    use viss_runtime::codec::Codec as _;
    use viss_runtime::codec::protobuf::Protobuf;

    fn valid_frames() -> Vec<Vec<u8>> {
        [
            json!({"action":"get","path":"Vehicle.Speed","requestId":"1"}),
            json!({"action":"get","path":"Vehicle.Cabin","requestId":"2","filter":[
                {"variant":"paths","parameter":["Door.*.*.IsOpen"]},
                {"variant":"history","parameter":"PT1H"}]}),
            json!({"action":"set","path":"Vehicle.Cabin.Seat.Position","value":"10","requestId":"3"}),
            json!({"action":"subscribe","path":"Vehicle.Speed","requestId":"4","filter":
                {"variant":"range","parameter":[{"logic-op":"gt","boundary":"1"},{"logic-op":"lt","boundary":"9"}]}}),
            json!({"action":"unsubscribe","subscriptionId":"1","requestId":"5"}),
        ]
        .iter()
        .map(|json| {
            Request::from_json(json)
                .expect("encodes")
                .into_envelope()
                .encode_to_vec()
        })
        .collect()
    }

    fn answer(frame: &[u8]) {
        let mut scratch = Vec::new();
        if let Ok(request) = Protobuf.decode(frame, &mut scratch) {
            let mut fixture = support::Fixture::new();
            let response = fixture.send(std::str::from_utf8(request).expect("JSON is UTF-8"));
            assert!(response.is_object(), "the engine answers: {response}");
            let mut message = serde_json::to_vec(&response).expect("JSON");
            Protobuf.encode(&mut message);
            assert!(ProtobufMessage::decode(&message[..]).is_ok());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_bytes(frame in proptest::collection::vec(any::<u8>(), 0..256)) {
            answer(&frame);
        }

        #[test]
        fn mutated_frames(
            which in 0usize..5,
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in any::<usize>(),
            tail in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let mut frame = valid_frames().swap_remove(which);
            for (at, byte) in flips {
                let index = at % frame.len();
                frame[index] ^= byte;
            }
            frame.truncate(cut % (frame.len() + 1));
            frame.extend(tail);
            answer(&frame);
        }
    }
}
