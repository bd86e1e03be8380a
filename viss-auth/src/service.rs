//! The two dialogues of CORE §8.3, in the JSON shapes VISSR's clients speak (viss-core.md
//! §9.11), with the v3.0 audience and numeric times:
//!
//! - AGTS: `{"vin","context","proof"}` → `{"action":"agt-request","token":<AGT>}`;
//! - ATS: `{"action":"at-request","agToken","purpose"}` → `{"action":"at-request",
//!   "aToken":<AT>}`, or, when the purpose needs consent the owner has not given yet,
//!   `{"action":"at-request","sessionId","consent":"NOT_SET"}`; then
//!   `{"action":"at-inquiry","sessionId"}` → the same `NOT_SET`, `"consent":"NO"`, or the
//!   token with `"consent":"YES"|"IN_VEHICLE"`.
//!
//! Every refusal is `{"action":..,"error":<why>}` with an HTTP error status. Access grant
//! tokens are checked like the server checks access tokens: signature with the AGTS key
//! (algorithm pinned), times with leeway, audience.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use jsonwebtoken::{Algorithm, Header, Validation};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use viss_runtime::access::VISS_AUDIENCE;
use viss_runtime::access::policy::PurposeList;

use crate::clients::{Clients, hex};
use crate::consent::{Consent, ConsentFramework, Question};
use crate::keys::SigningKey;

/// Lifetimes and tolerances.
#[derive(Debug, Clone)]
pub struct Lifetimes {
    pub agt_secs: i64,
    pub at_secs: i64,
    pub leeway_secs: u64,
    /// A consent session waits this long for the owner's answer.
    pub consent_session_secs: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        // CORE: short-term AGTs live hours, ATs shorter; VISSR uses 4 h and 1 h.
        Self {
            agt_secs: 4 * 3600,
            at_secs: 3600,
            leeway_secs: 30,
            consent_session_secs: 24 * 3600,
        }
    }
}

/// Consent sessions open at once at most (the oldest is dropped).
const MAX_SESSIONS: usize = 10_000;

/// What the ecosystem manager provisions: who may ask, for which purposes, for which
/// vehicles.
#[derive(Debug, Clone, Default)]
pub struct Ecosystem {
    pub clients: Clients,
    pub purposes: PurposeList,
    /// The ecosystem's vehicles; empty = any VIN (logged at start).
    pub vins: Vec<String>,
    /// The AGTS runs in the vehicle with its clients: a grant request may omit the VIN
    /// (CORE §8.3.1; everywhere else it SHALL name one, or its tokens would open every
    /// vehicle that trusts the ATS).
    pub in_vehicle: bool,
}

/// Everything both servers need.
pub struct Service {
    pub agts_key: SigningKey,
    pub ats_key: SigningKey,
    pub ecosystem: Ecosystem,
    pub consent: Arc<dyn ConsentFramework>,
    pub lifetimes: Lifetimes,
    sessions: Mutex<HashMap<String, Pending>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("clients", &self.ecosystem.clients.clients.len())
            .field("purposes", &self.ecosystem.purposes.purposes.len())
            .field("vins", &self.ecosystem.vins.len())
            .field("consent_sessions", &self.sessions.lock().len())
            .finish_non_exhaustive()
    }
}

/// An access token request waiting for consent.
#[derive(Debug, Clone)]
struct Pending {
    agt: AgtClaims,
    purpose: String,
    expires: i64,
}

/// An answer: HTTP status and JSON body.
pub type Answer = (u16, Json);

#[derive(Debug, Deserialize)]
pub struct AgtRequest {
    vin: Option<String>,
    context: String,
    proof: String,
    /// A client public key asks for a long-term AGT (not supported).
    key: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AtRequest {
    action: String,
    #[serde(rename = "agToken")]
    ag_token: Option<String>,
    purpose: Option<String>,
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct AgtClaims {
    vin: Option<String>,
    /// The registered client the grant was issued to.
    sub: String,
    clx: String,
    exp: i64,
}

fn refuse(status: u16, action: &str, why: &str) -> Answer {
    (status, json!({"action": action, "error": why}))
}

fn random_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(hex(&bytes))
}

impl Service {
    pub fn new(
        agts_key: SigningKey,
        ats_key: SigningKey,
        ecosystem: Ecosystem,
        consent: Arc<dyn ConsentFramework>,
        lifetimes: Lifetimes,
    ) -> Self {
        Self {
            agts_key,
            ats_key,
            ecosystem,
            consent,
            lifetimes,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The AGTS (CORE §8.4.2): checks the client's proof and roles and the vehicle.
    pub fn grant(&self, request: &AgtRequest, now: Timestamp) -> Answer {
        const ACTION: &str = "agt-request";
        if request.key.is_some() {
            return refuse(
                400,
                ACTION,
                "long-term grants (a client key) are not supported",
            );
        }
        let (client, context) = match self
            .ecosystem
            .clients
            .authorise(&request.proof, &request.context)
        {
            Ok(found) => found,
            Err(why) => return refuse(401, ACTION, why),
        };
        match &request.vin {
            None if !self.ecosystem.in_vehicle => return refuse(400, ACTION, "vin is required"),
            Some(vin) if !self.ecosystem.vins.is_empty() && !self.ecosystem.vins.contains(vin) => {
                return refuse(403, ACTION, "the vehicle is not in this ecosystem");
            }
            _ => {}
        }
        let now = now.as_second();
        let Some(jti) = random_id() else {
            return refuse(503, ACTION, "no randomness for a token id");
        };
        let mut claims = json!({"iat": now, "exp": now + self.lifetimes.agt_secs,
            "sub": client.name, "clx": context, "aud": VISS_AUDIENCE, "iss": "viss-auth/agts",
            "jti": jti});
        if let Some(vin) = &request.vin {
            claims["vin"] = vin.as_str().into();
        }
        match sign(&self.agts_key, &claims) {
            Ok(token) => (201, json!({"action": ACTION, "token": token})),
            Err(why) => refuse(500, ACTION, &why),
        }
    }

    /// The ATS (CORE §8.4.3): `at-request` and `at-inquiry`.
    pub fn token(&self, request: &AtRequest, now: Timestamp) -> Answer {
        match request.action.as_str() {
            "at-request" => self.token_request(request, now),
            "at-inquiry" => self.inquiry(request, now),
            _ => refuse(400, "at-request", "action is at-request or at-inquiry"),
        }
    }

    fn token_request(&self, request: &AtRequest, now: Timestamp) -> Answer {
        const ACTION: &str = "at-request";
        let (Some(agt), Some(purpose)) = (&request.ag_token, &request.purpose) else {
            return refuse(400, ACTION, "agToken and purpose are required");
        };
        let agt = match self.check_agt(agt) {
            Ok(claims) => claims,
            Err(why) => return refuse(401, ACTION, why),
        };
        let Some(listed) = self.ecosystem.purposes.purpose(purpose) else {
            return refuse(403, ACTION, "the purpose is not in the purpose list");
        };
        if !listed
            .contexts
            .iter()
            .any(|allowed| allowed.allows(&agt.clx))
        {
            return refuse(403, ACTION, "the client context may not use this purpose");
        }
        if !listed.consent {
            return self.issue(ACTION, &agt, purpose, None, now);
        }
        let question = question(&agt, purpose);
        match self.consent.ask(&question) {
            Ok(consent) if consent.granted() => {
                self.issue(ACTION, &agt, purpose, Some(consent), now)
            }
            Ok(Consent::No) => (
                403,
                json!({"action": ACTION, "consent": "NO", "error": "the owner refused consent"}),
            ),
            Ok(_) => self.open_session(agt, purpose, now),
            Err(why) => {
                tracing::error!(error = %why, "consent framework failed");
                refuse(503, ACTION, "the consent framework cannot answer")
            }
        }
    }

    fn open_session(&self, agt: AgtClaims, purpose: &str, now: Timestamp) -> Answer {
        const ACTION: &str = "at-request";
        let Some(id) = random_id() else {
            return refuse(503, ACTION, "no randomness for a session id");
        };
        let expires = now.as_second() + self.lifetimes.consent_session_secs;
        let mut sessions = self.sessions.lock();
        sessions.retain(|_, pending| pending.expires > now.as_second());
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, pending)| pending.expires)
                .map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        let pending = Pending {
            agt,
            purpose: purpose.to_owned(),
            expires,
        };
        sessions.insert(id.clone(), pending);
        (
            201,
            json!({"action": ACTION, "sessionId": id, "consent": Consent::NotSet.as_str()}),
        )
    }

    fn inquiry(&self, request: &AtRequest, now: Timestamp) -> Answer {
        const ACTION: &str = "at-inquiry";
        let Some(id) = &request.session_id else {
            return refuse(400, ACTION, "sessionId is required");
        };
        let pending = {
            let sessions = self.sessions.lock();
            sessions
                .get(id)
                .filter(|pending| pending.expires > now.as_second())
                .cloned()
        };
        let Some(pending) = pending else {
            return refuse(404, ACTION, "404 - Not-found");
        };
        if pending.agt.exp + self.leeway() < now.as_second() {
            self.sessions.lock().remove(id);
            return refuse(401, ACTION, "the access grant token has expired");
        }
        match self.consent.ask(&question(&pending.agt, &pending.purpose)) {
            Ok(consent) if consent.granted() => {
                self.sessions.lock().remove(id);
                self.issue(ACTION, &pending.agt, &pending.purpose, Some(consent), now)
            }
            Ok(Consent::No) => {
                self.sessions.lock().remove(id);
                (403, json!({"action": ACTION, "consent": "NO"}))
            }
            Ok(_) => (
                200,
                json!({"action": ACTION, "sessionId": id, "consent": Consent::NotSet.as_str()}),
            ),
            Err(why) => {
                tracing::error!(error = %why, "consent framework failed");
                refuse(503, ACTION, "the consent framework cannot answer")
            }
        }
    }

    fn leeway(&self) -> i64 {
        i64::try_from(self.lifetimes.leeway_secs).unwrap_or(i64::MAX)
    }

    /// An access token for `purpose`: no longer than the grant it comes from.
    fn issue(
        &self,
        action: &str,
        agt: &AgtClaims,
        purpose: &str,
        consent: Option<Consent>,
        now: Timestamp,
    ) -> Answer {
        let now = now.as_second();
        let Some(jti) = random_id() else {
            return refuse(503, action, "no randomness for a token id");
        };
        let exp = (now + self.lifetimes.at_secs).min(agt.exp);
        if exp <= now {
            // A grant inside its leeway still answers, but no token is issued dead.
            return refuse(401, action, "the access grant token has expired");
        }
        let mut claims = json!({"iat": now, "exp": exp, "scp": purpose, "clx": agt.clx,
            "aud": VISS_AUDIENCE, "iss": "viss-auth/ats", "jti": jti});
        if let Some(vin) = &agt.vin {
            claims["vin"] = vin.as_str().into();
        }
        let mut answer = json!({"action": action});
        if let Some(consent) = consent {
            claims["consent"] = consent.as_str().into();
            answer["consent"] = consent.as_str().into();
        }
        match sign(&self.ats_key, &claims) {
            Ok(token) => {
                answer["aToken"] = token.into();
                (201, answer)
            }
            Err(why) => refuse(500, action, &why),
        }
    }

    fn check_agt(&self, token: &str) -> Result<AgtClaims, &'static str> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = self.lifetimes.leeway_secs;
        validation.set_audience(&[VISS_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        let data = jsonwebtoken::decode::<AgtClaims>(token, &self.agts_key.decoding, &validation)
            .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                "the access grant token has expired"
            }
            _ => "the access grant token is not valid",
        })?;
        Ok(data.claims)
    }
}

fn question(agt: &AgtClaims, purpose: &str) -> Question {
    Question {
        vin: agt.vin.clone().unwrap_or_default(),
        purpose: purpose.to_owned(),
        client: agt.sub.clone(),
        context: agt.clx.clone(),
    }
}

fn sign(key: &SigningKey, claims: &Json) -> Result<String, String> {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.name.to_owned());
    jsonwebtoken::encode(&header, claims, &key.encoding)
        .map_err(|error| format!("cannot sign a token: {error}"))
}
