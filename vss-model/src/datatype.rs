//! VSS datatypes: the primitive table, arrays and struct references.

use std::fmt;

/// A primitive VSS datatype: the vocabulary's table (`vss-vocab`), re-exported here because
/// the IR's datatypes are made of it.
pub use vss_vocab::Primitive;

/// The element type of a datatype: a primitive or a struct from a types tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElementType {
    Primitive(Primitive),
    /// Fully qualified path of a `struct` node in a types tree, e.g. `VehicleDataTypes.Timestamp`.
    Struct(String),
}

/// A resolved VSS datatype: element type plus array-ness (`float[]`, `Types.Pos[]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Datatype {
    pub element: ElementType,
    pub is_array: bool,
}

impl Datatype {
    /// A scalar primitive datatype.
    pub fn primitive(primitive: Primitive) -> Datatype {
        Datatype {
            element: ElementType::Primitive(primitive),
            is_array: false,
        }
    }

    /// Parses a primitive datatype name with an optional `[]` suffix.
    /// Struct names are resolved by the front end (they need the types tree).
    pub fn parse_primitive(text: &str) -> Option<Datatype> {
        let (base, is_array) = split_array_suffix(text);
        Primitive::from_name(base).map(|p| Datatype {
            element: ElementType::Primitive(p),
            is_array,
        })
    }

    /// The primitive element type, if this is not a struct datatype.
    pub fn primitive_element(&self) -> Option<Primitive> {
        match &self.element {
            ElementType::Primitive(p) => Some(*p),
            ElementType::Struct(_) => None,
        }
    }

    /// True when the element type is a struct.
    pub fn is_struct(&self) -> bool {
        matches!(self.element, ElementType::Struct(_))
    }
}

/// Splits `"float[]"` into `("float", true)` and `"float"` into `("float", false)`.
pub fn split_array_suffix(text: &str) -> (&str, bool) {
    match text.strip_suffix("[]") {
        Some(base) => (base, true),
        None => (text, false),
    }
}

impl fmt::Display for Datatype {
    /// Writes the datatype as VSS spells it (`uint8`, `string[]`, `Types.Pos[]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.element {
            ElementType::Primitive(p) => f.write_str(p.name())?,
            ElementType::Struct(name) => f.write_str(name)?,
        }
        if self.is_array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_primitives_and_arrays() {
        for text in ["uint8", "string[]", "double", "boolean[]"] {
            let dt = Datatype::parse_primitive(text).expect(text);
            assert_eq!(dt.to_string(), text);
        }
        assert!(Datatype::parse_primitive("uint128").is_none());
        assert!(Datatype::parse_primitive("UInt8").is_none());
    }
}
