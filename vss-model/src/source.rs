//! Source files read during a run, and locations inside them.

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A 1-based line and column inside a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceLocation {
    pub file: FileId,
    pub line: u32,
    pub column: u32,
}

/// One loaded file: its path as given (relative paths stay relative, for readable messages)
/// and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// Every file a run read, so diagnostics can quote them. A file included several times
/// (VSS reuses `SingleDoor.vspec` and friends under many prefixes) is stored once.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file (or returns the id it already has) and returns its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: String) -> FileId {
        let path = path.into();
        if let Some(index) = self.files.iter().position(|f| f.path == path) {
            return FileId(index as u32);
        }
        self.files.push(SourceFile { path, text });
        FileId((self.files.len() - 1) as u32)
    }

    /// The id of an already added file.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    /// Every file read, in the order first read.
    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }

    /// The file behind `id`.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The path of `id`, or `<unknown>`.
    pub fn path(&self, id: FileId) -> &Path {
        self.get(id)
            .map_or(Path::new("<unknown>"), |f| f.path.as_path())
    }

    /// Byte offset of a 1-based line/column (column counted in characters), clamped to the
    /// text, for snippet rendering.
    pub fn byte_offset(&self, location: SourceLocation) -> Option<usize> {
        let text = &self.get(location.file)?.text;
        let line_start = text
            .split_inclusive('\n')
            .take(location.line.saturating_sub(1) as usize)
            .map(str::len)
            .sum::<usize>();
        let line = text[line_start..].split('\n').next().unwrap_or("");
        let column_bytes = line
            .char_indices()
            .nth(location.column.saturating_sub(1) as usize)
            .map_or(line.len(), |(i, _)| i);
        Some(line_start + column_bytes)
    }

    /// Number of files held.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offset_follows_lines_and_characters() {
        let mut map = SourceMap::new();
        let id = map.add("a.vspec", "A:\n  type: brünch\n".to_owned());
        let at = |line, column| {
            map.byte_offset(SourceLocation {
                file: id,
                line,
                column,
            })
        };
        assert_eq!(at(1, 1), Some(0));
        assert_eq!(at(2, 3), Some(5));
        assert_eq!(at(2, 13), Some(16)); // after the two-byte ü
        assert_eq!(map.add("a.vspec", String::new()), id);
    }
}
