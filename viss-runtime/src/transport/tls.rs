//! TLS material: the configured PEM certificate and key, or a self-signed certificate for
//! local use, generated once into a directory and reused on the next start.

use std::path::Path;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;

use super::ServerError;
use super::config::TlsConfig;

pub use super::config::TlsFiles;

/// The files to use: the configured pair, or a self-signed pair in `self_signed_dir`
/// (generated when missing).
pub fn resolve_files(config: &TlsConfig) -> Result<TlsFiles, ServerError> {
    match (&config.cert, &config.key) {
        (Some(cert), Some(key)) => Ok(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            self_signed: false,
        }),
        (None, None) => ensure_self_signed(&config.self_signed_dir),
        _ => Err(ServerError::Tls(
            "tls.cert and tls.key must be given together".into(),
        )),
    }
}

/// Writes `cert.pem` and `key.pem` for `localhost` / `127.0.0.1` / `::1` into `dir` unless
/// both already exist.
pub fn ensure_self_signed(dir: &Path) -> Result<TlsFiles, ServerError> {
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        self_signed: true,
    };
    if files.cert.is_file() && files.key.is_file() {
        return Ok(files);
    }
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let generated = self_signed(names)
        .map_err(|error| ServerError::Tls(format!("cannot generate a certificate: {error}")))?;
    let io_error = |error: std::io::Error| {
        ServerError::Tls(format!(
            "cannot write TLS files to {}: {error}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(io_error)?;
    std::fs::write(&files.cert, generated.cert.pem()).map_err(io_error)?;
    write_private(&files.key, generated.signing_key.serialize_pem().as_bytes())
        .map_err(io_error)?;
    Ok(files)
}

/// A self-signed certificate whose subject names its own key. rcgen's default subject is
/// the same for every certificate, and OpenSSL (Node's `NODE_EXTRA_CA_CERTS`, a system
/// store) looks a self-signed certificate up by its subject: of two such servers trusted in
/// one bundle, only the first would verify.
fn self_signed(names: Vec<String>) -> Result<rcgen::CertifiedKey<rcgen::KeyPair>, rcgen::Error> {
    use rcgen::PublicKeyData as _;
    let signing_key = rcgen::KeyPair::generate()?;
    let fingerprint: String = signing_key
        .subject_public_key_info()
        .iter()
        .rev()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("vssgen self-signed {fingerprint}"),
    );
    let cert = params.self_signed(&signing_key)?;
    Ok(rcgen::CertifiedKey { cert, signing_key })
}

/// Writes a private key readable by its owner only (0600 on Unix): into a new file (never
/// through an existing one, whose mode could be wider, or a symlink), then renamed over.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// A rustls configuration from PEM files (aws-lc-rs provider, TLS 1.2 and 1.3; ALPN `h2`
/// and `http/1.1`).
///
/// Built on the calling thread: the files are small, and axum-server's own loaders would
/// start a blocking-pool thread (with its stack and malloc arena) only to read them.
pub fn rustls_config(files: &TlsFiles) -> Result<RustlsConfig, ServerError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let failed = |error: &dyn std::fmt::Display| {
        ServerError::Tls(format!(
            "cannot load {} / {}: {error}",
            files.cert.display(),
            files.key.display()
        ))
    };
    // Several crates may enable rustls providers; pick one explicitly for the process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| failed(&error))?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| failed(&error))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| failed(&error))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_files_are_generated_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("viss-tls-test-{}", std::process::id()));
        let first = ensure_self_signed(&dir).unwrap();
        let pem = std::fs::read_to_string(&first.cert).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let second = ensure_self_signed(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(&second.cert).unwrap(), pem);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_self_signed_pair_loads_and_a_key_that_is_no_key_is_named_in_the_error() {
        let dir = std::env::temp_dir().join(format!("viss-tls-load-{}", std::process::id()));
        let files = ensure_self_signed(&dir).unwrap();
        let config = rustls_config(&files).unwrap().get_inner();
        assert_eq!(config.alpn_protocols, [&b"h2"[..], b"http/1.1"]);
        let broken = TlsFiles {
            cert: files.cert.clone(),
            key: files.cert.clone(),
            self_signed: true,
        };
        let Err(ServerError::Tls(message)) = rustls_config(&broken) else {
            panic!("a certificate given as the key must not load");
        };
        assert!(message.contains("cert.pem"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Two servers' self-signed certificates trusted in one bundle must both verify, so
    /// their subjects (OpenSSL's lookup key) differ.
    #[test]
    fn each_self_signed_certificate_has_a_subject_of_its_own() {
        let subject = |der: &[u8]| {
            let marker = b"vssgen self-signed ";
            let at = der
                .windows(marker.len())
                .position(|window| window == marker)
                .expect("the subject names vssgen");
            der[at..at + marker.len() + 16].to_vec()
        };
        let localhost = || vec!["localhost".to_owned()];
        let first = self_signed(localhost()).unwrap();
        let second = self_signed(localhost()).unwrap();
        assert_ne!(subject(first.cert.der()), subject(second.cert.der()));
    }

    #[test]
    fn a_cert_without_a_key_is_an_error() {
        let config = TlsConfig {
            cert: Some("cert.pem".into()),
            ..TlsConfig::default()
        };
        assert!(resolve_files(&config).is_err());
    }
}
