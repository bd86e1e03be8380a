//! Filter parsing and the combination rules (CORE §7).
//!
//! A filter is one `{"variant","parameter"}` object or an array of them. The engine accepts
//! at most one `paths` object plus at most one object of another variant (ANDed); the array
//! form is accepted on `get` too (§18-Q1), and a `paths` parameter may be a single string
//! (§18-Q2). `timebased`, `range`, `change` and `curvelog` are subscribe-only, `history` and
//! `metadata` get-only; the wrong method gives `400 bad_request "Incorrect filter"`.

pub mod change;
pub mod curvelog;
pub mod history;
pub mod metadata;
pub mod paths;
pub mod range;
pub mod timebased;

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::VissError;
use crate::protocol::Version;
use crate::request::{Action, string_of};

pub use change::ChangeFilter;
pub use curvelog::CurvelogFilter;
pub use range::RangeFilter;

/// One comparison operator of `range` and `change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl LogicOp {
    /// Every operator with its wire spelling (the v3 schema's): parsing and writing read
    /// the one table.
    const SPELLINGS: [(Self, &'static str); 6] = [
        (Self::Eq, "eq"),
        (Self::Ne, "ne"),
        (Self::Gt, "gt"),
        (Self::Gte, "gte"),
        (Self::Lt, "lt"),
        (Self::Lte, "lte"),
    ];

    fn parse(text: &str) -> Result<Self, VissError> {
        Self::SPELLINGS
            .iter()
            .find(|(_, spelling)| *spelling == text)
            .map(|(op, _)| *op)
            .ok_or(VissError::InvalidFilter)
    }

    /// The wire spelling (`"gte"`).
    pub fn as_str(self) -> &'static str {
        Self::SPELLINGS
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("eq", |(_, spelling)| spelling)
    }

    /// `left OP right`.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Self::Eq => left == right,
            Self::Ne => left != right,
            Self::Gt => left > right,
            Self::Gte => left >= right,
            Self::Lt => left < right,
            Self::Lte => left <= right,
        }
    }
}

/// A filter variant other than `paths`.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Timebased {
        period_ms: u64,
    },
    Range(RangeFilter),
    Change(ChangeFilter),
    Curvelog(CurvelogFilter),
    History(jiff::SignedDuration),
    /// Number of generations; 0 = unlimited.
    Metadata(u32),
    /// VISSv2 `static-metadata`: the whole subtree, limited to these keys (none: all).
    StaticMetadata(Vec<String>),
    /// VISSv2 `dynamic-metadata` `server_capabilities`.
    Capabilities,
}

impl Condition {
    fn allowed_with(&self, action: Action) -> bool {
        match self {
            Self::Timebased { .. } | Self::Range(_) | Self::Change(_) | Self::Curvelog(_) => {
                action == Action::Subscribe
            }
            Self::History(_) | Self::Metadata(_) | Self::StaticMetadata(_) | Self::Capabilities => {
                action == Action::Get
            }
        }
    }
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter<'a> {
    /// Relative path expressions of the `paths` variant.
    pub paths: Option<Vec<Cow<'a, str>>>,
    pub condition: Option<Condition>,
}

#[derive(Deserialize)]
struct RawFilter<'a> {
    #[serde(borrow)]
    variant: Option<&'a RawValue>,
    /// VISSv2's name of `variant`.
    #[serde(borrow, rename = "type")]
    kind: Option<&'a RawValue>,
    #[serde(borrow)]
    parameter: Option<&'a RawValue>,
}

/// Parses a filter member for `action` in `version`'s forms, enforcing the combination and
/// method rules.
pub fn parse<'a>(
    raw: &'a RawValue,
    action: Action,
    version: Version,
) -> Result<Filter<'a>, VissError> {
    let text = raw.get();
    let objects: Vec<RawFilter<'a>> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|_| VissError::InvalidFilter)?
    } else if text.starts_with('{') {
        vec![serde_json::from_str(text).map_err(|_| VissError::InvalidFilter)?]
    } else {
        return Err(VissError::InvalidFilter);
    };
    if objects.is_empty() || objects.len() > 2 {
        return Err(VissError::InvalidFilter);
    }
    let mut filter = Filter::default();
    for object in &objects {
        let variant = match (version, object.variant, object.kind) {
            (_, Some(variant), None) | (Version::V2, None, Some(variant)) => variant,
            _ => return Err(VissError::InvalidFilter),
        };
        let Some(parameter) = object.parameter else {
            return Err(VissError::InvalidFilter);
        };
        let variant = string_of(variant).ok_or(VissError::InvalidFilter)?;
        if variant == "paths" {
            if filter.paths.is_some() {
                return Err(VissError::InvalidFilter);
            }
            filter.paths = Some(paths::parse_parameter(parameter)?);
            continue;
        }
        if filter.condition.is_some() {
            return Err(VissError::InvalidFilter);
        }
        filter.condition = Some(parse_condition(&variant, parameter, version)?);
    }
    check_method(&filter, action, version)?;
    Ok(filter)
}

fn parse_condition(
    variant: &str,
    parameter: &RawValue,
    version: Version,
) -> Result<Condition, VissError> {
    Ok(match (variant, version) {
        ("static-metadata", Version::V2) => {
            Condition::StaticMetadata(metadata::parse_keys(parameter)?)
        }
        ("dynamic-metadata", Version::V2) => {
            let domain = string_of(parameter).or_else(|| single_string(parameter));
            match domain.as_deref() {
                Some("server_capabilities") => Condition::Capabilities,
                Some("samplerate" | "availability" | "validate") => {
                    return Err(VissError::UnsupportedFeature);
                }
                _ => return Err(VissError::InvalidFilter),
            }
        }
        _ => parse_v3_condition(variant, parameter, version)?,
    })
}

/// A one-element array of strings (VISSv2's WebSocket examples wrap the parameter so, A8).
fn single_string(raw: &RawValue) -> Option<Cow<'_, str>> {
    let items: Vec<&RawValue> = serde_json::from_str(raw.get()).ok()?;
    match items.as_slice() {
        [item] => string_of(item),
        _ => None,
    }
}

fn parse_v3_condition(
    variant: &str,
    parameter: &RawValue,
    version: Version,
) -> Result<Condition, VissError> {
    Ok(match variant {
        "timebased" => Condition::Timebased {
            period_ms: timebased::parse_parameter(parameter)?,
        },
        "range" => Condition::Range(RangeFilter::parse(parameter, version)?),
        "change" => Condition::Change(ChangeFilter::parse(parameter)?),
        "curvelog" => Condition::Curvelog(CurvelogFilter::parse(parameter)?),
        "history" => Condition::History(history::parse_parameter(parameter)?),
        "metadata" => Condition::Metadata(metadata::parse_parameter(parameter)?),
        _ => return Err(VissError::InvalidFilter),
    })
}

fn check_method(filter: &Filter<'_>, action: Action, version: Version) -> Result<(), VissError> {
    if let Some(condition) = &filter.condition
        && !condition.allowed_with(action)
    {
        return Err(VissError::IncorrectFilter);
    }
    if action == Action::Subscribe && filter.condition.is_none() && version == Version::V3 {
        // The filter defines the trigger; `paths` alone has none (CORE §7.8.3). VISSv2
        // subscribes without one: every new value triggers.
        return Err(VissError::InvalidFilter);
    }
    let triggers_on_first_path = matches!(
        filter.condition,
        Some(Condition::Range(_) | Condition::Change(_))
    );
    if triggers_on_first_path
        && let Some(first) = filter.paths.as_ref().and_then(|paths| paths.first())
        && first.contains('*')
    {
        return Err(VissError::IncorrectFilter);
    }
    Ok(())
}

/// Parses a numeric-string parameter member (`boundary`, `diff`).
fn numeric_member(text: &str) -> Result<f64, VissError> {
    if !crate::value::is_json_number(text) {
        return Err(VissError::IncorrectDataType);
    }
    text.parse().map_err(|_| VissError::IncorrectDataType)
}
