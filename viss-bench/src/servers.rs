//! The servers measured, all on the bench's server runtime (same threads, same placement):
//! a raw TCP echo, a plain WebSocket echo (over TCP or TLS) and the VISS server itself; and,
//! with threads of its own, the bare WebSocket echo (`viss-bench echo --bare`).

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

async fn echo_messages<S>(stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, first_subprotocol).await
    else {
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

/// The handshake's answer: the first sub-protocol offered is accepted (none offered: none
/// answered, as a VISSv2-era client expects).
// The callback's error type is tungstenite's (a full HTTP response), not ours.
#[allow(clippy::result_large_err)]
fn first_subprotocol(
    request: &tokio_tungstenite::tungstenite::handshake::server::Request,
    mut response: tokio_tungstenite::tungstenite::handshake::server::Response,
) -> Result<
    tokio_tungstenite::tungstenite::handshake::server::Response,
    tokio_tungstenite::tungstenite::handshake::server::ErrorResponse,
> {
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
}

/// The most a connection may have buffered of a frame not yet whole: a bigger frame ends
/// it (the loads send frames of a few hundred bytes, 16 at a time at most).
const BARE_BUFFER: usize = 16 * 1024;
/// Connections served at once by the bare echo (a thread each); more are refused.
const BARE_CONNECTIONS: usize = 4_096;

/// The bare WebSocket echo on 127.0.0.1:`port`, until the process ends: the least a server
/// can do per request on this socket path, as the floor the servers' CPU per request is set
/// against. A thread per connection blocks in `read` and answers with one `write`: two
/// syscalls per request (no `epoll_wait`), no runtime, no allocation per request, frames
/// echoed by a loop of a few lines. The handshake is tungstenite's; the frames are not, on purpose: a
/// WebSocket crate's own work per message is part of what this floor leaves out.
pub fn bare_ws_echo_on(port: u16) -> Result<std::convert::Infallible, BenchError> {
    use std::sync::Mutex;
    use std::sync::mpsc::{TrySendError, sync_channel};
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    // A line a script or test can wait for (port 0: the OS chose it).
    println!("WebSocket: ws://{}", listener.local_addr()?);
    // A thread whose connection closed waits for the next one instead of ending: the bench
    // counts the CPU time of live threads only (`stats::cpu_ns_of`). A connection goes to
    // a waiting thread if there is one (the channel holds none), else to a new thread.
    let (handoff, waiting) = sync_channel::<std::net::TcpStream>(0);
    let waiting = Arc::new(Mutex::new(waiting));
    let mut threads = 0;
    loop {
        let (stream, _) = listener.accept()?;
        let stream = match handoff.try_send(stream) {
            Ok(()) => continue,
            Err(TrySendError::Full(stream) | TrySendError::Disconnected(stream)) => stream,
        };
        if threads == BARE_CONNECTIONS {
            continue; // refused: dropped, so closed
        }
        let waiting = Arc::clone(&waiting);
        let spawned = std::thread::Builder::new()
            .stack_size(BARE_BUFFER * 2 + 64 * 1024)
            .spawn(move || {
                let mut next = Ok(stream);
                while let Ok(stream) = next {
                    let _ = stream.set_nodelay(true);
                    echo_bare_frames(stream);
                    next = match waiting.lock() {
                        Ok(waiting) => waiting.recv(),
                        Err(_) => return,
                    };
                }
            });
        match spawned {
            Ok(_) => threads += 1,
            Err(_) => eprintln!("bare echo: no thread for a connection; it is closed"),
        }
    }
}

fn echo_bare_frames(stream: std::net::TcpStream) {
    use std::io::{Read, Write};
    let Ok(mut socket) = tokio_tungstenite::tungstenite::accept_hdr(stream, first_subprotocol)
    else {
        return;
    };
    // The client sends its first frame after the handshake's answer, so tungstenite holds
    // none of it: the stream is read directly from here on.
    let stream = socket.get_mut();
    let mut input = [0u8; BARE_BUFFER];
    let mut output = [0u8; BARE_BUFFER];
    let mut held = 0;
    loop {
        let read = match stream.read(&mut input[held..]) {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        held += read;
        let Some((taken, written)) = answer_bare_frames(&input[..held], &mut output) else {
            return;
        };
        if written > 0 && stream.write_all(&output[..written]).is_err() {
            return;
        }
        input.copy_within(taken..held, 0);
        held -= taken;
        if held == input.len() {
            return;
        }
    }
}

/// The bare echo's frames on tokio (`viss-bench echo --bare tokio`): the same loop, its
/// reads waiting on the runtime's readiness (`epoll_wait`) instead of blocking a thread.
pub async fn bare_ws_echo_on_tokio(port: u16) -> Result<SocketAddr, BenchError> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(echo_bare_frames_on_tokio(stream));
        }
    });
    Ok(address)
}

async fn echo_bare_frames_on_tokio(stream: TcpStream) {
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, first_subprotocol).await
    else {
        return;
    };
    // As in `echo_bare_frames`: tungstenite holds no frame after the handshake.
    let stream = socket.get_mut();
    let (mut input, mut output) = (vec![0u8; BARE_BUFFER], vec![0u8; BARE_BUFFER]);
    let mut held = 0;
    loop {
        let read = match stream.read(&mut input[held..]).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        held += read;
        let Some((taken, written)) = answer_bare_frames(&input[..held], &mut output) else {
            return;
        };
        if written > 0 && stream.write_all(&output[..written]).await.is_err() {
            return;
        }
        input.copy_within(taken..held, 0);
        held -= taken;
        if held == input.len() {
            return;
        }
    }
}

/// Answers the whole frames at the start of `input` into `output` (data frames echoed, a
/// ping answered): how many bytes of `input` it took and of `output` it wrote. `None` ends
/// the connection: a close, or a frame no client may send.
fn answer_bare_frames(input: &[u8], output: &mut [u8]) -> Option<(usize, usize)> {
    let (mut taken, mut written) = (0, 0);
    while let Some(frame) = bare_frame(&input[taken..]) {
        let frame = frame?;
        let payload = &input[taken + frame.header..taken + frame.length];
        let (fin, opcode) = (input[taken] & 0x80, input[taken] & 0x0f);
        let reply = match opcode {
            0x0..=0x2 => input[taken],
            0x8 => return None,
            0x9 => fin | 0xa,
            _ => {
                taken += frame.length;
                continue;
            }
        };
        // Unmasked, the answer is at most the frame's size: it always fits.
        let out = output.get_mut(written..written + frame.length)?;
        let header = bare_header(reply, payload.len(), out);
        for (index, (byte, to)) in payload.iter().zip(&mut out[header..]).enumerate() {
            *to = byte ^ frame.mask[index % 4];
        }
        written += header + payload.len();
        taken += frame.length;
    }
    Some((taken, written))
}

/// One client frame's layout.
struct BareFrame {
    /// Header bytes, mask included.
    header: usize,
    /// Header and payload.
    length: usize,
    mask: [u8; 4],
}

/// The frame at the start of `bytes`: `None` while it is not whole, `Some(None)` for one
/// no client may send (unmasked, or longer than the buffer).
fn bare_frame(bytes: &[u8]) -> Option<Option<BareFrame>> {
    let (&second, rest) = bytes.get(1..)?.split_first()?;
    if second & 0x80 == 0 {
        return Some(None);
    }
    let (payload, extended) = match second & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?)),
            2,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(rest.get(..8)?.try_into().ok()?))
                .unwrap_or(usize::MAX),
            8,
        ),
        short => (usize::from(short), 0),
    };
    let mask: [u8; 4] = rest.get(extended..extended + 4)?.try_into().ok()?;
    let header = 2 + extended + 4;
    let Some(length) = header
        .checked_add(payload)
        .filter(|&length| length <= BARE_BUFFER)
    else {
        return Some(None);
    };
    (bytes.len() >= length).then_some(Some(BareFrame {
        header,
        length,
        mask,
    }))
}

/// Writes a server frame's header (unmasked) into `out`; returns its length.
fn bare_header(first: u8, payload: usize, out: &mut [u8]) -> usize {
    out[0] = first;
    match u8::try_from(payload) {
        Ok(short) if short < 126 => {
            out[1] = short;
            2
        }
        // A payload fits the buffer, so 16 bits hold its length.
        _ => {
            out[1] = 126;
            let length = u16::try_from(payload).unwrap_or(u16::MAX);
            out[2..4].copy_from_slice(&length.to_be_bytes());
            4
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame of `payload` bytes (text).
    fn client_frame(payload: usize) -> Vec<u8> {
        let mut frame = vec![0x81];
        match u8::try_from(payload) {
            Ok(short) if short < 126 => frame.push(0x80 | short),
            _ => {
                frame.push(0x80 | 126);
                frame.extend(u16::try_from(payload).unwrap().to_be_bytes());
            }
        }
        frame.extend([1, 2, 3, 4]);
        frame.extend(std::iter::repeat_n(b'a' ^ 1, payload));
        frame
    }

    #[test]
    fn a_frame_is_taken_only_when_whole_and_masked() {
        for payload in [0, 5, 125, 126, 300] {
            let frame = client_frame(payload);
            let layout = bare_frame(&frame).expect("whole").expect("valid");
            assert_eq!(layout.length, frame.len(), "{payload}");
            assert_eq!(layout.mask, [1, 2, 3, 4]);
            assert!(bare_frame(&frame[..frame.len() - 1]).is_none(), "{payload}");
        }
        let mut unmasked = client_frame(5);
        unmasked[1] &= 0x7f;
        assert!(matches!(bare_frame(&unmasked), Some(None)));
        let mut huge = vec![0x81, 0x80 | 127];
        huge.extend(u64::MAX.to_be_bytes());
        huge.extend([0; 4]);
        assert!(matches!(bare_frame(&huge), Some(None)));
    }

    #[test]
    fn an_answer_header_is_as_short_as_its_length_allows() {
        let mut out = [0u8; 4];
        assert_eq!(bare_header(0x81, 125, &mut out), 2);
        assert_eq!(out[..2], [0x81, 125]);
        assert_eq!(bare_header(0x81, 300, &mut out), 4);
        assert_eq!(out, [0x81, 126, 1, 44]);
    }
}
