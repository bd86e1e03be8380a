//! The one client used against every target: a raw TCP stream (for the TCP echo floor) or
//! a WebSocket over TCP or TLS (echo floor and VISS servers alike).

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// A client WebSocket, over TCP or TLS.
pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How to reach a target.
#[derive(Clone)]
pub enum Dial {
    Tcp(SocketAddr),
    Ws(SocketAddr),
    Wss(SocketAddr, Arc<rustls::ClientConfig>),
}

impl std::fmt::Debug for Dial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(address) => write!(f, "tcp://{address}"),
            Self::Ws(address) => write!(f, "ws://{address}"),
            Self::Wss(address, _) => write!(f, "wss://{address}"),
        }
    }
}

/// One connection.
pub enum Client {
    Tcp(TcpStream, Vec<u8>),
    Ws(Box<WsStream>),
}

impl Client {
    pub async fn connect(dial: &Dial) -> Result<Client, BenchError> {
        Self::connect_offering(dial, Some("VISSv3")).await
    }

    /// A connection offering `subprotocol` in the WebSocket handshake (none: a plain
    /// binary channel such as file transfer's).
    pub async fn connect_offering(
        dial: &Dial,
        subprotocol: Option<&'static str>,
    ) -> Result<Client, BenchError> {
        let (address, connector, scheme) = match dial {
            Dial::Tcp(address) => {
                let stream = TcpStream::connect(address).await?;
                stream.set_nodelay(true)?;
                return Ok(Client::Tcp(stream, vec![0; 64 * 1024]));
            }
            Dial::Ws(address) => (address, Connector::Plain, "ws"),
            Dial::Wss(address, config) => (address, Connector::Rustls(config.clone()), "wss"),
        };
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let url = format!("{scheme}://localhost:{}/", address.port());
        let mut request = url.into_client_request()?;
        if let Some(subprotocol) = subprotocol {
            request.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static(subprotocol),
            );
        }
        let (socket, _) =
            tokio_tungstenite::client_async_tls_with_config(request, stream, None, Some(connector))
                .await?;
        Ok(Client::Ws(Box::new(socket)))
    }

    /// Sends `payload` (not flushed for WebSockets until [`Client::flush`]).
    pub async fn feed(&mut self, payload: &str) -> Result<(), BenchError> {
        match self {
            Client::Tcp(stream, _) => stream.write_all(payload.as_bytes()).await?,
            Client::Ws(socket) => socket.feed(Message::text(payload)).await?,
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> Result<(), BenchError> {
        if let Client::Ws(socket) = self {
            socket.flush().await?;
        }
        Ok(())
    }

    /// Receives one message (TCP: `expected` bytes) and returns its length.
    pub async fn receive(&mut self, expected: usize) -> Result<String, BenchError> {
        match self {
            Client::Tcp(stream, buffer) => {
                let wanted = expected.min(buffer.len());
                stream.read_exact(&mut buffer[..wanted]).await?;
                Ok(String::new())
            }
            Client::Ws(socket) => loop {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
                    Some(Ok(Message::Close(_))) | None => return Err("connection closed".into()),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Err(error.into()),
                }
            },
        }
    }

    /// One binary frame, one answer (WebSocket only).
    pub async fn binary_round_trip(&mut self, payload: &[u8]) -> Result<String, BenchError> {
        match self {
            Client::Tcp(..) => Err("binary frames need a WebSocket".into()),
            Client::Ws(socket) => {
                socket.send(Message::binary(payload.to_vec())).await?;
                self.receive(0).await
            }
        }
    }

    /// One request, one answer.
    pub async fn round_trip(&mut self, payload: &str) -> Result<String, BenchError> {
        self.feed(payload).await?;
        self.flush().await?;
        self.receive(payload.len()).await
    }
}

/// A rustls client trusting exactly `cert_pem`.
pub fn tls_client(cert_pem: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, BenchError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_pem)? {
        roots.add(cert?)?;
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
