//! Access tokens as JWTs (CORE §8.5.3), validated against keys from files (feature `auth`).
//!
//! Safe by construction against the classic JWT attacks:
//! - every key is configured with its algorithm, and a token is only checked with keys of
//!   the algorithm its header names: `alg: none` names no key (jsonwebtoken has no such
//!   algorithm), and an HS256 token is never checked against an ES256 or RS256 public key
//!   (the "HMAC with the public key" confusion), since those keys are not HMAC keys;
//! - keys come only from configuration: `jku`, `x5u`, `jwk` and `kid` in a header never
//!   fetch or name a key that was not configured (`kid` only narrows the configured ones);
//! - the signature is checked before any claim is read; claims are then parsed by our own
//!   types (times as JSON numbers or, as VISSR writes them, numeric strings);
//! - size is bounded before decoding (the engine's `MAX_TOKEN_BYTES`), and serde_json's
//!   depth limit stops nesting bombs.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::config::{AccessControlConfig, KeyConfig};
use super::policy::{PurposeList, ScopeList};
use super::{Grant, ScopeEntry, SignalAccess, TokenVerifier};
use crate::error::VissError;

/// Shortest HMAC secret accepted (RFC 7518 §3.2: at least the hash size).
const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug)]
struct Key {
    alg: Algorithm,
    kid: Option<String>,
    key: DecodingKey,
}

/// Validates JWT access tokens.
#[derive(Debug)]
pub struct JwtVerifier {
    keys: Vec<Key>,
    audiences: Vec<String>,
    vin: Option<String>,
    leeway_secs: i64,
    purposes: PurposeList,
    scope_list: ScopeList,
}

impl JwtVerifier {
    /// Reads the keys and the purpose list; every problem is a message naming the file.
    pub fn from_config(config: &AccessControlConfig, vin: Option<String>) -> Result<Self, String> {
        if config.keys.is_empty() {
            return Err(
                "no token key configured (access_control.keys, --token-key ALG:FILE)".into(),
            );
        }
        let keys = config.keys.iter().map(load_key).collect::<Result<_, _>>()?;
        let purposes = match &config.purposes {
            Some(path) => PurposeList::from_file(path)?,
            None => PurposeList::default(),
        };
        let scope_list = match &config.scope_list {
            Some(path) => ScopeList::from_file(path)?,
            None => ScopeList::default(),
        };
        Ok(Self {
            keys,
            audiences: config.audiences.clone(),
            vin: config.vin.clone().or(vin),
            leeway_secs: i64::try_from(config.leeway_secs).unwrap_or(i64::MAX),
            purposes,
            scope_list,
        })
    }

    /// The claims of `token` once its signature checked out with a configured key.
    fn verified_claims(&self, token: &str) -> Result<Claims, VissError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VissError::TokenInvalid)?;
        let (message, signature) = token.rsplit_once('.').ok_or(VissError::TokenInvalid)?;
        let (_, payload) = message.split_once('.').ok_or(VissError::TokenInvalid)?;
        let verified = self
            .keys
            .iter()
            .filter(|key| key.alg == header.alg)
            .filter(|key| match (&key.kid, &header.kid) {
                (Some(ours), Some(theirs)) => ours == theirs,
                _ => true,
            })
            .any(|key| {
                jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key.key, key.alg)
                    .unwrap_or(false)
            });
        if !verified {
            return Err(VissError::TokenInvalid);
        }
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| VissError::TokenInvalid)?;
        serde_json::from_slice(&json).map_err(|_| VissError::TokenInvalid)
    }

    fn check_times(&self, claims: &Claims, now: i64) -> Result<i64, VissError> {
        let exp = claims.exp.ok_or(VissError::TokenInvalid)?.0;
        if now > exp.saturating_add(self.leeway_secs) {
            return Err(VissError::TokenExpired);
        }
        let early = |time: Option<NumericDate>| {
            time.is_some_and(|time| time.0 > now.saturating_add(self.leeway_secs))
        };
        if early(claims.iat) || early(claims.nbf) {
            return Err(VissError::TokenNotYetValid);
        }
        Ok(exp.saturating_add(self.leeway_secs))
    }

    fn scope(&self, claims: &Claims) -> Result<Vec<ScopeEntry>, VissError> {
        match claims.scp.as_ref().ok_or(VissError::TokenInvalid)? {
            Scope::Signals(entries) => entries
                .iter()
                .map(|entry| entry.to_scope_entry().ok_or(VissError::TokenInvalid))
                .collect(),
            Scope::Purpose(short) => {
                // CORE §8.5.3: a purpose token carries the client context it was given for.
                let context = claims.clx.as_deref().ok_or(VissError::TokenInvalid)?;
                self.purposes
                    .signals(short, context)
                    .ok_or(VissError::TokenScope)
            }
        }
    }
}

impl JwtVerifier {
    /// Every path the scope list names (checked against the tree at start: a typo must not
    /// silently block nothing).
    pub fn scope_list_paths(&self) -> impl Iterator<Item = &str> {
        self.scope_list
            .scope
            .iter()
            .flat_map(|rule| rule.no_access.iter().map(String::as_str))
    }

    /// The nodes the scope list keeps from the token's context. With a scope list, a token
    /// without `clx` is refused: the list cannot be applied to it.
    fn denied(&self, claims: &Claims) -> Result<Vec<String>, VissError> {
        if self.scope_list.scope.is_empty() {
            return Ok(Vec::new());
        }
        let clx = claims.clx.as_deref().ok_or(VissError::TokenInvalid)?;
        Ok(self.scope_list.no_access(clx))
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Grant, VissError> {
        let claims = self.verified_claims(token)?;
        let expires = self.check_times(&claims, now.as_second())?;
        let audience_ok = claims
            .aud
            .as_ref()
            .is_some_and(|aud| aud.any(|aud| self.audiences.iter().any(|ours| ours == aud)));
        if !audience_ok {
            return Err(VissError::TokenOtherAudience);
        }
        if let Some(vin) = &claims.vin
            && self.vin.as_ref() != Some(vin)
        {
            return Err(VissError::TokenOtherVehicle);
        }
        Ok(Grant {
            expires: Timestamp::from_second(expires).unwrap_or(Timestamp::MAX),
            scope: self.scope(&claims)?,
            consent: consented(&claims),
            denied: self.denied(&claims)?,
        })
    }
}

/// Whether the token carries consent that covers this client (CORE §9.10): `YES`, or
/// `IN_VEHICLE` for a client in the vehicle only (its data may not leave the vehicle, so a
/// cloud or nomadic client does not get it).
fn consented(claims: &Claims) -> bool {
    let device = claims
        .clx
        .as_deref()
        .and_then(|clx| clx.rsplit('+').next())
        .unwrap_or("");
    match claims.consent.as_deref() {
        Some("YES") => true,
        Some("IN_VEHICLE") => device.eq_ignore_ascii_case("Vehicle"),
        _ => false,
    }
}

fn load_key(config: &KeyConfig) -> Result<Key, String> {
    let alg: Algorithm = config.alg.parse().map_err(|_| {
        format!(
            "token key {}: unknown algorithm `{}`",
            config.file.display(),
            config.alg
        )
    })?;
    let bytes = read(&config.file)?;
    let bad = |error: jsonwebtoken::errors::Error| {
        format!(
            "token key {}: not a {} key: {error}",
            config.file.display(),
            config.alg
        )
    };
    let key = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            if bytes.len() < MIN_SECRET_BYTES || bytes.starts_with(b"-----BEGIN") {
                return Err(format!(
                    "token key {}: an {} secret is at least {MIN_SECRET_BYTES} random bytes \
                     (and never a PEM key)",
                    config.file.display(),
                    config.alg
                ));
            }
            DecodingKey::from_secret(&bytes)
        }
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(&bytes).map_err(bad)?,
        Algorithm::EdDSA => DecodingKey::from_ed_pem(&bytes).map_err(bad)?,
        _ => DecodingKey::from_rsa_pem(&bytes).map_err(bad)?,
    };
    Ok(Key {
        alg,
        kid: config.kid.clone(),
        key,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// The claims the server reads (CORE §8.5.3); others are ignored.
#[derive(Debug, Deserialize)]
struct Claims {
    exp: Option<NumericDate>,
    iat: Option<NumericDate>,
    nbf: Option<NumericDate>,
    aud: Option<Audience>,
    vin: Option<String>,
    scp: Option<Scope>,
    clx: Option<String>,
    /// Our ATS's record of the owner's consent for the purpose (`YES`, `IN_VEHICLE`).
    consent: Option<String>,
}

/// Seconds since the epoch, as a JSON number or a numeric string (VISSR).
#[derive(Debug, Clone, Copy)]
struct NumericDate(i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        let seconds = match Raw::deserialize(deserializer)? {
            Raw::Number(number) => number,
            Raw::Text(text) => text.trim().parse().map_err(serde::de::Error::custom)?,
        };
        if !seconds.is_finite() || seconds.abs() > 1e15 {
            return Err(serde::de::Error::custom("time out of range"));
        }
        Ok(Self(seconds.floor() as i64))
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn any(&self, test: impl Fn(&str) -> bool) -> bool {
        match self {
            Self::One(one) => test(one),
            Self::Many(many) => many.iter().any(|aud| test(aud)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scope {
    Purpose(String),
    Signals(Vec<SignalAccess>),
}
