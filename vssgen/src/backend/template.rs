//! The one way the backends render a minijinja template: strict about undefined names, no
//! escaping, block tags on lines of their own leave no blank lines behind.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::rust::GenerateError;

/// Renders `template` with `view` (its trailing newline kept).
pub fn render(template: &str, view: &impl Serialize) -> Result<String, GenerateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|error| GenerateError::Internal(error.to_string()))?;
    env.set_syntax(syntax);
    let template = env
        .template_from_str(template)
        .map_err(|error| GenerateError::Internal(error.to_string()))?;
    template
        .render(minijinja::Value::from(minijinja::value::Serde(view)))
        .map_err(|error| GenerateError::Internal(error.to_string()))
}
