//! The access-control gate of `get`, `set` and `subscribe` (CORE §8.4.4, §8.8): see
//! [`crate::access`] for the model. Without an installed [`Guard`] (a tree without
//! `validate` tags, or `--no-access-control`) the gate is one atomic load.

use std::sync::Arc;

use jiff::Timestamp;

use super::Engine;
use crate::access::{Access, Cached, Guard, TokenCache, TokenVerifier};
use crate::error::VissError;
use crate::request::Request;
use crate::response::{key, write_json_str};
use crate::tree::{NodeId, Validate, VissTree};

/// Longest credential read at all: a JWT with a signal-set scope is a few KiB; anything
/// longer is refused before it is decoded (a 100 KB token is an attack, not a token).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What the gate decided for a request it let through.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cleared {
    /// A token was needed and validated: its expiry (subscriptions end then), and the
    /// request is access controlled (no in-line errors, CORE §8.4.4).
    pub token_expires: Option<Timestamp>,
}

impl<T: VissTree> Engine<T> {
    /// Enforces the tree's `validate` tags from now on, validating tokens with `verifier`.
    /// Returns the number of nodes the tags protect; `Err` when access control was
    /// installed already.
    pub fn install_access_control(
        &self,
        verifier: Arc<dyn TokenVerifier>,
    ) -> Result<usize, &'static str> {
        let guard = Guard::new(&self.forest, verifier);
        let protected = guard.protected_count();
        self.guard
            .set(guard)
            .map_err(|_| "access control is installed already")?;
        Ok(protected)
    }

    /// Whether tokens are checked (access control installed).
    pub fn enforces_access_control(&self) -> bool {
        self.guard.get().is_some()
    }

    /// Whether `credential` (a bearer token, presented outside a VISS request, e.g. on a
    /// file-transfer data channel) grants `access` to `node` now. `Ok` when the node needs
    /// no token for it (or access control is off); the same `401`s as a request otherwise.
    pub fn authorize(
        &self,
        credential: Option<&str>,
        node: NodeId,
        access: Access,
    ) -> Result<(), VissError> {
        let Some(guard) = self.guard.get() else {
            return Ok(());
        };
        let tag = guard.tag(node);
        let Some(tag) = tag.filter(|_| Guard::needs_token(tag, access)) else {
            return Ok(());
        };
        let credential = credential
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .ok_or(VissError::TokenMissing)?;
        if credential.len() > MAX_TOKEN_BYTES {
            return Err(VissError::TokenInvalid);
        }
        let grant = guard.verifier().verify(credential, self.clock.now())?;
        grant.permits(&self.forest.node(node).path, tag, access)
    }

    /// Lets the request through, or denies it with a `401`: `nodes` are every node it
    /// addresses (after `paths` and branch expansion).
    pub(super) fn clear(
        &self,
        tokens: &mut TokenCache,
        request: &Request<'_>,
        access: Access,
        nodes: &[NodeId],
        now: Timestamp,
    ) -> Result<Cleared, VissError> {
        let Some(guard) = self.guard.get() else {
            return Ok(Cleared::default());
        };
        let strictest = nodes
            .iter()
            .fold(None, |tag, node| Validate::strictest(tag, guard.tag(*node)));
        if !Guard::needs_token(strictest, access) {
            return Ok(Cleared::default());
        }
        let credential = request
            .authorization
            .as_deref()
            .map(|text| crate::access::bearer_token(text).unwrap_or(text.trim()))
            .filter(|text| !text.is_empty())
            .ok_or(VissError::TokenMissing)?;
        if credential.len() > MAX_TOKEN_BYTES {
            return Err(VissError::TokenInvalid);
        }
        let Cached { grant, new_handle } =
            tokens.grant(credential, now, |token| guard.verifier().verify(token, now))?;
        for node in nodes {
            let tag = guard.tag(*node);
            if let Some(tag) = tag.filter(|_| Guard::needs_token(tag, access)) {
                grant.permits(&self.forest.node(*node).path, tag, access)?;
            }
        }
        let token_expires = grant.expires;
        if let Some(handle) = new_handle {
            tokens.announce(handle);
        }
        Ok(Cleared {
            token_expires: Some(token_expires),
        })
    }
}

/// Adds `"authorization":"<handle>"` to a finished response (CORE §8.3.5: the server
/// answers the first use of a token it caches with a handle the client may send instead).
pub(super) fn announce_handle(out: &mut Vec<u8>, handle: &str) {
    if out.last() != Some(&b'}') {
        return;
    }
    out.pop();
    key(out, "authorization");
    write_json_str(out, handle);
    out.push(b'}');
}
