//! Arbitrary bytes as a server's answer or event read by the typed client
//! (`viss_runtime::client::decode_answer`, what every typed get, history and event goes
//! through): it must never panic, and a value it hands out must be one the node can hold
//! (a decoded `uint8` within its `max`, a decoded `boolean`, ...). The first byte picks the
//! node, so scalar, enum, array and struct parsing are all reached.
#![no_main]

#[path = "../harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;
use viss_runtime::VissTree as _;
use viss_runtime::client::decode_answer;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let tree = harness::harness().engine.tree();
    let node_of = |path: &str| tree.lookup(path).map(|id| tree.node(id));
    match selector % 5 {
        0 => {
            if let Some(node) = node_of("Vehicle.Speed") {
                let _ = decode_answer::<f32>(text, node);
            }
        }
        1 => {
            if let Some(node) = node_of("Vehicle.Level") {
                if let Ok(points) = decode_answer::<u8>(text, node) {
                    assert!(points.iter().all(|point| point.value <= 100), "{points:?}");
                }
            }
        }
        2 => {
            if let Some(node) = node_of("Vehicle.Flag") {
                let _ = decode_answer::<bool>(text, node);
            }
        }
        3 => {
            if let Some(node) = node_of("Vehicle.Colors") {
                let _ = decode_answer::<Vec<String>>(text, node);
            }
        }
        _ => {
            if let Some(node) = node_of("Vehicle.Mode") {
                if let Ok(points) = decode_answer::<String>(text, node) {
                    assert!(
                        points.iter().all(|point| point.value == "a" || point.value == "b"),
                        "{points:?}"
                    );
                }
            }
        }
    }
});
