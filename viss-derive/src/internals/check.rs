//! Semantic checks, run after parsing and before expansion. Every failed check reports an
//! error at the token it is about; all errors are collected.

use std::collections::HashMap;

use proc_macro2::Span;
use vss_vocab::attribute::{VALIDATE, VALIDATE_VALUES};

use super::Ctxt;
use super::ast::{Container, Datatype, Field, FieldKind, Primitive, describe_with_article};
use super::attr::{CommonAttrs, DefaultValue, FieldAttrs, Number, Scalar, Spanned};
use super::symbol;

pub fn check(cx: &Ctxt, container: &Container<'_>) {
    if let Some(root) = &container.attrs.root
        && let Some(name) = &root.value
    {
        check_name(cx, name, root.span, "node");
    }
    if container.attrs.root.is_none() {
        if let Some(table) = &container.attrs.struct_types {
            cx.error_at(
                table.span,
                "`struct_types` belongs on the root (`#[viss(root, struct_types = ...)]`): the \
                 tables are the whole tree's",
            );
        }
        reject_branch_metadata(cx, &container.attrs.common);
    } else {
        check_common(cx, &container.attrs.common);
    }
    check_sibling_names(cx, &container.fields);
    for field in &container.fields {
        check_name(cx, &field.vss_name, field.name_span, "node");
        check_common(cx, &field.attrs.common);
        match &field.kind {
            FieldKind::Leaf { datatype, .. } => check_leaf(cx, &field.attrs, *datatype),
            FieldKind::Branch => check_branch(cx, field),
            FieldKind::Instances { lengths, .. } => check_instances(cx, field, lengths),
        }
    }
}

/// A nested struct's node takes its metadata from the parent's field: on the struct it would
/// be silently lost.
fn reject_branch_metadata(cx: &Ctxt, common: &CommonAttrs) {
    let keys = [
        (
            symbol::DESCRIPTION,
            common.description.as_ref().map(|item| item.span),
        ),
        (
            symbol::COMMENT,
            common.comment.as_ref().map(|item| item.span),
        ),
        (
            symbol::DEPRECATION,
            common.deprecation.as_ref().map(|item| item.span),
        ),
        (symbol::FKA, common.fka.as_ref().map(|item| item.span)),
        (
            symbol::CONST_UID,
            common.const_uid.as_ref().map(|item| item.span),
        ),
        (
            symbol::EXTENDED,
            common.extended.as_ref().map(|item| item.span),
        ),
        (
            symbol::VALIDATE,
            common.validate.as_ref().map(|item| item.span),
        ),
    ];
    for (key, span) in keys {
        if let Some(span) = span {
            cx.error_at(
                span,
                format!(
                    "`{key}` on a struct applies to the root only (`#[viss(root)]`); \
                     put it on the field that holds this branch"
                ),
            );
        }
    }
}

/// `fka` paths are not empty; `validate` is one of the four tags; extended attribute names
/// are unique and neither VSS core names nor `validate`.
fn check_common(cx: &Ctxt, common: &CommonAttrs) {
    for path in common.fka.iter().flat_map(|fka| &fka.value) {
        if path.value.is_empty() {
            cx.error_at(path.span, "`fka` paths must not be empty");
        }
    }
    if let Some(validate) = &common.validate
        && !VALIDATE_VALUES.contains(&validate.value.as_str())
    {
        let values = VALIDATE_VALUES
            .map(|value| format!("`{value:?}`"))
            .join(", ");
        cx.error_at(validate.span, format!("`validate` is one of {values}"));
    }
    let mut seen: Vec<&str> = Vec::new();
    for attr in common.extended.iter().flat_map(|extended| &extended.value) {
        let name = attr.name.value.as_str();
        if name.is_empty() {
            cx.error_at(attr.name.span, "extended attribute name must not be empty");
        } else if name == VALIDATE {
            cx.error_at(
                attr.name.span,
                "`validate` is a node property the server reads, not an extended attribute: \
                 write `validate = \"read-write\"` beside `extended(..)`",
            );
        } else if vss_vocab::attribute::is_json_member(name) {
            cx.error_at(
                attr.name.span,
                format!("`{name}` is a VSS core attribute, not an extended one"),
            );
        } else if seen.contains(&name) {
            cx.error_at(
                attr.name.span,
                format!("duplicate extended attribute `{name}`"),
            );
        }
        seen.push(name);
    }
}

/// Names are non-empty and free of path delimiters and wildcards.
fn check_name(cx: &Ctxt, name: &str, span: Span, what: &str) {
    if let Some(why) = vss_vocab::name::segment_error(name) {
        let shown = if name.is_empty() {
            String::new()
        } else {
            format!(" `{name}`")
        };
        cx.error_at(span, format!("{what} name{shown} {why}"));
    }
}

fn check_sibling_names(cx: &Ctxt, fields: &[Field<'_>]) {
    let mut seen: HashMap<&str, &Field<'_>> = HashMap::new();
    for field in fields {
        match seen.get(field.vss_name.as_str()) {
            Some(first) => cx.error_at(
                field.name_span,
                format!(
                    "duplicate VSS name `{}`: field `{}` already has it",
                    field.vss_name, first.member
                ),
            ),
            None => {
                seen.insert(&field.vss_name, field);
            }
        }
    }
}

fn check_branch(cx: &Ctxt, field: &Field<'_>) {
    reject_leaf_keys(cx, &field.attrs, "branches");
    if let Some(instances) = &field.attrs.instances {
        cx.error_at(
            instances.span,
            "`instances` needs an array field type, e.g. `[Door; 2]`",
        );
    }
}

fn reject_leaf_keys(cx: &Ctxt, attrs: &FieldAttrs, what: &str) {
    for (key, span) in attrs.leaf_only_keys() {
        cx.error_at(
            span,
            format!("`{key}` applies to leaves only, not to {what}"),
        );
    }
}

fn check_instances(cx: &Ctxt, field: &Field<'_>, lengths: &[Option<usize>]) {
    reject_leaf_keys(cx, &field.attrs, "instance sets");
    let Some(instances) = &field.attrs.instances else {
        cx.error_spanned_by(
            field.ty,
            "an array field is an instance set and needs \
             `#[viss(instances(\"Row1\", \"Row2\"))]`",
        );
        return;
    };
    if instances.value.len() != lengths.len() {
        cx.error_at(
            instances.span,
            format!(
                "{} instance dimension(s) for an array of {} dimension(s)",
                instances.value.len(),
                lengths.len()
            ),
        );
        return;
    }
    for (names, length) in instances.value.iter().zip(lengths) {
        check_dimension(cx, names, *length, instances.span);
    }
}

fn check_dimension(cx: &Ctxt, names: &[Spanned<String>], length: Option<usize>, span: Span) {
    if let Some(length) = length
        && length != names.len()
    {
        cx.error_at(
            span,
            format!(
                "{} instance names for an array of length {length}",
                names.len()
            ),
        );
    }
    let mut seen = Vec::new();
    for name in names {
        check_name(cx, &name.value, name.span, "instance");
        if seen.contains(&&name.value) {
            cx.error_at(
                name.span,
                format!("duplicate instance name `{}`", name.value),
            );
        }
        seen.push(&name.value);
    }
}

fn check_leaf(cx: &Ctxt, attrs: &FieldAttrs, datatype: Datatype) {
    if let Some(instances) = &attrs.instances {
        cx.error_at(
            instances.span,
            "`instances` applies to branches, not to leaves",
        );
    }
    if let Some(uuid) = &attrs.uuid
        && !is_uuid(&uuid.value)
    {
        cx.error_at(uuid.span, "`uuid` is 32 hexadecimal digits, dashes allowed");
    }
    check_limits(cx, attrs, datatype);
    check_allowed(cx, attrs, datatype);
    check_enum(cx, attrs, datatype);
    check_pattern(cx, attrs, datatype);
    check_default(cx, attrs, datatype);
}

/// `enum`: an integer leaf; unique, non-empty names; integer values of the leaf's type.
fn check_enum(cx: &Ctxt, attrs: &FieldAttrs, datatype: Datatype) {
    let Some(enumeration) = &attrs.enumeration else {
        return;
    };
    let Some(primitive) = datatype
        .primitive()
        .filter(|primitive| primitive.is_integer())
    else {
        cx.error_at(
            enumeration.span,
            "`enum` needs an integer leaf (e.g. `Sensor<u8>`): its values are the leaf's values",
        );
        return;
    };
    if enumeration.value.is_empty() {
        cx.error_at(enumeration.span, "`enum` must list at least one value");
    }
    let mut seen: Vec<&str> = Vec::new();
    for entry in &enumeration.value {
        let name = entry.name.value.as_str();
        if name.is_empty() {
            cx.error_at(entry.name.span, "`enum` names must not be empty");
        } else if seen.contains(&name) {
            cx.error_at(entry.name.span, format!("duplicate `enum` name `{name}`"));
        }
        seen.push(name);
        check_literal_type(cx, &entry.value, primitive);
    }
}

/// `pattern`: a string leaf, and a regular expression the runtime can compile.
fn check_pattern(cx: &Ctxt, attrs: &FieldAttrs, datatype: Datatype) {
    let Some(pattern) = &attrs.pattern else {
        return;
    };
    if datatype.primitive() != Some(Primitive::String) {
        cx.error_at(
            pattern.span,
            "`pattern` needs a string leaf (`String` or `Vec<String>`)",
        );
    }
    if let Err(error) = regex::Regex::new(&pattern.value) {
        let reason = match error {
            regex::Error::Syntax(text) => text,
            other => other.to_string(),
        };
        cx.error_at(
            pattern.span,
            format!("`pattern` is not a valid regular expression:\n{reason}"),
        );
    }
}

fn check_limits(cx: &Ctxt, attrs: &FieldAttrs, datatype: Datatype) {
    let numeric = matches!(datatype, Datatype::Scalar(primitive) if primitive.is_numeric());
    for (key, limit) in [(symbol::MIN, &attrs.min), (symbol::MAX, &attrs.max)] {
        let Some(limit) = limit else { continue };
        if numeric {
            check_number_fits(cx, &limit.value, limit.span, datatype.primitive());
        } else {
            cx.error_at(
                limit.span,
                format!("`{key}` needs a numeric leaf (an integer or float type, not an array)"),
            );
        }
    }
    if let (Some(min), Some(max)) = (&attrs.min, &attrs.max)
        && min.value.value > max.value.value
    {
        cx.error_at(
            min.span,
            format!(
                "`min` ({}) is greater than `max` ({})",
                min.value.text, max.value.text
            ),
        );
    }
}

fn check_number_fits(cx: &Ctxt, number: &Number, span: Span, primitive: Option<Primitive>) {
    let Some(primitive) = primitive else { return };
    if primitive.is_integer() && !number.integer {
        cx.error_at(span, format!("`{}` is not an integer", number.text));
    }
    if let Some((low, high)) = primitive.integer_range()
        && (number.value < low as f64 || number.value > high as f64)
    {
        cx.error_at(
            span,
            format!("`{}` is out of the leaf type's range", number.text),
        );
    }
}

fn check_allowed(cx: &Ctxt, attrs: &FieldAttrs, datatype: Datatype) {
    let Some(allowed) = &attrs.allowed else {
        return;
    };
    let primitive = match datatype.primitive() {
        Some(primitive) if primitive != Primitive::Boolean => primitive,
        _ => {
            cx.error_at(
                allowed.span,
                "`allowed` needs a string or numeric leaf (or an array of those)",
            );
            return;
        }
    };
    if allowed.value.is_empty() {
        cx.error_at(allowed.span, "`allowed` must list at least one value");
    }
    for item in &allowed.value {
        check_literal_type(cx, item, primitive);
    }
}

/// A literal of the leaf's (element) type.
fn check_literal_type(cx: &Ctxt, literal: &Spanned<Scalar>, primitive: Primitive) {
    let matches = match (&literal.value, primitive) {
        (Scalar::Str(_), Primitive::String) | (Scalar::Bool(_), Primitive::Boolean) => true,
        (Scalar::Number(number), primitive) if primitive.is_numeric() => {
            check_number_fits(cx, number, literal.span, Some(primitive));
            true
        }
        _ => false,
    };
    if !matches {
        cx.error_at(
            literal.span,
            format!("expected {} literal", describe_with_article(primitive)),
        );
    }
}

fn check_default(cx: &Ctxt, attrs: &FieldAttrs, datatype: Datatype) {
    let Some(default) = &attrs.default else {
        return;
    };
    let Some(primitive) = datatype.primitive() else {
        cx.error_at(
            default.span,
            "`default` is not supported on struct-typed leaves",
        );
        return;
    };
    let items: Vec<&Spanned<Scalar>> = match (&default.value, datatype.is_array()) {
        (DefaultValue::Scalar(item), false) => vec![item],
        (DefaultValue::Array(items), true) => items.iter().collect(),
        (DefaultValue::Scalar(_), true) => {
            cx.error_at(
                default.span,
                "an array leaf needs an array `default`, e.g. `[1, 2]`",
            );
            return;
        }
        (DefaultValue::Array(_), false) => {
            cx.error_at(default.span, "a scalar leaf needs a single `default` value");
            return;
        }
    };
    for item in items {
        check_literal_type(cx, item, primitive);
        check_default_limits(cx, attrs, item);
    }
}

fn check_default_limits(cx: &Ctxt, attrs: &FieldAttrs, item: &Spanned<Scalar>) {
    if let Scalar::Number(number) = &item.value {
        let below = attrs
            .min
            .as_ref()
            .is_some_and(|min| number.value < min.value.value);
        let above = attrs
            .max
            .as_ref()
            .is_some_and(|max| number.value > max.value.value);
        if below || above {
            cx.error_at(item.span, "`default` is outside `min`..`max`");
        }
    }
    if let Some(allowed) = &attrs.allowed
        && !allowed
            .value
            .iter()
            .any(|candidate| same_value(&candidate.value, &item.value))
    {
        cx.error_at(item.span, "`default` is not one of the `allowed` values");
    }
    if let Some(enumeration) = &attrs.enumeration
        && !enumeration
            .value
            .iter()
            .any(|entry| same_value(&entry.value.value, &item.value))
    {
        cx.error_at(item.span, "`default` is not one of the `enum` values");
    }
}

fn same_value(left: &Scalar, right: &Scalar) -> bool {
    match (left, right) {
        (Scalar::Number(left), Scalar::Number(right)) => left.value == right.value,
        _ => left == right,
    }
}

fn is_uuid(text: &str) -> bool {
    let digits: Vec<char> = text.chars().filter(|character| *character != '-').collect();
    digits.len() == 32 && digits.iter().all(char::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::is_uuid;

    #[test]
    fn uuids_are_32_hex_digits_with_optional_dashes() {
        assert!(is_uuid("0123456789abcdef0123456789ABCDEF"));
        assert!(is_uuid("01234567-89ab-cdef-0123-456789abcdef"));
        assert!(!is_uuid("0123456789abcdef0123456789ABCDE"));
        assert!(!is_uuid("0123456789abcdef0123456789ABCDEG"));
    }
}
