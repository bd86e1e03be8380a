//! viss-server is linked in code order: the workspace's `.cargo/config.toml` links it through
//! `viss-server/link/cc-ordered` with `viss-server/link/code-order.txt`, so the functions that
//! run when it starts and serves sit together and fewer pages of its code stay resident, and
//! with its relative relocations packed, which otherwise stay resident after the start; and
//! it does not load libm (viss-runtime's `server` feature defines `pow` and `log`).

#[test]
fn viss_server_was_linked_in_code_order() {
    test_support::assert_linked_in_code_order(std::path::Path::new(env!(
        "CARGO_BIN_EXE_viss-server"
    )));
}

#[test]
fn viss_server_has_its_relative_relocations_packed() {
    test_support::assert_relocations_packed(std::path::Path::new(env!(
        "CARGO_BIN_EXE_viss-server"
    )));
}

#[test]
fn viss_server_does_not_load_libm() {
    test_support::assert_libm_not_loaded(std::path::Path::new(env!("CARGO_BIN_EXE_viss-server")));
}
