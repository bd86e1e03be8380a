//! A typed VISS v3 client over WebSocket (feature `client`): what a generated Rust SDK
//! (`vssgen generate` → `sdk/rust`) links.
//!
//! The SDK's tree is the server's own `#[derive(VissTree)]` tree, so a handle such as
//! `Vehicle::TREE.cabin.seat[0][0].position` names a node and its Rust type at compile
//! time: a misspelt path does not compile, `set` takes only an [`Actuator<T>`] and only a
//! `T`, and values are checked (datatype range, `min`/`max`, `allowed`) by the same code the
//! server checks them with, before a request is sent. Wire values are parsed by the
//! server's parser too.
//!
//! ```text
//! let client = Client::connect("wss://localhost:6443", Vehicle::TREE, options).await?;
//! let speed: f32 = client.get(Vehicle::TREE.speed).await?;
//! client.set(Vehicle::TREE.cabin.seat[0][0].position, 250).await?;
//! let mut events = client.subscribe(Vehicle::TREE.speed, Filter::timebased(100)).await?;
//! while let Some(point) = events.next().await { println!("{:?}", point?); }
//! ```
//!
//! One connection is shared by every call. Over WebSocket (`wss://`) a task owns it
//! ([`connection`]): requests are matched by `requestId`, each has a timeout, and after an
//! unexpected close the client reconnects with exponential backoff and subscribes again.
//! Over HTTPS (`https://`, [`http`]) gets and sets take turns on one keep-alive connection,
//! reopened when the server closes it; HTTP has no subscriptions. With features
//! `client-grpc` and `client-mqtt` the same requests also go over gRPC (`grpc`,
//! `grpcs://`) and through an MQTT broker (`mqtt`, `mqtts://broker/<VID>`).

pub mod access;
mod connection;
pub mod filter;
#[cfg(feature = "client-grpc")]
mod grpc;
mod http;
#[cfg(feature = "client-mqtt")]
mod mqtt;
pub mod vapi;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};

pub use access::AccessControl;
pub use filter::{Combination, Filter, LogicOp};

use crate::tree::{NodeInfo, VissTree};
use crate::typed::{Actuator, Leaf, VssType};
use crate::value::{Value, check_fed, parse_wire};
use connection::{Command, push_json_str};

/// How a client connects and behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// PEM CA certificates to check a `wss://` server against (none: the system's).
    pub ca_pem: Option<Vec<u8>>,
    /// How long a request waits for its answer (and a connection attempt for its handshake).
    pub timeout: Duration,
    /// Requests waiting for an answer at most; more fail with [`ClientError::TooManyPending`].
    pub max_pending: usize,
    /// Events queued per subscription for a slow reader; beyond, new events are dropped.
    pub event_queue: usize,
    /// An access token sent with every request.
    pub authorization: Option<String>,
    /// Reconnect after an unexpected close (`None`: the client ends).
    pub reconnect: Option<Backoff>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            ca_pem: None,
            timeout: Duration::from_secs(10),
            max_pending: 1024,
            event_queue: 256,
            authorization: None,
            reconnect: Some(Backoff::default()),
        }
    }
}

impl ClientOptions {
    /// The default options, trusting the PEM certificates in `path` (a self-signed server).
    pub fn with_ca_file(path: &Path) -> Result<Self, ClientError> {
        let pem = std::fs::read(path)
            .map_err(|error| ClientError::Connect(format!("{}: {error}", path.display())))?;
        Ok(Self {
            ca_pem: Some(pem),
            ..Self::default()
        })
    }
}

/// Reconnection delays: `initial`, doubling up to `max`, jittered by up to 20%.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            max_attempts: u32::MAX,
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The server answered with a VISS error.
    Viss {
        number: String,
        reason: String,
        description: String,
    },
    /// The value was refused before sending (out of range, not in `allowed`, ...).
    InvalidValue {
        path: String,
        reason: String,
    },
    Timeout,
    ConnectionLost,
    Closed,
    TooManyPending,
    Connect(String),
    /// The answer could not be read as the value the handle's type expects.
    Protocol(String),
    /// The transport in use cannot carry the call (a subscription over HTTPS).
    Unsupported(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Viss {
                number,
                reason,
                description,
            } => write!(f, "VISS error {number} {reason}: {description}"),
            Self::InvalidValue { path, reason } => write!(f, "invalid value for {path}: {reason}"),
            Self::Timeout => f.write_str("no answer within the timeout"),
            Self::ConnectionLost => f.write_str("the connection was lost"),
            Self::Closed => f.write_str("the client is closed"),
            Self::TooManyPending => f.write_str("too many requests waiting for an answer"),
            Self::Connect(reason) => write!(f, "cannot connect: {reason}"),
            Self::Protocol(text) => write!(f, "unexpected answer: {text}"),
            Self::Unsupported(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The error member of a VISS answer, or a protocol error when there is none.
    fn from_answer(text: &str) -> Self {
        #[derive(Deserialize)]
        struct Answer {
            error: Option<ErrorObject>,
        }
        #[derive(Deserialize)]
        struct ErrorObject {
            number: serde_json::Value,
            #[serde(default)]
            reason: String,
            #[serde(default)]
            description: String,
        }
        match serde_json::from_str::<Answer>(text) {
            Ok(Answer {
                error: Some(error), ..
            }) => Self::Viss {
                number: match error.number {
                    serde_json::Value::String(number) => number,
                    other => other.to_string(),
                },
                reason: error.reason,
                description: error.description,
            },
            _ => Self::Protocol(truncate(text)),
        }
    }

    /// The VISS error number, when the server answered with one.
    pub fn number(&self) -> Option<&str> {
        match self {
            Self::Viss { number, .. } => Some(number),
            _ => None,
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}

/// A value and the time it was captured (`ts`, ISO 8601 UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct DataPoint<T> {
    pub value: T,
    pub ts: String,
}

/// A VISS client over one shared connection (WebSocket or HTTPS), typed by the tree `T`.
pub struct Client<T: VissTree> {
    tree: T,
    link: Link,
    next_id: Arc<AtomicU64>,
    options: ClientOptions,
}

/// The connection a client speaks over.
enum Link {
    WebSocket {
        commands: mpsc::Sender<Command>,
        next_local: AtomicU64,
        dropped: Arc<AtomicU64>,
    },
    Http(http::HttpLink),
    #[cfg(feature = "client-grpc")]
    Grpc(grpc::GrpcLink),
    #[cfg(feature = "client-mqtt")]
    Mqtt(mqtt::MqttLink),
}

impl<T: VissTree> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let closed = match &self.link {
            Link::WebSocket { commands, .. } => commands.is_closed(),
            Link::Http(link) => link.is_closed(),
            #[cfg(feature = "client-grpc")]
            Link::Grpc(link) => link.is_closed(),
            #[cfg(feature = "client-mqtt")]
            Link::Mqtt(link) => link.is_closed(),
        };
        f.debug_struct("Client")
            .field("transport", &self.transport())
            .field("closed", &closed)
            .field("dropped_events", &self.dropped_events())
            .finish_non_exhaustive()
    }
}

impl<T: VissTree> Client<T> {
    /// Connects to `url`: `wss://` (sub-protocol `VISSv3`: every call, subscriptions too)
    /// or `https://` (get, set, history and metadata), or `ws://` / `http://` for a server
    /// run `--insecure`. The first connection must succeed.
    pub async fn connect(url: &str, tree: T, options: ClientOptions) -> Result<Self, ClientError> {
        let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
        let tls = match scheme {
            "wss" | "https" | "grpcs" | "mqtts" => Some(tls_config(options.ca_pem.as_deref())?),
            "ws" | "http" | "grpc" | "mqtt" => None,
            _ => {
                return Err(ClientError::Connect(format!(
                    "{url}: the URL must start with wss://, https://, grpcs://, mqtts://, \
                     ws://, http://, grpc:// or mqtt://"
                )));
            }
        };
        let next_id = Arc::new(AtomicU64::new(1));
        let link = if scheme.starts_with("mqtt") {
            #[cfg(feature = "client-mqtt")]
            {
                Link::Mqtt(
                    mqtt::MqttLink::connect(url, tls, options.timeout, options.max_pending).await?,
                )
            }
            #[cfg(not(feature = "client-mqtt"))]
            {
                // Not the URL: it may carry the broker's password.
                return Err(ClientError::Unsupported(format!(
                    "{scheme}:// URLs: this build has no MQTT client (feature `client-mqtt`; \
                     a Rust SDK's `mqtt` feature)"
                )));
            }
        } else if scheme.starts_with("grpc") {
            #[cfg(feature = "client-grpc")]
            {
                Link::Grpc(
                    grpc::GrpcLink::connect(url, tls, options.timeout, options.max_pending).await?,
                )
            }
            #[cfg(not(feature = "client-grpc"))]
            {
                return Err(ClientError::Unsupported(format!(
                    "{url}: this build has no gRPC client (feature `client-grpc`; a Rust \
                     SDK's `grpc` feature)"
                )));
            }
        } else if scheme.starts_with("http") {
            Link::Http(
                http::HttpLink::connect(url, tls, options.timeout, options.max_pending).await?,
            )
        } else {
            let connector = tls.map(tokio_tungstenite::Connector::Rustls);
            let socket = connection::connect(url, connector.as_ref(), options.timeout).await?;
            let (commands, receiver) = mpsc::channel(options.max_pending.max(1));
            let task = connection::Task::new(
                url.to_owned(),
                options.clone(),
                connector,
                receiver,
                Arc::clone(&next_id),
            );
            let dropped = Arc::clone(&task.dropped);
            tokio::spawn(task.run(socket));
            Link::WebSocket {
                commands,
                next_local: AtomicU64::new(1),
                dropped,
            }
        };
        Ok(Self {
            tree,
            link,
            next_id,
            options,
        })
    }

    /// The transport in use: `"websocket"`, `"http"`, `"grpc"` or `"mqtt"`.
    pub fn transport(&self) -> &'static str {
        match self.link {
            Link::WebSocket { .. } => "websocket",
            Link::Http(_) => "http",
            #[cfg(feature = "client-grpc")]
            Link::Grpc(_) => "grpc",
            #[cfg(feature = "client-mqtt")]
            Link::Mqtt(_) => "mqtt",
        }
    }

    /// The tree this client is typed by.
    pub fn tree(&self) -> &T {
        &self.tree
    }

    /// Events dropped so far because a subscriber read too slowly.
    pub fn dropped_events(&self) -> u64 {
        match &self.link {
            Link::WebSocket { dropped, .. } => dropped.load(Ordering::Relaxed),
            Link::Http(_) => 0,
            #[cfg(feature = "client-grpc")]
            Link::Grpc(link) => link.dropped.load(Ordering::Relaxed),
            #[cfg(feature = "client-mqtt")]
            Link::Mqtt(link) => link.shared().dropped.load(Ordering::Relaxed),
        }
    }

    /// Closes the connection; calls after this fail with [`ClientError::Closed`].
    pub async fn close(&self) {
        match &self.link {
            Link::WebSocket { commands, .. } => {
                let _ = commands.send(Command::Close).await;
            }
            Link::Http(link) => link.close().await,
            #[cfg(feature = "client-grpc")]
            Link::Grpc(link) => link.close(),
            #[cfg(feature = "client-mqtt")]
            Link::Mqtt(link) => link.close().await,
        }
    }

    fn node<L: Leaf>(&self, leaf: L) -> &NodeInfo {
        self.tree.node(leaf.id())
    }

    /// The current value of a leaf.
    pub async fn get<L: Leaf>(&self, leaf: L) -> Result<L::Value, ClientError> {
        self.get_data_point(leaf).await.map(|point| point.value)
    }

    /// The current value of a leaf and its capture time.
    pub async fn get_data_point<L: Leaf>(
        &self,
        leaf: L,
    ) -> Result<DataPoint<L::Value>, ClientError> {
        let node = self.node(leaf);
        let answer = self
            .call(
                &node.path,
                None,
                None,
                self.options.authorization.as_deref(),
            )
            .await?;
        let mut points = data_points::<L::Value>(&answer, node)?;
        points
            .pop()
            .ok_or_else(|| ClientError::Protocol(truncate(&answer)))
    }

    /// The values recorded over `period` (ISO 8601 duration, `PT10M`), oldest first.
    pub async fn history<L: Leaf>(
        &self,
        leaf: L,
        period: &str,
    ) -> Result<Vec<DataPoint<L::Value>>, ClientError> {
        let node = self.node(leaf);
        let filter = Filter::history(period);
        let answer = self
            .call(
                &node.path,
                Some(filter.as_json()),
                None,
                self.options.authorization.as_deref(),
            )
            .await?;
        let mut points = data_points::<L::Value>(&answer, node)?;
        points.sort_by(|a, b| a.ts.cmp(&b.ts));
        Ok(points)
    }

    /// The node's metadata, as the server writes it.
    pub async fn metadata<L: Leaf>(&self, leaf: L) -> Result<serde_json::Value, ClientError> {
        let node = self.node(leaf);
        let filter = Filter::metadata(0);
        let answer = self
            .call(
                &node.path,
                Some(filter.as_json()),
                None,
                self.options.authorization.as_deref(),
            )
            .await?;
        let answer: serde_json::Value = serde_json::from_str(&answer)
            .map_err(|error| ClientError::Protocol(error.to_string()))?;
        Ok(answer["metadata"].clone())
    }

    /// Sets an actuator's target. The value is checked first (datatype range, `min`/`max`,
    /// `allowed`), by the checks the server runs.
    pub async fn set<V: VssType>(
        &self,
        actuator: Actuator<V>,
        value: V,
    ) -> Result<(), ClientError> {
        let node = self.tree.node(actuator.id());
        let value = value.into_value();
        check_fed(&value, node).map_err(|error| ClientError::InvalidValue {
            path: node.path.to_string(),
            reason: error.description().to_owned(),
        })?;
        let mut wire = Vec::new();
        value.write_json(&mut wire);
        let wire = String::from_utf8_lossy(&wire);
        let token = self.options.authorization.as_deref();
        self.call(&node.path, None, Some(&wire), token)
            .await
            .map(|_| ())
    }

    /// Subscribes to a leaf with `filter`; events arrive typed, in order.
    pub async fn subscribe<L: Leaf>(
        &self,
        leaf: L,
        filter: Filter,
    ) -> Result<Subscription<L::Value>, ClientError> {
        let node = self.tree.node(leaf.id()).clone();
        let raw = self
            .subscribe_by_path(&node.path, filter.as_json(), None)
            .await?;
        Ok(Subscription {
            raw,
            node,
            value: std::marker::PhantomData,
        })
    }

    /// The current value(s) at `path` (any VISS path, wildcards too) with an optional
    /// filter (JSON text): the answer's text, or its VISS error. For callers that address
    /// signals by name at run time (VAPI); `authorization` overrides the client's token.
    pub async fn get_by_path(
        &self,
        path: &str,
        filter: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<String, ClientError> {
        let token = authorization.or(self.options.authorization.as_deref());
        self.call(path, filter, None, token).await
    }

    /// Sets `path` to `value` (JSON text), unchecked by the client: the server checks it.
    pub async fn set_by_path(
        &self,
        path: &str,
        value: &str,
        authorization: Option<&str>,
    ) -> Result<(), ClientError> {
        let token = authorization.or(self.options.authorization.as_deref());
        self.call(path, None, Some(value), token).await.map(|_| ())
    }

    /// Subscribes to `path` with `filter` (JSON text); events arrive as their VISS text.
    pub async fn subscribe_by_path(
        &self,
        path: &str,
        filter: &str,
        authorization: Option<&str>,
    ) -> Result<RawSubscription, ClientError> {
        let (events, receiver) = mpsc::channel(self.options.event_queue.max(1));
        #[cfg(feature = "client-grpc")]
        if let Link::Grpc(link) = &self.link {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let text = connection::subscribe_text(id, path, filter, authorization);
            let stream = link.subscribe(&text, events).await?;
            return Ok(RawSubscription {
                receiver,
                end: SubscriptionEnd::Stream(stream),
            });
        }
        #[cfg(feature = "client-mqtt")]
        if let Link::Mqtt(link) = &self.link {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let text = connection::subscribe_text(id, path, filter, authorization);
            let subscription = link.subscribe(id, &text, events).await?;
            return Ok(RawSubscription {
                receiver,
                end: SubscriptionEnd::Mqtt {
                    id: subscription,
                    link: Arc::clone(link.shared()),
                },
            });
        }
        let Link::WebSocket {
            commands,
            next_local,
            ..
        } = &self.link
        else {
            return Err(ClientError::Unsupported(
                "HTTP has no subscriptions: connect with wss:// (or grpcs://, mqtts://)".to_owned(),
            ));
        };
        let (reply, answer) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let local = next_local.fetch_add(1, Ordering::Relaxed);
        let command = Command::Subscribe {
            id,
            local,
            path: path.to_owned(),
            filter: filter.to_owned(),
            authorization: authorization.map(str::to_owned),
            events,
            reply,
        };
        commands
            .send(command)
            .await
            .map_err(|_| ClientError::Closed)?;
        if let Err(error) = self.await_answer(answer).await.and_then(|answer| answer) {
            // Given up on (a timeout): the connection forgets it, and ends it on the server
            // should its answer still come.
            let _ = commands.try_send(Command::Unsubscribe { local });
            return Err(error);
        }
        Ok(RawSubscription {
            receiver,
            end: SubscriptionEnd::WebSocket {
                local,
                commands: commands.clone(),
            },
        })
    }

    /// Sends a request (a JSON object without `requestId`: it is added) and returns the
    /// raw answer: for messages the typed calls do not cover. Over HTTPS only gets and sets
    /// go (their `path`, `filter`, `value` and `authorization` make the HTTP request).
    pub async fn request_raw(&self, request: &str) -> Result<String, ClientError> {
        if let Link::Http(link) = &self.link {
            return raw_over_http(link, request).await;
        }
        let body = request.trim_end();
        let Some(open) = body.strip_suffix('}') else {
            return Err(ClientError::Protocol(
                "a request is a JSON object".to_owned(),
            ));
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let separator = if open.trim_end().ends_with('{') {
            ""
        } else {
            ","
        };
        let text = format!("{open}{separator}\"requestId\":\"{id}\"}}");
        self.round_trip(id, text).await
    }

    /// A get (`value` none) or a set over whichever transport, and its answer or VISS error.
    async fn call(
        &self,
        path: &str,
        filter: Option<&str>,
        value: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<String, ClientError> {
        if let Link::Http(link) = &self.link {
            let call = http::HttpCall {
                path,
                filter,
                value,
                authorization,
            };
            return ok_or_error(link.exchange(&call).await?);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let action = if value.is_some() { "set" } else { "get" };
        let mut text = format!("{{\"action\":\"{action}\",\"path\":");
        push_json_str(&mut text, path);
        if let Some(filter) = filter {
            text.push_str(",\"filter\":");
            text.push_str(filter);
        }
        if let Some(value) = value {
            text.push_str(",\"value\":");
            text.push_str(value);
        }
        if let Some(token) = authorization {
            text.push_str(",\"authorization\":");
            push_json_str(&mut text, token);
        }
        text.push_str(&format!(",\"requestId\":\"{id}\"}}"));
        ok_or_error(self.round_trip(id, text).await?)
    }

    /// Sends request `text` (with `requestId` `id`) over a link that carries any request
    /// (WebSocket, gRPC, MQTT) and returns its answer.
    async fn round_trip(&self, id: u64, text: String) -> Result<String, ClientError> {
        #[cfg(feature = "client-grpc")]
        if let Link::Grpc(link) = &self.link {
            return link.call(&text).await;
        }
        #[cfg(feature = "client-mqtt")]
        if let Link::Mqtt(link) = &self.link {
            return link.call(id, &text).await;
        }
        let Link::WebSocket { commands, .. } = &self.link else {
            return Err(ClientError::Unsupported(
                "this request needs a WebSocket: connect with wss://".to_owned(),
            ));
        };
        let (reply, answer) = oneshot::channel();
        commands
            .send(Command::Request { id, text, reply })
            .await
            .map_err(|_| ClientError::Closed)?;
        self.await_answer(answer).await?
    }

    async fn await_answer<R>(&self, answer: oneshot::Receiver<R>) -> Result<R, ClientError> {
        match tokio::time::timeout(self.options.timeout, answer).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => Err(ClientError::Timeout),
        }
    }
}

/// A subscription's typed events; dropping it (or [`Subscription::unsubscribe`]) ends it.
pub struct Subscription<V> {
    raw: RawSubscription,
    node: NodeInfo,
    value: std::marker::PhantomData<fn() -> V>,
}

impl<V> std::fmt::Debug for Subscription<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("path", &self.node.path)
            .finish_non_exhaustive()
    }
}

impl<V: VssType> Subscription<V> {
    /// The next event's data points (usually one), or the error that ended the
    /// subscription; `None` once it has ended.
    pub async fn next(&mut self) -> Option<Result<DataPoint<V>, ClientError>> {
        let event = self.raw.next().await?;
        Some(event.and_then(|text| {
            let mut points = data_points::<V>(&text, &self.node)?;
            points
                .pop()
                .ok_or_else(|| ClientError::Protocol(truncate(&text)))
        }))
    }

    /// Ends the subscription on the server.
    pub async fn unsubscribe(self) {
        self.raw.unsubscribe().await;
    }
}

/// A subscription's events as the server wrote them (VISS JSON text); dropping it (or
/// [`RawSubscription::unsubscribe`]) ends it.
#[derive(Debug)]
pub struct RawSubscription {
    receiver: mpsc::Receiver<Result<String, ClientError>>,
    end: SubscriptionEnd,
}

/// How a subscription is ended on the server.
#[derive(Debug)]
enum SubscriptionEnd {
    /// The WebSocket task unsubscribes its `local` subscription.
    WebSocket {
        local: u64,
        commands: mpsc::Sender<Command>,
    },
    /// Aborting the gRPC stream's task drops the stream, which ends it.
    #[cfg(feature = "client-grpc")]
    Stream(tokio::task::AbortHandle),
    /// The MQTT link publishes the unsubscribe.
    #[cfg(feature = "client-mqtt")]
    Mqtt { id: String, link: Arc<mqtt::Shared> },
}

impl RawSubscription {
    /// The next event, or the error that ended the subscription; `None` once it has ended.
    pub async fn next(&mut self) -> Option<Result<String, ClientError>> {
        self.receiver.recv().await
    }

    /// Ends the subscription on the server.
    pub async fn unsubscribe(self) {
        match &self.end {
            SubscriptionEnd::WebSocket { local, commands } => {
                let _ = commands.send(Command::Unsubscribe { local: *local }).await;
            }
            #[cfg(feature = "client-grpc")]
            SubscriptionEnd::Stream(task) => task.abort(),
            #[cfg(feature = "client-mqtt")]
            SubscriptionEnd::Mqtt { id, link } => link.unsubscribe(id),
        }
    }
}

impl Drop for RawSubscription {
    fn drop(&mut self) {
        match &self.end {
            SubscriptionEnd::WebSocket { local, commands } => {
                let _ = commands.try_send(Command::Unsubscribe { local: *local });
            }
            #[cfg(feature = "client-grpc")]
            SubscriptionEnd::Stream(task) => task.abort(),
            #[cfg(feature = "client-mqtt")]
            SubscriptionEnd::Mqtt { id, link } => link.unsubscribe(id),
        }
    }
}

/// The typed data points of a raw answer or event (a [`Client::request_raw`] answer) for
/// `node`, or the VISS error it carries. The client reads every answer with this.
pub fn decode_answer<V: VssType>(
    text: &str,
    node: &NodeInfo,
) -> Result<Vec<DataPoint<V>>, ClientError> {
    let text = ok_or_error(text.to_owned())?;
    data_points::<V>(&text, node)
}

/// The answer, or its VISS error.
fn ok_or_error(answer: String) -> Result<String, ClientError> {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        error: Option<&'a RawValue>,
    }
    match serde_json::from_str::<Probe<'_>>(&answer) {
        Ok(Probe { error: None }) => Ok(answer),
        _ => Err(ClientError::from_answer(&answer)),
    }
}

/// The typed data points of a get answer or event for `node` (`dp` an object or an array).
fn data_points<V: VssType>(text: &str, node: &NodeInfo) -> Result<Vec<DataPoint<V>>, ClientError> {
    #[derive(Deserialize)]
    struct Message<'a> {
        #[serde(borrow)]
        data: &'a RawValue,
    }
    #[derive(Deserialize)]
    struct Data<'a> {
        #[serde(borrow)]
        dp: &'a RawValue,
    }
    #[derive(Deserialize)]
    struct Point<'a> {
        #[serde(borrow)]
        value: &'a RawValue,
        ts: String,
    }
    let protocol = |error: serde_json::Error| ClientError::Protocol(error.to_string());
    let message: Message<'_> = serde_json::from_str(text).map_err(protocol)?;
    // One signal answers with an object; the first of an array is the node's.
    let data: Data<'_> = match serde_json::from_str::<Data<'_>>(message.data.get()) {
        Ok(data) => data,
        Err(_) => serde_json::from_str::<Vec<Data<'_>>>(message.data.get())
            .map_err(protocol)?
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::Protocol(truncate(text)))?,
    };
    let points: Vec<Point<'_>> = match serde_json::from_str::<Point<'_>>(data.dp.get()) {
        Ok(point) => vec![point],
        Err(_) => serde_json::from_str(data.dp.get()).map_err(protocol)?,
    };
    points
        .into_iter()
        .map(|point| {
            let value = typed_value::<V>(point.value, node)?;
            Ok(DataPoint {
                value,
                ts: point.ts,
            })
        })
        .collect()
}

fn typed_value<V: VssType>(raw: &RawValue, node: &NodeInfo) -> Result<V, ClientError> {
    if raw.get().starts_with("\"viss-inline:") {
        return Err(ClientError::Viss {
            number: "404".to_owned(),
            reason: "unavailable_data".to_owned(),
            description: format!("{} has no value ({})", node.path, raw.get()),
        });
    }
    let value: Value = parse_wire(raw, node, &[]).map_err(|error| {
        ClientError::Protocol(format!(
            "{}: {} ({})",
            node.path,
            error.description(),
            raw.get()
        ))
    })?;
    V::from_value(value).ok_or_else(|| {
        ClientError::Protocol(format!(
            "{}: {} is not a {}",
            node.path,
            raw.get(),
            std::any::type_name::<V>()
        ))
    })
}

/// The TLS configuration of a `wss://` or `https://` URL: the given CA certificates, else
/// the system's.
fn tls_config(ca_pem: Option<&[u8]>) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let roots = match ca_pem {
        Some(pem) => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|error| ClientError::Connect(error.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|error| ClientError::Connect(error.to_string()))?;
            }
            roots
        }
        None => {
            crate::client_tls::roots(None, "the CA certificates").map_err(ClientError::Connect)?
        }
    };
    let config = crate::client_tls::builder(roots)
        .map_err(ClientError::Connect)?
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A raw get or set request sent over HTTPS.
async fn raw_over_http(link: &http::HttpLink, request: &str) -> Result<String, ClientError> {
    #[derive(Deserialize)]
    struct Raw<'a> {
        action: &'a str,
        path: String,
        #[serde(borrow)]
        filter: Option<&'a RawValue>,
        #[serde(borrow)]
        value: Option<&'a RawValue>,
        authorization: Option<String>,
    }
    let raw: Raw<'_> = serde_json::from_str(request)
        .map_err(|error| ClientError::Protocol(format!("the request: {error}")))?;
    let value = match (raw.action, raw.value) {
        ("get", None) => None,
        ("set", Some(value)) => Some(value.get()),
        (action, _) => {
            return Err(ClientError::Unsupported(format!(
                "{action} with these members does not go over HTTPS (only get, and set with a \
                 value): connect with wss://"
            )));
        }
    };
    let call = http::HttpCall {
        path: &raw.path,
        filter: raw.filter.map(RawValue::get),
        value,
        authorization: raw.authorization.as_deref(),
    };
    link.exchange(&call).await
}
