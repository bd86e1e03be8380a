//! Request parsing without copying.
//!
//! The envelope is parsed with every member left as a borrowed [`RawValue`], so a member of
//! the wrong type never hides the others: the `action` and `requestId` can still be echoed
//! in the error response. Strings are borrowed from the input unless they contain escapes.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::VissError;

/// The four client actions (the fifth, `subscription`, is server-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Get,
    Set,
    Subscribe,
    Unsubscribe,
}

impl Action {
    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Set => "set",
            Self::Subscribe => "subscribe",
            Self::Unsubscribe => "unsubscribe",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "get" => Some(Self::Get),
            "set" => Some(Self::Set),
            "subscribe" => Some(Self::Subscribe),
            "unsubscribe" => Some(Self::Unsubscribe),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    action: Option<&'a RawValue>,
    #[serde(borrow, rename = "requestId")]
    request_id: Option<&'a RawValue>,
    #[serde(borrow)]
    path: Option<&'a RawValue>,
    #[serde(borrow)]
    filter: Option<&'a RawValue>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
    #[serde(borrow, rename = "subscriptionId")]
    subscription_id: Option<&'a RawValue>,
    #[serde(borrow)]
    authorization: Option<&'a RawValue>,
    #[serde(borrow)]
    dc: Option<&'a RawValue>,
}

/// A parsed request, borrowing from the input bytes.
#[derive(Debug)]
pub struct Request<'a> {
    pub action: Action,
    pub request_id: Option<Cow<'a, str>>,
    pub path: Option<Cow<'a, str>>,
    pub filter: Option<&'a RawValue>,
    pub value: Option<&'a RawValue>,
    pub subscription_id: Option<Cow<'a, str>>,
    pub authorization: Option<Cow<'a, str>>,
    pub dc: Option<Cow<'a, str>>,
}

/// A request that could not be parsed, with what is needed to answer it.
#[derive(Debug)]
pub struct Rejected<'a> {
    /// The action to echo: the request's `action` when it is one of the four client
    /// actions (an invalid value is not echoed: that would make a second invalid message).
    pub action: Option<Action>,
    pub request_id: Option<Cow<'a, str>>,
    pub error: VissError,
}

/// Parses one request message.
pub fn parse(bytes: &[u8]) -> Result<Request<'_>, Rejected<'_>> {
    from_envelope(serde_json::from_slice(bytes))
}

/// Parses one request message already known to be UTF-8 (a WebSocket text frame is checked
/// as it is read), so its strings are not checked again.
pub fn parse_str(text: &str) -> Result<Request<'_>, Rejected<'_>> {
    from_envelope(serde_json::from_str(text))
}

fn from_envelope(
    envelope: Result<Envelope<'_>, serde_json::Error>,
) -> Result<Request<'_>, Rejected<'_>> {
    let rejected = |error| Rejected {
        action: None,
        request_id: None,
        error,
    };
    let envelope = envelope.map_err(|_| rejected(VissError::bad_request()))?;
    let action_text = optional_string(envelope.action);
    // A requestId that is not a string cannot be echoed (the schema types it string).
    let request_id = optional_string(envelope.request_id);
    let request_id = match request_id {
        Ok(id) => id,
        Err(()) => {
            let action = action_text
                .ok()
                .flatten()
                .and_then(|text| Action::parse(&text));
            return Err(Rejected {
                action,
                request_id: None,
                error: VissError::bad_request(),
            });
        }
    };
    let action = match action_text {
        Ok(Some(text)) => match Action::parse(&text) {
            Some(action) => action,
            None => {
                return Err(Rejected {
                    action: None,
                    request_id,
                    error: VissError::InvalidAction,
                });
            }
        },
        _ => {
            return Err(Rejected {
                action: None,
                request_id,
                error: VissError::InvalidAction,
            });
        }
    };
    let fail = |error| Rejected {
        action: Some(action),
        request_id: request_id.clone(),
        error,
    };
    let path = optional_string(envelope.path).map_err(|()| fail(VissError::InvalidPath))?;
    let subscription_id =
        optional_string(envelope.subscription_id).map_err(|()| fail(VissError::bad_request()))?;
    let authorization =
        optional_string(envelope.authorization).map_err(|()| fail(VissError::bad_request()))?;
    let dc = optional_string(envelope.dc).map_err(|()| fail(VissError::bad_request()))?;
    Ok(Request {
        action,
        request_id,
        path,
        filter: envelope.filter,
        value: envelope.value,
        subscription_id,
        authorization,
        dc,
    })
}

/// A member that must be a JSON string when present.
fn optional_string(raw: Option<&RawValue>) -> Result<Option<Cow<'_, str>>, ()> {
    match raw {
        None => Ok(None),
        Some(raw) => string_of(raw).map(Some).ok_or(()),
    }
}

/// The string inside a raw JSON value, borrowed when it has no escapes.
pub fn string_of(raw: &RawValue) -> Option<Cow<'_, str>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    serde_json::from_str::<Text<'_>>(raw.get())
        .map(|text| text.0)
        .ok()
}

/// Checks a request `path`: non-empty segments, `.` or `/` delimited, no wildcard.
pub fn check_path(path: &str) -> Result<(), VissError> {
    let well_formed = !path.is_empty()
        && !path.contains('*')
        && path.split(['.', '/']).all(|segment| !segment.is_empty());
    if well_formed {
        Ok(())
    } else {
        Err(VissError::InvalidPath)
    }
}
