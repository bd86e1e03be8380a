//! VISS over MQTT (TRANSPORT §5.3; viss-core §7.3): the server connects out to a broker as
//! an MQTT client, the only way in for a vehicle behind carrier NAT.
//!
//! - Requests arrive on `<VID>/Vehicle` as `{"topic":"<reply topic>","request":"<VISS
//!   request as a string>"}` ([`envelope`]); the answer is published to the reply topic.
//!   `<VID>/Vehicle/protobuf` takes the same envelope in protobuf (`MqttRequest`) and
//!   answers with `ProtobufMessage`s (PAYLOAD ENCODING, MQTT realization).
//! - Each subscription gets a session of its own (numbered server-wide, like gRPC streams)
//!   whose events go to the topic that subscribed. An `unsubscribe` is routed to the
//!   subscription's session whichever topic it comes from (a client may renew its reply
//!   topic, TRANSPORT §5.3.2), and the mapping is forgotten with it.
//! - Broker faults: the connection comes back with capped exponential backoff and jitter
//!   ([`backoff`]) and the request topics are subscribed again. **Subscriptions live in the
//!   server, not in the broker connection: they resume on the same reply topics**, and
//!   events produced meanwhile wait in the bounded outgoing queue ([`outbox`], drop-oldest,
//!   counted and logged), so the engine never waits for the broker.
//! - With QoS 1 a request can arrive twice (a client's retry after a broker restart). A
//!   `set` seen again from the same reply topic with the same `requestId` and bytes within
//!   [`RECENT_SET_TTL`] gets the first answer again and is not applied twice.
//! - Malformed envelopes get the spec's error on the reply topic when it can be read and
//!   are logged and dropped when not; a reply topic with wildcards, a `$` topic or one of
//!   the server's own request topics is never published to.
//!
//! The client library is behind [`link`]'s two traits (rumqttc today).

pub mod envelope;

mod backoff;
pub(crate) mod link;
mod outbox;
mod recent;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use self::backoff::Backoff;
use self::envelope::{Envelope, Refused};
use self::link::{LinkClient, LinkEvent, LinkEvents, LinkOptions};
use self::outbox::{Outbox, Outgoing};
use self::recent::{RecentSets, Reply};
use super::config::{MqttConfig, ServerConfig};
use super::subscription_ids::SubscriptionIds;
use super::{ServerError, write_transport_error};
use crate::codec::{self, Codec};
use crate::protocol::Version;
use crate::request::Action;
use crate::subscription::Session;
use crate::{Engine, VissTree};

pub use self::link::{network_options, parse_broker_url};
pub use self::recent::RECENT_SET_TTL;

/// Events sent per subscription per turn before the others get theirs.
const BATCH: usize = 32;
/// Events a subscription's session holds until the service moves them to the outbox (the
/// real buffer, bounded for all subscriptions together): small, as a server may hold
/// thousands of MQTT subscriptions.
const SESSION_QUEUE: usize = 64;
/// A connection that lasted this long was a good one: the next loss starts the backoff
/// from its minimum again. (Reset on every connect, a broker that accepts and then drops
/// us, e.g. over a message it refuses, would be retried at the minimum wait forever.)
const STABLE: Duration = Duration::from_secs(10);
/// Messages read from the broker and not yet answered.
const INCOMING: usize = 64;
/// Time given to publish what is queued at shutdown.
const DRAIN: Duration = Duration::from_secs(2);

/// The running MQTT transport: where it connects and the topics it serves.
#[derive(Debug, Clone)]
pub struct MqttEndpoint {
    /// `host:port` of the broker.
    pub broker: String,
    pub tls: bool,
    pub request_topic: String,
    pub protobuf_topic: Option<String>,
}

/// Resolves the configuration (files read, URL checked) and starts the broker connection,
/// the publisher and the request server; they stop when `stopped` turns true.
pub(crate) fn start<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
    config: &ServerConfig,
    stopped: watch::Receiver<bool>,
) -> Result<(MqttEndpoint, Vec<JoinHandle<()>>), ServerError> {
    let mqtt = &config.mqtt;
    let options =
        LinkOptions::from_config(mqtt, config.tls.insecure).map_err(ServerError::Config)?;
    let (request_topic, protobuf_topic) = topics(mqtt)?;
    let endpoint = MqttEndpoint {
        broker: format!("{}:{}", options.host, options.port),
        tls: options.tls.is_some(),
        request_topic: request_topic.clone(),
        protobuf_topic: protobuf_topic.clone(),
    };
    if options.tls.is_none() {
        tracing::warn!(
            broker = %endpoint.broker,
            "!!! INSECURE: plain mqtt:// to the broker, every request and value in clear !!!"
        );
    }
    let (client, events) = link::open(&options);
    let outbox = Arc::new(Outbox::new(mqtt.queue, mqtt.queue_bytes));
    let (incoming, requests) = mpsc::channel(INCOMING);
    let mut subscribe_to = vec![request_topic.clone()];
    subscribe_to.extend(protobuf_topic.clone());
    let backoff = Backoff::new(
        Duration::from_millis(mqtt.reconnect_min_ms),
        Duration::from_millis(mqtt.reconnect_max_ms),
    );
    let pump = Pump {
        client: client.clone(),
        topics: subscribe_to,
        backoff,
        broker: endpoint.broker.clone(),
        outbox: Arc::clone(&outbox),
    };
    let mut service = Service::new(
        engine,
        request_topic,
        protobuf_topic,
        Limits {
            max_request_bytes: config.limits.max_message_bytes,
            max_packet_bytes: options.max_packet_bytes,
            max_subscriptions: mqtt.max_subscriptions,
        },
        Arc::clone(&outbox),
    );
    let direct = client.clone();
    service.direct = Some(Box::new(move |topic, payload| {
        direct.try_publish(topic, payload)
    }));
    let tasks = vec![
        tokio::spawn(pump.run(events, incoming, stopped.clone())),
        tokio::spawn(publish(client, outbox, stopped.clone())),
        tokio::spawn(service.run(requests, stopped)),
    ];
    Ok((endpoint, tasks))
}

fn topics(config: &MqttConfig) -> Result<(String, Option<String>), ServerError> {
    let request = config
        .request_topic()
        .ok_or_else(|| ServerError::Config("mqtt.vid is required with mqtt.broker".into()))?;
    let protobuf = if cfg!(feature = "protobuf") {
        config.protobuf_topic()
    } else {
        None
    };
    Ok((request, protobuf))
}

/// A message from the broker on one of the request topics.
#[derive(Debug)]
struct Incoming {
    topic: String,
    payload: Vec<u8>,
}

/// Drives the broker connection: reconnects with backoff, subscribes the request topics
/// on every (re)connect, hands messages to the service.
struct Pump<C> {
    client: C,
    topics: Vec<String>,
    backoff: Backoff,
    broker: String,
    outbox: Arc<Outbox>,
}

impl<C: LinkClient> Pump<C> {
    async fn run(
        mut self,
        mut events: impl LinkEvents,
        incoming: mpsc::Sender<Incoming>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let mut failures: u32 = 0;
        let mut connected_at: Option<std::time::Instant> = None;
        loop {
            let event = tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => None,
                event = events.next() => Some(event),
            };
            let Some(event) = event else {
                return Self::drain(events).await;
            };
            match event {
                LinkEvent::Connected { session_present } => {
                    connected_at = Some(std::time::Instant::now());
                    tracing::info!(
                        broker = %self.broker,
                        after_failures = failures,
                        session_present,
                        queued = self.outbox.len(),
                        dropped_total = self.outbox.dropped(),
                        "connected to the MQTT broker; serving {}",
                        self.topics.join(", ")
                    );
                    failures = 0;
                    // Queued to the library, sent by the event loop this task drives: a
                    // task of its own, so a full request queue cannot stall the loop.
                    let client = self.client.clone();
                    let topics = self.topics.clone();
                    tokio::spawn(async move {
                        for topic in topics {
                            if let Err(error) = client.subscribe(&topic).await {
                                tracing::error!(topic, %error, "cannot subscribe");
                            }
                        }
                    });
                }
                LinkEvent::Subscribed { granted } => {
                    if !granted {
                        tracing::error!(
                            broker = %self.broker,
                            "the MQTT broker refused a subscription to one of {} (its ACL): \
                             requests on it do not reach this server",
                            self.topics.join(", ")
                        );
                    }
                }
                LinkEvent::Message {
                    topic, retained, ..
                } if retained => {
                    // Replayed by the broker on every subscription: a retained `set` would
                    // be applied again after each reconnect, a retained `subscribe` pile up.
                    tracing::debug!(topic, "retained message on a request topic: ignored");
                }
                LinkEvent::Message { topic, payload, .. } => {
                    if incoming.send(Incoming { topic, payload }).await.is_err() {
                        return Self::drain(events).await;
                    }
                }
                LinkEvent::Lost(_) if *stopped.borrow() => return,
                LinkEvent::Lost(reason) => {
                    failures = failures.saturating_add(1);
                    if connected_at.take().is_some_and(|at| at.elapsed() >= STABLE) {
                        self.backoff.reset();
                    }
                    let wait = self.backoff.next_wait();
                    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                    if failures == 1 {
                        tracing::warn!(broker = %self.broker, %reason, wait_ms, "MQTT broker connection lost; reconnecting");
                    } else {
                        tracing::debug!(broker = %self.broker, %reason, wait_ms, failures, "MQTT reconnect failed");
                    }
                    tokio::select! {
                        _ = stopped.wait_for(|stop| *stop) => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }
}

impl<C> Pump<C> {
    /// At shutdown: keeps the connection going while the publisher sends what is queued
    /// and says goodbye (its DISCONNECT ends the connection), for a bounded time.
    async fn drain(mut events: impl LinkEvents) {
        let until_closed = async { while !matches!(events.next().await, LinkEvent::Lost(_)) {} };
        let _ = tokio::time::timeout(DRAIN + Duration::from_secs(1), until_closed).await;
    }
}

/// Publishes what the service queues, in order; at shutdown, what is left for a moment.
async fn publish(client: impl LinkClient, outbox: Arc<Outbox>, mut stopped: watch::Receiver<bool>) {
    loop {
        let message = tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => break,
            message = outbox.pop() => message,
        };
        let Outgoing { topic, payload } = message;
        // Waits only while the library's queue is full (the broker is away); a stop then
        // loses this one message, as the broker being away would.
        let sent = tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => break,
            sent = client.publish(&topic, payload) => sent,
        };
        outbox.done();
        if let Err(error) = sent {
            tracing::debug!(%error, "MQTT publish failed");
        }
    }
    let drain = async {
        while outbox.len() > 0 {
            let message = outbox.pop().await;
            let _ = client.publish(&message.topic, message.payload).await;
            outbox.done();
        }
    };
    let _ = tokio::time::timeout(DRAIN, drain).await;
    client.disconnect().await;
}

/// The subscriptions whose sessions have events waiting (each listed once).
#[derive(Debug, Default)]
struct Ready {
    ids: Mutex<Vec<u64>>,
    notify: Notify,
}

/// One subscription: where its events go and in which encoding.
struct Route {
    topic: Arc<str>,
    codec: &'static dyn Codec,
    session: Session,
    /// Listed in [`Ready`] and not yet served.
    queued: Arc<AtomicBool>,
}

/// What the service enforces.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Largest request read (`limits.max_message_bytes`).
    max_request_bytes: usize,
    /// Largest MQTT packet the connection carries: larger answers and events are refused
    /// here, as the client library would drop the connection over them.
    max_packet_bytes: usize,
    /// Subscriptions of all MQTT clients together.
    max_subscriptions: usize,
}

/// Hands a message to the client library without waiting; gives it back when full.
type DirectSend = Box<dyn Fn(&str, Vec<u8>) -> Result<(), Vec<u8>> + Send>;

/// Answers requests and routes events.
struct Service<T: VissTree> {
    engine: Arc<Engine<T>>,
    request_topic: String,
    protobuf_topic: Option<String>,
    limits: Limits,
    /// Subscription ids: unguessable, so a client cannot end another's subscription by
    /// counting.
    ids: SubscriptionIds,
    /// Messages refused for being larger than the broker connection carries.
    oversized: u64,
    /// Answers get, set and failed requests (subscriptions get sessions of their own).
    shared: Session,
    routes: HashMap<u64, Route>,
    ready: Arc<Ready>,
    outbox: Arc<Outbox>,
    /// The client library, when answers may skip the outbox (nothing queued before them).
    direct: Option<DirectSend>,
    recent_sets: RecentSets,
    out: Vec<u8>,
    /// Envelopes refused without a reply topic (logged at debug, counted here).
    dropped_envelopes: u64,
}

impl<T: VissTree + 'static> Service<T> {
    fn new(
        engine: Arc<Engine<T>>,
        request_topic: String,
        protobuf_topic: Option<String>,
        limits: Limits,
        outbox: Arc<Outbox>,
    ) -> Self {
        // Many clients share it: no token handles (one would be usable by all of them).
        let shared = engine.open_session_for(Version::V3).without_token_cache();
        Self {
            engine,
            request_topic,
            protobuf_topic,
            limits: Limits {
                max_subscriptions: limits.max_subscriptions.max(1),
                ..limits
            },
            ids: SubscriptionIds::default(),
            oversized: 0,
            shared,
            routes: HashMap::new(),
            ready: Arc::new(Ready::default()),
            outbox,
            direct: None,
            recent_sets: RecentSets::default(),
            out: Vec::with_capacity(1024),
            dropped_envelopes: 0,
        }
    }

    async fn run(
        mut self,
        mut requests: mpsc::Receiver<Incoming>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let ready = Arc::clone(&self.ready);
        loop {
            // Not biased: a steady stream of requests must not starve event delivery.
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => break,
                request = requests.recv() => match request {
                    Some(request) => self.on_message(&request.topic, &request.payload),
                    None => break,
                },
                () = ready.notify.notified() => self.send_events(),
            }
        }
        for route in self.routes.values_mut() {
            self.engine.close_session(&mut route.session);
        }
        tracing::debug!(
            subscriptions = self.routes.len(),
            dropped_envelopes = self.dropped_envelopes,
            "MQTT service stopped"
        );
    }

    /// One message from the broker: unwrap, answer, publish.
    fn on_message(&mut self, topic: &str, payload: &[u8]) {
        let (codec, parsed): (&'static dyn Codec, _) = if topic == self.request_topic {
            (&codec::Json, envelope::parse_json(payload))
        } else if self.protobuf_topic.as_deref() == Some(topic) {
            #[cfg(feature = "protobuf")]
            {
                (
                    &codec::protobuf::Protobuf,
                    envelope::parse_protobuf(payload),
                )
            }
            #[cfg(not(feature = "protobuf"))]
            return;
        } else {
            tracing::debug!(topic, "message on a topic not served: ignored");
            return;
        };
        match parsed {
            Ok(envelope) if self.is_own_topic(&envelope.topic) => {
                self.drop_envelope("the reply topic is one of the server's request topics");
            }
            Ok(envelope) => self.answer(codec, envelope),
            Err(Refused {
                topic: Some(reply),
                reason,
            }) if !self.is_own_topic(&reply) => {
                write_transport_error(&mut self.out, None, "400", "bad_request", &reason);
                let reply: Arc<str> = Arc::from(reply.as_ref());
                self.publish_out(&reply, codec);
            }
            Err(refused) => self.drop_envelope(&refused.reason),
        }
    }

    fn is_own_topic(&self, topic: &str) -> bool {
        topic == self.request_topic || self.protobuf_topic.as_deref() == Some(topic)
    }

    fn drop_envelope(&mut self, reason: &str) {
        self.dropped_envelopes += 1;
        tracing::debug!(
            reason,
            dropped_total = self.dropped_envelopes,
            "MQTT request dropped: no reply topic to answer on"
        );
    }

    fn answer(&mut self, codec: &'static dyn Codec, envelope: Envelope<'_>) {
        let topic: Arc<str> = Arc::from(envelope.topic.as_ref());
        if envelope.request.len() > self.limits.max_request_bytes {
            let description = format!(
                "The request is {} bytes; this server accepts at most {}",
                envelope.request.len(),
                self.limits.max_request_bytes
            );
            write_transport_error(&mut self.out, None, "400", "bad_request", &description);
            return self.publish_out(&topic, codec);
        }
        let mut scratch = Vec::new();
        let json = match codec.decode(&envelope.request, &mut scratch) {
            Ok(json) => json,
            Err(error) => {
                let description = format!("The request is not a {} message: {error}", codec.name());
                write_transport_error(&mut self.out, None, "400", "bad_request", &description);
                return self.publish_out(&topic, codec);
            }
        };
        let reply = Reply {
            topic: &topic,
            encoding: codec.name(),
        };
        // Parsed once: read here to route the request, answered from the parse.
        let request = match crate::request::parse(json) {
            Ok(request) => request,
            Err(_) => {
                // Not a request: the engine writes the spec's error for it.
                self.engine.handle(&mut self.shared, json, &mut self.out);
                return self.publish_out(&topic, codec);
            }
        };
        match request.action {
            Action::Set => {
                let request_id = request.request_id.as_deref();
                if let Some(id) = request_id
                    && let Some(answer) = self.recent_sets.answered(reply, id, json)
                {
                    tracing::debug!(request_id = %id, "repeated MQTT set answered, not applied again");
                    self.send(Outgoing {
                        topic,
                        payload: answer,
                    });
                    return;
                }
                self.engine
                    .handle_parsed(&mut self.shared, &request, &mut self.out);
                if let Some(id) = request_id {
                    self.encode_answer(&topic, codec);
                    self.recent_sets.remember(reply, id, json, &self.out);
                    let payload = std::mem::take(&mut self.out);
                    self.send(Outgoing { topic, payload });
                    return;
                }
            }
            Action::Subscribe => self.subscribe(&request, &topic, codec),
            Action::Unsubscribe => self.unsubscribe(&request),
            Action::Get => {
                self.engine
                    .handle_parsed(&mut self.shared, &request, &mut self.out);
            }
        }
        self.publish_out(&topic, codec);
    }

    /// A new session for the subscription (its id drawn from the server-wide count), kept
    /// when the engine accepted it.
    fn subscribe(
        &mut self,
        request: &crate::request::Request<'_>,
        topic: &Arc<str>,
        codec: &'static dyn Codec,
    ) {
        if self.routes.len() >= self.limits.max_subscriptions {
            let description = format!(
                "This server holds at most {} MQTT subscriptions",
                self.limits.max_subscriptions
            );
            write_transport_error(
                &mut self.out,
                Some("subscribe"),
                "429",
                "too_many_requests",
                &description,
            );
            return;
        }
        let id = self.new_subscription_id();
        let mut session = self
            .engine
            .open_session_with_queue(Version::V3, SESSION_QUEUE)
            .without_token_cache()
            .numbering_subscriptions_from(id);
        let queued = Arc::new(AtomicBool::new(false));
        let ready = Arc::clone(&self.ready);
        let flag = Arc::clone(&queued);
        session.events().set_notifier(move || {
            if !flag.swap(true, Ordering::AcqRel) {
                ready.ids.lock().push(id);
                ready.notify.notify_one();
            }
        });
        self.engine
            .handle_parsed(&mut session, request, &mut self.out);
        if session.subscription_count() == 0 {
            self.engine.close_session(&mut session);
            return;
        }
        self.routes.insert(
            id,
            Route {
                topic: Arc::clone(topic),
                codec,
                session,
                queued,
            },
        );
    }

    /// A fresh id, never one in use.
    fn new_subscription_id(&mut self) -> u64 {
        let routes = &self.routes;
        self.ids.next(|id| routes.contains_key(&id))
    }

    /// Routed to the subscription's own session, whichever topic asks; the route goes
    /// with the subscription. An unknown id is answered by the shared session (404).
    fn unsubscribe(&mut self, request: &crate::request::Request<'_>) {
        let id = request
            .subscription_id
            .as_deref()
            .and_then(|id| id.parse::<u64>().ok());
        let Some(route) = id.and_then(|id| self.routes.get_mut(&id)) else {
            return self
                .engine
                .handle_parsed(&mut self.shared, request, &mut self.out);
        };
        self.engine
            .handle_parsed(&mut route.session, request, &mut self.out);
        if route.session.subscription_count() == 0
            && let Some(id) = id
            && let Some(mut route) = self.routes.remove(&id)
        {
            self.send_route_events(&mut route);
            self.engine.close_session(&mut route.session);
        }
    }

    /// Encodes `out` for the reply topic and queues it; an answer too large for the broker
    /// connection is replaced by an error saying so.
    fn publish_out(&mut self, topic: &Arc<str>, codec: &'static dyn Codec) {
        self.encode_answer(topic, codec);
        let payload = std::mem::replace(&mut self.out, Vec::with_capacity(1024));
        self.send(Outgoing {
            topic: Arc::clone(topic),
            payload,
        });
    }

    /// Straight to the client library when nothing waits before it, else through the
    /// outbox: in order either way, and never waiting.
    fn send(&self, message: Outgoing) {
        match &self.direct {
            Some(direct) => self.outbox.push_or_send(message, |message| {
                let Outgoing { topic, payload } = message;
                direct(&topic, payload).map_err(|payload| Outgoing { topic, payload })
            }),
            None => self.outbox.push(message),
        }
    }

    /// Encodes the answer in `out` with `codec`, or the error that replaces it when it does
    /// not fit in an MQTT packet.
    fn encode_answer(&mut self, topic: &str, codec: &'static dyn Codec) {
        codec.encode(&mut self.out);
        let length = self.out.len();
        if self.too_big(topic, length) {
            let description = format!(
                "The answer is {} bytes, more than the broker connection carries ({} bytes): \
                 ask for less (a smaller subtree, a paths filter)",
                self.out.len(),
                self.limits.max_packet_bytes
            );
            write_transport_error(&mut self.out, None, "400", "bad_request", &description);
            codec.encode(&mut self.out);
        }
    }

    /// True (logged, counted) when a payload of `payload_len` bytes for `topic` is larger than an MQTT packet of
    /// the broker connection: the client library would drop the connection over it.
    fn too_big(&mut self, topic: &str, payload_len: usize) -> bool {
        // Fixed header (≤ 5), topic length (2), packet id (2).
        let packet = payload_len + topic.len() + 9;
        if packet <= self.limits.max_packet_bytes {
            return false;
        }
        self.oversized += 1;
        tracing::warn!(
            bytes = packet,
            max_packet_bytes = self.limits.max_packet_bytes,
            oversized_total = self.oversized,
            "an MQTT answer or event is larger than the broker connection carries: not sent"
        );
        true
    }

    /// Sends the events of every subscription listed ready, a batch each; a subscription
    /// the engine ended (duration limit, error event) is forgotten once its last event is
    /// out.
    fn send_events(&mut self) {
        let ids = std::mem::take(&mut *self.ready.ids.lock());
        for id in ids {
            let Some(mut route) = self.routes.remove(&id) else {
                continue;
            };
            route.queued.store(false, Ordering::Release);
            let more = self.send_route_events(&mut route);
            if more {
                if !route.queued.swap(true, Ordering::AcqRel) {
                    self.ready.ids.lock().push(id);
                    self.ready.notify.notify_one();
                }
            } else if route.session.active_subscription_count() == 0 {
                self.engine.close_session(&mut route.session);
                continue;
            }
            self.routes.insert(id, route);
        }
    }

    /// Queues up to [`BATCH`] events of `route`; true when more are waiting.
    fn send_route_events(&mut self, route: &mut Route) -> bool {
        for _ in 0..BATCH {
            let mut event = Vec::with_capacity(256);
            if !route.session.next_event(&mut event) {
                return false;
            }
            route.codec.encode(&mut event);
            if self.too_big(&route.topic, event.len()) {
                continue;
            }
            self.send(Outgoing {
                topic: Arc::clone(&route.topic),
                payload: event,
            });
        }
        !route.session.events().is_empty()
    }
}

#[cfg(test)]
mod tests;
