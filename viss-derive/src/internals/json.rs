//! Just enough JSON for extended attributes: a syntax check, whitespace removal and string
//! quoting (the derive has no JSON library; the runtime writes the text as is).

/// Checks that `text` is one JSON value; the message says what is wrong where.
pub fn check(text: &str) -> Result<(), String> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        position: 0,
        depth: 0,
    };
    parser.value()?;
    parser.whitespace();
    if parser.position == parser.bytes.len() {
        Ok(())
    } else {
        Err(format!("unexpected text at byte {}", parser.position))
    }
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
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(control)));
            }
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

struct Parser<'a> {
    bytes: &'a [u8],
    position: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.position += 1;
        }
    }

    fn error<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("expected {what} at byte {}", self.position))
    }

    fn value(&mut self) -> Result<(), String> {
        self.whitespace();
        match self.peek() {
            Some(b'{') => self.container(b'}', true),
            Some(b'[') => self.container(b']', false),
            Some(b'"') => self.string(),
            Some(b't') => self.word("true"),
            Some(b'f') => self.word("false"),
            Some(b'n') => self.word("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.error("a JSON value"),
        }
    }

    fn word(&mut self, word: &str) -> Result<(), String> {
        if self.bytes[self.position..].starts_with(word.as_bytes()) {
            self.position += word.len();
            Ok(())
        } else {
            self.error(word)
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.position;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.position += 1;
        }
        self.position - start
    }

    fn number(&mut self) -> Result<(), String> {
        if self.peek() == Some(b'-') {
            self.position += 1;
        }
        let leading_zero = self.peek() == Some(b'0');
        let integer = self.digits();
        if integer == 0 || (leading_zero && integer > 1) {
            return self.error("a number");
        }
        if self.peek() == Some(b'.') {
            self.position += 1;
            if self.digits() == 0 {
                return self.error("fraction digits");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.position += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.position += 1;
            }
            if self.digits() == 0 {
                return self.error("exponent digits");
            }
        }
        Ok(())
    }

    fn string(&mut self) -> Result<(), String> {
        self.position += 1;
        loop {
            match self.peek() {
                None => return self.error("a closing `\"`"),
                Some(b'"') => {
                    self.position += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.position += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.position += 1;
                        }
                        Some(b'u') => {
                            self.position += 1;
                            for _ in 0..4 {
                                if !self.peek().is_some_and(|byte| byte.is_ascii_hexdigit()) {
                                    return self.error("4 hex digits");
                                }
                                self.position += 1;
                            }
                        }
                        _ => return self.error("an escape"),
                    }
                }
                Some(0..=0x1f) => return self.error("no control character"),
                Some(_) => self.position += 1,
            }
        }
    }

    fn container(&mut self, close: u8, object: bool) -> Result<(), String> {
        self.depth += 1;
        if self.depth > 64 {
            return self.error("less nesting");
        }
        self.position += 1;
        self.whitespace();
        if self.peek() == Some(close) {
            self.position += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if object {
                self.whitespace();
                if self.peek() != Some(b'"') {
                    return self.error("a member name");
                }
                self.string()?;
                self.whitespace();
                if self.peek() != Some(b':') {
                    return self.error("`:`");
                }
                self.position += 1;
            }
            self.value()?;
            self.whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(byte) if byte == close => {
                    self.position += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return self.error("`,` or the closing bracket"),
            }
        }
    }
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
