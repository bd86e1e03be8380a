//! Arbitrary bytes as a VISS request: the engine must never panic, must always answer with
//! valid JSON, and every event it queues must be valid JSON too. The first byte picks the
//! session's version (VISSv3 or VISSv2), so both dialects' parsers and writers are fuzzed,
//! `dc` and struct values included.
#![no_main]

#[path = "../harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let harness = harness::harness();
    let engine = &harness.engine;
    let version = if data.first().is_some_and(|byte| byte % 2 == 1) {
        viss_runtime::protocol::Version::V2
    } else {
        viss_runtime::protocol::Version::V3
    };
    let mut session = engine.open_session_for(version);
    let mut out = Vec::new();
    engine.handle(&mut session, data, &mut out);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&out).is_ok(),
        "response is not JSON: {out:?}"
    );
    // Exercise whatever subscription the input created.
    harness::stir(harness, data.first().copied().unwrap_or(0));
    engine.handle(&mut session, data, &mut out);
    let mut event = Vec::new();
    while session.next_event(&mut event) {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&event).is_ok(),
            "event is not JSON: {event:?}"
        );
    }
    engine.close_session(&mut session);
});
