//! Debian's mosquitto as the real broker of MQTT tests: a configuration of its own on a free
//! port of 127.0.0.1, plain text (the loopback only), anonymous or with one user and password
//! (made with Debian's `mosquitto_passwd`), stopped by its PID.

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
    /// The one user, when the broker refuses anonymous clients.
    pub user: Option<BrokerUser>,
    /// Where mosquitto logs every packet it receives and sends ([`Broker::start_logged`]).
    log: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

/// The user a password broker knows, and where its password is (for `--mqtt-password-file`).
#[derive(Debug, Clone)]
pub struct BrokerUser {
    pub name: String,
    pub password: String,
    pub password_file: PathBuf,
}

impl Broker {
    /// Starts mosquitto (`/usr/sbin/mosquitto`, from `tests/peers/install.sh`), open to
    /// anonymous clients.
    ///
    /// # Panics
    /// When it is not installed or does not listen in time.
    pub fn start() -> Self {
        Self::launch(None, false)
    }

    /// Starts mosquitto open to anonymous clients, logging every packet (`log_type all`):
    /// [`Broker::log`] tells in which order it received what.
    ///
    /// # Panics
    /// As [`Broker::start`].
    pub fn start_logged() -> Self {
        Self::launch(None, true)
    }

    /// What mosquitto has logged so far (empty unless [`Broker::start_logged`]).
    ///
    /// # Panics
    /// When the log cannot be read.
    pub fn log(&self) -> String {
        self.log.as_ref().map_or_else(String::new, |path| {
            std::fs::read_to_string(path).expect("mosquitto's log")
        })
    }

    /// Starts mosquitto refusing every client but user `name` with `password`.
    ///
    /// # Panics
    /// As [`Broker::start`], and when `mosquitto_passwd` fails.
    pub fn start_with_password(name: &str, password: &str) -> Self {
        Self::launch(Some((name, password)), false)
    }

    fn launch(user: Option<(&str, &str)>, logged: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let user = user.map(|(name, password)| add_user(&dir, name, password));
        // Run as ourselves: started as root, mosquitto would switch to its own user.
        let os_user = std::env::var("USER").unwrap_or_else(|_| "root".to_owned());
        let config = dir.path().join("mosquitto.conf");
        let access = match &user {
            None => "allow_anonymous true\n".to_owned(),
            Some(_) => format!(
                "allow_anonymous false\npassword_file {}\n",
                dir.path().join("passwd").display()
            ),
        };
        let log = logged.then(|| dir.path().join("mosquitto.log"));
        let logging = log.as_ref().map_or_else(String::new, |path| {
            format!("log_dest file {}\nlog_type all\n", path.display())
        });
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
            .expect("mosquitto is installed (tests/peers/install.sh installs it)");
        // mosquitto takes a port number, not 0: a free one is picked, and picked again if
        // something else took it before mosquitto could (mosquitto then exits).
        let mut attempts = 0;
        let (child, port) = loop {
            attempts += 1;
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free port")
                .port();
            std::fs::write(
                &config,
                format!(
                    "user {os_user}\nlistener {port} 127.0.0.1\n{access}\
                     set_tcp_nodelay true\npersistence false\n{logging}"
                ),
            )
            .expect("the broker's configuration");
            let child = Command::new(&binary)
                .arg("-c")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mosquitto starts");
            match await_listening(child, port) {
                Ok(child) => break (child, port),
                Err(exited) if attempts < 3 => eprintln!("mosquitto on {port}: {exited}"),
                Err(exited) => panic!("mosquitto did not listen on 127.0.0.1:{port}: {exited}"),
            }
        };
        Self {
            child,
            port,
            user,
            log,
            _dir: dir,
        }
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// `mqtt://<user>:<password>@127.0.0.1:<port>` (the plain URL for an anonymous broker).
    pub fn url_with_credentials(&self) -> String {
        match &self.user {
            Some(user) => format!(
                "mqtt://{}:{}@127.0.0.1:{}",
                user.name, user.password, self.port
            ),
            None => self.url(),
        }
    }
}

/// `child` once it accepts connections on 127.0.0.1:`port`; stopped, and why, when it exits
/// first or is not listening within [`START_TIMEOUT`].
fn await_listening(mut child: Child, port: u16) -> Result<Child, String> {
    let deadline = Instant::now() + START_TIMEOUT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = match child.try_wait() {
            Ok(Some(status)) => Some(format!("exited ({status})")),
            _ => (Instant::now() > deadline).then(|| "not listening in time".to_owned()),
        };
        if let Some(why) = exited {
            let _ = child.kill();
            let _ = child.wait();
            return Err(why);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(child)
}

/// Writes `passwd` (hashed by `mosquitto_passwd`) and `password` (the plain password, for the
/// server's `--mqtt-password-file`) into `dir`.
fn add_user(dir: &tempfile::TempDir, name: &str, password: &str) -> BrokerUser {
    let tool = ["/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .expect("mosquitto_passwd is installed (Debian's mosquitto package)");
    let status = Command::new(tool)
        .args(["-b", "-c"])
        .arg(dir.path().join("passwd"))
        .args([name, password])
        .stdout(Stdio::null())
        .status()
        .expect("mosquitto_passwd runs");
    assert!(status.success(), "mosquitto_passwd failed");
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, password).expect("the password file");
    BrokerUser {
        name: name.to_owned(),
        password: password.to_owned(),
        password_file,
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
