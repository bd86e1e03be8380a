//! Subscription and read filters as typed builders (CORE §7, the v3 spellings), written as
//! the wire JSON a request embeds.

pub use crate::filter::LogicOp;
use crate::json::write_json_str;

/// How the two boundaries of a `range` filter combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combination {
    And,
    Or,
}

/// One filter, or several combined (`paths` with `timebased`, say): its wire JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    json: String,
}

impl Filter {
    /// The filter's JSON, as a request carries it.
    pub fn as_json(&self) -> &str {
        &self.json
    }

    fn variant(variant: &str, parameter: &str) -> Self {
        Self {
            json: format!("{{\"variant\":\"{variant}\",\"parameter\":{parameter}}}"),
        }
    }

    /// An event every `period_ms` milliseconds.
    pub fn timebased(period_ms: u64) -> Self {
        Self::variant("timebased", &format!("{{\"period\":\"{period_ms}\"}}"))
    }

    /// An event when the value changes by `diff` compared with `op` (`Ne`, 0: any change).
    pub fn change(op: LogicOp, diff: f64) -> Self {
        Self::variant(
            "change",
            &format!(
                "{{\"logic-op\":\"{}\",\"diff\":\"{}\"}}",
                op.as_str(),
                number(diff)
            ),
        )
    }

    /// An event while the value is within one boundary.
    pub fn range(op: LogicOp, boundary: f64) -> Self {
        Self::variant(
            "range",
            &format!(
                "{{\"logic-op\":\"{}\",\"boundary\":\"{}\"}}",
                op.as_str(),
                number(boundary)
            ),
        )
    }

    /// An event while the value is within two boundaries, combined by `combination`.
    pub fn range2(first: (LogicOp, f64), combination: Combination, second: (LogicOp, f64)) -> Self {
        let combination = match combination {
            Combination::And => "AND",
            Combination::Or => "OR",
        };
        Self::variant(
            "range",
            &format!(
                "[{{\"logic-op\":\"{}\",\"boundary\":\"{}\",\"combination-op\":\"{combination}\"}},\
                 {{\"logic-op\":\"{}\",\"boundary\":\"{}\"}}]",
                first.0.as_str(),
                number(first.1),
                second.0.as_str(),
                number(second.1)
            ),
        )
    }

    /// Curve logging: the points that keep the curve within `max_err`, `buf_size` at a time.
    pub fn curvelog(max_err: f64, buf_size: u32) -> Self {
        Self::variant(
            "curvelog",
            &format!(
                "{{\"maxerr\":\"{}\",\"bufsize\":\"{buf_size}\"}}",
                number(max_err)
            ),
        )
    }

    /// The values recorded over an ISO 8601 duration back from now (`PT10M`).
    pub fn history(period: &str) -> Self {
        let mut parameter = Vec::new();
        write_json_str(&mut parameter, period);
        Self::variant("history", &String::from_utf8_lossy(&parameter))
    }

    /// The metadata of the node and `depth` levels below it (0: the whole subtree).
    pub fn metadata(depth: u32) -> Self {
        Self::variant("metadata", &format!("\"{depth}\""))
    }

    /// Several filters in one request (`paths` with `history`, for example).
    pub fn combine(filters: &[Filter]) -> Self {
        let items: Vec<&str> = filters.iter().map(Filter::as_json).collect();
        Self {
            json: format!("[{}]", items.join(",")),
        }
    }
}

/// A number as VISS filters write it: integers without a fraction.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_written_in_v3_spellings() {
        assert_eq!(
            Filter::timebased(100).as_json(),
            r#"{"variant":"timebased","parameter":{"period":"100"}}"#
        );
        assert_eq!(
            Filter::change(LogicOp::Ne, 0.0).as_json(),
            r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#
        );
        assert_eq!(
            Filter::range2((LogicOp::Lt, 5.0), Combination::Or, (LogicOp::Gt, 10.5)).as_json(),
            r#"{"variant":"range","parameter":[{"logic-op":"lt","boundary":"5","combination-op":"OR"},{"logic-op":"gt","boundary":"10.5"}]}"#
        );
        assert_eq!(
            Filter::history("PT1H").as_json(),
            r#"{"variant":"history","parameter":"PT1H"}"#
        );
    }
}
