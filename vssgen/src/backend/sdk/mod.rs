//! The client SDK backend: a `VssTree` → typed client packages (TypeScript, Python, Rust).
//!
//! * [`model`]: the language-neutral plan (classes per branch concept and instance level,
//!   the server's enums and struct types), read from the Rust backend's type plan;
//! * [`typescript`], [`python`]: spell the plan in each language as a template view model
//!   (what both spell alike, and the view shapes both templates read, in `views`);
//! * [`rust_sdk`]: a crate around the server's own typed tree (`viss_runtime::client`);
//! * the files come from `templates/sdk/<language>/`: `*.j2` templates that only render the
//!   view model, and `static/` files (the hand-written client core: connection, request
//!   correlation, codecs, filters, typed leaves) copied as they are.
//!
//! [`generate`] writes the SDKs of one tree; a crate of several trees gets one set per tree
//! (`vssgen::cli::sdk`: the first tree's in `sdk/<language>/`, a further tree's in
//! `sdk/<root>/<language>/`, each package named after its root).

pub mod messages;
pub mod model;
pub mod python;
pub mod rust_messages;
pub mod rust_sdk;
pub mod typescript;
mod views;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use vss_model::VssTree;

use crate::backend::rust::{GenerateError, GeneratedFile, types};

/// A language an SDK is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Language {
    TypeScript,
    Python,
    Rust,
}

impl Language {
    /// Every language, in the order they are written.
    pub const ALL: [Language; 3] = [Language::TypeScript, Language::Python, Language::Rust];

    /// The directory below the SDK root.
    pub fn dir(self) -> &'static str {
        match self {
            Self::TypeScript => "typescript",
            Self::Python => "python",
            Self::Rust => "rust",
        }
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "typescript" | "ts" => Ok(Self::TypeScript),
            "python" | "py" => Ok(Self::Python),
            "rust" | "rs" => Ok(Self::Rust),
            other => Err(format!(
                "unknown SDK language '{other}': choose typescript (ts), python (py) or rust (rs)"
            )),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir())
    }
}

/// What to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkOptions {
    /// The server's package name; the SDK packages are named after it (`demo-car-sdk`,
    /// Python `demo_car_sdk`).
    pub name: String,
    /// The command that regenerates the output (the `@generated` headers).
    pub command: String,
    pub languages: Vec<Language>,
    /// The Rust SDK's viss-runtime dependency, as the inside of a TOML inline table
    /// (`path = ".."` or `version = ".."`).
    pub rust_runtime: String,
    /// The VISS JSON schema (text) the message types are derived from; none: the SDKs
    /// have no `messages` module.
    pub schema: Option<String>,
}

/// What [`generate`] writes.
#[derive(Debug)]
pub struct SdkOutput {
    /// Paths relative to the SDK root (`typescript/...`, `python/...`), in a fixed order.
    pub files: Vec<GeneratedFile>,
    /// What the user should know: overlay patches the schema did not take.
    pub notes: Vec<String>,
}

/// The SDK files of `tree`.
pub fn generate(tree: &VssTree, options: &SdkOptions) -> Result<SdkOutput, GenerateError> {
    let plan = types::plan(tree)?;
    let model = model::model(&plan)?;
    let messages = match &options.schema {
        Some(schema) => Some(messages::messages(schema, messages::OVERLAY)?),
        None => None,
    };
    let mut files = Vec::new();
    for language in &options.languages {
        let written = match language {
            Language::TypeScript => typescript::files(&model, messages.as_ref(), options)?,
            Language::Python => python::files(&model, messages.as_ref(), options)?,
            Language::Rust => rust_sdk::files(&plan, messages.as_ref(), options)?,
        };
        files.extend(written.into_iter().map(|file| GeneratedFile {
            path: format!("{}/{}", language.dir(), file.path),
            contents: file.contents,
        }));
    }
    let notes = messages
        .iter()
        .flat_map(|messages| &messages.skipped)
        .map(|pointer| {
            format!("the schema overlay's patch at {pointer} does not apply to this schema")
        })
        .collect();
    Ok(SdkOutput { files, notes })
}

/// Renders `template` with `view`; every file ends with exactly one newline.
pub(crate) fn render(template: &str, view: &impl Serialize) -> Result<String, GenerateError> {
    super::template::render(template, view).map(|text| format!("{}\n", text.trim_end()))
}

/// The VISS gRPC service and its messages (PAYLOAD ENCODING), shipped in the SDKs whose
/// gRPC client compiles it at run time.
pub(crate) const VISS_PROTO: &str = include_str!("../../../../schemas/viss_v3_0.proto");

/// A static file with a `@generated` header in the language's comment syntax.
pub(crate) fn with_header(comment: &str, options: &SdkOptions, text: &str) -> String {
    format!("{}\n{text}", header(comment, options))
}

/// `// @generated by vssgen X. Do not edit: regenerate with `...`.`
pub(crate) fn header(comment: &str, options: &SdkOptions) -> String {
    format!(
        "{comment} @generated by vssgen {}. Do not edit: regenerate with `{}`.",
        env!("CARGO_PKG_VERSION"),
        options.command
    )
}

/// Documentation lines of a description (one per line, trailing space trimmed).
pub(crate) fn doc_lines(description: &str) -> Vec<String> {
    description
        .lines()
        .map(|line| line.trim_end().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

/// `name` or `name_2`, `name_3`...: the first free one in `used`.
pub(crate) fn unique_member(used: &mut std::collections::BTreeSet<String>, base: String) -> String {
    crate::backend::rust::naming::unique(used, base, "_")
}

/// An integer type's limit as an integer: a fractional `min` rounds up, a `max` down (the
/// values an integer can take are the same).
pub(crate) fn integral(number: &serde_json::Number, round_up: bool) -> serde_json::Number {
    if number.is_i64() || number.is_u64() {
        return number.clone();
    }
    let value = number.as_f64().unwrap_or_default();
    let rounded = if round_up {
        value.ceil()
    } else {
        value.floor()
    };
    // Integer limits of VSS types fit in an i64 except the top of uint64, which is never
    // written as a fraction.
    serde_json::Number::from(rounded as i64)
}

/// `text` as a JSON string literal: also a TypeScript and a Python string literal.
pub(crate) fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// The values as string literals, joined by `separator` (`"A", "B"`, `"A" | "B"`).
pub(crate) fn quoted(values: &[String], separator: &str) -> String {
    values
        .iter()
        .map(|value| json_string(value))
        .collect::<Vec<_>>()
        .join(separator)
}
