//! A server binary under test: started on 127.0.0.1 with ports chosen by the OS, its
//! addresses read from what it prints, stopped by its PID; and curl, the HTTP peer.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Longest wait for the server to print its addresses (debug build, tree load).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server, killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub ws_url: String,
    pub http_url: String,
    /// `grpcs://127.0.0.1:<port>` (or `grpc://` without TLS), when the server serves gRPC.
    pub grpc_url: Option<String>,
    pub cert: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server `binary` with `args`, on 127.0.0.1 and free ports (a self-signed
    /// certificate, if any, in a temporary directory), and waits until it says where it
    /// listens.
    pub fn start(binary: &Path, args: &[&OsStr]) -> Server {
        Server::start_with_env(binary, args, &[])
    }

    /// [`Server::start`] with `env` set for the server (and `MALLOC_ARENA_MAX` unset).
    pub fn start_with_env(binary: &Path, args: &[&OsStr], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(binary)
            .args(args)
            .args([
                "--address",
                "127.0.0.1",
                "--ws-port",
                "0",
                "--http-port",
                "0",
                "--grpc-port",
                "0",
            ])
            .arg("--self-signed-dir")
            .arg(dir.path().join("tls"))
            .env_remove("VISS_CONFIG")
            .env_remove("MALLOC_ARENA_MAX")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{} starts: {error}", binary.display()));
        let stdout = child.stdout.take().expect("stdout piped");
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            ws_url: String::new(),
            http_url: String::new(),
            grpc_url: None,
            cert: None,
            _dir: dir,
        };
        server.read_addresses(&received);
        server
    }

    fn read_addresses(&mut self, lines: &mpsc::Receiver<String>) {
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        // The server prints its addresses in one block, written at once and ended by an
        // empty line: read to that line.
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            let line = lines
                .recv_timeout(remaining)
                .expect("the server printed its addresses in time");
            if line.trim().is_empty() && !self.ws_url.is_empty() && !self.http_url.is_empty() {
                break;
            }
            self.read_address(&line);
        }
        let tls = self._dir.path().join("tls/cert.pem");
        self.cert = tls.is_file().then_some(tls);
    }

    fn read_address(&mut self, line: &str) {
        let field = |prefix: &str| {
            line.trim()
                .strip_prefix(prefix)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
        };
        if let Some(url) = field("WebSocket:") {
            self.ws_url = url;
        }
        if let Some(url) = field("HTTP:") {
            // The line shows an example path after the base URL.
            self.http_url = url
                .find("://")
                .and_then(|scheme| url[scheme + 3..].find('/').map(|slash| scheme + 3 + slash))
                .map_or(url.clone(), |slash| url[..slash].to_owned());
        }
        if let Some(address) = field("gRPC:") {
            let scheme = if line.contains("(tls") {
                "grpcs"
            } else {
                "grpc"
            };
            self.grpc_url = Some(format!("{scheme}://{address}"));
        }
    }

    /// The URL with `localhost` (the name in the self-signed certificate).
    pub fn ws_localhost(&self) -> String {
        self.ws_url.replace("127.0.0.1", "localhost")
    }

    pub fn http_localhost(&self) -> String {
        self.http_url.replace("127.0.0.1", "localhost")
    }

    /// The gRPC URL with `localhost`, when the server serves gRPC.
    pub fn grpc_localhost(&self) -> Option<String> {
        self.grpc_url
            .as_deref()
            .map(|url| url.replace("127.0.0.1", "localhost"))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (bounded) for the exit; true when it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        assert!(sent, "kill -TERM failed");
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs curl (bounded by --max-time) and returns (status code, body).
pub fn curl(args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl is installed (tests/peers/install.sh installs it)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}
