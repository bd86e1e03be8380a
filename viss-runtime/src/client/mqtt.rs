//! The client over MQTT (TRANSPORT §5.3; feature `client-mqtt`): through a broker to a
//! vehicle that serves VISS over MQTT, for a client that cannot reach the vehicle directly.
//! The URL names the broker and the vehicle: `mqtts://broker:8883/<VID>` (TLS), or
//! `mqtt://broker:1883/<VID>` for a broker without TLS, chosen explicitly.
//!
//! Each request goes to `<VID>/Vehicle` in the envelope `{"topic":<reply topic>,
//! "request":"<the VISS request as a string>"}`; answers and events come back on this
//! client's own reply topic (`vssgen-client/<random>`), matched by `requestId` and
//! `subscriptionId`. The broker connection is the server's own MQTT seam
//! ([`crate::transport::mqtt::link`], rumqttc): it reconnects by itself and keeps the reply
//! topic subscribed; the vehicle keeps subscriptions across broker faults, so their events
//! resume on the same topic. While the broker is away a request fails at once with
//! [`ClientError::ConnectionLost`] (queued, it could land long after its caller gave up); one
//! whose answer a broker fault lost times out.
//!
//! The vehicle ends a subscription only when told (MQTT has no connection to it that could
//! end): a dropped subscription, an answer to a subscribe whose caller gave up, and every
//! live subscription at `close` are unsubscribed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use super::ClientError;
use crate::transport::mqtt::link::{
    self, LinkClient as _, LinkEvent, LinkEvents as _, LinkOptions,
};

/// Events queued for a slow subscriber are bounded by the client's `event_queue`.
type Events = mpsc::Sender<Result<String, ClientError>>;

/// The broker connection a [`Client`](super::Client) shares, and what its subscriptions
/// hold to end themselves.
pub(super) struct MqttLink {
    shared: Arc<Shared>,
    driver: tokio::task::AbortHandle,
    timeout: Duration,
    /// Requests waiting for an answer at most; more fail with
    /// [`ClientError::TooManyPending`].
    pending: tokio::sync::Semaphore,
}

pub(super) struct Shared {
    client: link::RumqttClient,
    request_topic: String,
    reply_topic: String,
    routes: Mutex<Routes>,
    closed: AtomicBool,
    /// The broker connection is up and the reply topic subscribed, so an answer can reach
    /// us (the driver follows both).
    connected: AtomicBool,
    next_unsubscribe: AtomicU64,
    /// Events dropped because a subscriber read too slowly.
    pub(super) dropped: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttLink")
            .field("request_topic", &self.request_topic)
            .field("reply_topic", &self.reply_topic)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Routes {
    /// Requests waiting for their answer, by `requestId`; a subscribe brings the sender
    /// its events go to, registered when its answer passes (before any event can).
    answers: HashMap<String, (oneshot::Sender<String>, Option<Events>)>,
    /// Live subscriptions, by `subscriptionId`.
    events: HashMap<String, Events>,
}

impl MqttLink {
    /// Connects to the broker of `url` (`mqtts://[user:password@]host[:port]/<VID>`) and
    /// subscribes this client's reply topic; fails when the broker does not answer within
    /// `timeout`.
    pub(super) async fn connect(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        timeout: Duration,
        max_pending: usize,
    ) -> Result<Self, ClientError> {
        // Taken out first: every message below names the URL, never the password.
        let (url, credentials) = split_credentials(url);
        let url = url.as_str();
        let refused = |why: &str| ClientError::Connect(format!("{url}: {why}"));
        let (broker, vid) = url
            .rsplit_once('/')
            .filter(|(broker, _)| broker.contains("://"))
            .ok_or_else(|| refused("name the vehicle: mqtts://broker:8883/<VID>"))?;
        if vid.is_empty() || vid.contains(['#', '+', '\0']) {
            return Err(refused(
                "the vehicle id may not be empty or hold `#`, `+` or NUL",
            ));
        }
        let (_, host, port) = link::parse_broker_url(broker).map_err(|why| refused(&why))?;
        let random = format!("{:016x}", fastrand::u64(..));
        let options = LinkOptions {
            host,
            port,
            tls,
            client_id: format!("vssgen-client-{random}"),
            credentials,
            keep_alive_secs: 30,
            qos: 1,
            clean_session: true,
            max_packet_bytes: 64 * 1024 * 1024,
        };
        let (client, mut events) = link::open(&options);
        let reply_topic = format!("vssgen-client/{random}");
        client
            .subscribe(&reply_topic)
            .await
            .map_err(|why| refused(&why))?;
        // Connected, and the reply topic subscribed: the library may send a request queued
        // after the subscription before it, and the broker drops an answer published to a
        // topic nobody has subscribed yet (seen under load: a request answered, its answer
        // lost).
        let subscribed = async {
            loop {
                match events.next().await {
                    LinkEvent::Subscribed { granted: true } => return Ok(()),
                    LinkEvent::Subscribed { granted: false } => {
                        return Err(refused(&format!(
                            "the broker refused a subscription to the reply topic \
                             {reply_topic} (its ACL must let this user subscribe \
                             vssgen-client/#)"
                        )));
                    }
                    LinkEvent::Lost(why) => return Err(refused(&why)),
                    LinkEvent::Connected { .. } | LinkEvent::Message { .. } => {}
                }
            }
        };
        tokio::time::timeout(timeout, subscribed)
            .await
            .map_err(|_| refused(&format!("no answer from the broker within {timeout:?}")))??;
        let shared = Arc::new(Shared {
            client,
            request_topic: format!("{vid}/Vehicle"),
            reply_topic,
            routes: Mutex::default(),
            closed: AtomicBool::new(false),
            connected: AtomicBool::new(true),
            next_unsubscribe: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
        });
        let driven = Arc::clone(&shared);
        let driver = tokio::spawn(async move {
            loop {
                match events.next().await {
                    LinkEvent::Message { topic, payload, .. } if topic == driven.reply_topic => {
                        if let Ok(text) = String::from_utf8(payload) {
                            driven.route(text);
                        }
                    }
                    LinkEvent::Lost(why) => {
                        driven.connected.store(false, Ordering::Relaxed);
                        tracing::debug!(%why, "MQTT broker connection lost; reconnecting");
                        // The next poll reconnects; not in a hot loop while the broker is down.
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    LinkEvent::Connected { session_present } => {
                        // With the session kept, answers route at once; else only once
                        // the reply topic is subscribed again (`Subscribed`).
                        driven.connected.store(session_present, Ordering::Relaxed);
                        // A clean session forgot the reply topic: subscribe it again, from
                        // a task of its own (this one must go on draining the library's
                        // queue for the subscription to get through).
                        if !session_present {
                            let again = Arc::clone(&driven);
                            tokio::spawn(async move {
                                let _ = again.client.subscribe(&again.reply_topic).await;
                            });
                        }
                    }
                    LinkEvent::Subscribed { granted } => {
                        if !granted {
                            tracing::warn!("the MQTT broker refused the reply topic again");
                        }
                        driven.connected.store(granted, Ordering::Relaxed);
                    }
                    LinkEvent::Message { .. } => {}
                }
            }
        });
        Ok(Self {
            shared,
            driver: driver.abort_handle(),
            timeout,
            pending: tokio::sync::Semaphore::new(max_pending.max(1)),
        })
    }

    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// A client dropped without `close` stops its broker connection too.
impl Drop for MqttLink {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl MqttLink {
    /// Unsubscribes every live subscription, says goodbye to the broker, and ends what
    /// waits: calls fail with [`ClientError::Closed`], subscriptions end with it.
    pub(super) async fn close(&self) {
        if self.shared.closed.swap(true, Ordering::Relaxed) {
            return;
        }
        let routes = std::mem::take(&mut *self.shared.routes.lock());
        for (id, events) in routes.events {
            let _ = events.try_send(Err(ClientError::Closed));
            let _ = tokio::time::timeout(self.timeout, self.shared.publish_unsubscribe(&id)).await;
        }
        drop(routes.answers);
        self.shared.client.disconnect().await;
        self.driver.abort();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Relaxed)
    }

    /// Sends request `text` (with `requestId` `id`) and returns its answer.
    pub(super) async fn call(&self, id: u64, text: &str) -> Result<String, ClientError> {
        self.exchange(id, text, None).await
    }

    /// Sends subscribe request `text` (with `requestId` `id`); once it is answered, the
    /// subscription's events go to `events`. Returns the answer and the subscription id.
    pub(super) async fn subscribe(
        &self,
        id: u64,
        text: &str,
        events: Events,
    ) -> Result<String, ClientError> {
        let answer = super::ok_or_error(self.exchange(id, text, Some(events)).await?)?;
        subscription_id(&answer).ok_or_else(|| ClientError::Protocol(super::truncate(&answer)))
    }

    async fn exchange(
        &self,
        id: u64,
        text: &str,
        events: Option<Events>,
    ) -> Result<String, ClientError> {
        if self.is_closed() {
            return Err(ClientError::Closed);
        }
        if !self.shared.connected.load(Ordering::Relaxed) {
            return Err(ClientError::ConnectionLost);
        }
        let _pending = self
            .pending
            .try_acquire()
            .map_err(|_| ClientError::TooManyPending)?;
        let key = id.to_string();
        let (reply, answer) = oneshot::channel();
        self.shared
            .routes
            .lock()
            .answers
            .insert(key.clone(), (reply, events));
        let sent = async {
            self.shared.publish(text).await?;
            answer.await.map_err(|_| ClientError::Closed)
        };
        let outcome = tokio::time::timeout(self.timeout, sent).await;
        // Answered or given up: either way it no longer waits.
        self.shared.routes.lock().answers.remove(&key);
        outcome.map_err(|_| ClientError::Timeout)?
    }
}

impl Shared {
    async fn publish(&self, request: &str) -> Result<(), ClientError> {
        let envelope = serde_json::json!({"topic": self.reply_topic, "request": request});
        self.client
            .publish(&self.request_topic, envelope.to_string().into_bytes())
            .await
            .map_err(|_| ClientError::ConnectionLost)
    }

    /// Forgets subscription `id` and ends it on the vehicle from a task of its own (its
    /// answer is not waited for).
    pub(super) fn unsubscribe(self: &Arc<Self>, id: &str) {
        if self.routes.lock().events.remove(id).is_none() {
            return;
        }
        self.unsubscribe_later(id.to_owned());
    }

    /// Publishes an unsubscribe of `id` from a task (publishing may wait for the library's
    /// queue; a `Drop` or the driver cannot).
    fn unsubscribe_later(self: &Arc<Self>, id: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let shared = Arc::clone(self);
        runtime.spawn(async move { shared.publish_unsubscribe(&id).await });
    }

    async fn publish_unsubscribe(&self, id: &str) {
        let request_id = format!(
            "unsubscribe-{}",
            self.next_unsubscribe.fetch_add(1, Ordering::Relaxed)
        );
        let request = serde_json::json!({
            "action": "unsubscribe", "subscriptionId": id, "requestId": request_id,
        });
        let _ = self.publish(&request.to_string()).await;
    }

    /// An answer goes to its waiting request, an event to its subscription. A subscription
    /// nobody reads any more is ended on the vehicle.
    fn route(self: &Arc<Self>, text: String) {
        #[derive(Deserialize)]
        struct Probe {
            action: Option<String>,
            #[serde(rename = "requestId")]
            request_id: Option<String>,
            #[serde(rename = "subscriptionId")]
            subscription_id: Option<String>,
            error: Option<serde_json::Value>,
        }
        let Ok(probe) = serde_json::from_str::<Probe>(&text) else {
            return;
        };
        let mut routes = self.routes.lock();
        if probe.action.as_deref() == Some("subscription") {
            let Some(id) = probe.subscription_id else {
                return;
            };
            let event = if probe.error.is_some() {
                Err(ClientError::from_answer(&text))
            } else {
                Ok(text)
            };
            let ended = event.is_err();
            let Some(events) = routes.events.get(&id) else {
                return;
            };
            match events.try_send(event) {
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    routes.events.remove(&id);
                    self.unsubscribe_later(id);
                }
                Ok(()) if ended => {
                    routes.events.remove(&id);
                }
                Ok(()) => {}
            }
            return;
        }
        let waiting = probe.request_id.and_then(|id| routes.answers.remove(&id));
        let subscribed = probe.subscription_id.filter(|_| probe.error.is_none());
        let Some((reply, events)) = waiting else {
            // A subscribe answered after its caller gave up (a timeout): nobody will read it.
            if let (Some(id), Some("subscribe")) = (subscribed, probe.action.as_deref()) {
                self.unsubscribe_later(id);
            }
            return;
        };
        if reply.is_closed() {
            if let Some(id) = subscribed.filter(|_| events.is_some()) {
                self.unsubscribe_later(id);
            }
            return;
        }
        if let (Some(events), Some(id)) = (events, subscribed) {
            routes.events.insert(id, events);
        }
        let _ = reply.send(text);
    }
}

/// The URL without its user information, and the broker user and password it named
/// (percent-decoded; no password is an empty one).
fn split_credentials(url: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    (
        format!("{scheme}://{host}{path}"),
        Some((decode(user), decode(password))),
    )
}

fn subscription_id(answer: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "subscriptionId")]
        subscription_id: String,
    }
    serde_json::from_str::<Answer>(answer)
        .ok()
        .map(|answer| answer.subscription_id)
}

#[cfg(test)]
mod tests {
    use super::split_credentials;

    #[test]
    fn credentials_leave_the_url_and_are_percent_decoded() {
        let owned = |user: &str, password: &str| Some((user.to_owned(), password.to_owned()));
        assert_eq!(
            split_credentials("mqtts://car%2B1:p%40ss:w@broker:8883/VIN-1"),
            (
                "mqtts://broker:8883/VIN-1".to_owned(),
                owned("car+1", "p@ss:w")
            )
        );
        assert_eq!(
            split_credentials("mqtt://reader@[::1]/VIN"),
            ("mqtt://[::1]/VIN".to_owned(), owned("reader", ""))
        );
        // An `@` in the vehicle id is no user information.
        assert_eq!(
            split_credentials("mqtt://broker/VIN@2"),
            ("mqtt://broker/VIN@2".to_owned(), None)
        );
        assert_eq!(
            split_credentials("no scheme"),
            ("no scheme".to_owned(), None)
        );
    }
}
