//! Access control in the engine (CORE §8.4.4, §8.8): `validate` tags select what needs a
//! token, the JWT verifier checks it, and every denial is a `401 invalid_token` that says
//! why, with nothing served. Keys are made per run (rcgen); nothing secret is checked in.

use std::sync::Arc;

use jiff::Timestamp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value as Json, json};
use viss_runtime::access::jwt::JwtVerifier;
use viss_runtime::access::{AccessControlConfig, KeyConfig};
use viss_runtime::{
    Clock as _, DynamicTree, Engine, EngineConfig, ManualClock, NodeKind, NodeSpec, Protects,
    Session, Validate,
};

const VIN: &str = "WVWZZZ1JZXW000001";

/// 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600;

fn tree() -> DynamicTree {
    use NodeKind::{Actuator, Sensor};
    let read_write = Validate::new(Protects::ReadsAndWrites, false);
    let write_only = Validate::new(Protects::Writes, false);
    let consent = Validate::new(Protects::ReadsAndWrites, true);
    let mut tree = DynamicTree::builder();
    let mut add = |path: &str, spec: NodeSpec| {
        tree.insert_path(path, spec).expect("node");
    };
    add("Vehicle.Speed", NodeSpec::leaf("Speed", Sensor, "float"));
    add(
        "Vehicle.Cabin",
        NodeSpec::branch("Cabin").validate(read_write),
    );
    add(
        "Vehicle.Cabin.Light",
        NodeSpec::leaf("Light", Actuator, "uint8"),
    );
    add(
        "Vehicle.Cabin.Temperature",
        NodeSpec::leaf("Temperature", Sensor, "float"),
    );
    add(
        "Vehicle.Door.IsOpen",
        NodeSpec::leaf("IsOpen", Actuator, "boolean").validate(write_only),
    );
    add(
        "Vehicle.Location.Latitude",
        NodeSpec::leaf("Latitude", Sensor, "double").validate(consent),
    );
    tree.build()
}

struct Keys {
    dir: std::path::PathBuf,
    es256: EncodingKey,
    public_pem: String,
    rs256: EncodingKey,
}

fn keys() -> Keys {
    // One directory per fixture: the tests run in parallel threads of one process.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let index = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("viss-access-{}-{index}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("EC key");
    let public_pem = ec.public_key_pem();
    std::fs::write(dir.join("ats-es256.pub.pem"), &public_pem).expect("write key");
    let rsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256);
    // aws-lc can make RSA keys; if rcgen cannot here, RS256 is covered by the Python suite.
    let rs256 = match rsa {
        Ok(rsa) => {
            std::fs::write(dir.join("ats-rs256.pub.pem"), rsa.public_key_pem()).expect("write");
            EncodingKey::from_rsa_pem(rsa.serialize_pem().as_bytes()).expect("RSA key")
        }
        Err(_) => EncodingKey::from_secret(b"unused"),
    };
    Keys {
        es256: EncodingKey::from_ec_pem(ec.serialize_pem().as_bytes()).expect("EC key"),
        public_pem,
        rs256,
        dir,
    }
}

struct Server {
    engine: Engine<DynamicTree>,
    clock: Arc<ManualClock>,
    session: Session,
    out: Vec<u8>,
    keys: Keys,
}

impl Server {
    fn new() -> Self {
        let keys = keys();
        let mut key_configs = vec![KeyConfig {
            alg: "ES256".into(),
            file: keys.dir.join("ats-es256.pub.pem"),
            kid: None,
        }];
        if keys.dir.join("ats-rs256.pub.pem").exists() {
            key_configs.push(KeyConfig {
                alg: "RS256".into(),
                file: keys.dir.join("ats-rs256.pub.pem"),
                kid: None,
            });
        }
        let config = AccessControlConfig {
            keys: key_configs,
            vin: Some(VIN.into()),
            leeway_secs: 5,
            ..AccessControlConfig::default()
        };
        let verifier = JwtVerifier::from_config(&config, None).expect("keys load");
        let clock = Arc::new(ManualClock::new(
            Timestamp::from_second(NOW).expect("in range"),
        ));
        let engine = Engine::with_clock(tree(), EngineConfig::default(), clock.clone());
        let protected = engine
            .install_access_control(Arc::new(verifier))
            .expect("installed once");
        assert_eq!(
            protected, 5,
            "Cabin, its two leaves, the door, the latitude"
        );
        for (path, value) in [
            ("Vehicle.Speed", viss_runtime::Value::Float(12.5)),
            (
                "Vehicle.Cabin.Temperature",
                viss_runtime::Value::Float(21.5),
            ),
            (
                "Vehicle.Location.Latitude",
                viss_runtime::Value::Double(48.5),
            ),
        ] {
            engine.update_path(path, value, clock.now()).expect("feed");
        }
        let session = engine.open_session();
        Self {
            engine,
            clock,
            session,
            out: Vec::new(),
            keys,
        }
    }

    fn send(&mut self, request: Json) -> Json {
        let bytes = request.to_string();
        self.engine
            .handle(&mut self.session, bytes.as_bytes(), &mut self.out);
        serde_json::from_slice(&self.out).expect("JSON answer")
    }

    fn es256(&self, claims: &Json) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &self.keys.es256)
            .expect("signed")
    }
}

fn claims(scope: Json) -> Json {
    json!({
        "iat": NOW - 10, "exp": NOW + 600, "aud": "covesa.global/VISSv3",
        "vin": VIN, "scp": scope, "clx": "Driver+OEM+Vehicle", "jti": "4f0d3f2e-1"
    })
}

fn cabin(permission: &str) -> Json {
    json!([{"path": "Vehicle.Cabin", "access_permission": permission},
           {"path": "Vehicle.Door", "access_permission": permission}])
}

fn get(path: &str, token: Option<&str>) -> Json {
    let mut request = json!({"action": "get", "path": path, "requestId": "g"});
    if let Some(token) = token {
        request["authorization"] = token.into();
    }
    request
}

fn set(path: &str, value: Json, token: Option<&str>) -> Json {
    let mut request = json!({"action": "set", "path": path, "value": value, "requestId": "s"});
    if let Some(token) = token {
        request["authorization"] = token.into();
    }
    request
}

/// The answer is a 401 with `description`, and serves nothing.
#[track_caller]
fn assert_denied(answer: &Json, description: &str) {
    assert_eq!(answer["error"]["number"], "401", "{answer}");
    assert_eq!(answer["error"]["reason"], "invalid_token", "{answer}");
    assert_eq!(answer["error"]["description"], description, "{answer}");
    assert!(answer.get("data").is_none(), "{answer}");
    assert!(answer.get("authorization").is_none(), "{answer}");
}

#[test]
fn untagged_and_write_only_nodes_are_read_without_a_token() {
    let mut server = Server::new();
    let speed = server.send(get("Vehicle.Speed", None));
    assert_eq!(speed["data"]["dp"]["value"], "12.5", "{speed}");
    let door = server.send(get("Vehicle.Door.IsOpen", None));
    assert!(
        door.get("error")
            .is_none_or(|error| error["number"] != "401"),
        "{door}"
    );
}

#[test]
fn protected_reads_and_writes_need_a_token() {
    let mut server = Server::new();
    let missing = "Access token is missing";
    assert_denied(
        &server.send(get("Vehicle.Cabin.Temperature", None)),
        missing,
    );
    assert_denied(
        &server.send(set("Vehicle.Cabin.Light", json!("3"), None)),
        missing,
    );
    assert_denied(
        &server.send(set("Vehicle.Door.IsOpen", json!("true"), None)),
        missing,
    );
    // A read of the whole tree reaches a protected node: the whole request is denied.
    assert_denied(&server.send(get("Vehicle", None)), missing);
    let paths = json!({"action": "get", "path": "Vehicle",
        "filter": {"variant": "paths", "parameter": ["Speed", "Cabin.Temperature"]}});
    assert_denied(&server.send(paths), missing);
}

#[test]
fn a_valid_token_is_served_and_answered_with_a_handle_bound_to_the_session() {
    let mut server = Server::new();
    let token = server.es256(&claims(cabin("read-write")));
    // No in-line errors under access control: the light has no value yet, so the read of
    // the branch fails whole (and announces no handle).
    let whole = server.send(get("Vehicle.Cabin", Some(&token)));
    assert_eq!(whole["error"]["number"], "404", "{whole}");
    assert!(whole.get("authorization").is_none(), "{whole}");
    let first = server.send(set("Vehicle.Cabin.Light", json!("3"), Some(&token)));
    assert!(first.get("error").is_none(), "{first}");
    let handle = first["authorization"]
        .as_str()
        .expect("a handle")
        .to_owned();
    assert!(handle.len() >= 32 && !handle.contains('.'), "{handle}");
    let by_handle = server.send(get("Vehicle.Cabin.Light", Some(&handle)));
    assert_eq!(by_handle["data"]["dp"]["value"], "3", "{by_handle}");
    assert!(by_handle.get("authorization").is_none(), "announced once");
    // The handle means nothing in another session (another connection).
    let mut other = server.engine.open_session();
    let request = get("Vehicle.Cabin.Light", Some(&handle)).to_string();
    server
        .engine
        .handle(&mut other, request.as_bytes(), &mut server.out);
    let replayed: Json = serde_json::from_slice(&server.out).expect("JSON");
    assert_denied(&replayed, "Unknown token handle");
}

#[test]
fn the_attack_table_is_denied() {
    let mut server = Server::new();
    let good = claims(cabin("read-write"));
    let with = |change: &dyn Fn(&mut Json)| {
        let mut claims = good.clone();
        change(&mut claims);
        claims
    };
    let invalid = "Access token is invalid";
    let public_pem = server.keys.public_pem.clone();
    let hs_with_public_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .expect("signed");
    let valid = server.es256(&good);
    let (message, _) = valid.rsplit_once('.').expect("three parts");
    let forged = format!("{message}.{}", "A".repeat(86));
    let b64 = |json: &Json| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&good)
    );
    let bomb = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "ES256"})),
        b64(&Json::String(format!(
            "{}{}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ))),
        "A".repeat(86)
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", alg_none, invalid),
        ("HS256 with the public key", hs_with_public_key, invalid),
        ("forged signature", forged, invalid),
        ("truncated", valid[..valid.len() - 10].to_owned(), invalid),
        ("100 KB", "a".repeat(100_000), invalid),
        ("bad base64", "%%%.###.$$$".into(), invalid),
        ("JSON bomb", bomb, invalid),
        ("two parts", "abc.def".into(), invalid),
        (
            "another vehicle",
            server.es256(&with(&|c| c["vin"] = "OTHERVIN000000000".into())),
            "Access token is for another vehicle",
        ),
        (
            "wrong audience",
            server.es256(&with(&|c| c["aud"] = "w3org/gen2".into())),
            "Access token is for another audience",
        ),
        (
            "expired",
            server.es256(&with(&|c| c["exp"] = (NOW - 60).into())),
            "Access token has expired",
        ),
        (
            "not yet valid",
            server.es256(&with(&|c| c["nbf"] = (NOW + 600).into())),
            "Access token is not yet valid",
        ),
        (
            "issued in the future",
            server.es256(&with(&|c| c["iat"] = (NOW + 600).into())),
            "Access token is not yet valid",
        ),
        (
            "read-only used for set",
            server.es256(&claims(cabin("read-only"))),
            "Access token does not permit writes",
        ),
        (
            "scope for another path",
            server.es256(&claims(
                json!([{"path": "Vehicle.Speed", "access_permission": "read-write"}]),
            )),
            "Access token does not cover the requested data",
        ),
        (
            "no expiry",
            server.es256(&with(&|c| {
                c.as_object_mut().expect("object").remove("exp");
            })),
            invalid,
        ),
    ];
    let count = cases.len();
    for (name, token, description) in cases {
        let answer = server.send(set("Vehicle.Cabin.Light", json!("1"), Some(&token)));
        assert_eq!(
            answer["error"]["description"], description,
            "{name}: {answer}"
        );
        assert_denied(&answer, description);
    }
    // Nothing was set by any of them.
    let light = server.send(get("Vehicle.Cabin.Light", Some(&valid)));
    assert!(
        light
            .get("data")
            .is_none_or(|data| data["dp"]["value"] != "1"),
        "{light}"
    );
    assert_eq!(count, 16);
}

#[test]
fn consent_tagged_data_needs_consent_and_times_may_be_strings() {
    let mut server = Server::new();
    let scope = json!([{"path": "Vehicle.Location", "access_permission": "read-only"}]);
    let without = server.es256(&claims(scope.clone()));
    assert_denied(
        &server.send(get("Vehicle.Location.Latitude", Some(&without))),
        "Consent for the requested data is missing",
    );
    let mut with = claims(scope);
    with["consent"] = "YES".into();
    // VISSR writes times as strings.
    with["exp"] = (NOW + 600).to_string().into();
    let answer = server.send(get("Vehicle.Location.Latitude", Some(&server.es256(&with))));
    assert_eq!(answer["data"]["dp"]["value"], "48.5", "{answer}");
    // IN_VEHICLE consent: the data may not leave the vehicle, so only an in-vehicle client
    // (device role `Vehicle`) is served.
    let mut in_vehicle =
        claims(json!([{"path": "Vehicle.Location", "access_permission": "read-only"}]));
    in_vehicle["consent"] = "IN_VEHICLE".into();
    let answer = server.send(get(
        "Vehicle.Location.Latitude",
        Some(&server.es256(&in_vehicle)),
    ));
    assert_eq!(answer["data"]["dp"]["value"], "48.5", "{answer}");
    in_vehicle["clx"] = "Owner+Third party+Cloud".into();
    assert_denied(
        &server.send(get(
            "Vehicle.Location.Latitude",
            Some(&server.es256(&in_vehicle)),
        )),
        "Consent for the requested data is missing",
    );
}

#[test]
fn rs256_keys_verify_too_and_an_rs256_token_is_not_checked_with_the_ec_key() {
    let mut server = Server::new();
    if !server.keys.dir.join("ats-rs256.pub.pem").exists() {
        return; // no RSA key generation here: the Python suite signs RS256 tokens
    }
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims(cabin("read-only")),
        &server.keys.rs256,
    )
    .expect("signed");
    let answer = server.send(get("Vehicle.Cabin.Temperature", Some(&token)));
    assert_eq!(answer["data"]["dp"]["value"], "21.5", "{answer}");
}

#[test]
fn a_subscription_ends_with_a_401_event_when_its_token_expires() {
    let mut server = Server::new();
    let mut short = claims(cabin("read-only"));
    short["exp"] = (NOW + 60).into();
    let token = server.es256(&short);
    let subscribe = json!({"action": "subscribe", "path": "Vehicle.Cabin.Temperature",
        "filter": {"variant": "timebased", "parameter": {"period": "10000"}},
        "authorization": token, "requestId": "sub"});
    let answer = server.send(subscribe);
    let id = answer["subscriptionId"]
        .as_str()
        .expect("subscribed")
        .to_owned();
    // Leeway 5 s: at exp + 4 s it still runs, at exp + 6 s it has ended.
    server.clock.advance(jiff::SignedDuration::from_secs(64));
    server.engine.tick(server.clock.now());
    let mut buffer = Vec::new();
    while server.session.next_event(&mut buffer) {
        let event: Json = serde_json::from_slice(&buffer).expect("JSON");
        assert!(event.get("error").is_none(), "ended early: {event}");
    }
    server.clock.advance(jiff::SignedDuration::from_secs(2));
    server.engine.tick(server.clock.now());
    let mut last = None;
    while server.session.next_event(&mut buffer) {
        last = Some(serde_json::from_slice::<Json>(&buffer).expect("JSON"));
    }
    let last = last.expect("an error event");
    assert_eq!(last["subscriptionId"], id.as_str());
    assert_eq!(last["error"]["number"], "401", "{last}");
    assert_eq!(
        last["error"]["description"], "Access token has expired",
        "{last}"
    );
    let unsubscribe = json!({"action": "unsubscribe", "subscriptionId": id});
    assert_eq!(server.send(unsubscribe)["error"]["number"], "404");
}

#[test]
fn a_tree_with_tags_does_not_start_without_keys_unless_access_control_is_off() {
    let engine = Engine::new(tree(), EngineConfig::default());
    let refused = viss_runtime::access::install(&engine, &AccessControlConfig::default())
        .expect_err("no keys");
    assert!(refused.contains("--no-access-control"), "{refused}");
    let off = AccessControlConfig {
        enabled: false,
        ..AccessControlConfig::default()
    };
    assert_eq!(
        viss_runtime::access::install(&engine, &off),
        Ok(viss_runtime::access::Installed::Disabled { protected: 5 })
    );
    assert!(!engine.enforces_access_control());
    // A scope list naming no node of the tree is a mistake that would block nothing.
    let keys = keys();
    let scope_list = keys.dir.join("scope.json");
    std::fs::write(
        &scope_list,
        r#"{"scope":[{"contexts":[{"user":"Driver","app":"OEM","device":"Vehicle"}],
            "no_access":["Vehicle/Cabin/Nope"]}]}"#,
    )
    .expect("write");
    let config = AccessControlConfig {
        keys: vec![KeyConfig {
            alg: "ES256".into(),
            file: keys.dir.join("ats-es256.pub.pem"),
            kid: None,
        }],
        scope_list: Some(scope_list),
        ..AccessControlConfig::default()
    };
    let refused = viss_runtime::access::install(&engine, &config).expect_err("unknown path");
    assert!(refused.contains("Vehicle/Cabin/Nope"), "{refused}");
}
