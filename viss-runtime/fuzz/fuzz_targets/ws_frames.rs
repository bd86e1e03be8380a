//! Arbitrary bytes as what a WebSocket client sends after the handshake, read as the
//! server reads them: in pieces (the first byte sets the piece size), frames taken as soon
//! as they are whole. No panic, no message over the size limit, a text message always
//! UTF-8, and after a violation nothing more is read (the connection is closed with its
//! code, which must be one a server may send).
#![no_main]

use libfuzzer_sys::fuzz_target;
use viss_runtime::server::ws::frames::{FrameReader, Incoming};

const LIMIT: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&piece, bytes)) = data.split_first() else {
        return;
    };
    let mut reader = FrameReader::new(LIMIT);
    for chunk in bytes.chunks(usize::from(piece).max(1)) {
        reader.room().extend_from_slice(chunk);
        loop {
            match reader.next_message() {
                Ok(Some(Incoming::Text(text))) => assert!(text.len() <= LIMIT),
                Ok(Some(Incoming::Binary(payload))) => assert!(payload.len() <= LIMIT),
                Ok(Some(Incoming::Ping(payload))) => assert!(payload.len() <= 125),
                Ok(Some(Incoming::Pong | Incoming::Close(_))) => {}
                Ok(None) => break,
                Err(violation) => {
                    assert!(matches!(violation.close_code(), 1002 | 1007 | 1009));
                    return;
                }
            }
        }
    }
});
