//! TLS for the connections the server makes itself (to an MQTT broker, to PostgreSQL): the
//! rustls stack and aws-lc provider the listeners use, and roots from a configured CA file
//! or, without one, the system's.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// The roots to check a server against: every certificate in `ca_file` (named `setting` in
/// messages), or the system's CA certificates without one.
pub(crate) fn roots(
    ca_file: Option<&Path>,
    setting: &str,
) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let named =
                |error: &dyn std::fmt::Display| format!("{setting} {}: {error}", path.display());
            for cert in CertificateDer::pem_file_iter(path).map_err(|error| named(&error))? {
                roots
                    .add(cert.map_err(|error| named(&error))?)
                    .map_err(|error| named(&error))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                // A system certificate rustls cannot read is skipped, as browsers do.
                let _ = roots.add(cert);
            }
        }
    }
    if roots.is_empty() {
        return Err(format!(
            "no CA certificate to check the server against: set {setting}"
        ));
    }
    Ok(roots)
}

/// A client configuration builder with the aws-lc provider and safe protocol versions,
/// trusting `roots`.
pub(crate) fn builder(
    roots: rustls::RootCertStore,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots))
}
