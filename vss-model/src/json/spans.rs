//! Byte offsets of node keys in a vss-tools JSON text.
//!
//! `serde_json::Value` forgets where things were, but diagnostics (and `Node::location`) need
//! file:line:col. This is a second, structural pass over text serde_json has already accepted:
//! it walks node objects and their `children` and records where each node's key and value
//! start, keyed by node path. Attribute positions are looked up on demand (only for errors).
//! Every step returns `Option`, so odd input yields "no location", never a panic.

use std::collections::HashMap;

/// Where a node's key and its value object start, as byte offsets into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    pub key: usize,
    pub value: usize,
}

/// Node path → span, for every node in one JSON file.
pub type NodeSpans = HashMap<String, NodeSpan>;

/// The key holding the types-tree roots in a combined export.
pub const COMPLEX_DATA_TYPES: &str = "ComplexDataTypes";

/// Records the span of every node in `text`. Top-level keys are roots, except
/// `ComplexDataTypes`, whose keys are types-tree roots.
pub fn node_spans(text: &str) -> NodeSpans {
    let mut spans = NodeSpans::new();
    let mut scanner = Scanner::new(text);
    let _ = scanner.object_entries(|scanner, key, key_offset| {
        if key == COMPLEX_DATA_TYPES {
            scanner.skip_ws();
            scanner.node_map("", &mut spans)
        } else {
            scanner.node(key, key_offset, &mut spans)
        }
    });
    spans
}

/// Offset of the value of attribute `name` in the node object starting at `node_value`.
pub fn attribute_offset(text: &str, node_value: usize, name: &str) -> Option<usize> {
    let mut scanner = Scanner::new(text);
    scanner.pos = node_value;
    let mut found = None;
    scanner.object_entries(|scanner, key, _| {
        scanner.skip_ws();
        if found.is_none() && key == name {
            found = Some(scanner.pos);
        }
        scanner.skip_value()
    })?;
    found
}

/// A cursor over JSON bytes that understands just enough structure to skip values.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Reads a string starting at the cursor and returns it decoded.
    fn string(&mut self) -> Option<String> {
        self.skip_ws();
        let start = self.pos;
        self.skip_string()?;
        let raw = self.text.get(start..self.pos)?;
        let inner = raw.get(1..raw.len() - 1)?;
        if inner.contains('\\') {
            serde_json::from_str(raw).ok()
        } else {
            Some(inner.to_owned())
        }
    }

    /// Moves past a string whose opening quote is at the cursor.
    fn skip_string(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
    }

    /// Moves past any value. Iterative, so deep nesting cannot exhaust the stack.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.pos += 1;
                }
                b',' | b':' if depth > 0 => self.pos += 1,
                b' ' | b'\n' | b'\r' | b'\t' => self.pos += 1,
                _ => self.skip_scalar(),
            }
            if depth == 0 {
                return Some(());
            }
        }
    }

    fn skip_scalar(&mut self) {
        while let Some(byte) = self.peek() {
            if matches!(byte, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.pos += 1;
        }
    }

    /// Calls `entry(scanner, key, key_offset)` for each entry of the object at the cursor;
    /// `entry` must consume the value.
    fn object_entries(
        &mut self,
        mut entry: impl FnMut(&mut Self, &str, usize) -> Option<()>,
    ) -> Option<()> {
        self.expect(b'{')?;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.skip_ws();
            let key_offset = self.pos;
            let key = self.string()?;
            self.expect(b':')?;
            entry(self, &key, key_offset)?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An object whose keys are node names (`children`, `ComplexDataTypes`).
    fn node_map(&mut self, prefix: &str, spans: &mut NodeSpans) -> Option<()> {
        if self.peek()? != b'{' {
            return self.skip_value();
        }
        self.object_entries(|scanner, name, key_offset| {
            let path = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            };
            scanner.node(&path, key_offset, spans)
        })
    }

    /// A node object at the cursor: records its span and walks its `children`.
    fn node(&mut self, path: &str, key_offset: usize, spans: &mut NodeSpans) -> Option<()> {
        self.skip_ws();
        spans.insert(
            path.to_owned(),
            NodeSpan {
                key: key_offset,
                value: self.pos,
            },
        );
        if self.peek()? != b'{' {
            return self.skip_value();
        }
        self.object_entries(|scanner, key, _| {
            scanner.skip_ws();
            if key == "children" {
                scanner.node_map(path, spans)
            } else {
                scanner.skip_value()
            }
        })
    }
}

/// Converts byte offsets to 1-based line and column (column in characters).
///
/// Compact exports are a single line of megabytes, so counting characters from the line
/// start for every node would be quadratic; instead the bytes "saved" by multi-byte
/// characters are recorded once and looked up by binary search.
#[derive(Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    /// `(offset of a multi-byte character, extra bytes of it and all before it)`.
    multibyte: Vec<(usize, usize)>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut extra = 0;
        let multibyte = text
            .char_indices()
            .filter(|(_, c)| !c.is_ascii())
            .map(|(offset, c)| {
                extra += c.len_utf8() - 1;
                (offset, extra)
            })
            .collect();
        LineIndex {
            line_starts,
            multibyte,
            len: text.len(),
        }
    }

    /// `(line, column)` of `offset`, both 1-based.
    pub fn line_column(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.len);
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let characters = (offset - start) - (self.extra_before(offset) - self.extra_before(start));
        (line as u32, characters as u32 + 1)
    }

    /// Extra bytes of the multi-byte characters that start before `offset`.
    fn extra_before(&self, offset: usize) -> usize {
        let count = self.multibyte.partition_point(|(at, _)| *at < offset);
        count
            .checked_sub(1)
            .and_then(|i| self.multibyte.get(i))
            .map_or(0, |(_, extra)| *extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
  "ComplexDataTypes": {"T": {"children": {"S": {"type": "struct"}}, "type": "branch"}},
  "V": {
    "children": {
      "A\"b": {"type": "sensor", "x": {"children": {"Fake": 1}}},
      "C": {"children": {}, "type": "branch", "tags": ["a", {"b": [1, 2.5e3, null]}]}
    },
    "type": "branch"
  }
}"#;

    #[test]
    fn finds_every_node_and_only_nodes() {
        let spans = node_spans(TEXT);
        let mut paths: Vec<_> = spans.keys().cloned().collect();
        paths.sort();
        assert_eq!(paths, ["T", "T.S", "V", "V.A\"b", "V.C"]);
        let index = LineIndex::new(TEXT);
        assert_eq!(index.line_column(spans["V"].key), (3, 3));
        assert_eq!(index.line_column(spans["V.C"].key), (6, 7));
        assert_eq!(index.line_column(spans["V.C"].value), (6, 12));
    }

    #[test]
    fn finds_attribute_values() {
        let spans = node_spans(TEXT);
        let offset = attribute_offset(TEXT, spans["V.C"].value, "type");
        let index = LineIndex::new(TEXT);
        assert_eq!(offset.map(|o| index.line_column(o)), Some((6, 37)));
        assert_eq!(attribute_offset(TEXT, spans["V.C"].value, "nope"), None);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "ab\n\"é€😀\": 1, x\nz";
        let index = LineIndex::new(text);
        assert_eq!(index.line_column(0), (1, 1));
        assert_eq!(index.line_column(3), (2, 1));
        let colon = text.find(':').unwrap();
        assert_eq!(index.line_column(colon), (2, 6));
        assert_eq!(index.line_column(text.find('x').unwrap()), (2, 11));
        assert_eq!(index.line_column(text.len() - 1), (3, 1));
        assert_eq!(index.line_column(text.len() + 10), (3, 2));
    }

    #[test]
    fn malformed_text_gives_no_spans_instead_of_panicking() {
        for text in [
            "",
            "{",
            "{\"a\": {\"children\": {\"b\": ",
            "[1, 2]",
            "{\"a\": \"\\",
        ] {
            let _ = node_spans(text);
        }
    }
}
