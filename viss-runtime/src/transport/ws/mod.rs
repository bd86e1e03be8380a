//! WebSocket transport (TRANSPORT §5.1; wss with the `tls` feature): sub-protocol `VISSv3`,
//! one [`Session`] per connection (its subscriptions end with it), bounded messages,
//! ping/pong dead-peer detection, an idle timeout (no request and no subscription), and a
//! send timeout so a client that stops reading cannot hold the server.

use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
#[cfg(feature = "tls")]
use tokio_rustls::server::TlsStream;

use self::frames::{FrameReader, Incoming, Opcode};
use super::accept::CappedStream;
use super::config::Limits;
use super::{SUBPROTOCOLS, write_transport_error};
use crate::codec::{self, Codec, Frame};
use crate::protocol::Version;
use crate::subscription::Session;
use crate::{Engine, VissTree};

pub mod frames;

/// Requests answered (or events sent) back to back before the writer flushes and the
/// connection yields its worker thread: a client pipelining thousands of requests gets one
/// batch per turn, like every other connection, instead of holding the thread while its
/// read buffer lasts (tokio's cooperative budget only counts socket reads, not messages).
const BATCH: usize = 32;

/// A write buffer grown past this (a burst of events, a large answer) is given back after
/// it is flushed.
const KEEP_WRITE_CAPACITY: usize = 64 * 1024;

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

/// The opening handshake (RFC 6455 §4.2): a GET asking to upgrade to `websocket`, version
/// 13, with a key, answered `101 Switching Protocols` with the accept key and the
/// sub-protocol served; the connection is then served on a task of its own.
async fn upgrade<T: VissTree + 'static>(
    State(state): State<Arc<WsState<T>>>,
    mut request: Request,
) -> Response {
    let key = match check_handshake(&request) {
        Ok(key) => accept_key(key.as_bytes()),
        Err((status, refused)) => {
            let message = format!(
                "{refused}: this is the VISS v3 WebSocket endpoint; connect with a WebSocket \
                 client offering sub-protocol `VISSv3`"
            );
            return (status, message).into_response();
        }
    };
    let offered = offered_subprotocols(request.headers());
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
    let upgraded = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match upgraded.await {
            Ok(upgraded) => serve_upgraded(upgraded, state, permit, served).await,
            Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
        }
    });
    switching_protocols(key, served.subprotocol)
}

/// The client's `Sec-WebSocket-Key` if the request is a WebSocket opening handshake we
/// can answer, else the status and what is wrong.
fn check_handshake(request: &Request) -> Result<&HeaderValue, (StatusCode, &'static str)> {
    let headers = request.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|offered| offered.trim().eq_ignore_ascii_case(token))
    };
    if request.method() != Method::GET {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "Request method must be `GET`",
        ));
    }
    if !has_token(header::CONNECTION, "upgrade") {
        return Err((
            StatusCode::BAD_REQUEST,
            "Connection header did not include 'upgrade'",
        ));
    }
    if !has_token(header::UPGRADE, "websocket") {
        return Err((
            StatusCode::BAD_REQUEST,
            "`Upgrade` header did not include 'websocket'",
        ));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
        return Err((
            StatusCode::BAD_REQUEST,
            "`Sec-WebSocket-Version` header did not include '13'",
        ));
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return Err((
            StatusCode::BAD_REQUEST,
            "`Sec-WebSocket-Key` header missing",
        ));
    };
    if request
        .extensions()
        .get::<hyper::upgrade::OnUpgrade>()
        .is_none()
    {
        return Err((
            StatusCode::UPGRADE_REQUIRED,
            "WebSocket request couldn't be upgraded since no upgrade state was present",
        ));
    }
    Ok(key)
}

/// `Sec-WebSocket-Accept` for a client's key (RFC 6455 §4.2.2).
fn accept_key(key: &[u8]) -> HeaderValue {
    use base64::Engine as _;
    use sha1::{Digest, Sha1};
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let digest = Sha1::new().chain_update(key).chain_update(GUID).finalize();
    let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn switching_protocols(accept: HeaderValue, subprotocol: Option<&'static str>) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    if let Some(subprotocol) = subprotocol {
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(subprotocol),
        );
    }
    response
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

/// Frames read (and discarded) while waiting for the client's close reply, and how long.
const CLOSE_DRAIN_FRAMES: usize = 16;
const CLOSE_DRAIN_TIME: Duration = Duration::from_secs(1);

/// Serves an upgraded connection on its own socket (plain TCP) or TLS stream where it can
/// be taken back from hyper, which saves the type-erased reads and writes through
/// `Upgraded` on every request; on `Upgraded` itself otherwise. The bytes hyper read past
/// the handshake come first.
async fn serve_upgraded<T: VissTree + 'static>(
    upgraded: hyper::upgrade::Upgraded,
    state: Arc<WsState<T>>,
    permit: OwnedSemaphorePermit,
    served: Served,
) {
    use hyper_util::server::conn::auto::upgrade::downcast;
    let upgraded = match downcast::<TokioIo<CappedStream>>(upgraded) {
        Ok(parts) => {
            let io = parts.io.into_inner();
            return serve_connection(io, parts.read_buf, state, permit, served).await;
        }
        Err(upgraded) => upgraded,
    };
    #[cfg(feature = "tls")]
    let upgraded = match downcast::<TokioIo<TlsStream<CappedStream>>>(upgraded) {
        Ok(parts) => {
            let io = parts.io.into_inner();
            return serve_connection(io, parts.read_buf, state, permit, served).await;
        }
        Err(upgraded) => upgraded,
    };
    serve_connection(TokioIo::new(upgraded), Bytes::new(), state, permit, served).await;
}

/// One connection: requests in, responses and events out, until close, idle, failure or
/// server shutdown. The session (and so its subscriptions) ends with the connection.
async fn serve_connection<T: VissTree + 'static, S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    read_already: Bytes,
    state: Arc<WsState<T>>,
    _permit: OwnedSemaphorePermit,
    served: Served,
) {
    let mut session = state.engine.open_session_for(served.version);
    let wake = Arc::new(Notify::new());
    let notifier = Arc::clone(&wake);
    session.events().set_notifier(move || notifier.notify_one());
    let now = Instant::now();
    let mut reader = FrameReader::new(state.limits.max_message_bytes);
    reader.room().extend_from_slice(&read_already);
    // A slice of hyper's read buffer keeps all of it (8 KiB or more) alive: copied, dropped.
    drop(read_already);
    let mut connection = Connection {
        io,
        reader,
        state: &state,
        codec: served.codec,
        out: Vec::with_capacity(1024),
        wire: Vec::new(),
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

struct Connection<'a, T: VissTree, S> {
    io: S,
    reader: FrameReader,
    state: &'a WsState<T>,
    /// The session's payload encoding (JSON for `VISSv3` and `VISSv2`, protobuf for
    /// `VISS-protoenc`).
    codec: &'static dyn Codec,
    /// One response or event payload, before it is framed.
    out: Vec<u8>,
    /// Frames not yet written: one flush per batch, not one per message.
    wire: Vec<u8>,
    /// The last text or binary message (pings and pongs are not requests).
    last_request: Instant,
    /// The last bytes of any kind (pongs included): dead-peer detection.
    last_heard: Instant,
}

impl<T: VissTree + 'static, S: AsyncRead + AsyncWrite + Unpin> Connection<'_, T, S> {
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
        // The socket is polled first, so a request that is in polls nothing else; a client
        // that keeps the socket ready cannot hold off shutdown, which is also looked at
        // (an atomic load) on every turn.
        let shutdown_seen = self.state.shutdown.clone();
        let events_ready = wake.notified();
        tokio::pin!(events_ready);
        loop {
            if !matches!(shutdown_seen.has_changed(), Ok(false)) {
                self.ended(&Ended::Shutdown, idle_timeout).await;
                return Ended::Shutdown;
            }
            // Frames left over from the last read (a batch was full) are answered before
            // the socket is read again.
            let step = if self.reader.has_whole_frame() {
                self.answer_frames(session).await
            } else {
                tokio::select! {
                    biased;
                    read = self.io.read_buf(self.reader.room()) => match read {
                        Ok(0) => Err(Ended::ClientClosed),
                        Ok(_) => self.answer_frames(session).await,
                        Err(error) => {
                            tracing::debug!(%error, "WebSocket read failed");
                            Err(Ended::Failed)
                        }
                    },
                    _ = &mut shutdown_signal => Err(Ended::Shutdown),
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
                }
            };
            if let Err(ended) = step {
                self.ended(&ended, idle_timeout).await;
                return ended;
            }
        }
    }

    /// Says why the connection ends and, where the server ends it, sends the close frame.
    async fn ended(&mut self, ended: &Ended, idle_timeout: Duration) {
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
            self.close(ended).await;
        }
    }

    /// Answers the whole messages read so far, a batch at most, then writes the answers.
    async fn answer_frames(&mut self, session: &mut Session) -> Result<(), Ended> {
        // One clock read per batch: every message in it was received by then.
        self.last_heard = Instant::now();
        for _ in 0..BATCH {
            let incoming = match self.reader.next_message() {
                Ok(Some(incoming)) => incoming,
                Ok(None) => return self.flush().await,
                Err(violation) => {
                    // What was answered before the violation still goes out.
                    self.flush().await?;
                    let max = self.state.limits.max_message_bytes;
                    tracing::debug!(?violation, "WebSocket client broke the protocol");
                    return Err(Ended::Rejected(
                        violation.close_code(),
                        violation.reason(max),
                    ));
                }
            };
            let frame = self.codec.frame();
            match incoming {
                Incoming::Text(text) if frame == Frame::Text => {
                    // Text frames carry JSON, which its codec passes as it is.
                    self.last_request = self.last_heard;
                    self.state.engine.handle_str(session, text, &mut self.out);
                }
                Incoming::Binary(payload) if frame == Frame::Binary => {
                    self.last_request = self.last_heard;
                    answer(self.state, self.codec, session, payload, &mut self.out);
                }
                Incoming::Text(_) | Incoming::Binary(_) => {
                    self.last_request = self.last_heard;
                    write_transport_error(
                        &mut self.out,
                        None,
                        "400",
                        "bad_request",
                        wrong_frame_type(frame),
                    );
                }
                Incoming::Ping(payload) => {
                    frames::write_frame(&mut self.wire, Opcode::Pong, payload);
                    continue;
                }
                Incoming::Pong => continue,
                Incoming::Close(code) => {
                    // The close handshake: the client's code echoed (RFC 6455 §5.5.1).
                    frames::write_close(&mut self.wire, code.unwrap_or(1000), "");
                    self.flush().await?;
                    return Err(Ended::ClientClosed);
                }
            }
            self.frame_out();
        }
        // Further messages wait for this connection's next turn: a client pipelining
        // thousands of requests gets a batch per turn, like every other connection.
        self.flush().await?;
        tokio::task::yield_now().await;
        Ok(())
    }

    /// Sends queued events, a bounded batch at a time so requests are not starved.
    async fn send_events(&mut self, session: &Session, wake: &Notify) -> Result<(), Ended> {
        let mut sent = 0;
        while sent < BATCH && session.next_event(&mut self.out) {
            self.frame_out();
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
        frames::write_frame(&mut self.wire, Opcode::Ping, &[]);
        self.flush().await
    }

    /// Frames `out`, encoded by the session's codec, into the write buffer.
    fn frame_out(&mut self) {
        self.codec.encode(&mut self.out);
        let opcode = match self.codec.frame() {
            Frame::Text => Opcode::Text,
            Frame::Binary => Opcode::Binary,
        };
        frames::write_frame(&mut self.wire, opcode, &self.out);
        self.out.clear();
    }

    /// Writes the buffered frames under the send timeout, which closes the connection of a
    /// client that stops reading.
    async fn flush(&mut self) -> Result<(), Ended> {
        if self.wire.is_empty() {
            return Ok(());
        }
        let send_timeout = self.state.limits.send_timeout();
        let io = &mut self.io;
        let wire = &self.wire;
        let written = within_send_timeout(
            async move {
                io.write_all(wire).await?;
                // A TLS stream holds what it encrypted until flushed.
                io.flush().await
            },
            send_timeout,
        )
        .await;
        self.wire.clear();
        if self.wire.capacity() > KEEP_WRITE_CAPACITY {
            self.wire.shrink_to(KEEP_WRITE_CAPACITY / 4);
        }
        written
    }

    /// Sends a close frame with the reason, then reads (a bounded number of frames for a
    /// bounded time) until the client answers with its own close frame or goes away.
    async fn close(&mut self, ended: &Ended) {
        let code = match ended {
            Ended::Idle => 1000,
            Ended::Rejected(code, _) => *code,
            _ => 1001,
        };
        frames::write_close(&mut self.wire, code, ended.reason());
        if self.flush().await.is_err() || matches!(ended, Ended::Rejected(..)) {
            // A rejected peer may still be sending (the rest of a 10 MB frame): not read.
            return;
        }
        let drain = async {
            for _ in 0..CLOSE_DRAIN_FRAMES {
                loop {
                    match self.reader.next_message() {
                        Ok(Some(Incoming::Close(_))) | Err(_) => return,
                        Ok(Some(_)) => break,
                        Ok(None) => match self.io.read_buf(self.reader.room()).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        },
                    }
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_DRAIN_TIME, drain).await;
        // The server closes the TCP connection first (RFC 6455 §7.1.1).
        let _ = tokio::time::timeout(CLOSE_DRAIN_TIME, self.io.shutdown()).await;
    }
}

/// Runs one payload through the session's codec and the engine into `out`.
fn answer<T: VissTree + 'static>(
    state: &WsState<T>,
    codec: &'static dyn Codec,
    session: &mut Session,
    payload: &[u8],
    out: &mut Vec<u8>,
) {
    let mut scratch = Vec::new();
    match codec.decode(payload, &mut scratch) {
        Ok(request) => state.engine.handle(session, request, out),
        Err(error) => write_transport_error(
            out,
            None,
            "400",
            "bad_request",
            &format!("The payload is not a {} message: {error}", codec.name()),
        ),
    }
}

/// The error for a text frame on a binary sub-protocol, or the other way round.
fn wrong_frame_type(served: Frame) -> &'static str {
    match served {
        Frame::Text => {
            "Binary frames are not supported: send JSON requests as text frames (sub-protocol \
             VISSv3), or connect with sub-protocol VISS-protoenc for protobuf"
        }
        Frame::Binary => {
            "Text frames are not supported on sub-protocol VISS-protoenc: send each request as \
             one binary ProtobufMessage frame"
        }
    }
}

/// Runs a write under the send timeout. A write almost always completes on its first poll,
/// and then no timer is made at all: a timer costs a clock read, a runtime handle and an
/// entry made and dropped, twice per response otherwise.
async fn within_send_timeout(
    send: impl Future<Output = std::io::Result<()>>,
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
