//! The ecosystem's policy documents (CORE §8.7), owned by the ecosystem manager:
//!
//! - the purpose list (§8.7.1): each purpose's short name, the client contexts allowed to
//!   use it, and the signals it covers. The ATS issues purpose tokens from it; the server
//!   resolves a token's purpose to its signals with the same document;
//! - the scope list (§8.7.2): nodes never accessible to given client contexts, whatever
//!   their token says.

use std::path::Path;

use serde::Deserialize;

use super::{ScopeEntry, SignalAccess};

/// A JSON policy document (`what` names it in messages): every problem is a message that
/// names the file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, String> {
    let text = std::fs::read(path)
        .map_err(|error| format!("cannot read the {what} {}: {error}", path.display()))?;
    serde_json::from_slice(&text).map_err(|error| format!("{what} {}: {error}", path.display()))
}

/// `{"purposes":[{"short","long","contexts","signal_access"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PurposeList {
    pub purposes: Vec<Purpose>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Purpose {
    pub short: String,
    #[serde(default)]
    pub long: String,
    pub contexts: Vec<Context>,
    pub signal_access: Vec<SignalAccess>,
    /// The ATS asks the owner's consent before it issues a token for this purpose (our
    /// extension: CORE §8.7.1 leaves "any consent requirement" unspecified).
    #[serde(default)]
    pub consent: bool,
}

/// One allowed combination of roles (CORE §8.6): each role one name or a list of names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Context {
    pub user: Roles,
    pub app: Roles,
    pub device: Roles,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Roles {
    One(String),
    Many(Vec<String>),
}

impl Roles {
    /// Role names compare without case: CORE spells "Third Party" and "Third party".
    fn allows(&self, role: &str) -> bool {
        match self {
            Self::One(one) => one.eq_ignore_ascii_case(role),
            Self::Many(many) => many.iter().any(|one| one.eq_ignore_ascii_case(role)),
        }
    }
}

impl Context {
    /// Whether the `clx` triplet `user+app+device` is one of this context's combinations.
    pub fn allows(&self, clx: &str) -> bool {
        let mut roles = clx.split('+');
        match (roles.next(), roles.next(), roles.next(), roles.next()) {
            (Some(user), Some(app), Some(device), None) => {
                self.user.allows(user) && self.app.allows(app) && self.device.allows(device)
            }
            _ => false,
        }
    }
}

impl PurposeList {
    /// Reads and checks a purpose list: every permission must be one CORE names.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let list: Self = read_json(path, "purpose list")?;
        for purpose in &list.purposes {
            if let Some(bad) = purpose
                .signal_access
                .iter()
                .find(|entry| entry.to_scope_entry().is_none())
            {
                return Err(format!(
                    "purpose list {}: purpose `{}`: access_permission `{}` is neither \
                     read-only nor read-write",
                    path.display(),
                    purpose.short,
                    bad.access_permission
                ));
            }
        }
        Ok(list)
    }

    pub fn purpose(&self, short: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|purpose| purpose.short == short)
    }

    /// The signals of purpose `short` for a client in context `clx`; `None` when the
    /// purpose is unknown or not allowed in that context.
    pub fn signals(&self, short: &str, clx: &str) -> Option<Vec<ScopeEntry>> {
        let purpose = self.purpose(short)?;
        if !purpose.contexts.iter().any(|context| context.allows(clx)) {
            return None;
        }
        purpose
            .signal_access
            .iter()
            .map(SignalAccess::to_scope_entry)
            .collect()
    }
}

/// `{"scope":[{"contexts":[..],"no_access":[paths]}]}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ScopeList {
    pub scope: Vec<ScopeRule>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScopeRule {
    pub contexts: Vec<Context>,
    /// Node paths; a branch blocks its subtree.
    pub no_access: Vec<String>,
}

impl ScopeList {
    pub fn from_file(path: &Path) -> Result<Self, String> {
        read_json(path, "scope list")
    }

    /// The paths a client in context `clx` may never access.
    pub fn no_access(&self, clx: &str) -> Vec<String> {
        self.scope
            .iter()
            .filter(|rule| rule.contexts.iter().any(|context| context.allows(clx)))
            .flat_map(|rule| rule.no_access.iter().map(|path| super::dotted(path)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"{"purposes":[{"short":"trip-log","long":"Position and speed.",
        "contexts":[{"user":["Owner","Driver"],"app":"Third party","device":"Cloud"}],
        "signal_access":[{"path":"Vehicle.Speed","access_permission":"read-only"},
                         {"path":"Vehicle.Cabin","access_permission":"read-write"}]}]}"#;

    #[test]
    fn a_purpose_resolves_to_its_signals_for_an_allowed_context_only() {
        let list: PurposeList = serde_json::from_str(LIST).expect("valid");
        let signals = list
            .signals("trip-log", "Driver+Third Party+Cloud")
            .expect("allowed");
        assert_eq!(signals.len(), 2);
        assert!(signals[1].writable && !signals[0].writable);
        assert!(
            list.signals("trip-log", "Passenger+Third party+Cloud")
                .is_none()
        );
        assert!(list.signals("trip-log", "Driver+Third party").is_none());
        assert!(list.signals("other", "Driver+Third party+Cloud").is_none());
    }

    #[test]
    fn the_scope_list_blocks_paths_for_its_contexts_only() {
        let list: ScopeList = serde_json::from_str(
            r#"{"scope":[{"contexts":[{"user":"Passenger","app":["OEM","Third party"],
                "device":"Nomadic"}],"no_access":["Vehicle/Cabin/Door","Vehicle.Speed"]}]}"#,
        )
        .expect("valid");
        assert_eq!(
            list.no_access("Passenger+OEM+Nomadic"),
            ["Vehicle.Cabin.Door", "Vehicle.Speed"],
            "slash paths in the dot form of node paths"
        );
        assert!(list.no_access("Driver+OEM+Nomadic").is_empty());
    }
}
