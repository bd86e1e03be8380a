//! The SDKs' message types, derived from the VISS JSON schema (a bundled draft 2020-12
//! schema: a top-level `oneOf` over one schema per `action`, each a `oneOf` of request,
//! response and error shapes, and shared `$defs`: filter, data, datapoint, error, value).
//!
//! The schema is read as it is, then corrected by the project's overlay
//! (`schemas/viss-v3-messages.overlay.json`: JSON-pointer patches, each with the reason:
//! the defects `viss-core.md` §13 lists), then translated into a small type language
//! ([`Ty`], [`Decl`]) that the TypeScript and Python modules spell. A later schema version
//! is a regeneration: a patch whose pointer no longer resolves is reported and skipped.
//!
//! Naming: a message shape is `<Action><Role>` (`GetRequest`, `GetResponse`,
//! `GetMetadataResponse`, `GetErrorResponse`, `SubscriptionEvent`, ...), decided by the
//! members it requires (`ts` makes a response; `error`, `metadata` qualify it); a shared
//! definition is named after its `$id` (`data-object` → `DataObject`; `error` →
//! `ErrorData`, no name of a language's built-ins); a `oneOf` branch fixing a member to a
//! constant is named after the constant (`TimebasedFilter`), and branches with the same
//! constant are merged member by member (the two `range` forms are one `RangeFilter`).

use std::collections::BTreeSet;

use heck::ToUpperCamelCase;
use serde_json::{Map, Value};

use crate::backend::rust::GenerateError;

/// The overlay the project keeps beside its own schemas.
pub const OVERLAY: &str = include_str!("../../../../schemas/viss-v3-messages.overlay.json");

/// A type in the small type language both SDK languages can spell.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    String,
    Number,
    Boolean,
    /// One of these strings.
    Literals(Vec<String>),
    Array(Box<Ty>),
    /// An object with any members of this type.
    Record(Box<Ty>),
    /// Any JSON value.
    Unknown,
    Named(String),
    Union(Vec<Ty>),
    Object(Vec<Field>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: Ty,
    pub required: bool,
    pub description: String,
}

/// A named type: an object type or an alias of another type.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    pub name: String,
    pub description: String,
    pub ty: Ty,
}

/// The message types of a schema, in declaration order (a type before its first use where
/// it can be; recursive aliases refer to themselves).
#[derive(Debug)]
pub struct Messages {
    /// The schema's `title`, for the header.
    pub title: String,
    pub decls: Vec<Decl>,
    /// Overlay patches whose pointer did not resolve (a schema version they do not fit).
    pub skipped: Vec<String>,
}

/// The message types of `schema` (text), corrected by `overlay` (text).
pub fn messages(schema: &str, overlay: &str) -> Result<Messages, GenerateError> {
    let mut schema: Value = serde_json::from_str(schema)
        .map_err(|error| GenerateError::Unsupported(format!("the VISS schema: {error}")))?;
    let skipped = apply_overlay(&mut schema, overlay)?;
    let mut translator = Translator::default();
    translator.translate(&schema)?;
    Ok(Messages {
        title: text(&schema, "title"),
        decls: translator.decls,
        skipped,
    })
}

/// Applies the overlay's patches (`{"patches": [{"pointer", "value", "why"}]}`); returns
/// the pointers that did not resolve.
fn apply_overlay(schema: &mut Value, overlay: &str) -> Result<Vec<String>, GenerateError> {
    let overlay: Value = serde_json::from_str(overlay)
        .map_err(|error| GenerateError::Internal(format!("the schema overlay: {error}")))?;
    let mut skipped = Vec::new();
    for patch in overlay["patches"].as_array().into_iter().flatten() {
        let pointer = patch["pointer"].as_str().unwrap_or_default();
        match schema.pointer_mut(pointer) {
            Some(target) => *target = patch["value"].clone(),
            None => skipped.push(pointer.to_owned()),
        }
    }
    Ok(skipped)
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

/// The name of a `$ref` or `$id`: the file stem (`/vissv3.0/data-object.schema.json` →
/// `DataObject`), clear of the built-in names of the SDK languages.
fn def_name(reference: &str) -> String {
    let stem = reference
        .rsplit('/')
        .next()
        .unwrap_or(reference)
        .trim_end_matches(".json")
        .trim_end_matches(".schema");
    let name = stem.to_upper_camel_case();
    if BUILT_INS.contains(&name.as_str()) {
        format!("{name}Data")
    } else {
        name
    }
}

/// Names a generated type must not take: TypeScript's and Python's global types.
const BUILT_INS: [&str; 12] = [
    "Error", "Object", "Array", "String", "Number", "Boolean", "Date", "Map", "Set", "Function",
    "Symbol", "Promise",
];

#[derive(Default)]
struct Translator {
    decls: Vec<Decl>,
    names: BTreeSet<String>,
}

impl Translator {
    fn translate(&mut self, schema: &Value) -> Result<(), GenerateError> {
        let defs = schema["$defs"]
            .as_object()
            .ok_or_else(|| GenerateError::Unsupported("the VISS schema has no $defs".to_owned()))?;
        // Shared definitions first (messages refer to them), in the schema's order.
        let messages: BTreeSet<String> = schema["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|branch| branch["$ref"].as_str().map(def_name))
            .collect();
        for (id, def) in defs {
            if !messages.contains(&def_name(id)) {
                self.shared(id, def);
            }
        }
        let mut all = Vec::new();
        for branch in schema["oneOf"].as_array().into_iter().flatten() {
            let action = branch["properties"]["action"]["const"]
                .as_str()
                .unwrap_or_default();
            let Some(def) = branch["$ref"]
                .as_str()
                .and_then(|reference| find_def(defs, reference))
            else {
                continue;
            };
            all.push(Ty::Named(self.message(action, def)));
        }
        self.declare("Message", "Any VISS message.", Ty::Union(all));
        Ok(())
    }

    /// A shared definition as a named type.
    fn shared(&mut self, id: &str, def: &Value) {
        let name = def_name(id);
        // An object definition is the declaration itself, not an alias of one.
        let ty = if def["properties"].is_object() && !def["oneOf"].is_array() {
            self.object(def, &name)
        } else {
            self.ty(def, &name)
        };
        self.declare(&name, &text(def, "description"), ty);
    }

    /// The shapes of one action's messages, and their union (`GetMessage`).
    fn message(&mut self, action: &str, def: &Value) -> String {
        let base = action.to_upper_camel_case();
        let mut shapes = Vec::new();
        for branch in def["oneOf"].as_array().into_iter().flatten() {
            let required: BTreeSet<&str> = branch["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let role = role(action, &required);
            let Ty::Object(mut fields) = self.object(branch, &format!("{base}{role}")) else {
                continue;
            };
            fields.insert(
                0,
                Field {
                    name: "action".to_owned(),
                    ty: Ty::Literals(vec![action.to_owned()]),
                    required: true,
                    description: String::new(),
                },
            );
            let name = self.declare(
                &format!("{base}{role}"),
                &format!("A `{action}` {}.", role_words(&role)),
                Ty::Object(fields),
            );
            shapes.push(Ty::Named(name));
        }
        self.declare(
            &format!("{base}Message"),
            &text(def, "description"),
            Ty::Union(shapes),
        )
    }

    /// Declares `name` (numbered when taken) and returns the name used.
    fn declare(&mut self, name: &str, description: &str, ty: Ty) -> String {
        let name = crate::backend::rust::naming::unique(&mut self.names, name.to_owned(), "");
        self.decls.push(Decl {
            name: name.clone(),
            description: description.to_owned(),
            ty,
        });
        name
    }

    /// The type of a schema; `context` names the types its branches declare.
    fn ty(&mut self, schema: &Value, context: &str) -> Ty {
        if let Some(reference) = schema["$ref"].as_str() {
            return Ty::Named(def_name(reference));
        }
        if let Some(constant) = schema["const"].as_str() {
            return Ty::Literals(vec![constant.to_owned()]);
        }
        if let Some(values) = schema["enum"].as_array() {
            return Ty::Literals(
                values
                    .iter()
                    .filter_map(|value| value.as_str().map(str::to_owned))
                    .collect(),
            );
        }
        if schema["oneOf"].is_array() {
            return self.one_of(schema, context);
        }
        match schema["type"].as_str() {
            Some("string") => Ty::String,
            Some("number" | "integer") => Ty::Number,
            Some("boolean") => Ty::Boolean,
            Some("array") => Ty::Array(Box::new(self.ty(&schema["items"], context))),
            // An inline object gets a name of its own (Python's TypedDicts cannot nest).
            _ if schema["properties"].is_object() => {
                let ty = self.object(schema, context);
                Ty::Named(self.declare(context, &text(schema, "description"), ty))
            }
            _ => match schema["patternProperties"].as_object() {
                Some(patterns) => {
                    let members = patterns.values().next().cloned().unwrap_or(Value::Null);
                    Ty::Record(Box::new(self.ty(&members, context)))
                }
                None if schema["type"].as_str() == Some("object") => {
                    Ty::Record(Box::new(Ty::Unknown))
                }
                None => Ty::Unknown,
            },
        }
    }

    /// An object's members (a `properties` map with `required`).
    fn object(&mut self, schema: &Value, context: &str) -> Ty {
        let empty = Map::new();
        let properties = schema["properties"].as_object().unwrap_or(&empty);
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let fields = properties
            .iter()
            .map(|(name, property)| Field {
                name: name.clone(),
                ty: self.ty(
                    property,
                    &format!("{context}{}", name.to_upper_camel_case()),
                ),
                required: required.contains(name.as_str()),
                description: text(property, "description"),
            })
            .collect();
        Ty::Object(fields)
    }

    /// A `oneOf`: object branches that fix a member to a constant become named types (one
    /// per constant, same-constant branches merged); other branches stay inline.
    fn one_of(&mut self, schema: &Value, context: &str) -> Ty {
        let mut branches = Vec::new();
        flatten_one_of(schema, &mut branches);
        // Members the parent declares for every branch (the filter's `variant`).
        let parent_required: Vec<String> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect();
        let mut named: Vec<(String, Vec<Field>)> = Vec::new();
        let mut inline = Vec::new();
        for branch in branches {
            match constant_of(branch) {
                Some(constant) => {
                    let name = format!("{}{context}", constant.to_upper_camel_case());
                    let Ty::Object(mut fields) = self.object(branch, &name) else {
                        continue;
                    };
                    for field in &mut fields {
                        field.required |= parent_required.contains(&field.name);
                    }
                    match named.iter_mut().find(|(existing, _)| *existing == name) {
                        Some((_, existing)) => merge(existing, fields),
                        None => named.push((name, fields)),
                    }
                }
                None => inline.push(self.ty(branch, context)),
            }
        }
        let mut members = inline;
        for (name, fields) in named {
            let name = self.declare(&name, "", Ty::Object(fields));
            members.push(Ty::Named(name));
        }
        match members.len() {
            1 => members.remove(0),
            _ => Ty::Union(members),
        }
    }
}

/// The branches of a `oneOf`, nested `oneOf`s opened.
fn flatten_one_of<'s>(schema: &'s Value, out: &mut Vec<&'s Value>) {
    for branch in schema["oneOf"].as_array().into_iter().flatten() {
        let only_one_of = branch
            .as_object()
            .is_some_and(|object| object.len() == 1 && object.contains_key("oneOf"));
        if only_one_of {
            flatten_one_of(branch, out);
        } else {
            out.push(branch);
        }
    }
}

/// The constant a branch fixes one of its members to (`variant: "timebased"`).
fn constant_of(branch: &Value) -> Option<&str> {
    branch["properties"]
        .as_object()?
        .values()
        .find_map(|property| property["const"].as_str())
}

/// Merges `other`'s fields into `fields`: a member both have gets the union of the two
/// types; a member only one has is optional.
fn merge(fields: &mut Vec<Field>, other: Vec<Field>) {
    let names: BTreeSet<String> = other.iter().map(|field| field.name.clone()).collect();
    for field in fields.iter_mut() {
        if !names.contains(&field.name) {
            field.required = false;
        }
    }
    for field in other {
        match fields
            .iter_mut()
            .find(|existing| existing.name == field.name)
        {
            Some(existing) if existing.ty == field.ty => {}
            Some(existing) => {
                let mut members = match std::mem::replace(&mut existing.ty, Ty::Unknown) {
                    Ty::Union(members) => members,
                    ty => vec![ty],
                };
                members.push(field.ty);
                existing.ty = Ty::Union(members);
                existing.required &= field.required;
            }
            None => fields.push(Field {
                required: false,
                ..field
            }),
        }
    }
}

fn find_def<'s>(defs: &'s Map<String, Value>, reference: &str) -> Option<&'s Value> {
    let name = def_name(reference);
    defs.iter()
        .find(|(id, _)| def_name(id) == name)
        .map(|(_, def)| def)
}

/// `Request`, `Response`, `MetadataResponse`, `ErrorResponse` (`Event`, `ErrorEvent` for
/// the subscription action), from the members a shape requires.
fn role(action: &str, required: &BTreeSet<&str>) -> String {
    let answer = if action == "subscription" {
        "Event"
    } else {
        "Response"
    };
    if required.contains("error") {
        format!("Error{answer}")
    } else if required.contains("metadata") {
        format!("Metadata{answer}")
    } else if required.contains("ts") || action == "subscription" {
        answer.to_owned()
    } else {
        "Request".to_owned()
    }
}

fn role_words(role: &str) -> String {
    let mut words = String::new();
    for (index, character) in role.chars().enumerate() {
        if character.is_ascii_uppercase() && index > 0 {
            words.push(' ');
        }
        words.push(character.to_ascii_lowercase());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{
      "title": "t", "oneOf": [
        {"properties": {"action": {"const": "get"}}, "$ref": "/v/get-message.schema.json"}
      ],
      "$defs": {
        "https://x/v/get-message.schema.json": {"oneOf": [
          {"properties": {"path": {"type": "string"}, "filter": {"$ref": "/v/filter.schema.json"}}, "required": ["path"]},
          {"properties": {"error": {"$ref": "/v/error.schema.json"}, "ts": {"type": "string"}}, "required": ["error", "ts"]}
        ]},
        "https://x/v/filter.schema.json": {"type": "object", "required": ["variant"], "oneOf": [
          {"properties": {"variant": {"const": "range"}, "parameter": {"type": "string"}}, "required": ["parameter"]},
          {"oneOf": [
            {"properties": {"variant": {"const": "range"}, "parameter": {"type": "array", "items": {"type": "string"}}}, "required": ["parameter"]}
          ]}
        ]},
        "https://x/v/error.schema.json": {"type": "object", "properties": {"number": {"enum": ["400"]}}, "required": ["number"]}
      }
    }"#;

    #[test]
    fn shapes_are_named_by_action_and_role_and_same_constant_branches_merge() {
        let messages = messages(SCHEMA, r#"{"patches": []}"#).unwrap();
        let names: Vec<&str> = messages.decls.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "RangeFilter",
                "Filter",
                "ErrorData",
                "GetRequest",
                "GetErrorResponse",
                "GetMessage",
                "Message"
            ]
        );
        let Ty::Object(fields) = &messages.decls[0].ty else {
            panic!("an object")
        };
        assert_eq!(fields[0].name, "variant");
        assert!(fields[0].required, "the parent requires the variant");
        assert_eq!(
            fields[1].ty,
            Ty::Union(vec![Ty::String, Ty::Array(Box::new(Ty::String))])
        );
    }

    #[test]
    fn overlay_patches_apply_and_unresolved_ones_are_reported() {
        let overlay = r#"{"patches": [
          {"pointer": "/$defs/https:~1~1x~1v~1error.schema.json/properties/number", "value": {"type": "string"}},
          {"pointer": "/$defs/missing", "value": {}}
        ]}"#;
        let messages = messages(SCHEMA, overlay).unwrap();
        assert_eq!(messages.skipped, ["/$defs/missing"]);
        let error = messages
            .decls
            .iter()
            .find(|d| d.name == "ErrorData")
            .unwrap();
        let Ty::Object(fields) = &error.ty else {
            panic!("an object")
        };
        assert_eq!(fields[0].ty, Ty::String);
    }
}
