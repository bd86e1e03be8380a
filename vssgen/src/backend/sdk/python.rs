//! The Python SDK: a pip-installable, typed package (`pyproject.toml`, `<package>/`,
//! `py.typed`), its tree as `<package>/tree.py`: a class per branch concept and instance
//! level whose attributes keep the VSS names (`vehicle.Cabin.Door.Row1.DriverSide.IsOpen`),
//! each leaf a `Sensor[T]`, `Attribute[T]` or `Actuator[T]` with the value's Python type
//! (`Literal[...]` per enum and numeric `allowed` list, a `TypedDict` per struct type), so
//! `mypy --strict` catches a misspelt path or a value of the wrong type.

use std::collections::BTreeSet;

use serde::Serialize;
use vss_model::Primitive;

use super::messages::{Field, Messages, Ty};
use super::model::{MemberKind, SdkModel, ValueType};
use super::views::{self, EnumView, MessagesView, leaf_handle, numeric_codec_args};
use super::{
    SdkOptions, VISS_PROTO, doc_lines, header, json_string, quoted, render, unique_member,
    with_header,
};
use crate::backend::rust::{GenerateError, GeneratedFile};

const PYPROJECT: &str = include_str!("../../../../templates/sdk/python/pyproject.toml.j2");
const README: &str = include_str!("../../../../templates/sdk/python/README.md.j2");
const INIT: &str = include_str!("../../../../templates/sdk/python/__init__.py.j2");
const TREE: &str = include_str!("../../../../templates/sdk/python/tree.py.j2");
const MESSAGES: &str = include_str!("../../../../templates/sdk/python/messages.py.j2");

/// The hand-written client core, copied into the package as it is.
const STATIC: [(&str, &str); 8] = [
    (
        "access.py",
        include_str!("../../../../templates/sdk/python/static/access.py"),
    ),
    (
        "client.py",
        include_str!("../../../../templates/sdk/python/static/client.py"),
    ),
    (
        "codec.py",
        include_str!("../../../../templates/sdk/python/static/codec.py"),
    ),
    (
        "filter.py",
        include_str!("../../../../templates/sdk/python/static/filter.py"),
    ),
    (
        "grpc_link.py",
        include_str!("../../../../templates/sdk/python/static/grpc_link.py"),
    ),
    (
        "leaf.py",
        include_str!("../../../../templates/sdk/python/static/leaf.py"),
    ),
    (
        "mqtt.py",
        include_str!("../../../../templates/sdk/python/static/mqtt.py"),
    ),
    (
        "vapi.py",
        include_str!("../../../../templates/sdk/python/static/vapi.py"),
    ),
];

/// Python's keywords and the soft keywords a name should not shadow: a VSS name that is
/// one gets a `_` suffix.
const KEYWORDS: [&str; 38] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type",
];

#[derive(Serialize)]
struct View {
    header: String,
    project: String,
    package: String,
    root_name: String,
    root_class: String,
    example: String,
    enums: Vec<EnumView>,
    structs: Vec<StructView>,
    classes: Vec<ClassView>,
    /// The message types from the VISS JSON schema (none without a schema), a TypedDict's
    /// fields as (key, type with Required/NotRequired).
    messages: Option<MessagesView<(String, String)>>,
}

#[derive(Serialize)]
struct StructView {
    name: String,
    vss_name: String,
    doc: Vec<String>,
    members: Vec<StructMemberView>,
}

#[derive(Serialize)]
struct StructMemberView {
    key: String,
    ty: String,
    codec: String,
}

#[derive(Serialize)]
struct ClassView {
    name: String,
    docstring: String,
    is_root: bool,
    members: Vec<MemberView>,
}

#[derive(Serialize)]
struct MemberView {
    name: String,
    doc: Vec<String>,
    ty: String,
    init: String,
}

/// The package's files, relative to the project root.
pub fn files(
    model: &SdkModel,
    messages: Option<&Messages>,
    options: &SdkOptions,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    let mut view = view(model, options);
    view.messages = messages.map(messages_view);
    let package = &view.package;
    let mut files = vec![
        GeneratedFile::new("pyproject.toml", render(PYPROJECT, &view)?),
        GeneratedFile::new("README.md", render(README, &view)?),
        GeneratedFile::new(format!("{package}/__init__.py"), render(INIT, &view)?),
        GeneratedFile::new(format!("{package}/py.typed"), String::new()),
        GeneratedFile::new(format!("{package}/tree.py"), render(TREE, &view)?),
    ];
    if view.messages.is_some() {
        files.push(GeneratedFile::new(
            format!("{package}/messages.py"),
            render(MESSAGES, &view)?,
        ));
    }
    for (name, text) in STATIC {
        files.push(GeneratedFile::new(
            format!("{package}/{name}"),
            with_header("#", options, text),
        ));
    }
    files.push(GeneratedFile::new(
        format!("{package}/viss_v3_0.proto"),
        with_header("//", options, VISS_PROTO),
    ));
    Ok(files)
}

fn view(model: &SdkModel, options: &SdkOptions) -> View {
    let classes = model
        .classes
        .iter()
        .map(|class| {
            let mut used = BTreeSet::new();
            ClassView {
                name: class.name.clone(),
                docstring: docstring(
                    &class.description,
                    &class.example_path,
                    class.name == model.root_class,
                ),
                is_root: class.name == model.root_class,
                members: class
                    .members
                    .iter()
                    .map(|member| {
                        let name = unique_member(&mut used, member_name(&member.vss_name));
                        let path = format!("f\"{{path}}.{}\"", member.vss_name);
                        let (ty, init, facts) = match &member.kind {
                            MemberKind::Object(class) => {
                                (class.clone(), format!("{class}(client, {path})"), None)
                            }
                            MemberKind::Leaf(leaf) => {
                                let handle = leaf_handle(leaf.kind);
                                (
                                    format!("_leaf.{handle}[{}]", value_type(&leaf.value)),
                                    format!(
                                        "_leaf.{handle}(client, {path}, {})",
                                        codec(&leaf.value)
                                    ),
                                    Some(leaf.facts.clone()),
                                )
                            }
                        };
                        let mut doc = doc_lines(&member.description);
                        doc.extend(facts.map(|facts| format!("VSS: {facts}")));
                        MemberView {
                            name,
                            doc,
                            ty,
                            init,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    View {
        header: header("#", options),
        project: format!("{}-sdk", options.name),
        package: format!("{}_sdk", options.name.replace('-', "_")),
        root_name: model.root_name.clone(),
        root_class: model.root_class.clone(),
        example: example(model),
        enums: views::enum_views(model),
        structs: model
            .structs
            .iter()
            .map(|decl| StructView {
                name: decl.name.clone(),
                vss_name: decl.vss_name.clone(),
                doc: doc_lines(&decl.description),
                members: decl
                    .members
                    .iter()
                    .map(|(name, value, _)| StructMemberView {
                        key: json_string(name),
                        ty: value_type(value),
                        codec: codec(value),
                    })
                    .collect(),
            })
            .collect(),
        classes,
        messages: None,
    }
}

fn messages_view(messages: &Messages) -> MessagesView<(String, String)> {
    let field = |field: &Field| {
        let wrapper = if field.required {
            "Required"
        } else {
            "NotRequired"
        };
        (
            json_string(&field.name),
            format!("{wrapper}[{}]", message_type(&field.ty)),
        )
    };
    views::messages_view(messages, doc_lines, field, message_type)
}

/// A message type in Python (named types as forward references: a TypedDict's members
/// are evaluated when it is declared).
fn message_type(ty: &Ty) -> String {
    let list = |members: &[Ty]| {
        members
            .iter()
            .map(message_type)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match ty {
        Ty::String => "str".to_owned(),
        Ty::Number => "float".to_owned(),
        Ty::Boolean => "bool".to_owned(),
        Ty::Unknown | Ty::Object(_) => "Any".to_owned(),
        Ty::Literals(values) => format!("Literal[{}]", quoted(values, ", ")),
        Ty::Array(element) => format!("list[{}]", message_type(element)),
        Ty::Record(members) => format!("dict[str, {}]", message_type(members)),
        Ty::Named(name) => json_string(name),
        Ty::Union(members) => format!("Union[{}]", list(members)),
    }
}

/// A class's docstring body: its description, then where VSS has it.
fn docstring(description: &str, example_path: &str, is_root: bool) -> String {
    let mut lines = doc_lines(description);
    let shared = if is_root {
        ""
    } else {
        " (and every branch of the same shape)"
    };
    lines.push(format!("VSS: `{example_path}`{shared}."));
    lines
        .join("\n    ")
        .replace('\\', "\\\\")
        .replace("\"\"\"", "\\\"\\\"\\\"")
}

/// `vehicle.Cabin.Door.Row1...`: the first leaf met depth-first.
fn example(model: &SdkModel) -> String {
    model.first_leaf().map_or_else(String::new, |(names, _)| {
        std::iter::once("vehicle".to_owned())
            .chain(names.into_iter().map(member_name))
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// The VSS name as it is, when it is a Python identifier; else made one (`_` for what no
/// identifier may hold, a leading `_` before a digit, a trailing `_` after a keyword).
fn member_name(vss_name: &str) -> String {
    let mut name: String = vss_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// The Python type of a value.
fn value_type(value: &ValueType) -> String {
    match value {
        ValueType::Primitive { primitive, .. } => match primitive {
            Primitive::Boolean => "bool",
            Primitive::String => "str",
            Primitive::Float | Primitive::Double => "float",
            _ => "int",
        }
        .to_owned(),
        ValueType::Enum(name) | ValueType::Struct(name) => name.clone(),
        ValueType::NumberSet { values, .. } => format!("Literal[{}]", join(values)),
        ValueType::StringSet(values) => format!("Literal[{}]", quoted(values, ", ")),
        ValueType::Array(element) => format!("list[{}]", value_type(element)),
    }
}

/// The codec expression of a value (the factories of `static/codec.py`).
fn codec(value: &ValueType) -> String {
    match value {
        ValueType::Primitive {
            primitive,
            min,
            max,
        } => primitive_codec(*primitive, min.as_ref(), max.as_ref()),
        ValueType::Enum(name) => format!("_codec.one_of(_codec.string(), get_args({name}))"),
        ValueType::Struct(name) => format!("{name}Codec"),
        ValueType::NumberSet { primitive, values } => format!(
            "_codec.one_of({}, ({},))",
            primitive_codec(*primitive, None, None),
            join(values)
        ),
        ValueType::StringSet(values) => format!(
            "_codec.one_of(_codec.string(), ({},))",
            quoted(values, ", ")
        ),
        ValueType::Array(element) => format!("_codec.array({})", codec(element)),
    }
}

fn primitive_codec(
    primitive: Primitive,
    min: Option<&serde_json::Number>,
    max: Option<&serde_json::Number>,
) -> String {
    let factory = match primitive {
        Primitive::Boolean => return "_codec.boolean()".to_owned(),
        Primitive::String => return "_codec.string()".to_owned(),
        Primitive::Float | Primitive::Double => "floating",
        _ => "integer",
    };
    let args = numeric_codec_args(primitive, min, max, ToString::to_string, "None");
    format!("_codec.{factory}({})", args.join(", "))
}

fn join(values: &[serde_json::Number]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_keep_vss_names() {
        for (vss, py) in [
            ("IsOpen", "IsOpen"),
            ("Row1", "Row1"),
            ("VIN", "VIN"),
            ("2ndRow", "_2ndRow"),
            ("class", "class_"),
            ("Some-Name", "Some_Name"),
        ] {
            assert_eq!(member_name(vss), py, "{vss}");
        }
    }

    #[test]
    fn codecs_carry_limits_and_literal_types() {
        let number = |text: &str| serde_json::from_str::<serde_json::Number>(text).unwrap();
        let weight = ValueType::Primitive {
            primitive: Primitive::Float,
            min: Some(number("0")),
            max: Some(number("300.5")),
        };
        assert_eq!(codec(&weight), "_codec.floating(\"float\", 0, 300.5)");
        let height = ValueType::Primitive {
            primitive: Primitive::Uint8,
            min: None,
            max: Some(number("120.7")),
        };
        assert_eq!(codec(&height), "_codec.integer(\"uint8\", None, 120)");
        let massage = ValueType::NumberSet {
            primitive: Primitive::Uint8,
            values: vec![number("0"), number("3")],
        };
        assert_eq!(value_type(&massage), "Literal[0, 3]");
        assert_eq!(
            codec(&massage),
            "_codec.one_of(_codec.integer(\"uint8\"), (0, 3,))"
        );
    }
}
