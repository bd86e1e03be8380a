//! The vss-tools JSON front end: reads what `vspec export json` writes (and what KUKSA,
//! Velocitas and older VSS releases ship) back into a [`VssTree`].
//!
//! Accepted: current exports (with `ComplexDataTypes`), the split `--types-output` pair,
//! `--no-expand` exports (`instances` on branches), older exports with `uuid` (ignored) and
//! any extra key (kept as an extended attribute). JSON objects are sorted by vss-tools, so the
//! child order of the IR is the order of the file.
//!
//! Problems are diagnostics located at file:line:col: syntax errors where serde_json stopped,
//! node problems at the node's key, attribute problems at the attribute's value.

mod attributes;
mod builder;
mod spans;

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::loaded::Loaded;
use crate::source::{FileId, SourceLocation, SourceMap};

use builder::{Builder, JsonFile};

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct JsonOptions {
    /// The main export (signal tree, optionally with `ComplexDataTypes`).
    pub source: PathBuf,
    /// The file written by `--types-output`, whose top-level keys are types-tree roots.
    pub types: Option<PathBuf>,
    /// `--strict`: every warning becomes an error (and there is no tree then).
    pub strict: bool,
}

/// Loads the export(s) named by `options`. Never panics on input; the tree is `None` as soon
/// as one error was recorded.
pub fn load(options: &JsonOptions) -> Loaded {
    let loaded = load_unchecked(options);
    if options.strict {
        loaded.with_warnings_as_errors()
    } else {
        loaded
    }
}

fn load_unchecked(options: &JsonOptions) -> Loaded {
    let mut diagnostics = Diagnostics::new();
    let main = read(&options.source, &mut diagnostics);
    let types = match &options.types {
        Some(path) => read(path, &mut diagnostics).map(|text| (path.clone(), text)),
        None => None,
    };
    match main {
        Some(main) if !diagnostics.has_errors() => load_str(&options.source, main, types),
        _ => Loaded {
            tree: None,
            diagnostics,
            sources: SourceMap::new(),
        },
    }
}

/// Loads an export held in memory (`path` is only used in messages); `types` is the optional
/// `--types-output` file.
pub fn load_str(path: &Path, text: String, types: Option<(PathBuf, String)>) -> Loaded {
    let mut sources = SourceMap::new();
    let main = sources.add(path, text);
    let types = types.map(|(path, text)| sources.add(path, text));
    let mut diagnostics = Diagnostics::new();
    let main_file = parse(&sources, main, true, &mut diagnostics);
    let types_file = types.and_then(|id| parse(&sources, id, false, &mut diagnostics));
    let tree = match main_file {
        Some(main_file) => {
            let mut builder = Builder::new(&mut diagnostics);
            builder.add_file(main_file);
            if let Some(types_file) = types_file {
                builder.add_file(types_file);
            }
            Some(builder.finish())
        }
        None => None,
    };
    Loaded {
        tree: tree.filter(|_| !diagnostics.has_errors()),
        diagnostics,
        sources,
    }
}

fn read(path: &Path, diagnostics: &mut Diagnostics) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                "json::io",
                format!("cannot read {}: {error}", path.display()),
            ));
            None
        }
    }
}

/// Parses one file; a syntax error is reported where serde_json stopped.
fn parse<'s>(
    sources: &'s SourceMap,
    file: FileId,
    is_main: bool,
    diagnostics: &mut Diagnostics,
) -> Option<JsonFile<'s>> {
    let text = sources.get(file).map(|f| f.text.as_str())?;
    match serde_json::from_str(text) {
        Ok(value) => Some(JsonFile::new(file, text, value, is_main)),
        Err(error) => {
            let message = error.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            let location = SourceLocation {
                file,
                line: error.line().max(1) as u32,
                column: error.column().max(1) as u32,
            };
            diagnostics.push(
                Diagnostic::error("json::syntax", format!("invalid JSON: {message}"))
                    .at(Some(location)),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datatype::ElementType;
    use crate::model::NodeKind;

    fn load_text(text: &str) -> Loaded {
        load_str(Path::new("in.json"), text.to_owned(), None)
    }

    fn first_error(loaded: &Loaded) -> String {
        let diagnostic = loaded.diagnostics.iter().next().unwrap();
        format!(
            "{} {} {}",
            diagnostic.position(&loaded.sources).unwrap_or_default(),
            diagnostic.code,
            diagnostic.message
        )
    }

    const TYPES: &str = r#"{"T": {"children": {"Pos": {"children": {
        "X": {"datatype": "float", "type": "property"}}, "type": "struct"}}, "type": "branch"}}"#;

    #[test]
    fn reads_signal_and_types_roots_in_order() {
        let text = format!(
            r#"{{"ComplexDataTypes": {TYPES},
               "V": {{"children": {{"B": {{"datatype": "T.Pos[]", "type": "sensor"}},
                                    "A": {{"type": "branch", "instances": ["Row[1,2]"]}}}},
                     "type": "branch"}}}}"#
        );
        let loaded = load_text(&text);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let tree = loaded.tree.unwrap();
        let names: Vec<_> = tree
            .roots()
            .iter()
            .map(|r| tree.get(*r).path.as_str())
            .collect();
        assert_eq!(names, ["V", "T"]);
        let children: Vec<_> = tree
            .get(tree.roots()[0])
            .children
            .iter()
            .map(|c| &tree.get(*c).name)
            .collect();
        assert_eq!(children, ["B", "A"]);
        let b = tree.get(tree.lookup("V.B").unwrap());
        assert_eq!(
            b.data.datatype.as_ref().unwrap().element,
            ElementType::Struct("T.Pos".into())
        );
        let location = b.location.unwrap();
        assert_eq!((location.line, location.column), (3, 35));
        assert_eq!(
            tree.get(tree.lookup("T.Pos.X").unwrap()).kind,
            NodeKind::Property
        );
    }

    #[test]
    fn reads_the_split_types_file() {
        let loaded = load_str(
            Path::new("s.json"),
            r#"{"V": {"children": {"P": {"datatype": "T.Pos", "type": "attribute"}}, "type": "branch"}}"#.to_owned(),
            Some((PathBuf::from("t.json"), TYPES.to_owned())),
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        assert_eq!(loaded.tree.unwrap().roots().len(), 2);
    }

    #[test]
    fn locates_syntax_errors() {
        let loaded = load_text("{\n  \"V\": {\"type\": \"branch\",}\n}");
        assert!(loaded.tree.is_none());
        assert!(
            first_error(&loaded)
                .starts_with("in.json:2:26 json::syntax invalid JSON: trailing comma"),
            "{}",
            first_error(&loaded)
        );
    }

    #[test]
    fn locates_unknown_types_and_datatypes() {
        let loaded = load_text(
            "{\"V\": {\n \"children\": {\n  \"S\": {\"datatype\": \"flaot\", \"type\": \"sensor\"},\n  \"Q\": {\"type\": \"signal\"}},\n \"type\": \"branch\"}}",
        );
        assert!(loaded.tree.is_none());
        let errors: Vec<_> = loaded
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.position(&loaded.sources).unwrap(), d.code))
            .collect();
        assert_eq!(
            errors,
            [
                "in.json:4:17 json::unknown-type",
                "in.json:3:21 json::unknown-datatype"
            ]
        );
        let text = loaded.diagnostics.render(&loaded.sources);
        assert!(text.contains("'flaot' is not a valid datatype"), "{text}");
    }

    #[test]
    fn rejects_structs_that_are_not_structs_and_missing_roots() {
        let loaded = load_text(
            r#"{"V": {"children": {"S": {"datatype": "V", "type": "sensor"}}, "type": "branch"}}"#,
        );
        assert!(
            first_error(&loaded)
                .contains("json::unknown-datatype V.S: 'V' is not a valid datatype")
        );
        let loaded = load_text(r#"{"ComplexDataTypes": {}}"#);
        assert!(
            first_error(&loaded).contains("json::no-signal-root"),
            "{}",
            first_error(&loaded)
        );
        let loaded = load_text(r#"{"A": {"type": "branch"}, "B": {"type": "branch"}}"#);
        assert!(
            first_error(&loaded).starts_with("in.json:1:27 json::several-signal-roots"),
            "{}",
            first_error(&loaded)
        );
        let loaded = load_text("[1]");
        assert!(
            first_error(&loaded).contains("json::not-an-object"),
            "{}",
            first_error(&loaded)
        );
    }

    #[test]
    fn reads_validate_on_any_node_and_locates_a_bad_one() {
        let loaded = load_text(
            r#"{"V": {"children": {"B": {"type": "branch", "validate": "read-write"},
                      "S": {"datatype": "float", "type": "sensor", "validate": "write-only+consent"}},
                "type": "branch", "validate": "write-only"}}"#,
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let tree = loaded.tree.unwrap();
        let tag = |path: &str| tree.get(tree.lookup(path).unwrap()).data.validate;
        assert_eq!(tag("V").map(|t| t.as_str()), Some("write-only"));
        assert_eq!(tag("V.B").map(|t| t.as_str()), Some("read-write"));
        assert_eq!(tag("V.S").map(|t| t.as_str()), Some("write-only+consent"));
        let loaded = load_text(
            "{\"V\": {\"children\": {\n  \"B\": {\"type\": \"branch\", \"validate\": \"rw\"}},\n \"type\": \"branch\"}}",
        );
        assert!(loaded.tree.is_none());
        assert!(
            first_error(&loaded)
                .starts_with("in.json:2:39 json::invalid-attribute V.B: 'validate' must be one of"),
            "{}",
            first_error(&loaded)
        );
    }

    #[test]
    fn reports_unreadable_files() {
        let loaded = load(&JsonOptions {
            source: PathBuf::from("/nonexistent/vss.json"),
            types: None,
            strict: false,
        });
        assert!(loaded.tree.is_none());
        assert_eq!(loaded.diagnostics.iter().next().unwrap().code, "json::io");
    }
}
