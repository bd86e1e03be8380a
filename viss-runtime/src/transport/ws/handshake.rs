//! The server's side of the WebSocket opening handshake (RFC 6455 §4.2), answered on axum's
//! router, and the socket taken back from hyper once it is: shared by the VISS endpoint and
//! the file-transfer data channel, so the server has one WebSocket stack.

use std::future::Future;
use std::pin::Pin;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
#[cfg(feature = "tls")]
use tokio_rustls::server::TlsStream;

use super::socket::Socket;
use crate::transport::accept::CappedStream;

/// What serves a connection once its handshake is answered. Generic over the stream, so
/// that the connection loop is compiled for the plain socket and for the TLS stream (no
/// type-erased reads and writes per request).
pub(crate) trait ServeSocket: Send + 'static {
    /// The largest message the connection reads (larger ones are closed with 1009).
    fn max_message_bytes(&self) -> usize;

    /// Serves the connection on `socket`, whose reader holds the bytes hyper read past
    /// the handshake (a client may send its first frame with it).
    fn serve<S>(self, socket: Socket<S>) -> impl Future<Output = ()> + Send
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static;
}

/// The `Sec-WebSocket-Accept` value for `request` if it is a WebSocket opening handshake
/// that can be answered, else the status and what is wrong.
pub(crate) fn check(request: &Request) -> Result<HeaderValue, (StatusCode, &'static str)> {
    let headers = request.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        header_tokens(headers, name).any(|offered| offered.eq_ignore_ascii_case(token))
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
    Ok(accept_key(key.as_bytes()))
}

/// The sub-protocols the client offers, in its order.
pub(crate) fn offered_subprotocols(headers: &HeaderMap) -> Vec<&str> {
    header_tokens(headers, header::SEC_WEBSOCKET_PROTOCOL).collect()
}

/// Answers a checked handshake with `101 Switching Protocols` (naming `subprotocol`, if
/// any) and serves the connection with `server` on a task of its own once hyper hands the
/// socket over.
pub(crate) fn accept(
    request: &mut Request,
    accept: HeaderValue,
    subprotocol: Option<&'static str>,
    server: impl ServeSocket,
) -> Response {
    tokio::spawn(connection_task(hyper::upgrade::on(request), server));
    switching_protocols(accept, subprotocol)
}

/// The task of one connection: waits for hyper to hand the socket over, then serves it.
/// It stays small (the connection's own future is boxed, in [`connection`]).
async fn connection_task(upgraded: hyper::upgrade::OnUpgrade, server: impl ServeSocket) {
    match upgraded.await {
        Ok(upgraded) => connection(upgraded, server).await,
        Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
    }
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

/// The comma-separated tokens of every `name` header, in order, trimmed, empty ones skipped
/// (RFC 9110 §5.6.1: a list header may come more than once, or hold several tokens).
fn header_tokens(headers: &HeaderMap, name: header::HeaderName) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .into_iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// The connection's future on its own socket (plain TCP) or TLS stream where it can be
/// taken back from hyper, which saves the type-erased reads and writes through `Upgraded`
/// on every request; on `Upgraded` itself otherwise.
///
/// Boxed, and made outside any `async` block: otherwise every connection's task, plain
/// ones too, would be as large as the largest of the three (the TLS one), with the stream
/// in it more than once. Measured: the task's future is 144 bytes (15.4 KiB in a draft
/// without the box), and memory per subscribed connection fell from 14.5 to 9.0 KiB.
fn connection(
    upgraded: Upgraded,
    server: impl ServeSocket,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    use hyper_util::server::conn::auto::upgrade::downcast;
    let upgraded = match downcast::<TokioIo<CappedStream>>(upgraded) {
        Ok(parts) => {
            let socket = socket(parts.io.into_inner(), parts.read_buf, &server);
            return Box::pin(server.serve(socket));
        }
        Err(upgraded) => upgraded,
    };
    #[cfg(feature = "tls")]
    let upgraded = match downcast::<TokioIo<TlsStream<CappedStream>>>(upgraded) {
        Ok(parts) => {
            let socket = socket(parts.io.into_inner(), parts.read_buf, &server);
            return Box::pin(server.serve(socket));
        }
        Err(upgraded) => upgraded,
    };
    let socket = socket(TokioIo::new(upgraded), Bytes::new(), &server);
    Box::pin(server.serve(socket))
}

/// The socket on `io`, the bytes hyper read past the handshake first. They are copied: a
/// slice of hyper's read buffer would keep all of it (8 KiB or more) alive.
fn socket<S>(io: S, read_already: Bytes, server: &impl ServeSocket) -> Socket<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    Socket::new(io, &read_already, server.max_message_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_of_rfc_6455s_example() {
        // RFC 6455 §1.3.
        let accept = accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    /// A connection whose future is as large as a TLS stream and more.
    struct Large;

    impl ServeSocket for Large {
        fn max_message_bytes(&self) -> usize {
            1024
        }

        async fn serve<S>(self, socket: Socket<S>)
        where
            S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        {
            let state = [0u8; 16 * 1024];
            tokio::task::yield_now().await;
            drop((socket, state));
        }
    }

    #[test]
    fn a_connections_task_stays_small_however_large_its_future() {
        let mut request = Request::new(Body::empty());
        let task = connection_task(hyper::upgrade::on(&mut request), Large);
        // Every connection holds its task for its whole life: what the connection's future
        // holds is boxed at its own size, not the largest stream type's.
        assert!(
            std::mem::size_of_val(&task) <= 512,
            "{} bytes",
            std::mem::size_of_val(&task)
        );
    }

    #[test]
    fn list_headers_are_split_trimmed_and_read_across_repeats() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(" VISSv2 ,, x"),
        );
        headers.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("VISSv3"),
        );
        assert_eq!(offered_subprotocols(&headers), ["VISSv2", "x", "VISSv3"]);
    }
}
