//! A WebSocket connection's socket once the handshake is done: frames read into a
//! [`FrameReader`], frames written into one buffer and flushed once per batch under the
//! send timeout, and the closing handshake. What the connection does with the messages is
//! its own (the VISS endpoint, the file-transfer data channel).

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::frames::{self, FrameReader, Incoming};

/// A write buffer grown past this (a burst of events, a large answer, a file chunk) is
/// given back after it is flushed.
const KEEP_WRITE_CAPACITY: usize = 64 * 1024;

/// Frames read (and discarded) while waiting for the client's close reply, and how long.
const CLOSE_DRAIN_FRAMES: usize = 16;
const CLOSE_DRAIN_TIME: Duration = Duration::from_secs(1);

/// The write did not finish: the client stopped reading (send timeout) or went away.
#[derive(Debug)]
pub(crate) struct SendFailed;

pub(crate) struct Socket<S> {
    /// Read, written and closed only through the methods below.
    io: S,
    pub reader: FrameReader,
    /// Frames not yet written: one flush per batch, not one per message.
    pub wire: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Socket<S> {
    /// A socket whose first bytes are `read_already` (read past the handshake), reading
    /// messages of at most `max_message_bytes`.
    pub fn new(io: S, read_already: &[u8], max_message_bytes: usize) -> Self {
        let mut reader = FrameReader::new(max_message_bytes);
        reader.room().extend_from_slice(read_already);
        Socket {
            io,
            reader,
            wire: Vec::new(),
        }
    }

    /// Reads what the socket has into the frame reader; `Ok(0)` when the client closed it.
    /// Cancel-safe: nothing is lost if dropped unfinished.
    pub async fn read(&mut self) -> std::io::Result<usize> {
        self.io.read_buf(self.reader.room()).await
    }

    /// Writes the buffered frames, under `send_timeout`, which fails the connection of a
    /// client that stops reading.
    pub async fn flush(&mut self, send_timeout: Duration) -> Result<(), SendFailed> {
        if self.wire.is_empty() {
            return Ok(());
        }
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

    /// Sends a close frame with `code` and `reason` (after what is buffered). Unless the
    /// peer broke the protocol (`drain` false: it may still be sending the rest of a 10 MB
    /// frame, which is not read), reads a bounded number of frames for a bounded time until
    /// the client answers with its own close frame or goes away; then closes the TCP
    /// connection first, as a server does (RFC 6455 §7.1.1).
    pub async fn close(&mut self, code: u16, reason: &str, drain: bool, send_timeout: Duration) {
        frames::write_close(&mut self.wire, code, reason);
        if self.flush(send_timeout).await.is_err() || !drain {
            return;
        }
        let drained = async {
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
        let _ = tokio::time::timeout(CLOSE_DRAIN_TIME, drained).await;
        let _ = tokio::time::timeout(CLOSE_DRAIN_TIME, self.io.shutdown()).await;
    }
}

/// Runs a write under the send timeout. A write almost always completes on its first poll,
/// and then no timer is made at all: a timer costs a clock read, a runtime handle and an
/// entry made and dropped, twice per response otherwise.
async fn within_send_timeout(
    send: impl Future<Output = std::io::Result<()>>,
    timeout: Duration,
) -> Result<(), SendFailed> {
    let mut send = std::pin::pin!(send);
    let first = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
    let sent = match first {
        Poll::Ready(sent) => sent,
        Poll::Pending => match tokio::time::timeout(timeout, send).await {
            Ok(sent) => sent,
            Err(_) => {
                tracing::info!("closing a WebSocket whose client does not read");
                return Err(SendFailed);
            }
        },
    };
    sent.map_err(|_| SendFailed)
}
