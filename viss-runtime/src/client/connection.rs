//! The one WebSocket connection a [`Client`](super::Client) shares, owned by one task: it
//! writes requests, matches answers to them by `requestId`, routes events to their
//! subscriptions, and after an unexpected close reconnects with exponential backoff and
//! subscribes every live subscription again (the caller's `Subscription` keeps working; its
//! server id changes).
//!
//! Requests and subscriptions made while it reconnects wait for the new connection (a
//! request no longer than its caller's timeout). Everything the task holds is bounded:
//! requests waiting for an answer or for the connection (`max_pending` each),
//! the command queue, and each subscription's event queue (a full queue drops the newest
//! event and counts it, so a slow reader never stalls the connection).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::{ClientError, ClientOptions};

pub(super) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the client asks of the connection task.
pub(super) enum Command {
    /// Send `text` (a request carrying `requestId` = `id`) and answer with the raw reply.
    Request {
        id: u64,
        text: String,
        reply: oneshot::Sender<Result<String, ClientError>>,
    },
    /// Subscribe (`text` carries `requestId` = `id`); events go to `events`.
    Subscribe {
        id: u64,
        local: u64,
        path: String,
        filter: String,
        /// The subscription's own token (else the client's), sent again on resubscribing.
        authorization: Option<String>,
        events: mpsc::Sender<Result<String, ClientError>>,
        reply: oneshot::Sender<Result<(), ClientError>>,
    },
    /// End subscription `local` (on the server too, when connected).
    Unsubscribe { local: u64 },
    /// Close the connection and stop.
    Close,
}

/// A live subscription: enough to subscribe again after a reconnect.
struct Live {
    path: String,
    filter: String,
    authorization: Option<String>,
    server_id: Option<String>,
    events: mpsc::Sender<Result<String, ClientError>>,
}

enum Waiting {
    Request(oneshot::Sender<Result<String, ClientError>>),
    Subscribe {
        local: u64,
        reply: Option<oneshot::Sender<Result<(), ClientError>>>,
    },
    /// An unsubscribe or other answer nobody waits for.
    Ignored,
}

/// The members of a message the task reads to route it.
#[derive(Deserialize)]
struct Envelope<'a> {
    action: Option<&'a str>,
    #[serde(rename = "requestId")]
    request_id: Option<&'a str>,
    #[serde(rename = "subscriptionId")]
    subscription_id: Option<&'a str>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

pub(super) struct Task {
    url: String,
    options: ClientOptions,
    connector: Option<tokio_tungstenite::Connector>,
    commands: mpsc::Receiver<Command>,
    waiting: HashMap<u64, Waiting>,
    live: HashMap<u64, Live>,
    /// The server's id of each subscribed `live` entry → its local id: an event finds its
    /// subscription without a scan.
    by_server: HashMap<String, u64>,
    /// Requests made while reconnecting: sent once connected (unless their caller has
    /// given up by then), bounded by `max_pending`.
    held: Vec<Command>,
    /// Server subscriptions nobody reads any more (their subscriber is gone, or the answer
    /// came after it gave up): unsubscribed once the message that showed it is routed.
    orphans: Vec<String>,
    next_id: Arc<AtomicU64>,
    /// Events dropped because a subscription's queue was full.
    pub dropped: Arc<AtomicU64>,
}

/// Opens the first connection (its failure is the caller's error: nothing is retried
/// before a first success).
pub(super) async fn connect(
    url: &str,
    connector: Option<&tokio_tungstenite::Connector>,
    timeout: Duration,
) -> Result<Socket, ClientError> {
    let mut request = url
        .into_client_request()
        .map_err(|error| ClientError::Connect(error.to_string()))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("VISSv3"));
    let dial =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector.cloned());
    match tokio::time::timeout(timeout, dial).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(error)) => Err(ClientError::Connect(error.to_string())),
        Err(_) => Err(ClientError::Connect(format!(
            "no connection to {url} within {timeout:?}"
        ))),
    }
}

impl Task {
    pub(super) fn new(
        url: String,
        options: ClientOptions,
        connector: Option<tokio_tungstenite::Connector>,
        commands: mpsc::Receiver<Command>,
        next_id: Arc<AtomicU64>,
    ) -> Self {
        Self {
            url,
            options,
            connector,
            commands,
            waiting: HashMap::new(),
            live: HashMap::new(),
            by_server: HashMap::new(),
            held: Vec::new(),
            orphans: Vec::new(),
            next_id,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Serves `socket`, then every reconnection, until closed or out of attempts.
    pub(super) async fn run(mut self, mut socket: Socket) {
        loop {
            let closed_by_user = self.serve(&mut socket).await;
            self.fail_waiting(&ClientError::ConnectionLost);
            if closed_by_user {
                self.end_subscriptions(&ClientError::Closed);
                return;
            }
            match self.reconnect().await {
                Some(next) => socket = next,
                None => {
                    self.fail_held(&ClientError::ConnectionLost);
                    self.end_subscriptions(&ClientError::ConnectionLost);
                    return;
                }
            }
            self.resubscribe(&mut socket).await;
            self.release_held(&mut socket).await;
        }
    }

    /// One connection's life; `true` when the client closed it.
    async fn serve(&mut self, socket: &mut Socket) -> bool {
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => {
                        let _ = socket.close(None).await;
                        return true;
                    }
                    Some(command) => {
                        if self.send(socket, command).await.is_err() {
                            return false;
                        }
                    }
                },
                message = socket.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        self.route(text.as_str());
                        if self.unsubscribe_orphans(socket).await.is_err() {
                            return false;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return false,
                    Some(Ok(_)) => {}
                },
            }
        }
    }

    /// Writes one command to the socket.
    async fn send(
        &mut self,
        socket: &mut Socket,
        command: Command,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        match command {
            Command::Request { id, text, reply } => {
                if !self.room() {
                    let _ = reply.send(Err(ClientError::TooManyPending));
                    return Ok(());
                }
                self.waiting.insert(id, Waiting::Request(reply));
                socket.send(Message::text(text)).await
            }
            Command::Subscribe {
                id,
                local,
                path,
                filter,
                authorization,
                events,
                reply,
            } => {
                if !self.room() {
                    let _ = reply.send(Err(ClientError::TooManyPending));
                    return Ok(());
                }
                let token = authorization
                    .as_deref()
                    .or(self.options.authorization.as_deref());
                let text = subscribe_text(id, &path, &filter, token);
                self.track(local, path, filter, authorization, events);
                self.waiting.insert(
                    id,
                    Waiting::Subscribe {
                        local,
                        reply: Some(reply),
                    },
                );
                socket.send(Message::text(text)).await
            }
            Command::Unsubscribe { local } => {
                let Some(server_id) = self.forget(local).and_then(|live| live.server_id) else {
                    return Ok(());
                };
                self.unsubscribe(socket, &server_id).await
            }
            Command::Close => Ok(()),
        }
    }

    /// Ends the server's subscription `server_id` (its answer is not waited for).
    async fn unsubscribe(
        &mut self,
        socket: &mut Socket,
        server_id: &str,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.waiting.insert(id, Waiting::Ignored);
        let mut text = String::from("{\"action\":\"unsubscribe\",\"subscriptionId\":");
        push_json_str(&mut text, server_id);
        text.push_str(&format!(",\"requestId\":\"{id}\"}}"));
        socket.send(Message::text(text)).await
    }

    async fn unsubscribe_orphans(
        &mut self,
        socket: &mut Socket,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        for server_id in std::mem::take(&mut self.orphans) {
            self.unsubscribe(socket, &server_id).await?;
        }
        Ok(())
    }

    /// Keeps subscription `local` (not yet subscribed on the server).
    fn track(
        &mut self,
        local: u64,
        path: String,
        filter: String,
        authorization: Option<String>,
        events: mpsc::Sender<Result<String, ClientError>>,
    ) {
        let live = Live {
            path,
            filter,
            authorization,
            server_id: None,
            events,
        };
        self.live.insert(local, live);
    }

    /// Drops subscription `local` (and its server id's entry).
    fn forget(&mut self, local: u64) -> Option<Live> {
        let live = self.live.remove(&local)?;
        if let Some(server_id) = &live.server_id {
            self.by_server.remove(server_id);
        }
        Some(live)
    }

    /// Room for one more request: prunes the requests whose callers gave up first.
    fn room(&mut self) -> bool {
        if self.waiting.len() >= self.options.max_pending {
            self.waiting.retain(|_, waiting| match waiting {
                Waiting::Request(reply) => !reply.is_closed(),
                _ => true,
            });
        }
        self.waiting.len() < self.options.max_pending
    }

    /// Routes one message: an answer to its request, an event to its subscription.
    fn route(&mut self, text: &str) {
        let Ok(envelope) = serde_json::from_str::<Envelope<'_>>(text) else {
            return;
        };
        if envelope.action == Some("subscription") {
            self.event(&envelope, text);
            return;
        }
        let Some(id) = envelope.request_id.and_then(|id| id.parse::<u64>().ok()) else {
            return;
        };
        match self.waiting.remove(&id) {
            Some(Waiting::Request(reply)) => {
                let _ = reply.send(Ok(text.to_owned()));
            }
            Some(Waiting::Subscribe { local, reply }) => {
                self.subscribed(local, reply, &envelope, text)
            }
            Some(Waiting::Ignored) | None => {}
        }
    }

    fn subscribed(
        &mut self,
        local: u64,
        reply: Option<oneshot::Sender<Result<(), ClientError>>>,
        envelope: &Envelope<'_>,
        text: &str,
    ) {
        let outcome = match (envelope.error, envelope.subscription_id) {
            (None, Some(server_id)) => match self.live.get_mut(&local) {
                Some(live) => {
                    live.server_id = Some(server_id.to_owned());
                    self.by_server.insert(server_id.to_owned(), local);
                    Ok(())
                }
                // Unsubscribed (or given up on) while the answer was on its way.
                None => {
                    self.orphans.push(server_id.to_owned());
                    Ok(())
                }
            },
            _ => Err(ClientError::from_answer(text)),
        };
        if let Err(error) = &outcome
            && let Some(live) = self.forget(local)
            && reply.is_none()
        {
            // A re-subscription failed: the subscriber hears it as its end.
            let _ = live.events.try_send(Err(error.clone()));
        }
        if let Some(reply) = reply {
            let _ = reply.send(outcome);
        }
    }

    fn event(&mut self, envelope: &Envelope<'_>, text: &str) {
        let Some(server_id) = envelope.subscription_id else {
            return;
        };
        let Some((&local, live)) = self
            .by_server
            .get(server_id)
            .and_then(|local| self.live.get(local).map(|live| (local, live)))
        else {
            return;
        };
        let item = match envelope.error {
            None => Ok(text.to_owned()),
            Some(_) => Err(ClientError::from_answer(text)),
        };
        let ended = item.is_err();
        match live.events.try_send(item) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // Its subscriber is gone without unsubscribing: nobody will.
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.forget(local);
                if !ended {
                    self.orphans.push(server_id.to_owned());
                }
                return;
            }
        }
        if ended {
            self.forget(local);
        }
    }

    fn fail_waiting(&mut self, error: &ClientError) {
        for (_, waiting) in self.waiting.drain() {
            match waiting {
                Waiting::Request(reply) => {
                    let _ = reply.send(Err(error.clone()));
                }
                Waiting::Subscribe {
                    reply: Some(reply), ..
                } => {
                    let _ = reply.send(Err(error.clone()));
                }
                _ => {}
            }
        }
        for live in self.live.values_mut() {
            live.server_id = None;
        }
        self.by_server.clear();
    }

    fn end_subscriptions(&mut self, error: &ClientError) {
        self.by_server.clear();
        for (_, live) in self.live.drain() {
            let _ = live.events.try_send(Err(error.clone()));
        }
    }

    /// Reconnects with exponential backoff (jittered); `None` when reconnecting is off, the
    /// attempts are used up, or the client closed meanwhile.
    async fn reconnect(&mut self) -> Option<Socket> {
        let backoff = self.options.reconnect.clone()?;
        let mut delay = backoff.initial;
        for _ in 0..backoff.max_attempts {
            let jitter = delay.mul_f64(fastrand::f64() * 0.2);
            let wait = tokio::time::sleep(delay + jitter);
            tokio::select! {
                () = wait => {}
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => return None,
                    Some(command) => self.hold_while_down(command),
                },
            }
            if let Ok(socket) =
                connect(&self.url, self.connector.as_ref(), self.options.timeout).await
            {
                return Some(socket);
            }
            delay = (delay * 2).min(backoff.max);
        }
        None
    }

    /// A command that arrives while there is no connection: requests and subscriptions
    /// wait for the reconnect (a request within its caller's timeout; beyond `max_pending`
    /// waiting ones, it fails at once).
    fn hold_while_down(&mut self, command: Command) {
        match command {
            Command::Request { .. } if self.held.len() >= self.options.max_pending => {
                if let Command::Request { reply, .. } = command {
                    let _ = reply.send(Err(ClientError::TooManyPending));
                }
            }
            Command::Request { .. } => self.held.push(command),
            Command::Subscribe {
                local,
                path,
                filter,
                authorization,
                events,
                reply,
                ..
            } => {
                self.track(local, path, filter, authorization, events);
                let _ = reply.send(Ok(()));
            }
            Command::Unsubscribe { local } => {
                self.forget(local);
            }
            Command::Close => {}
        }
    }

    /// Sends the requests held while reconnecting whose callers still wait.
    async fn release_held(&mut self, socket: &mut Socket) {
        for command in std::mem::take(&mut self.held) {
            let waiting = match &command {
                Command::Request { reply, .. } => !reply.is_closed(),
                _ => true,
            };
            if waiting && self.send(socket, command).await.is_err() {
                return;
            }
        }
    }

    fn fail_held(&mut self, error: &ClientError) {
        for command in self.held.drain(..) {
            if let Command::Request { reply, .. } = command {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }

    /// Subscribes every live subscription again on a new connection.
    async fn resubscribe(&mut self, socket: &mut Socket) {
        let locals: Vec<u64> = self.live.keys().copied().collect();
        for local in locals {
            let Some(live) = self.live.get(&local) else {
                continue;
            };
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let token = live
                .authorization
                .as_deref()
                .or(self.options.authorization.as_deref());
            let text = subscribe_text(id, &live.path, &live.filter, token);
            self.waiting
                .insert(id, Waiting::Subscribe { local, reply: None });
            if socket.send(Message::text(text)).await.is_err() {
                return;
            }
        }
    }
}

pub(super) fn subscribe_text(
    id: u64,
    path: &str,
    filter: &str,
    authorization: Option<&str>,
) -> String {
    let mut text = String::from("{\"action\":\"subscribe\",\"path\":");
    push_json_str(&mut text, path);
    text.push_str(",\"filter\":");
    text.push_str(filter);
    if let Some(token) = authorization {
        text.push_str(",\"authorization\":");
        push_json_str(&mut text, token);
    }
    text.push_str(&format!(",\"requestId\":\"{id}\"}}"));
    text
}

/// Appends `value` as a JSON string.
pub(super) fn push_json_str(text: &mut String, value: &str) {
    let mut bytes = Vec::with_capacity(value.len() + 2);
    crate::json::write_json_str(&mut bytes, value);
    text.push_str(&String::from_utf8_lossy(&bytes));
}
