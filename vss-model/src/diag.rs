//! Diagnostics: every problem found in a run, each located at file:line:col.
//!
//! Front ends push into a [`Diagnostics`] collector and keep going, so one run reports every
//! bad node, not just the first. [`Diagnostics::render`] prints them with source snippets
//! (miette's graphical report, without colour so output is stable in tests and logs).

use std::fmt::Write as _;

use crate::source::{SourceLocation, SourceMap};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem, with a stable code (e.g. `vss::unknown-datatype`) for tests and filtering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub location: Option<SourceLocation>,
    /// Text shown under the snippet's marker, e.g. "defined here".
    pub label: Option<String>,
    /// An extra line of help.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with a code and message.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: None,
            label: None,
            help: None,
        }
    }

    /// A warning with a code and message.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Places the diagnostic at a source location.
    pub fn at(mut self, location: Option<SourceLocation>) -> Diagnostic {
        self.location = location;
        self
    }

    /// Adds a label to the snippet marker.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col` of the diagnostic, when it has a location.
    pub fn position(&self, sources: &SourceMap) -> Option<String> {
        self.location.map(|loc| {
            format!(
                "{}:{}:{}",
                sources.path(loc.file).display(),
                loc.line,
                loc.column
            )
        })
    }
}

/// Collects diagnostics across a run.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collector.
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    /// Records a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Moves every diagnostic of `other` into this collector.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// True when at least one error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// Number of errors recorded.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// All diagnostics in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Number of diagnostics recorded.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Turns every warning into an error (`--strict`).
    pub fn promote_warnings(&mut self) {
        for item in &mut self.items {
            item.severity = Severity::Error;
        }
    }

    /// Renders every diagnostic: a `file:line:col: severity[code]: message` headline (easy to
    /// grep and to click in editors), then a source snippet when the file is known.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        for diagnostic in &self.items {
            render_one(diagnostic, sources, &mut out);
        }
        out
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

fn render_one(diagnostic: &Diagnostic, sources: &SourceMap, out: &mut String) {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let position = diagnostic
        .position(sources)
        .map(|p| format!("{p}: "))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{position}{severity}[{}]: {}",
        diagnostic.code, diagnostic.message
    );
    if let Some(snippet) = snippet(diagnostic, sources) {
        out.push_str(&snippet);
    } else if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "  help: {help}");
    }
}

/// The miette graphical snippet for a located diagnostic.
fn snippet(diagnostic: &Diagnostic, sources: &SourceMap) -> Option<String> {
    let location = diagnostic.location?;
    let file = sources.get(location.file)?;
    let offset = sources.byte_offset(location)?;
    let label = diagnostic
        .label
        .clone()
        .unwrap_or_else(|| "here".to_owned());
    let mut report = miette::MietteDiagnostic::new(diagnostic.message.clone())
        .with_labels([miette::LabeledSpan::at(offset..offset, label)]);
    if let Some(help) = &diagnostic.help {
        report = report.with_help(help.clone());
    }
    let report = miette::Report::new(report).with_source_code(miette::NamedSource::new(
        file.path.display().to_string(),
        file.text.clone(),
    ));
    let mut rendered = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_context_lines(1)
        .render_report(&mut rendered, report.as_ref())
        .ok()?;
    Some(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_code_and_snippet() {
        let mut sources = SourceMap::new();
        let file = sources.add(
            "car.vspec",
            "Vehicle:\n  type: branch\nVehicle.Speed:\n  datatype: flaot\n".to_owned(),
        );
        let mut diags = Diagnostics::new();
        diags.push(
            Diagnostic::error("vss::unknown-datatype", "'flaot' is not a valid datatype")
                .at(Some(SourceLocation {
                    file,
                    line: 4,
                    column: 13,
                }))
                .with_help("did you mean 'float'?"),
        );
        diags.push(Diagnostic::warning("vss::no-location", "unlocated"));
        let text = diags.render(&sources);
        assert!(
            text.starts_with("car.vspec:4:13: error[vss::unknown-datatype]: 'flaot'"),
            "{text}"
        );
        assert!(text.contains("datatype: flaot"), "{text}");
        assert!(text.contains("did you mean 'float'?"), "{text}");
        assert!(
            text.contains("warning[vss::no-location]: unlocated"),
            "{text}"
        );
        assert_eq!(diags.error_count(), 1);
        diags.promote_warnings();
        assert_eq!(diags.error_count(), 2);
    }
}
