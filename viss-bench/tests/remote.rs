//! Smoke run of `viss-bench remote` against our own server, as CI runs it: the real
//! viss-server binary and a `viss-bench echo` process side by side in one run, a few hundred
//! requests each (the measurement proper is a benchmark: `viss-bench/peers/side-by-side.sh`).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use test_support::server::Server;

fn viss_bench() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_viss-bench"))
}

/// The viss-server binary of the same build (built here when this test runs alone).
fn viss_server() -> PathBuf {
    let binary = viss_bench().with_file_name("viss-server");
    if !binary.is_file() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "-p", "viss-server", "--bin", "viss-server"])
            .current_dir(test_support::workspace_root())
            .status()
            .expect("cargo runs");
        assert!(built.success(), "cargo build -p viss-server failed");
    }
    binary
}

/// `viss-bench echo` on a free port, killed when dropped.
struct Echo {
    child: Child,
    url: String,
}

impl Echo {
    fn start() -> Echo {
        Echo::start_with(&[])
    }

    /// The echo with more arguments (`--bare`).
    fn start_with(more: &[&str]) -> Echo {
        let mut child = Command::new(viss_bench())
            .args(["echo", "--port", "0"])
            .args(more)
            .stdout(Stdio::piped())
            .spawn()
            .expect("viss-bench echo starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the echo prints its address");
        let url = line
            .trim()
            .strip_prefix("WebSocket: ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        Echo { child, url }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let tree = test_support::shared_path("vss/json/vss.json");
    let args: Vec<&OsStr> = vec![
        OsStr::new("--json"),
        tree.as_os_str(),
        OsStr::new("--insecure"),
        OsStr::new("--no-grpc"),
    ];
    Server::start(&viss_server(), &args)
}

#[test]
fn remote_measures_our_server_beside_the_echo_in_one_run() {
    let server = start_server();
    let echo = Echo::start();
    let bare = Echo::start_with(&["--bare"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let (plot, table) = (dir.path().join("cdf.svg"), dir.path().join("table.md"));
    let output = Command::new(viss_bench())
        .arg("remote")
        .arg("--target")
        .arg(format!("ws-echo={},pid={}", echo.url, echo.child.id()))
        .arg("--target")
        .arg(format!("bare-echo={},pid={}", bare.url, bare.child.id()))
        .arg("--target")
        .arg(format!(
            "viss-server={},pid={},feed=set",
            server.ws_url,
            server.pid()
        ))
        .args([
            "--baseline",
            "ws-echo",
            "--requests",
            "400",
            "--seconds",
            "5",
        ])
        .args(["--connections", "1,4", "--depth", "4", "--hold", "20"])
        .args(["--rounds", "2", "--updates", "200"])
        .arg("--plot")
        .arg(&plot)
        .arg("--markdown")
        .arg(&table)
        .output()
        .expect("viss-bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let table = std::fs::read_to_string(&table).expect("the table is written");
    let row = table
        .lines()
        .find(|line| line.starts_with("| viss-server |"))
        .unwrap_or_else(|| panic!("no viss-server row in\n{table}"));
    // target | p50 / p99 | 8 conns | 32 conns | CPU: all; 1 conn; 8 pipelined |
    // RSS (anonymous part) | KiB per connection | feed -> event p50 / p99
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let number = |cell: &str| cell.parse::<f64>().ok();
    let first = |cell: &str, separator: char| number(cell.split(separator).next()?.trim());
    let cpu = first(cells[5], ';').unwrap_or_else(|| panic!("server CPU in {row}"));
    assert!(cpu > 0.0, "{row}");
    let single_cpu = number(cells[5].split(';').nth(1).unwrap_or_default().trim());
    assert!(
        single_cpu.is_some_and(|us| us > 0.0),
        "1-connection CPU in {row}"
    );
    let rss = first(cells[6], '(').unwrap_or_else(|| panic!("idle RSS in {row}"));
    assert!(rss > 1.0, "{row}");
    let private = number(
        cells[6]
            .split('(')
            .nth(1)
            .unwrap_or_default()
            .trim_end_matches(')'),
    );
    assert!(
        private.is_some_and(|mb| mb > 0.0 && mb < rss),
        "the anonymous part of the idle RSS in {row}"
    );
    assert!(number(cells[7]).is_some(), "KiB per connection in {row}");
    // the server was fed 200 times through a set on a second connection, and each write
    // arrived as an event on the subscriber
    let feed = first(cells[8], '/').unwrap_or_else(|| panic!("feed -> event in {row}"));
    assert!(feed > 0.0, "{row}");
    assert!(stdout.contains("(n=200)"), "{stdout}");
    assert!(stdout.contains("round 2: viss-server"), "{stdout}");
    assert!(
        table.contains("| against ws-echo |") && table.contains("| viss-server | "),
        "{table}"
    );
    // every run answered: each round has four runs per target (1 and 4 connections,
    // sequential and pipelined), three targets, two rounds, each run with a CPU figure; the
    // table's load figures are the rounds' medians
    let runs = stdout
        .lines()
        .filter(|line| {
            line.split_whitespace().nth(1) == Some("conn") && line.contains("server CPU")
        })
        .count();
    assert_eq!(runs, 24, "{stdout}");
    let bare_row = table
        .lines()
        .find(|line| line.starts_with("| bare-echo |"))
        .unwrap_or_else(|| panic!("no bare-echo row in\n{table}"));
    let bare_cells: Vec<&str> = bare_row.split('|').map(str::trim).collect();
    assert!(
        first(bare_cells[5], ';').is_some_and(|us| us > 0.0),
        "the bare echo's CPU per request in {bare_row}"
    );
    assert!(table.contains("medians of 2 rounds"), "{table}");
    let svg = std::fs::read_to_string(&plot).expect("the chart is written");
    assert!(svg.contains("viss-server") && svg.contains("ws-echo"));
}

/// The bare echo speaks WebSocket to a client it did not write, and a thread whose
/// connection closed serves the next one.
#[test]
fn the_bare_echo_answers_frames_of_every_length_form_pings_and_close() {
    use tokio_tungstenite::tungstenite::{Message, connect};
    let bare = Echo::start_with(&["--bare"]);
    let socket = answers_every_frame(&bare);
    // the echo's thread ids
    let threads = || {
        std::fs::read_dir(format!("/proc/{}/task", bare.child.id()))
            .expect("the echo's threads")
            .map(|task| task.expect("a thread").file_name())
            .collect::<std::collections::BTreeSet<_>>()
    };
    // after a close the connection's thread serves the next one (the bench counts the CPU
    // time of live threads only). A connection that comes before the freed thread is back
    // waiting gets a new thread, which then waits too, so a later connection must find the
    // thread set unchanged; an echo that spawned a thread for every connection never does.
    closes(socket);
    let long = Message::text("x".repeat(300));
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let before = threads();
        let (mut other, _) = connect(bare.url.as_str()).expect("another connection");
        other.send(long.clone()).expect("sent");
        assert_eq!(other.read().expect("an answer"), long);
        let serving = threads();
        closes(other);
        if serving == before {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "every connection got a thread of its own: {before:?} then {serving:?}"
        );
    }
}

#[test]
fn the_bare_echo_on_tokio_answers_the_same_frames() {
    let bare = Echo::start_with(&["--bare", "tokio"]);
    closes(answers_every_frame(&bare));
}

type SyncSocket = tokio_tungstenite::tungstenite::WebSocket<
    tokio_tungstenite::tungstenite::stream::MaybeTlsStream<std::net::TcpStream>,
>;

/// tungstenite's own client gets back a text frame too long for a one-byte length, a
/// binary frame and a pong; the connection, still open, is returned.
fn answers_every_frame(echo: &Echo) -> SyncSocket {
    use tokio_tungstenite::tungstenite::{Message, connect};
    let (mut socket, _) = connect(echo.url.as_str()).expect("the bare echo shakes hands");
    for message in [
        Message::text("short"),
        Message::text("x".repeat(300)),
        Message::binary(vec![1u8, 2, 3]),
    ] {
        socket.send(message.clone()).expect("sent");
        assert_eq!(socket.read().expect("an answer"), message);
    }
    socket.send(Message::Ping(vec![7u8].into())).expect("sent");
    assert_eq!(
        socket.read().expect("an answer"),
        Message::Pong(vec![7u8].into())
    );
    socket
}

/// A close frame ends the connection: the echo closes it without answering (waited for 5 s
/// at most).
fn closes(mut socket: SyncSocket) {
    use std::io::ErrorKind;
    use tokio_tungstenite::tungstenite::Error;
    use tokio_tungstenite::tungstenite::stream::MaybeTlsStream;
    if let MaybeTlsStream::Plain(stream) = socket.get_mut() {
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("a read timeout");
    }
    socket.close(None).expect("close sent");
    match socket.read() {
        Err(Error::Io(error))
            if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
        {
            panic!("the connection outlived the close frame")
        }
        Err(_) => {}
        Ok(message) => panic!("a close answered with {message:?}"),
    }
}

#[test]
fn a_path_the_server_does_not_have_stops_the_run_with_the_servers_answer() {
    let server = start_server();
    let output = Command::new(viss_bench())
        .arg("remote")
        .arg("--target")
        .arg(format!("ours={}", server.ws_url))
        .args(["--path", "Vehicle.NoSuchSignal", "--requests", "10"])
        .output()
        .expect("viss-bench runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("ours: the get of Vehicle.NoSuchSignal was answered with")
            && stderr.contains("404"),
        "{stderr}"
    );
}
