//! VSS names → Rust identifiers.
//!
//! Policy (`vss-format.md` §13): fields are `snake_case`, types `UpperCamelCase`; characters
//! that cannot appear in an identifier become `_`; a leading digit gets a `_` prefix (fields)
//! or `N` prefix (types); keywords become raw identifiers (`r#type`), except the ones that
//! cannot be raw (`self`, `super`, `crate`, `Self`), which get a `_` suffix (fields) or a
//! `Branch` suffix (types); names that still collide in one scope (`Row1` and `row1`) get
//! `_2`, `_3`, ... (fields) or `2`, `3`, ... (types) in source order. Whenever the derive's
//! default name (the identifier in UpperCamelCase) is not the VSS name, the original is
//! returned so the caller writes it to `#[viss(name = "...")]`.

use std::collections::BTreeSet;

use heck::{ToSnakeCase as _, ToUpperCamelCase as _};

/// Strict and reserved keywords of Rust 2015–2024.
const KEYWORDS: [&str; 52] = [
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be written as raw identifiers.
const NOT_RAW: [&str; 5] = ["crate", "self", "Self", "super", "_"];

/// Type names the generated code (or the derive, which recognises leaves by their last path
/// segment) already uses; a VSS branch with such a name gets a `Branch` suffix.
const RESERVED_TYPES: [&str; 16] = [
    "Sensor",
    "Actuator",
    "Attribute",
    "String",
    "Vec",
    "Option",
    "Result",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Value",
    "NodeId",
    "Provider",
    "VissTree",
];

/// The VSS name the derive gives a field when no `name = ".."` is written: the identifier in
/// UpperCamelCase, split at `_` (the derive's own rule, repeated here to know when to write
/// the name).
pub fn derive_default_name(ident: &str) -> String {
    ident
        .trim_start_matches("r#")
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// Replaces every character that cannot be in an identifier by `_`.
fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "_".to_owned()
    } else {
        cleaned
    }
}

/// A field identifier for a VSS name, before collision handling.
pub fn field_ident(name: &str) -> String {
    let mut ident = sanitize(name).to_snake_case();
    if ident.is_empty() {
        ident = "_".to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if ident == "_" || NOT_RAW.contains(&ident.as_str()) {
        ident.push('_');
    } else if KEYWORDS.contains(&ident.as_str()) {
        ident.insert_str(0, "r#");
    }
    ident
}

/// A type identifier for a VSS name, before collision handling.
pub fn type_ident(name: &str) -> String {
    let mut ident = sanitize(name).to_upper_camel_case();
    if ident.is_empty() {
        ident = "Branch".to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, 'N');
    }
    if KEYWORDS.contains(&ident.as_str()) || RESERVED_TYPES.contains(&ident.as_str()) {
        ident.push_str("Branch");
    }
    ident
}

/// Field identifiers for the children of one branch, in order: each is `(ident, original)`
/// where `original` is the VSS name when the derive's default would differ from it.
pub fn field_idents<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<(String, Option<String>)> {
    let mut used = BTreeSet::new();
    names
        .into_iter()
        .map(|name| {
            let ident = unique(&mut used, field_ident(name), "_");
            let original = (derive_default_name(&ident) != name).then(|| name.to_owned());
            (ident, original)
        })
        .collect()
}

/// `base`, or `base` + separator + the first free number from 2, recorded in `used`.
pub fn unique(used: &mut BTreeSet<String>, base: String, separator: &str) -> String {
    let mut candidate = base.clone();
    let mut number = 2;
    while used.contains(&candidate) {
        candidate = format!("{base}{separator}{number}");
        number += 1;
    }
    used.insert(candidate.clone());
    candidate
}

/// The `syn` identifier of a generated name (raw when it starts with `r#`).
pub fn to_ident(text: &str) -> syn::Ident {
    match text.strip_prefix("r#") {
        Some(raw) => syn::Ident::new_raw(raw, proc_macro2::Span::call_site()),
        None => syn::Ident::new(text, proc_macro2::Span::call_site()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_table() {
        let cases: [(&str, &str, Option<&str>); 12] = [
            ("IsOpen", "is_open", None),
            ("Speed", "speed", None),
            ("VIN", "vin", Some("VIN")),
            ("DTCList", "dtc_list", Some("DTCList")),
            ("O2Voltages", "o2_voltages", None),
            ("type", "r#type", Some("type")),
            ("Type", "r#type", None),
            ("Self", "self_", None),
            ("1stRow", "_1st_row", None),
            ("2", "_2", None),
            ("Some-Name", "some_name", Some("Some-Name")),
            ("Row1", "row1", None),
        ];
        for (name, ident, original) in cases {
            let got = field_idents([name]);
            assert_eq!(got[0].0, ident, "{name}");
            assert_eq!(got[0].1.as_deref(), original, "{name}");
        }
    }

    #[test]
    fn collisions_in_one_scope_are_numbered_in_order() {
        let got = field_idents(["Row1", "row1", "ROW1", "Row1_2"]);
        let idents: Vec<_> = got.iter().map(|(ident, _)| ident.as_str()).collect();
        assert_eq!(idents, ["row1", "row1_2", "row1_3", "row1_2_2"]);
        assert_eq!(got[1].1.as_deref(), Some("row1"));
        assert_eq!(got[3].1.as_deref(), Some("Row1_2"));
    }

    #[test]
    fn type_names_table() {
        let cases = [
            ("Door", "Door"),
            ("OBD", "Obd"),
            ("1stRow", "N1stRow"),
            ("Self", "SelfBranch"),
            ("Sensor", "SensorBranch"),
            ("type", "Type"),
            ("a.b", "AB"),
        ];
        for (name, ident) in cases {
            assert_eq!(type_ident(name), ident, "{name}");
        }
    }

    #[test]
    fn raw_identifiers_parse() {
        assert_eq!(to_ident("r#type").to_string(), "r#type");
        assert_eq!(to_ident("speed").to_string(), "speed");
    }
}
