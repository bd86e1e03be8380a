//! Every attribute keyword, as a constant (serde's `symbol.rs`).

use std::fmt;

use syn::{Ident, Path};

/// An attribute keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol(&'static str);

impl Symbol {
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

/// The attribute itself: `#[viss(...)]`.
pub const VISS: Symbol = Symbol("viss");

// Container keys.
pub const ROOT: Symbol = Symbol("root");
/// `struct_types = PATH`: the root's table of struct types (`[viss_runtime::StructType]`).
pub const STRUCT_TYPES: Symbol = Symbol("struct_types");

// Keys of fields (and, for the metadata keys, of the root container).
pub const NAME: Symbol = Symbol("name");
pub const DESCRIPTION: Symbol = Symbol("description");
pub const COMMENT: Symbol = Symbol("comment");
pub const DEPRECATION: Symbol = Symbol("deprecation");
pub const UNIT: Symbol = Symbol("unit");
pub const MIN: Symbol = Symbol("min");
pub const MAX: Symbol = Symbol("max");
pub const ALLOWED: Symbol = Symbol("allowed");
pub const DEFAULT: Symbol = Symbol("default");
pub const UUID: Symbol = Symbol("uuid");
pub const VALIDATE: Symbol = Symbol("validate");
pub const INSTANCES: Symbol = Symbol("instances");
pub const ENUM: Symbol = Symbol("enum");
pub const PATTERN: Symbol = Symbol("pattern");
pub const FKA: Symbol = Symbol("fka");
pub const CONST_UID: Symbol = Symbol("const_uid");
pub const EXTENDED: Symbol = Symbol("extended");
/// `extended(name = json("..."))`: a value given as JSON text.
pub const JSON: &str = "json";

/// The keys a container accepts, for the "unknown attribute" message.
pub const CONTAINER_KEYS: &[Symbol] = &[
    ROOT,
    STRUCT_TYPES,
    DESCRIPTION,
    COMMENT,
    DEPRECATION,
    FKA,
    CONST_UID,
    EXTENDED,
    VALIDATE,
];

/// The keys a field accepts, for the "unknown attribute" message.
pub const FIELD_KEYS: &[Symbol] = &[
    NAME,
    DESCRIPTION,
    COMMENT,
    DEPRECATION,
    UNIT,
    MIN,
    MAX,
    ALLOWED,
    DEFAULT,
    UUID,
    VALIDATE,
    INSTANCES,
    ENUM,
    PATTERN,
    FKA,
    CONST_UID,
    EXTENDED,
];

/// The keys an enum variant accepts (`#[derive(VissEnum)]`).
pub const VARIANT_KEYS: &[Symbol] = &[NAME];

/// Leaf handle type names (last path segment).
pub const SENSOR: &str = "Sensor";
pub const ACTUATOR: &str = "Actuator";
pub const ATTRIBUTE: &str = "Attribute";

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}

/// `a`, `b`, `c` for messages.
pub fn list(keys: &[Symbol]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
