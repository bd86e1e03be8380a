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
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::download::{self, Download};
use super::upload::{self, Upload};
use super::wire::{self, status};
use super::{FileTransfer, Pending};
use crate::{Engine, VissTree};

/// Largest message read: a 4 MiB chunk and its header. A client picks its download chunk
/// size; this bounds what one message can make the server buffer.
pub const MAX_MESSAGE_BYTES: usize = (4 << 20) + wire::HEADER_BYTES;
/// Transfers one connection may run at once.
pub const MAX_TRANSFERS_PER_CONNECTION: usize = 8;

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
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The control channel's token, for transfers of nodes the tree protects (CORE App. C
    // leaves the data channel's authorisation open; docs/filetransfer.md).
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(crate::access::bearer_token)
        .map(str::to_owned);
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve_connection(socket, state, permit, credential))
}

/// A transfer a connection has claimed.
enum Transfer {
    Download(Download),
    Upload(Upload),
}

async fn serve_connection<T: VissTree + 'static>(
    mut socket: WebSocket,
    state: Arc<ChannelState<T>>,
    _permit: OwnedSemaphorePermit,
    credential: Option<String>,
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
    'serve: loop {
        let received = tokio::select! {
            received = tokio::time::timeout(idle, socket.recv()) => received,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let bytes = match received {
            Ok(Some(Ok(Message::Binary(bytes)))) => bytes,
            Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) | Err(_) => break,
            Ok(Some(Ok(_))) => continue, // pings are answered by the socket; text is not ours
        };
        connection.on_message(&bytes);
        for reply in connection.replies.drain(..) {
            // A client that stops reading is dropped, with its transfers, after the send
            // timeout (its messages would otherwise wait forever, holding their slots).
            let send = socket.send(Message::Binary(reply.into()));
            let sent = tokio::select! {
                sent = tokio::time::timeout(state.send_timeout, send) => sent,
                _ = shutdown.wait_for(|stop| *stop) => break 'serve,
            };
            if !matches!(sent, Ok(Ok(()))) {
                break 'serve;
            }
        }
    }
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
