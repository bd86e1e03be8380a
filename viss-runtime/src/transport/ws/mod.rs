//! WebSocket transport (TRANSPORT §5.1; wss with the `tls` feature): sub-protocol `VISSv3`,
//! one [`Session`] per connection (its subscriptions end with it), bounded messages,
//! ping/pong dead-peer detection, an idle timeout (no request and no subscription), and a
//! send timeout so a client that stops reading cannot hold the server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

use self::frames::{Incoming, Opcode};
use self::handshake::ServeSocket;
use self::socket::Socket;
use super::config::Limits;
use super::{SUBPROTOCOLS, write_transport_error};
use crate::codec::{self, Codec, Frame};
use crate::protocol::Version;
use crate::subscription::Session;
use crate::{Engine, VissTree};

pub mod frames;
pub(crate) mod handshake;
pub(crate) mod socket;

/// Requests answered (or events sent) back to back before the writer flushes and the
/// connection yields its worker thread: a client pipelining thousands of requests gets one
/// batch per turn, like every other connection, instead of holding the thread while its
/// read buffer lasts (tokio's cooperative budget only counts socket reads, not messages).
const BATCH: usize = 32;

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
    let accept = match handshake::check(&request) {
        Ok(accept) => accept,
        Err((status, refused)) => {
            let message = format!(
                "{refused}: this is the VISS v3 WebSocket endpoint; connect with a WebSocket \
                 client offering sub-protocol `VISSv3`"
            );
            return (status, message).into_response();
        }
    };
    let offered = handshake::offered_subprotocols(request.headers());
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
    let subprotocol = served.subprotocol;
    let server = VissSocket {
        state,
        permit,
        served,
    };
    handshake::accept(&mut request, accept, subprotocol, server)
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

/// A VISS connection, once its handshake is answered: holds a connection slot.
struct VissSocket<T: VissTree> {
    state: Arc<WsState<T>>,
    permit: OwnedSemaphorePermit,
    served: Served,
}

impl<T: VissTree + 'static> ServeSocket for VissSocket<T> {
    fn max_message_bytes(&self) -> usize {
        self.state.limits.max_message_bytes
    }

    fn serve<S>(self, socket: Socket<S>) -> impl Future<Output = ()> + Send
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        serve_connection(socket, self)
    }
}

/// One connection: requests in, responses and events out, until close, idle, failure or
/// server shutdown. The session (and so its subscriptions) ends with the connection.
async fn serve_connection<T: VissTree + 'static, S: AsyncRead + AsyncWrite + Unpin>(
    socket: Socket<S>,
    VissSocket {
        state,
        permit: _permit,
        served,
    }: VissSocket<T>,
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

struct Connection<'a, T: VissTree, S> {
    socket: Socket<S>,
    state: &'a WsState<T>,
    /// The session's payload encoding (JSON for `VISSv3` and `VISSv2`, protobuf for
    /// `VISS-protoenc`).
    codec: &'static dyn Codec,
    /// One response or event payload, before it is framed.
    out: Vec<u8>,
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
            let step = if self.socket.reader.has_whole_frame() {
                self.answer_frames(session).await
            } else {
                tokio::select! {
                    biased;
                    read = self.socket.read() => match read {
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
            let incoming = match self.socket.reader.next_message() {
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
                    frames::write_frame(&mut self.socket.wire, Opcode::Pong, payload);
                    continue;
                }
                Incoming::Pong => continue,
                Incoming::Close(code) => {
                    // The close handshake: the client's code echoed (RFC 6455 §5.5.1).
                    frames::write_close(&mut self.socket.wire, code.unwrap_or(1000), "");
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
        frames::write_frame(&mut self.socket.wire, Opcode::Ping, &[]);
        self.flush().await
    }

    /// Frames `out`, encoded by the session's codec, into the write buffer.
    fn frame_out(&mut self) {
        self.codec.encode(&mut self.out);
        let opcode = match self.codec.frame() {
            Frame::Text => Opcode::Text,
            Frame::Binary => Opcode::Binary,
        };
        frames::write_frame(&mut self.socket.wire, opcode, &self.out);
        self.out.clear();
    }

    /// Writes the buffered frames under the send timeout, which closes the connection of a
    /// client that stops reading.
    async fn flush(&mut self) -> Result<(), Ended> {
        let send_timeout = self.state.limits.send_timeout();
        self.socket
            .flush(send_timeout)
            .await
            .map_err(|_| Ended::Failed)
    }

    /// Sends the close frame with the reason, and waits for the client's (not from a peer
    /// that broke the protocol).
    async fn close(&mut self, ended: &Ended) {
        let code = match ended {
            Ended::Idle => 1000,
            Ended::Rejected(code, _) => *code,
            _ => 1001,
        };
        let drain = !matches!(ended, Ended::Rejected(..));
        let send_timeout = self.state.limits.send_timeout();
        self.socket
            .close(code, ended.reason(), drain, send_timeout)
            .await;
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

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::handshake::offered_subprotocols;
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
