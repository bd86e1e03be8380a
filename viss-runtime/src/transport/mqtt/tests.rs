//! The MQTT service without a broker: envelopes in, what would be published out. The
//! broker round trips (real mosquitto, paho-mqtt clients) are in `tests/mqtt`.

use std::sync::atomic::AtomicUsize;

use serde_json::{Value as Json, json};

use super::*;
use crate::{DynamicTree, EngineConfig, NodeId, NodeKind, NodeSpec, SetHook, Value};

const VEHICLE: &str = "VIN1/Vehicle";

/// Counts the `set`s the engine applies.
#[derive(Default)]
struct CountingHook(AtomicUsize);

impl SetHook for CountingHook {
    fn on_set(&self, _node: NodeId, _path: &str, _value: &Value) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn service(hook: Arc<CountingHook>, max_subscriptions: usize) -> Service<DynamicTree> {
    let mut builder = DynamicTree::builder();
    let speed = NodeSpec::leaf("Speed", NodeKind::Sensor, "float");
    builder.insert_path("Vehicle.Speed", speed).unwrap();
    let window = NodeSpec::leaf("Position", NodeKind::Actuator, "uint8").max(100.0);
    builder
        .insert_path("Vehicle.Window.Position", window)
        .unwrap();
    let mut engine = Engine::new(builder.build(), EngineConfig::default());
    engine.set_provider(hook);
    Service::new(
        Arc::new(engine),
        VEHICLE.into(),
        Some(format!("{VEHICLE}/protobuf")),
        Limits {
            max_request_bytes: 64 * 1024,
            max_packet_bytes: 4096,
            max_subscriptions,
        },
        Arc::new(Outbox::new(100, 1 << 20)),
    )
}

fn envelope(topic: &str, request: &Json) -> Vec<u8> {
    json!({"topic": topic, "request": request.to_string()})
        .to_string()
        .into_bytes()
}

/// Everything published since the last call, as (topic, JSON).
fn published(service: &Service<DynamicTree>) -> Vec<(String, Json)> {
    let mut all = Vec::new();
    while service.outbox.len() > 0 {
        let message = futures_now(service.outbox.pop());
        let json = serde_json::from_slice(&message.payload).unwrap();
        all.push((message.topic.to_string(), json));
    }
    all
}

fn futures_now<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("not ready"),
    }
}

fn feed_speed(service: &mut Service<DynamicTree>, value: f32) {
    service
        .engine
        .update_path("Vehicle.Speed", Value::Float(value), jiff::Timestamp::now())
        .unwrap();
    service.send_events();
}

#[test]
fn get_is_answered_on_the_reply_topic() {
    let mut service = service(Arc::default(), 10);
    feed_speed(&mut service, 42.0);
    let get = json!({"action": "get", "path": "Vehicle.Speed", "requestId": "1"});
    service.on_message(VEHICLE, &envelope("cloud/a", &get));
    let answers = published(&service);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, "cloud/a");
    assert_eq!(answers[0].1["data"]["dp"]["value"], "42");
}

#[test]
fn events_follow_the_subscribing_topic_and_unsubscribe_works_from_a_renewed_topic() {
    let mut service = service(Arc::default(), 10);
    let subscribe = json!({"action": "subscribe", "path": "Vehicle.Speed",
        "filter": {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}},
        "requestId": "s"});
    service.on_message(VEHICLE, &envelope("cloud/old", &subscribe));
    let answers = published(&service);
    let id = answers[0].1["subscriptionId"].as_str().unwrap().to_owned();
    feed_speed(&mut service, 1.0);
    feed_speed(&mut service, 2.0);
    let events = published(&service);
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|(topic, event)| topic == "cloud/old" && event["subscriptionId"] == id.as_str())
    );
    // The client renews its reply topic and unsubscribes from there.
    let unsubscribe = json!({"action": "unsubscribe", "subscriptionId": id, "requestId": "u"});
    service.on_message(VEHICLE, &envelope("cloud/new", &unsubscribe));
    let answers = published(&service);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, "cloud/new");
    assert!(answers[0].1.get("error").is_none(), "{}", answers[0].1);
    assert!(service.routes.is_empty(), "the mapping is forgotten");
    feed_speed(&mut service, 3.0);
    assert!(
        published(&service).is_empty(),
        "no events after unsubscribe"
    );
    // A second unsubscribe is the spec's 404.
    service.on_message(VEHICLE, &envelope("cloud/new", &unsubscribe));
    assert_eq!(published(&service)[0].1["error"]["number"], "404");
}

#[test]
fn two_clients_never_see_each_others_answers_or_events() {
    let mut service = service(Arc::default(), 10);
    for client in ["a", "b"] {
        let subscribe = json!({"action": "subscribe", "path": "Vehicle.Speed",
            "filter": {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}},
            "requestId": client});
        service.on_message(VEHICLE, &envelope(&format!("cloud/{client}"), &subscribe));
    }
    let answers = published(&service);
    let ids: Vec<_> = answers
        .iter()
        .map(|(topic, answer)| (topic.clone(), answer["subscriptionId"].clone()))
        .collect();
    assert_ne!(ids[0].1, ids[1].1, "ids are server-wide");
    feed_speed(&mut service, 5.0);
    for (topic, event) in published(&service) {
        let expected = ids.iter().find(|(t, _)| *t == topic).unwrap();
        assert_eq!(event["subscriptionId"], expected.1);
    }
}

#[test]
fn a_repeated_set_is_answered_again_but_applied_once() {
    let hook = Arc::new(CountingHook::default());
    let mut service = service(Arc::clone(&hook), 10);
    let set = json!({"action": "set", "path": "Vehicle.Window.Position", "value": "40",
        "requestId": "set-1"});
    service.on_message(VEHICLE, &envelope("cloud/a", &set));
    service.on_message(VEHICLE, &envelope("cloud/a", &set));
    let answers = published(&service);
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].1, answers[1].1);
    assert_eq!(hook.0.load(Ordering::SeqCst), 1);
    // The same requestId with another value is another set.
    let other = json!({"action": "set", "path": "Vehicle.Window.Position", "value": "41",
        "requestId": "set-1"});
    service.on_message(VEHICLE, &envelope("cloud/a", &other));
    assert_eq!(hook.0.load(Ordering::SeqCst), 2);
}

#[test]
fn hostile_envelopes_get_an_error_where_answerable_and_nothing_else() {
    let mut service = service(Arc::default(), 10);
    let cases: Vec<Vec<u8>> = vec![
        b"not json".to_vec(),
        b"\xff\x00\x13garbage".to_vec(),
        br#"{"topic":"a/#","request":"{}"}"#.to_vec(),
        br#"{"topic":"+","request":"{}"}"#.to_vec(),
        envelope(VEHICLE, &json!({"action": "get", "path": "Vehicle.Speed"})),
    ];
    for case in &cases {
        service.on_message(VEHICLE, case);
    }
    assert!(published(&service).is_empty());
    assert_eq!(service.dropped_envelopes, cases.len() as u64);
    // Readable reply topic: the spec's error there.
    service.on_message(
        VEHICLE,
        br#"{"topic":"cloud/x","request":{"action":"get"}}"#,
    );
    service.on_message(
        VEHICLE,
        br#"{"topic":"cloud/x","request":"{not a request"}"#,
    );
    let big = "x".repeat(100 * 1024);
    service.on_message(
        VEHICLE,
        &envelope("cloud/x", &json!({"action": "get", "path": big})),
    );
    let answers = published(&service);
    assert_eq!(answers.len(), 3);
    for (topic, answer) in &answers {
        assert_eq!(topic, "cloud/x");
        assert_eq!(answer["error"]["number"], "400", "{answer}");
    }
    assert!(
        answers[2].1["error"]["description"]
            .as_str()
            .unwrap()
            .contains("at most 65536"),
        "{}",
        answers[2].1
    );
}

#[test]
fn the_subscription_cap_is_answered_429() {
    let mut service = service(Arc::default(), 1);
    let subscribe = json!({"action": "subscribe", "path": "Vehicle.Speed",
        "filter": {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}}});
    service.on_message(VEHICLE, &envelope("cloud/a", &subscribe));
    service.on_message(VEHICLE, &envelope("cloud/a", &subscribe));
    let answers = published(&service);
    assert!(answers[0].1.get("subscriptionId").is_some());
    assert_eq!(answers[1].1["error"]["number"], "429");
}

#[cfg(feature = "protobuf")]
#[test]
fn the_protobuf_topic_answers_in_protobuf() {
    use crate::codec::protobuf::protoenc::{MqttRequest, ProtobufMessage};
    use crate::codec::protobuf::{Request, Response};
    use prost::Message as _;
    let mut service = service(Arc::default(), 10);
    feed_speed(&mut service, 7.0);
    let get = json!({"action": "get", "path": "Vehicle.Speed", "requestId": "9"});
    let request = Request::from_json(&get).unwrap().into_envelope();
    let payload = MqttRequest {
        topic: "cloud/pb".into(),
        request: Some(request),
    }
    .encode_to_vec();
    service.on_message(&format!("{VEHICLE}/protobuf"), &payload);
    let message = futures_now(service.outbox.pop());
    assert_eq!(&*message.topic, "cloud/pb");
    let answer = ProtobufMessage::decode(message.payload.as_slice()).unwrap();
    let json = Response::from_envelope(answer).unwrap().to_json();
    assert_eq!(json["data"]["dp"]["value"], "7", "{json}");
    assert_eq!(json["requestId"], "9");
}

#[test]
fn an_answer_too_large_for_the_broker_connection_becomes_an_error_saying_so() {
    let mut service = service(Arc::default(), 10);
    // The test's packets are 4,096 bytes; a long request id makes the answer longer.
    let id = "i".repeat(5000);
    let get = json!({"action": "get", "path": "Vehicle.Speed", "requestId": id});
    feed_speed(&mut service, 1.0);
    service.on_message(VEHICLE, &envelope("cloud/a", &get));
    let answers = published(&service);
    assert_eq!(answers.len(), 1);
    let error = &answers[0].1["error"];
    assert_eq!(error["number"], "400");
    assert!(
        error["description"]
            .as_str()
            .unwrap()
            .contains("more than the broker connection carries"),
        "{error}"
    );
    assert_eq!(service.oversized, 1);
}

#[test]
fn subscription_ids_are_not_a_count() {
    let mut service = service(Arc::default(), 10);
    let subscribe = json!({"action": "subscribe", "path": "Vehicle.Speed",
        "filter": {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}}});
    for _ in 0..3 {
        service.on_message(VEHICLE, &envelope("cloud/a", &subscribe));
    }
    let ids: Vec<u64> = published(&service)
        .iter()
        .map(|(_, answer)| answer["subscriptionId"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| *id > 0 && *id < 1 << 53), "{ids:?}");
    assert!(
        ids.windows(2).all(|pair| pair[1] != pair[0] + 1),
        "sequential: {ids:?}"
    );
}

/// The broker connection as the pump sees it: a script of events, then silence.
struct Scripted(std::collections::VecDeque<LinkEvent>);

impl LinkEvents for Scripted {
    async fn next(&mut self) -> LinkEvent {
        match self.0.pop_front() {
            Some(event) => event,
            None => std::future::pending().await,
        }
    }
}

/// Subscribes and publishes nowhere (the pump only subscribes).
#[derive(Clone, Default)]
struct Nowhere(Arc<Mutex<Vec<String>>>);

impl LinkClient for Nowhere {
    async fn subscribe(&self, topic: &str) -> Result<(), String> {
        self.0.lock().push(topic.to_owned());
        Ok(())
    }
    async fn publish(&self, _topic: &str, _payload: Vec<u8>) -> Result<(), String> {
        Ok(())
    }
    fn try_publish(&self, _topic: &str, _payload: Vec<u8>) -> Result<(), Vec<u8>> {
        Ok(())
    }
    async fn disconnect(&self) {}
}

#[tokio::test]
async fn retained_requests_are_ignored_and_topics_subscribed_on_every_connect() {
    let message = |payload: &str, retained| LinkEvent::Message {
        topic: VEHICLE.into(),
        payload: payload.as_bytes().to_vec(),
        retained,
    };
    let script = Scripted(
        [
            LinkEvent::Connected {
                session_present: false,
            },
            message("retained", true),
            message("live", false),
            LinkEvent::Lost("test".into()),
            LinkEvent::Connected {
                session_present: false,
            },
        ]
        .into(),
    );
    let client = Nowhere::default();
    let pump = Pump {
        client: client.clone(),
        topics: vec![VEHICLE.into()],
        backoff: Backoff::new(Duration::from_millis(1), Duration::from_millis(2)),
        broker: "test".into(),
        outbox: Arc::new(Outbox::new(10, 1 << 20)),
    };
    let (incoming, mut requests) = mpsc::channel(8);
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(pump.run(script, incoming, stopped));
    let first = tokio::time::timeout(Duration::from_secs(5), requests.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.payload, b"live");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        requests.try_recv().is_err(),
        "the retained request got through"
    );
    assert_eq!(
        *client.0.lock(),
        [VEHICLE, VEHICLE],
        "subscribed on each connect"
    );
    // (At a stop the pump keeps the connection for the goodbye; nothing to wait for here.)
    drop(stop);
    task.abort();
}
