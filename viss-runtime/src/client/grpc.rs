//! The client over gRPC (TRANSPORT §5.4; feature `client-grpc`): the `VISS` service of
//! `schemas/viss_v3_0.proto` at `grpcs://host:5443` (TLS, HTTP/2 by ALPN) or `grpc://`
//! (a server run `--insecure`).
//!
//! The client builds the same JSON requests as over WebSocket and reads the same JSON
//! answers: each request is translated to its protobuf message and each answer back by
//! [`crate::codec::protobuf`], the codec the server's gRPC transport uses, so the typed
//! calls, their checks and their errors are the same on every transport. Gets and sets are
//! unary calls multiplexed on one HTTP/2 connection (tonic's channel, which reconnects by
//! itself); a subscription is a server stream whose first message answers the subscribe
//! and whose further messages are its events; dropping the stream ends the subscription on
//! the server. A subscription does not survive a lost connection: it ends with
//! [`ClientError::ConnectionLost`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::http::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tonic::codegen::Service;
use tonic::transport::{Channel, Endpoint};

use super::ClientError;
use crate::codec::protobuf::proto::viss_client::VissClient;
use crate::codec::protobuf::{Request, Response};
use crate::error::with_causes;

/// The largest message read: a whole tree's metadata is well below (tonic's default is
/// 4 MiB).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// The gRPC channel a [`Client`](super::Client) shares.
pub(super) struct GrpcLink {
    client: VissClient<Channel>,
    timeout: Duration,
    closed: AtomicBool,
    /// Events dropped because a subscriber read too slowly.
    pub(super) dropped: Arc<AtomicU64>,
    /// Calls waiting for an answer at most; more fail with [`ClientError::TooManyPending`].
    pending: tokio::sync::Semaphore,
    /// The subscriptions' stream tasks, aborted by `close`.
    streams: parking_lot::Mutex<Vec<tokio::task::AbortHandle>>,
}

impl GrpcLink {
    /// Connects to `url` (`grpcs://host:port`, or `grpc://` without TLS) so that a wrong
    /// address fails here, as a WebSocket's does.
    pub(super) async fn connect(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        timeout: Duration,
        max_pending: usize,
    ) -> Result<Self, ClientError> {
        let (_, rest) = url
            .split_once("://")
            .ok_or_else(|| ClientError::Connect(format!("{url}: no scheme")))?;
        let authority = rest.split('/').next().unwrap_or(rest);
        let connect_error = |error: &dyn std::error::Error| {
            ClientError::Connect(format!("{url}: {}", with_causes(error)))
        };
        // `http://` even with TLS: the connector below does TLS, and tonic refuses an
        // `https://` endpoint without a TLS configuration of its own whenever any crate of
        // the application enables one of tonic's TLS features.
        let endpoint = Endpoint::from_shared(format!("http://{authority}"))
            .map_err(|error| connect_error(&error))?
            .connect_timeout(timeout)
            .tcp_nodelay(true);
        let channel = match tls {
            Some(config) => {
                let uri: Uri = format!("https://{authority}")
                    .parse()
                    .map_err(|error| connect_error(&error))?;
                let host = uri.host().unwrap_or_default();
                let connector = TlsConnector {
                    host: host
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_owned(),
                    port: uri.port_u16().unwrap_or(443),
                    tls: tokio_rustls::TlsConnector::from(h2_only(config)),
                };
                endpoint.connect_with_connector(connector).await
            }
            None => endpoint.connect().await,
        }
        .map_err(|error| connect_error(&error))?;
        Ok(Self {
            client: VissClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
            timeout,
            closed: AtomicBool::new(false),
            dropped: Arc::default(),
            pending: tokio::sync::Semaphore::new(max_pending.max(1)),
            streams: parking_lot::Mutex::default(),
        })
    }

    /// Calls after this fail with [`ClientError::Closed`]; open subscriptions end (their
    /// streams dropped, which ends them on the server).
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        for stream in self.streams.lock().drain(..) {
            stream.abort();
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// A get or set (its JSON request text) and its JSON answer (a VISS error too).
    pub(super) async fn call(&self, request: &str) -> Result<String, ClientError> {
        if self.is_closed() {
            return Err(ClientError::Closed);
        }
        let _pending = self.turn()?;
        let mut client = self.client.clone();
        let exchange = async move {
            let answer = match encode(request)? {
                Request::Get(message) => {
                    Response::Get(client.get_request(message).await?.into_inner())
                }
                Request::Set(message) => {
                    Response::Set(client.set_request(message).await?.into_inner())
                }
                Request::Unsubscribe(message) => {
                    Response::Unsubscribe(client.unsubscribe_request(message).await?.into_inner())
                }
                Request::Subscribe(_) => {
                    return Err(ClientError::Unsupported(
                        "a subscription over gRPC is a stream: use subscribe".to_owned(),
                    ));
                }
            };
            Ok(answer.to_json().to_string())
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| ClientError::Timeout)?
    }

    /// Opens a subscription (its JSON request text): waits for the subscribe answer, then
    /// forwards every event's JSON text to `events` from a task of its own, which the
    /// returned handle aborts (ending the stream, and so the subscription, on the server).
    pub(super) async fn subscribe(
        &self,
        request: &str,
        events: mpsc::Sender<Result<String, ClientError>>,
    ) -> Result<tokio::task::AbortHandle, ClientError> {
        if self.is_closed() {
            return Err(ClientError::Closed);
        }
        let _pending = self.turn()?;
        let Request::Subscribe(message) = encode(request)? else {
            return Err(ClientError::Protocol("not a subscribe request".to_owned()));
        };
        let mut client = self.client.clone();
        let opened = async move {
            let mut stream = client.subscribe_request(message).await?.into_inner();
            let first = stream.message().await?.ok_or(ClientError::ConnectionLost)?;
            Ok::<_, ClientError>((stream, Response::Subscribe(first).to_json().to_string()))
        };
        let (mut stream, answer) = tokio::time::timeout(self.timeout, opened)
            .await
            .map_err(|_| ClientError::Timeout)??;
        super::ok_or_error(answer)?;
        let dropped = Arc::clone(&self.dropped);
        let task = tokio::spawn(async move {
            loop {
                let event = match stream.message().await {
                    Ok(Some(message)) => {
                        let text = Response::Subscribe(message).to_json().to_string();
                        // An error event (an expired token) ends the subscription.
                        super::ok_or_error(text)
                    }
                    Ok(None) => return,
                    Err(status) => Err(ClientError::from(status)),
                };
                if event.is_err() {
                    // The last word is never dropped: wait for room.
                    let _ = events.send(event).await;
                    return;
                }
                match events.try_send(event) {
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(()) => {}
                }
            }
        });
        let handle = task.abort_handle();
        let mut streams = self.streams.lock();
        streams.retain(|stream| !stream.is_finished());
        streams.push(handle.clone());
        Ok(handle)
    }
}

impl GrpcLink {
    fn turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ClientError> {
        self.pending
            .try_acquire()
            .map_err(|_| ClientError::TooManyPending)
    }
}

/// The protobuf message of a JSON request.
fn encode(request: &str) -> Result<Request, ClientError> {
    let json: serde_json::Value = serde_json::from_str(request)
        .map_err(|error| ClientError::Protocol(format!("a request is a JSON object: {error}")))?;
    Request::from_json(&json).map_err(|error| ClientError::Protocol(error.to_string()))
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        match status.code() {
            // A connection that broke under a call or stream comes as any of these (h2 and
            // body errors are Unknown or Internal, a reset stream Cancelled).
            tonic::Code::Unavailable
            | tonic::Code::Unknown
            | tonic::Code::Internal
            | tonic::Code::Cancelled => Self::ConnectionLost,
            tonic::Code::DeadlineExceeded => Self::Timeout,
            // The server's cap on subscription streams.
            tonic::Code::ResourceExhausted => Self::TooManyPending,
            code => Self::Protocol(format!("gRPC {code:?}: {}", status.message())),
        }
    }
}

/// The configuration for gRPC: HTTP/2 only.
fn h2_only(config: Arc<rustls::ClientConfig>) -> Arc<rustls::ClientConfig> {
    let mut config = Arc::unwrap_or_clone(config);
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// TCP and TLS to the one server, for tonic's channel (its own TLS needs a TLS stack of its
/// choosing; this one is the client's rustls configuration, CA and all).
#[derive(Clone)]
struct TlsConnector {
    host: String,
    port: u16,
    tls: tokio_rustls::TlsConnector,
}

type TlsIo = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;

impl Service<Uri> for TlsConnector {
    type Response = TlsIo;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<TlsIo, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let connector = self.clone();
        Box::pin(async move {
            let tcp = TcpStream::connect((connector.host.as_str(), connector.port)).await?;
            let _ = tcp.set_nodelay(true);
            let name = rustls::pki_types::ServerName::try_from(connector.host.clone())
                .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
            Ok(TokioIo::new(connector.tls.connect(name, tcp).await?))
        })
    }
}
