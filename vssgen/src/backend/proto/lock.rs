//! The field-number lock file (`<root>.protolock.json`, beside the tree sources, checked in
//! by the user): every message field's and enum value's number, so regenerating never
//! moves one. New fields get fresh numbers above every number ever used; removed ones are
//! kept as `reserved` (name and number) so no later field can take them; a field whose wire
//! type would change is refused unless the user allows breaking changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The lock file's format version.
pub const VERSION: u32 = 1;

/// Numbers protobuf keeps for itself.
const IMPLEMENTATION_RESERVED: std::ops::RangeInclusive<u32> = 19_000..=19_999;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtoLock {
    /// Says what the file is, for whoever opens it.
    #[serde(rename = "//", default)]
    pub comment: String,
    pub version: u32,
    pub package: String,
    #[serde(default)]
    pub messages: BTreeMap<String, Numbers>,
    #[serde(default)]
    pub enums: BTreeMap<String, Numbers>,
}

/// The numbers of one message's fields or one enum's values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbers {
    /// Name → number and the declared type (fields) or `""` (enum values).
    #[serde(default)]
    pub assigned: BTreeMap<String, Entry>,
    /// Names and numbers no longer used, never to be given out again.
    #[serde(default)]
    pub reserved: Vec<Entry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub number: u32,
    /// The field's declared type, `repeated`/`optional` included (`optional float`).
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

/// A change the lock refuses without `--allow-breaking`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaking(pub String);

impl Numbers {
    /// Numbers for `wanted` (name, type) in order: kept where locked, fresh above every
    /// number ever used otherwise (so from 1: an enum's 0 is its `UNSPECIFIED`); locked
    /// names that are gone become reserved.
    pub fn assign(
        &mut self,
        owner: &str,
        wanted: &[(String, String)],
        allow_breaking: bool,
    ) -> Result<Vec<u32>, Vec<Breaking>> {
        let mut breaking = Vec::new();
        let mut next = self.highest() + 1;
        let mut numbers = Vec::with_capacity(wanted.len());
        let mut kept = BTreeMap::new();
        for (name, kind) in wanted {
            let number = match self.assigned.get(name) {
                Some(entry) if compatible(&entry.kind, kind) => entry.number,
                // Allowed: the field keeps its number with its new type.
                Some(entry) if allow_breaking => entry.number,
                Some(entry) => {
                    breaking.push(Breaking(format!(
                        "{owner}.{name}: field {} changes its wire type from `{}` to `{kind}`; \
                         deployed decoders would misread it (give --allow-breaking to accept)",
                        entry.number, entry.kind
                    )));
                    entry.number
                }
                None => {
                    while IMPLEMENTATION_RESERVED.contains(&next) {
                        next += 1;
                    }
                    next += 1;
                    next - 1
                }
            };
            // A name that comes back after removal is a new field: its old name entry goes,
            // its old number stays reserved.
            for entry in &mut self.reserved {
                if entry.name == *name {
                    entry.name.clear();
                }
            }
            kept.insert(
                name.clone(),
                Entry {
                    name: String::new(),
                    number,
                    kind: kind.clone(),
                },
            );
            numbers.push(number);
        }
        for (name, entry) in std::mem::take(&mut self.assigned) {
            if !kept.contains_key(&name) {
                self.reserved.push(Entry {
                    name,
                    number: entry.number,
                    kind: entry.kind,
                });
            }
        }
        self.reserved.sort_by_key(|entry| entry.number);
        self.assigned = kept;
        if breaking.is_empty() {
            Ok(numbers)
        } else {
            Err(breaking)
        }
    }

    /// The highest number ever given out (assigned or reserved), 0 when none.
    fn highest(&self) -> u32 {
        self.assigned
            .values()
            .chain(&self.reserved)
            .map(|entry| entry.number)
            .max()
            .unwrap_or(0)
    }

    /// Problems of a hand-edited lock: a number used twice, or a field on a reserved number.
    pub fn check(&self, owner: &str) -> Vec<String> {
        let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, entry) in &self.assigned {
            if let Some(other) = seen.insert(entry.number, name) {
                problems.push(format!(
                    "{owner}: {name} and {other} both have number {}",
                    entry.number
                ));
            }
        }
        for entry in &self.reserved {
            if let Some(name) = seen.get(&entry.number) {
                problems.push(format!(
                    "{owner}.{name}: number {} is reserved (it was {}'s); a reserved number is \
                     never reused",
                    entry.number, entry.name
                ));
            }
        }
        problems
    }
}

/// Whether a field may change its declared type from `old` to `new` without breaking
/// deployed decoders: same cardinality and the same wire encoding.
fn compatible(old: &str, new: &str) -> bool {
    old.is_empty() || old == new || wire_class(old) == wire_class(new)
}

/// `(repeated, encoding)` of a declared type; message and enum names are classed by what
/// they are (the caller writes enums as `enum X`, messages as `message X`).
fn wire_class(kind: &str) -> (bool, &'static str) {
    let repeated = kind.starts_with("repeated ");
    let base = kind
        .trim_start_matches("repeated ")
        .trim_start_matches("optional ");
    let class = match base.split_whitespace().next().unwrap_or("") {
        "int32" | "uint32" | "int64" | "uint64" | "bool" | "enum" => "varint",
        "sint32" | "sint64" => "zigzag",
        "float" | "fixed32" | "sfixed32" => "32-bit",
        "double" | "fixed64" | "sfixed64" => "64-bit",
        "string" => "string",
        "bytes" => "bytes",
        "message" => "message",
        _ => "other",
    };
    (repeated, class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(name, kind)| ((*name).to_owned(), (*kind).to_owned()))
            .collect()
    }

    #[test]
    fn numbers_never_move_removed_ones_are_reserved_and_new_ones_are_fresh() {
        let mut numbers = Numbers::default();
        let first = numbers
            .assign(
                "Vehicle",
                &wanted(&[("Speed", "optional float"), ("Gear", "optional sint32")]),
                false,
            )
            .unwrap();
        assert_eq!(first, [1, 2]);
        // Reorder, remove Speed, add two.
        let second = numbers
            .assign(
                "Vehicle",
                &wanted(&[
                    ("Range", "optional uint32"),
                    ("Gear", "optional sint32"),
                    ("Speed2", "optional float"),
                ]),
                false,
            )
            .unwrap();
        assert_eq!(second, [3, 2, 4]);
        assert_eq!(
            numbers.reserved,
            [Entry {
                name: "Speed".into(),
                number: 1,
                kind: "optional float".into()
            }]
        );
        // Speed comes back: a fresh number, 1 stays reserved (without the name).
        let third = numbers
            .assign("Vehicle", &wanted(&[("Speed", "optional float")]), false)
            .unwrap();
        assert_eq!(third, [5]);
        assert!(numbers.reserved.iter().any(|entry| entry.number == 1));
        assert!(numbers.reserved.iter().all(|entry| entry.name != "Speed"));
        assert!(numbers.check("Vehicle").is_empty());
    }

    #[test]
    fn a_wire_type_change_is_refused_unless_allowed() {
        let mut numbers = Numbers::default();
        numbers
            .assign("V", &wanted(&[("Speed", "optional float")]), false)
            .unwrap();
        let refused = numbers
            .clone()
            .assign("V", &wanted(&[("Speed", "optional double")]), false)
            .unwrap_err();
        assert!(refused[0].0.contains("V.Speed: field 1"), "{refused:?}");
        // Widening an unsigned integer keeps the varint encoding: allowed.
        let mut widen = Numbers::default();
        widen
            .assign("V", &wanted(&[("Count", "optional uint32")]), false)
            .unwrap();
        assert_eq!(
            widen
                .assign("V", &wanted(&[("Count", "optional uint64")]), false)
                .unwrap(),
            [1]
        );
        assert_eq!(
            numbers
                .assign("V", &wanted(&[("Speed", "optional double")]), true)
                .unwrap(),
            [1]
        );
    }

    #[test]
    fn a_hand_edited_lock_that_reuses_a_reserved_number_is_reported() {
        let mut numbers = Numbers::default();
        numbers.assigned.insert(
            "Speed".into(),
            Entry {
                name: String::new(),
                number: 3,
                kind: "optional float".into(),
            },
        );
        numbers.reserved.push(Entry {
            name: "Old".into(),
            number: 3,
            kind: String::new(),
        });
        let problems = numbers.check("Vehicle");
        assert!(problems[0].contains("number 3 is reserved"), "{problems:?}");
    }

    #[test]
    fn fresh_numbers_skip_the_implementation_range() {
        let mut numbers = Numbers::default();
        numbers.reserved.push(Entry {
            name: "Old".into(),
            number: 18_999,
            kind: String::new(),
        });
        assert_eq!(
            numbers
                .assign("V", &wanted(&[("New", "optional bool")]), false)
                .unwrap(),
            [20_000]
        );
    }
}
