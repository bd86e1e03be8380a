//! Consent (CORE §9): the external consent framework (ECF) interface and a file-backed
//! consent store that implements it.
//!
//! The ATS asks the ECF for a decision on (vehicle, purpose, client, client context). The
//! file store answers from a decisions file the owner's tool (or a person) writes and the
//! ATS only reads, at every question: a decision takes effect at once, and a decision
//! removed again is `NOT_SET` for new token requests (tokens already issued stay valid
//! until they expire). A question without a decision is `NOT_SET` and is recorded in a
//! second file the ATS owns (`<decisions>.asks.json`), so the ECF side sees what to decide
//! and the ATS never rewrites the owner's file.
//!
//! ```json
//! {"decisions": [{"vin": "WVW..", "purpose": "trip-log", "client": "fleet-app",
//!                 "context": "Owner+Third party+Cloud", "consent": "YES"}]}
//! ```

use std::path::PathBuf;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// CORE §9's consent states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Consent {
    /// Not decided: the ATS may not issue a token yet.
    NotSet,
    /// Refused.
    No,
    /// Granted; the data must stay in the vehicle.
    InVehicle,
    /// Granted; the data may leave the vehicle.
    Yes,
}

impl Consent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotSet => "NOT_SET",
            Self::No => "NO",
            Self::InVehicle => "IN_VEHICLE",
            Self::Yes => "YES",
        }
    }

    pub fn granted(self) -> bool {
        matches!(self, Self::Yes | Self::InVehicle)
    }
}

/// What a consent decision is about: this vehicle's data, for this purpose, to this client
/// acting in this context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub vin: String,
    pub purpose: String,
    /// The registered client (the grant's `sub`).
    pub client: String,
    pub context: String,
}

/// The ECF interface (CORE §9.1): the ATS asks, the framework answers.
pub trait ConsentFramework: Send + Sync {
    fn ask(&self, question: &Question) -> Result<Consent, String>;
}

#[derive(Debug, Default, Deserialize)]
struct DecisionsFile {
    #[serde(default)]
    decisions: Vec<Decision>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AsksFile {
    #[serde(default)]
    asks: Vec<Question>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Decision {
    #[serde(flatten)]
    question: Question,
    consent: Consent,
}

/// Questions kept waiting in the file at most (the oldest goes).
const MAX_ASKS: usize = 1000;

/// The built-in consent store: the owner's decisions file, and the ATS's own file of open
/// questions beside it.
#[derive(Debug)]
pub struct FileConsentStore {
    decisions: PathBuf,
    asks: PathBuf,
    /// One question at a time, so two asks do not overwrite each other's entry.
    lock: Mutex<()>,
}

impl FileConsentStore {
    pub fn new(decisions: PathBuf) -> Self {
        let asks = decisions.with_extension("asks.json");
        Self {
            decisions,
            asks,
            lock: Mutex::new(()),
        }
    }

    /// Where the open questions are written.
    pub fn asks_file(&self) -> &std::path::Path {
        &self.asks
    }

    fn read<T: Default + for<'de> Deserialize<'de>>(path: &std::path::Path) -> Result<T, String> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|error| format!("consent store {}: {error}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
            Err(error) => Err(format!("cannot read {}: {error}", path.display())),
        }
    }

    fn record(&self, question: &Question) -> Result<(), String> {
        let mut file: AsksFile = Self::read(&self.asks)?;
        if file.asks.contains(question) {
            return Ok(());
        }
        if file.asks.len() >= MAX_ASKS {
            file.asks.remove(0);
        }
        file.asks.push(question.clone());
        let text = serde_json::to_vec_pretty(&file).map_err(|error| error.to_string())?;
        // A new file renamed over (0600: it names vehicles and clients), so a reader never
        // sees half of one.
        viss_runtime::server::tls::write_private(&self.asks, &text)
            .map_err(|error| format!("cannot write {}: {error}", self.asks.display()))
    }
}

impl ConsentFramework for FileConsentStore {
    fn ask(&self, question: &Question) -> Result<Consent, String> {
        let _one_at_a_time = self.lock.lock();
        let decisions: DecisionsFile = Self::read(&self.decisions)?;
        if let Some(decision) = decisions
            .decisions
            .iter()
            .find(|decision| decision.question == *question)
        {
            return Ok(decision.consent);
        }
        self.record(question)?;
        Ok(Consent::NotSet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question() -> Question {
        Question {
            vin: "VIN1".into(),
            purpose: "trip-log".into(),
            client: "app".into(),
            context: "Owner+Third party+Cloud".into(),
        }
    }

    #[test]
    fn an_undecided_question_is_recorded_and_a_decision_read_at_once() {
        let dir = std::env::temp_dir().join(format!("viss-consent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("consent.json");
        let _ = std::fs::remove_file(&path);
        let store = FileConsentStore::new(path.clone());
        assert_eq!(store.ask(&question()), Ok(Consent::NotSet));
        assert_eq!(store.ask(&question()), Ok(Consent::NotSet));
        assert!(
            !path.exists(),
            "the owner's file is never written by the ATS"
        );
        let asks = store.asks_file().to_owned();
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&asks).expect("written")).expect("JSON");
        assert_eq!(file["asks"].as_array().map(Vec::len), Some(1), "{file}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&asks).expect("asks").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let decided = serde_json::json!({"decisions": [
            {"vin": "VIN1", "purpose": "trip-log", "client": "app",
             "context": "Owner+Third party+Cloud", "consent": "IN_VEHICLE"}]});
        std::fs::write(&path, decided.to_string()).expect("write");
        assert_eq!(store.ask(&question()), Ok(Consent::InVehicle));
        std::fs::write(&path, "{not json").expect("write");
        assert!(
            store.ask(&question()).is_err(),
            "a broken store is an error, not consent"
        );
    }
}
