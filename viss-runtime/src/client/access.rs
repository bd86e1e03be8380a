//! A client's side of the access-control dialogues (CORE §8.3), as `viss-auth` and VISSR
//! speak them (viss-core.md §9.11): the access grant server (AGTS) turns the client's proof
//! of identity into an access grant token (AGT), the access token server (ATS) turns an
//! AGT and a purpose into an access token (AT) that the VISS server accepts.
//!
//! ```text
//! let access = AccessControl::new("https://auth:7443/agts", "https://auth:7443/ats", "Owner+Third party+Cloud");
//! let agt = access.grant(proof).await?;              // long-term credential
//! let at = access.access_token(&agt, "cabin-comfort").await?;  // short-term credential
//! ```
//!
//! A purpose that needs the owner's consent answers with a consent session first; the
//! client asks again (`at-inquiry`) every `consent_poll` until the owner decides or
//! `consent_timeout` passes. Every refusal is a [`ClientError::Viss`] with the HTTP status
//! as its number, the VISS reason of that number, and the server's own words.

use std::time::Duration;

use serde_json::{Value as Json, json};

use super::http::HttpLink;
use super::{ClientError, tls_config, truncate};
use crate::error::ErrorKind;

/// Where the AGTS and ATS are and what this client tells them.
#[derive(Debug, Clone)]
pub struct AccessControl {
    /// The AGTS's URL (`https://host:7443/agts`).
    pub agts: String,
    /// The ATS's URL (`https://host:7443/ats`).
    pub ats: String,
    /// The role triplet asked for: `user+app+device` (`Owner+Third party+Cloud`).
    pub context: String,
    /// The vehicle the grant is for (an in-vehicle AGTS may do without).
    pub vin: Option<String>,
    /// PEM CA certificates to check the servers against (none: the system's).
    pub ca_pem: Option<Vec<u8>>,
    /// Bounds each exchange with a server.
    pub timeout: Duration,
    /// How long an access token request waits for the owner's consent.
    pub consent_timeout: Duration,
    /// How often it asks whether the owner has decided.
    pub consent_poll: Duration,
}

impl AccessControl {
    /// The servers at `agts` and `ats`, asked for `context`; the other settings default.
    pub fn new(agts: &str, ats: &str, context: &str) -> Self {
        Self {
            agts: agts.to_owned(),
            ats: ats.to_owned(),
            context: context.to_owned(),
            vin: None,
            ca_pem: None,
            timeout: Duration::from_secs(10),
            consent_timeout: Duration::from_secs(60),
            consent_poll: Duration::from_secs(1),
        }
    }

    /// An access grant token for this client, which proves who it is with `proof`.
    pub async fn grant(&self, proof: &str) -> Result<String, ClientError> {
        let mut request = json!({"context": self.context, "proof": proof});
        if let Some(vin) = &self.vin {
            request["vin"] = json!(vin);
        }
        let answer = self.post(&self.agts, &request).await?;
        text_member(&answer, "token")
    }

    /// An access token for `purpose`, given the access grant token `agt`; waits for the
    /// owner's consent where the purpose needs it.
    pub async fn access_token(&self, agt: &str, purpose: &str) -> Result<String, ClientError> {
        let request = json!({"action": "at-request", "agToken": agt, "purpose": purpose});
        let mut answer = self.post(&self.ats, &request).await?;
        let deadline = tokio::time::Instant::now() + self.consent_timeout;
        loop {
            if answer.get("aToken").is_some() {
                return text_member(&answer, "aToken");
            }
            let session = text_member(&answer, "sessionId")?;
            if tokio::time::Instant::now() + self.consent_poll > deadline {
                return Err(refusal(
                    408,
                    format!(
                        "the owner has not decided on consent to {purpose:?} within {:?}",
                        self.consent_timeout
                    ),
                ));
            }
            tokio::time::sleep(self.consent_poll).await;
            let inquiry = json!({"action": "at-inquiry", "sessionId": session});
            answer = self.post(&self.ats, &inquiry).await?;
        }
    }

    /// One dialogue step: the answer's JSON object on success (200 or 201), a refusal
    /// otherwise.
    async fn post(&self, url: &str, request: &Json) -> Result<Json, ClientError> {
        let tls = url
            .starts_with("https:")
            .then(|| tls_config(self.ca_pem.as_deref()))
            .transpose()?;
        let link = HttpLink::connect(url, tls, self.timeout, 1).await?;
        let exchanged = link.post_json(&request.to_string()).await;
        link.close().await;
        let (status, body) = exchanged?;
        let answer: Option<Json> = serde_json::from_str(&body).ok();
        let words = answer.as_ref().and_then(|answer| {
            let error = answer.get("error").and_then(Json::as_str);
            let refused = (answer.get("consent").and_then(Json::as_str) == Some("NO"))
                .then_some("the owner refused consent");
            error.or(refused).map(str::to_owned)
        });
        match (status.as_u16(), answer) {
            (200 | 201, Some(answer)) if words.is_none() && answer.is_object() => Ok(answer),
            (status, _) => Err(refusal(
                if status < 400 { 502 } else { status },
                words.unwrap_or_else(|| format!("{url}: {}", truncate(&body))),
            )),
        }
    }
}

/// A refusal as a VISS error: the status, the VISS reason of that number (`bad_request`
/// for 400), and the server's words.
fn refusal(status: u16, description: String) -> ClientError {
    let number = status.to_string();
    let reason = ErrorKind::ALL
        .iter()
        .find(|kind| kind.number() == number)
        .map_or("service_unavailable", |kind| kind.reason());
    ClientError::Viss {
        number,
        reason: reason.to_owned(),
        description,
    }
}

fn text_member(answer: &Json, name: &str) -> Result<String, ClientError> {
    match answer.get(name).and_then(Json::as_str) {
        Some(text) if !text.is_empty() => Ok(text.to_owned()),
        _ => Err(ClientError::Protocol(format!(
            "no {name} in {}",
            truncate(&answer.to_string())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;
    use crate::client::ClientError;

    #[test]
    fn a_refusal_carries_the_status_its_reason_and_the_servers_words() {
        for (status, reason) in [
            (400, "bad_request"),
            (401, "invalid_token"),
            (403, "forbidden_request"),
            (404, "unavailable_data"),
            (408, "request_timeout"),
            (500, "service_unavailable"),
        ] {
            let ClientError::Viss {
                number,
                reason: got,
                description,
            } = refusal(status, "why".to_owned())
            else {
                panic!("not a VISS error");
            };
            assert_eq!(
                (number.as_str(), got.as_str(), description.as_str()),
                (status.to_string().as_str(), reason, "why")
            );
        }
    }
}
