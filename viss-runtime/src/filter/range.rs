//! `range`: an event when the trigger signal's value satisfies one or two boundaries
//! (CORE §7.4). Level-triggered: every new sample that satisfies the condition gives an
//! event (§18-Q4). With two boundaries the first may carry `combination-op` `AND`
//! (default) or `OR`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{LogicOp, numeric_member};
use crate::error::VissError;
use crate::protocol::Version;

/// One `value OP boundary` test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Boundary {
    pub op: LogicOp,
    pub boundary: f64,
}

/// How two boundaries combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combination {
    And,
    Or,
}

/// A parsed range filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RangeFilter {
    pub first: Boundary,
    pub second: Option<(Combination, Boundary)>,
}

#[derive(Deserialize)]
struct RawBoundary<'a> {
    #[serde(borrow, rename = "logic-op")]
    logic_op: Option<Cow<'a, str>>,
    /// VISSv2's name of `logic-op`.
    #[serde(borrow, rename = "boundary-op")]
    boundary_op: Option<Cow<'a, str>>,
    #[serde(borrow)]
    boundary: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "combination-op")]
    combination_op: Option<Cow<'a, str>>,
}

impl RawBoundary<'_> {
    fn boundary(&self, version: Version) -> Result<Boundary, VissError> {
        let op = match (version, &self.logic_op, &self.boundary_op) {
            (_, Some(op), None) | (Version::V2, None, Some(op)) => op,
            _ => return Err(VissError::InvalidFilter),
        };
        let Some(boundary) = &self.boundary else {
            return Err(VissError::InvalidFilter);
        };
        Ok(Boundary {
            op: LogicOp::parse(op)?,
            boundary: numeric_member(boundary)?,
        })
    }
}

impl RangeFilter {
    /// Parses one boundary object or an array of exactly two (VISSv2 names the operator
    /// `boundary-op`).
    pub fn parse(raw: &RawValue, version: Version) -> Result<Self, VissError> {
        let text = raw.get();
        if text.starts_with('{') {
            let single: RawBoundary<'_> =
                serde_json::from_str(text).map_err(|_| VissError::InvalidFilter)?;
            return Ok(Self {
                first: single.boundary(version)?,
                second: None,
            });
        }
        let pair: Vec<RawBoundary<'_>> =
            serde_json::from_str(text).map_err(|_| VissError::InvalidFilter)?;
        let [first, second] = pair.as_slice() else {
            return Err(VissError::InvalidFilter);
        };
        let combination = match first.combination_op.as_deref() {
            None | Some("AND") => Combination::And,
            Some("OR") => Combination::Or,
            Some(_) => return Err(VissError::InvalidFilter),
        };
        Ok(Self {
            first: first.boundary(version)?,
            second: Some((combination, second.boundary(version)?)),
        })
    }

    /// True when `value` satisfies the filter.
    pub fn matches(&self, value: f64) -> bool {
        let first = self.first.op.holds(value, self.first.boundary);
        match self.second {
            None => first,
            Some((Combination::And, second)) => first && second.op.holds(value, second.boundary),
            Some((Combination::Or, second)) => first || second.op.holds(value, second.boundary),
        }
    }
}
