//! Who may ask for an access grant token, in which roles (CORE §8.3.1, §8.6).
//!
//! CORE leaves the proof of the roles out of scope (X.509 identity and attribute
//! certificates, possibly an interactive protocol). Ours is a registered client: a proof
//! secret, stored only as its SHA-256, and the role triplets the client may ask for. The
//! clients file is configuration, never in the repository (test fixtures make their own).
//!
//! ```json
//! {"clients": [{"name": "fleet-app", "proof_sha256": "<64 hex digits>",
//!               "contexts": ["Owner+Third party+Cloud", "Driver+Third party+Cloud"]}]}
//! ```

use std::path::Path;

use aws_lc_rs::{constant_time, digest};
use serde::Deserialize;
use viss_runtime::access::policy::read_json;

/// The minimum role sets of CORE §8.6.1–§8.6.3 (an ecosystem may extend them).
const USERS: &[&str] = &[
    "OEM",
    "Dealer",
    "Independent",
    "Owner",
    "Driver",
    "Passenger",
];
const APPS: &[&str] = &["OEM", "Third party"];
const DEVICES: &[&str] = &["Vehicle", "Nomadic", "Cloud"];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    pub clients: Vec<Client>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub name: String,
    pub proof_sha256: String,
    pub contexts: Vec<String>,
}

impl Clients {
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let clients: Self = read_json(path, "clients file")?;
        for client in &clients.clients {
            if client.proof_sha256.len() != 64
                || !client.proof_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(format!(
                    "clients file {}: client `{}`: proof_sha256 is not 64 hex digits",
                    path.display(),
                    client.name
                ));
            }
            if let Some(bad) = client.contexts.iter().find(|clx| canonical(clx).is_none()) {
                return Err(format!(
                    "clients file {}: client `{}`: `{bad}` is not a user+app+device triplet of \
                     CORE's roles",
                    path.display(),
                    client.name
                ));
            }
        }
        Ok(clients)
    }

    /// The client whose proof this is, if it may act in `context`; the context in its
    /// canonical spelling.
    pub fn authorise(&self, proof: &str, context: &str) -> Result<(&Client, String), &'static str> {
        let context = canonical(context).ok_or("the context is not a user+app+device triplet")?;
        let hash = hex(digest::digest(&digest::SHA256, proof.as_bytes()).as_ref());
        let client = self
            .clients
            .iter()
            .find(|client| {
                constant_time::verify_slices_are_equal(
                    client.proof_sha256.to_ascii_lowercase().as_bytes(),
                    hash.as_bytes(),
                )
                .is_ok()
            })
            .ok_or("the proof is not valid")?;
        if !client
            .contexts
            .iter()
            .any(|allowed| canonical(allowed).as_deref() == Some(context.as_str()))
        {
            return Err("the client may not act in this context");
        }
        Ok((client, context))
    }
}

/// `user+app+device` with each role spelled as CORE's list does (case-insensitive input:
/// CORE itself writes "Third Party" and "Third party").
pub fn canonical(context: &str) -> Option<String> {
    let mut roles = context.split('+');
    let (user, app, device) = (roles.next()?, roles.next()?, roles.next()?);
    if roles.next().is_some() {
        return None;
    }
    let pick = |set: &[&'static str], role: &str| {
        set.iter()
            .find(|known| known.eq_ignore_ascii_case(role.trim()))
            .copied()
    };
    Some(format!(
        "{}+{}+{}",
        pick(USERS, user)?,
        pick(APPS, app)?,
        pick(DEVICES, device)?
    ))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Clients {
        let hash = hex(digest::digest(&digest::SHA256, b"s3cret-proof").as_ref());
        Clients {
            clients: vec![Client {
                name: "app".into(),
                proof_sha256: hash,
                contexts: vec!["Owner+Third Party+Cloud".into()],
            }],
        }
    }

    #[test]
    fn a_proof_and_an_allowed_context_authorise() {
        let clients = clients();
        let (client, context) = clients
            .authorise("s3cret-proof", "owner+third party+cloud")
            .expect("allowed");
        assert_eq!(
            (client.name.as_str(), context.as_str()),
            ("app", "Owner+Third party+Cloud")
        );
        assert_eq!(
            clients.authorise("wrong", "Owner+Third party+Cloud").err(),
            Some("the proof is not valid")
        );
        assert_eq!(
            clients
                .authorise("s3cret-proof", "Driver+Third party+Cloud")
                .err(),
            Some("the client may not act in this context")
        );
        assert!(clients.authorise("s3cret-proof", "King+OEM+Cloud").is_err());
    }

    #[test]
    fn contexts_are_triplets_of_known_roles() {
        assert_eq!(
            canonical("Driver+OEM+Vehicle").as_deref(),
            Some("Driver+OEM+Vehicle")
        );
        assert!(canonical("Driver+OEM").is_none());
        assert!(canonical("Driver+OEM+Vehicle+x").is_none());
        assert!(canonical("Driver+Hacker+Vehicle").is_none());
    }
}
