//! The typed front end: attributes and AST (parse), then semantic checks.

pub mod ast;
pub mod attr;
pub mod check;
pub mod ctxt;
pub mod json;
pub mod symbol;

pub use ctxt::Ctxt;
