//! `viss-auth`: the access grant server and access token server (CORE §8) on one HTTPS
//! listener, `POST /agts` and `POST /ats`. Keys are generated on first start into
//! `--key-dir` and their paths printed; give the ATS public key to the VISS servers.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use viss_auth::clients::Clients;
use viss_auth::consent::FileConsentStore;
use viss_auth::keys::{self, Origin};
use viss_auth::service::{Ecosystem, Lifetimes, Service};
use viss_runtime::access::policy::PurposeList;
use viss_runtime::server::tls;

const NAME: &str = "viss-auth";

/// VISS access grant server (AGTS) and access token server (ATS), CORE §8–9.
#[derive(Debug, Parser)]
#[command(name = NAME, version)]
struct Cli {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1", env = "VISS_AUTH_ADDRESS")]
    address: IpAddr,
    /// Port of both servers (0 picks a free one)
    #[arg(long, default_value_t = 7443, env = "VISS_AUTH_PORT")]
    port: u16,
    /// Where the signing keys (and a self-signed TLS certificate) live; created on first start
    #[arg(long, default_value = "viss-auth-keys", env = "VISS_AUTH_KEY_DIR")]
    key_dir: PathBuf,
    /// The registered clients: proof hashes and the role triplets each may ask for (JSON)
    #[arg(long, env = "VISS_AUTH_CLIENTS")]
    clients: PathBuf,
    /// The ecosystem's purpose list (JSON, CORE §8.7.1); the VISS servers read the same file
    #[arg(long, env = "VISS_AUTH_PURPOSES")]
    purposes: PathBuf,
    /// The consent store (JSON; decisions are read from it, open questions written to it)
    /// [default: <key-dir>/consent.json]
    #[arg(long, env = "VISS_AUTH_CONSENT_FILE")]
    consent_file: Option<PathBuf>,
    /// A vehicle of the ecosystem (repeatable); without any, every VIN is accepted
    #[arg(long, env = "VISS_AUTH_VIN", value_delimiter = ',')]
    vin: Vec<String>,
    /// This AGTS runs in the vehicle with its clients: grant requests may omit the VIN
    #[arg(long, env = "VISS_AUTH_IN_VEHICLE")]
    in_vehicle: bool,
    /// TLS certificate chain (PEM) [default: a self-signed one in --key-dir]
    #[arg(long, requires = "key", env = "VISS_AUTH_CERT")]
    cert: Option<PathBuf>,
    /// TLS private key (PEM)
    #[arg(long, requires = "cert", env = "VISS_AUTH_TLS_KEY")]
    key: Option<PathBuf>,
    /// Seconds an access grant token lives
    #[arg(long, default_value_t = 4 * 3600)]
    agt_lifetime_secs: i64,
    /// Seconds an access token lives (never past its grant)
    #[arg(long, default_value_t = 3600)]
    at_lifetime_secs: i64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{NAME}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{NAME}: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let (agts_key, agts_origin) = keys::load_or_generate(&cli.key_dir, "agts")?;
    let (ats_key, ats_origin) = keys::load_or_generate(&cli.key_dir, "ats")?;
    if agts_origin == Origin::Generated || ats_origin == Origin::Generated {
        println!(
            "{NAME}: generated new signing keys in {}",
            cli.key_dir.display()
        );
    }
    if cli.vin.is_empty() {
        tracing::warn!("no --vin given: grants are issued for any vehicle id");
    }
    let consent_file = cli
        .consent_file
        .clone()
        .unwrap_or_else(|| cli.key_dir.join("consent.json"));
    let ats_public = ats_key.public_file.clone();
    let consent = Arc::new(FileConsentStore::new(consent_file.clone()));
    let asks_file = consent.asks_file().to_owned();
    let service = Service::new(
        agts_key,
        ats_key,
        Ecosystem {
            clients: Clients::from_file(&cli.clients)?,
            purposes: PurposeList::from_file(&cli.purposes)?,
            vins: cli.vin.clone(),
            in_vehicle: cli.in_vehicle,
        },
        consent,
        Lifetimes {
            agt_secs: cli.agt_lifetime_secs,
            at_secs: cli.at_lifetime_secs,
            ..Lifetimes::default()
        },
    );
    let files = match (&cli.cert, &cli.key) {
        (Some(cert), Some(key)) => tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            self_signed: false,
        },
        _ => tls::ensure_self_signed(&cli.key_dir.join("tls")).map_err(|e| e.to_string())?,
    };
    let rustls = tls::rustls_config(&files).map_err(|error| error.to_string())?;
    let listener = std::net::TcpListener::bind(SocketAddr::new(cli.address, cli.port))
        .map_err(|error| format!("cannot listen on {}:{}: {error}", cli.address, cli.port))?;
    listener
        .set_nonblocking(true)
        .map_err(|error| error.to_string())?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    let handle = axum_server::Handle::new();
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(rustls)
        .handshake_timeout(Duration::from_secs(10));
    let server = axum_server::from_tcp(listener)
        .map_err(|error| error.to_string())?
        .acceptor(acceptor)
        .handle(handle.clone());
    let router = viss_auth::http::router(Arc::new(service));
    let task = tokio::spawn(async move { server.serve(router.into_make_service()).await });
    println!("{NAME}: AGTS https://{address}/agts, ATS https://{address}/ats");
    println!(
        "  access token key (VISS servers: --token-key ES256:<file>): {}",
        ats_public.display()
    );
    println!("  TLS certificate: {}", files.cert.display());
    println!(
        "  consent store: {} (open questions in {})",
        consent_file.display(),
        asks_file.display()
    );
    viss_runtime::server::shutdown_signal().await;
    handle.graceful_shutdown(Some(Duration::from_secs(2)));
    match task.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("server failed: {error}")),
        Err(error) => Err(format!("server task failed: {error}")),
    }
}
