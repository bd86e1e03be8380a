//! Feeds arbitrary bytes to the vspec reader as the root file: it must never panic, and a
//! tree must only come back when no error was reported.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vss_model::VspecOptions;
use vss_model::vspec::load_from_str;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for expand in [true, false] {
        let options = VspecOptions {
            expand,
            strict: expand,
            ..VspecOptions::default()
        };
        let loaded = load_from_str("fuzz.vspec", text, &options);
        assert_eq!(loaded.tree.is_some(), !loaded.diagnostics.has_errors());
        let _ = loaded.diagnostics.render(&loaded.sources);
    }
});
