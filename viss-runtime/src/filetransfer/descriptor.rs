//! `Types.Resources.FileDescriptor` (CORE App. C): the value a client sets to start a
//! download and gets to start an upload.

use crate::error::VissError;
use crate::tree::DataType;
use crate::value::Value;

/// The struct type a file leaf has (the tree's types must declare it with string members
/// `name`, `hash` and `uid`).
pub const STRUCT_TYPE: &str = "Types.Resources.FileDescriptor";

/// Longest file name accepted.
const MAX_NAME_BYTES: usize = 255;

/// A file descriptor, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDescriptor {
    /// A plain file name (never a path): what [`checked_name`] accepts.
    pub name: String,
    /// SHA-1 of the content.
    pub hash: [u8; 20],
    /// The transfer session, an 8-hex-digit uint32.
    pub uid: u32,
}

impl FileDescriptor {
    /// Reads a descriptor from a `set` value. A name that is not a plain file name, a hash
    /// that is not 40 hex digits or a uid that is not 8 are `400 bad_request`.
    pub fn from_value(value: &Value) -> Result<Self, VissError> {
        let Value::Struct(members) = value else {
            return Err(VissError::IncorrectDataType);
        };
        let member = |wanted: &str| {
            members.iter().find_map(|(name, value)| match value {
                Value::String(text) if name == wanted => Some(text.as_ref()),
                _ => None,
            })
        };
        let name = checked_name(member("name").ok_or(VissError::InvalidValue)?)?;
        let hash = member("hash")
            .and_then(parse_hash)
            .ok_or(VissError::InvalidValue)?;
        let uid = member("uid")
            .and_then(parse_uid)
            .ok_or(VissError::InvalidValue)?;
        Ok(Self {
            name: name.to_owned(),
            hash,
            uid,
        })
    }

    /// The descriptor as the struct value a `get` answers with.
    pub fn to_value(&self) -> Value {
        Value::Struct(vec![
            ("name".into(), Value::String(self.name.clone().into())),
            ("hash".into(), Value::String(hex(&self.hash).into())),
            (
                "uid".into(),
                Value::String(format!("{:08x}", self.uid).into()),
            ),
        ])
    }
}

/// Whether a leaf of `datatype` is a file resource.
pub fn is_file_type(datatype: Option<&DataType>) -> bool {
    matches!(datatype, Some(DataType::Struct(name)) if name == STRUCT_TYPE)
}

/// `name` when it is a plain file name: 1 to 255 bytes of `A-Z a-z 0-9 . _ -`, not
/// starting with a dot. Received files are stored under the configured directory by this
/// name alone, so nothing a client sends can name another place (`../x`, `/etc/x`, `.`).
pub fn checked_name(name: &str) -> Result<&str, VissError> {
    let plain = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if plain {
        Ok(name)
    } else {
        Err(VissError::InvalidValue)
    }
}

fn parse_hash(text: &str) -> Option<[u8; 20]> {
    // Digits only: `from_str_radix` alone would take a `+` sign.
    if text.len() != 40 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let mut hash = [0; 20];
    for (byte, pair) in hash.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(hash)
}

fn parse_uid(text: &str) -> Option<u32> {
    if text.len() != 8 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// Lower-case hex, as the descriptor carries hashes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn descriptor(name: &str, hash: &str, uid: &str) -> Value {
        Value::Struct(vec![
            ("name".into(), Value::String(name.to_owned().into())),
            ("hash".into(), Value::String(hash.to_owned().into())),
            ("uid".into(), Value::String(uid.to_owned().into())),
        ])
    }

    const HASH: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";

    #[test]
    fn a_descriptor_round_trips() {
        let read = FileDescriptor::from_value(&descriptor("map.kml", HASH, "2d878213")).unwrap();
        assert_eq!(read.uid, 0x2d87_8213);
        assert_eq!(read.to_value(), descriptor("map.kml", HASH, "2d878213"));
    }

    #[test]
    fn names_that_could_leave_the_directory_are_refused() {
        for name in [
            "../../etc/passwd",
            "..",
            ".",
            ".hidden",
            "a/b.kml",
            "a\\b",
            "",
            "nul\0.kml",
            "é.kml",
            &"x".repeat(256),
        ] {
            assert_eq!(
                FileDescriptor::from_value(&descriptor(name, HASH, "2d878213")),
                Err(VissError::InvalidValue),
                "{name:?}"
            );
        }
        assert!(checked_name("map-v2_final.kml").is_ok());
    }

    #[test]
    fn bad_hashes_and_uids_are_refused() {
        for (hash, uid) in [
            (&HASH[1..], "2d878213"),
            ("zz993e364706816aba3e25717850c26c9cd0d89d", "2d878213"),
            (HASH, "2d87821"),
            (HASH, "+d878213"),
            (HASH, "2d87821g"),
            (&format!("+a{}", &HASH[2..]), "2d878213"),
        ] {
            assert!(FileDescriptor::from_value(&descriptor("a.kml", hash, uid)).is_err());
        }
    }
}
