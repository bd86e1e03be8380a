//! VSS datatypes: the primitive table, arrays and struct references.

use std::fmt;

/// A primitive VSS datatype (`data_types.md`).
///
/// `Numeric` and `Int` are the pseudo-types vss-tools uses in `units.yaml`
/// `allowed-datatypes`; they are not valid signal datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Primitive {
    Uint8,
    Int8,
    Uint16,
    Int16,
    Uint32,
    Int32,
    Uint64,
    Int64,
    Boolean,
    Float,
    Double,
    String,
    /// Pseudo-type: any integer or float type.
    Numeric,
    /// Pseudo-type: any integer type.
    Int,
}

impl Primitive {
    /// Every primitive with the name VSS spells it with.
    pub const ALL: [(Primitive, &'static str); 14] = [
        (Primitive::Uint8, "uint8"),
        (Primitive::Int8, "int8"),
        (Primitive::Uint16, "uint16"),
        (Primitive::Int16, "int16"),
        (Primitive::Uint32, "uint32"),
        (Primitive::Int32, "int32"),
        (Primitive::Uint64, "uint64"),
        (Primitive::Int64, "int64"),
        (Primitive::Boolean, "boolean"),
        (Primitive::Float, "float"),
        (Primitive::Double, "double"),
        (Primitive::String, "string"),
        (Primitive::Numeric, "numeric"),
        (Primitive::Int, "int"),
    ];

    /// The primitive named `name` (exact, case-sensitive as VSS is).
    pub fn from_name(name: &str) -> Option<Primitive> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(p, _)| *p)
    }

    /// The name VSS spells this primitive with.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("", |(_, n)| n)
    }

    /// True for the integer types (and the `int` pseudo-type).
    pub fn is_integer(self) -> bool {
        use Primitive::*;
        matches!(
            self,
            Uint8 | Int8 | Uint16 | Int16 | Uint32 | Int32 | Uint64 | Int64 | Int
        )
    }

    /// True for integer and floating-point types (and both pseudo-types).
    pub fn is_numeric(self) -> bool {
        self.is_integer()
            || matches!(
                self,
                Primitive::Float | Primitive::Double | Primitive::Numeric
            )
    }

    /// The inclusive range of an integer type, as i128 so every VSS integer fits.
    pub fn integer_range(self) -> Option<(i128, i128)> {
        use Primitive::*;
        Some(match self {
            Uint8 => (0, u8::MAX.into()),
            Int8 => (i8::MIN.into(), i8::MAX.into()),
            Uint16 => (0, u16::MAX.into()),
            Int16 => (i16::MIN.into(), i16::MAX.into()),
            Uint32 => (0, u32::MAX.into()),
            Int32 => (i32::MIN.into(), i32::MAX.into()),
            Uint64 => (0, u64::MAX.into()),
            Int64 => (i64::MIN.into(), i64::MAX.into()),
            _ => return None,
        })
    }

    /// vss-tools' subtype lattice (`Datatypes.is_subtype_of`), used for unit compatibility:
    /// `uint8 ⊂ uint16 ⊂ uint32 ⊂ uint64`, `int8 ⊂ … ⊂ int64`, integers and floats ⊂ `numeric`,
    /// integers ⊂ `int`; no cross-signedness subtyping.
    pub fn is_subtype_of(self, other: Primitive) -> bool {
        use Primitive::*;
        if self == other {
            return true;
        }
        const UNSIGNED: [Primitive; 4] = [Uint8, Uint16, Uint32, Uint64];
        const SIGNED: [Primitive; 4] = [Int8, Int16, Int32, Int64];
        let rank = |chain: &[Primitive], p: Primitive| chain.iter().position(|c| *c == p);
        match other {
            Numeric => self.is_numeric(),
            Int => self.is_integer(),
            _ => [&UNSIGNED[..], &SIGNED[..]].iter().any(|chain| {
                matches!((rank(chain, self), rank(chain, other)), (Some(a), Some(b)) if a <= b)
            }),
        }
    }
}

impl fmt::Display for Primitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

    #[test]
    fn subtype_lattice_matches_vss_tools() {
        use Primitive::*;
        assert!(Uint8.is_subtype_of(Uint32));
        assert!(!Uint32.is_subtype_of(Uint8));
        assert!(!Uint8.is_subtype_of(Int16));
        assert!(Float.is_subtype_of(Numeric));
        assert!(Int8.is_subtype_of(Int));
        assert!(!Float.is_subtype_of(Int));
        assert!(!Boolean.is_subtype_of(Numeric));
        assert!(!Float.is_subtype_of(Double));
    }
}
