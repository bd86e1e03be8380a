//! The typed front end: attributes and AST (parse), then semantic checks; `variants` is
//! the same for `#[derive(VissEnum)]`.

pub mod ast;
pub mod attr;
pub mod check;
pub mod ctxt;
pub mod json;
pub mod symbol;
pub mod variants;

pub use ctxt::Ctxt;
