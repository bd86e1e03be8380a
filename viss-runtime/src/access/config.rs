//! The `[access_control]` section of the server configuration (TOML, env, flags).

use std::path::PathBuf;

use serde::Deserialize;

/// The audience CORE §8.5.3 gives every VISS v3 token.
pub const VISS_AUDIENCE: &str = "covesa.global/VISSv3";

/// The `[access_control]` section of the server configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessControlConfig {
    /// Enforce the tree's `validate` tags. `false` (`--no-access-control`) serves every
    /// node to everybody: development only, logged loudly.
    pub enabled: bool,
    /// The keys tokens are signed with (the ATS's public keys, or a secret shared with it).
    pub keys: Vec<KeyConfig>,
    /// Accepted `aud` values.
    pub audiences: Vec<String>,
    /// This vehicle's identity for the `vin` claim; default: the tree's
    /// `Vehicle.VehicleIdentification.VIN` attribute when it has a value.
    pub vin: Option<String>,
    /// Clock skew tolerated on `exp`, `iat` and `nbf`, in seconds (CORE: "tens of seconds").
    pub leeway_secs: u64,
    /// The ecosystem's purpose list (CORE §8.7.1): tokens whose `scp` is a purpose.
    pub purposes: Option<PathBuf>,
    /// The ecosystem's scope list (CORE §8.7.2): nodes never served to given contexts.
    pub scope_list: Option<PathBuf>,
}

impl Default for AccessControlConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            keys: Vec::new(),
            audiences: vec![VISS_AUDIENCE.to_owned()],
            vin: None,
            leeway_secs: 30,
            purposes: None,
            scope_list: None,
        }
    }
}

/// One verification key: its algorithm (pinned) and the file holding it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// `ES256`, `ES384`, `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`, `EdDSA` (a
    /// PEM public key) or `HS256`, `HS384`, `HS512` (a file holding the shared secret).
    pub alg: String,
    pub file: PathBuf,
    /// Only tokens whose header names this `kid` (or none) are checked with the key.
    #[serde(default)]
    pub kid: Option<String>,
}

impl KeyConfig {
    /// `ALG:FILE`, the form of `--token-key`.
    pub fn parse_flag(text: &str) -> Result<Self, String> {
        let (alg, file) = text
            .split_once(':')
            .ok_or_else(|| format!("`{text}`: expected ALG:FILE, e.g. ES256:ats-public.pem"))?;
        Ok(Self {
            alg: alg.to_owned(),
            file: PathBuf::from(file),
            kid: None,
        })
    }
}
