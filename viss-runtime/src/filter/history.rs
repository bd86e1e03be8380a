//! `history`: recorded samples of the last `PnDTnHnMnS` (CORE §7.2).
//!
//! Samples are recorded per signal by the store (see [`crate::store::HistoryConfig`]); a
//! history read returns those captured in `[now − period, now]`, **excluding the current
//! value**, and `404 unavailable_data` when there are none. Without a recorder configured
//! the variant is answered `404 "Unsupported feature"`.

use jiff::SignedDuration;
use serde_json::value::RawValue;

use crate::error::VissError;

/// Parses the parameter string, e.g. `"P2DT12H"`.
pub fn parse_parameter(raw: &RawValue) -> Result<SignedDuration, VissError> {
    let text = crate::request::string_of(raw).ok_or(VissError::InvalidFilter)?;
    parse_duration(&text).ok_or(VissError::InvalidFilter)
}

/// Parses ISO 8601 `PnDTnHnMnS` (days < 999, seconds may have a fraction, at least one
/// component, no years/months/weeks).
pub fn parse_duration(text: &str) -> Option<SignedDuration> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    let mut seconds = 0.0_f64;
    let mut components = 0;
    if !date.is_empty() {
        let days_text = date.strip_suffix('D')?;
        if !is_unsigned_decimal(days_text, false) {
            return None;
        }
        let days: u32 = days_text.parse().ok()?;
        if days >= 999 {
            return None;
        }
        seconds += f64::from(days) * 86_400.0;
        components += 1;
    }
    if let Some(mut time) = time {
        if time.is_empty() {
            return None;
        }
        for (unit, scale, fraction_allowed) in
            [('H', 3600.0, false), ('M', 60.0, false), ('S', 1.0, true)]
        {
            let Some(end) = time.find(unit) else { continue };
            let number = &time[..end];
            if !is_unsigned_decimal(number, fraction_allowed) {
                return None;
            }
            seconds += number.parse::<f64>().ok()? * scale;
            components += 1;
            time = &time[end + 1..];
        }
        if !time.is_empty() {
            return None;
        }
    }
    if components == 0 {
        return None;
    }
    // Hours, minutes and seconds are unbounded in the grammar: too large is invalid, not a panic.
    SignedDuration::try_from_secs_f64(seconds).ok()
}

/// Digits, optionally (`fraction_allowed`) followed by `.` and more digits.
fn is_unsigned_decimal(text: &str, fraction_allowed: bool) -> bool {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) if fraction_allowed => (whole, Some(fraction)),
        Some(_) => return false,
        None => (text, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use jiff::SignedDuration;

    #[test]
    fn iso_durations_days_to_seconds() {
        let hours = |hours: i64| Some(SignedDuration::from_hours(hours));
        assert_eq!(parse_duration("P2DT12H"), hours(60));
        assert_eq!(parse_duration("PT30M"), Some(SignedDuration::from_mins(30)));
        assert_eq!(parse_duration("P1D"), hours(24));
        assert_eq!(
            parse_duration("PT0.5S"),
            Some(SignedDuration::from_millis(500))
        );
        assert_eq!(
            parse_duration("P998DT23H59M59S").map(|d| d.as_secs()),
            Some(998 * 86_400 + 86_399)
        );
        for bad in [
            "", "P", "PT", "P999D", "P1W", "P1Y", "P1M", "PT1H1H", "PT1S1M", "PT.5S", "PT1.S",
            "P-1D", "PT1,5S", "2DT1H",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
