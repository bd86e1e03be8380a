//! Access control end to end: sequential get round trips over wss of a protected leaf with
//! a token handle and with the token itself, beside the same get of the same leaf on a
//! server without access control (the baseline), all in one process, rounds interleaved.
//! One connection per run, so the handle belongs to the session that uses it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use viss_runtime::access::jwt::JwtVerifier;
use viss_runtime::access::{AccessControlConfig, KeyConfig};
use viss_runtime::server::{self, ServerConfig};
use viss_runtime::{DynamicTree, Engine, EngineConfig, NodeKind, NodeSpec, Protects, Validate};

use crate::bench::runtime;
use crate::client::{BenchError, Client, Dial, tls_client};
use crate::stats::Samples;

#[derive(Debug, Clone, Args)]
pub struct AccessArgs {
    /// Round trips per run
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Interleaved rounds (each: baseline, handle, token)
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// Warm-up round trips before each run.
const WARM_UP: usize = 500;

fn tree(tagged: bool) -> DynamicTree {
    let mut tree = DynamicTree::builder();
    let mut cabin = NodeSpec::branch("Cabin");
    if tagged {
        cabin = cabin.validate(Validate::new(Protects::ReadsAndWrites, false));
    }
    let leaf = NodeSpec::leaf("Temperature", NodeKind::Sensor, "float");
    let built = tree
        .insert_path("Vehicle.Cabin", cabin)
        .and_then(|_| tree.insert_path("Vehicle.Cabin.Temperature", leaf));
    debug_assert!(built.is_ok());
    tree.build()
}

fn engine(tagged: bool) -> Result<Arc<Engine<DynamicTree>>, BenchError> {
    let engine = Engine::new(tree(tagged), EngineConfig::default());
    engine.update_path(
        "Vehicle.Cabin.Temperature",
        viss_runtime::Value::Float(21.5),
        jiff::Timestamp::now(),
    )?;
    Ok(Arc::new(engine))
}

fn request(token: Option<&str>) -> String {
    let mut request =
        json!({"action": "get", "path": "Vehicle.Cabin.Temperature", "requestId": "1"});
    if let Some(token) = token {
        request["authorization"] = token.into();
    }
    request.to_string()
}

pub fn main(args: AccessArgs) -> Result<(), BenchError> {
    let dir = tempfile::tempdir()?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let public = dir.path().join("es256.pub.pem");
    std::fs::write(&public, key.public_key_pem())?;
    let now = jiff::Timestamp::now().as_second();
    let claims = json!({"iat": now, "exp": now + 3600, "aud": "covesa.global/VISSv3",
        "scp": [{"path": "Vehicle.Cabin", "access_permission": "read-only"}]});
    let signing = jsonwebtoken::EncodingKey::from_ec_pem(key.serialize_pem().as_bytes())?;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
        &claims,
        &signing,
    )?;
    let plain = engine(false)?;
    let guarded = engine(true)?;
    let access = AccessControlConfig {
        keys: vec![KeyConfig {
            alg: "ES256".into(),
            file: public,
            kid: None,
        }],
        ..AccessControlConfig::default()
    };
    guarded.install_access_control(Arc::new(JwtVerifier::from_config(&access, None)?))?;

    let server_runtime = runtime(1)?;
    let client_runtime = runtime(1)?;
    let mut config = ServerConfig::default();
    config.listen.ws_port = 0;
    config.listen.http = false;
    config.listen.grpc = false;
    config.tls.self_signed_dir = dir.path().join("tls");
    let (unprotected, protected) = server_runtime.block_on(async {
        let unprotected = server::start(plain, &config).await?;
        let protected = server::start(guarded, &config).await?;
        Ok::<_, BenchError>((unprotected, protected))
    })?;
    let tls = tls_client(&unprotected.tls.clone().ok_or("no TLS files")?.cert)?;
    let plain_dial = Dial::Wss(unprotected.ws.ok_or("no wss")?, tls.clone());
    let guarded_dial = Dial::Wss(protected.ws.ok_or("no wss")?, tls);
    println!(
        "# access control over wss, 1 connection, sequential gets, {} per run",
        args.requests
    );
    client_runtime.block_on(async {
        for round in 1..=args.rounds.max(1) {
            let baseline = run(&plain_dial, &request(None), None, args.requests).await?;
            let handle = run(&guarded_dial, &request(None), Some(&token), args.requests).await?;
            let full = run(&guarded_dial, &request(Some(&token)), None, args.requests).await?;
            let p50 = baseline.quantile_us(0.5);
            println!(
                "round {round}: baseline (no access control) {}",
                baseline.line()
            );
            println!(
                "round {round}: token handle                  {}  p50 {:.2}x",
                handle.line(),
                handle.quantile_us(0.5) / p50
            );
            println!(
                "round {round}: token (cached)                {}  p50 {:.2}x",
                full.line(),
                full.quantile_us(0.5) / p50
            );
        }
        Ok::<_, BenchError>(())
    })?;
    server_runtime.block_on(async {
        unprotected.shutdown().await;
        protected.shutdown().await;
    });
    Ok(())
}

/// Sequential round trips of `payload` on one new connection. With `token`, the token is
/// sent once first and its handle then replaces it in every request.
async fn run(
    dial: &Dial,
    payload: &str,
    token: Option<&str>,
    requests: usize,
) -> Result<Samples, BenchError> {
    let mut client = Client::connect(dial).await?;
    let payload = match token {
        Some(token) => {
            let answer = client.round_trip(&request(Some(token))).await?;
            let answer: serde_json::Value = serde_json::from_str(&answer)?;
            let handle = answer["authorization"]
                .as_str()
                .ok_or_else(|| format!("no handle in {answer}"))?;
            request(Some(handle))
        }
        None => payload.to_owned(),
    };
    let first = client.round_trip(&payload).await?;
    if first.contains("\"error\"") {
        return Err(format!("the bench request failed: {first}").into());
    }
    for _ in 0..WARM_UP {
        client.round_trip(&payload).await?;
    }
    let mut samples = Samples::with_capacity(requests);
    let deadline = Instant::now() + Duration::from_secs(30);
    let started = Instant::now();
    for _ in 0..requests {
        let sent = Instant::now();
        client.round_trip(&payload).await?;
        samples.push(sent.elapsed());
        samples.operations += 1;
        if Instant::now() > deadline {
            break;
        }
    }
    samples.elapsed = started.elapsed();
    Ok(samples)
}
