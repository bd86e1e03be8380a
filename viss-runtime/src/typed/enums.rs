//! Rust enums for VSS `allowed` lists.
//!
//! A string leaf with an `allowed` list takes one of a few fixed values; as a Rust enum
//! (`#[derive(VissEnum)]`) a misspelt value is a compile error instead of a `set` refused in
//! the vehicle. The wire is unchanged: a variant travels as its exact VSS string. A variant
//! becomes a [`Value::String`] *borrowed* from the enum's static names, so feeding one
//! allocates nothing, and the engine stores the values it reads from the wire for such a
//! leaf borrowed from the tree's static `allowed` list, so `set`s allocate nothing either.
//!
//! `#[derive(VissTree)]` checks at compile time that an enum-typed leaf's `allowed` list and
//! the enum's variants spell the same strings ([`check_enum_leaf`], run in a `const`).

use std::borrow::Cow;

use crate::tree::{DataType, ScalarType};
use crate::typed::{VssElement, VssType};
use crate::value::Value;

/// A fieldless enum whose variants are the values of a VSS `allowed` list.
///
/// Implemented by `#[derive(VissEnum)]` (with `Display` and `FromStr` on the VSS strings);
/// every `VissEnum` is a [`VssType`] of datatype `string` (and `Vec<E>` of `string[]`), so
/// it can be the value of a `Sensor`, `Actuator` or `Attribute`.
pub trait VissEnum: Copy + Eq + 'static {
    /// Every variant, in declaration order.
    const VARIANTS: &'static [Self];
    /// The VSS string of each variant, in the same order.
    const VSS_NAMES: &'static [&'static str];

    /// The variant's position in [`VissEnum::VARIANTS`].
    fn index(self) -> usize;

    /// The VSS string the wire carries for this variant.
    fn vss_name(self) -> &'static str {
        Self::VSS_NAMES
            .get(self.index())
            .copied()
            .unwrap_or_default()
    }

    /// The variant whose VSS string is `text` (exact spelling).
    fn from_vss_name(text: &str) -> Option<Self> {
        let index = Self::VSS_NAMES.iter().position(|name| *name == text)?;
        Self::VARIANTS.get(index).copied()
    }
}

impl<E: VissEnum> VssType for E {
    const DATATYPE: DataType = DataType::Scalar(ScalarType::String);
    const ALLOWED: &'static [&'static str] = E::VSS_NAMES;

    fn into_value(self) -> Value {
        Value::String(Cow::Borrowed(self.vss_name()))
    }

    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::String(text) => Self::from_vss_name(&text),
            _ => None,
        }
    }
}

impl<E: VissEnum> VssElement for E {
    const ARRAY_DATATYPE: DataType = DataType::Array(ScalarType::String);
}

/// The error of `FromStr` on a `#[derive(VissEnum)]` enum: the text is none of its VSS
/// strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAVariant {
    /// The enum's Rust name.
    pub enum_name: &'static str,
    /// The text that was parsed.
    pub text: String,
}

impl std::fmt::Display for NotAVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` is not a value of `{}`", self.text, self.enum_name)
    }
}

impl std::error::Error for NotAVariant {}

/// What `#[derive(VissTree)]` runs in a `const` for every leaf whose value type is not a
/// primitive: `variants` are the type's [`VssType::ALLOWED`] (empty for a struct type),
/// `allowed` the leaf's `allowed` list. They must spell the same strings (in any order),
/// and a leaf with either must have both. A mismatch fails compilation with a message
/// naming the string.
pub const fn check_enum_leaf(enum_name: &str, leaf: &str, variants: &[&str], allowed: &[&str]) {
    if variants.is_empty() && allowed.is_empty() {
        return;
    }
    if allowed.is_empty() {
        let message = Message::of(&[
            "`",
            enum_name,
            "` is a VSS enum: give `",
            leaf,
            "` `allowed = [..]` with the VSS strings of its variants",
        ]);
        fail(&message);
    }
    if variants.is_empty() {
        let message = Message::of(&[
            "`",
            leaf,
            "` has an `allowed` list, so its value is `String` or a `#[derive(VissEnum)]` \
             enum; `",
            enum_name,
            "` is neither",
        ]);
        fail(&message);
    }
    if let Some(value) = first_missing(allowed, variants) {
        let message = Message::of(&[
            "`",
            enum_name,
            "` has no variant for \"",
            value,
            "\", a value of the `allowed` list of `",
            leaf,
            "`",
        ]);
        fail(&message);
    }
    if let Some(variant) = first_missing(variants, allowed) {
        let message = Message::of(&[
            "`",
            enum_name,
            "` has the variant \"",
            variant,
            "\", which is not in the `allowed` list of `",
            leaf,
            "`",
        ]);
        fail(&message);
    }
}

/// Fails compilation (the check runs in a `const`) with `message`: one place, so every
/// failure shows the same source line below its message.
const fn fail(message: &Message) -> ! {
    panic!("{}", message.as_str())
}

/// The first string of `list` that `other` lacks.
const fn first_missing<'a>(list: &[&'a str], other: &[&str]) -> Option<&'a str> {
    let mut index = 0;
    while index < list.len() {
        if !contains(other, list[index]) {
            return Some(list[index]);
        }
        index += 1;
    }
    None
}

const fn contains(list: &[&str], text: &str) -> bool {
    let mut index = 0;
    while index < list.len() {
        if equal(list[index], text) {
            return true;
        }
        index += 1;
    }
    false
}

const fn equal(left: &str, right: &str) -> bool {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    if left.len() != right.len() {
        return false;
    }
    let mut index = 0;
    while index < left.len() {
        if left[index] != right[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// A compile-time error message: `const` code cannot format, so the parts are copied into
/// a fixed buffer (a part that does not fit whole is left out, keeping the text UTF-8).
struct Message {
    bytes: [u8; 512],
    len: usize,
}

impl Message {
    const fn new() -> Self {
        Self {
            bytes: [0; 512],
            len: 0,
        }
    }

    /// The parts, one after the other.
    const fn of(parts: &[&str]) -> Self {
        let mut message = Self::new();
        let mut index = 0;
        while index < parts.len() {
            message = message.push(parts[index]);
            index += 1;
        }
        message
    }

    const fn push(mut self, part: &str) -> Self {
        let part = part.as_bytes();
        if self.len + part.len() > self.bytes.len() {
            return self;
        }
        let mut index = 0;
        while index < part.len() {
            self.bytes[self.len + index] = part[index];
            index += 1;
        }
        self.len += part.len();
        self
    }

    const fn as_str(&self) -> &str {
        let (text, _) = self.bytes.split_at(self.len);
        match std::str::from_utf8(text) {
            Ok(text) => text,
            Err(_) => "enum leaf check failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Gear {
        Park,
        Drive,
    }

    impl VissEnum for Gear {
        const VARIANTS: &'static [Self] = &[Self::Park, Self::Drive];
        const VSS_NAMES: &'static [&'static str] = &["PARK", "DRIVE"];

        fn index(self) -> usize {
            self as usize
        }
    }

    #[test]
    fn variants_travel_as_borrowed_vss_strings() {
        let value = Gear::Drive.into_value();
        assert!(matches!(&value, Value::String(Cow::Borrowed("DRIVE"))));
        assert_eq!(Gear::from_value(value), Some(Gear::Drive));
        assert_eq!(Gear::from_value(Value::String("drive".into())), None);
        assert_eq!(Gear::from_value(Value::Bool(true)), None);
        assert_eq!(<Vec<Gear>>::DATATYPE, DataType::Array(ScalarType::String));
        assert_eq!(<Vec<Gear>>::ALLOWED, ["PARK", "DRIVE"]);
        let items = vec![Gear::Park, Gear::Drive].into_value();
        assert_eq!(
            Vec::<Gear>::from_value(items),
            Some(vec![Gear::Park, Gear::Drive])
        );
    }

    #[test]
    fn matching_spellings_pass_in_any_order() {
        check_enum_leaf("Gear", "Gear", &["PARK", "DRIVE"], &["DRIVE", "PARK"]);
        check_enum_leaf("Position", "Position", &[], &[]);
    }

    fn failure(variants: &[&str], allowed: &[&str]) -> String {
        let outcome = std::panic::catch_unwind(|| {
            check_enum_leaf("Gear", "Vehicle.Gear", variants, allowed);
        });
        let payload = outcome.expect_err("the check fails");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn a_missing_or_extra_variant_is_named() {
        assert_eq!(
            failure(&["PARK"], &["PARK", "DRIVE"]),
            "`Gear` has no variant for \"DRIVE\", a value of the `allowed` list of `Vehicle.Gear`"
        );
        assert_eq!(
            failure(&["PARK", "DRIVE", "FLY"], &["PARK", "DRIVE"]),
            "`Gear` has the variant \"FLY\", which is not in the `allowed` list of `Vehicle.Gear`"
        );
        assert!(failure(&["PARK"], &[]).contains("give `Vehicle.Gear` `allowed = [..]`"));
        assert!(failure(&[], &["PARK"]).contains("`Gear` is neither"));
    }
}
