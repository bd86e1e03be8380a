//! The primitive datatypes (`data_types.md`) and vss-tools' two units-file pseudo-types.

use core::fmt;

/// A primitive VSS datatype.
///
/// `Numeric` and `Int` are the pseudo-types vss-tools uses in `units.yaml`
/// `allowed-datatypes`; they are not valid signal datatypes ([`Primitive::is_pseudo`],
/// [`Primitive::signal_type`]).
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

/// One row of the datatype table.
struct Row {
    primitive: Primitive,
    /// How VSS spells it.
    vss: &'static str,
    /// The Rust type a value of it is held in (none for the pseudo-types).
    rust: Option<&'static str>,
    /// The variant's name, for code that names it (`ScalarType::Uint8`).
    variant: &'static str,
}

const fn row(
    primitive: Primitive,
    vss: &'static str,
    rust: Option<&'static str>,
    variant: &'static str,
) -> Row {
    Row {
        primitive,
        vss,
        rust,
        variant,
    }
}

/// The table, in `data_types.md` order; every lookup below reads it.
const TABLE: [Row; 14] = [
    row(Primitive::Uint8, "uint8", Some("u8"), "Uint8"),
    row(Primitive::Int8, "int8", Some("i8"), "Int8"),
    row(Primitive::Uint16, "uint16", Some("u16"), "Uint16"),
    row(Primitive::Int16, "int16", Some("i16"), "Int16"),
    row(Primitive::Uint32, "uint32", Some("u32"), "Uint32"),
    row(Primitive::Int32, "int32", Some("i32"), "Int32"),
    row(Primitive::Uint64, "uint64", Some("u64"), "Uint64"),
    row(Primitive::Int64, "int64", Some("i64"), "Int64"),
    row(Primitive::Boolean, "boolean", Some("bool"), "Boolean"),
    row(Primitive::Float, "float", Some("f32"), "Float"),
    row(Primitive::Double, "double", Some("f64"), "Double"),
    row(Primitive::String, "string", Some("String"), "String"),
    row(Primitive::Numeric, "numeric", None, "Numeric"),
    row(Primitive::Int, "int", None, "Int"),
];

impl Primitive {
    /// Every primitive, pseudo-types last.
    pub const ALL: [Primitive; 14] = {
        let mut all = [Primitive::Uint8; 14];
        let mut index = 0;
        while index < TABLE.len() {
            all[index] = TABLE[index].primitive;
            index += 1;
        }
        all
    };

    const fn row(self) -> &'static Row {
        // The table is in declaration order, so the discriminant is the row.
        &TABLE[self as usize]
    }

    /// The primitive VSS spells `name` (exact, case-sensitive as VSS is), pseudo-types included.
    pub fn from_name(name: &str) -> Option<Primitive> {
        TABLE
            .iter()
            .find(|row| row.vss == name)
            .map(|row| row.primitive)
    }

    /// The primitive a signal's `datatype: name` means: pseudo-types are not signal types.
    pub fn signal_type(name: &str) -> Option<Primitive> {
        Self::from_name(name).filter(|primitive| !primitive.is_pseudo())
    }

    /// The primitive a Rust value type holds (`u8` → `uint8`, `f64` → `double`).
    pub fn from_rust_type(rust: &str) -> Option<Primitive> {
        TABLE
            .iter()
            .find(|row| row.rust == Some(rust))
            .map(|row| row.primitive)
    }

    /// The name VSS spells this primitive with.
    pub const fn name(self) -> &'static str {
        self.row().vss
    }

    /// The Rust type a value of this primitive is held in; none for the pseudo-types.
    pub const fn rust_type(self) -> Option<&'static str> {
        self.row().rust
    }

    /// The Rust variant name (`Uint8`), for generated code naming `ScalarType::Uint8`.
    pub const fn variant_name(self) -> &'static str {
        self.row().variant
    }

    /// True for `numeric` and `int`, which only `units.yaml` uses.
    pub const fn is_pseudo(self) -> bool {
        matches!(self, Primitive::Numeric | Primitive::Int)
    }

    /// True for the integer types (and the `int` pseudo-type).
    pub const fn is_integer(self) -> bool {
        use Primitive::*;
        matches!(
            self,
            Uint8 | Int8 | Uint16 | Int16 | Uint32 | Int32 | Uint64 | Int64 | Int
        )
    }

    /// True for `float` and `double`.
    pub const fn is_float(self) -> bool {
        matches!(self, Primitive::Float | Primitive::Double)
    }

    /// True for integer and floating-point types (and both pseudo-types).
    pub const fn is_numeric(self) -> bool {
        self.is_integer() || self.is_float() || matches!(self, Primitive::Numeric)
    }

    /// True for the unsigned integer types.
    pub const fn is_unsigned(self) -> bool {
        use Primitive::*;
        matches!(self, Uint8 | Uint16 | Uint32 | Uint64)
    }

    /// The inclusive range of an integer type, as i128 so every VSS integer fits.
    pub const fn integer_range(self) -> Option<(i128, i128)> {
        use Primitive::*;
        Some(match self {
            Uint8 => (0, u8::MAX as i128),
            Int8 => (i8::MIN as i128, i8::MAX as i128),
            Uint16 => (0, u16::MAX as i128),
            Int16 => (i16::MIN as i128, i16::MAX as i128),
            Uint32 => (0, u32::MAX as i128),
            Int32 => (i32::MIN as i128, i32::MAX as i128),
            Uint64 => (0, u64::MAX as i128),
            Int64 => (i64::MIN as i128, i64::MAX as i128),
            _ => return None,
        })
    }

    /// What kind of value this is, for messages: `integer`, `floating point`, `boolean`,
    /// `string` (`number` for `numeric`).
    pub const fn kind_of_value(self) -> &'static str {
        match self {
            Primitive::Boolean => "boolean",
            Primitive::String => "string",
            Primitive::Float | Primitive::Double => "floating point",
            Primitive::Numeric => "number",
            _ => "integer",
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_declaration_order() {
        for (index, row) in TABLE.iter().enumerate() {
            assert_eq!(row.primitive as usize, index, "{}", row.vss);
            assert_eq!(format!("{:?}", row.primitive), row.variant);
        }
    }

    #[test]
    fn names_round_trip_and_pseudo_types_are_not_signal_types() {
        for primitive in Primitive::ALL {
            assert_eq!(Primitive::from_name(primitive.name()), Some(primitive));
            assert_eq!(
                Primitive::signal_type(primitive.name()).is_none(),
                primitive.is_pseudo()
            );
            if let Some(rust) = primitive.rust_type() {
                assert_eq!(Primitive::from_rust_type(rust), Some(primitive));
            }
        }
        assert_eq!(Primitive::from_name("UInt8"), None);
        assert_eq!(Primitive::from_rust_type("usize"), None);
    }

    #[test]
    fn integer_ranges_are_the_rust_types_ranges() {
        assert_eq!(Primitive::Uint8.integer_range(), Some((0, 255)));
        assert_eq!(Primitive::Int16.integer_range(), Some((-32768, 32767)));
        assert_eq!(
            Primitive::Uint64.integer_range(),
            Some((0, i128::from(u64::MAX)))
        );
        assert_eq!(Primitive::Float.integer_range(), None);
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
