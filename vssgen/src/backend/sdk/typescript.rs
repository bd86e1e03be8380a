//! The TypeScript SDK: an npm package (`package.json`, `tsconfig.json`, `src/`), its tree
//! as `src/tree.ts` (a class per branch concept and instance level; a leaf is a
//! `leaf.Sensor<T>`, `leaf.Attribute<T>` or `leaf.Actuator<T>` with the value's TypeScript
//! type: `bigint` for 64-bit integers, a string-literal union per enum, a numeric-literal
//! union per numeric `allowed` list, an interface per struct type).

use std::collections::BTreeSet;

use heck::ToLowerCamelCase;
use serde::Serialize;
use vss_model::{NodeKind, Primitive};

use super::messages::{Field, Messages, Ty};
use super::model::{MemberKind, SdkModel, ValueType};
use super::views::{self, EnumView, MessagesView, leaf_handle, numeric_codec_args};
use super::{
    SdkOptions, VISS_PROTO, doc_lines, header, json_string, quoted, render, unique_member,
    with_header,
};
use crate::backend::rust::{GenerateError, GeneratedFile};

const PACKAGE: &str = include_str!("../../../../templates/sdk/typescript/package.json.j2");
const TSCONFIG: &str = include_str!("../../../../templates/sdk/typescript/tsconfig.json.j2");
const README: &str = include_str!("../../../../templates/sdk/typescript/README.md.j2");
const INDEX: &str = include_str!("../../../../templates/sdk/typescript/index.ts.j2");
const TREE: &str = include_str!("../../../../templates/sdk/typescript/tree.ts.j2");
const MESSAGES: &str = include_str!("../../../../templates/sdk/typescript/messages.ts.j2");
const VISS_PROTO_TS: &str = include_str!("../../../../templates/sdk/typescript/vissProto.ts.j2");

/// The hand-written client core, copied into `src/` as it is.
const STATIC: [(&str, &str); 9] = [
    (
        "access.ts",
        include_str!("../../../../templates/sdk/typescript/static/access.ts"),
    ),
    (
        "client.ts",
        include_str!("../../../../templates/sdk/typescript/static/client.ts"),
    ),
    (
        "codec.ts",
        include_str!("../../../../templates/sdk/typescript/static/codec.ts"),
    ),
    (
        "filter.ts",
        include_str!("../../../../templates/sdk/typescript/static/filter.ts"),
    ),
    (
        "grpc.ts",
        include_str!("../../../../templates/sdk/typescript/static/grpc.ts"),
    ),
    (
        "leaf.ts",
        include_str!("../../../../templates/sdk/typescript/static/leaf.ts"),
    ),
    (
        "mqtt.ts",
        include_str!("../../../../templates/sdk/typescript/static/mqtt.ts"),
    ),
    (
        "vapi.ts",
        include_str!("../../../../templates/sdk/typescript/static/vapi.ts"),
    ),
    (
        "w3c.ts",
        include_str!("../../../../templates/sdk/typescript/static/w3c.ts"),
    ),
];

#[derive(Serialize)]
struct View {
    header: String,
    package: String,
    root_name: String,
    root_class: String,
    root_member: String,
    example: Example,
    /// `schemas/viss_v3_0.proto` as a string literal, for the gRPC client.
    proto: String,
    enums: Vec<EnumView>,
    structs: Vec<StructView>,
    classes: Vec<ClassView>,
    /// The message types from the VISS JSON schema (none without a schema).
    messages: Option<MessagesView<FieldView>>,
}

#[derive(Serialize)]
struct FieldView {
    key: String,
    optional: bool,
    ty: String,
    doc: Vec<String>,
}

/// The README's example: a leaf's access path, its TypeScript type and kind.
#[derive(Serialize, Default)]
struct Example {
    access: String,
    ty: String,
    settable: bool,
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
    doc: Vec<String>,
}

#[derive(Serialize)]
struct ClassView {
    name: String,
    doc: Vec<String>,
    example_path: String,
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

/// The package's files, relative to its root.
pub fn files(
    model: &SdkModel,
    messages: Option<&Messages>,
    options: &SdkOptions,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    let mut view = view(model, options);
    view.messages = messages.map(messages_view);
    let mut files = vec![
        GeneratedFile::new("package.json", render(PACKAGE, &view)?),
        GeneratedFile::new("tsconfig.json", render(TSCONFIG, &view)?),
        GeneratedFile::new("README.md", render(README, &view)?),
        GeneratedFile::new("src/index.ts", render(INDEX, &view)?),
        GeneratedFile::new("src/tree.ts", render(TREE, &view)?),
        GeneratedFile::new("src/vissProto.ts", render(VISS_PROTO_TS, &view)?),
    ];
    if view.messages.is_some() {
        files.push(GeneratedFile::new(
            "src/messages.ts",
            render(MESSAGES, &view)?,
        ));
    }
    for (name, text) in STATIC {
        files.push(GeneratedFile::new(
            format!("src/{name}"),
            with_header("//", options, text),
        ));
    }
    Ok(files)
}

fn view(model: &SdkModel, options: &SdkOptions) -> View {
    let classes: Vec<ClassView> = model
        .classes
        .iter()
        .map(|class| {
            let mut used = BTreeSet::new();
            ClassView {
                name: class.name.clone(),
                doc: doc_lines(&class.description),
                example_path: class.example_path.clone(),
                is_root: class.name == model.root_class,
                members: class
                    .members
                    .iter()
                    .map(|member| {
                        let name = unique_member(&mut used, member_name(&member.vss_name));
                        let segment = &member.vss_name;
                        let (ty, init, facts) = match &member.kind {
                            MemberKind::Object(class) => (
                                class.clone(),
                                format!("new {class}(client, `${{path}}.{segment}`)"),
                                None,
                            ),
                            MemberKind::Leaf(leaf) => {
                                let handle = leaf_handle(leaf.kind);
                                let value = value_type(&leaf.value);
                                (
                                    format!("leaf.{handle}<{value}>"),
                                    format!(
                                        "new leaf.{handle}(client, `${{path}}.{segment}`, {})",
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
                            doc: doc.into_iter().map(|line| escape_doc(&line)).collect(),
                            ty,
                            init,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    View {
        header: header("//", options),
        package: format!("{}-sdk", options.name),
        root_name: model.root_name.clone(),
        root_class: model.root_class.clone(),
        root_member: member_name(&model.root_name),
        example: example(model),
        proto: json_string(VISS_PROTO),
        enums: views::enum_views(model),
        structs: model
            .structs
            .iter()
            .map(|decl| StructView {
                name: decl.name.clone(),
                vss_name: decl.vss_name.clone(),
                doc: doc_lines(&decl.description)
                    .iter()
                    .map(|line| escape_doc(line))
                    .collect(),
                members: decl
                    .members
                    .iter()
                    .map(|(name, value, description)| StructMemberView {
                        key: property_key(name),
                        ty: value_type(value),
                        codec: codec(value),
                        doc: doc_lines(description)
                            .iter()
                            .map(|line| escape_doc(line))
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        classes,
        messages: None,
    }
}

fn messages_view(messages: &Messages) -> MessagesView<FieldView> {
    let doc = |text: &str| {
        doc_lines(text)
            .iter()
            .map(|line| escape_doc(line))
            .collect::<Vec<_>>()
    };
    let field = |field: &Field| FieldView {
        key: property_key(&field.name),
        optional: !field.required,
        ty: message_type(&field.ty),
        doc: doc(&field.description),
    };
    views::messages_view(messages, doc, field, message_type)
}

/// A message type in TypeScript.
fn message_type(ty: &Ty) -> String {
    match ty {
        Ty::String => "string".to_owned(),
        Ty::Number => "number".to_owned(),
        Ty::Boolean => "boolean".to_owned(),
        Ty::Unknown => "unknown".to_owned(),
        Ty::Literals(values) => quoted(values, " | "),
        Ty::Array(element) => format!("Array<{}>", message_type(element)),
        Ty::Record(members) => format!("{{ [key: string]: {} }}", message_type(members)),
        Ty::Named(name) => name.clone(),
        Ty::Union(members) => members
            .iter()
            .map(message_type)
            .collect::<Vec<_>>()
            .join(" | "),
        Ty::Object(fields) => format!(
            "{{ {} }}",
            fields
                .iter()
                .map(|field| format!(
                    "{}{}: {};",
                    property_key(&field.name),
                    if field.required { "" } else { "?" },
                    message_type(&field.ty)
                ))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// The first leaf met depth-first, as the README's example.
fn example(model: &SdkModel) -> Example {
    let Some((names, leaf)) = model.first_leaf() else {
        return Example::default();
    };
    let access: Vec<String> = std::iter::once(model.root_name.as_str())
        .chain(names)
        .map(member_name)
        .collect();
    Example {
        access: access.join("."),
        ty: value_type(&leaf.value),
        settable: leaf.kind == NodeKind::Actuator,
    }
}

/// `IsOpen` → `isOpen`, `Row1` → `row1`, `VIN` → `vin`; a leading digit gets `_`.
fn member_name(vss_name: &str) -> String {
    let name: String = vss_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .to_lower_camel_case();
    match name.chars().next() {
        None => "_".to_owned(),
        Some(first) if first.is_ascii_digit() => format!("_{name}"),
        Some(_) => name,
    }
}

/// The TypeScript type of a value.
fn value_type(value: &ValueType) -> String {
    match value {
        ValueType::Primitive { primitive, .. } => primitive_type(*primitive).to_owned(),
        ValueType::Enum(name) | ValueType::Struct(name) => name.clone(),
        ValueType::NumberSet { primitive, values } => values
            .iter()
            .map(|value| number_literal(*primitive, value))
            .collect::<Vec<_>>()
            .join(" | "),
        ValueType::StringSet(values) => quoted(values, " | "),
        ValueType::Array(element) => format!("Array<{}>", value_type(element)),
    }
}

fn primitive_type(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Boolean => "boolean",
        Primitive::String => "string",
        Primitive::Int64 | Primitive::Uint64 => "bigint",
        _ => "number",
    }
}

/// The codec expression of a value (the factories of `static/codec.ts`).
fn codec(value: &ValueType) -> String {
    match value {
        ValueType::Primitive {
            primitive,
            min,
            max,
        } => primitive_codec(*primitive, min.as_ref(), max.as_ref()),
        ValueType::Enum(name) => format!("codec.oneOf(codec.string(), {name})"),
        ValueType::Struct(name) => format!("{name}Codec"),
        ValueType::NumberSet { primitive, values } => format!(
            "codec.oneOf({}, [{}] as const)",
            primitive_codec(*primitive, None, None),
            values
                .iter()
                .map(|value| number_literal(*primitive, value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ValueType::StringSet(values) => format!(
            "codec.oneOf(codec.string(), [{}] as const)",
            quoted(values, ", ")
        ),
        ValueType::Array(element) => format!("codec.array({})", codec(element)),
    }
}

fn primitive_codec(
    primitive: Primitive,
    min: Option<&serde_json::Number>,
    max: Option<&serde_json::Number>,
) -> String {
    let factory = match primitive {
        Primitive::Boolean => return "codec.boolean()".to_owned(),
        Primitive::String => return "codec.string()".to_owned(),
        Primitive::Int64 | Primitive::Uint64 => "bigint",
        Primitive::Float | Primitive::Double => "float",
        _ => "int",
    };
    let literal = |number: &serde_json::Number| number_literal(primitive, number);
    let args = numeric_codec_args(primitive, min, max, literal, "undefined");
    format!("codec.{factory}({})", args.join(", "))
}

/// A number as a TypeScript literal of the primitive's type (`5n` for 64-bit integers).
fn number_literal(primitive: Primitive, number: &serde_json::Number) -> String {
    match primitive {
        Primitive::Int64 | Primitive::Uint64 => format!("{number}n"),
        _ => number.to_string(),
    }
}

/// A struct member's key: bare when it is an identifier, else quoted.
fn property_key(name: &str) -> String {
    let identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        name.to_owned()
    } else {
        json_string(name)
    }
}

/// A documentation line that cannot end the comment it is in.
fn escape_doc(line: &str) -> String {
    line.replace("*/", "*\\/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        for (vss, ts) in [
            ("IsOpen", "isOpen"),
            ("Row1", "row1"),
            ("DriverSide", "driverSide"),
            ("VIN", "vin"),
            ("2ndRow", "_2ndRow"),
            ("Some-Name", "someName"),
        ] {
            assert_eq!(member_name(vss), ts, "{vss}");
        }
    }

    #[test]
    fn codecs_carry_limits_and_literal_types() {
        let number = |text: &str| serde_json::from_str::<serde_json::Number>(text).unwrap();
        let uint8 = ValueType::Primitive {
            primitive: Primitive::Uint8,
            min: None,
            max: Some(number("120")),
        };
        assert_eq!(codec(&uint8), "codec.int(\"uint8\", undefined, 120)");
        let uint64 = ValueType::Primitive {
            primitive: Primitive::Uint64,
            min: Some(number("1")),
            max: None,
        };
        assert_eq!(codec(&uint64), "codec.bigint(\"uint64\", 1n)");
        assert_eq!(value_type(&uint64), "bigint");
        let massage = ValueType::NumberSet {
            primitive: Primitive::Uint8,
            values: vec![number("0"), number("1")],
        };
        assert_eq!(value_type(&massage), "0 | 1");
        assert_eq!(
            codec(&ValueType::Array(Box::new(massage))),
            "codec.array(codec.oneOf(codec.int(\"uint8\"), [0, 1] as const))"
        );
    }
}
