//! Reading vspec files with their includes (§3): `#include` lines found by a raw line scan,
//! the `includes:` attribute, prefixes, the vss-tools search order and cycle detection.
//! Each file is read and parsed once; every inclusion re-applies its prefix to the parsed keys.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::Value;

use super::raw::{Attr, RawEntry, loc, to_json};
use super::yaml::{self, YNode, YValue, python_str};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, SourceLocation, SourceMap};

/// One `#include <file> [prefix]` line.
#[derive(Debug, Clone)]
struct IncludeLine {
    target: String,
    prefix: Option<String>,
    loc: SourceLocation,
}

/// A file read and parsed once: its top-level entries (unprefixed) and include lines.
#[derive(Debug)]
struct ParsedFile {
    entries: Vec<(String, RawEntry)>,
    includes: Vec<IncludeLine>,
}

/// Reads spec files and their includes, caching parsed files by path.
pub struct Reader<'a> {
    pub sources: &'a mut SourceMap,
    pub diagnostics: &'a mut Diagnostics,
    include_dirs: Vec<PathBuf>,
    cache: HashMap<PathBuf, Option<Rc<ParsedFile>>>,
    /// Files currently being included, to detect cycles.
    stack: Vec<PathBuf>,
    /// In-memory files (for fuzzing and tests), consulted before the file system.
    memory: HashMap<PathBuf, String>,
}

/// One vspec load in merge order, with its prefix applied.
pub type FileEntries = Vec<(String, RawEntry)>;

impl<'a> Reader<'a> {
    pub fn new(
        sources: &'a mut SourceMap,
        diagnostics: &'a mut Diagnostics,
        include_dirs: &[PathBuf],
    ) -> Reader<'a> {
        Reader {
            sources,
            diagnostics,
            include_dirs: include_dirs.to_vec(),
            cache: HashMap::new(),
            stack: Vec::new(),
            memory: HashMap::new(),
        }
    }

    /// Registers an in-memory file that shadows the file system.
    pub fn add_memory_file(&mut self, path: PathBuf, text: String) {
        self.memory.insert(path, text);
    }

    /// vss-tools `load_vspec`: every spec with its includes, depth-first, in merge order.
    pub fn load_specs(&mut self, specs: &[PathBuf]) -> Vec<FileEntries> {
        let mut loads = Vec::new();
        for spec in specs {
            let spec_dir = parent_dir(spec);
            let mut dirs = vec![spec_dir];
            dirs.extend(self.include_dirs.iter().cloned());
            self.load_recursive(spec, None, &dirs, None, &mut loads);
        }
        loads
    }

    fn load_recursive(
        &mut self,
        path: &Path,
        prefix: Option<&str>,
        dirs: &[PathBuf],
        included_at: Option<SourceLocation>,
        loads: &mut Vec<FileEntries>,
    ) {
        let Some(parsed) = self.parsed(path, included_at) else {
            return;
        };
        let mut entries = Vec::with_capacity(parsed.entries.len());
        let mut includes: Vec<IncludeLine> = Vec::new();
        for (key, entry) in &parsed.entries {
            let full = prefixed(prefix, key);
            let mut entry = entry.clone();
            includes.extend(self.includes_attribute(&full, &mut entry));
            entries.push((full, entry));
        }
        loads.push(entries);
        for line in &parsed.includes {
            includes.push(IncludeLine {
                prefix: compose_prefix(prefix, line.prefix.as_deref()),
                ..line.clone()
            });
        }
        self.stack.push(path.to_path_buf());
        let own_dir = parent_dir(path);
        for include in includes {
            self.follow(&include, dirs, &own_dir, loads);
        }
        self.stack.pop();
    }

    fn follow(
        &mut self,
        include: &IncludeLine,
        dirs: &[PathBuf],
        own_dir: &Path,
        loads: &mut Vec<FileEntries>,
    ) {
        let mut search: Vec<PathBuf> = dirs.to_vec();
        search.push(own_dir.to_path_buf());
        let mut unique: Vec<PathBuf> = Vec::with_capacity(search.len());
        for dir in search {
            if !unique.contains(&dir) {
                unique.push(dir);
            }
        }
        let Some(target) = self.resolve(&include.target, &unique) else {
            let listed: Vec<String> = unique.iter().map(|d| d.display().to_string()).collect();
            self.diagnostics.push(
                Diagnostic::error(
                    "vss::include-not-found",
                    format!(
                        "Unable to find include {}. Include dirs: [{}]",
                        include.target,
                        listed.join(", ")
                    ),
                )
                .at(Some(include.loc)),
            );
            return;
        };
        if self.is_on_stack(&target) {
            self.diagnostics.push(
                Diagnostic::error(
                    "vss::include-cycle",
                    format!("circular include of '{}'", target.display()),
                )
                .at(Some(include.loc))
                .with_label("this include leads back to a file that is being included"),
            );
            return;
        }
        self.load_recursive(
            &target,
            include.prefix.as_deref(),
            dirs,
            Some(include.loc),
            loads,
        );
    }

    fn is_on_stack(&self, target: &Path) -> bool {
        let canonical = canonical(target);
        self.stack.iter().any(|p| canonical == self::canonical(p))
    }

    /// First existing candidate in search order; a target without extension is also tried
    /// with `.vspec`, `.yaml`, `.yml`.
    fn resolve(&self, target: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
        let has_extension = Path::new(target).extension().is_some();
        for dir in dirs {
            let base = dir.join(target);
            if self.exists(&base) {
                return Some(base);
            }
            if !has_extension {
                for ext in ["vspec", "yaml", "yml"] {
                    let candidate = dir.join(format!("{target}.{ext}"));
                    if self.exists(&candidate) {
                        return Some(candidate);
                    }
                }
            }
        }
        None
    }

    fn exists(&self, path: &Path) -> bool {
        self.memory.contains_key(path) || path.is_file()
    }

    fn read(&self, path: &Path) -> std::io::Result<String> {
        match self.memory.get(path) {
            Some(text) => Ok(text.clone()),
            None => std::fs::read_to_string(path),
        }
    }

    /// Reads and parses a file once; later inclusions reuse the result.
    fn parsed(
        &mut self,
        path: &Path,
        included_at: Option<SourceLocation>,
    ) -> Option<Rc<ParsedFile>> {
        if let Some(cached) = self.cache.get(path) {
            return cached.clone();
        }
        let parsed = match self.read(path) {
            Ok(text) => {
                let file = self.sources.add(path, text.clone());
                Some(Rc::new(self.parse_file(file, &text)))
            }
            Err(error) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        "vss::file-unreadable",
                        format!("cannot read '{}': {error}", path.display()),
                    )
                    .at(included_at),
                );
                None
            }
        };
        self.cache.insert(path.to_path_buf(), parsed.clone());
        parsed
    }

    fn parse_file(&mut self, file: FileId, text: &str) -> ParsedFile {
        let includes = self.scan_includes(file, text);
        let doc = yaml::parse(text);
        for problem in &doc.problems {
            let location = Some(SourceLocation {
                file,
                line: problem.pos.line,
                column: problem.pos.column,
            });
            let diagnostic = if problem.fatal {
                Diagnostic::error(problem.code, problem.message.clone())
            } else {
                Diagnostic::warning(problem.code, problem.message.clone())
            };
            self.diagnostics.push(diagnostic.at(location));
        }
        let entries = match doc.root {
            None => Vec::new(),
            Some(root) => self.top_level_entries(file, root),
        };
        ParsedFile { entries, includes }
    }

    fn top_level_entries(&mut self, file: FileId, root: YNode) -> Vec<(String, RawEntry)> {
        let root_loc = loc(file, &root);
        let YValue::Map(pairs) = root.value else {
            if root.value != YValue::Null {
                self.diagnostics.push(
                    Diagnostic::error(
                        "vss::invalid-file",
                        "a vspec file must be a mapping from node names to attributes",
                    )
                    .at(Some(root_loc)),
                );
            }
            return Vec::new();
        };
        let mut entries = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            let name = python_str(&key.value);
            let key_loc = loc(file, &key);
            let YValue::Map(attrs) = value.value else {
                self.diagnostics.push(
                    Diagnostic::error(
                        "vss::invalid-node",
                        format!(
                            "Invalid key value: {name}={}",
                            yaml::python_str(&value.value)
                        ),
                    )
                    .at(Some(key_loc))
                    .with_help("every node must be a mapping of attributes"),
                );
                continue;
            };
            let attrs = attrs
                .iter()
                .map(|(k, v)| {
                    (
                        python_str(&k.value),
                        Attr {
                            value: to_json(v),
                            key_loc: loc(file, k),
                            value_loc: loc(file, v),
                        },
                    )
                })
                .collect::<IndexMap<_, _>>();
            entries.push((
                name,
                RawEntry {
                    attrs,
                    loc: key_loc,
                },
            ));
        }
        entries
    }

    /// Every line whose stripped text starts with `#include` (also inside block scalars).
    fn scan_includes(&mut self, file: FileId, text: &str) -> Vec<IncludeLine> {
        let mut out = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let stripped = line.trim();
            if !stripped.starts_with("#include") {
                continue;
            }
            let column = (line.len() - line.trim_start().len()) as u32 + 1;
            let location = SourceLocation {
                file,
                line: index as u32 + 1,
                column,
            };
            let tokens: Vec<&str> = stripped.split_whitespace().collect();
            if tokens.len() < 2 {
                self.diagnostics.push(
                    Diagnostic::error(
                        "vss::malformed-include",
                        format!("Malformed include statement: {stripped}"),
                    )
                    .at(Some(location))
                    .with_help("write '#include <file> [prefix]'"),
                );
                continue;
            }
            out.push(IncludeLine {
                target: tokens[1].to_owned(),
                prefix: tokens.get(2).map(|p| (*p).to_owned()),
                loc: location,
            });
        }
        out
    }

    /// The 6.1.0 `includes:` attribute of a branch: each entry is an include with the branch
    /// key as prefix. The attribute is removed from the node.
    fn includes_attribute(&mut self, key: &str, entry: &mut RawEntry) -> Vec<IncludeLine> {
        let is_branch = entry
            .attrs
            .get("type")
            .is_some_and(|t| t.value == Value::String("branch".into()));
        if !is_branch {
            return Vec::new();
        }
        let Some(attr) = entry.attrs.shift_remove("includes") else {
            return Vec::new();
        };
        let Value::Array(items) = &attr.value else {
            self.bad_includes(&attr);
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match item {
                Value::String(target) => out.push(IncludeLine {
                    target: target.clone(),
                    prefix: Some(key.to_owned()),
                    loc: attr.value_loc,
                }),
                _ => self.bad_includes(&attr),
            }
        }
        out
    }

    fn bad_includes(&mut self, attr: &Attr) {
        self.diagnostics.push(
            Diagnostic::error(
                "vss::malformed-include",
                "'includes' must be a list of file names",
            )
            .at(Some(attr.value_loc)),
        );
    }
}

/// `includes:` prefixes are already absolute; `#include` prefixes compose with the current one.
fn compose_prefix(current: Option<&str>, own: Option<&str>) -> Option<String> {
    match (current, own) {
        (Some(c), Some(o)) => Some(format!("{c}.{o}")),
        (None, Some(o)) => Some(o.to_owned()),
        (Some(c), None) => Some(c.to_owned()),
        (None, None) => None,
    }
}

fn prefixed(prefix: Option<&str>, key: &str) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}.{key}"),
        _ => key.to_owned(),
    }
}

/// The directory of `path`, `.` for a bare file name (Python `Path.parent`).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
