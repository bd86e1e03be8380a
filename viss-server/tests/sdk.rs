//! The generated client SDKs of the demo car (`generated/demo-car/sdk/`) against the real
//! generated demo-car server: each SDK's own suite (Node's test runner over the TypeScript
//! SDK, pytest over the Python one) over wss and https, and the compile-time checks (`tsc`
//! and `mypy --strict` accept a correct program and reject a misspelt path and a string set
//! on a numeric actuator).
//!
//! Node, npm and the pinned TypeScript toolchain come from `tests/peers/install.sh`
//! (`tests/sdk/node`); mypy and pytest-asyncio from the peers venv.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::auth::AccessEcosystem;
use test_support::mqtt::Broker;
use test_support::server::Server;
use test_support::workspace_root;

fn demo_car() -> PathBuf {
    let server = Path::new(env!("CARGO_BIN_EXE_viss-server"));
    test_support::workspace_binary("VISS_DEMO_CAR_BIN", "demo-car", server)
}

/// The demo car with simulated values (so subscriptions see changes) and actuators that
/// move to their targets, on free ports with a self-signed certificate.
fn start_demo_car() -> Server {
    let server = Server::start(
        &demo_car(),
        &[
            OsStr::new("--simulate"),
            OsStr::new("--simulate-period-ms"),
            OsStr::new("200"),
        ],
    );
    assert!(server.cert.is_some(), "the demo car serves TLS by default");
    server
}

fn node_dir() -> PathBuf {
    workspace_root().join("tests/sdk/node")
}

/// `tests/sdk/node/node_modules/.bin/<tool>`, installed by `tests/peers/install.sh`.
fn node_tool(tool: &str) -> PathBuf {
    let path = node_dir().join("node_modules/.bin").join(tool);
    assert!(
        path.exists(),
        "{} is missing: run `eval \"$(tests/peers/install.sh)\"` from the workspace root \
         (it runs `npm ci` in tests/sdk/node)",
        path.display()
    );
    path
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The environment every SDK suite reads: where the server listens and its certificate.
fn server_env(command: &mut Command, server: &Server) {
    let cert = server.cert.as_deref().unwrap_or(Path::new(""));
    command
        .env("VISS_WS_URL", server.ws_localhost())
        .env("VISS_HTTP_URL", server.http_localhost())
        .env("VISS_GRPC_URL", server.grpc_localhost().unwrap_or_default())
        .env("VISS_CA", cert)
        .env("NODE_EXTRA_CA_CERTS", cert)
        .env("VISS_DEMO_CAR_BIN", demo_car());
}

/// Starts the access-control ecosystem (viss-auth and a guarded viss-server) for a suite's
/// credential tests and hands its addresses to `command`; Node gets one CA bundle of every
/// server's certificate. Dropping the ecosystem stops both.
fn ecosystem_env(command: &mut Command, server: &Server) -> AccessEcosystem {
    let ecosystem = AccessEcosystem::start(Path::new(env!("CARGO_BIN_EXE_viss-server")));
    ecosystem.env(command);
    let demo_cert: Vec<&Path> = server.cert.as_deref().into_iter().collect();
    command.env("NODE_EXTRA_CA_CERTS", ecosystem.ca_bundle(&demo_cert));
    ecosystem
}

/// Debian's mosquitto, refusing anonymous clients, and a demo car serving VISS over MQTT
/// through it, and the client URL with the broker's credentials
/// (`mqtt://<user>:<password>@127.0.0.1:<port>/<VID>`).
fn start_mqtt_car() -> (Broker, Server, String) {
    let broker = Broker::start_with_password(MQTT_USER, MQTT_PASSWORD);
    let password_file = broker
        .user
        .as_ref()
        .map(|user| user.password_file.clone())
        .expect("a password broker");
    let car = Server::start(
        &demo_car(),
        &[
            OsStr::new("--simulate"),
            OsStr::new("--simulate-period-ms"),
            OsStr::new("200"),
            OsStr::new("--no-grpc"),
            OsStr::new("--mqtt-broker"),
            OsStr::new(&broker.url()),
            OsStr::new("--mqtt-vid"),
            OsStr::new(MQTT_VID),
            OsStr::new("--mqtt-insecure"),
            OsStr::new("--mqtt-username"),
            OsStr::new(MQTT_USER),
            OsStr::new("--mqtt-password-file"),
            password_file.as_os_str(),
        ],
    );
    let url = format!("{}/{MQTT_VID}", broker.url_with_credentials());
    (broker, car, url)
}

/// [`start_mqtt_car`], its URL handed to `command` as `VISS_MQTT_URL`.
fn mqtt_env(command: &mut Command) -> (Broker, Server) {
    let (broker, car, url) = start_mqtt_car();
    command.env("VISS_MQTT_URL", url);
    (broker, car)
}

/// The vehicle id a demo car serving MQTT answers to.
const MQTT_VID: &str = "VIN-SDK";
/// The broker's one user (test fixture credentials, valid only for the broker a test starts).
const MQTT_USER: &str = "sdk-tests";
const MQTT_PASSWORD: &str = "test-only-mqtt-password";

/// The number after `label` in a test runner's summary (`# pass 12`, `12 passed`).
fn count(summary: &str, label: &str, before: bool) -> usize {
    summary
        .lines()
        .find_map(|line| {
            let words: Vec<&str> = line.trim_start_matches('#').split_whitespace().collect();
            let at = words
                .iter()
                .position(|word| word.trim_end_matches(',') == label)?;
            let number = if before {
                words.get(at.checked_sub(1)?)?
            } else {
                words.get(at + 1)?
            };
            number.parse().ok()
        })
        .unwrap_or(0)
}

#[test]
fn the_typescript_sdk_suite_passes_against_the_demo_car() {
    // Compiled tests of deleted sources must not run.
    let _ = std::fs::remove_dir_all(node_dir().join("build"));
    let build = Command::new(node_tool("tsc"))
        .args(["-p", "."])
        .current_dir(node_dir())
        .output()
        .expect("tsc runs");
    assert!(build.status.success(), "tsc failed:\n{}", text(&build));
    let server = start_demo_car();
    let mut node = Command::new("node");
    node.args([
        "--test",
        "--test-concurrency=1",
        "build/tests/sdk/node/test/",
    ])
    .current_dir(node_dir());
    server_env(&mut node, &server);
    let _ecosystem = ecosystem_env(&mut node, &server);
    let (_broker, _mqtt_car) = mqtt_env(&mut node);
    let output = node.output().expect("node runs");
    let report = text(&output);
    eprintln!(
        "TypeScript SDK suite: {} passed",
        count(&report, "pass", false)
    );
    assert!(
        output.status.success(),
        "the TypeScript SDK suite failed:\n{report}"
    );
    assert!(count(&report, "pass", false) > 0, "no test ran:\n{report}");
    assert_eq!(count(&report, "fail", false), 0, "{report}");
}

#[test]
fn the_python_sdk_suite_passes_against_the_demo_car() {
    let server = start_demo_car();
    let root = workspace_root();
    let mut pytest = Command::new(test_support::peers_python());
    pytest
        .args([
            "-m",
            "pytest",
            "tests/sdk/python",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .env("PYTHONPATH", root.join("generated/demo-car/sdk/python"))
        .current_dir(&root);
    server_env(&mut pytest, &server);
    let _ecosystem = ecosystem_env(&mut pytest, &server);
    let (_broker, _mqtt_car) = mqtt_env(&mut pytest);
    let output = pytest.output().expect("pytest runs");
    let report = text(&output);
    eprintln!(
        "Python SDK suite: {} passed",
        count(&report, "passed", true)
    );
    assert!(
        output.status.success(),
        "the Python SDK suite failed:\n{report}"
    );
    assert!(count(&report, "passed", true) > 0, "no test ran:\n{report}");
}

/// A typed program compiles; a misspelt path and a string set on a numeric actuator do not,
/// each with the compiler's own message.
#[test]
fn tsc_rejects_a_misspelt_path_and_a_string_on_a_numeric_actuator() {
    for (file, expected) in [
        ("ok.ts", None),
        ("misspelt_path.ts", Some("does not exist on type")),
        (
            "string_on_number.ts",
            Some("is not assignable to parameter of type"),
        ),
    ] {
        let output = Command::new(node_tool("tsc"))
            .args([
                "--noEmit",
                "--strict",
                "--target",
                "ES2022",
                "--module",
                "NodeNext",
                "--moduleResolution",
                "NodeNext",
                "--lib",
                "ES2022,DOM",
                "--skipLibCheck",
            ])
            .arg(format!("typecheck/{file}"))
            .current_dir(node_dir())
            .output()
            .expect("tsc runs");
        let report = text(&output);
        match expected {
            None => assert!(output.status.success(), "{file} must compile:\n{report}"),
            Some(message) => {
                assert!(!output.status.success(), "{file} must not compile");
                assert!(report.contains(message), "{file}: {report}");
            }
        }
    }
}

/// The same for Python: `mypy --strict` over the SDK and a user program.
#[test]
fn mypy_rejects_a_misspelt_path_and_a_string_on_a_numeric_actuator() {
    let root = workspace_root();
    for (file, expected) in [
        ("ok.py", None),
        ("misspelt_path.py", Some("has no attribute")),
        ("string_on_number.py", Some("incompatible type \"str\"")),
    ] {
        let output = Command::new(test_support::peers_python())
            .args([
                "-m",
                "mypy",
                "--strict",
                "--no-incremental",
                "--cache-dir=/dev/null",
            ])
            .arg(format!("tests/sdk/python/typecheck/{file}"))
            .env("MYPYPATH", root.join("generated/demo-car/sdk/python"))
            .current_dir(&root)
            .output()
            .expect("mypy runs");
        let report = text(&output);
        match expected {
            None => assert!(output.status.success(), "{file} must type-check:\n{report}"),
            Some(message) => {
                assert!(!output.status.success(), "{file} must not type-check");
                assert!(report.contains(message), "{file}: {report}");
            }
        }
    }
}

/// The generated Rust SDK (`generated/demo-car/sdk/rust`): typed handles of the server's own
/// tree over one wss connection.
mod rust_sdk {
    use std::task::Poll;
    use std::time::{Duration, Instant};

    use demo_car_sdk::tree::{Vehicle, Waypoint};
    use demo_car_sdk::vapi::{LONGITUDINAL, MatrixId, ProcedureStatus, VapiOptions};
    use demo_car_sdk::{ClientError, ClientOptions, Filter, LogicOp, connect};

    use super::start_demo_car;

    fn options(server: &test_support::server::Server) -> ClientOptions {
        let cert = server.cert.as_deref().expect("a TLS server");
        ClientOptions::with_ca_file(cert).expect("the certificate reads")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_get_set_history_metadata_and_errors_over_wss() {
        let server = start_demo_car();
        typed_get_set_history_metadata_and_errors(&server.ws_localhost(), &server).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_get_set_history_metadata_and_errors_over_https() {
        let server = start_demo_car();
        let url = server.http_localhost();
        assert!(url.starts_with("https://"), "{url}");
        typed_get_set_history_metadata_and_errors(&url, &server).await;

        // HTTP has no subscriptions: the client says so instead of sending anything.
        let client = connect(&url, options(&server)).await.expect("connects");
        assert_eq!(client.transport(), "http");
        let refused = client
            .subscribe(Vehicle::TREE.speed, Filter::timebased(100))
            .await
            .expect_err("no subscriptions over https");
        assert!(matches!(refused, ClientError::Unsupported(_)), "{refused}");
        // A set through the raw door reaches the server as a POST.
        let answer = client
            .request_raw(r#"{"action":"set","path":"Vehicle.Cabin.Seat.Row1.DriverSide.Position","value":"300"}"#)
            .await
            .expect("an answer");
        assert!(!answer.contains("\"error\""), "{answer}");
        client.close().await;
        let closed = client.get(Vehicle::TREE.speed).await.expect_err("closed");
        assert_eq!(closed, ClientError::Closed);
    }

    /// The typed calls both transports carry, and the errors they report.
    async fn typed_get_set_history_metadata_and_errors(
        url: &str,
        server: &test_support::server::Server,
    ) {
        let client = connect(url, options(server)).await.expect("connects");
        let tree = Vehicle::TREE;
        let speed: f32 = client.get(tree.speed).await.expect("speed");
        assert!((0.0..=200.0).contains(&speed), "{speed}");
        let trip: u64 = client.get(tree.trip_time).await.expect("uint64");
        let _ = trip;

        // A set within the limits lands; the simulator moves the seat to it.
        let seat = tree.cabin.seat[0][0].position;
        // (It starts at 250, the middle of its range: 120 makes it move.)
        client.set(seat, 120).await.expect("set within limits");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if client.get(seat).await.ok() == Some(120) {
                break;
            }
            assert!(Instant::now() < deadline, "the seat never reached 120");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Beyond `max` (500): refused before sending, by the server's own check.
        let refused = client.set(seat, 501).await.expect_err("501 > max");
        assert!(
            matches!(refused, ClientError::InvalidValue { .. }),
            "{refused}"
        );

        // A struct value through its generated type.
        let stop = Waypoint {
            name: "Depot".to_owned(),
            point: demo_car_sdk::tree::GeoPoint {
                latitude: 48.137,
                longitude: 11.575,
            },
            priority: 2,
        };
        client
            .set(tree.navigation.destination, stop)
            .await
            .expect("a struct set");

        // History: the positions the seat passed on its way to 120 (the current value is
        // not history), oldest first.
        let history = client.history(seat, "PT1M").await.expect("history");
        assert!(
            !history.is_empty(),
            "the seat moved through earlier positions"
        );
        assert!(
            history
                .iter()
                .all(|point| (120..=250).contains(&point.value))
        );
        assert!(history.windows(2).all(|pair| pair[0].ts <= pair[1].ts));

        let metadata = client.metadata(tree.speed).await.expect("metadata");
        assert!(
            metadata.to_string().contains("km/h"),
            "speed's metadata names its unit: {metadata}"
        );

        // The server's error, with its number and reason, on a raw request.
        let answer = client
            .request_raw(r#"{"action":"get","path":"Vehicle.NoSuchSignal"}"#)
            .await
            .expect("an answer");
        assert!(answer.contains("\"404\""), "{answer}");
        client.close().await;
    }

    /// Every typed call over gRPC (`grpcs://`, the SDK's `grpc` feature): the same calls,
    /// checks and errors as over wss, and subscriptions as server streams.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_calls_and_subscriptions_over_grpc() {
        let server = start_demo_car();
        let url = server.grpc_localhost().expect("the demo car serves gRPC");
        assert!(url.starts_with("grpcs://"), "{url}");
        typed_get_set_history_metadata_and_errors(&url, &server).await;
        typed_subscriptions(&url, &server).await;
        let client = connect(&url, options(&server)).await.expect("connects");
        assert_eq!(client.transport(), "grpc");
        one_call_at_a_time(&url, &server).await;
        client.close().await;
        let closed = client.get(Vehicle::TREE.speed).await.expect_err("closed");
        assert_eq!(closed, ClientError::Closed);
        // The server's certificate is checked: without its CA the connection is refused.
        let untrusted = connect(&url, ClientOptions::default())
            .await
            .expect_err("an unknown certificate");
        assert!(matches!(untrusted, ClientError::Connect(_)), "{untrusted}");
    }

    /// A request goes out over MQTT only once the broker has subscribed the client's reply
    /// topic: the client library may send a publish queued after the subscription before it,
    /// and the broker drops an answer to a topic nobody has subscribed yet (under load, a
    /// request was answered and its answer lost). mosquitto's own log tells in which order it
    /// received them; nobody serves the vehicle, so each request times out.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mqtt_requests_go_out_once_the_reply_topic_is_subscribed() {
        let broker = test_support::mqtt::Broker::start_logged();
        let url = format!("{}/{}", broker.url(), super::MQTT_VID);
        let clients = 20;
        for _ in 0..clients {
            let quick = ClientOptions {
                timeout: Duration::from_millis(100),
                ..ClientOptions::default()
            };
            let client = connect(&url, quick).await.expect("connects");
            let nobody = client.get(Vehicle::TREE.speed).await;
            assert_eq!(nobody, Err(ClientError::Timeout));
            client.close().await;
        }
        // mosquitto logs as it goes: read until every client's request is in (5 s at most)
        let deadline = Instant::now() + Duration::from_secs(5);
        let log = loop {
            let log = broker.log();
            let published = log
                .lines()
                .filter(|line| line.contains("Received PUBLISH from vssgen-client-"))
                .count();
            if published >= clients || Instant::now() > deadline {
                break log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let received = |what: &str, client: &str| {
            let prefix = format!("Received {what} from ");
            log.lines().position(|line| {
                line.split_once(&prefix)
                    .is_some_and(|(_, rest)| rest.split_whitespace().next() == Some(client))
            })
        };
        let ids: std::collections::BTreeSet<&str> = log
            .lines()
            .filter_map(|line| line.split(" as ").nth(1))
            .filter_map(|rest| rest.split_whitespace().next())
            .filter(|id| id.starts_with("vssgen-client-"))
            .collect();
        assert_eq!(ids.len(), clients, "{log}");
        for id in ids {
            let subscribed = received("SUBSCRIBE", id).expect("the reply topic subscribed");
            let published = received("PUBLISH", id).expect("the request published");
            assert!(
                subscribed < published,
                "{id}: request before subscription\n{log}"
            );
        }
    }

    /// Every typed call over MQTT (`mqtt://broker/<VID>`, the SDK's `mqtt` feature), through
    /// Debian's mosquitto to a demo car serving VISS over MQTT; VAPI over it too.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_calls_subscriptions_and_vapi_over_mqtt() {
        let (broker, server, url) = super::start_mqtt_car();
        // The car subscribes its request topic once it has reached the broker.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let quick = ClientOptions {
                timeout: Duration::from_millis(500),
                ..options(&server)
            };
            if let Ok(client) = connect(&url, quick).await
                && client.get(Vehicle::TREE.speed).await.is_ok()
            {
                client.close().await;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the car never answered over MQTT"
            );
        }
        typed_get_set_history_metadata_and_errors(&url, &server).await;
        typed_subscriptions(&url, &server).await;
        let client = connect(&url, options(&server)).await.expect("connects");
        assert_eq!(client.transport(), "mqtt");
        one_call_at_a_time(&url, &server).await;
        client.close().await;
        let closed = client.get(Vehicle::TREE.speed).await.expect_err("closed");
        assert_eq!(closed, ClientError::Closed);
        let nobody = connect("mqtt://127.0.0.1:1/VIN", options(&server))
            .await
            .expect_err("no broker there");
        assert!(matches!(nobody, ClientError::Connect(_)), "{nobody}");
        let no_vehicle = connect(&broker.url(), options(&server))
            .await
            .expect_err("the URL must name the vehicle");
        assert!(
            matches!(no_vehicle, ClientError::Connect(_)),
            "{no_vehicle}"
        );
        // The broker refuses anonymous clients and a wrong password; no message shows it.
        let anonymous = format!("{}/{}", broker.url(), super::MQTT_VID);
        let wrong = url.replace(super::MQTT_PASSWORD, "not-the-password");
        for refused_url in [anonymous, wrong] {
            let refused = connect(&refused_url, options(&server))
                .await
                .expect_err("the broker refuses");
            assert!(matches!(refused, ClientError::Connect(_)), "{refused}");
            assert!(
                !refused.to_string().contains("not-the-password"),
                "{refused}"
            );
        }

        let api = demo_car_sdk::vehicle_api(VapiOptions {
            mqtt: Some(url),
            client: options(&server),
            ..VapiOptions::default()
        });
        let vid = api.vehicle_id();
        assert_eq!(
            api.connect(vid, "mqtt", "").await.status,
            ProcedureStatus::Successful
        );
        let seat = MatrixId::new("Row2", "PassengerSide");
        let moved = api
            .move_seat(vid, &seat, LONGITUDINAL, 80.0, "", None)
            .await;
        assert_eq!(
            (moved.status, moved.position),
            (ProcedureStatus::Successful, 80.0),
            "{moved:?}"
        );
        assert_eq!(
            api.release_vehicle(vid).await.status,
            ProcedureStatus::Successful
        );
    }

    /// `max_pending` 1: a second call made while the first waits for its answer is refused.
    async fn one_call_at_a_time(url: &str, server: &test_support::server::Server) {
        let one = ClientOptions {
            max_pending: 1,
            ..options(server)
        };
        let client = connect(url, one).await.expect("connects");
        let tree = Vehicle::TREE;
        // A call in flight is one that has not finished on its first poll. On a loaded
        // machine the answer can arrive within that poll (the thread is descheduled while the
        // server answers): then the call is over, holds nothing, and the check is tried again.
        let mut completed_at_once = 0;
        loop {
            let mut first = std::pin::pin!(client.get(tree.speed));
            let polled = std::future::poll_fn(|cx| Poll::Ready(first.as_mut().poll(cx))).await;
            if let Poll::Ready(answer) = polled {
                assert!(answer.is_ok(), "{answer:?}");
                completed_at_once += 1;
                assert!(completed_at_once < 20, "no call was ever seen in flight");
                continue;
            }
            let second = client.get(tree.speed).await;
            assert_eq!(second, Err(ClientError::TooManyPending));
            let first = first.await;
            assert!(first.is_ok(), "{first:?}");
            break;
        }
        client.get(tree.speed).await.expect("room again");
        client.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_subscriptions_deliver_in_order_and_end_on_unsubscribe() {
        let server = start_demo_car();
        typed_subscriptions(&server.ws_localhost(), &server).await;
    }

    /// Subscriptions with two filters, in order, ended by unsubscribe; the connection serves
    /// requests afterwards.
    async fn typed_subscriptions(url: &str, server: &test_support::server::Server) {
        let client = connect(url, options(server)).await.expect("connects");
        let tree = Vehicle::TREE;
        let mut speed = client
            .subscribe(tree.speed, Filter::timebased(100))
            .await
            .expect("subscribes");
        let mut seen = Vec::new();
        while seen.len() < 3 {
            let point = tokio::time::timeout(Duration::from_secs(5), speed.next())
                .await
                .expect("an event within 5 s")
                .expect("the subscription lives")
                .expect("a typed value");
            seen.push(point);
        }
        assert!(seen.windows(2).all(|pair| pair[0].ts <= pair[1].ts));

        let seat = tree.cabin.seat[1][2].position;
        let mut moves = client
            .subscribe(seat, Filter::change(LogicOp::Ne, 0.0))
            .await
            .expect("change filter");
        client.set(seat, 400).await.expect("set");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = None;
        while last != Some(400) {
            assert!(Instant::now() < deadline, "no event reached 400: {last:?}");
            let point = tokio::time::timeout(Duration::from_secs(5), moves.next())
                .await
                .expect("an event")
                .expect("alive")
                .expect("typed");
            last = Some(point.value);
        }
        moves.unsubscribe().await;
        speed.unsubscribe().await;
        // Requests keep being answered on the same connection afterwards.
        client.get(tree.is_moving).await.expect("still connected");
        assert_eq!(client.dropped_events(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_subscription_survives_a_server_restart() {
        // A server of its own on a fixed free port, restarted on the same port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let start = || {
            std::process::Command::new(super::demo_car())
                .args([
                    "--simulate",
                    "--no-grpc",
                    "--no-http",
                    "--address",
                    "127.0.0.1",
                ])
                .args(["--ws-port", &port.to_string()])
                .arg("--self-signed-dir")
                .arg(dir.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("the demo car starts")
        };
        let url = format!("wss://localhost:{port}");
        let mut first = start();
        let client = wait_for_connection(&url, &dir.path().join("cert.pem")).await;
        let mut speed = client
            .subscribe(Vehicle::TREE.speed, Filter::timebased(100))
            .await
            .expect("subscribes");
        speed.next().await.expect("alive").expect("a value");
        first.kill().expect("stopped by its PID");
        first.wait().expect("reaped");
        let killed = jiff::Timestamp::now();
        // A get made while the client reconnects waits for the new connection.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (held, mut second) = tokio::join!(client.get(Vehicle::TREE.is_moving), async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            start()
        });
        assert!(
            held.is_ok(),
            "a get made during the outage is answered after the reconnect: {held:?}"
        );
        // Events queued before the kill may still be read: the subscription has resumed once
        // an event captured after the kill arrives. (A lost connection is not the
        // subscription's end.)
        let resumed = tokio::time::timeout(Duration::from_secs(20), async {
            for _ in 0..1000 {
                match speed.next().await {
                    Some(Ok(point)) => {
                        let at: jiff::Timestamp = point.ts.parse().expect("an ISO 8601 ts");
                        if at > killed {
                            return true;
                        }
                    }
                    Some(Err(_)) | None => return false,
                }
            }
            false
        })
        .await;
        second.kill().expect("stopped by its PID");
        let _ = second.wait();
        assert_eq!(
            resumed,
            Ok(true),
            "the subscription resumed after the restart"
        );
    }

    /// The message types derived from the VISS JSON schema (`messages.rs`): a request built
    /// from them is valid against the schema as published, and the server's real answers
    /// (value, metadata, error) read back as the right shapes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn message_types_write_schema_valid_requests_and_read_real_answers() {
        use demo_car_sdk::messages::{
            Filter as WireFilter, GetMessage, GetRequest, GetRequestFilter, TimebasedFilter,
            TimebasedFilterParameter,
        };
        let request = GetRequest {
            action: Default::default(),
            path: "Vehicle.Speed".to_owned(),
            filter: Some(GetRequestFilter::Filter(WireFilter::TimebasedFilter(
                TimebasedFilter {
                    variant: Default::default(),
                    parameter: TimebasedFilterParameter {
                        period: "100".to_owned(),
                    },
                },
            ))),
            authorization: None,
            dc: None,
            request_id: Some("7".to_owned()),
        };
        let json = serde_json::to_value(&request).expect("serializes");
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(test_support::shared_path(
                "schemas/viss-v3-messages.schema.json",
            ))
            .expect("the schema reads"),
        )
        .expect("the schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        assert!(validator.is_valid(&json), "not schema-valid: {json}");
        assert_eq!(json["action"], "get");
        // The check can fail: the period as a JSON number is not the schema's.
        let mut wrong = json.clone();
        wrong["filter"]["parameter"]["period"] = serde_json::json!(100);
        assert!(!validator.is_valid(&wrong), "the schema refuses {wrong}");

        let server = start_demo_car();
        let client = connect(&server.ws_localhost(), options(&server))
            .await
            .expect("connects");
        let read = async |request: &str| -> GetMessage {
            let answer = client.request_raw(request).await.expect("an answer");
            serde_json::from_str(&answer).unwrap_or_else(|error| panic!("{error}: {answer}"))
        };
        let value = read(r#"{"action":"get","path":"Vehicle.Speed"}"#).await;
        assert!(matches!(value, GetMessage::GetResponse(_)), "{value:?}");
        let metadata = read(
            r#"{"action":"get","path":"Vehicle.Speed","filter":{"variant":"metadata","parameter":"0"}}"#,
        )
        .await;
        assert!(
            matches!(metadata, GetMessage::GetMetadataResponse(_)),
            "{metadata:?}"
        );
        let error = read(r#"{"action":"get","path":"Vehicle.NoSuchSignal"}"#).await;
        let GetMessage::GetErrorResponse(error) = error else {
            panic!("an error answer: {error:?}");
        };
        assert_eq!(
            error.error.number,
            demo_car_sdk::messages::ErrorDataNumber::V404
        );
        client.close().await;
    }

    /// Every frame the Rust SDK sends (its typed calls and its VAPI, one of each kind), as
    /// recorded on the wire by a relay in front of the demo car, is valid against the VISS
    /// JSON schema with the repo's overlay applied (`schemas/viss-v3-messages.overlay.json`,
    /// as vssgen applies it). Over HTTPS the SDK sends no VISS message: the server builds it
    /// from the HTTP request.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_frame_the_sdk_sends_is_valid_against_the_viss_schema() {
        use demo_car_sdk::Combination;
        use demo_car_sdk::vapi::{LONGITUDINAL, MatrixId, ProcedureStatus, VapiOptions};

        let server = test_support::server::Server::start(
            &super::demo_car(),
            &[
                std::ffi::OsStr::new("--simulate"),
                std::ffi::OsStr::new("--no-grpc"),
                std::ffi::OsStr::new("--insecure"),
            ],
        );
        let (relay, sent) = recording_relay(server.ws_url.clone()).await;
        let client = connect(&relay, ClientOptions::default())
            .await
            .expect("connects through the relay");
        let tree = Vehicle::TREE;
        client.get(tree.speed).await.expect("get");
        // (A server started a moment ago may have no history yet: its 404 is an answer.)
        let history = client.history(tree.speed, "PT1H").await;
        assert!(
            history.is_ok() || history.as_ref().err().and_then(|e| e.number()) == Some("404"),
            "{history:?}"
        );
        client.metadata(tree.speed).await.expect("metadata");
        client
            .set(tree.cabin.seat[1][2].position, 200)
            .await
            .expect("set");
        for filter in [
            Filter::timebased(1000),
            Filter::change(LogicOp::Ne, 0.0),
            Filter::range(LogicOp::Gte, 0.0),
            Filter::range2((LogicOp::Lt, 5.0), Combination::Or, (LogicOp::Gt, 10.0)),
            Filter::curvelog(0.5, 10),
        ] {
            let subscription = client
                .subscribe(tree.speed, filter)
                .await
                .expect("subscribes");
            subscription.unsubscribe().await;
        }
        client.close().await;

        let api = demo_car_sdk::vehicle_api(VapiOptions {
            wss: Some(relay.clone()),
            ..VapiOptions::default()
        });
        let vid = api.vehicle_id();
        assert_eq!(
            api.connect(vid, "wss", "").await.status,
            ProcedureStatus::Successful
        );
        let paths = r#"{"variant":"paths","parameter":["*.*.IsOpen"]}"#;
        let got = api.get(vid, "Vehicle.Cabin.Door", paths, "").await;
        assert_eq!(got.status, ProcedureStatus::Successful, "{got:?}");
        let lock = "Vehicle.Cabin.Door.Row1.DriverSide.IsLocked";
        assert_eq!(
            api.set(vid, lock, "true", "").await.status,
            ProcedureStatus::Successful
        );
        let seat = MatrixId::new("Row2", "Middle");
        let moved = api
            .move_seat(vid, &seat, LONGITUDINAL, 10.0, "", None)
            .await;
        assert_eq!(moved.status, ProcedureStatus::Successful, "{moved:?}");
        assert_eq!(
            api.release_vehicle(vid).await.status,
            ProcedureStatus::Successful
        );

        let schema_file = test_support::shared_path("schemas/viss-v3-messages.schema.json");
        let mut schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(schema_file).expect("the schema reads"))
                .expect("the schema is JSON");
        let overlay: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                test_support::workspace_root().join("schemas/viss-v3-messages.overlay.json"),
            )
            .expect("the overlay reads"),
        )
        .expect("the overlay is JSON");
        for patch in overlay["patches"].as_array().expect("patches") {
            let pointer = patch["pointer"].as_str().expect("a pointer");
            *schema.pointer_mut(pointer).expect("the pointer resolves") = patch["value"].clone();
        }
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let sent = sent.lock().expect("not poisoned").clone();
        let mut actions = std::collections::BTreeSet::new();
        for frame in &sent {
            let message: serde_json::Value = serde_json::from_str(frame).expect("JSON");
            let errors: Vec<String> = validator
                .iter_errors(&message)
                .map(|error| error.to_string())
                .collect();
            assert!(errors.is_empty(), "{frame}: {errors:?}");
            actions.insert(message["action"].as_str().unwrap_or("").to_owned());
        }
        assert_eq!(
            actions.into_iter().collect::<Vec<_>>(),
            ["get", "set", "subscribe", "unsubscribe"],
            "every action was sent"
        );
        assert!(sent.len() >= 20, "{} frames", sent.len());
        // The check can fail: a number where the schema wants a string is refused.
        let wrong =
            serde_json::json!({"action": "set", "path": "Vehicle.X", "value": 3, "requestId": "1"});
        assert!(!validator.is_valid(&wrong));
    }

    /// A WebSocket relay on 127.0.0.1 in front of `upstream` (a plain ws:// server) that
    /// records every text frame its clients send.
    async fn recording_relay(
        upstream: String,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use futures_util::{SinkExt as _, StreamExt as _};
        use tokio_tungstenite::tungstenite::Message;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        use tokio_tungstenite::tungstenite::http::HeaderValue;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("ws://{}", listener.local_addr().expect("bound"));
        let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&sent);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (upstream, record) = (upstream.clone(), std::sync::Arc::clone(&record));
                tokio::spawn(async move {
                    // The callback's signature (and its large error) is tungstenite's.
                    #[allow(clippy::result_large_err)]
                    let offer_viss = |_: &_, mut response: tokio_tungstenite::tungstenite::handshake::server::Response| {
                        response
                            .headers_mut()
                            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("VISSv3"));
                        Ok(response)
                    };
                    let Ok(client) = tokio_tungstenite::accept_hdr_async(tcp, offer_viss).await
                    else {
                        return;
                    };
                    let mut request = upstream.into_client_request().expect("a ws URL");
                    request
                        .headers_mut()
                        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("VISSv3"));
                    let (server, _) = tokio_tungstenite::connect_async(request)
                        .await
                        .expect("the demo car accepts");
                    let (mut to_server, mut from_server) = server.split();
                    let (mut to_client, mut from_client) = client.split();
                    loop {
                        tokio::select! {
                            Some(Ok(frame)) = from_client.next() => {
                                if let Message::Text(text) = &frame {
                                    record.lock().expect("not poisoned").push(text.to_string());
                                }
                                if frame.is_close() || to_server.send(frame).await.is_err() {
                                    break;
                                }
                            }
                            Some(Ok(frame)) = from_server.next() => {
                                if to_client.send(frame).await.is_err() {
                                    break;
                                }
                            }
                            else => break,
                        }
                    }
                });
            }
        });
        (url, sent)
    }

    /// A client, once the server (started a moment ago) accepts connections.
    async fn wait_for_connection(
        url: &str,
        cert: &std::path::Path,
    ) -> demo_car_sdk::Client<Vehicle> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(options) = ClientOptions::with_ca_file(cert)
                && let Ok(client) = connect(url, options).await
            {
                return client;
            }
            assert!(Instant::now() < deadline, "the server never accepted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The Rust SDK's VAPI v1.0 (`demo_car_sdk::vehicle_api`) against the demo car's simulator:
/// the common and data procedures over wss and https, and the seating group (discovered from
/// metadata; MoveSeat synchronous, and asynchronous cancelled mid-movement; ActivateMassage).
mod rust_vapi {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use std::path::Path;

    use demo_car_sdk::vapi::{
        BACKREST, BACKWARD, Callback, ErrorData, FORWARD, LONGITUDINAL, LUMBAR, MassageOutput,
        MatrixId, MoveSeatOutput, ProcedureStatus, SubscribeOutput, VERTICAL, Vapi, VapiOptions,
    };
    use demo_car_sdk::{AccessControl, ClientOptions, tree::Vehicle, vehicle_api};
    use test_support::auth::{self, AccessEcosystem};
    use tokio::sync::mpsc;

    use super::start_demo_car;

    const ONGOING: ProcedureStatus = ProcedureStatus::Ongoing;
    const SUCCESSFUL: ProcedureStatus = ProcedureStatus::Successful;
    const FAILED: ProcedureStatus = ProcedureStatus::Failed;

    fn vapi(server: &test_support::server::Server) -> Vapi<Vehicle> {
        let cert = server.cert.as_deref().expect("a TLS server");
        vehicle_api(VapiOptions {
            wss: Some(server.ws_localhost()),
            https: Some(server.http_localhost()),
            grpc: server.grpc_localhost(),
            client: ClientOptions::with_ca_file(cert).expect("the certificate reads"),
            move_timeout: Duration::from_secs(30),
            ..VapiOptions::default()
        })
    }

    /// A callback that forwards every output into a channel the test reads.
    fn collector<O: Send + 'static>() -> (Callback<O>, mpsc::UnboundedReceiver<O>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let callback: Callback<O> = Arc::new(move |output| {
            let _ = sender.send(output);
        });
        (callback, receiver)
    }

    async fn next<O>(outputs: &mut mpsc::UnboundedReceiver<O>) -> O {
        tokio::time::timeout(Duration::from_secs(10), outputs.recv())
            .await
            .expect("a callback within 10 s")
            .expect("the service lives")
    }

    /// The current value of a numeric signal, read past VAPI (through its own get).
    async fn current(vapi: &Vapi<Vehicle>, path: &str) -> f64 {
        let got = vapi.get(vapi.vehicle_id(), path, "", "").await;
        assert_eq!(got.status, SUCCESSFUL, "{got:?}");
        got.data[0].signal_data[0].value.parse().expect("a number")
    }

    async fn eventually(vapi: &Vapi<Vehicle>, path: &str, expected: f64) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while current(vapi, path).await != expected {
            assert!(Instant::now() < deadline, "{path} never became {expected}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn common_and_data_procedures_over_wss_https_and_grpc() {
        let server = start_demo_car();
        let api = vapi(&server);
        let vid = api.vehicle_id();
        let before = api.get(vid, "Vehicle.Speed", "", "").await;
        assert_eq!(
            (before.status, before.error.map(|e| e.code)),
            (FAILED, Some(503))
        );
        let wrong = api.connect(vid + 1, "wss", "").await;
        assert_eq!(wrong.error.map(|e| e.code), Some(404));
        let mqtt = api.connect(vid, "mqtt", "").await;
        assert_eq!(mqtt.error.map(|e| e.reason), Some("bad_request".to_owned()));

        let connected = api.connect(vid, "wss", "").await;
        assert_eq!(
            (connected.status, connected.lt_credential.as_str()),
            (SUCCESSFUL, "")
        );
        let got = api.get(vid, "Vehicle.Speed", "", "").await;
        assert_eq!(got.status, SUCCESSFUL, "{got:?}");
        assert_eq!(got.data[0].path, "Vehicle.Speed");
        let speed: f64 = got.data[0].signal_data[0].value.parse().expect("a number");
        assert!((0.0..=200.0).contains(&speed));
        assert!(got.data[0].signal_data[0].timestamp.ends_with('Z'));
        let doors = api
            .get(
                vid,
                "Vehicle.Cabin.Door",
                r#"{"variant":"paths","parameter":["*.*.IsOpen"]}"#,
                "",
            )
            .await;
        assert_eq!(doors.data.len(), 4, "{doors:?}");
        let unknown = api.get(vid, "Vehicle.NoSuch", "", "").await;
        let error = unknown.error.expect("an error");
        assert_eq!(
            (error.code, error.reason.as_str()),
            (404, "unavailable_data")
        );
        let metadata_filter = api
            .get(
                vid,
                "Vehicle.Speed",
                r#"{"variant":"metadata","parameter":"0"}"#,
                "",
            )
            .await;
        assert!(
            metadata_filter
                .error
                .expect("refused")
                .description
                .contains("GetMetadata")
        );
        let metadata = api
            .get_metadata(vid, "Vehicle.Cabin.Seat.Row1.DriverSide.Position", "")
            .await;
        let metadata: serde_json::Value = serde_json::from_str(&metadata.metadata).expect("JSON");
        assert_eq!(metadata["Position"]["datatype"], "uint16");

        // Set, checked by the server: a value beyond max is its invalid_data.
        let lock = "Vehicle.Cabin.Door.Row1.DriverSide.IsLocked";
        let start = api.get(vid, lock, "", "").await.data[0].signal_data[0]
            .value
            .clone();
        let flipped = if start == "true" { "false" } else { "true" };
        assert_eq!(api.set(vid, lock, flipped, "").await.status, SUCCESSFUL);
        let too_far = api
            .set(
                vid,
                "Vehicle.Cabin.Seat.Row1.DriverSide.Position",
                "501",
                "",
            )
            .await
            .error
            .expect("refused");
        assert_eq!(
            (too_far.code, too_far.reason.as_str()),
            (400, "invalid_data")
        );

        // Subscribe: Ongoing outputs through the callback until unsubscribed.
        let (callback, mut outputs) = collector::<SubscribeOutput>();
        let every_200_ms = r#"{"variant":"timebased","parameter":{"period":"200"}}"#;
        let started = api
            .subscribe(vid, "Vehicle.Speed", every_200_ms, "", callback)
            .await;
        assert_eq!(started.status, ONGOING, "{started:?}");
        for _ in 0..3 {
            let event = next(&mut outputs).await;
            assert_eq!(
                (event.status, event.service_id),
                (ONGOING, started.service_id)
            );
            assert_eq!(event.data[0].path, "Vehicle.Speed");
        }
        assert_eq!(
            api.unsubscribe(vid, started.service_id).await.status,
            SUCCESSFUL
        );
        while outputs.try_recv().is_ok() {}
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(outputs.try_recv().is_err(), "no event after unsubscribe");
        let again = api.unsubscribe(vid, started.service_id).await;
        assert_eq!(again.error.map(|e| e.code), Some(404));

        // HTTPS: the same data procedures; subscribe refused; a seat followed by polling.
        assert_eq!(api.connect(vid, "https", "").await.status, SUCCESSFUL);
        assert_eq!(
            api.protocol().map(|p| p.name()),
            Some("wss"),
            "the first stays the default"
        );
        assert_eq!(api.select_protocol(vid, "https").await.status, SUCCESSFUL);
        assert_eq!(
            api.get(vid, "Vehicle.Speed", "", "").await.status,
            SUCCESSFUL
        );
        let (callback, _outputs) = collector::<SubscribeOutput>();
        let refused = api.subscribe(vid, "Vehicle.Speed", "", "", callback).await;
        assert!(refused.error.expect("refused").description.contains("wss"));
        let seat = MatrixId::new("Row1", "Middle");
        let moved = api
            .move_seat(vid, &seat, LONGITUDINAL, 64.0, "", None)
            .await;
        assert_eq!(
            (moved.status, moved.position),
            (SUCCESSFUL, 64.0),
            "{moved:?}"
        );
        assert_eq!(
            current(&api, "Vehicle.Cabin.Seat.Row1.Middle.Position").await,
            320.0
        );

        // gRPC: subscriptions again, and a seat followed by its change subscription.
        assert_eq!(api.connect(vid, "grpc", "").await.status, SUCCESSFUL);
        assert_eq!(api.select_protocol(vid, "grpc").await.status, SUCCESSFUL);
        let (callback, mut outputs) = collector::<SubscribeOutput>();
        let started = api
            .subscribe(vid, "Vehicle.Speed", every_200_ms, "", callback)
            .await;
        assert_eq!(started.status, ONGOING, "{started:?}");
        assert_eq!(next(&mut outputs).await.data[0].path, "Vehicle.Speed");
        assert_eq!(
            api.unsubscribe(vid, started.service_id).await.status,
            SUCCESSFUL
        );
        let moved = api
            .move_seat(vid, &seat, LONGITUDINAL, 20.0, "", None)
            .await;
        assert_eq!(
            (moved.status, moved.position),
            (SUCCESSFUL, 20.0),
            "{moved:?}"
        );
        assert_eq!(
            current(&api, "Vehicle.Cabin.Seat.Row1.Middle.Position").await,
            100.0
        );
        assert_eq!(api.disconnect(vid, "grpc").await.status, SUCCESSFUL);

        assert_eq!(api.disconnect(vid, "https").await.status, SUCCESSFUL);
        assert_eq!(api.protocol().map(|p| p.name()), Some("wss"));
        assert_eq!(api.disconnect(vid, "https").await.status, FAILED);
        assert_eq!(api.release_vehicle(vid).await.status, SUCCESSFUL);
        let after = api.get(vid, "Vehicle.Speed", "", "").await;
        assert_eq!(after.error.map(|e| e.code), Some(503));

        // A Vapi dropped with a subscription running ends it: its task, and the callback
        // it holds, go (the callback's channel closes).
        let dropped = vapi(&server);
        assert_eq!(dropped.connect(vid, "wss", "").await.status, SUCCESSFUL);
        let (callback, mut outputs) = collector::<SubscribeOutput>();
        let every_100_ms = r#"{"variant":"timebased","parameter":{"period":"100"}}"#;
        let running = dropped
            .subscribe(vid, "Vehicle.Speed", every_100_ms, "", callback)
            .await;
        assert_eq!(running.status, ONGOING);
        next(&mut outputs).await;
        drop(dropped);
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            while outputs.recv().await.is_some() {}
        })
        .await;
        assert!(closed.is_ok(), "the subscription's task outlived its Vapi");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seating_moves_cancels_mid_movement_and_massages() {
        let server = start_demo_car();
        let api = vapi(&server);
        let vid = api.vehicle_id();
        assert_eq!(api.connect(vid, "wss", "").await.status, SUCCESSFUL);

        let properties = api.get_properties_seating(vid).await;
        assert_eq!(properties.status, SUCCESSFUL, "{properties:?}");
        assert_eq!(properties.properties.len(), 2);
        for row in &properties.properties {
            assert_eq!(row.column.len(), 3);
            for column in &row.column {
                let movements: Vec<&str> = column
                    .movement_support
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect();
                assert_eq!(
                    movements,
                    [LONGITUDINAL, BACKREST, LUMBAR],
                    "no Height: no vertical"
                );
                assert_eq!(column.massage_support[0].name, "massage");
            }
        }

        // Synchronous: answers once the seat is there.
        let driver = MatrixId::new("Row1", "DriverSide");
        let first = api
            .move_seat(vid, &driver, LONGITUDINAL, 20.0, "", None)
            .await;
        assert_eq!(
            (first.status, first.error.clone(), first.position),
            (SUCCESSFUL, None, 20.0)
        );
        assert_eq!(
            current(&api, "Vehicle.Cabin.Seat.Row1.DriverSide.Position").await,
            100.0
        );

        // Asynchronous, cancelled after the first step: the seat stays where it stopped.
        let passenger = MatrixId::new("Row1", "PassengerSide");
        let position = "Vehicle.Cabin.Seat.Row1.PassengerSide.Position";
        let home = api
            .move_seat(vid, &passenger, LONGITUDINAL, FORWARD, "", None)
            .await;
        assert_eq!(home.status, SUCCESSFUL, "{home:?}");
        let (callback, mut updates) = collector::<MoveSeatOutput>();
        let started = api
            .move_seat(vid, &passenger, LONGITUDINAL, BACKWARD, "", Some(callback))
            .await;
        assert_eq!(started.status, ONGOING, "{started:?}");
        assert!(started.service_id > 0 && started.position < 50.0);
        let step = next(&mut updates).await;
        assert_eq!(step.status, ONGOING);
        assert!(0.0 < step.position && step.position < 100.0, "{step:?}");
        let cancelled = api.cancel_service(vid, started.service_id).await;
        assert_eq!((cancelled.status, cancelled.error), (SUCCESSFUL, None));
        let mut last = next(&mut updates).await;
        while last.status == ONGOING {
            last = next(&mut updates).await;
        }
        assert_eq!(
            (last.status, last.service_id),
            (SUCCESSFUL, started.service_id)
        );
        assert!(0.0 < last.position && last.position < 100.0, "{last:?}");
        let stopped_at = (last.position * 5.0).round();
        tokio::time::sleep(Duration::from_millis(1200)).await; // uncancelled: at 500 by now
        assert_eq!(current(&api, position).await, stopped_at);
        assert!(
            updates.try_recv().is_err(),
            "no callback after the final one"
        );
        let gone = api.cancel_service(vid, started.service_id).await;
        assert_eq!(gone.error.map(|e| e.code), Some(404));

        // A massage for one second, then one until cancelled.
        let massage = "Vehicle.Cabin.Seat.Row1.DriverSide.Massage";
        let (callback, mut ends) = collector::<MassageOutput>();
        let begun = Instant::now();
        let output = api
            .activate_massage(vid, &driver, "massage", 100.0, 1, "", Some(callback))
            .await;
        assert_eq!(output.status, ONGOING, "{output:?}");
        eventually(&api, massage, 3.0).await;
        let end = next(&mut ends).await;
        assert!(begun.elapsed() >= Duration::from_millis(900));
        assert_eq!(
            (end.status, end.service_id),
            (SUCCESSFUL, output.service_id)
        );
        eventually(&api, massage, 0.0).await;
        let (callback, mut ends) = collector::<MassageOutput>();
        let second = api
            .activate_massage(vid, &driver, "massage", 40.0, 0, "", Some(callback))
            .await;
        eventually(&api, massage, 2.0).await;
        assert!(ends.try_recv().is_err(), "duration 0 runs until cancelled");
        assert_eq!(
            api.cancel_service(vid, second.service_id).await.status,
            SUCCESSFUL
        );
        assert_eq!(next(&mut ends).await.status, SUCCESSFUL);
        eventually(&api, massage, 0.0).await;

        // Refusals are Failed outputs with the VISS numbers that fit.
        let row3 = MatrixId::new("Row3", "DriverSide");
        for (code, output) in [
            (
                400,
                api.move_seat(vid, &driver, LONGITUDINAL, 100.5, "", None)
                    .await,
            ),
            (
                400,
                api.move_seat(vid, &driver, LONGITUDINAL, f64::NAN, "", None)
                    .await,
            ),
            (
                404,
                api.move_seat(vid, &row3, LONGITUDINAL, 10.0, "", None)
                    .await,
            ),
            (
                404,
                api.move_seat(vid, &driver, VERTICAL, 10.0, "", None).await,
            ),
            (
                404,
                api.move_seat(vid + 7, &driver, LONGITUDINAL, 10.0, "", None)
                    .await,
            ),
        ] {
            assert_eq!(
                (output.status, output.error.map(|e| e.code)),
                (FAILED, Some(code))
            );
        }
        let shiatsu = api
            .activate_massage(vid, &driver, "shiatsu", 50.0, 1, "", None)
            .await;
        assert_eq!(shiatsu.error.map(|e| e.code), Some(404));
        assert_eq!(api.release_vehicle(vid).await.status, SUCCESSFUL);
    }

    /// A synchronous `move_seat` given up on mid-way (a timeout around it drops it) stops
    /// the seat where it is, as `cancel_service` stops an asynchronous one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_synchronous_move_given_up_on_stops_the_seat() {
        let server = start_demo_car();
        let api = vapi(&server);
        let vid = api.vehicle_id();
        assert_eq!(api.connect(vid, "wss", "").await.status, SUCCESSFUL);
        let seat = MatrixId::new("Row2", "Middle");
        let position = "Vehicle.Cabin.Seat.Row2.Middle.Position";
        let home = api.move_seat(vid, &seat, LONGITUDINAL, 0.0, "", None).await;
        assert_eq!(home.status, SUCCESSFUL, "{home:?}");
        let far = api.move_seat(vid, &seat, LONGITUDINAL, 100.0, "", None);
        // given up on once the seat has taken its first step (5 s at most)
        let first_step = async {
            while current(&api, position).await == 0.0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let given_up = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::select! {
                done = far => panic!("the whole way was done before a step was seen: {done:?}"),
                () = first_step => {}
            }
        });
        given_up.await.expect("the seat took a first step");
        // the stop lands: two reads 300 ms apart agree (5 s at most)
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut stopped_at = current(&api, position).await;
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now_at = current(&api, position).await;
            if now_at == stopped_at {
                break;
            }
            assert!(Instant::now() < deadline, "the seat kept moving");
            stopped_at = now_at;
        }
        tokio::time::sleep(Duration::from_millis(1200)).await; // not stopped: at 500 by now
        assert_eq!(
            current(&api, position).await,
            stopped_at,
            "the seat kept moving"
        );
        assert!(
            0.0 < stopped_at && stopped_at < 500.0,
            "{stopped_at}: not stopped mid-way"
        );
        assert_eq!(api.release_vehicle(vid).await.status, SUCCESSFUL);
    }

    /// A massage started while its session is being disconnected never stays on: the start
    /// registers its service before the disconnect ends the session's services (without
    /// that, the set in flight switched it on and the closed session could not switch it
    /// off). Rounds of the race, in both orders.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_disconnect_racing_a_massage_start_leaves_no_massage_on() {
        let server = start_demo_car();
        let api = vapi(&server);
        let probe = vapi(&server);
        let vid = api.vehicle_id();
        assert_eq!(probe.connect(vid, "https", "").await.status, SUCCESSFUL);
        let seat = MatrixId::new("Row2", "DriverSide");
        let massage = "Vehicle.Cabin.Seat.Row2.DriverSide.Massage";
        let mut started = 0;
        for round in 0..8 {
            assert_eq!(api.connect(vid, "wss", "").await.status, SUCCESSFUL);
            // The seats known before the race, so that the start goes straight to its set.
            assert_eq!(api.get_properties_seating(vid).await.status, SUCCESSFUL);
            // Even rounds: the start goes first; odd rounds: the disconnect does.
            let start = async {
                if round % 2 == 1 {
                    tokio::task::yield_now().await;
                }
                api.activate_massage(vid, &seat, "massage", 100.0, 0, "", None)
                    .await
            };
            let stop = api.disconnect(vid, "wss");
            let (start, stop) = tokio::join!(start, stop);
            assert_eq!(stop.status, SUCCESSFUL, "{stop:?}");
            started += usize::from(start.status == ProcedureStatus::Ongoing);
            eventually(&probe, massage, 0.0).await;
        }
        assert!(
            started > 0,
            "no round started the massage before its session ended"
        );
        assert_eq!(probe.release_vehicle(vid).await.status, SUCCESSFUL);
    }

    /// The outcome of a procedure as (status, error code, error reason).
    fn outcome(status: ProcedureStatus, error: Option<&ErrorData>) -> (ProcedureStatus, i32, &str) {
        error.map_or((status, 0, ""), |e| (status, e.code, e.reason.as_str()))
    }

    /// Connect's long-term credential and GetStCredentials against the real viss-auth,
    /// used on a viss-server serving the Guarded tree (CORE §8): a wrong proof opens no
    /// session, a purpose's token opens exactly its part of the tree over wss and https,
    /// and purposes that need consent wait for the owner's yes or no.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn credentials_from_the_access_control_servers() {
        let ecosystem = AccessEcosystem::start(Path::new(env!("CARGO_BIN_EXE_viss-server")));
        let server_cert = ecosystem.server.cert.as_deref().expect("a TLS server");
        let mut access = AccessControl::new(&ecosystem.agts, &ecosystem.ats, auth::CONTEXT);
        access.vin = Some(auth::VIN.to_owned());
        access.ca_pem = Some(std::fs::read(&ecosystem.auth_cert).expect("the AGTS certificate"));
        access.consent_poll = Duration::from_millis(100);
        access.consent_timeout = Duration::from_secs(20);
        let options = VapiOptions {
            wss: Some(ecosystem.server.ws_localhost()),
            https: Some(ecosystem.server.http_localhost()),
            client: ClientOptions::with_ca_file(server_cert).expect("the certificate reads"),
            ..VapiOptions::default()
        };
        let plain = vehicle_api(options.clone());
        let api = vehicle_api(VapiOptions {
            access_control: Some(access),
            ..options
        });
        let vid = api.vehicle_id();

        let unconfigured = plain
            .get_st_credentials(vid, "an-agt", "cabin-comfort")
            .await;
        assert_eq!(
            outcome(unconfigured.status, unconfigured.error.as_ref()),
            (FAILED, 404, "unavailable_data")
        );
        let refused = api.connect(vid, "wss", "a-wrong-proof").await;
        assert_eq!(
            outcome(refused.status, refused.error.as_ref()),
            (FAILED, 401, "invalid_token"),
            "{refused:?}"
        );
        assert_eq!((refused.lt_credential.as_str(), api.protocol()), ("", None));

        let connected = api.connect(vid, "wss", auth::PROOF).await;
        assert_eq!(connected.status, SUCCESSFUL, "{connected:?}");
        let agt = connected.lt_credential;
        assert_eq!(agt.split('.').count(), 3, "a JWT: {agt}");
        let over_https = api.connect(vid, "https", auth::PROOF).await;
        assert_eq!(over_https.status, SUCCESSFUL, "{over_https:?}");
        let denied = api.get(vid, "Vehicle.Cabin.Light", "", "").await;
        assert_eq!(outcome(denied.status, denied.error.as_ref()).1, 401);

        let issued = api.get_st_credentials(vid, &agt, "cabin-comfort").await;
        assert_eq!(issued.status, SUCCESSFUL, "{issued:?}");
        let token = issued.st_credentials;
        assert!(token.split('.').count() == 3 && token != agt, "{token}");
        let set = api.set(vid, "Vehicle.Cabin.Light", "30", &token).await;
        assert_eq!(set.status, SUCCESSFUL, "{set:?}");
        // Without access control Connect's credentials are the session's token, and
        // connecting again replaces them (no token left behind).
        assert_eq!(plain.connect(vid, "wss", &token).await.status, SUCCESSFUL);
        let with_token = plain.get(vid, "Vehicle.Cabin.Light", "", "").await;
        assert_eq!(with_token.status, SUCCESSFUL, "{with_token:?}");
        assert_eq!(plain.connect(vid, "wss", "").await.status, SUCCESSFUL);
        let without = plain.get(vid, "Vehicle.Cabin.Light", "", "").await;
        assert_eq!(outcome(without.status, without.error.as_ref()).1, 401);
        for protocol in ["wss", "https"] {
            assert_eq!(api.select_protocol(vid, protocol).await.status, SUCCESSFUL);
            let read = api.get(vid, "Vehicle.Cabin.Light", "", &token).await;
            assert_eq!(read.status, SUCCESSFUL, "{protocol}: {read:?}");
            assert_eq!(read.data[0].signal_data[0].value, "30", "{protocol}");
            let outside = api.get(vid, "Vehicle.Location.Latitude", "", &token).await;
            assert_eq!(
                outcome(outside.status, outside.error.as_ref()).1,
                401,
                "{protocol}"
            );
        }
        for (lt, purpose, expected) in [
            (
                agt.as_str(),
                "no-such-purpose",
                (FAILED, 403, "forbidden_request"),
            ),
            (
                "not-a-grant",
                "cabin-comfort",
                (FAILED, 401, "invalid_token"),
            ),
        ] {
            let refused = api.get_st_credentials(vid, lt, purpose).await;
            assert_eq!(
                outcome(refused.status, refused.error.as_ref()),
                expected,
                "{purpose}"
            );
            assert!(refused.st_credentials.is_empty());
        }

        // Consent: the procedure waits while the owner is asked, then answers their decision.
        let owner_decides = |purpose: &'static str, consent: &'static str| {
            let ecosystem = &ecosystem;
            async move {
                let deadline = Instant::now() + Duration::from_secs(10);
                while !ecosystem.asked(purpose) {
                    assert!(
                        Instant::now() < deadline,
                        "the owner was never asked about {purpose}"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ecosystem.decide(purpose, consent);
            }
        };
        let (granted, ()) = tokio::join!(
            api.get_st_credentials(vid, &agt, "find-my-car"),
            owner_decides("find-my-car", "YES")
        );
        assert_eq!(granted.status, SUCCESSFUL, "{granted:?}");
        let located = api
            .set(
                vid,
                "Vehicle.Location.Latitude",
                "48.5",
                &granted.st_credentials,
            )
            .await;
        assert_eq!(located.status, SUCCESSFUL, "{located:?}");
        let (refused, ()) = tokio::join!(
            api.get_st_credentials(vid, &agt, "location-ads"),
            owner_decides("location-ads", "NO")
        );
        assert_eq!(
            outcome(refused.status, refused.error.as_ref()),
            (FAILED, 403, "forbidden_request"),
            "{refused:?}"
        );
        assert!(
            refused
                .error
                .is_some_and(|e| e.description.contains("consent"))
        );
        assert_eq!(api.release_vehicle(vid).await.status, SUCCESSFUL);
    }
}

/// The signal explorer (`viss-runtime/explorer/`), served by the demo car at `/explorer/`,
/// in headless Chromium (playwright-core): the tree lists, a value updates live, a set is
/// reflected, a bad value shows its error. The screenshots stay in the target directory.
#[test]
fn the_explorer_works_in_headless_chromium() {
    let server = start_demo_car();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explorer-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let mut node = Command::new("node");
    node.args(["--test", "explorer/"])
        .env("VISS_SCREENSHOT_DIR", &shots)
        .current_dir(node_dir());
    server_env(&mut node, &server);
    let output = node.output().expect("node runs");
    let report = text(&output);
    eprintln!(
        "explorer in Chromium: {} passed, screenshots in {}",
        count(&report, "pass", false),
        shots.display()
    );
    assert!(
        output.status.success(),
        "the explorer test failed:\n{report}"
    );
    assert_eq!(count(&report, "fail", false), 0, "{report}");
    assert!(count(&report, "pass", false) >= 5, "{report}");
    for name in ["loaded", "live", "set", "error"] {
        let shot = shots.join(format!("explorer-{name}.png"));
        let bytes = std::fs::read(&shot).unwrap_or_default();
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "{} is a PNG screenshot",
            shot.display()
        );
    }
}

/// The explorer's served JavaScript (`explorer/dist/`) is what `tsc` makes of its sources
/// and the SDK core today: rebuilt into a scratch folder and compared file by file.
#[test]
fn the_explorer_dist_matches_a_fresh_tsc_build() {
    let root = workspace_root();
    let fresh = tempfile::tempdir().expect("temp dir");
    let build = Command::new(node_tool("tsc"))
        .args(["-p", "viss-runtime/explorer", "--outDir"])
        .arg(fresh.path())
        .current_dir(&root)
        .output()
        .expect("tsc runs");
    assert!(build.status.success(), "tsc failed:\n{}", text(&build));
    let checked_in = root.join("viss-runtime/explorer/dist");
    let (expected, actual) = (files_below(&checked_in), files_below(fresh.path()));
    assert_eq!(
        expected, actual,
        "explorer/dist lists other files than tsc writes"
    );
    for file in &expected {
        let a = std::fs::read(checked_in.join(file)).expect("readable");
        let b = std::fs::read(fresh.path().join(file)).expect("readable");
        assert!(
            a == b,
            "viss-runtime/explorer/dist/{} is out of date: rebuild with \
             `tests/sdk/node/node_modules/.bin/tsc -p viss-runtime/explorer`",
            file.display()
        );
    }
}

/// Every file below `dir`, relative to it, sorted.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                out.push(relative.to_path_buf());
            }
        }
    }
    out.sort();
    out
}
