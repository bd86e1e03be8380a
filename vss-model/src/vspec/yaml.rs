//! YAML loading with positions, resolving plain scalars the YAML 1.1 way (PyYAML `safe_load`).
//!
//! vss-tools reads vspec files with PyYAML, so `ON` is a boolean, `010` is 8 and `1e3` is a
//! string. A YAML 1.2 deserializer cannot tell us whether a scalar was quoted, so this module
//! works on the event stream of `granit-parser` (the parser under serde-saphyr), which keeps the
//! scalar style and the position of every node.

use std::collections::HashMap;

use granit_parser::{Event, Options, Parser, ScalarStyle, Span};

/// A 1-based line and column inside one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos {
            line: span.start.line() as u32,
            column: span.start.col() as u32 + 1,
        }
    }
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct YNode {
    pub value: YValue,
    pub pos: Pos,
}

/// A resolved YAML value. Mappings keep source order; duplicate keys were already collapsed
/// (last value wins, first position kept, as PyYAML does).
#[derive(Debug, Clone, PartialEq)]
pub enum YValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<YNode>),
    Map(Vec<(YNode, YNode)>),
}

/// Something wrong in the YAML itself.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlProblem {
    pub pos: Pos,
    pub message: String,
    /// True for errors (syntax, duplicate keys); false for warnings.
    pub fatal: bool,
    pub code: &'static str,
}

/// The result of reading one document: `None` for an empty file.
#[derive(Debug, Default)]
pub struct YamlDoc {
    pub root: Option<YNode>,
    pub problems: Vec<YamlProblem>,
}

/// Upper bound on nodes materialised through aliases, so a "billion laughs" file fails
/// cleanly instead of exhausting memory.
const ALIAS_NODE_BUDGET: usize = 1_000_000;

/// Parses `text` (the first document only, as PyYAML's `safe_load` does for a one-document
/// stream; a second document is reported).
pub fn parse(text: &str) -> YamlDoc {
    let mut options = Options::default();
    options.block_scalar_eof_without_line_feed = true;
    let mut builder = Builder {
        parser: Parser::new_from_str_with_options(text, options),
        anchors: HashMap::new(),
        problems: Vec::new(),
        alias_budget: ALIAS_NODE_BUDGET,
    };
    let root = builder.document();
    YamlDoc {
        root,
        problems: builder.problems,
    }
}

struct Builder<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, YNode>,
    problems: Vec<YamlProblem>,
    alias_budget: usize,
}

/// Why building stopped early.
struct Stop;

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Stop> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => {
                let marker = error.marker();
                self.problems.push(YamlProblem {
                    pos: Pos {
                        line: marker.line().max(1) as u32,
                        column: marker.col() as u32 + 1,
                    },
                    message: error.info(),
                    fatal: true,
                    code: "vss::yaml-syntax",
                });
                Err(Stop)
            }
            None => Err(Stop),
        }
    }

    fn document(&mut self) -> Option<YNode> {
        let mut root = None;
        let mut documents = 0;
        loop {
            let Ok((event, span)) = self.next() else {
                return None;
            };
            match event {
                Event::StreamEnd => return root,
                Event::DocumentStart(..) => {
                    documents += 1;
                    if documents == 2 {
                        self.problems.push(YamlProblem {
                            pos: Pos::of(&span),
                            message: "expected a single YAML document in the file".into(),
                            fatal: true,
                            code: "vss::yaml-syntax",
                        });
                        return None;
                    }
                }
                Event::DocumentEnd | Event::StreamStart => {}
                _ => match self.node(event, span) {
                    Ok(node) => root = Some(node),
                    Err(Stop) => return None,
                },
            }
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<YNode, Stop> {
        let pos = Pos::of(&span);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag_suffix = tag
                    .as_ref()
                    .filter(|t| t.is_yaml_core_schema())
                    .map(|t| t.parts().1.to_owned());
                let value = resolve_scalar(&text, style, tag_suffix.as_deref());
                let node = YNode { value, pos };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span)?);
                }
                let node = YNode {
                    value: YValue::Seq(items),
                    pos,
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(_, anchor, _) => {
                let node = YNode {
                    value: YValue::Map(self.mapping_entries()?),
                    pos,
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::Alias(id) => self.alias(id, pos),
            _ => {
                self.problems.push(YamlProblem {
                    pos,
                    message: "unexpected YAML event".into(),
                    fatal: true,
                    code: "vss::yaml-syntax",
                });
                Err(Stop)
            }
        }
    }

    fn alias(&mut self, id: usize, pos: Pos) -> Result<YNode, Stop> {
        let Some(target) = self.anchors.get(&id) else {
            self.problems.push(YamlProblem {
                pos,
                message: "alias to an unknown anchor".into(),
                fatal: true,
                code: "vss::yaml-syntax",
            });
            return Err(Stop);
        };
        let size = node_count(target);
        if size > self.alias_budget {
            self.problems.push(YamlProblem {
                pos,
                message: "aliases expand to too many nodes".into(),
                fatal: true,
                code: "vss::yaml-syntax",
            });
            return Err(Stop);
        }
        self.alias_budget -= size;
        Ok(target.clone())
    }

    fn remember(&mut self, anchor: usize, node: &YNode) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    /// Reads key/value pairs up to the mapping end, applying `<<` merge keys and collapsing
    /// duplicate keys the way PyYAML does.
    fn mapping_entries(&mut self) -> Result<Vec<(YNode, YNode)>, Stop> {
        let mut own: Vec<(YNode, YNode)> = Vec::new();
        let mut merged: Vec<(YNode, YNode)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let is_merge_key =
                matches!(&event, Event::Scalar(text, ScalarStyle::Plain, _, _) if text == "<<");
            let key = self.node(event, span)?;
            let (event, span) = self.next()?;
            let value = self.node(event, span)?;
            if is_merge_key {
                self.merge_source(value, &mut merged);
            } else {
                own.push((key, value));
            }
        }
        // Repeated keys written in this mapping are reported; merged entries come first so
        // that the mapping's own keys override them silently.
        let own = self.collapse_duplicates(own, true);
        if merged.is_empty() {
            return Ok(own);
        }
        merged.extend(own);
        Ok(self.collapse_duplicates(merged, false))
    }

    fn merge_source(&mut self, value: YNode, merged: &mut Vec<(YNode, YNode)>) {
        match value.value {
            YValue::Map(entries) => merged.extend(entries),
            YValue::Seq(items) => {
                // PyYAML: earlier mappings in the list take precedence over later ones.
                for item in items.into_iter().rev() {
                    match item.value {
                        YValue::Map(entries) => merged.extend(entries),
                        _ => self.bad_merge(item.pos),
                    }
                }
            }
            _ => self.bad_merge(value.pos),
        }
    }

    fn bad_merge(&mut self, pos: Pos) {
        self.problems.push(YamlProblem {
            pos,
            message: "a merge key '<<' needs a mapping or a list of mappings".into(),
            fatal: true,
            code: "vss::yaml-syntax",
        });
    }

    /// Keeps one entry per key (the last value, at the first key's position, so the tree can
    /// still be built and every other error reported); a repeated key written in this
    /// mapping (not one brought in by a merge key) is an error.
    fn collapse_duplicates(
        &mut self,
        entries: Vec<(YNode, YNode)>,
        report: bool,
    ) -> Vec<(YNode, YNode)> {
        let mut out: Vec<(YNode, YNode)> = Vec::with_capacity(entries.len());
        let mut index: HashMap<KeyId, usize> = HashMap::with_capacity(entries.len());
        for (key, value) in entries {
            let id = KeyId::of(&key.value);
            match index.get(&id) {
                Some(&at) => {
                    if report {
                        self.problems.push(YamlProblem {
                            pos: key.pos,
                            message: format!(
                                "duplicate key '{}' (first at line {}): vss-tools would silently keep only the last value",
                                python_str(&key.value),
                                out[at].0.pos.line
                            ),
                            // An error, not vss-tools' silent last-wins: a repeated node
                            // name or attribute almost always means a lost definition.
                            fatal: true,
                            code: "vss::duplicate-key",
                        });
                    }
                    out[at].1 = value;
                }
                None => {
                    index.insert(id, out.len());
                    out.push((key, value));
                }
            }
        }
        out
    }
}

/// Hashable identity of a mapping key (floats by bit pattern, collections by their text).
#[derive(Debug, PartialEq, Eq, Hash)]
enum KeyId {
    Null,
    Bool(bool),
    Int(i128),
    Float(u64),
    Str(String),
    Other(String),
}

impl KeyId {
    fn of(value: &YValue) -> KeyId {
        match value {
            YValue::Null => KeyId::Null,
            // Python: True == 1 as dict keys; keep them apart, collisions are exotic.
            YValue::Bool(b) => KeyId::Bool(*b),
            YValue::Int(i) => KeyId::Int(*i),
            YValue::Float(f) => KeyId::Float(f.to_bits()),
            YValue::Str(s) => KeyId::Str(s.clone()),
            other => KeyId::Other(python_str(other)),
        }
    }
}

fn node_count(node: &YNode) -> usize {
    match &node.value {
        YValue::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        YValue::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| node_count(k) + node_count(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// Resolves one scalar: quoted and block scalars are strings; plain ones follow PyYAML's
/// YAML 1.1 resolver; core-schema tags (`!!str`, `!!int`, ...) force a type.
pub fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> YValue {
    match tag {
        Some("str") => return YValue::Str(text.to_owned()),
        Some("int") => return parse_int(text).map_or(YValue::Str(text.to_owned()), YValue::Int),
        Some("float") => {
            return parse_float(text)
                .or_else(|| parse_int(text).map(|i| i as f64))
                .map_or(YValue::Str(text.to_owned()), YValue::Float);
        }
        Some("bool") => return parse_bool(text).map_or(YValue::Str(text.to_owned()), YValue::Bool),
        Some("null") => return YValue::Null,
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return YValue::Str(text.to_owned());
    }
    resolve_plain(text)
}

/// PyYAML's implicit resolvers for plain scalars.
pub fn resolve_plain(text: &str) -> YValue {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return YValue::Null;
    }
    if let Some(b) = parse_bool(text) {
        return YValue::Bool(b);
    }
    if let Some(i) = parse_int(text) {
        return YValue::Int(i);
    }
    if let Some(f) = parse_float(text) {
        return YValue::Float(f);
    }
    YValue::Str(text.to_owned())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// YAML 1.1 integers: `0b1010`, `010` (octal), `0x1F`, `1_000`, `1:30` (sexagesimal).
fn parse_int(text: &str) -> Option<i128> {
    let (negative, body) = split_sign(text);
    let magnitude = int_magnitude(body)?;
    Some(if negative { -magnitude } else { magnitude })
}

fn int_magnitude(body: &str) -> Option<i128> {
    let all = |s: &str, ok: fn(u8) -> bool| !s.is_empty() && s.bytes().all(ok);
    let digits_of = |s: &str| s.replace('_', "");
    if let Some(bin) = body.strip_prefix("0b") {
        return all(bin, |b| b == b'0' || b == b'1' || b == b'_')
            .then(|| i128::from_str_radix(&digits_of(bin), 2).ok())
            .flatten();
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return all(hex, |b| b.is_ascii_hexdigit() || b == b'_')
            .then(|| i128::from_str_radix(&digits_of(hex), 16).ok())
            .flatten();
    }
    if body == "0" {
        return Some(0);
    }
    if let Some(oct) = body.strip_prefix('0') {
        return all(oct, |b| (b'0'..=b'7').contains(&b) || b == b'_')
            .then(|| i128::from_str_radix(&digits_of(oct), 8).ok())
            .flatten();
    }
    let first_ok = body
        .as_bytes()
        .first()
        .is_some_and(|b| (b'1'..=b'9').contains(b));
    if !first_ok {
        return None;
    }
    if body.contains(':') {
        return sexagesimal_int(body);
    }
    all(body, |b| b.is_ascii_digit() || b == b'_')
        .then(|| digits_of(body).parse::<i128>().ok())
        .flatten()
}

/// `1:30:05` → 5405, each part after the first being `[0-5]?[0-9]`.
fn sexagesimal_int(body: &str) -> Option<i128> {
    let mut parts = body.split(':');
    let head = parts.next()?;
    if !head.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let mut value: i128 = head.replace('_', "").parse().ok()?;
    for part in parts {
        if !is_base60_digit(part) {
            return None;
        }
        value = value
            .checked_mul(60)?
            .checked_add(part.parse::<i128>().ok()?)?;
    }
    Some(value)
}

fn is_base60_digit(part: &str) -> bool {
    let b = part.as_bytes();
    match b.len() {
        1 => b[0].is_ascii_digit(),
        2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
        _ => false,
    }
}

/// YAML 1.1 floats: a dot is required and an exponent needs a sign (`1.0e+3`); `1e3` is not a
/// float. Also `.inf`, `-.inf`, `.nan` and sexagesimal `1:30.5`.
fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    if let Some(rest) = text.strip_prefix('.') {
        // `\.[0-9_]+([eE][-+][0-9]+)?` — no sign allowed on this form in PyYAML.
        return decimal_float("0", rest);
    }
    let (negative, body) = split_sign(text);
    let value = if body.contains(':') {
        sexagesimal_float(body)?
    } else {
        let (int_part, frac) = body.split_once('.')?;
        if !int_part.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return None;
        }
        decimal_float(int_part, frac)?
    };
    Some(if negative { -value } else { value })
}

/// `int_part` is `[0-9][0-9_]*` (or "0"), `rest` is `[0-9_]*([eE][-+][0-9]+)?`.
fn decimal_float(int_part: &str, rest: &str) -> Option<f64> {
    if !int_part.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let (frac, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    if !frac.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    if let Some(exp) = exponent {
        let digits = exp.strip_prefix(['+', '-'])?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let cleaned = format!("{}.{}", int_part, rest).replace('_', "");
    let cleaned = cleaned.replace(".e", ".0e").replace(".E", ".0E");
    cleaned.parse::<f64>().ok()
}

fn sexagesimal_float(body: &str) -> Option<f64> {
    let (whole, frac) = body.rsplit_once('.')?;
    if !frac.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let mut parts = whole.split(':');
    let head = parts.next()?;
    if !head.as_bytes().first().is_some_and(u8::is_ascii_digit)
        || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let mut value: f64 = head.replace('_', "").parse().ok()?;
    let mut last_part = "";
    let mut count = 0;
    for part in parts {
        if !is_base60_digit(part) {
            return None;
        }
        value = value * 60.0 + part.parse::<f64>().ok()?;
        last_part = part;
        count += 1;
    }
    if count == 0 || last_part.is_empty() {
        return None;
    }
    let fraction: f64 = format!("0.{}", frac.replace('_', "")).parse().ok()?;
    Some(value + fraction)
}

/// Python's `str()` of a resolved value, used where vss-tools turns a value into a name
/// (`True`, `1.5`, `['A1', 'B1']`).
pub fn python_str(value: &YValue) -> String {
    match value {
        YValue::Str(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python's `repr()` of a resolved value.
pub fn python_repr(value: &YValue) -> String {
    match value {
        YValue::Null => "None".into(),
        YValue::Bool(true) => "True".into(),
        YValue::Bool(false) => "False".into(),
        YValue::Int(i) => i.to_string(),
        YValue::Float(f) => python_float(*f),
        YValue::Str(s) => python_str_repr(s),
        YValue::Seq(items) => {
            let inner: Vec<String> = items.iter().map(|n| python_repr(&n.value)).collect();
            format!("[{}]", inner.join(", "))
        }
        YValue::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", python_repr(&k.value), python_repr(&v.value)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

fn python_str_repr(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\'', "\\'"))
    }
}

/// Python's float repr for the common cases (`1.0`, `0.5`, `inf`, `1e+39`).
pub fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        let text = format!("{f:e}");
        return match text.split_once('e') {
            Some((mantissa, exp)) => {
                let exp_num: i32 = exp.parse().unwrap_or(0);
                format!(
                    "{mantissa}e{}{:02}",
                    if exp_num < 0 { '-' } else { '+' },
                    exp_num.abs()
                )
            }
            None => text,
        };
    }
    let text = format!("{f}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> YValue {
        resolve_plain(text)
    }

    #[test]
    fn resolves_yaml_1_1_scalars_like_pyyaml() {
        assert_eq!(plain("ON"), YValue::Bool(true));
        assert_eq!(plain("off"), YValue::Bool(false));
        assert_eq!(plain("yEs"), YValue::Str("yEs".into()));
        assert_eq!(plain("y"), YValue::Str("y".into()));
        assert_eq!(plain("010"), YValue::Int(8));
        assert_eq!(plain("09"), YValue::Str("09".into()));
        assert_eq!(plain("0x1F"), YValue::Int(31));
        assert_eq!(plain("0b101"), YValue::Int(5));
        assert_eq!(plain("1_000"), YValue::Int(1000));
        assert_eq!(plain("-12"), YValue::Int(-12));
        assert_eq!(plain("1:30"), YValue::Int(90));
        assert_eq!(plain("1e3"), YValue::Str("1e3".into()));
        assert_eq!(plain("1.0e3"), YValue::Str("1.0e3".into()));
        assert_eq!(plain("1.0e+3"), YValue::Float(1000.0));
        assert_eq!(plain("1."), YValue::Float(1.0));
        assert_eq!(plain(".5"), YValue::Float(0.5));
        assert_eq!(plain("-0.5"), YValue::Float(-0.5));
        assert_eq!(plain("~"), YValue::Null);
        assert_eq!(plain("-.inf"), YValue::Float(f64::NEG_INFINITY));
        assert_eq!(plain("Row[1,2]"), YValue::Str("Row[1,2]".into()));
    }

    #[test]
    fn quoted_scalars_stay_strings_and_positions_are_kept() {
        let doc = parse("A:\n  x: 'ON'\n  y: ON\n  z: |\n    text\n");
        assert!(doc.problems.is_empty(), "{:?}", doc.problems);
        let Some(YNode {
            value: YValue::Map(top),
            ..
        }) = doc.root
        else {
            panic!("not a map");
        };
        let YValue::Map(attrs) = &top[0].1.value else {
            panic!("not a map");
        };
        assert_eq!(attrs[0].1.value, YValue::Str("ON".into()));
        assert_eq!(attrs[1].1.value, YValue::Bool(true));
        assert_eq!(attrs[1].1.pos, Pos { line: 3, column: 6 });
        assert_eq!(attrs[2].1.value, YValue::Str("text\n".into()));
    }

    #[test]
    fn duplicate_keys_are_errors_and_merge_keys_apply() {
        let doc = parse("b: &b {x: 1, y: 2}\nA:\n  <<: *b\n  y: 3\n  y: 4\n");
        assert_eq!(doc.problems.len(), 1);
        assert_eq!(doc.problems[0].code, "vss::duplicate-key");
        assert!(doc.problems[0].fatal);
        assert_eq!(doc.problems[0].pos, Pos { line: 5, column: 3 });
        let Some(YNode {
            value: YValue::Map(top),
            ..
        }) = doc.root
        else {
            panic!("not a map");
        };
        assert_eq!(python_repr(&top[1].1.value), "{'x': 1, 'y': 4}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let doc = parse("A:\n  type: branch\n x: [\n");
        assert!(doc.problems.iter().any(|p| p.fatal && p.pos.line >= 2));
    }

    #[test]
    fn python_float_repr() {
        assert_eq!(python_float(1.0), "1.0");
        assert_eq!(python_float(1e39), "1e+39");
        assert_eq!(python_float(0.25), "0.25");
    }
}
