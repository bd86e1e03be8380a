//! Builds a [`VssTree`] from parsed JSON files: the signal root first, then types roots
//! (from `ComplexDataTypes` or a `--types-output` file), then checks struct datatypes.

use serde_json::Map;

use crate::datatype::ElementType;
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{NodeId, NodeKind, Value, VssTree};
use crate::source::{FileId, SourceLocation};

use super::attributes::{AttributeError, parse_node};
use super::spans::{COMPLEX_DATA_TYPES, LineIndex, NodeSpans, attribute_offset, node_spans};

/// One parsed file with what is needed to locate things in it.
#[derive(Debug)]
pub struct JsonFile<'s> {
    file: FileId,
    text: &'s str,
    value: Value,
    /// True for the main export (signal root + `ComplexDataTypes`), false for a types file.
    is_main: bool,
    spans: NodeSpans,
    lines: LineIndex,
}

impl<'s> JsonFile<'s> {
    pub fn new(file: FileId, text: &'s str, value: Value, is_main: bool) -> JsonFile<'s> {
        JsonFile {
            file,
            text,
            value,
            is_main,
            spans: node_spans(text),
            lines: LineIndex::new(text),
        }
    }

    fn at_offset(&self, offset: usize) -> SourceLocation {
        let (line, column) = self.lines.line_column(offset);
        SourceLocation {
            file: self.file,
            line,
            column,
        }
    }

    /// Where the node at `path` is defined (its key).
    fn node_location(&self, path: &str) -> Option<SourceLocation> {
        self.spans.get(path).map(|span| self.at_offset(span.key))
    }

    /// Where attribute `name` of the node at `path` is, falling back to the node's key.
    fn attribute_location(&self, path: &str, name: &str) -> Option<SourceLocation> {
        let span = self.spans.get(path)?;
        let offset = attribute_offset(self.text, span.value, name).unwrap_or(span.key);
        Some(self.at_offset(offset))
    }

    fn file_start(&self) -> SourceLocation {
        self.at_offset(0)
    }
}

/// Accumulates nodes and diagnostics across the files of one load.
#[derive(Debug)]
pub struct Builder<'d, 's> {
    tree: VssTree,
    diagnostics: &'d mut Diagnostics,
    files: Vec<JsonFile<'s>>,
}

impl<'d, 's> Builder<'d, 's> {
    pub fn new(diagnostics: &'d mut Diagnostics) -> Self {
        Builder {
            tree: VssTree::new(),
            diagnostics,
            files: Vec::new(),
        }
    }

    /// Adds every root of `file`. The main file's signal root must come first in the tree,
    /// though `ComplexDataTypes` sorts before it in the file.
    pub fn add_file(&mut self, mut file: JsonFile<'s>) {
        let Value::Object(top) = std::mem::take(&mut file.value) else {
            let location = Some(file.file_start());
            self.error(
                "json::not-an-object",
                "the top level must be an object",
                location,
            );
            return;
        };
        let (types_roots, signal_roots) = if file.is_main {
            split_main(top)
        } else {
            (top, Map::new())
        };
        if file.is_main {
            self.check_signal_roots(&file, &signal_roots);
        }
        for (name, value) in signal_roots.into_iter().take(1).chain(types_roots) {
            self.add_subtree(&file, None, &name, name.clone(), value);
        }
        self.files.push(file);
    }

    /// Checks struct datatypes now that every types tree is in, and hands the tree over.
    pub fn finish(mut self) -> VssTree {
        self.check_struct_datatypes();
        self.tree
    }

    fn check_signal_roots(&mut self, file: &JsonFile<'_>, roots: &Map<String, Value>) {
        match roots.keys().nth(1) {
            None if roots.is_empty() => self.error(
                "json::no-signal-root",
                "the export has no signal tree root (only ComplexDataTypes)",
                Some(file.file_start()),
            ),
            None => {}
            Some(second) => self.error(
                "json::several-signal-roots",
                &format!("a second signal tree root '{second}'; an export has exactly one"),
                file.node_location(second),
            ),
        }
    }

    /// Adds the node `name` (at `path`) under `parent`, then its children in file order.
    fn add_subtree(
        &mut self,
        file: &JsonFile<'_>,
        parent: Option<NodeId>,
        name: &str,
        path: String,
        value: Value,
    ) {
        let Value::Object(object) = value else {
            let message = format!("node '{path}' must be an object");
            self.error("json::not-an-object", &message, file.node_location(&path));
            return;
        };
        let node = match parse_node(object) {
            Ok(node) => node,
            Err(errors) => return self.attribute_errors(file, &path, errors),
        };
        let id = match self.tree.add_node(parent, name, node.kind, node.data) {
            Ok(id) => id,
            Err(error) => {
                let location = file.node_location(&path);
                return self.error("json::duplicate-path", &error.to_string(), location);
            }
        };
        if let Some(mut node) = self.tree.node_mut(id) {
            node.set_location(file.node_location(&path));
        }
        for (child, value) in node.children {
            let child_path = format!("{path}.{child}");
            self.add_subtree(file, Some(id), &child, child_path, value);
        }
    }

    fn attribute_errors(&mut self, file: &JsonFile<'_>, path: &str, errors: Vec<AttributeError>) {
        for error in errors {
            let location = match error.attribute {
                Some(attribute) => file.attribute_location(path, attribute),
                None => file.node_location(path),
            };
            let message = format!("{path}: {}", error.message);
            self.error(error.code, &message, location);
        }
    }

    /// A struct datatype must name a `struct` node of a types tree by its full path.
    fn check_struct_datatypes(&mut self) {
        let mut unknown = Vec::new();
        for node in self.tree.nodes() {
            let Some(datatype) = &node.data.datatype else {
                continue;
            };
            let ElementType::Struct(name) = &datatype.element else {
                continue;
            };
            let is_struct = self
                .tree
                .lookup(name)
                .is_some_and(|id| self.tree.get(id).kind == NodeKind::Struct);
            if !is_struct {
                let location = node.location.and_then(|loc| {
                    let file = self.files.iter().find(|f| f.file == loc.file)?;
                    file.attribute_location(&node.path, "datatype")
                });
                unknown.push((
                    format!("{}: '{datatype}' is not a valid datatype", node.path),
                    location,
                ));
            }
        }
        for (message, location) in unknown {
            let diagnostic = Diagnostic::error("json::unknown-datatype", message)
                .at(location)
                .with_help("use a primitive type or the full path of a struct in a types tree");
            self.diagnostics.push(diagnostic);
        }
    }

    fn error(&mut self, code: &'static str, message: &str, location: Option<SourceLocation>) {
        self.diagnostics
            .push(Diagnostic::error(code, message).at(location));
    }
}

/// Splits a main export's top level into (types roots, signal roots).
fn split_main(top: Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    let mut types = Map::new();
    let mut signals = Map::new();
    for (key, value) in top {
        match (key.as_str(), value) {
            (COMPLEX_DATA_TYPES, Value::Object(roots)) => types = roots,
            (_, value) => {
                signals.insert(key, value);
            }
        }
    }
    (types, signals)
}
