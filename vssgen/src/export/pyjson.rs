//! Writes a `serde_json::Value` exactly as Python's `json.dump(data, f, indent=indent,
//! sort_keys=True)` does, which is how vss-tools writes its JSON exports. Matching it byte for
//! byte lets users diff our output against theirs.
//!
//! Python's defaults that matter: keys sorted by code point at every level; `ensure_ascii`
//! (every non-ASCII character and DEL become `\uXXXX`, lower-case hex, surrogate pairs above
//! U+FFFF); separators `", "`/`": "` compact and `","`/`": "` with an indent; empty
//! containers are `{}`/`[]` even when indenting; floats in `repr` form (`100.0`, `1e-06`,
//! `1e+16`); no trailing newline.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// Serialises `value`; `indent` is `Some(2)` for `--pretty`, `None` for compact output.
pub fn to_string(value: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    write_value(&mut out, value, indent, 0);
    out
}

fn write_value(out: &mut String, value: &Value, indent: Option<usize>, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => write_array(out, items, indent, level),
        Value::Object(map) => write_object(out, map, indent, level),
    }
}

fn write_array(out: &mut String, items: &[Value], indent: Option<usize>, level: usize) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push('[');
    for (index, item) in items.iter().enumerate() {
        separator(out, index, indent, level + 1);
        write_value(out, item, indent, level + 1);
    }
    closing(out, indent, level);
    out.push(']');
}

fn write_object(out: &mut String, map: &Map<String, Value>, indent: Option<usize>, level: usize) {
    if map.is_empty() {
        out.push_str("{}");
        return;
    }
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (index, (key, item)) in entries.into_iter().enumerate() {
        separator(out, index, indent, level + 1);
        write_string(out, key);
        out.push_str(": ");
        write_value(out, item, indent, level + 1);
    }
    closing(out, indent, level);
    out.push('}');
}

/// What goes before the `index`-th element of a container whose elements sit at `level`.
fn separator(out: &mut String, index: usize, indent: Option<usize>, level: usize) {
    match indent {
        Some(width) => {
            if index > 0 {
                out.push(',');
            }
            newline(out, width * level);
        }
        None if index > 0 => out.push_str(", "),
        None => {}
    }
}

fn closing(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(width) = indent {
        newline(out, width * level);
    }
}

fn newline(out: &mut String, spaces: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', spaces));
}

/// `json.encoder.py_encode_basestring_ascii`.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, number: &Number) {
    match number.as_f64() {
        Some(float) if number.is_f64() => out.push_str(&python_float_repr(float)),
        _ => out.push_str(&number.to_string()),
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, positional notation when the
/// decimal exponent is in `-4..16` (always with a fractional part), scientific otherwise with
/// a signed, at least two-digit exponent.
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits too, as `d.ddde<exp>`.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if value.is_sign_negative() { "-" } else { "" };
    let body = if (-4..16).contains(&exponent) {
        positional(&digits, exponent)
    } else {
        exponential(&digits, exponent)
    };
    format!("{sign}{body}")
}

fn positional(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        return format!("0.{zeros}{digits}");
    }
    let integer_len = exponent as usize + 1;
    if digits.len() <= integer_len {
        let zeros = "0".repeat(integer_len - digits.len());
        format!("{digits}{zeros}.0")
    } else {
        let (integer, fraction) = digits.split_at(integer_len);
        format!("{integer}.{fraction}")
    }
}

fn exponential(digits: &str, exponent: i32) -> String {
    let (first, rest) = digits.split_at(1.min(digits.len()));
    let fraction = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{first}{fraction}e{sign}{:02}", exponent.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (-165.56323, "-165.56323"),
            (236723.4, "236723.4"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1e-6, "1e-06"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (1e100, "1e+100"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (123456789.125, "123456789.125"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "{value:?}");
        }
    }

    #[test]
    fn compact_output_sorts_keys_and_uses_python_separators() {
        let value = json!({"b": [1, 2.5, null, true], "a": {"z": {}, "y": []}, "A": "x"});
        assert_eq!(
            to_string(&value, None),
            r#"{"A": "x", "a": {"y": [], "z": {}}, "b": [1, 2.5, null, true]}"#
        );
    }

    #[test]
    fn pretty_output_indents_like_python() {
        let value = json!({"b": [1, {"c": false}], "a": {}});
        assert_eq!(
            to_string(&value, Some(2)),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": false\n    }\n  ]\n}"
        );
    }

    #[test]
    fn strings_are_ascii_escaped() {
        let value = json!("q\"b\\n\n\t\u{1}\u{7f}é€😀");
        assert_eq!(
            to_string(&value, None),
            r#""q\"b\\n\n\t\u0001\u007f\u00e9\u20ac\ud83d\ude00""#
        );
    }

    #[test]
    fn integers_stay_integers() {
        let value = json!([0, -3, 18446744073709551615u64, -9223372036854775808i64]);
        assert_eq!(
            to_string(&value, None),
            "[0, -3, 18446744073709551615, -9223372036854775808]"
        );
    }
}
