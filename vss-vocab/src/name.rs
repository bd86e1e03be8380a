//! The rules a node name and an enum key follow.

/// Why `name` cannot be a path segment, if it cannot: a name is not empty and holds none of
/// the characters paths and wildcards are made of (`.`, `/`, `*`).
pub fn segment_error(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("must not be empty")
    } else if name.contains(['.', '/', '*']) {
        Some("must not contain `.`, `/` or `*`")
    } else {
        None
    }
}

/// vss-tools' naming rule (`--strict`): `[A-Z][A-Za-z0-9]*`.
pub fn is_camel_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// vss-tools' naming rule for boolean signals (`--strict`): they start with `Is` or `Has`.
pub fn is_boolean_name(name: &str) -> bool {
    name.starts_with("Is") || name.starts_with("Has")
}

/// An `enum` key must start with an upper-case letter (an error otherwise).
pub fn is_enum_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_uppercase())
}

/// An `enum` key should match `[A-Z][A-Z_0-9]*` (a warning otherwise).
pub fn is_enum_key_style(key: &str) -> bool {
    is_enum_key(key)
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The VISS in-line error prefix (TRANSPORT §4.1.1): reserved, so no string value may
/// start with it.
pub const INLINE_ERROR_PREFIX: &str = "viss-inline:";

/// Why `value` cannot be a value of an enum (a string `allowed` list entry that a Rust enum
/// spells), if it cannot: it is not empty and does not start with the in-line error prefix.
pub fn enum_value_error(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("must not be empty")
    } else if value.starts_with(INLINE_ERROR_PREFIX) {
        Some("must not start with `viss-inline:`, reserved for VISS in-line errors")
    } else {
        None
    }
}

/// The VSS string `#[derive(VissEnum)]` gives a variant that has no `name = ".."`: its
/// identifier in SCREAMING_SNAKE_CASE, a word starting at each upper-case letter that
/// follows a lower-case letter or a digit (`OneShotClose` → `ONE_SHOT_CLOSE`, `Sae0` →
/// `SAE0`, `E5_95` → `E5_95`). The generator writes `name` wherever this differs.
pub fn default_enum_value(variant: &str) -> String {
    let mut value = String::with_capacity(variant.len() + 4);
    let mut previous: Option<char> = None;
    for c in variant.trim_start_matches("r#").chars() {
        let starts_word = c.is_uppercase()
            && previous.is_some_and(|before| before.is_lowercase() || before.is_ascii_digit());
        if starts_word {
            value.push('_');
        }
        value.extend(c.to_uppercase());
        previous = Some(c);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(segment_error("Speed"), None);
        assert!(segment_error("").is_some());
        assert!(segment_error("A.B").is_some() && segment_error("A*").is_some());
    }

    #[test]
    fn strict_names_and_enum_keys() {
        assert!(is_camel_case("IsOpen2") && !is_camel_case("isOpen") && !is_camel_case("Is_Open"));
        assert!(is_boolean_name("HasFog") && !is_boolean_name("Fog"));
        assert!(is_enum_key("Mode_a") && !is_enum_key_style("Mode_a"));
        assert!(is_enum_key_style("MODE_A1") && !is_enum_key("mode"));
    }

    #[test]
    fn enum_values_are_not_empty_nor_in_line_errors() {
        assert_eq!(enum_value_error("OPEN"), None);
        assert!(enum_value_error("").is_some());
        assert!(enum_value_error("viss-inline:x").is_some());
    }

    #[test]
    fn enum_values_default_to_screaming_snake_case() {
        for (variant, value) in [
            ("OneShotClose", "ONE_SHOT_CLOSE"),
            ("Sae0", "SAE0"),
            ("E5_95", "E5_95"),
            ("Hr12", "HR12"),
            ("C", "C"),
            ("TwoD", "TWO_D"),
            ("Iec2Ac", "IEC2_AC"),
        ] {
            assert_eq!(default_enum_value(variant), value, "{variant}");
        }
    }
}
