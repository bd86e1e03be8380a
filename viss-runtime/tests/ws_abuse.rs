//! Bad and heavy traffic over a real socket (plain ws on 127.0.0.1): an oversized frame is
//! refused from its header, before its payload is sent, with close code 1009; half-open
//! connections are closed after the handshake timeout; a well-behaved client is served
//! throughout; connections over the open-connection cap are closed at once; a pipelined
//! burst larger than one batch is answered in full; fragments, pings, closes and broken
//! frames are handled as RFC 6455 says.
#![cfg(feature = "ws")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use support::ws::{LIMIT, connect, start_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Short, so the half-open test is quick, yet long enough for a bystander to shake hands on
/// a loaded machine.
const HANDSHAKE: Duration = Duration::from_millis(1_000);

/// A get over a fresh tokio-tungstenite connection is answered.
async fn bystander_is_served(address: SocketAddr) {
    let mut socket = connect(address).await;
    let get = r#"{"action":"get","path":"Vehicle.Speed","requestId":"b"}"#;
    socket.send(Message::text(get)).await.unwrap();
    match tokio::time::timeout(LIMIT, socket.next()).await.unwrap() {
        Some(Ok(Message::Text(text))) => assert!(text.contains("\"b\""), "{text}"),
        other => panic!("expected an answer, got {other:?}"),
    }
}

/// Reads until the peer closes (EOF or reset) and returns how long that took; fails after
/// [`LIMIT`] or 1 MiB.
async fn wait_for_close(stream: &mut TcpStream, since: Instant) -> Duration {
    let mut buffer = [0u8; 4096];
    let mut total = 0;
    loop {
        match tokio::time::timeout(LIMIT, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return since.elapsed(),
            Ok(Ok(read)) => {
                total += read;
                assert!(total < 1 << 20, "the server keeps sending");
            }
            Err(_) => panic!("the server did not close the connection"),
        }
    }
}

/// Upgrades a raw TCP stream by hand; returns it positioned after the 101 response.
async fn raw_upgrade(address: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: VISSv3\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut byte = [0u8; 1];
    while !response.ends_with(b"\r\n\r\n") {
        assert!(response.len() < 4096, "response headers too long");
        let read = tokio::time::timeout(LIMIT, stream.read(&mut byte))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, 1, "closed during the handshake");
        response.push(byte[0]);
    }
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    // RFC 6455 §1.3's example: this key's accept value.
    assert!(
        response
            .to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{response}"
    );
    stream
}

/// A client frame masked with a fixed key: FIN, opcode, payload (under 126 bytes).
fn masked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![
        if fin { 0x80 } else { 0 } | opcode,
        0x80 | payload.len() as u8,
    ];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Reads one (unmasked) server frame: its first byte and its payload.
async fn server_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    tokio::time::timeout(LIMIT, stream.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
    let length = match head[1] & 0x7f {
        126 => usize::from(stream.read_u16().await.unwrap()),
        127 => usize::try_from(stream.read_u64().await.unwrap()).unwrap(),
        short => usize::from(short),
    };
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.unwrap();
    (head[0], payload)
}

/// RFC 6455 on a real socket: a request in fragments with a ping between them is
/// answered (the pong first, its payload echoed); a client's close is echoed and the
/// server closes the TCP connection; a text frame that is not UTF-8 gets close 1007, an
/// unmasked frame 1002, and a bystander is served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_fragments_pings_and_closes_are_handled_as_rfc_6455_says() {
    let listening = start_server(|_| {}).await;
    let address = listening.ws.unwrap();
    let mut stream = raw_upgrade(address).await;
    let mut frames = masked(false, 0x1, br#"{"action":"get","#);
    frames.extend(masked(true, 0x9, b"are you there"));
    frames.extend(masked(false, 0x0, br#""path":"Vehicle.Speed","#));
    frames.extend(masked(true, 0x0, br#""requestId":"frag"}"#));
    stream.write_all(&frames).await.unwrap();
    assert_eq!(
        server_frame(&mut stream).await,
        (0x8A, b"are you there".to_vec())
    );
    let (first, answer) = server_frame(&mut stream).await;
    let answer = String::from_utf8(answer).unwrap();
    assert_eq!(first, 0x81, "{answer}");
    // The whole request was read: its action and id are echoed (Vehicle.Speed has no
    // value yet, so the answer is a 404).
    assert!(answer.contains(r#""action":"get""#), "{answer}");
    assert!(answer.contains(r#""requestId":"frag""#), "{answer}");
    let mut close = 1000u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"done");
    stream.write_all(&masked(true, 0x8, &close)).await.unwrap();
    let (first, echoed) = server_frame(&mut stream).await;
    assert_eq!((first, &echoed[..2]), (0x88, &1000u16.to_be_bytes()[..]));
    wait_for_close(&mut stream, Instant::now()).await;

    for (frame, code) in [
        (masked(true, 0x1, &[b'{', 0xC3, 0x28, b'}']), 1007u16),
        (vec![0x81, 0x02, b'{', b'}'], 1002),
        (masked(true, 0x3, b""), 1002),
    ] {
        let mut stream = raw_upgrade(address).await;
        stream.write_all(&frame).await.unwrap();
        let (first, payload) = server_frame(&mut stream).await;
        assert_eq!(first, 0x88, "expected a close frame");
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
        wait_for_close(&mut stream, Instant::now()).await;
        bystander_is_served(address).await;
    }
    listening.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_frame_is_refused_from_its_header_with_close_1009() {
    let listening =
        start_server(|limits| limits.handshake_timeout_ms = HANDSHAKE.as_millis() as u64).await;
    let address = listening.ws.unwrap();
    let mut stream = raw_upgrade(address).await;
    // A masked text frame announcing 10 MiB, followed by only 1 KiB of it.
    let mut frame = vec![0x81, 0x80 | 127];
    frame.extend_from_slice(&(10u64 << 20).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.extend(std::iter::repeat_n(b'x' ^ 1, 1024));
    stream.write_all(&frame).await.unwrap();
    // The server answers at once, without waiting for the other 10 MiB: a close frame
    // (unmasked, opcode 8) with code 1009 and a reason naming the limit.
    let mut head = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head[0], 0x88, "expected a close frame");
    let mut payload = vec![0u8; usize::from(head[1] & 0x7f)];
    stream.read_exact(&mut payload).await.unwrap();
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1009);
    let reason = String::from_utf8_lossy(&payload[2..]);
    assert!(reason.contains("65536"), "{reason}");
    wait_for_close(&mut stream, Instant::now()).await;
    bystander_is_served(address).await;
    listening.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_are_closed_after_the_handshake_timeout() {
    let listening =
        start_server(|limits| limits.handshake_timeout_ms = HANDSHAKE.as_millis() as u64).await;
    let address = listening.ws.unwrap();
    let started = Instant::now();
    // Silent after connecting; half a request; a TLS ClientHello fragment on plain ws.
    let mut silent = TcpStream::connect(address).await.unwrap();
    let mut partial = TcpStream::connect(address).await.unwrap();
    partial
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut tls_fragment = TcpStream::connect(address).await.unwrap();
    tls_fragment.write_all(b"\x16\x03\x01\x00").await.unwrap();
    bystander_is_served(address).await;
    for stream in [&mut silent, &mut partial, &mut tls_fragment] {
        let after = wait_for_close(stream, started).await;
        assert!(
            after >= HANDSHAKE - Duration::from_millis(20),
            "closed after {after:?}"
        );
    }
    bystander_is_served(address).await;
    listening.shutdown().await;
}

/// Half-open connections count against the listener's cap: over it, a new connection is
/// closed at once (not after the handshake timeout), and a freed place serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_open_cap_are_closed_at_once_even_before_their_handshake() {
    let listening = start_server(|limits| {
        limits.max_open_connections = Some(2);
        limits.handshake_timeout_ms = 60_000;
    })
    .await;
    let address = listening.ws.unwrap();
    let first = TcpStream::connect(address).await.unwrap();
    let _second = TcpStream::connect(address).await.unwrap();
    // Let the server accept both before the next one arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let mut third = TcpStream::connect(address).await.unwrap();
    let after = wait_for_close(&mut third, started).await;
    assert!(after < Duration::from_secs(2), "closed after {after:?}");
    drop(first);
    let deadline = Instant::now() + LIMIT;
    loop {
        // The server notices the dropped connection on its next read; retry until then.
        let mut probe = TcpStream::connect(address).await.unwrap();
        let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        probe.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(LIMIT, probe.read_to_end(&mut answer)).await;
        if matches!(read, Ok(Ok(_))) && answer.starts_with(b"HTTP/1.1 ") {
            break;
        }
        assert!(Instant::now() < deadline, "no place was freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    listening.shutdown().await;
}

/// More requests than one batch (64), sent without waiting: every one is answered, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_burst_is_answered_in_full() {
    const BURST: usize = 300;
    let listening =
        start_server(|limits| limits.handshake_timeout_ms = HANDSHAKE.as_millis() as u64).await;
    let address = listening.ws.unwrap();
    let mut socket = connect(address).await;
    for id in 0..BURST {
        let get = format!(r#"{{"action":"get","path":"Vehicle.Speed","requestId":"{id}"}}"#);
        socket.feed(Message::text(get)).await.unwrap();
    }
    socket.flush().await.unwrap();
    for id in 0..BURST {
        match tokio::time::timeout(LIMIT, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let expected = format!("\"requestId\":\"{id}\"");
                assert!(text.contains(&expected), "answer {id}: {text}");
            }
            other => panic!("answer {id} missing: {other:?}"),
        }
    }
    listening.shutdown().await;
}
