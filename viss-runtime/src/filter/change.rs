//! `change`: an event when the trigger signal changed as specified (CORE §7.5).
//!
//! # Which "previous" value
//! CORE says "since last capture", TRANSPORT §5.1.2.3.4 "between two sequential captures"
//! (§18-Q5). This engine compares each new sample with the **previous sample** of the
//! trigger signal (the one captured just before it, whether or not it was reported), which
//! is the TRANSPORT wording and the reference server's behaviour, and the only reading
//! under which `gt`/`0` fires on every false→true edge of a boolean. The reference for the
//! first sample after subscribing is the value current at subscribe time. Consequence: a
//! slow drift of many small steps never fires `gt 10`.
//!
//! Numbers: event when `(current − previous) OP diff`. Booleans (false = 0, true = 1) and
//! strings (equal = 0, different = 1 for `ne`/`eq`) accept only `diff` `"0"`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{LogicOp, numeric_member};
use crate::error::VissError;
use crate::tree::{DataType, ScalarType};
use crate::value::Value;

/// A parsed change filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeFilter {
    pub op: LogicOp,
    pub diff: f64,
}

#[derive(Deserialize)]
struct RawChange<'a> {
    #[serde(borrow, rename = "logic-op")]
    logic_op: Option<Cow<'a, str>>,
    #[serde(borrow)]
    diff: Option<Cow<'a, str>>,
}

impl ChangeFilter {
    /// Parses `{"logic-op":OP,"diff":"D"}`.
    pub fn parse(raw: &RawValue) -> Result<Self, VissError> {
        let change: RawChange<'_> =
            serde_json::from_str(raw.get()).map_err(|_| VissError::InvalidFilter)?;
        let (Some(op), Some(diff)) = (change.logic_op, change.diff) else {
            return Err(VissError::InvalidFilter);
        };
        Ok(Self {
            op: LogicOp::parse(&op)?,
            diff: numeric_member(&diff)?,
        })
    }

    /// Checks that the trigger signal's datatype can be compared this way.
    pub fn check_datatype(&self, datatype: Option<&DataType>) -> Result<(), VissError> {
        match datatype {
            Some(DataType::Scalar(scalar)) if scalar.is_numeric() => Ok(()),
            Some(DataType::Scalar(ScalarType::Boolean)) if self.diff == 0.0 => Ok(()),
            Some(DataType::Scalar(ScalarType::String))
                if self.diff == 0.0 && matches!(self.op, LogicOp::Ne | LogicOp::Eq) =>
            {
                Ok(())
            }
            Some(DataType::Scalar(ScalarType::Boolean | ScalarType::String)) => {
                Err(VissError::InvalidFilter)
            }
            _ => Err(VissError::IncorrectDataType),
        }
    }

    /// True when going from `previous` to `current` is a change this filter reports.
    pub fn fires(&self, previous: &Value, current: &Value) -> bool {
        let delta = match (previous, current) {
            (Value::Bool(before), Value::Bool(after)) => {
                f64::from(u8::from(*after)) - f64::from(u8::from(*before))
            }
            (Value::String(before), Value::String(after)) => f64::from(u8::from(before != after)),
            _ => match (previous.as_f64(), current.as_f64()) {
                (Some(before), Some(after)) => after - before,
                _ => return false,
            },
        };
        self.op.holds(delta, self.diff)
    }
}
