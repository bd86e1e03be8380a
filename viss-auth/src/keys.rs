//! The two signing keys (AGTS and ATS), ES256, kept in a key directory: read when they are
//! there, generated on first start when not (private keys 0600). Nothing is checked in.

use std::path::{Path, PathBuf};

use jsonwebtoken::{DecodingKey, EncodingKey};

/// One ES256 key pair: signs tokens, and verifies the ones this service issued.
pub struct SigningKey {
    pub name: &'static str,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public key file, the one to give the verifiers (`--token-key ES256:<file>`).
    pub public_file: PathBuf,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .field("public_file", &self.public_file)
            .finish_non_exhaustive()
    }
}

/// What [`load_or_generate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Read,
    Generated,
}

/// `<dir>/<name>-es256.pem` and `<dir>/<name>-es256.pub.pem`.
pub fn load_or_generate(dir: &Path, name: &'static str) -> Result<(SigningKey, Origin), String> {
    let private_file = dir.join(format!("{name}-es256.pem"));
    let public_file = dir.join(format!("{name}-es256.pub.pem"));
    let origin = if private_file.is_file() {
        check_private(&private_file)?;
        // The public half is derived again when it went missing: never a new pair over an
        // existing key (that would rotate the key under every deployed verifier).
        if !public_file.is_file() {
            let pair = rcgen::KeyPair::from_pem(&read_text(&private_file)?)
                .map_err(|error| format!("{}: {error}", private_file.display()))?;
            write_public(dir, &public_file, &pair)?;
        }
        Origin::Read
    } else {
        generate(dir, &private_file, &public_file)?;
        Origin::Generated
    };
    let read = |path: &Path| {
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
    };
    let bad = |path: &Path, error: jsonwebtoken::errors::Error| {
        format!("{}: not an ES256 key: {error}", path.display())
    };
    let encoding = EncodingKey::from_ec_pem(&read(&private_file)?)
        .map_err(|error| bad(&private_file, error))?;
    let decoding =
        DecodingKey::from_ec_pem(&read(&public_file)?).map_err(|error| bad(&public_file, error))?;
    Ok((
        SigningKey {
            name,
            encoding,
            decoding,
            public_file,
        },
        origin,
    ))
}

fn generate(dir: &Path, private_file: &Path, public_file: &Path) -> Result<(), String> {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|error| format!("cannot generate a key: {error}"))?;
    let failed = |error: std::io::Error| format!("cannot write keys to {}: {error}", dir.display());
    std::fs::create_dir_all(dir).map_err(failed)?;
    viss_runtime::server::tls::write_private(private_file, pair.serialize_pem().as_bytes())
        .map_err(failed)?;
    write_public(dir, public_file, &pair)
}

fn write_public(dir: &Path, public_file: &Path, pair: &rcgen::KeyPair) -> Result<(), String> {
    std::fs::write(public_file, pair.public_key_pem())
        .map_err(|error| format!("cannot write keys to {}: {error}", dir.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// A private key others can read is refused, not used.
fn check_private(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is readable by others (mode {:o}): chmod 600 it, or give a new key directory",
                path.display(),
                mode & 0o777
            ));
        }
    }
    let _ = path;
    Ok(())
}
