//! Arbitrary bytes as an access token, where an attacker puts them: the `authorization`
//! member of a request to a protected node. Even first byte: the bytes are the token as
//! sent. Odd: the bytes are the claims of a token correctly signed with the server's key
//! (what a compromised or buggy ATS could issue), so the claims parser sees them after the
//! signature checks out. Either way the answer is a 401 or a grant, never a panic, and a
//! grant only ever comes from a correctly signed token.
#![no_main]

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use viss_runtime::access::jwt::JwtVerifier;
use viss_runtime::access::{AccessControlConfig, KeyConfig, TokenVerifier};
use viss_runtime::{
    DynamicTree, Engine, EngineConfig, NodeKind, NodeSpec, Protects, Validate,
};

struct Fixture {
    engine: Engine<DynamicTree>,
    verifier: JwtVerifier,
    key: jsonwebtoken::EncodingKey,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // A throwaway key per run; nothing secret is stored.
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let dir = std::env::temp_dir().join(format!("viss-fuzz-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("es256.pub.pem");
        std::fs::write(&file, pair.public_key_pem()).expect("write");
        let config = AccessControlConfig {
            keys: vec![KeyConfig { alg: "ES256".into(), file, kid: None }],
            vin: Some("VIN".into()),
            ..AccessControlConfig::default()
        };
        let verifier = JwtVerifier::from_config(&config, None).expect("verifier");
        let mut tree = DynamicTree::builder();
        let tag = Validate::new(Protects::ReadsAndWrites, true);
        tree.insert_path("Vehicle.Cabin", NodeSpec::branch("Cabin").validate(tag))
            .expect("node");
        tree.insert_path(
            "Vehicle.Cabin.Light",
            NodeSpec::leaf("Light", NodeKind::Actuator, "uint8"),
        )
        .expect("node");
        let engine = Engine::new(tree.build(), EngineConfig::default());
        engine
            .install_access_control(Arc::new(JwtVerifier::from_config(&config, None).expect("v")))
            .expect("once");
        Fixture {
            engine,
            verifier,
            key: jsonwebtoken::EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes())
                .expect("key"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let fixture = fixture();
    let token = if mode % 2 == 0 {
        String::from_utf8_lossy(payload).into_owned()
    } else {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#);
        let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &fixture.key,
            jsonwebtoken::Algorithm::ES256,
        )
        .expect("sign");
        format!("{message}.{signature}")
    };
    let now = Timestamp::now();
    if fixture.verifier.verify(&token, now).is_ok() {
        assert!(mode % 2 == 1, "a grant from a token the fuzzer forged: {token}");
    }
    let request = serde_json::json!({
        "action": "set", "path": "Vehicle.Cabin.Light", "value": "1", "authorization": token
    })
    .to_string();
    let mut session = fixture.engine.open_session();
    let mut out = Vec::new();
    fixture.engine.handle(&mut session, request.as_bytes(), &mut out);
    let answer: serde_json::Value = serde_json::from_slice(&out).expect("the answer is JSON");
    if let Some(error) = answer.get("error") {
        assert_eq!(error["number"], "401", "{answer}");
    } else {
        assert!(mode % 2 == 1, "served with a forged token: {answer}");
    }
    fixture.engine.close_session(&mut session);
});
