//! A session's validated tokens and their handles (CORE §8.3.5, §8.4.4).
//!
//! The first request with a token pays for its validation (a signature check is tens of
//! microseconds); the grant is then kept here, so a repeated token costs a compare and a
//! handle a lookup. Handles are bearer credentials bound to the session that received
//! them: 32 bytes from the operating system's CSPRNG (over the spec's 24), never logged.
//! The cache is bounded (the oldest entry goes) and a grant leaves it when it expires.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;

use super::Grant;
use crate::error::VissError;

/// Tokens one session keeps validated at once.
const CAPACITY: usize = 8;

/// Bytes of randomness in a handle (CORE: at least 24).
const HANDLE_BYTES: usize = 32;

// CORE §8.3.5: a handle has at least 24 bytes.
const _: () = assert!(HANDLE_BYTES >= 24);

/// The length of a handle's text: base64url of [`HANDLE_BYTES`] without padding.
pub const HANDLE_LEN: usize = HANDLE_BYTES.div_ceil(3) * 4 - (3 - HANDLE_BYTES % 3) % 3;

#[derive(Debug)]
struct Entry {
    token: Box<str>,
    handle: Box<str>,
    grant: Grant,
    /// The handle went out in a response (a denied or failed request announces nothing).
    delivered: bool,
}

/// One session's validated tokens.
#[derive(Debug, Default)]
pub struct TokenCache {
    /// Sessions that live for one request (HTTP, gRPC unary calls) or serve many clients
    /// (MQTT's shared session) keep nothing and give out no handle: a handle there would be
    /// useless, or usable by another client.
    disabled: bool,
    entries: Vec<Entry>,
    /// The grant of the request being answered when nothing is kept (`disabled`).
    uncached: Option<Grant>,
    /// A handle given out by the request being answered, for its response.
    announced: Option<Box<str>>,
}

/// A grant, and its handle while no response has carried it yet.
#[derive(Debug)]
pub struct Cached<'a> {
    pub grant: &'a Grant,
    pub new_handle: Option<Box<str>>,
}

impl TokenCache {
    /// A cache that keeps nothing: every token is validated, no handle is given out.
    pub fn disabled() -> Self {
        Self {
            disabled: true,
            ..Self::default()
        }
    }

    /// Keeps `handle` for the response of the request being answered.
    pub fn announce(&mut self, handle: Box<str>) {
        self.announced = Some(handle);
    }

    /// The handle to put in the response being written, if the request got one.
    pub fn take_announced(&mut self) -> Option<Box<str>> {
        self.announced.take()
    }

    /// Records that a response carried `handle`: later uses of its token announce nothing.
    pub fn delivered(&mut self, handle: &str) {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|entry| *entry.handle == *handle)
        {
            entry.delivered = true;
        }
    }

    /// The grant of `credential` (a token or one of this session's handles) at `now`:
    /// cached, or validated by `verify` and cached with a new handle.
    pub fn grant(
        &mut self,
        credential: &str,
        now: Timestamp,
        verify: impl FnOnce(&str) -> Result<Grant, VissError>,
    ) -> Result<Cached<'_>, VissError> {
        if looks_like_handle(credential) {
            return self.by_handle(credential, now);
        }
        if self.disabled {
            return Ok(Cached {
                grant: self.uncached.insert(verify(credential)?),
                new_handle: None,
            });
        }
        self.entries.retain(|entry| entry.grant.expires > now);
        let index = match self
            .entries
            .iter()
            .position(|entry| *entry.token == *credential)
        {
            Some(index) => index,
            None => self.insert(credential, verify(credential)?)?,
        };
        let entry = &self.entries[index];
        Ok(Cached {
            grant: &entry.grant,
            new_handle: (!entry.delivered).then(|| entry.handle.clone()),
        })
    }

    /// One of this session's handles, while its token is valid; any other word of a
    /// handle's shape means the client must send its token again (CORE §8.4.4).
    fn by_handle(&mut self, handle: &str, now: Timestamp) -> Result<Cached<'_>, VissError> {
        let entry = self
            .entries
            .iter()
            .find(|entry| *entry.handle == *handle && entry.grant.expires > now)
            .ok_or(VissError::TokenHandleUnknown)?;
        Ok(Cached {
            grant: &entry.grant,
            new_handle: None,
        })
    }

    /// Keeps a newly validated token under a new handle; returns its index.
    fn insert(&mut self, token: &str, grant: Grant) -> Result<usize, VissError> {
        let handle = new_handle()?;
        if self.entries.len() >= CAPACITY {
            self.entries.remove(0);
        }
        self.entries.push(Entry {
            token: token.into(),
            handle,
            grant,
            delivered: false,
        });
        Ok(self.entries.len() - 1)
    }
}

/// A handle is one base64url word of [`HANDLE_LEN`] characters; a JWT has dots.
fn looks_like_handle(credential: &str) -> bool {
    credential.len() == HANDLE_LEN
        && credential
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn new_handle() -> Result<Box<str>, VissError> {
    let mut bytes = [0u8; HANDLE_BYTES];
    // Without the OS's randomness no handle is safe to give out: refuse the request.
    getrandom::fill(&mut bytes)
        .map_err(|_| VissError::Default(crate::ErrorKind::ServiceUnavailable))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes).into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::ScopeEntry;

    fn grant(expires: Timestamp) -> Grant {
        Grant {
            expires,
            scope: vec![ScopeEntry {
                path: "Vehicle".into(),
                writable: false,
            }],
            consent: false,
            denied: Vec::new(),
        }
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).expect("in range")
    }

    #[test]
    fn a_token_is_verified_once_and_its_handle_works_in_its_session_only() {
        let mut cache = TokenCache::default();
        let mut verified = 0;
        let first = cache
            .grant("a.b.c", at(10), |_| {
                verified += 1;
                Ok(grant(at(100)))
            })
            .expect("valid");
        let handle = first.new_handle.expect("a handle for a new token");
        assert_eq!(handle.len(), HANDLE_LEN);
        let again = cache
            .grant("a.b.c", at(11), |_| unreachable!("cached"))
            .expect("cached");
        assert_eq!(
            again.new_handle.as_ref(),
            Some(&handle),
            "not delivered yet"
        );
        cache.delivered(&handle);
        let delivered = cache
            .grant("a.b.c", at(11), |_| unreachable!("cached"))
            .expect("cached");
        assert!(delivered.new_handle.is_none());
        cache
            .grant(&handle, at(12), |_| unreachable!("by handle"))
            .expect("the handle stands for the token");
        assert_eq!(verified, 1);
        let mut other_session = TokenCache::default();
        let replayed = other_session.grant(&handle, at(12), |_| unreachable!("never verified"));
        assert_eq!(replayed.err(), Some(VissError::TokenHandleUnknown));
    }

    #[test]
    fn handles_expire_with_their_token_and_the_cache_is_bounded() {
        let mut cache = TokenCache::default();
        let handle = cache
            .grant("t.o.k", at(10), |_| Ok(grant(at(20))))
            .expect("valid")
            .new_handle
            .expect("new");
        let expired = cache.grant(&handle, at(20), |_| unreachable!());
        assert_eq!(expired.err(), Some(VissError::TokenHandleUnknown));
        for index in 0..3 * CAPACITY {
            let token = format!("t.{index}.x");
            cache
                .grant(&token, at(30), |_| Ok(grant(at(100))))
                .expect("valid");
        }
        assert_eq!(cache.entries.len(), CAPACITY);
    }

    #[test]
    fn a_disabled_cache_validates_every_time_and_gives_out_no_handle() {
        let mut cache = TokenCache::disabled();
        let mut verified = 0;
        for _ in 0..2 {
            let cached = cache
                .grant("a.b.c", at(10), |_| {
                    verified += 1;
                    Ok(grant(at(100)))
                })
                .expect("valid");
            assert!(cached.new_handle.is_none());
        }
        assert_eq!(verified, 2);
        assert!(cache.entries.is_empty());
    }

    #[test]
    fn two_handles_differ() {
        let (a, b) = (new_handle().expect("rng"), new_handle().expect("rng"));
        assert_ne!(a, b);
        assert!(looks_like_handle(&a) && !looks_like_handle("a.b.c"));
    }
}
