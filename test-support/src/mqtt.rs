//! Debian's mosquitto as the real broker of MQTT tests: a configuration of its own on a free
//! port of 127.0.0.1, plain text (the loopback only), stopped by its PID.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for mosquitto to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running mosquitto, killed when dropped.
#[derive(Debug)]
pub struct Broker {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// Starts mosquitto (`/usr/sbin/mosquitto`, from `tests/peers/install.sh`).
    ///
    /// # Panics
    /// When it is not installed or does not listen in time.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        // Run as ourselves: started as root, mosquitto would switch to its own user.
        let user = std::env::var("USER").unwrap_or_else(|_| "root".to_owned());
        let config = dir.path().join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "user {user}\nlistener {port} 127.0.0.1\nallow_anonymous true\n\
                 set_tcp_nodelay true\npersistence false\n"
            ),
        )
        .expect("the broker's configuration");
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
            .expect("mosquitto is installed (tests/peers/install.sh installs it)");
        let mut child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let deadline = Instant::now() + START_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("mosquitto did not listen on 127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
