//! Consent (CORE §9): the external consent framework (ECF) interface and a file-backed
//! consent store that implements it.
//!
//! The ATS asks the ECF for a decision on (vehicle, purpose, client context). The file
//! store answers from a JSON file an owner's tool (or a person) edits; a question it has no
//! decision for is `NOT_SET` and is written to the file's `asks` list, so the ECF side sees
//! what to decide. The file is read at every question: a decision takes effect at once, and
//! a decision removed again is consent withdrawn (`NOT_SET`).
//!
//! ```json
//! {"decisions": [{"vin": "WVW..", "purpose": "trip-log", "context": "Owner+Third party+Cloud",
//!                 "consent": "YES"}],
//!  "asks": [...]}
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

/// What a consent decision is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Empty when the token names no vehicle.
    pub vin: String,
    pub purpose: String,
    pub context: String,
}

/// The ECF interface (CORE §9.1): the ATS asks, the framework answers.
pub trait ConsentFramework: Send + Sync {
    fn ask(&self, question: &Question) -> Result<Consent, String>;
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    #[serde(default)]
    decisions: Vec<Decision>,
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

/// The built-in consent store: one JSON file.
#[derive(Debug)]
pub struct FileConsentStore {
    path: PathBuf,
    /// One question at a time, so two asks do not overwrite each other's `asks` entry.
    lock: Mutex<()>,
}

impl FileConsentStore {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    fn read(&self) -> Result<StoreFile, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|error| format!("consent store {}: {error}", self.path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(StoreFile::default()),
            Err(error) => Err(format!("cannot read {}: {error}", self.path.display())),
        }
    }

    fn write(&self, file: &StoreFile) -> Result<(), String> {
        let text = serde_json::to_vec_pretty(file).map_err(|error| error.to_string())?;
        // Written beside and renamed over, so a reader never sees half a file.
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, &self.path))
            .map_err(|error| format!("cannot write {}: {error}", self.path.display()))
    }
}

impl ConsentFramework for FileConsentStore {
    fn ask(&self, question: &Question) -> Result<Consent, String> {
        let _one_at_a_time = self.lock.lock();
        let mut file = self.read()?;
        if let Some(decision) = file
            .decisions
            .iter()
            .find(|decision| decision.question == *question)
        {
            return Ok(decision.consent);
        }
        if !file.asks.contains(question) {
            if file.asks.len() >= MAX_ASKS {
                file.asks.remove(0);
            }
            file.asks.push(question.clone());
            self.write(&file)?;
        }
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
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("written")).expect("JSON");
        assert_eq!(file["asks"].as_array().map(Vec::len), Some(1), "{file}");
        let decided = serde_json::json!({"decisions": [
            {"vin": "VIN1", "purpose": "trip-log", "context": "Owner+Third party+Cloud",
             "consent": "IN_VEHICLE"}]});
        std::fs::write(&path, decided.to_string()).expect("write");
        assert_eq!(store.ask(&question()), Ok(Consent::InVehicle));
        std::fs::write(&path, "{not json").expect("write");
        assert!(
            store.ask(&question()).is_err(),
            "a broken store is an error, not consent"
        );
    }
}
