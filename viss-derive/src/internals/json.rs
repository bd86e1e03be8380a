//! JSON for extended attributes: serde_json checks the syntax and quotes strings; the
//! compacted source text is what the runtime writes (numbers keep their spelling).

/// Checks that `text` is one JSON value; the message says what is wrong where.
pub fn check(text: &str) -> Result<(), String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// `text` (valid JSON) without whitespace outside strings.
pub fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for character in text.chars() {
        if in_string {
            out.push(character);
            if escaped {
                escaped = false;
            } else if character == '\\' {
                escaped = true;
            } else if character == '"' {
                in_string = false;
            }
        } else if character == '"' {
            in_string = true;
            out.push(character);
        } else if !character.is_whitespace() {
            out.push(character);
        }
    }
    out
}

/// `text` as a JSON string literal.
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_compacts_and_quotes() {
        for good in [r#"{"a": [1, -2.5e3, true, null, "x\"y"]}"#, "0", "[]", "{}"] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for bad in [
            "", "{", "[1,]", "01", "1.", "{a:1}", "tru", "[1] 2", "\"\\x\"",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert_eq!(compact("{ \"a b\" : [ 1 , 2 ] }"), "{\"a b\":[1,2]}");
        assert_eq!(quote("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
    }
}
