//! trybuild: every misuse fails with a clear, well-placed error (`tests/ui/*.stderr`), and
//! valid trees compile without warnings (`tests/pass`). The toolchain is pinned, so the
//! `.stderr` files are stable; regenerate with `TRYBUILD=overwrite` and review them.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/pass/*.rs");
}
