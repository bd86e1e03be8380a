//! The WebSocket idle timeout over a real socket (plain ws on 127.0.0.1, 1 s timeout): a
//! connection that sends nothing is closed with a close frame and a reason; one holding a
//! subscription, and one sending requests, are kept.
#![cfg(feature = "ws")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use support::ws::{LIMIT, Socket, connect, start_server};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Long enough that a client held up on a loaded machine is not taken for an idle one.
const IDLE: Duration = Duration::from_millis(1_000);
/// Longer than the idle timeout by a wide margin: what "kept" has to survive.
const HOLD: Duration = Duration::from_millis(3_000);

const GET: &str = r#"{"action":"get","path":"Vehicle.Speed","requestId":"g"}"#;

/// The next text message, failing on close or after [`LIMIT`].
async fn next_text(socket: &mut Socket) -> String {
    for _ in 0..16 {
        match tokio::time::timeout(LIMIT, socket.next()).await.unwrap() {
            Some(Ok(Message::Text(text))) => return text.as_str().to_owned(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
    panic!("no text message among 16 frames");
}

async fn request(socket: &mut Socket, text: &str) -> String {
    socket.send(Message::text(text)).await.unwrap();
    next_text(socket).await
}

/// Asserts that nothing (in particular no close frame) arrives for `duration`.
async fn assert_kept(socket: &mut Socket, duration: Duration) {
    if let Ok(frame) = tokio::time::timeout(duration, socket.next()).await {
        panic!("the connection should have been kept, got {frame:?}");
    }
}

/// Waits for the server's close frame; returns it and when it came.
async fn expect_close(socket: &mut Socket, since: Instant) -> (CloseCode, String, Duration) {
    for _ in 0..16 {
        match tokio::time::timeout(LIMIT, socket.next()).await.unwrap() {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (
                    frame.code,
                    frame.reason.as_str().to_owned(),
                    since.elapsed(),
                );
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame with a reason, got {other:?}"),
        }
    }
    panic!("no close frame among 16 frames");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_subscribed_and_active_ones_kept() {
    let listening = start_server(|limits| limits.idle_timeout_ms = IDLE.as_millis() as u64).await;
    let address = listening.ws.unwrap();

    let idle = async {
        let started = Instant::now();
        let mut socket = connect(address).await;
        let (code, reason, after) = expect_close(&mut socket, started).await;
        assert_eq!(code, CloseCode::Normal);
        assert_eq!(reason, "idle timeout");
        assert!(
            after >= IDLE - Duration::from_millis(20),
            "closed after {after:?}"
        );
        let _ = socket.close(None).await;
    };

    let subscribed = async {
        let mut socket = connect(address).await;
        let answer = request(
            &mut socket,
            r#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}},"requestId":"s"}"#,
        )
        .await;
        assert!(answer.contains("subscriptionId"), "{answer}");
        // Silent for three idle timeouts, but waiting for events: kept.
        assert_kept(&mut socket, HOLD).await;
        assert!(request(&mut socket, GET).await.contains("\"g\""));
        // Without its subscription the same connection becomes idle and is closed.
        let id = answer
            .split("\"subscriptionId\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let unsubscribe =
            format!(r#"{{"action":"unsubscribe","subscriptionId":"{id}","requestId":"u"}}"#);
        assert!(request(&mut socket, &unsubscribe).await.contains("\"u\""));
        let (code, reason, _) = expect_close(&mut socket, Instant::now()).await;
        assert_eq!((code, reason.as_str()), (CloseCode::Normal, "idle timeout"));
    };

    let active = async {
        let mut socket = connect(address).await;
        let started = Instant::now();
        let mut answered = 0;
        // One request every 100 ms (a tenth of the timeout) for three timeouts.
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(request(&mut socket, GET).await.contains("\"g\""));
            answered += 1;
        }
        assert!(started.elapsed() >= HOLD);
        assert_eq!(answered, 30);
    };

    tokio::time::timeout(LIMIT * 2, async { tokio::join!(idle, subscribed, active) })
        .await
        .unwrap();
    listening.shutdown().await;
}
