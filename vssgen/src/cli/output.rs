//! Writing results to a file or stdout.

use std::io::Write as _;
use std::path::Path;

use super::Failed;

/// Writes `text` to `path`, or to stdout when there is no path.
pub fn write(path: Option<&Path>, text: &str) -> Result<(), Failed> {
    let result = match path {
        Some(path) => std::fs::write(path, text),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    };
    result.map_err(|error| {
        let target = path.map_or("stdout".into(), |p| p.display().to_string());
        eprintln!("error: cannot write {target}: {error}");
        Failed
    })
}
