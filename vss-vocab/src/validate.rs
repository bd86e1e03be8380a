//! The `validate` node property (VISS CORE §8.8, access-control selection): which requests
//! to a node need a validated access token. A tag is a node's own; untagged nodes inherit
//! their nearest tagged ancestor's (the server resolves that, not the model).

use crate::attribute::VALIDATE_VALUES;

/// What a `validate` tag protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protects {
    /// `write-only`: reads are free; a `set` needs a read-write token.
    Writes,
    /// `read-write`: every read needs a token; a `set` needs a read-write token.
    ReadsAndWrites,
}

/// One `validate` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Validate {
    pub protects: Protects,
    /// `+consent`: the data also needs the resource owner's consent (CORE §9).
    pub consent: bool,
}

impl Validate {
    /// The four tags, in the order of [`VALIDATE_VALUES`].
    pub const ALL: [Self; 4] = [
        Self::new(Protects::Writes, false),
        Self::new(Protects::ReadsAndWrites, false),
        Self::new(Protects::Writes, true),
        Self::new(Protects::ReadsAndWrites, true),
    ];

    pub const fn new(protects: Protects, consent: bool) -> Self {
        Self { protects, consent }
    }

    /// The tag as written in a vspec, VSS JSON or `#[viss(validate = "..")]`.
    pub const fn as_str(self) -> &'static str {
        let index = match (self.protects, self.consent) {
            (Protects::Writes, false) => 0,
            (Protects::ReadsAndWrites, false) => 1,
            (Protects::Writes, true) => 2,
            (Protects::ReadsAndWrites, true) => 3,
        };
        VALIDATE_VALUES[index]
    }

    /// Reads a written tag; `None` for anything but the four values (exact spelling).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tag| tag.as_str() == text)
    }

    /// The stricter of two tags (a request addressing several nodes meets the strictest).
    pub fn strictest(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Self::new(
                a.protects.max(b.protects),
                a.consent || b.consent,
            )),
            (tag, None) | (None, tag) => tag,
        }
    }
}

impl std::fmt::Display for Validate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_back_as_written_and_combine_to_the_strictest() {
        for tag in Validate::ALL {
            assert_eq!(Validate::parse(tag.as_str()), Some(tag));
        }
        assert_eq!(Validate::parse("Read-Write"), None);
        let write_only = Validate::new(Protects::Writes, false);
        let consent = Validate::new(Protects::Writes, true);
        let read_write = Validate::new(Protects::ReadsAndWrites, false);
        assert_eq!(
            Validate::strictest(Some(read_write), Some(consent)),
            Some(Validate::new(Protects::ReadsAndWrites, true))
        );
        assert_eq!(
            Validate::strictest(None, Some(write_only)),
            Some(write_only)
        );
        assert_eq!(Validate::strictest(None, None), None);
    }
}
