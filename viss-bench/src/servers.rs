//! The servers measured, all on the bench's server runtime (same threads, same placement):
//! a raw TCP echo, a plain WebSocket echo (over TCP or TLS) and the VISS server itself.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::client::BenchError;

/// Starts a TCP echo server on 127.0.0.1.
pub async fn tcp_echo() -> Result<SocketAddr, BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(echo_bytes(stream));
        }
    });
    Ok(address)
}

async fn echo_bytes(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(read) = stream.read(&mut buffer).await {
        if read == 0 || stream.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// Starts a WebSocket echo server on 127.0.0.1 (TLS with `tls`).
pub async fn ws_echo(tls: Option<tokio_rustls::TlsAcceptor>) -> Result<SocketAddr, BenchError> {
    ws_echo_on(0, tls).await
}

/// Starts a WebSocket echo server on 127.0.0.1:`port` (0: any free port).
pub async fn ws_echo_on(
    port: u16,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Result<SocketAddr, BenchError> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            echo_messages(stream).await;
                        }
                    }
                    None => echo_messages(stream).await,
                }
            });
        }
    });
    Ok(address)
}

// The handshake callback's error type is tungstenite's (a full HTTP response), not ours.
#[allow(clippy::result_large_err)]
async fn echo_messages<S>(stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // The first sub-protocol offered is accepted (none offered: none answered, as a
    // VISSv2-era client expects).
    let callback =
        |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
         mut response: tokio_tungstenite::tungstenite::handshake::server::Response| {
            let first = request
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|offered| offered.to_str().ok())
                .and_then(|offered| offered.split(',').next())
                .and_then(|first| {
                    tokio_tungstenite::tungstenite::http::HeaderValue::from_str(first.trim()).ok()
                });
            if let Some(first) = first {
                response
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", first);
            }
            Ok(response)
        };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    while let Some(Ok(message)) = socket.next().await {
        let reply = match message {
            Message::Text(_) | Message::Binary(_) => message,
            Message::Close(_) => return,
            _ => continue,
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}

/// A rustls acceptor from PEM files (the same certificate the VISS server uses).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, BenchError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let chain = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
