//! Struct values checked against their struct type (CORE §4.2): every member known, none
//! missing, each of its member's datatype and within its `min`/`max`/`allowed`; nested
//! structs and struct arrays alike. A failure is `400 invalid_data` ("Incorrect data type"
//! for the shape, "Data value outside limit" for a limit).
//!
//! The same check covers both ways in: a `set`'s members arrive as wire text (`"12"`), a
//! feeder's typed (`Value::UInt(12)`).
//!
//! The checked value carries its members typed and in declaration order, so every later
//! reader (`get`, events, a typed provider) sees one canonical form.

use crate::error::VissError;
use crate::tree::{DataType, ScalarType, StructMember, StructType};
use crate::value::{Value, check_typed_member, parse_member};

/// Struct types nest; deeper than this is refused (VSS trees nest a few levels at most).
const MAX_DEPTH: usize = 16;

/// Checks `value` of `datatype` against the struct types `lookup` finds. Values of other
/// datatypes, and structs whose type is not known, pass through unchanged.
pub fn check<'a>(
    value: Value,
    datatype: &DataType,
    lookup: &impl Fn(&str) -> Option<&'a StructType>,
) -> Result<Value, VissError> {
    check_at(value, datatype, lookup, 0)
}

fn check_at<'a>(
    value: Value,
    datatype: &DataType,
    lookup: &impl Fn(&str) -> Option<&'a StructType>,
    depth: usize,
) -> Result<Value, VissError> {
    if depth > MAX_DEPTH {
        return Err(VissError::IncorrectDataType);
    }
    match datatype {
        DataType::Struct(name) => match lookup(name) {
            Some(struct_type) => check_struct(value, struct_type, lookup, depth),
            None => Ok(value),
        },
        DataType::StructArray(name) => match (lookup(name), value) {
            (Some(struct_type), Value::Array(items)) => items
                .into_iter()
                .map(|item| check_struct(item, struct_type, lookup, depth))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            (Some(_), _) => Err(VissError::IncorrectDataType),
            (None, value) => Ok(value),
        },
        DataType::Scalar(_) | DataType::Array(_) => Ok(value),
    }
}

fn check_struct<'a>(
    value: Value,
    struct_type: &StructType,
    lookup: &impl Fn(&str) -> Option<&'a StructType>,
    depth: usize,
) -> Result<Value, VissError> {
    let Value::Struct(mut fields) = value else {
        return Err(VissError::IncorrectDataType);
    };
    let mut checked = Vec::with_capacity(struct_type.members.len());
    for member in struct_type.members.iter() {
        let position = fields
            .iter()
            .position(|(name, _)| *name == member.name)
            .ok_or(VissError::IncorrectDataType)?;
        let (name, field) = fields.swap_remove(position);
        checked.push((name, check_member(field, member, lookup, depth)?));
    }
    if !fields.is_empty() {
        // A member the type does not have.
        return Err(VissError::IncorrectDataType);
    }
    Ok(Value::Struct(checked))
}

fn check_member<'a>(
    field: Value,
    member: &StructMember,
    lookup: &impl Fn(&str) -> Option<&'a StructType>,
    depth: usize,
) -> Result<Value, VissError> {
    match (&member.datatype, field) {
        (DataType::Scalar(scalar), field) => scalar_member(field, *scalar, member),
        (DataType::Array(scalar), Value::Array(items)) => items
            .into_iter()
            .map(|item| scalar_member(item, *scalar, member))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        (datatype @ (DataType::Struct(_) | DataType::StructArray(_)), field) => {
            check_at(field, datatype, lookup, depth + 1)
        }
        _ => Err(VissError::IncorrectDataType),
    }
}

/// A scalar member: the wire's text parsed, or a feeder's typed value checked.
fn scalar_member(
    field: Value,
    scalar: ScalarType,
    member: &StructMember,
) -> Result<Value, VissError> {
    match field {
        Value::String(text) => parse_member(&text, scalar, member),
        Value::Array(_) | Value::Struct(_) => Err(VissError::IncorrectDataType),
        typed => check_typed_member(typed, scalar, member),
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use std::borrow::Cow;

    use super::*;
    use crate::tree::{Lit, ScalarType};

    fn member(name: &'static str, datatype: DataType) -> StructMember {
        StructMember {
            name: Cow::Borrowed(name),
            datatype,
            min: None,
            max: None,
            allowed: Cow::Borrowed(&[]),
        }
    }

    fn types() -> Vec<StructType> {
        let latitude = StructMember {
            min: Some(-90.0),
            max: Some(90.0),
            ..member("Latitude", DataType::Scalar(ScalarType::Double))
        };
        let kind = StructMember {
            allowed: vec![Lit::string("HOME"), Lit::string("WORK")].into(),
            ..member("Kind", DataType::Scalar(ScalarType::String))
        };
        vec![
            StructType {
                name: "Types.Point".into(),
                members: vec![latitude].into(),
            },
            StructType {
                name: "Types.Stop".into(),
                members: vec![
                    kind,
                    member("Point", DataType::Struct("Types.Point".into())),
                ]
                .into(),
            },
        ]
    }

    fn stop(kind: &str, latitude: Value) -> Value {
        Value::Struct(vec![
            (
                "Point".into(),
                Value::Struct(vec![("Latitude".into(), latitude)]),
            ),
            ("Kind".into(), Value::String(kind.to_owned().into())),
        ])
    }

    #[test]
    fn members_are_typed_ordered_and_checked() {
        let types = types();
        let lookup = |name: &str| types.iter().find(|ty| ty.name == name);
        let datatype = DataType::Struct("Types.Stop".into());
        let checked = check(
            stop("HOME", Value::String("45.5".into())),
            &datatype,
            &lookup,
        );
        assert_eq!(
            checked.unwrap(),
            Value::Struct(vec![
                ("Kind".into(), Value::String("HOME".into())),
                (
                    "Point".into(),
                    Value::Struct(vec![("Latitude".into(), Value::Double(45.5))])
                ),
            ])
        );
        let outside = check(stop("HOME", Value::String("95".into())), &datatype, &lookup);
        assert_eq!(outside, Err(VissError::OutsideLimit));
        let not_allowed = check(stop("PUB", Value::String("1".into())), &datatype, &lookup);
        assert_eq!(not_allowed, Err(VissError::OutsideLimit));
        let wrong_type = check(
            stop("HOME", Value::String("north".into())),
            &datatype,
            &lookup,
        );
        assert_eq!(wrong_type, Err(VissError::IncorrectDataType));
        let Value::Struct(mut fields) = stop("HOME", Value::String("1".into())) else {
            unreachable!()
        };
        fields.push(("Extra".into(), Value::String("x".into())));
        let extra = check(Value::Struct(fields.clone()), &datatype, &lookup);
        assert_eq!(extra, Err(VissError::IncorrectDataType));
        fields.truncate(1);
        let missing = check(Value::Struct(fields), &datatype, &lookup);
        assert_eq!(missing, Err(VissError::IncorrectDataType));
        let array = DataType::StructArray("Types.Stop".into());
        let items = Value::Array(vec![stop("WORK", Value::String("0".into()))]);
        assert!(check(items, &array, &lookup).is_ok());
        let unknown = DataType::Struct("Types.Unknown".into());
        let anything = Value::Struct(vec![("A".into(), Value::String("b".into()))]);
        assert_eq!(check(anything.clone(), &unknown, &lookup), Ok(anything));
    }

    /// A feeder's struct: members typed, checked by value against the same limits.
    #[test]
    fn typed_members_from_a_feeder_are_checked_too() {
        let types = types();
        let lookup = |name: &str| types.iter().find(|ty| ty.name == name);
        let datatype = DataType::Struct("Types.Stop".into());
        let checked = check(stop("WORK", Value::Double(-12.25)), &datatype, &lookup);
        assert!(checked.is_ok(), "{checked:?}");
        let widened = check(stop("WORK", Value::Int(3)), &datatype, &lookup).unwrap();
        let Value::Struct(fields) = widened else {
            unreachable!()
        };
        assert_eq!(
            fields[1].1,
            Value::Struct(vec![("Latitude".into(), Value::Double(3.0))]),
            "coerced to the member's type"
        );
        let outside = check(stop("WORK", Value::Double(91.0)), &datatype, &lookup);
        assert_eq!(outside, Err(VissError::OutsideLimit));
        let wrong_type = check(stop("WORK", Value::Bool(true)), &datatype, &lookup);
        assert_eq!(wrong_type, Err(VissError::IncorrectDataType));
        let inline = check(
            stop("viss-inline:404", Value::Double(0.0)),
            &datatype,
            &lookup,
        );
        assert_eq!(inline, Err(VissError::IncorrectDataType));
    }
}
