//! The client over HTTPS (TRANSPORT §5.2): a get is `GET /<path>?filter=<json>`, a set is
//! `POST /<path>` with `{"value": ...}`, the access token goes in `Authorization: Bearer`.
//! Answers are the WebSocket's bodies without `action` and `requestId`, with the VISS error
//! number as the HTTP status; HTTP has no subscriptions.
//!
//! One keep-alive HTTP/1.1 connection is shared by every call. HTTP/1.1 answers in order
//! and cannot interleave, so calls take turns on it (at most `max_pending` wait; more fail
//! with [`ClientError::TooManyPending`]); a connection the server has closed is opened
//! again on the next call. A request the closing connection never wrote is sent once more
//! on a new one; one it wrote whose answer was cut off only if it is a get (a set may have
//! landed).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::http::{Method, Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Mutex, Semaphore};

use super::{ClientError, truncate};

/// What a URL segment or query value keeps unescaped (RFC 3986 unreserved characters).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The largest answer read (a whole tree's metadata is well below): a bound, not a limit
/// anybody should meet.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// One get or set, as HTTP carries it.
pub(super) struct HttpCall<'a> {
    pub path: &'a str,
    pub filter: Option<&'a str>,
    /// The JSON value of a set; `None` makes a get.
    pub value: Option<&'a str>,
    pub authorization: Option<&'a str>,
}

/// The HTTP(S) connection a [`Client`](super::Client) shares.
pub(super) struct HttpLink {
    host: String,
    port: u16,
    /// The URL's path before the signal path (empty, or `/prefix` without a trailing `/`).
    base: String,
    tls: Option<tokio_rustls::TlsConnector>,
    timeout: Duration,
    connection: Mutex<Option<SendRequest<Full<Bytes>>>>,
    turns: Semaphore,
    closed: AtomicBool,
}

impl HttpLink {
    /// Opens the first connection to `url` (`https://host:port`, or `http://` for a server
    /// run `--insecure`), so that a wrong address fails here, as a WebSocket's does.
    pub(super) async fn connect(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        timeout: Duration,
        max_pending: usize,
    ) -> Result<Self, ClientError> {
        let uri: Uri = url
            .parse()
            .map_err(|error| ClientError::Connect(format!("{url}: {error}")))?;
        let secure = uri.scheme_str() == Some("https");
        let host = uri
            .host()
            .ok_or_else(|| ClientError::Connect(format!("{url}: no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let link = Self {
            port: uri.port_u16().unwrap_or(if secure { 443 } else { 80 }),
            host,
            base: uri.path().trim_end_matches('/').to_owned(),
            tls: tls.filter(|_| secure).map(|config| {
                // The server offers h2 and http/1.1; this client speaks HTTP/1.1.
                let mut config = Arc::unwrap_or_clone(config);
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                tokio_rustls::TlsConnector::from(Arc::new(config))
            }),
            timeout,
            connection: Mutex::new(None),
            turns: Semaphore::new(max_pending.max(1)),
            closed: AtomicBool::new(false),
        };
        let sender = link.open().await?;
        *link.connection.lock().await = Some(sender);
        Ok(link)
    }

    /// Drops the connection; calls after this fail with [`ClientError::Closed`].
    pub(super) async fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.connection.lock().await.take();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Sends one call and returns the answer's body (an error body too: the caller reads
    /// the VISS error out of it).
    pub(super) async fn exchange(&self, call: &HttpCall<'_>) -> Result<String, ClientError> {
        let (status, text) = self
            .send(|| self.request(call), call.value.is_none())
            .await?;
        if status != StatusCode::OK && !text.contains("\"error\"") {
            return Err(ClientError::Protocol(format!(
                "HTTP {status} without a VISS answer: {}",
                truncate(&text)
            )));
        }
        Ok(text)
    }

    /// POSTs a JSON `body` to the URL's own path (an AGTS or ATS dialogue, [`super::access`])
    /// and returns the status and body, whatever the status.
    pub(super) async fn post_json(&self, body: &str) -> Result<(StatusCode, String), ClientError> {
        self.send(|| self.json_request(body), false).await
    }

    /// Sends the request `build` makes, in turn, bounded by the timeout; `idempotent` says
    /// whether it may go again when its answer was cut off.
    async fn send(
        &self,
        build: impl Fn() -> Result<Request<Full<Bytes>>, ClientError>,
        idempotent: bool,
    ) -> Result<(StatusCode, String), ClientError> {
        if self.is_closed() {
            return Err(ClientError::Closed);
        }
        let _turn = self
            .turns
            .try_acquire()
            .map_err(|_| ClientError::TooManyPending)?;
        // One deadline for waiting for the turn and for the exchange itself.
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut connection = tokio::time::timeout_at(deadline, self.connection.lock())
            .await
            .map_err(|_| ClientError::Timeout)?;
        let exchange = self.send_in_turn(&mut connection, &build, idempotent);
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(result) => result,
            Err(_) => {
                // The answer may still come on this connection: it cannot carry another.
                connection.take();
                Err(ClientError::Timeout)
            }
        }
    }

    async fn send_in_turn(
        &self,
        connection: &mut Option<SendRequest<Full<Bytes>>>,
        build: &impl Fn() -> Result<Request<Full<Bytes>>, ClientError>,
        idempotent: bool,
    ) -> Result<(StatusCode, String), ClientError> {
        for attempt in 0..=1 {
            // A call that waited for its turn while the client was closed opens nothing.
            if self.is_closed() {
                return Err(ClientError::Closed);
            }
            let reusable = match connection.as_mut() {
                Some(sender) => sender.ready().await.is_ok(),
                None => false,
            };
            if !reusable {
                *connection = Some(self.open().await?);
            }
            let Some(sender) = connection.as_mut() else {
                break;
            };
            match sender.send_request(build()?).await {
                Ok(response) => return read_body(response).await,
                Err(error) => {
                    connection.take();
                    // The server dropped an idle connection as the request went out: a
                    // request never written goes again on a new one; one written whose
                    // answer did not come goes again only if it is idempotent (a get; a
                    // set may have landed).
                    let unsent = error.is_canceled() || error.is_closed();
                    let again = idempotent && error.is_incomplete_message();
                    if attempt == 1 || !(unsent || again) {
                        return Err(ClientError::ConnectionLost);
                    }
                }
            }
        }
        Err(ClientError::ConnectionLost)
    }

    fn request(&self, call: &HttpCall<'_>) -> Result<Request<Full<Bytes>>, ClientError> {
        let target = target(&self.base, call.path, call.filter);
        let (method, body) = match call.value {
            None => (Method::GET, Bytes::new()),
            Some(value) => (Method::POST, Bytes::from(format!("{{\"value\":{value}}}"))),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(target)
            .header(header::HOST, self.host_header())
            .header(header::ACCEPT, "application/json");
        if call.value.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(token) = call.authorization {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request
            .body(Full::new(body))
            .map_err(|error| ClientError::Protocol(format!("{}: {error}", call.path)))
    }

    fn json_request(&self, body: &str) -> Result<Request<Full<Bytes>>, ClientError> {
        let target = if self.base.is_empty() {
            "/"
        } else {
            &self.base
        };
        Request::builder()
            .method(Method::POST)
            .uri(target)
            .header(header::HOST, self.host_header())
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|error| ClientError::Protocol(format!("{target}: {error}")))
    }

    fn host_header(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let address = (self.host.as_str(), self.port);
        let dial = async {
            let tcp = tokio::net::TcpStream::connect(address)
                .await
                .map_err(|error| self.connect_error(&error))?;
            let _ = tcp.set_nodelay(true);
            match &self.tls {
                Some(tls) => {
                    let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                        .map_err(|error| self.connect_error(&error))?;
                    let stream = tls
                        .connect(name, tcp)
                        .await
                        .map_err(|error| self.connect_error(&error))?;
                    handshake(stream).await
                }
                None => handshake(tcp).await,
            }
        };
        match tokio::time::timeout(self.timeout, dial).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Connect(format!(
                "no connection to {}:{} within {:?}",
                self.host, self.port, self.timeout
            ))),
        }
    }

    fn connect_error(&self, error: &dyn std::fmt::Display) -> ClientError {
        ClientError::Connect(format!("{}:{}: {error}", self.host, self.port))
    }
}

/// The request target of a call: the path slash-delimited (the conventional delimiter in
/// URLs; the server takes dots too), each segment and the filter percent-encoded.
fn target(base: &str, path: &str, filter: Option<&str>) -> String {
    let mut target = base.to_owned();
    for segment in path.split(['.', '/']) {
        target.push('/');
        target.extend(utf8_percent_encode(segment, COMPONENT));
    }
    if let Some(filter) = filter {
        target.push_str("?filter=");
        target.extend(utf8_percent_encode(filter, COMPONENT));
    }
    target
}

/// HTTP/1.1 on an open stream; the connection is driven by a task of its own, which ends
/// when the connection closes.
async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| ClientError::Connect(error.to_string()))?;
    tokio::spawn(async move {
        // A connection closed by either side is not an error anybody waits for: the
        // next call opens a new one.
        let _ = connection.await;
    });
    Ok(sender)
}

/// The status and body of an answer, the body bounded by [`MAX_ANSWER`].
async fn read_body(
    response: hyper::Response<hyper::body::Incoming>,
) -> Result<(StatusCode, String), ClientError> {
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|error| ClientError::Protocol(format!("reading the answer: {error}")))?
        .to_bytes();
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ClientError::Protocol("the answer is not UTF-8".to_owned()))?;
    Ok((status, text))
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn paths_and_filters_are_percent_encoded_into_the_target() {
        assert_eq!(target("", "Vehicle.Speed", None), "/Vehicle/Speed");
        assert_eq!(
            target("/viss", "Vehicle/Cabin/*", None),
            "/viss/Vehicle/Cabin/%2A"
        );
        assert_eq!(
            target(
                "",
                "Vehicle.Speed",
                Some(r#"{"variant":"history","parameter":"PT1M"}"#)
            ),
            "/Vehicle/Speed?filter=%7B%22variant%22%3A%22history%22%2C%22parameter%22%3A%22PT1M%22%7D"
        );
        // A segment cannot smuggle a query or another segment in.
        assert_eq!(target("", "Vehicle.a?b#c", None), "/Vehicle/a%3Fb%23c");
    }
}
