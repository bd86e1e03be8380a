//! An access-control ecosystem under test (CORE §8): the real `viss-auth` (AGTS and ATS,
//! keys generated on its first start, a file-backed consent store) and the real
//! `viss-server` serving `tests/trees/Guarded.vspec` with the ATS's public key, both on
//! free ports of 127.0.0.1, stopped by their PIDs. The SDK suites get its addresses from
//! [`AccessEcosystem::env`].

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::server::Server;
use crate::{workspace_binary, workspace_root};

/// The vehicle the ecosystem's grants are for (the Guarded tree's VIN).
pub const VIN: &str = "WVWZZZ1JZXW000001";
/// The registered client's proof of identity. A test fixture, not a secret.
pub const PROOF: &str = "test-fixture-proof-not-a-real-secret";
/// SHA-256 of [`PROOF`], as the clients file holds it.
const PROOF_SHA256: &str = "edad8ce6e6cb0018f1d19dac48858b7312fb2de98d0cfe24ef08f47ff96a3bb9";
/// The role triplet the client asks for.
pub const CONTEXT: &str = "Owner+Third party+Cloud";
/// The registered client's name.
pub const CLIENT: &str = "test-fixture-app";

/// `cabin-comfort` needs no consent; `find-my-car` and `location-ads` need the owner's.
const PURPOSES: &str = r#"{"purposes": [
  {"short": "cabin-comfort", "long": "Adjust the cabin.",
   "contexts": [{"user": ["Owner", "Driver"], "app": "Third party", "device": "Cloud"}],
   "signal_access": [{"path": "Vehicle.Cabin", "access_permission": "read-write"}]},
  {"short": "find-my-car", "long": "Where the car is parked.", "consent": true,
   "contexts": [{"user": "Owner", "app": "Third party", "device": "Cloud"}],
   "signal_access": [{"path": "Vehicle.Location", "access_permission": "read-write"}]},
  {"short": "location-ads", "long": "Location for advertising.", "consent": true,
   "contexts": [{"user": "Owner", "app": "Third party", "device": "Cloud"}],
   "signal_access": [{"path": "Vehicle.Location", "access_permission": "read-only"}]}
]}"#;

/// Longest wait for viss-auth to say where it listens (it generates keys on first start).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running viss-auth and a guarded viss-server trusting its tokens.
#[derive(Debug)]
pub struct AccessEcosystem {
    auth: Child,
    /// The guarded VISS server.
    pub server: Server,
    /// `https://localhost:<port>/agts`.
    pub agts: String,
    /// `https://localhost:<port>/ats`.
    pub ats: String,
    /// The AGTS/ATS's self-signed certificate.
    pub auth_cert: PathBuf,
    /// The owner's decisions (written by [`AccessEcosystem::decide`]).
    pub consent_file: PathBuf,
    dir: tempfile::TempDir,
}

impl AccessEcosystem {
    /// Starts viss-auth (binary beside `viss_server`, or `$VISS_AUTH_BIN`) and `viss_server`
    /// on the Guarded tree.
    ///
    /// # Panics
    /// When either does not start.
    pub fn start(viss_server: &Path) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let clients = dir.path().join("clients.json");
        let clients_json = format!(
            r#"{{"clients": [{{"name": "{CLIENT}", "proof_sha256": "{PROOF_SHA256}",
                "contexts": ["{CONTEXT}", "Driver+Third party+Cloud"]}}]}}"#
        );
        std::fs::write(&clients, clients_json).expect("clients file");
        let purposes = dir.path().join("purposes.json");
        std::fs::write(&purposes, PURPOSES).expect("purposes file");
        let keys = dir.path().join("keys");
        let auth_binary = workspace_binary("VISS_AUTH_BIN", "viss-auth", viss_server);
        let mut auth = Command::new(&auth_binary)
            .args(["--address", "127.0.0.1", "--port", "0", "--vin", VIN])
            .arg("--key-dir")
            .arg(&keys)
            .arg("--clients")
            .arg(&clients)
            .arg("--purposes")
            .arg(&purposes)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{} starts: {error}", auth_binary.display()));
        let port = match read_port(&mut auth) {
            Some(port) => port,
            None => {
                let _ = auth.kill();
                let _ = auth.wait();
                panic!("viss-auth did not say where it listens");
            }
        };
        let public_key = keys.join("ats-es256.pub.pem");
        let server = Server::start(
            viss_server,
            &[
                OsStr::new("-s"),
                workspace_root()
                    .join("tests/trees/Guarded.vspec")
                    .as_os_str(),
                OsStr::new("--token-key"),
                OsStr::new(&format!("ES256:{}", public_key.display())),
                OsStr::new("--purposes"),
                purposes.as_os_str(),
                OsStr::new("--no-grpc"),
            ],
        );
        Self {
            auth,
            server,
            agts: format!("https://localhost:{port}/agts"),
            ats: format!("https://localhost:{port}/ats"),
            auth_cert: keys.join("tls/cert.pem"),
            consent_file: keys.join("consent.json"),
            dir,
        }
    }

    /// The environment the SDK suites read: `VISS_GUARDED_WS_URL`, `VISS_GUARDED_HTTP_URL`,
    /// `VISS_GUARDED_CA`, `VISS_AUTH_AGTS`, `VISS_AUTH_ATS`, `VISS_AUTH_CA`,
    /// `VISS_AUTH_CONSENT_FILE`, `VISS_AUTH_VIN`, `VISS_AUTH_PROOF`, `VISS_AUTH_CONTEXT`.
    pub fn env(&self, command: &mut Command) {
        let server_cert = self.server.cert.as_deref().unwrap_or(Path::new(""));
        command
            .env("VISS_GUARDED_WS_URL", self.server.ws_localhost())
            .env("VISS_GUARDED_HTTP_URL", self.server.http_localhost())
            .env("VISS_GUARDED_CA", server_cert)
            .env("VISS_AUTH_AGTS", &self.agts)
            .env("VISS_AUTH_ATS", &self.ats)
            .env("VISS_AUTH_CA", &self.auth_cert)
            .env("VISS_AUTH_CONSENT_FILE", &self.consent_file)
            .env("VISS_AUTH_VIN", VIN)
            .env("VISS_AUTH_PROOF", PROOF)
            .env("VISS_AUTH_CONTEXT", CONTEXT);
    }

    /// One PEM file holding the ecosystem's certificates and `others` (Node reads one file
    /// of extra CAs, `NODE_EXTRA_CA_CERTS`).
    pub fn ca_bundle(&self, others: &[&Path]) -> PathBuf {
        let mut bundle = Vec::new();
        let server_cert = self.server.cert.as_deref();
        for cert in others
            .iter()
            .copied()
            .chain(server_cert)
            .chain([self.auth_cert.as_path()])
        {
            bundle.extend(std::fs::read(cert).expect("a certificate"));
            bundle.push(b'\n');
        }
        let path = self.dir.path().join("ca-bundle.pem");
        std::fs::write(&path, bundle).expect("the CA bundle");
        path
    }

    /// Whether the ATS has asked the owner about `purpose` (its open questions file).
    pub fn asked(&self, purpose: &str) -> bool {
        let asks = self.consent_file.with_extension("asks.json");
        // The file is pretty-printed: compare without white space.
        std::fs::read_to_string(asks).is_ok_and(|text| {
            let compact: String = text.split_whitespace().collect();
            compact.contains(&format!("\"purpose\":\"{purpose}\""))
        })
    }

    /// The owner decides on `purpose` for the client: `consent` is `YES` or `NO`.
    pub fn decide(&self, purpose: &str, consent: &str) {
        let decisions = format!(
            r#"{{"decisions": [{{"vin": "{VIN}", "purpose": "{purpose}", "client": "{CLIENT}",
                "context": "{CONTEXT}", "consent": "{consent}"}}]}}"#
        );
        std::fs::write(&self.consent_file, decisions).expect("the consent file");
    }
}

impl Drop for AccessEcosystem {
    fn drop(&mut self) {
        let _ = self.auth.kill();
        let _ = self.auth.wait();
    }
}

/// The port in viss-auth's `AGTS https://127.0.0.1:<port>/agts` line, read until its last
/// start-up line (`consent store:`), bounded by [`START_TIMEOUT`].
fn read_port(auth: &mut Child) -> Option<u16> {
    let stdout = auth.stdout.take()?;
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + START_TIMEOUT;
    let mut port = None;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let line = received.recv_timeout(remaining).ok()?;
        if let Some(rest) = line.split("AGTS https://").nth(1) {
            port = rest
                .split('/')
                .next()
                .and_then(|address| address.rsplit(':').next())
                .and_then(|number| number.parse().ok());
        }
        if line.trim_start().starts_with("consent store:") {
            return port;
        }
    }
}
