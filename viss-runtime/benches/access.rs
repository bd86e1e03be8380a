//! The cost of access control on `get` (CORE §8.3.5 token caching): one leaf read without
//! a token on an engine without access control (the baseline), and the same read of a
//! protected leaf with a token's handle, with the same token again (cached), and with a
//! token validated from scratch (a new session each time: ES256 signature and claims).
//! The unprotected engine also answers the handle request's bytes, to tell the cost of
//! carrying the member from the cost of checking it.
//! Run: `cargo bench -p viss-runtime --features auth --bench access`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use viss_runtime::access::jwt::JwtVerifier;
use viss_runtime::access::{AccessControlConfig, KeyConfig};
use viss_runtime::{
    DynamicTree, Engine, EngineConfig, NodeKind, NodeSpec, Protects, Validate, Value,
};

fn tree(tagged: bool) -> DynamicTree {
    let mut tree = DynamicTree::builder();
    let mut cabin = NodeSpec::branch("Cabin");
    if tagged {
        cabin = cabin.validate(Validate::new(Protects::ReadsAndWrites, false));
    }
    tree.insert_path("Vehicle.Cabin", cabin).expect("node");
    tree.insert_path(
        "Vehicle.Cabin.Temperature",
        NodeSpec::leaf("Temperature", NodeKind::Sensor, "float"),
    )
    .expect("node");
    tree.build()
}

fn engine(tagged: bool) -> Engine<DynamicTree> {
    let engine = Engine::new(tree(tagged), EngineConfig::default());
    engine
        .update_path(
            "Vehicle.Cabin.Temperature",
            Value::Float(21.5),
            Timestamp::now(),
        )
        .expect("leaf");
    engine
}

const GET: &str = r#"{"action":"get","path":"Vehicle.Cabin.Temperature","requestId":"1"}"#;

fn with_token(token: &str) -> Vec<u8> {
    json!({"action": "get", "path": "Vehicle.Cabin.Temperature", "requestId": "1",
           "authorization": token})
    .to_string()
    .into_bytes()
}

fn gets(c: &mut Criterion) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let dir = std::env::temp_dir().join(format!("viss-bench-access-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("es256.pub.pem");
    std::fs::write(&file, key.public_key_pem()).expect("write");
    let config = AccessControlConfig {
        keys: vec![KeyConfig {
            alg: "ES256".into(),
            file,
            kid: None,
        }],
        ..AccessControlConfig::default()
    };
    let now = Timestamp::now().as_second();
    let claims = json!({"iat": now, "exp": now + 3600, "aud": "covesa.global/VISSv3",
        "scp": [{"path": "Vehicle.Cabin", "access_permission": "read-only"}]});
    let signing = EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).expect("key");
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &signing).expect("signed");

    let plain = engine(false);
    let guarded = engine(true);
    let verifier = JwtVerifier::from_config(&config, None).expect("verifier");
    guarded
        .install_access_control(Arc::new(verifier))
        .expect("once");

    let mut out = Vec::with_capacity(1024);
    let mut session = plain.open_session();
    c.bench_function("get, no access control (baseline)", |b| {
        b.iter(|| {
            plain.handle(&mut session, black_box(GET.as_bytes()), &mut out);
            black_box(out.len())
        })
    });

    let mut session = guarded.open_session();
    let first = with_token(&token);
    guarded.handle(&mut session, &first, &mut out);
    let answer: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    let handle = answer["authorization"]
        .as_str()
        .expect("a handle")
        .to_owned();
    let by_handle = with_token(&handle);
    // The same bytes on the unprotected engine: what parsing the member costs, apart from
    // checking it.
    let mut plain_session = plain.open_session();
    c.bench_function("get, no access control, handle-sized member ignored", |b| {
        b.iter(|| {
            plain.handle(&mut plain_session, black_box(&by_handle), &mut out);
            black_box(out.len())
        })
    });
    c.bench_function("get, protected, token handle", |b| {
        b.iter(|| {
            guarded.handle(&mut session, black_box(&by_handle), &mut out);
            black_box(out.len())
        })
    });
    c.bench_function("get, protected, same token again (cached)", |b| {
        b.iter(|| {
            guarded.handle(&mut session, black_box(&first), &mut out);
            black_box(out.len())
        })
    });
    c.bench_function(
        "get, protected, token validated from scratch (ES256)",
        |b| {
            b.iter(|| {
                let mut fresh = guarded.open_session();
                guarded.handle(&mut fresh, black_box(&first), &mut out);
                assert!(!out.windows(8).any(|w| w == b"\"error\":"));
                black_box(out.len())
            })
        },
    );
}

criterion_group!(benches, gets);
criterion_main!(benches);
