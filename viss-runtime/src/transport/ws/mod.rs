//! WebSocket transport (TRANSPORT §5.1; wss with the `tls` feature): sub-protocol `VISSv3`,
//! one [`Session`] per connection (its subscriptions end with it), bounded messages,
//! ping/pong dead-peer detection, an idle timeout (no request and no subscription), and a
//! send timeout so a client that stops reading cannot hold the server.

use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::{FutureExt, SinkExt};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

use super::config::Limits;
use super::{SUBPROTOCOLS, write_transport_error};
use crate::codec::{self, Codec, Frame};
use crate::protocol::Version;
use crate::subscription::Session;
use crate::{Engine, VissTree};

/// Requests answered (or events sent) back to back before the writer flushes and the
/// connection yields its worker thread: a client pipelining thousands of requests gets one
/// batch per turn, like every other connection, instead of holding the thread while its
/// read buffer lasts (tokio's cooperative budget only counts socket reads, not messages).
const BATCH: usize = 32;

/// tungstenite preallocates a 128 KiB read buffer per connection by default; VISS requests
/// are small, and 8 KiB keeps a 1,000-connection server small (the buffer grows for the
/// occasional large message up to `max_message_bytes`).
const READ_BUFFER: usize = 8 * 1024;
/// Responses are buffered up to this size between flushes (we flush after each batch).
const WRITE_BUFFER: usize = 16 * 1024;

/// What every WebSocket connection shares.
pub(crate) struct WsState<T: VissTree> {
    pub engine: Arc<Engine<T>>,
    pub limits: Limits,
    pub connections: Arc<Semaphore>,
    pub shutdown: watch::Receiver<bool>,
    /// Refuse clients that offer no sub-protocol (else they are VISSv2 clients).
    pub require_subprotocol: bool,
}

/// The WebSocket endpoint at `/`.
pub(crate) fn router<T: VissTree + 'static>(state: Arc<WsState<T>>) -> Router {
    Router::new()
        .route("/", any(upgrade::<T>))
        .with_state(state)
}

async fn upgrade<T: VissTree + 'static>(
    State(state): State<Arc<WsState<T>>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            let message = format!(
                "{rejection}: this is the VISS v3 WebSocket endpoint; connect with a WebSocket \
                 client offering sub-protocol `VISSv3`"
            );
            return (rejection.status(), message).into_response();
        }
    };
    let offered = offered_subprotocols(&headers);
    let Some(served) = negotiate(&offered, state.require_subprotocol) else {
        tracing::debug!(
            ?offered,
            "WebSocket handshake refused: no sub-protocol served"
        );
        let message = if offered.is_empty() {
            format!(
                "missing WebSocket sub-protocol: this server requires one of {} \
                 (Sec-WebSocket-Protocol: VISSv3)",
                SUBPROTOCOLS.join(", ")
            )
        } else {
            format!(
                "unsupported WebSocket sub-protocol: this server speaks {} \
                 (Sec-WebSocket-Protocol: VISSv3)",
                SUBPROTOCOLS.join(", ")
            )
        };
        return (StatusCode::BAD_REQUEST, message).into_response();
    };
    if offered.is_empty() {
        tracing::info!("WebSocket client offered no sub-protocol: served as a VISSv2 client");
    }
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        tracing::warn!("WebSocket connection refused: connection limit reached");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many WebSocket connections",
        )
            .into_response();
    };
    let max = state.limits.max_message_bytes;
    upgrade
        .protocols(served.subprotocol)
        .max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| serve_connection(socket, state, permit, served))
}

/// The sub-protocols the client offers, in its order.
fn offered_subprotocols(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|offered| !offered.is_empty())
        .collect()
}

/// What a connection speaks: the VISS version, the payload encoding, and the sub-protocol
/// named in the handshake answer (none for a client that offered none).
#[derive(Clone, Copy)]
struct Served {
    version: Version,
    codec: &'static dyn Codec,
    subprotocol: Option<&'static str>,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("version", &self.version)
            .field("codec", &self.codec.name())
            .field("subprotocol", &self.subprotocol)
            .finish()
    }
}

impl PartialEq for Served {
    fn eq(&self, other: &Self) -> bool {
        (self.version, self.codec.name(), self.subprotocol)
            == (other.version, other.codec.name(), other.subprotocol)
    }
}

/// How a client offering `offered` is served: the first of [`SUBPROTOCOLS`] (the server's
/// preference: `VISSv3`, `VISS-protoenc`, `VISSv2`) that it offers; no offer at all is a
/// VISSv2-era client (a v3 client must name `VISSv3`) unless `require_subprotocol`; only
/// unknown offers are refused (`None`).
fn negotiate(offered: &[&str], require_subprotocol: bool) -> Option<Served> {
    if offered.is_empty() {
        return (!require_subprotocol).then_some(Served {
            version: Version::V2,
            codec: &codec::Json,
            subprotocol: None,
        });
    }
    let chosen = SUBPROTOCOLS
        .iter()
        .copied()
        .find(|name| offered.contains(name))?;
    #[cfg(feature = "protobuf")]
    if chosen == codec::protobuf::SUBPROTOCOL {
        return Some(Served {
            version: Version::V3,
            codec: &codec::protobuf::Protobuf,
            subprotocol: Some(chosen),
        });
    }
    let version = if chosen == Version::V2.subprotocol() {
        Version::V2
    } else {
        Version::V3
    };
    Some(Served {
        version,
        codec: &codec::Json,
        subprotocol: Some(chosen),
    })
}

/// Why a connection loop ended.
enum Ended {
    ClientClosed,
    Shutdown,
    /// No request for the idle timeout while holding no subscription.
    Idle,
    /// Nothing at all (not even a pong) for two ping intervals.
    DeadPeer,
    /// A frame over the size limit (seen in its header, before its payload is read) or a
    /// protocol violation: answered with a close frame, not read any further.
    Rejected(u16, String),
    Failed,
}

impl Ended {
    fn reason(&self) -> &str {
        match self {
            Self::ClientClosed => "closed by client",
            Self::Shutdown => "server shutting down",
            Self::Idle => "idle timeout",
            Self::DeadPeer => "peer does not answer pings",
            Self::Rejected(_, reason) => reason,
            Self::Failed => "transport error",
        }
    }
}

/// What a receive error means for the peer: a close code and reason, or `None` for I/O
/// errors (the connection is gone). tungstenite's error is behind `axum::Error`, so its
/// kind is read from its message.
fn rejection(error: &axum::Error, max_message_bytes: usize) -> Option<(u16, String)> {
    use axum::extract::ws::close_code;
    let text = error.to_string();
    if text.starts_with("Space limit exceeded") {
        Some((
            close_code::SIZE,
            format!("message too big: the limit is {max_message_bytes} bytes"),
        ))
    } else if text.starts_with("UTF-8") {
        Some((close_code::INVALID, "text frame is not UTF-8".to_owned()))
    } else if text.starts_with("WebSocket protocol error") {
        Some((close_code::PROTOCOL, "WebSocket protocol error".to_owned()))
    } else {
        None
    }
}

/// Frames read (and discarded) while waiting for the client's close reply, and how long.
const CLOSE_DRAIN_FRAMES: usize = 16;
const CLOSE_DRAIN_TIME: Duration = Duration::from_secs(1);

/// One connection: requests in, responses and events out, until close, idle, failure or
/// server shutdown. The session (and so its subscriptions) ends with the connection.
async fn serve_connection<T: VissTree + 'static>(
    socket: WebSocket,
    state: Arc<WsState<T>>,
    _permit: OwnedSemaphorePermit,
    served: Served,
) {
    let mut session = state.engine.open_session_for(served.version);
    let wake = Arc::new(Notify::new());
    let notifier = Arc::clone(&wake);
    session.events().set_notifier(move || notifier.notify_one());
    let now = Instant::now();
    let mut connection = Connection {
        socket,
        state: &state,
        codec: served.codec,
        out: Vec::with_capacity(1024),
        last_request: now,
        last_heard: now,
    };
    let ended = connection.run(&mut session, &wake).await;
    tracing::debug!(
        reason = ended.reason(),
        subscriptions = session.subscription_count(),
        dropped_events = session.events().dropped(),
        "WebSocket connection ended"
    );
    state.engine.close_session(&mut session);
}

struct Connection<'a, T: VissTree> {
    socket: WebSocket,
    state: &'a WsState<T>,
    /// The session's payload encoding (JSON for `VISSv3` and `VISSv2`, protobuf for
    /// `VISS-protoenc`).
    codec: &'static dyn Codec,
    out: Vec<u8>,
    /// The last text or binary message (pings and pongs are not requests).
    last_request: Instant,
    /// The last frame of any kind (pongs included): dead-peer detection.
    last_heard: Instant,
}

impl<T: VissTree + 'static> Connection<'_, T> {
    async fn run(&mut self, session: &mut Session, wake: &Notify) -> Ended {
        let mut shutdown = self.state.shutdown.clone();
        let mut ping = tokio::time::interval(self.state.limits.ping_interval());
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.reset();
        let idle_timeout = self.state.limits.idle_timeout();
        // Checked lazily: when it fires, it moves to one timeout after the last request.
        let idle = tokio::time::sleep(idle_timeout);
        tokio::pin!(idle);
        // Both waits are armed once and kept across requests, not made anew (registered
        // with their `Notify`, then unregistered) on every turn of the loop: a request
        // that only reads and answers touches neither.
        let shutdown_signal = shutdown.changed();
        tokio::pin!(shutdown_signal);
        let events_ready = wake.notified();
        tokio::pin!(events_ready);
        loop {
            let step = tokio::select! {
                biased;
                _ = &mut shutdown_signal => Err(Ended::Shutdown),
                message = self.socket.recv() => self.on_message(session, message).await,
                () = &mut events_ready => {
                    events_ready.set(wake.notified());
                    self.send_events(session, wake).await
                }
                () = &mut idle => {
                    let due = self.last_request + idle_timeout;
                    let now = Instant::now();
                    if now < due {
                        // A request came in meanwhile.
                        idle.as_mut().reset(due.into());
                        Ok(())
                    } else if session.subscription_count() > 0 {
                        // Waiting for events is not idle; look again one timeout later.
                        idle.as_mut().reset((now + idle_timeout).into());
                        Ok(())
                    } else {
                        Err(Ended::Idle)
                    }
                }
                _ = ping.tick() => self.keep_alive().await,
            };
            if let Err(ended) = step {
                match ended {
                    Ended::Idle => tracing::info!(
                        idle_ms = u64::try_from(idle_timeout.as_millis()).unwrap_or(u64::MAX),
                        "closing an idle WebSocket (no request, no subscription)"
                    ),
                    Ended::DeadPeer => {
                        tracing::info!("closing a WebSocket whose peer does not answer pings");
                    }
                    _ => {}
                }
                if matches!(
                    ended,
                    Ended::Shutdown | Ended::Idle | Ended::DeadPeer | Ended::Rejected(..)
                ) {
                    self.close(&ended).await;
                }
                return ended;
            }
        }
    }

    /// Answers one message and, without waiting, any further requests already received.
    async fn on_message(
        &mut self,
        session: &mut Session,
        mut message: Option<Result<Message, axum::Error>>,
    ) -> Result<(), Ended> {
        // One clock read per batch: the messages taken after the first were already
        // received when it was.
        let now = Instant::now();
        for handled in 1..=BATCH {
            self.last_heard = now;
            if let Some(Ok(Message::Text(_) | Message::Binary(_))) = &message {
                self.last_request = self.last_heard;
            }
            match message {
                None => return Err(Ended::ClientClosed),
                Some(Err(error)) => {
                    // Oversized frames (rejected from the frame header, before the payload
                    // is read) and protocol violations end up here.
                    tracing::debug!(%error, "WebSocket receive failed");
                    let max = self.state.limits.max_message_bytes;
                    return Err(match rejection(&error, max) {
                        Some((code, reason)) => Ended::Rejected(code, reason),
                        None => Ended::Failed,
                    });
                }
                Some(Ok(Message::Close(_))) => return Err(Ended::ClientClosed),
                Some(Ok(Message::Text(text))) if self.codec.frame() == Frame::Text => {
                    self.answer(session, text.as_bytes());
                    self.feed_out().await?;
                }
                Some(Ok(Message::Binary(payload))) if self.codec.frame() == Frame::Binary => {
                    self.answer(session, &payload);
                    self.feed_out().await?;
                }
                Some(Ok(Message::Text(_))) | Some(Ok(Message::Binary(_))) => {
                    let description = match self.codec.frame() {
                        Frame::Text => {
                            "Binary frames are not supported: send JSON requests as text \
                             frames (sub-protocol VISSv3), or connect with sub-protocol \
                             VISS-protoenc for protobuf"
                        }
                        Frame::Binary => {
                            "Text frames are not supported on sub-protocol VISS-protoenc: send \
                             each request as one binary ProtobufMessage frame"
                        }
                    };
                    write_transport_error(&mut self.out, None, "400", "bad_request", description);
                    self.feed_out().await?;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            }
            if handled == BATCH {
                // Taking another message now would drop it: the rest waits for this
                // connection's next turn.
                self.flush().await?;
                tokio::task::yield_now().await;
                return Ok(());
            }
            match self.socket.recv().now_or_never() {
                Some(next) => message = next,
                None => break,
            }
        }
        self.flush().await
    }

    /// Sends queued events, a bounded batch at a time so requests are not starved.
    async fn send_events(&mut self, session: &Session, wake: &Notify) -> Result<(), Ended> {
        let mut sent = 0;
        while sent < BATCH && session.next_event(&mut self.out) {
            self.feed_out().await?;
            sent += 1;
        }
        if sent == BATCH {
            // More may be waiting: come back on this connection's next turn.
            wake.notify_one();
            self.flush().await?;
            tokio::task::yield_now().await;
            return Ok(());
        }
        self.flush().await
    }

    async fn keep_alive(&mut self) -> Result<(), Ended> {
        if self.last_heard.elapsed() > self.state.limits.dead_peer_timeout() {
            return Err(Ended::DeadPeer);
        }
        let send_timeout = self.state.limits.send_timeout();
        match tokio::time::timeout(
            send_timeout,
            self.socket.send(Message::Ping(Default::default())),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            _ => Err(Ended::Failed),
        }
    }

    /// Runs one payload through the session's codec and the engine into `out`.
    fn answer(&mut self, session: &mut Session, payload: &[u8]) {
        let mut scratch = Vec::new();
        match self.codec.decode(payload, &mut scratch) {
            Ok(request) => self.state.engine.handle(session, request, &mut self.out),
            Err(error) => write_transport_error(
                &mut self.out,
                None,
                "400",
                "bad_request",
                &format!(
                    "The payload is not a {} message: {error}",
                    self.codec.name()
                ),
            ),
        }
    }

    /// Queues `out`, encoded by the session's codec, as a frame without flushing.
    async fn feed_out(&mut self) -> Result<(), Ended> {
        self.codec.encode(&mut self.out);
        let payload = std::mem::take(&mut self.out);
        self.out = Vec::with_capacity(payload.len().max(256));
        let frame = match self.codec.frame() {
            // JSON is UTF-8; a lossy conversion would only ever replace bytes that cannot
            // occur.
            Frame::Text => match String::from_utf8(payload) {
                Ok(text) => Message::Text(Utf8Bytes::from(text)),
                Err(error) => Message::Text(Utf8Bytes::from(
                    String::from_utf8_lossy(error.as_bytes()).into_owned(),
                )),
            },
            Frame::Binary => Message::Binary(payload.into()),
        };
        let send_timeout = self.state.limits.send_timeout();
        within_send_timeout(self.socket.feed(frame), send_timeout).await
    }

    async fn flush(&mut self) -> Result<(), Ended> {
        let send_timeout = self.state.limits.send_timeout();
        within_send_timeout(self.socket.flush(), send_timeout).await
    }

    /// Sends a close frame with the reason, then reads (a bounded number of frames for a
    /// bounded time) until the client answers with its own close frame or goes away.
    async fn close(&mut self, ended: &Ended) {
        use axum::extract::ws::close_code;
        let code = match ended {
            Ended::Idle => close_code::NORMAL,
            Ended::Rejected(code, _) => *code,
            _ => close_code::AWAY,
        };
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(ended.reason().to_owned()),
        };
        let sent = tokio::time::timeout(
            self.state.limits.send_timeout(),
            self.socket.send(Message::Close(Some(frame))),
        )
        .await;
        if !matches!(sent, Ok(Ok(()))) || matches!(ended, Ended::Rejected(..)) {
            // A rejected peer may still be sending (the rest of a 10 MB frame): not read.
            return;
        }
        let drain = async {
            for _ in 0..CLOSE_DRAIN_FRAMES {
                match self.socket.recv().await {
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => {}
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_DRAIN_TIME, drain).await;
    }
}

/// Runs a send (a frame into the write buffer, or the buffer into the socket) under the send
/// timeout, which closes the connection of a client that stops reading. A send almost always
/// completes on its first poll, and then no timer is made at all: a timer costs a clock
/// read, a runtime handle and an entry made and dropped, twice per response otherwise.
async fn within_send_timeout(
    send: impl Future<Output = Result<(), axum::Error>>,
    timeout: Duration,
) -> Result<(), Ended> {
    let mut send = std::pin::pin!(send);
    let first = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
    let sent = match first {
        Poll::Ready(sent) => sent,
        Poll::Pending => match tokio::time::timeout(timeout, send).await {
            Ok(sent) => sent,
            Err(_) => {
                tracing::info!("closing a WebSocket whose client does not read");
                return Err(Ended::Failed);
            }
        },
    };
    sent.map_err(|_| Ended::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn v3_wins_v2_is_served_and_no_offer_is_a_v2_client() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("VISSv2, VISS-protoenc, VISSv3"),
        );
        let offered = offered_subprotocols(&headers);
        assert_eq!(offered, ["VISSv2", "VISS-protoenc", "VISSv3"]);
        let json = |version, subprotocol| Served {
            version,
            codec: &codec::Json,
            subprotocol,
        };
        assert_eq!(
            negotiate(&offered, false),
            Some(json(Version::V3, Some("VISSv3")))
        );
        assert_eq!(
            negotiate(&["VISSv2"], true),
            Some(json(Version::V2, Some("VISSv2")))
        );
        assert_eq!(negotiate(&[], false), Some(json(Version::V2, None)));
        assert_eq!(negotiate(&[], true), None);
        assert_eq!(negotiate(&["wvss1.0", "VISS-noenc"], false), None);
        assert!(offered_subprotocols(&HeaderMap::new()).is_empty());
    }

    /// `VISS-protoenc` is served (binary frames) when built with `protobuf`, after `VISSv3`.
    #[test]
    fn protoenc_is_served_with_protobuf_payloads() {
        let served = negotiate(&["VISSv2", "VISS-protoenc"], false);
        if cfg!(feature = "protobuf") {
            let served = served.expect("served");
            assert_eq!(
                (served.version, served.codec.frame(), served.subprotocol),
                (Version::V3, Frame::Binary, Some("VISS-protoenc"))
            );
        } else {
            assert_eq!(served.map(|served| served.version), Some(Version::V2));
        }
    }
}
