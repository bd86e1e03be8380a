//! The flat raw model: `{ "Full.Dotted.Path": {attribute: value} }`, merged in load order
//! (root file, its includes, overlays, their includes) before any tree exists (§1 step 3).

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

use super::yaml::{YNode, YValue, python_str};
use crate::source::{FileId, SourceLocation};

/// One attribute with where its key and value were (last) written.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub value: Value,
    pub key_loc: SourceLocation,
    pub value_loc: SourceLocation,
}

/// The attributes of one raw key, in source order.
pub type Attrs = IndexMap<String, Attr>;

/// One raw key: its attributes and where the key was (last) written.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEntry {
    pub attrs: Attrs,
    pub loc: SourceLocation,
}

/// The merged raw model. Insertion order is first appearance; updates keep the position.
#[derive(Debug, Clone, Default)]
pub struct RawModel {
    pub entries: IndexMap<String, RawEntry>,
    /// Keys set to `delete: true`, with the index of the file load that did it.
    deleted: HashMap<String, usize>,
}

/// Something worth reporting found while merging.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeNote {
    /// A wildcard key that matched nothing.
    GlobNoMatch { key: String, loc: SourceLocation },
    /// A later file changes a node that an earlier file deleted (the change is lost).
    ChangeUnderDeleted {
        key: String,
        deleted: String,
        loc: SourceLocation,
    },
}

impl RawModel {
    /// Merges the entries of file load number `load`. The first load is taken as is; later
    /// ones have their wildcard keys expanded against the keys merged so far (vss-tools
    /// `VSpec.update`).
    pub fn merge_file(
        &mut self,
        file_entries: Vec<(String, RawEntry)>,
        load: usize,
        notes: &mut Vec<MergeNote>,
    ) {
        let expanded = if load == 0 {
            file_entries
        } else {
            self.expand_globs(file_entries, notes)
        };
        for (key, entry) in expanded {
            self.note_deleted(&key, &entry, load, notes);
            match self.entries.get_mut(&key) {
                Some(existing) => {
                    deep_update_attrs(&mut existing.attrs, entry.attrs);
                    existing.loc = entry.loc;
                }
                None => {
                    self.entries.insert(key, entry);
                }
            }
        }
    }

    /// Remembers `delete: true` and reports changes to a node (or below it) that an earlier
    /// load deleted.
    fn note_deleted(
        &mut self,
        key: &str,
        entry: &RawEntry,
        load: usize,
        notes: &mut Vec<MergeNote>,
    ) {
        let mut prefix = key;
        loop {
            if let Some(&at) = self.deleted.get(prefix)
                && at < load
            {
                notes.push(MergeNote::ChangeUnderDeleted {
                    key: key.to_owned(),
                    deleted: prefix.to_owned(),
                    loc: entry.loc,
                });
                break;
            }
            match prefix.rsplit_once('.') {
                Some((parent, _)) => prefix = parent,
                None => break,
            }
        }
        if entry.attrs.get("delete").map(|a| &a.value) == Some(&Value::Bool(true)) {
            self.deleted.entry(key.to_owned()).or_insert(load);
        }
    }

    fn expand_globs(
        &self,
        file_entries: Vec<(String, RawEntry)>,
        notes: &mut Vec<MergeNote>,
    ) -> Vec<(String, RawEntry)> {
        let mut out = Vec::with_capacity(file_entries.len());
        for (key, entry) in file_entries {
            if !key.contains('*') {
                out.push((key, entry));
                continue;
            }
            let matches: Vec<&String> = self.entries.keys().filter(|k| fnmatch(k, &key)).collect();
            if matches.is_empty() {
                notes.push(MergeNote::GlobNoMatch {
                    key: key.clone(),
                    loc: entry.loc,
                });
            }
            for matched in matches {
                out.push((matched.clone(), entry.clone()));
            }
        }
        out
    }
}

/// vss-tools `deep_update` on attribute level: mapping values merge recursively, everything
/// else (lists included) is replaced.
pub fn deep_update_attrs(base: &mut Attrs, update: Attrs) {
    for (key, attr) in update {
        match base.get_mut(&key) {
            Some(existing) => {
                if let (Value::Object(old), Value::Object(new)) = (&mut existing.value, &attr.value)
                {
                    deep_update_json(old, new.clone());
                    existing.key_loc = attr.key_loc;
                    existing.value_loc = attr.value_loc;
                } else {
                    *existing = attr;
                }
            }
            None => {
                base.insert(key, attr);
            }
        }
    }
}

/// `deep_update` on JSON mappings.
pub fn deep_update_json(base: &mut Map<String, Value>, update: Map<String, Value>) {
    for (key, value) in update {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => deep_update_json(old, new),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Python `fnmatch.fnmatch` on POSIX (case-sensitive): `*`, `?`, `[seq]`, `[!seq]`.
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    match_from(&name, &pattern)
}

fn match_from(name: &[char], pattern: &[char]) -> bool {
    // Iterative wildcard matching with backtracking to the last `*`.
    let (mut n, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() {
            match pattern[p] {
                '*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                '?' => {
                    n += 1;
                    p += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(name[n], &pattern[p..]) {
                        if matched {
                            n += 1;
                            p += next;
                            continue;
                        }
                    } else if name[n] == '[' {
                        n += 1;
                        p += 1;
                        continue;
                    }
                }
                c if c == name[n] => {
                    n += 1;
                    p += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Matches `c` against a `[...]` class at the start of `pattern`; returns whether it matched and
/// the class length, or None when the bracket is not closed (then it is a literal `[`).
fn class_match(c: char, pattern: &[char]) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pattern.get(1), Some('!'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    while i < pattern.len() {
        if pattern[i] == ']' && i > start {
            return Some((matched != negate, i + 1));
        }
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|e| *e != ']') {
            if pattern[i] <= c && c <= pattern[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if pattern[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// Converts a YAML value into JSON the way vss-tools' Python values end up in JSON: mapping
/// keys become `str(key)`, integers beyond 64 bits become floats, `inf`/`nan` become strings.
pub fn to_json(node: &YNode) -> Value {
    match &node.value {
        YValue::Null => Value::Null,
        YValue::Bool(b) => Value::Bool(*b),
        YValue::Int(i) => int_to_json(*i),
        YValue::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(super::yaml::python_float(*f))),
        YValue::Str(s) => Value::String(s.clone()),
        YValue::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        YValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (python_str(&k.value), to_json(v)))
                .collect(),
        ),
    }
}

fn int_to_json(i: i128) -> Value {
    if let Ok(v) = i64::try_from(i) {
        Value::Number(v.into())
    } else if let Ok(v) = u64::try_from(i) {
        Value::Number(v.into())
    } else {
        Number::from_f64(i as f64).map_or(Value::Null, Value::Number)
    }
}

/// A position in `file` for a YAML node.
pub fn loc(file: FileId, node: &YNode) -> SourceLocation {
    SourceLocation {
        file,
        line: node.pos.line,
        column: node.pos.column,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_like_python() {
        assert!(fnmatch("A.Door.Window.Position", "A.Door.*"));
        assert!(fnmatch("A.Door", "A.Do?r"));
        assert!(!fnmatch("A.Door", "A.Door.*"));
        assert!(fnmatch("A.B1", "A.B[0-9]"));
        assert!(!fnmatch("A.Bx", "A.B[!x]"));
        assert!(fnmatch("A.x.B", "*.B"));
        assert!(fnmatch("a[", "a["));
    }

    #[test]
    fn deep_update_merges_maps_and_replaces_lists() {
        let mut base = serde_json::json!({"a": 1, "m": {"x": 1, "y": 2}, "l": [1, 2]});
        let update = serde_json::json!({"m": {"y": 3}, "l": [9]});
        if let (Value::Object(b), Value::Object(u)) = (&mut base, update) {
            deep_update_json(b, u);
        }
        assert_eq!(
            base,
            serde_json::json!({"a": 1, "m": {"x": 1, "y": 3}, "l": [9]})
        );
    }
}
