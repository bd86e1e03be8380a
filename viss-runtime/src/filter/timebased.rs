//! `timebased`: an event with all addressed signals every `period` ms (CORE §7.3).
//!
//! Timers are driven by [`crate::Engine::tick`]; the first event is due one period after
//! the subscription starts (no immediate event, §18-Q6).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::VissError;

#[derive(Deserialize)]
struct Parameter<'a> {
    #[serde(borrow)]
    period: Option<&'a RawValue>,
}

/// Parses `{"period":"<ms>"}`: a positive integer in a string.
pub fn parse_parameter(raw: &RawValue) -> Result<u64, VissError> {
    let parameter: Parameter<'_> =
        serde_json::from_str(raw.get()).map_err(|_| VissError::InvalidFilter)?;
    let period = parameter.period.ok_or(VissError::InvalidFilter)?;
    let text = crate::request::string_of(period).ok_or(VissError::InvalidFilter)?;
    match text.parse::<u64>() {
        Ok(period)
            if period > 0
                && i64::try_from(period).is_ok()
                && text.bytes().all(|byte| byte.is_ascii_digit()) =>
        {
            Ok(period)
        }
        _ => Err(VissError::InvalidFilter),
    }
}
