//! The WebSocket data channel: binary messages in, binary messages out, one state machine
//! per transfer the connection has claimed by uid.
//!
//! Files are read and written on the connection's task: a chunk goes to or comes from the
//! page cache, and the one `fsync` per download happens at its end. Chunks are bounded
//! ([`MAX_MESSAGE_BYTES`]), transfers per connection too ([`MAX_TRANSFERS_PER_CONNECTION`]),
//! and a connection that sends nothing for the claim timeout is closed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::download::{self, Download};
use super::upload::{self, Upload};
use super::wire::{self, status};
use super::{FileTransfer, Pending};
use crate::transport::ws::frames::{self, Incoming, Opcode};
use crate::transport::ws::handshake::{self, ServeSocket};
use crate::transport::ws::socket::Socket;
use crate::{Engine, VissTree};

/// Largest message read: a 4 MiB chunk and its header. A client picks its download chunk
/// size; this bounds what one message can make the server buffer.
pub const MAX_MESSAGE_BYTES: usize = (4 << 20) + wire::HEADER_BYTES;
/// Transfers one connection may run at once.
pub const MAX_TRANSFERS_PER_CONNECTION: usize = 8;
/// Messages handled back to back before the replies are written and the connection
/// yields its worker thread to the others.
const BATCH: usize = 32;

/// What every data-channel connection shares.
pub(crate) struct ChannelState<T: VissTree> {
    pub engine: Arc<Engine<T>>,
    pub files: Arc<FileTransfer>,
    pub connections: Arc<Semaphore>,
    /// The longest a message may wait for the client to read it.
    pub send_timeout: Duration,
    pub shutdown: watch::Receiver<bool>,
}

/// The data channel at `/`.
pub(crate) fn router<T: VissTree + 'static>(state: Arc<ChannelState<T>>) -> Router {
    Router::new()
        .route("/", any(upgrade::<T>))
        .with_state(state)
}

async fn upgrade<T: VissTree + 'static>(
    State(state): State<Arc<ChannelState<T>>>,
    mut request: Request,
) -> Response {
    let accept = match handshake::check(&request) {
        Ok(accept) => accept,
        Err((status, refused)) => {
            let message = format!(
                "{refused}: this is the VISS file-transfer data channel; connect with a \
                 WebSocket client"
            );
            return (status, message).into_response();
        }
    };
    // The control channel's token, for transfers of nodes the tree protects (CORE App. C
    // leaves the data channel's authorisation open; docs/filetransfer.md).
    let credential = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(crate::access::bearer_token)
        .map(str::to_owned);
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    let server = ChannelSocket {
        state,
        permit,
        credential,
    };
    handshake::accept(&mut request, accept, None, server)
}

/// A data-channel connection, once its handshake is answered: holds a connection slot.
struct ChannelSocket<T: VissTree> {
    state: Arc<ChannelState<T>>,
    permit: OwnedSemaphorePermit,
    credential: Option<String>,
}

impl<T: VissTree + 'static> ServeSocket for ChannelSocket<T> {
    fn max_message_bytes(&self) -> usize {
        MAX_MESSAGE_BYTES
    }

    fn serve<S>(self, socket: Socket<S>) -> impl Future<Output = ()> + Send
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        serve_connection(socket, self)
    }
}

/// A transfer a connection has claimed.
enum Transfer {
    Download(Download),
    Upload(Upload),
}

/// How a data-channel connection ended, for its close frame.
enum Ended {
    /// The client's close frame, echoed already.
    ClientClosed,
    /// Gone, or not reading: nothing more can be sent.
    Failed,
    Shutdown,
    /// Nothing received for the claim timeout.
    Idle,
    /// A frame that breaks RFC 6455, or a message over [`MAX_MESSAGE_BYTES`].
    Rejected(frames::Violation),
}

/// Binary messages in, binary replies out, until the client closes, goes quiet for the
/// claim timeout, breaks the protocol, or the server shuts down.
async fn serve_connection<T: VissTree + 'static, S: AsyncRead + AsyncWrite + Unpin>(
    mut socket: Socket<S>,
    ChannelSocket {
        state,
        permit: _permit,
        credential,
    }: ChannelSocket<T>,
) {
    let mut connection = Connection {
        engine: &state.engine,
        files: &state.files,
        credential,
        transfers: HashMap::new(),
        replies: Vec::new(),
    };
    let idle = Duration::from_secs(state.files.config().claim_timeout_secs.max(1));
    let mut shutdown = state.shutdown.clone();
    let ended = loop {
        if !socket.reader.has_whole_frame() {
            let read = tokio::select! {
                read = tokio::time::timeout(idle, socket.read()) => read,
                _ = shutdown.wait_for(|stop| *stop) => break Ended::Shutdown,
            };
            match read {
                Ok(Ok(0) | Err(_)) => break Ended::Failed,
                Ok(Ok(_)) => {}
                Err(_) => break Ended::Idle,
            }
        }
        if let Err(ended) = connection.answer(&mut socket) {
            break ended;
        }
        // A client that stops reading is dropped, with its transfers, after the send
        // timeout (its messages would otherwise wait forever, holding their slots), or at
        // shutdown: a write cut short leaves no frame boundary to close on.
        let sent = tokio::select! {
            sent = socket.flush(state.send_timeout) => sent,
            _ = shutdown.wait_for(|stop| *stop) => break Ended::Failed,
        };
        if sent.is_err() {
            break Ended::Failed;
        }
        if socket.reader.has_whole_frame() {
            // A full batch, and more read already: the other connections' turn first.
            tokio::task::yield_now().await;
        }
    };
    let (code, reason, drain) = match &ended {
        Ended::ClientClosed => {
            // The echo of the client's close goes out; the server closes the TCP connection.
            let _ = socket.flush(state.send_timeout).await;
            return;
        }
        Ended::Failed => return,
        Ended::Shutdown => (1001, "server shutting down".to_owned(), true),
        Ended::Idle => (1000, "idle timeout".to_owned(), true),
        Ended::Rejected(violation) => (
            violation.close_code(),
            violation.reason(MAX_MESSAGE_BYTES),
            false,
        ),
    };
    socket.close(code, &reason, drain, state.send_timeout).await;
}

/// One connection's transfers and the replies its last message produced.
struct Connection<'a, T: VissTree> {
    engine: &'a Engine<T>,
    files: &'a FileTransfer,
    /// The bearer token of the connection's upgrade request, if any.
    credential: Option<String>,
    transfers: HashMap<u32, Transfer>,
    replies: Vec<Vec<u8>>,
}

impl<T: VissTree> Connection<'_, T> {
    /// Handles the whole messages read so far, a batch at most, and frames their replies
    /// (and the pongs for pings) into the socket's write buffer.
    fn answer<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        socket: &mut Socket<S>,
    ) -> Result<(), Ended> {
        for _ in 0..BATCH {
            match socket.reader.next_message() {
                Ok(None) => break,
                Err(violation) => return Err(Ended::Rejected(violation)),
                Ok(Some(Incoming::Binary(bytes))) => self.on_message(bytes),
                Ok(Some(Incoming::Ping(payload))) => {
                    frames::write_frame(&mut socket.wire, Opcode::Pong, payload);
                }
                // Text is not this channel's; pongs answer nothing.
                Ok(Some(Incoming::Text(_) | Incoming::Pong)) => {}
                Ok(Some(Incoming::Close(code))) => {
                    frames::write_close(&mut socket.wire, code.unwrap_or(1000), "");
                    return Err(Ended::ClientClosed);
                }
            }
            for reply in self.replies.drain(..) {
                frames::write_frame(&mut socket.wire, Opcode::Binary, &reply);
            }
        }
        Ok(())
    }

    fn on_message(&mut self, bytes: &[u8]) {
        match wire::parse(bytes) {
            Ok(wire::Message::Data(data)) => self.on_data(&data),
            Ok(wire::Message::Status(received)) => self.on_status(&received),
            // A damaged message whose header names a download: ask for it again.
            Err(wire::Damaged {
                uid: Some(uid),
                message_no: Some(message_no),
            }) => match self.transfer(uid) {
                Some(Transfer::Download(download)) => {
                    let step = download.on_damaged(message_no);
                    self.download_step(uid, step);
                }
                Some(Transfer::Upload(_)) => {}
                None => self.status(uid, message_no, status::TERMINATE),
            },
            Err(_) => {} // not even a session to tell
        }
    }

    fn on_data(&mut self, data: &wire::Data<'_>) {
        match self.transfer(data.uid) {
            Some(Transfer::Download(download)) => {
                // A chunk goes to the page cache (microseconds); the last one is synced,
                // which may take long: the worker hands its other connections on first.
                let step = if data.last {
                    crate::blocking::may_block(|| download.on_data(data))
                } else {
                    download.on_data(data)
                };
                self.download_step(data.uid, step);
            }
            // The receiving client gives up on an upload.
            Some(Transfer::Upload(_)) if data.is_abort() => {
                self.status(data.uid, wire::RESERVED_NO, status::OK);
                self.end(data.uid);
            }
            Some(Transfer::Upload(_)) => {}
            None => self.status(data.uid, data.message_no, status::TERMINATE),
        }
    }

    fn on_status(&mut self, received: &wire::Status) {
        let step = match self.transfer(received.uid) {
            Some(Transfer::Upload(upload)) => upload.on_status(received),
            Some(Transfer::Download(_)) => return,
            None => {
                if received.status != status::TERMINATE {
                    self.status(received.uid, received.message_no, status::TERMINATE);
                }
                return;
            }
        };
        match step {
            upload::Step::Send(message) => self.replies.push(message),
            upload::Step::Finish(message) => {
                self.replies.push(message);
                self.end(received.uid);
            }
            upload::Step::Drop => self.end(received.uid),
            upload::Step::Ignore => {}
        }
    }

    fn download_step(&mut self, uid: u32, step: download::Step) {
        match step {
            download::Step::Reply { message_no, status } => self.status(uid, message_no, status),
            download::Step::Complete { message_no } => {
                if let Some(Transfer::Download(download)) = self.transfers.get(&uid) {
                    // The actuator's current value: the file it has now.
                    let descriptor = download.descriptor().to_value();
                    let node = download.node();
                    tracing::info!(uid = format_args!("{uid:08x}"), bytes = download.bytes(),
                        name = %download.descriptor().name, "file transfer: download complete");
                    let _ = self.engine.update(node, descriptor, jiff::Timestamp::now());
                }
                self.status(uid, message_no, status::OK);
                self.end(uid);
            }
            download::Step::Finish { message_no, status } => {
                self.status(uid, message_no, status);
                self.end(uid);
            }
        }
    }

    /// The transfer `uid` names: this connection's, or a registered one it claims now.
    fn transfer(&mut self, uid: u32) -> Option<&mut Transfer> {
        if !self.transfers.contains_key(&uid) {
            if self.transfers.len() >= MAX_TRANSFERS_PER_CONNECTION {
                return None;
            }
            let (engine, credential) = (self.engine, self.credential.as_deref());
            let allowed = |node, access| match engine.authorize(credential, node, access) {
                Ok(()) => true,
                Err(error) => {
                    tracing::info!(uid = format_args!("{uid:08x}"), %error,
                        "file transfer: data channel refused by access control");
                    false
                }
            };
            let transfer = match self.files.claim(uid, allowed)? {
                Pending::Download(pending) => match Download::start(pending) {
                    Ok(download) => Transfer::Download(download),
                    Err(error) => {
                        tracing::warn!(%error, "file transfer: cannot create a partial file");
                        self.files.release(uid);
                        return None;
                    }
                },
                Pending::Upload(pending) => Transfer::Upload(Upload::new(pending)),
            };
            self.transfers.insert(uid, transfer);
        }
        self.transfers.get_mut(&uid)
    }

    fn status(&mut self, uid: u32, message_no: u8, status: u8) {
        let mut message = Vec::with_capacity(wire::STATUS_BYTES);
        wire::write_status(&mut message, uid, message_no, status);
        self.replies.push(message);
    }

    /// Drops a transfer (a download not complete removes its partial file).
    fn end(&mut self, uid: u32) {
        if self.transfers.remove(&uid).is_some() {
            self.files.release(uid);
        }
    }
}

impl<T: VissTree> Drop for Connection<'_, T> {
    /// The connection is gone, however it ended: every transfer it held ends (a download
    /// not complete removes its partial file) and its uid is free again.
    fn drop(&mut self) {
        for (uid, _) in self.transfers.drain() {
            self.files.release(uid);
        }
    }
}
