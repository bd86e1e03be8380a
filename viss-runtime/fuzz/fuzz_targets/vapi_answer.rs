//! Arbitrary bytes as what the Rust SDK's VAPI reads from a server: an answer or event
//! (its data containers) and a metadata answer (the seats discovered from it). It must
//! never panic, and what it makes of them must hold: movements with `min < max`,
//! positions within 0..100 %, values sent as JSON strings, massage levels in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use viss_runtime::client::vapi::read_server_bytes;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(broken) = read_server_bytes(text) {
        panic!("{broken}");
    }
});
