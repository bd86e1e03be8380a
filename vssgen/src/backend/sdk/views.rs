//! What the Python and TypeScript view models share: the shapes both templates read
//! (enums, message declarations) and the spelling rules both follow (leaf handle classes,
//! codec factory arguments). Each language passes in what it spells differently.

use serde::Serialize;
use vss_model::{NodeKind, Primitive};

use super::messages::{Field, Messages, Ty};
use super::model::SdkModel;
use super::{integral, quoted};

/// An enum type: its values as string literals, comma-separated (the arguments of a Python
/// `Literal[...]`, the elements of a TypeScript `[...] as const`).
#[derive(Serialize)]
pub(crate) struct EnumView {
    name: String,
    values: String,
    aliases: Vec<String>,
}

/// The tree's enum types.
pub(crate) fn enum_views(model: &SdkModel) -> Vec<EnumView> {
    model
        .enums
        .iter()
        .map(|decl| EnumView {
            name: decl.name.clone(),
            values: quoted(&decl.values, ", "),
            aliases: decl.aliases.clone(),
        })
        .collect()
}

/// The message types of the VISS JSON schema, with each language's view of an object field.
#[derive(Serialize)]
pub(crate) struct MessagesView<F> {
    title: String,
    decls: Vec<DeclView<F>>,
}

#[derive(Serialize)]
struct DeclView<F> {
    name: String,
    doc: Vec<String>,
    /// The members of an object type; none for an alias.
    fields: Option<Vec<F>>,
    /// The aliased type.
    ty: String,
}

/// The schema's message declarations, spelt by the language's `doc` (documentation lines),
/// `field` (an object type's member) and `ty` (a type).
pub(crate) fn messages_view<V>(
    messages: &Messages,
    doc: impl Fn(&str) -> Vec<String>,
    field: impl Fn(&Field) -> V,
    ty: impl Fn(&Ty) -> String,
) -> MessagesView<V> {
    MessagesView {
        title: messages.title.clone(),
        decls: messages
            .decls
            .iter()
            .map(|decl| DeclView {
                name: decl.name.clone(),
                doc: doc(&decl.description),
                fields: match &decl.ty {
                    Ty::Object(fields) => Some(fields.iter().map(&field).collect()),
                    _ => None,
                },
                ty: ty(&decl.ty),
            })
            .collect(),
    }
}

/// The leaf handle class of a node (`Sensor`, `Actuator`, `Attribute` in both SDKs).
pub(crate) fn leaf_handle(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Actuator => "Actuator",
        NodeKind::Attribute => "Attribute",
        _ => "Sensor",
    }
}

/// The arguments of a numeric codec factory: the primitive's name, then its limits (integer
/// limits rounded inwards and spelt by `integer`; a missing `min` before a `max` is
/// `missing`).
pub(crate) fn numeric_codec_args(
    primitive: Primitive,
    min: Option<&serde_json::Number>,
    max: Option<&serde_json::Number>,
    integer: impl Fn(&serde_json::Number) -> String,
    missing: &str,
) -> Vec<String> {
    let bound = |number: Option<&serde_json::Number>, round_up: bool| {
        number.map(|number| {
            if primitive.is_integer() {
                integer(&integral(number, round_up))
            } else {
                number.to_string()
            }
        })
    };
    let mut args = vec![format!("\"{}\"", primitive.name())];
    match (bound(min, true), bound(max, false)) {
        (None, None) => {}
        (Some(min), None) => args.push(min),
        (min, Some(max)) => {
            args.push(min.unwrap_or_else(|| missing.to_owned()));
            args.push(max);
        }
    }
    args
}
