//! Access control (CORE §8–9): which requests need a token, and what a validated token
//! grants.
//!
//! - **Selection** ([`Guard`]): each node's effective `validate` tag (its own, else its
//!   nearest tagged ancestor's, CORE §8.8), resolved once when access control is installed.
//!   A request needs a token when the strictest tag among the nodes it addresses protects
//!   its kind of access: `write-only` protects `set`, `read-write` protects every request.
//! - **Validation** is a [`TokenVerifier`]: it turns a token into a [`Grant`] or a denial.
//!   The JWT verifier (`jwt`, feature `auth`) checks signature, times, audience, vehicle
//!   and resolves a purpose to its signal list; another verifier (one that asks the ATS,
//!   CORE §8.4.4 allows delegating) plugs in the same way.
//! - **Authorisation** ([`Grant::permits`]): every protected node the request addresses
//!   must be covered by the grant's scope with the permission the action needs, and nodes
//!   tagged `+consent` need the owner's consent in the grant. Any failure denies the whole
//!   request with `401 invalid_token` (CORE §8.4.4), each with its own description.
//! - **Caching and handles** ([`TokenCache`], CORE §8.3.5): a session keeps the grants of
//!   the tokens it validated (bounded), so a repeated token costs a string compare, and
//!   answers the first use with a handle the client may send instead of the token.

mod config;
mod handles;
#[cfg(feature = "auth")]
pub mod jwt;
#[cfg(feature = "auth")]
pub mod policy;

use std::sync::Arc;

use jiff::Timestamp;
use serde::Deserialize;

use crate::error::VissError;
use crate::tree::{Forest, NodeId, Protects, Validate, VissTree};

pub use config::{AccessControlConfig, KeyConfig, VISS_AUDIENCE};
pub use handles::{Cached, TokenCache};

/// The token of an `Authorization: Bearer <token>` value (the scheme is case-insensitive,
/// RFC 7235); `None` for another scheme or an empty token.
pub fn bearer_token(value: &str) -> Option<&str> {
    // Byte checks, not a Unicode whitespace scan: this runs on every protected request.
    let value = value.trim_ascii();
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case("bearer") || !rest.starts_with([' ', '\t']) {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// What a validated token allows: the signals it covers, until when, and whether it
/// carries the owner's consent.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The token's `exp`: the grant is void from then on (leeway included).
    pub expires: Timestamp,
    /// The covered nodes (a signal set, or a purpose's signal list).
    pub scope: Vec<ScopeEntry>,
    /// The ATS obtained the owner's consent (`YES` or `IN_VEHICLE`) for the purpose.
    pub consent: bool,
    /// Nodes the scope list (CORE §8.7.2) keeps from the token's client context, whatever
    /// its scope says (a branch blocks its subtree).
    pub denied: Vec<String>,
}

/// One entry of a scope: a node path (a branch covers its subtree) and whether it may be
/// written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeEntry {
    pub path: String,
    pub writable: bool,
}

impl ScopeEntry {
    /// Whether this entry names `path` or one of its ancestor branches.
    fn covers(&self, path: &str) -> bool {
        is_at_or_below(path, &self.path)
    }
}

/// A path in the dot form node paths have (VISS also allows `/` as the delimiter).
pub fn dotted(path: &str) -> String {
    path.replace('/', ".")
}

/// Whether `path` is `node` or lies in its subtree.
fn is_at_or_below(path: &str, node: &str) -> bool {
    path.strip_prefix(node)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// `{"path": .., "access_permission": "read-only" | "read-write"}` (CORE §8.5.3, §8.7.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SignalAccess {
    pub path: String,
    pub access_permission: String,
}

impl SignalAccess {
    /// The entry, or `None` for a permission CORE does not name.
    pub fn to_scope_entry(&self) -> Option<ScopeEntry> {
        let writable = match self.access_permission.as_str() {
            "read-only" => false,
            "read-write" => true,
            _ => return None,
        };
        Some(ScopeEntry {
            path: dotted(&self.path),
            writable,
        })
    }
}

/// The kind of access a request asks for (CORE §8.4.4's permission table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `get` and `subscribe`.
    Read,
    /// `set`.
    Write,
}

impl Grant {
    /// Whether the grant permits `access` to the node at `path` tagged `tag` (effective).
    pub fn permits(&self, path: &str, tag: Validate, access: Access) -> Result<(), VissError> {
        if self.denied.iter().any(|node| is_at_or_below(path, node)) {
            return Err(VissError::TokenScope);
        }
        let mut covering = self.scope.iter().filter(|entry| entry.covers(path));
        let permitted = match access {
            Access::Read => covering.next().is_some(),
            Access::Write => {
                let mut any = false;
                let writable = covering.any(|entry| {
                    any = true;
                    entry.writable
                });
                if any && !writable {
                    return Err(VissError::TokenReadOnly);
                }
                writable
            }
        };
        if !permitted {
            return Err(VissError::TokenScope);
        }
        if tag.consent && !self.consent {
            return Err(VissError::TokenConsent);
        }
        Ok(())
    }
}

/// Validates tokens: signature, times, audience, vehicle; resolves the scope.
pub trait TokenVerifier: Send + Sync {
    /// The grant of `token` at `now`, or the `401` denial that says why not.
    fn verify(&self, token: &str, now: Timestamp) -> Result<Grant, VissError>;
}

/// The engine's access control: the effective tag of every node and the verifier.
pub struct Guard {
    effective: Vec<Option<Validate>>,
    verifier: Arc<dyn TokenVerifier>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("protected_nodes", &self.protected_count())
            .finish()
    }
}

impl Guard {
    /// Resolves the effective tag of every node of `forest` (inheritance, CORE §8.8).
    pub fn new<T: VissTree>(forest: &Forest<T>, verifier: Arc<dyn TokenVerifier>) -> Self {
        Self {
            effective: effective_tags(forest),
            verifier,
        }
    }

    /// Nodes with a tag of their own or inherited.
    pub fn protected_count(&self) -> usize {
        self.effective.iter().flatten().count()
    }

    /// The effective tag of `node`.
    pub fn tag(&self, node: NodeId) -> Option<Validate> {
        self.effective.get(node.index()).copied().flatten()
    }

    /// Whether `access` to a node tagged `tag` needs a token.
    pub fn needs_token(tag: Option<Validate>, access: Access) -> bool {
        match (tag, access) {
            (None, _) => false,
            (Some(_), Access::Write) => true,
            (Some(tag), Access::Read) => tag.protects == Protects::ReadsAndWrites,
        }
    }

    pub fn verifier(&self) -> &dyn TokenVerifier {
        self.verifier.as_ref()
    }
}

/// Each node's own tag, else its nearest tagged ancestor's.
fn effective_tags<T: VissTree>(forest: &Forest<T>) -> Vec<Option<Validate>> {
    (0..forest.node_count())
        .map(|index| {
            let mut node = Some(NodeId(index as u32));
            while let Some(id) = node {
                if let Some(tag) = forest.node(id).validate {
                    return Some(tag);
                }
                node = forest.parent(id);
            }
            None
        })
        .collect()
}

/// Whether any node of `forest` carries a `validate` tag (then access control is not
/// optional: CORE §8.8 "the server MUST honour them").
pub fn has_tags<T: VissTree>(forest: &Forest<T>) -> bool {
    (0..forest.node_count()).any(|index| forest.node(NodeId(index as u32)).validate.is_some())
}

/// What [`install`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// The tree has no `validate` tag: every node is served without a token.
    NoTags,
    /// Tokens are checked for this many protected nodes.
    Enforced { protected: usize },
    /// The tree has tags but access control is switched off (`--no-access-control`).
    Disabled { protected: usize },
}

/// Secure by default (CORE §8.8: a server MUST honour the tree's tags): a tree with
/// `validate` tags is served only with token validation installed, unless the
/// configuration switches access control off explicitly. Errors say what to configure.
pub fn install<T: VissTree>(
    engine: &crate::Engine<T>,
    config: &AccessControlConfig,
) -> Result<Installed, String> {
    let forest = engine.forest();
    if !has_tags(forest) {
        return Ok(Installed::NoTags);
    }
    let protected = effective_tags(forest).iter().flatten().count();
    if !config.enabled {
        return Ok(Installed::Disabled { protected });
    }
    install_jwt(engine, config).map(|protected| Installed::Enforced { protected })
}

#[cfg(feature = "auth")]
fn install_jwt<T: VissTree>(
    engine: &crate::Engine<T>,
    config: &AccessControlConfig,
) -> Result<usize, String> {
    let verifier = jwt::JwtVerifier::from_config(config, tree_vin(engine)).map_err(|error| {
        format!(
            "the tree protects nodes with `validate` tags, so tokens must be checked: {error} (or --no-access-control, for development only)"
        )
    })?;
    if let Some(unknown) = verifier
        .scope_list_paths()
        .find(|path| engine.forest().lookup(path).is_none())
    {
        return Err(format!(
            "the scope list names `{unknown}`, which is no node of the served trees"
        ));
    }
    engine
        .install_access_control(Arc::new(verifier))
        .map_err(str::to_owned)
}

#[cfg(not(feature = "auth"))]
fn install_jwt<T: VissTree>(
    _engine: &crate::Engine<T>,
    _config: &AccessControlConfig,
) -> Result<usize, String> {
    Err("the tree protects nodes with `validate` tags, but this build has no token          validation (cargo feature `auth`); rebuild with it, or --no-access-control for          development only"
        .into())
}

/// The vehicle's identity from its tree (`Vehicle.VehicleIdentification.VIN`), when set.
#[cfg(feature = "auth")]
fn tree_vin<T: VissTree>(engine: &crate::Engine<T>) -> Option<String> {
    let node = engine
        .forest()
        .lookup("Vehicle.VehicleIdentification.VIN")?;
    match engine.store().current(node)?.value {
        crate::Value::String(vin) if !vin.is_empty() => Some(vin.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(entries: &[(&str, bool)], consent: bool) -> Grant {
        Grant {
            expires: Timestamp::MAX,
            scope: entries
                .iter()
                .map(|(path, writable)| ScopeEntry {
                    path: (*path).into(),
                    writable: *writable,
                })
                .collect(),
            consent,
            denied: Vec::new(),
        }
    }

    const RW: Validate = Validate::new(Protects::ReadsAndWrites, false);
    const RW_CONSENT: Validate = Validate::new(Protects::ReadsAndWrites, true);

    #[test]
    fn a_branch_entry_covers_its_subtree_and_nothing_beside_it() {
        let grant = grant(&[("Vehicle.Cabin", false)], false);
        assert!(grant.permits("Vehicle.Cabin", RW, Access::Read).is_ok());
        assert!(
            grant
                .permits("Vehicle.Cabin.Door", RW, Access::Read)
                .is_ok()
        );
        assert_eq!(
            grant.permits("Vehicle.CabinX", RW, Access::Read),
            Err(VissError::TokenScope)
        );
        assert_eq!(
            grant.permits("Vehicle.Speed", RW, Access::Read),
            Err(VissError::TokenScope)
        );
    }

    #[test]
    fn writes_need_a_read_write_entry() {
        let read_only = grant(&[("Vehicle.Cabin", false)], false);
        assert_eq!(
            read_only.permits("Vehicle.Cabin.Light", RW, Access::Write),
            Err(VissError::TokenReadOnly)
        );
        let both = grant(
            &[("Vehicle.Cabin", false), ("Vehicle.Cabin.Light", true)],
            false,
        );
        assert!(
            both.permits("Vehicle.Cabin.Light", RW, Access::Write)
                .is_ok()
        );
        assert_eq!(
            both.permits("Vehicle.Speed", RW, Access::Write),
            Err(VissError::TokenScope)
        );
    }

    #[test]
    fn the_scope_list_overrides_the_token() {
        let mut grant = grant(&[("Vehicle", true)], false);
        grant.denied = vec!["Vehicle.Cabin.Door".into()];
        assert_eq!(
            grant.permits("Vehicle.Cabin.Door.Row1", RW, Access::Read),
            Err(VissError::TokenScope)
        );
        assert!(
            grant
                .permits("Vehicle.Cabin.DoorCount", RW, Access::Read)
                .is_ok()
        );
    }

    #[test]
    fn consent_tagged_data_needs_consent_in_the_grant() {
        let without = grant(&[("Vehicle", true)], false);
        assert_eq!(
            without.permits("Vehicle.Speed", RW_CONSENT, Access::Read),
            Err(VissError::TokenConsent)
        );
        let with = grant(&[("Vehicle", true)], true);
        assert!(
            with.permits("Vehicle.Speed", RW_CONSENT, Access::Read)
                .is_ok()
        );
    }

    #[test]
    fn bearer_tokens_are_read_whatever_the_scheme_case() {
        assert_eq!(bearer_token("Bearer a.b.c"), Some("a.b.c"));
        assert_eq!(bearer_token("bearer   a.b.c "), Some("a.b.c"));
        assert_eq!(bearer_token("Basic dXNlcg=="), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("a.b.c"), None);
    }

    #[test]
    fn the_selection_table_of_core_8_8() {
        let write_only = Some(Validate::new(Protects::Writes, false));
        let read_write = Some(RW);
        assert!(!Guard::needs_token(None, Access::Read));
        assert!(!Guard::needs_token(None, Access::Write));
        assert!(!Guard::needs_token(write_only, Access::Read));
        assert!(Guard::needs_token(write_only, Access::Write));
        assert!(Guard::needs_token(read_write, Access::Read));
        assert!(Guard::needs_token(read_write, Access::Write));
    }
}
