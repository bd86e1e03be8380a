//! The TCP acceptor of every listener: `TCP_NODELAY`, and a cap on the connections a
//! listener holds open at once.
//!
//! The WebSocket limit ([`super::Limits::max_connections`], answered 503) only counts
//! upgraded connections. Until its TLS handshake and first request are done, a connection
//! is held by the listener alone, for up to the handshake timeout; without a cap, a flood
//! of such half-open connections could take every file descriptor. A connection over the
//! cap is closed as soon as it is accepted.

// Unused in an MQTT-only build (no listener to cap).
#![cfg_attr(
    not(any(feature = "ws", feature = "http", feature = "grpc")),
    allow(dead_code)
)]

use std::future::{Ready, ready};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Accepts while fewer than the cap are open; each stream holds its place until dropped.
#[derive(Debug, Clone)]
pub struct CappedAcceptor {
    open: Arc<Semaphore>,
}

impl CappedAcceptor {
    /// At most `cap` (at least 1) connections open at once.
    pub fn new(cap: usize) -> Self {
        Self {
            open: Arc::new(Semaphore::new(cap.clamp(1, Semaphore::MAX_PERMITS))),
        }
    }
}

impl<S> Accept<TcpStream, S> for CappedAcceptor {
    type Stream = CappedStream;
    type Service = S;
    type Future = Ready<io::Result<(CappedStream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let Ok(permit) = Arc::clone(&self.open).try_acquire_owned() else {
            tracing::debug!("too many open connections: closing a new one");
            return ready(Err(io::Error::other("too many open connections")));
        };
        let accepted = stream.set_nodelay(true).map(|()| {
            let stream = CappedStream {
                stream,
                _place: permit,
            };
            (stream, service)
        });
        ready(accepted)
    }
}

/// An accepted TCP stream holding its place under the cap.
#[derive(Debug)]
pub struct CappedStream {
    stream: TcpStream,
    _place: OwnedSemaphorePermit,
}

impl AsyncRead for CappedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CappedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
