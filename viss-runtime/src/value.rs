//! Typed signal values and their VISS string encoding.
//!
//! VISS carries every value as a JSON string (arrays as arrays of strings, structs as
//! objects, CORE §4.2). [`Value`] holds the typed form; [`Value::write_json`] writes the wire
//! form straight into a response buffer (numbers through itoa/zmij, no allocation), and
//! [`parse_scalar`] turns wire text into a typed value checked against the tree's datatype,
//! limits and `allowed` list.

use crate::error::VissError;
use crate::json::write_json_str;
use crate::tree::{DataType, EnumEntry, Lit, NodeInfo, ScalarType, StructMember, Text};

/// The reserved in-line error prefix (TRANSPORT §4.1.1): never valid in ordinary strings.
pub const INLINE_PREFIX: &str = vss_vocab::name::INLINE_ERROR_PREFIX;

/// A typed value of one leaf.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    /// Any signed integer type (width checked against the datatype on input).
    Int(i64),
    /// Any unsigned integer type.
    UInt(u64),
    Float(f32),
    Double(f64),
    /// A string: borrowed when it is a tree's own static text (a value of an `allowed`
    /// list, so `set`s and typed enum feeds of enum leaves allocate nothing), owned otherwise.
    String(Text),
    Array(Vec<Value>),
    /// Struct fields in declaration order.
    Struct(Vec<(String, Value)>),
}

impl Value {
    /// The numeric value as `f64` (range, change and curvelog work on this).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(value) => Some(*value as f64),
            Self::UInt(value) => Some(*value as f64),
            Self::Float(value) => Some(f64::from(*value)),
            Self::Double(value) => Some(*value),
            _ => None,
        }
    }

    /// Writes the wire form: `"23.5"`, `["2","3"]` or `{"field":"x"}`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Self::Array(items) => {
                crate::json::write_json_array(out, items, |out, item| item.write_json(out));
            }
            Self::Struct(fields) => {
                out.push(b'{');
                for (position, (name, value)) in fields.iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    write_json_str(out, name);
                    out.push(b':');
                    value.write_json(out);
                }
                out.push(b'}');
            }
            Self::String(text) => write_json_str(out, text),
            scalar => {
                out.push(b'"');
                scalar.write_number_or_bool(out);
                out.push(b'"');
            }
        }
    }

    fn write_number_or_bool(&self, out: &mut Vec<u8>) {
        match self {
            Self::Bool(true) => out.extend_from_slice(b"true"),
            Self::Bool(false) => out.extend_from_slice(b"false"),
            Self::Int(value) => {
                out.extend_from_slice(itoa::Buffer::new().format(*value).as_bytes())
            }
            Self::UInt(value) => {
                out.extend_from_slice(itoa::Buffer::new().format(*value).as_bytes())
            }
            Self::Float(value) => write_float(out, f64::from(*value), Some(*value)),
            Self::Double(value) => write_float(out, *value, None),
            Self::String(_) | Self::Array(_) | Self::Struct(_) => {}
        }
    }

    /// Converts a feeder value to the variant `datatype` stores, if it is the same kind.
    pub fn coerce_to(self, datatype: &DataType) -> Option<Value> {
        match datatype {
            DataType::Scalar(scalar) => self.coerce_scalar(*scalar),
            DataType::Array(scalar) => match self {
                Self::Array(items) => items
                    .into_iter()
                    .map(|item| item.coerce_scalar(*scalar))
                    .collect::<Option<Vec<_>>>()
                    .map(Self::Array),
                _ => None,
            },
            DataType::Struct(_) => matches!(self, Self::Struct(_)).then_some(self),
            DataType::StructArray(_) => matches!(self, Self::Array(_)).then_some(self),
        }
    }

    fn coerce_scalar(self, scalar: ScalarType) -> Option<Value> {
        use ScalarType as S;
        match (scalar, self) {
            (S::Boolean, value @ Self::Bool(_)) | (S::String, value @ Self::String(_)) => {
                Some(value)
            }
            (S::Int8 | S::Int16 | S::Int32 | S::Int64, Self::Int(value)) => Some(Self::Int(value)),
            (S::Int8 | S::Int16 | S::Int32 | S::Int64, Self::UInt(value)) => {
                i64::try_from(value).ok().map(Self::Int)
            }
            (S::Uint8 | S::Uint16 | S::Uint32 | S::Uint64, Self::UInt(value)) => {
                Some(Self::UInt(value))
            }
            (S::Uint8 | S::Uint16 | S::Uint32 | S::Uint64, Self::Int(value)) => {
                u64::try_from(value).ok().map(Self::UInt)
            }
            (S::Float, value) => value.as_f64().map(|number| Self::Float(number as f32)),
            (S::Double, value) => value.as_f64().map(Self::Double),
            _ => None,
        }
    }
}

/// Floats are written in the shortest form that reads back to the same value; whole numbers
/// keep no trailing `.0` so `"50"` stays `"50"` as in the spec examples.
fn write_float(out: &mut Vec<u8>, value: f64, single: Option<f32>) {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        out.extend_from_slice(itoa::Buffer::new().format(value as i64).as_bytes());
        return;
    }
    let mut buffer = zmij::Buffer::new();
    let text = match single {
        Some(single) => buffer.format(single),
        None => buffer.format(value),
    };
    out.extend_from_slice(text.as_bytes());
}

/// True when `text` is an RFC 8259 number (what CORE §4.2 requires inside the string).
pub fn is_json_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut position = usize::from(bytes.first() == Some(&b'-'));
    let digits = |from: usize| {
        bytes
            .iter()
            .skip(from)
            .take_while(|byte| byte.is_ascii_digit())
            .count()
    };
    let integer = digits(position);
    if integer == 0 || (integer > 1 && bytes.get(position) == Some(&b'0')) {
        return false;
    }
    position += integer;
    if bytes.get(position) == Some(&b'.') {
        let fraction = digits(position + 1);
        if fraction == 0 {
            return false;
        }
        position += 1 + fraction;
    }
    if matches!(bytes.get(position), Some(b'e' | b'E')) {
        position += 1;
        if matches!(bytes.get(position), Some(b'+' | b'-')) {
            position += 1;
        }
        let exponent = digits(position);
        if exponent == 0 {
            return false;
        }
        position += exponent;
    }
    position == bytes.len()
}

/// Parses the wire text of one scalar as `scalar`, checking `node`'s limits and its `enum`
/// (`enumeration`, from the cold [`crate::NodeMeta`]; empty when the node has none).
pub fn parse_scalar(
    text: &str,
    scalar: ScalarType,
    node: &NodeInfo,
    enumeration: &[EnumEntry],
) -> Result<Value, VissError> {
    parse_within(text, scalar, &Limits::of_node(node, enumeration))
}

/// Parses one struct member's text as `member` declares it, within its limits.
pub fn parse_member(
    text: &str,
    scalar: ScalarType,
    member: &StructMember,
) -> Result<Value, VissError> {
    parse_within(text, scalar, &Limits::of_member(member))
}

/// Checks one struct member a feeder gave typed (`Value::UInt`, not the wire's `"12"`):
/// converted to `member`'s type, within its limits, no reserved in-line error prefix.
pub fn check_typed_member(
    value: Value,
    scalar: ScalarType,
    member: &StructMember,
) -> Result<Value, VissError> {
    let value = value
        .coerce_to(&DataType::Scalar(scalar))
        .ok_or(VissError::IncorrectDataType)?;
    let text = match &value {
        Value::String(text) if text.starts_with(INLINE_PREFIX) => {
            return Err(VissError::IncorrectDataType);
        }
        Value::String(text) => text.as_ref(),
        _ => "",
    };
    check_limits(&value, text, &Limits::of_member(member))?;
    Ok(value)
}

fn parse_within(text: &str, scalar: ScalarType, limits: &Limits<'_>) -> Result<Value, VissError> {
    if scalar == ScalarType::String && !limits.allowed.is_empty() {
        return allowed_string(text, limits.allowed);
    }
    let value = parse_scalar_type(text, scalar)?;
    check_limits(&value, text, limits)?;
    Ok(value)
}

/// What a value must stay within: a leaf's or a struct member's `min`, `max`, `allowed`
/// and `enum`.
struct Limits<'a> {
    min: Option<f64>,
    max: Option<f64>,
    allowed: &'a [Lit],
    enumeration: &'a [EnumEntry],
}

impl<'a> Limits<'a> {
    fn of_node(node: &'a NodeInfo, enumeration: &'a [EnumEntry]) -> Self {
        Self {
            min: node.min,
            max: node.max,
            allowed: &node.allowed,
            enumeration,
        }
    }

    fn of_member(member: &'a StructMember) -> Self {
        Self {
            min: member.min,
            max: member.max,
            allowed: &member.allowed,
            enumeration: &[],
        }
    }
}

/// A string of an `allowed` list is held as the list's own text: borrowed from a derived
/// tree's static table, so reading one from the wire allocates nothing. (A string leaf has
/// no `enum`, the model and the derive refuse it, so the list is the only check here.)
fn allowed_string(text: &str, allowed: &[Lit]) -> Result<Value, VissError> {
    if text.starts_with(INLINE_PREFIX) {
        return Err(VissError::IncorrectDataType);
    }
    allowed
        .iter()
        .find(|candidate| candidate.as_str() == text)
        .map(|candidate| Value::String(candidate.text.clone()))
        .ok_or(VissError::OutsideLimit)
}

fn parse_scalar_type(text: &str, scalar: ScalarType) -> Result<Value, VissError> {
    use ScalarType as S;
    match scalar {
        S::Boolean => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(VissError::IncorrectDataType),
        },
        S::String if text.starts_with(INLINE_PREFIX) => Err(VissError::IncorrectDataType),
        S::String => Ok(Value::String(Text::Owned(text.to_owned()))),
        _ if !is_json_number(text) => Err(VissError::IncorrectDataType),
        S::Float | S::Double => parse_float(text, scalar == S::Float),
        _ => match scalar.integer_range() {
            Some((_, max)) if scalar.is_unsigned() => {
                parse_unsigned(text, u64::try_from(max).unwrap_or(u64::MAX))
            }
            Some((min, max)) => parse_signed(
                text,
                (
                    i64::try_from(min).unwrap_or(i64::MIN),
                    i64::try_from(max).unwrap_or(i64::MAX),
                ),
            ),
            // The units-file pseudo-types are no leaf's datatype (`DataType::parse`).
            None => Err(VissError::IncorrectDataType),
        },
    }
}

fn parse_float(text: &str, single: bool) -> Result<Value, VissError> {
    let value: f64 = text.parse().map_err(|_| VissError::IncorrectDataType)?;
    if !value.is_finite() || (single && !(value as f32).is_finite()) {
        return Err(VissError::OutsideLimit);
    }
    Ok(if single {
        Value::Float(value as f32)
    } else {
        Value::Double(value)
    })
}

fn parse_signed(text: &str, (min, max): (i64, i64)) -> Result<Value, VissError> {
    let value: i64 = text.parse().map_err(|_| integer_error(text))?;
    if value < min || value > max {
        return Err(VissError::OutsideLimit);
    }
    Ok(Value::Int(value))
}

fn parse_unsigned(text: &str, max: u64) -> Result<Value, VissError> {
    if text.starts_with('-') {
        return Err(VissError::OutsideLimit);
    }
    let value: u64 = text.parse().map_err(|_| integer_error(text))?;
    if value > max {
        return Err(VissError::OutsideLimit);
    }
    Ok(Value::UInt(value))
}

/// A number with a fraction or exponent is the wrong type for an integer; a plain integer
/// that does not parse is too large.
fn integer_error(text: &str) -> VissError {
    if text.contains(['.', 'e', 'E']) {
        VissError::IncorrectDataType
    } else {
        VissError::OutsideLimit
    }
}

fn check_limits(value: &Value, text: &str, limits: &Limits<'_>) -> Result<(), VissError> {
    let (allowed, enumeration) = (limits.allowed, limits.enumeration);
    let (below, above) = match value {
        // A `float` is held at f32 precision, and so are its limits: `max: 0.3` as an f32 is
        // above 0.3, and the value "0.3" must still be accepted.
        Value::Float(number) => (
            limits.min.is_some_and(|min| *number < min as f32),
            limits.max.is_some_and(|max| *number > max as f32),
        ),
        other => match other.as_f64() {
            Some(number) => (
                limits.min.is_some_and(|min| number < min),
                limits.max.is_some_and(|max| number > max),
            ),
            None => (false, false),
        },
    };
    if below || above {
        return Err(VissError::OutsideLimit);
    }
    let same = |candidate: &Lit| match value.as_f64() {
        Some(number) => candidate
            .text
            .parse::<f64>()
            .is_ok_and(|allowed| allowed == number),
        None => candidate.as_str() == text,
    };
    if !allowed.is_empty() && !allowed.iter().any(same) {
        return Err(VissError::OutsideLimit);
    }
    // An `enum` lists the only values the leaf takes (by number, not by name).
    if !enumeration.is_empty() && !enumeration.iter().any(|entry| same(&entry.value)) {
        return Err(VissError::OutsideLimit);
    }
    Ok(())
}

/// Checks a value a feeder writes (already of the node's datatype): numbers within
/// `min`/`max` (a `float` compared at `f32` precision, as it is stored), strings within
/// `allowed` and never in-line error values (the `viss-inline:` prefix is reserved).
pub fn check_fed(value: &Value, node: &NodeInfo) -> Result<(), VissError> {
    let limits = Limits::of_node(node, &[]);
    match value {
        Value::Array(items) => items.iter().try_for_each(|item| check_fed(item, node)),
        Value::String(text) if text.starts_with(INLINE_PREFIX) => Err(VissError::IncorrectDataType),
        Value::String(text) => check_limits(value, text, &limits),
        // Numbers compare by value (the text is not read); booleans have no limits.
        Value::Bool(_) => Ok(()),
        other => check_limits(other, "", &limits),
    }
}

/// Parses the `value` member of a `set` request for `node` (CORE §4.2): a string for
/// primitive types, an array of strings for arrays, an object for structs, an array of
/// objects for struct arrays.
pub fn parse_wire(
    raw: &serde_json::value::RawValue,
    node: &NodeInfo,
    enumeration: &[EnumEntry],
) -> Result<Value, VissError> {
    let Some(datatype) = &node.datatype else {
        return Err(VissError::BranchAction);
    };
    let text = raw.get();
    match (text.as_bytes().first(), datatype) {
        (Some(b'"'), DataType::Scalar(scalar)) => {
            let wire = crate::request::string_of(raw).ok_or(VissError::InvalidValue)?;
            parse_scalar(&wire, *scalar, node, enumeration)
        }
        (Some(b'['), DataType::Array(scalar)) => {
            #[derive(serde::Deserialize)]
            struct Items<'a>(#[serde(borrow)] Vec<std::borrow::Cow<'a, str>>);
            let items = serde_json::from_str::<Items<'_>>(text)
                .map_err(|_| VissError::IncorrectDataType)?
                .0;
            if items.is_empty() {
                return Err(VissError::InvalidValue);
            }
            items
                .iter()
                .map(|item| parse_scalar(item, *scalar, node, enumeration))
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        (Some(b'{'), DataType::Struct(_)) => {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(text).map_err(|_| VissError::InvalidValue)?;
            struct_value(object)
        }
        (Some(b'['), DataType::StructArray(_)) => {
            let items: Vec<serde_json::Map<String, serde_json::Value>> =
                serde_json::from_str(text).map_err(|_| VissError::IncorrectDataType)?;
            if items.is_empty() {
                return Err(VissError::InvalidValue);
            }
            items
                .into_iter()
                .map(struct_value)
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        (Some(b'n'), _) | (None, _) => Err(VissError::InvalidValue),
        _ => Err(VissError::IncorrectDataType),
    }
}

/// Struct members are strings, nested structs, or arrays of those (CORE §4.2; the v3.0
/// schema allows only strings, §13). Members stay untyped here: the struct's `VssType`
/// parses them (its numeric and boolean impls accept strings).
fn struct_value(object: serde_json::Map<String, serde_json::Value>) -> Result<Value, VissError> {
    if object.is_empty() {
        return Err(VissError::InvalidValue);
    }
    let fields = object
        .into_iter()
        .map(|(name, member)| member_value(member).map(|value| (name, value)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::Struct(fields))
}

/// One struct member, or one item of a struct array. serde_json's recursion limit bounds
/// the nesting.
fn member_value(member: serde_json::Value) -> Result<Value, VissError> {
    match member {
        serde_json::Value::String(text) if !text.starts_with(INLINE_PREFIX) => {
            Ok(Value::String(text.into()))
        }
        serde_json::Value::Object(inner) => struct_value(inner),
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(member_value)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        _ => Err(VissError::IncorrectDataType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{NodeKind, NodeSpec};

    #[test]
    fn json_number_grammar() {
        for good in ["0", "-3", "23.5", "1e3", "1E-3", "-0.5e+10"] {
            assert!(is_json_number(good), "{good}");
        }
        for bad in [
            "", "-", "+1", "01", "1.", ".5", "1e", "inf", "NaN", "0x10", "1 ", " 1",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    fn node(datatype: &str) -> NodeInfo {
        let mut builder = crate::DynamicTree::builder();
        builder
            .push(
                None,
                NodeSpec::leaf("X", NodeKind::Actuator, datatype)
                    .min(-5.0)
                    .max(5.0),
            )
            .unwrap();
        crate::tree::VissTree::nodes(&builder.build())[0].clone()
    }

    #[test]
    fn a_float_at_a_limit_not_representable_in_f32_is_within_it() {
        let mut node = node("float");
        node.max = Some(0.3);
        node.min = Some(-0.1);
        assert_eq!(wire(&node, r#""0.3""#), Ok(Value::Float(0.3)));
        assert_eq!(wire(&node, r#""-0.1""#), Ok(Value::Float(-0.1)));
        assert_eq!(wire(&node, r#""0.31""#), Err(VissError::OutsideLimit));
        assert_eq!(check_fed(&Value::Float(0.3), &node), Ok(()));
        assert_eq!(
            check_fed(&Value::Float(0.31), &node),
            Err(VissError::OutsideLimit)
        );
        let double = NodeInfo {
            max: Some(0.3),
            ..self::node("double")
        };
        assert_eq!(
            wire(&double, r#""0.30000001""#),
            Err(VissError::OutsideLimit)
        );
    }

    fn wire(node: &NodeInfo, json: &str) -> Result<Value, VissError> {
        let raw = serde_json::value::RawValue::from_string(json.to_owned()).unwrap();
        parse_wire(&raw, node, &[])
    }

    #[test]
    fn structs_and_struct_arrays_parse_with_array_members() {
        let point = |lat: &str| {
            Value::Struct(vec![
                ("lat".into(), Value::String(lat.to_owned().into())),
                (
                    "tags".into(),
                    Value::Array(vec![Value::String("a".into()), Value::String("b".into())]),
                ),
            ])
        };
        let single = node("Types.Point");
        assert_eq!(
            wire(&single, r#"{"lat":"1","tags":["a","b"]}"#),
            Ok(point("1"))
        );
        let many = node("Types.Point[]");
        assert_eq!(
            wire(
                &many,
                r#"[{"lat":"1","tags":["a","b"]},{"lat":"2","tags":["a","b"]}]"#
            ),
            Ok(Value::Array(vec![point("1"), point("2")]))
        );
        assert_eq!(wire(&many, "[]"), Err(VissError::InvalidValue));
        assert_eq!(wire(&many, r#"["1"]"#), Err(VissError::IncorrectDataType));
        assert_eq!(
            wire(&many, r#"{"lat":"1"}"#),
            Err(VissError::IncorrectDataType)
        );
        assert_eq!(wire(&many, r#"[{}]"#), Err(VissError::InvalidValue));
        assert_eq!(
            wire(&single, r#"{"lat":1}"#),
            Err(VissError::IncorrectDataType),
            "members are strings on the wire"
        );
    }

    #[test]
    fn scalars_parse_by_type_and_width() {
        let int8 = node("int8");
        assert_eq!(
            parse_scalar("-5", ScalarType::Int8, &int8, &[]),
            Ok(Value::Int(-5))
        );
        assert_eq!(
            parse_scalar("6", ScalarType::Int8, &int8, &[]),
            Err(VissError::OutsideLimit)
        );
        assert_eq!(
            parse_scalar("1.5", ScalarType::Int8, &int8, &[]),
            Err(VissError::IncorrectDataType)
        );
        let unbounded = NodeInfo {
            min: None,
            max: None,
            ..int8
        };
        assert_eq!(
            parse_scalar("128", ScalarType::Int8, &unbounded, &[]),
            Err(VissError::OutsideLimit)
        );
        assert_eq!(
            parse_scalar("-1", ScalarType::Uint8, &unbounded, &[]),
            Err(VissError::OutsideLimit)
        );
        assert_eq!(
            parse_scalar("1e40", ScalarType::Float, &unbounded, &[]),
            Err(VissError::OutsideLimit)
        );
        assert_eq!(
            parse_scalar("1e40", ScalarType::Double, &unbounded, &[]),
            Ok(Value::Double(1e40))
        );
        assert_eq!(
            parse_scalar("True", ScalarType::Boolean, &unbounded, &[]),
            Err(VissError::IncorrectDataType)
        );
    }

    #[test]
    fn values_render_as_viss_strings() {
        let render = |value: Value| {
            let mut out = Vec::new();
            value.write_json(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(render(Value::Float(50.0)), r#""50""#);
        assert_eq!(render(Value::Float(0.1)), r#""0.1""#);
        assert_eq!(render(Value::Double(-2.5e-8)), r#""-2.5e-8""#);
        assert_eq!(render(Value::Int(-3)), r#""-3""#);
        assert_eq!(render(Value::UInt(u64::MAX)), r#""18446744073709551615""#);
        assert_eq!(render(Value::Bool(true)), r#""true""#);
        assert_eq!(
            render(Value::Array(vec![Value::UInt(2), Value::UInt(3)])),
            r#"["2","3"]"#
        );
        let location = Value::Struct(vec![("lat".into(), Value::String("1".into()))]);
        assert_eq!(render(location), r#"{"lat":"1"}"#);
    }

    #[test]
    fn feeder_values_are_coerced_to_the_datatype() {
        let float = DataType::Scalar(ScalarType::Float);
        assert_eq!(
            Value::Double(1.5).coerce_to(&float),
            Some(Value::Float(1.5))
        );
        assert_eq!(
            Value::UInt(3).coerce_to(&DataType::Scalar(ScalarType::Int16)),
            Some(Value::Int(3))
        );
        assert_eq!(
            Value::Int(-3).coerce_to(&DataType::Scalar(ScalarType::Uint16)),
            None
        );
        assert_eq!(Value::Bool(true).coerce_to(&float), None);
        assert_eq!(
            Value::String("x".into()).coerce_to(&DataType::Array(ScalarType::String)),
            None
        );
    }
}
