//! The real server binary against real clients: Python `websockets` over wss with the
//! `VISSv3` sub-protocol, and curl over https.

mod support;

use support::{curl, start_server, start_server_with_env, stdout_of, wss_client};

#[test]
fn python_websockets_runs_every_spec_example_over_wss() {
    let server = start_server(&["--simulate"]);
    let cert = server
        .cert
        .clone()
        .expect("a self-signed certificate was generated");
    let cert = cert.to_string_lossy();
    assert!(server.ws_url.starts_with("wss://"), "{}", server.ws_url);
    let output = wss_client(&["examples", &server.ws_localhost(), "--cacert", &cert]);
    let text = stdout_of(&output);
    assert!(output.status.success(), "{text}");
    for check in [
        "PASS subprotocol",
        "PASS read",
        "PASS search read",
        "PASS history read",
        "PASS discovery read",
        "PASS update accepted",
        "PASS timebased subscribe",
        "PASS change subscribe",
        "PASS subscription event",
        "PASS unsubscribe",
        "PASS live data",
    ] {
        assert!(text.contains(check), "missing `{check}` in:\n{text}");
    }
}

#[test]
fn an_unknown_subprotocol_is_refused_with_a_clear_error() {
    let server = start_server(&[]);
    let cert = server.cert.clone().expect("certificate");
    let cert = cert.to_string_lossy();
    let url = server.ws_localhost();
    let wrong = wss_client(&[
        "refused",
        &url,
        "--cacert",
        &cert,
        "--subprotocol",
        "wvss1.0",
    ]);
    let text = stdout_of(&wrong);
    assert!(wrong.status.success(), "{text}");
    assert!(
        text.contains("HTTP 400") && text.contains("VISSv3"),
        "{text}"
    );
}

#[test]
fn a_missing_subprotocol_is_refused_only_when_required() {
    let server = start_server(&["--require-subprotocol"]);
    let cert = server.cert.clone().expect("certificate");
    let missing = wss_client(&[
        "refused",
        &server.ws_localhost(),
        "--cacert",
        &cert.to_string_lossy(),
    ]);
    let text = stdout_of(&missing);
    assert!(missing.status.success(), "{text}");
    assert!(text.contains("HTTP 400"), "{text}");
}

#[test]
fn plain_ws_is_refused_unless_insecure() {
    let secure = start_server(&[]);
    let plain_url = secure.ws_localhost().replacen("wss://", "ws://", 1);
    let refused = wss_client(&["refused", &plain_url, "--subprotocol", "VISSv3"]);
    assert!(refused.status.success(), "{}", stdout_of(&refused));

    let insecure = start_server(&["--insecure", "--simulate"]);
    assert!(insecure.ws_url.starts_with("ws://"), "{}", insecure.ws_url);
    assert!(insecure.cert.is_none());
    let served = wss_client(&["examples", &insecure.ws_url]);
    assert!(served.status.success(), "{}", stdout_of(&served));
}

#[test]
fn curl_gets_sets_and_filters_over_https() {
    let server = start_server(&["--simulate"]);
    let cert = server.cert.clone().expect("certificate");
    let cert = cert.to_string_lossy().into_owned();
    let base = server.http_localhost();
    assert!(base.starts_with("https://"), "{base}");

    let (status, body) = curl(&["--cacert", &cert, &format!("{base}/Vehicle/Speed")]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with(r#"{"data":{"path":"Vehicle.Speed","dp":{"value":""#),
        "{body}"
    );
    assert!(
        !body.contains("action") && !body.contains("requestId"),
        "{body}"
    );

    let filter = r#"filter={"variant":"paths", "parameter":"*/*/IsOpen"}"#;
    let door = format!("{base}/Vehicle/Cabin/Door");
    let (status, body) = curl(&["--cacert", &cert, "-G", &door, "--data-urlencode", filter]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Vehicle.Cabin.Door.Row1.DriverSide.IsOpen"),
        "{body}"
    );
    assert!(body.starts_with(r#"{"data":["#), "{body}");

    let (status, body) = curl(&[
        "--cacert",
        &cert,
        &format!("{base}/Vehicle.Cabin.Door.Row1.DriverSide.IsOpen"),
    ]);
    assert_eq!(status, 200, "dot paths: {body}");

    let mode = format!("{base}/Vehicle/Powertrain/Transmission/PerformanceMode");
    let token = "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.x";
    let set = [
        "--cacert",
        &cert,
        "-X",
        "POST",
        "-H",
        token,
        "-d",
        r#"{"value": "SPORT"}"#,
        &mode,
    ];
    let (status, body) = curl(&set);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with(r#"{"ts":""#) && body.ends_with("\"}"),
        "{body}"
    );

    let (status, body) = curl(&["--cacert", &cert, &format!("{base}/Vehicle/NoSuchSignal")]);
    assert_eq!(status, 404, "{body}");
    assert!(
        body.starts_with(r#"{"error":{"number":"404","reason":"unavailable_data""#),
        "{body}"
    );

    let bad_value = [
        "--cacert",
        &cert,
        "-X",
        "POST",
        "-d",
        r#"{"value": "WARP"}"#,
        &mode,
    ];
    let (status, body) = curl(&bad_value);
    assert_eq!(status, 400, "{body}");

    let subscribe = r#"filter={"variant":"timebased","parameter":{"period":"100"}}"#;
    let speed = format!("{base}/Vehicle/Speed");
    let (status, body) = curl(&[
        "--cacert",
        &cert,
        "-G",
        &speed,
        "--data-urlencode",
        subscribe,
    ]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not supported over HTTP"), "{body}");
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut server = start_server(&[]);
    assert!(server.pid() > 0);
    assert!(
        server.terminate(),
        "viss-server exits with success on SIGTERM"
    );
}

#[test]
fn help_names_every_setting_a_new_user_needs() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_viss-server"))
        .arg("--help")
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for flag in [
        "--vspec",
        "--json",
        "--insecure",
        "--cert",
        "--ws-port",
        "--http-port",
        "--config",
        "--simulate",
        "VISS_WS_PORT",
        "Examples:",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn bad_traffic_is_answered_or_cut_off_and_other_clients_are_served() {
    let server = start_server(&["--simulate"]);
    let cert = server.cert.clone().expect("certificate");
    let output = wss_client(&[
        "abuse",
        &server.ws_localhost(),
        "--cacert",
        &cert.to_string_lossy(),
    ]);
    let text = stdout_of(&output);
    assert!(output.status.success(), "{text}");
    for check in [
        "PASS invalid JSON",
        "PASS binary frame",
        "PASS 10 MB frame",
        "PASS bystander served",
    ] {
        assert!(text.contains(check), "missing `{check}` in:\n{text}");
    }
    // The server survived: a fresh connection runs the examples.
    let again = wss_client(&[
        "examples",
        &server.ws_localhost(),
        "--cacert",
        &cert.to_string_lossy(),
    ]);
    assert!(again.status.success(), "{}", stdout_of(&again));
}

/// 200 concurrent connections (kept under the common 1,024 open-file limit of CI runners;
/// `viss-bench connections --count 1000` runs the full figure).
#[test]
fn many_connections_each_get_their_subscription_events() {
    let server = start_server(&["--simulate"]);
    let cert = server.cert.clone().expect("certificate");
    let cert = cert.to_string_lossy();
    let output = wss_client(&[
        "many",
        &server.ws_localhost(),
        "--cacert",
        &cert,
        "--count",
        "200",
    ]);
    let text = stdout_of(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("PASS 200 connections got events"), "{text}");
}

/// The tree is loaded on a thread of its own and the memory that loading used is given back
/// (src/tree_input.rs). Measured on the standard tree with every transport on and one worker
/// thread (each further worker adds its stack and malloc arena): 1.5 MB of heap and
/// anonymous mappings at idle (2.0 MB before the tree kept its cold metadata packed and its
/// path index stopped copying the paths), against 3.6 MB when the tree was loaded on the
/// main thread, whose heap kept the holes that loading left between the tree's blocks, and
/// 2.6 MB when the loaded tree was freed on the main thread, whose cache of free blocks then
/// kept about 730 KB of the loading arena's pages resident.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_idle_server_gives_back_the_memory_it_loaded_its_tree_with() {
    let server = start_server_with_env(&[], &[("TOKIO_WORKER_THREADS", "1")]);
    let smaps = std::fs::read_to_string(format!("/proc/{}/smaps", server.pid()))
        .expect("the server's /proc/PID/smaps");
    let heap_kib = private_heap_kib(&smaps);
    eprintln!("idle heap and anonymous mappings: {heap_kib} KiB");
    assert!(
        heap_kib < 1_800,
        "idle heap and anonymous mappings hold {heap_kib} KiB"
    );
}

/// Resident KiB of the heap and the anonymous mappings (malloc arenas, large blocks, thread
/// stacks), not counting the main stack or pages of mapped files.
fn private_heap_kib(smaps: &str) -> u64 {
    let mut counted = false;
    let mut total = 0;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            // a mapping's header: range, perms, offset, device, inode, [path]
            let path = fields.nth(4);
            counted = matches!(path, None | Some("[heap]"));
        } else if counted && first == "Rss:" {
            total += fields.next().and_then(|kib| kib.parse().ok()).unwrap_or(0);
        }
    }
    total
}
