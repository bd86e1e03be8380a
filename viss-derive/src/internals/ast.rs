//! The typed AST: the derived struct and its fields, classified into leaves, branches and
//! instance sets, each keeping the syn node for spans.

use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

use super::Ctxt;
use super::attr::{self, ContainerAttrs, FieldAttrs};
use super::symbol;

/// The derived struct.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub attrs: ContainerAttrs,
    pub fields: Vec<Field<'a>>,
}

/// One field: a node (or instance set) of the tree.
pub struct Field<'a> {
    pub member: &'a Ident,
    pub ty: &'a Type,
    pub kind: FieldKind<'a>,
    pub attrs: FieldAttrs,
    /// The VSS name: `name = ".."` or the field name in UpperCamelCase.
    pub vss_name: String,
    /// Where the name comes from (the `name` value or the field identifier).
    pub name_span: proc_macro2::Span,
}

/// What a field is, from its type.
pub enum FieldKind<'a> {
    /// `Sensor<T>`, `Actuator<T>` or `Attribute<T>`.
    Leaf {
        /// `Sensor`, `Actuator` or `Attribute`: also the `NodeKind` variant.
        handle: syn::Ident,
        value_ty: &'a Type,
        datatype: Datatype,
        /// The value type (or an array's element) is not a primitive: a struct type, or a
        /// `#[derive(VissEnum)]` enum (then `datatype` is `string`/`string[]`: the leaf
        /// has an `allowed` list, which a const check compares with the enum's variants).
        user_type: bool,
    },
    /// A `#[derive(VissTree)]` struct.
    Branch,
    /// `[B; N]` (or `[[B; M]; N]`...): an instance set of branch type `B`.
    Instances {
        branch_ty: &'a Type,
        /// Array lengths, outermost first (`None` when not an integer literal).
        lengths: Vec<Option<usize>>,
    },
}

impl FieldKind<'_> {
    /// A leaf of a user type with an `allowed` list holds an enum of that list: its values
    /// are strings (the enum's `VssType`), checked as a string leaf's.
    fn read_as_enum(&mut self) {
        if let Self::Leaf {
            datatype,
            user_type: true,
            ..
        } = self
        {
            *datatype = match datatype {
                Datatype::StructArray => Datatype::Array(Primitive::String),
                _ => Datatype::Scalar(Primitive::String),
            };
        }
    }
}

/// The VSS primitive a leaf value is made of, as far as the Rust type's spelling tells
/// (`u8` → `uint8`): the vocabulary's table (`vss-vocab`).
pub use vss_vocab::Primitive;

/// What kind of value a primitive holds with its indefinite article (`an integer`).
pub fn describe_with_article(primitive: Primitive) -> String {
    let name = primitive.kind_of_value();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// A leaf's datatype as spelled: a primitive, `Vec` of one, or a struct type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    Scalar(Primitive),
    Array(Primitive),
    Struct,
    StructArray,
}

impl Datatype {
    /// The primitive of a scalar or of an array's elements.
    pub fn primitive(self) -> Option<Primitive> {
        match self {
            Self::Scalar(primitive) | Self::Array(primitive) => Some(primitive),
            Self::Struct | Self::StructArray => None,
        }
    }

    pub fn is_array(self) -> bool {
        matches!(self, Self::Array(_) | Self::StructArray)
    }
}

const FIELD_TYPE_HELP: &str = "expected `Sensor<T>`, `Actuator<T>`, `Attribute<T>`, a \
     `#[derive(VissTree)]` struct, or an instance set `[Branch; N]`";

impl<'a> Container<'a> {
    /// Parses the struct; `None` (with errors in `cx`) when it cannot be a tree.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::container_attrs(cx, &input.attrs);
        if !input.generics.params.is_empty() {
            cx.error_spanned_by(
                &input.generics,
                "#[derive(VissTree)] does not support generic structs",
            );
        }
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(named.named.iter().collect::<Vec<_>>()),
                Fields::Unit => Some(Vec::new()),
                Fields::Unnamed(_) => None,
            },
            _ => None,
        };
        let Some(named) = named else {
            cx.error_spanned_by(
                &input.ident,
                "#[derive(VissTree)] needs a struct with named fields",
            );
            return None;
        };
        let fields = named
            .into_iter()
            .filter_map(|field| Field::from_ast(cx, field))
            .collect();
        Some(Self {
            ident: &input.ident,
            attrs,
            fields,
        })
    }

    /// The root node's name when this is a root (`#[viss(root)]`).
    pub fn root_name(&self) -> Option<String> {
        let root = self.attrs.root.as_ref()?;
        Some(root.value.clone().unwrap_or_else(|| self.ident.to_string()))
    }
}

impl<'a> Field<'a> {
    fn from_ast(cx: &Ctxt, field: &'a syn::Field) -> Option<Self> {
        let member = field.ident.as_ref()?;
        let attrs = attr::field_attrs(cx, &field.attrs);
        let mut kind = field_kind(cx, &field.ty)?;
        if attrs.allowed.is_some() {
            kind.read_as_enum();
        }
        let (vss_name, name_span) = match &attrs.name {
            Some(name) => (name.value.clone(), name.span),
            None => (upper_camel(&member.to_string()), member.span()),
        };
        Some(Self {
            member,
            ty: &field.ty,
            kind,
            attrs,
            vss_name,
            name_span,
        })
    }
}

/// `is_open` → `IsOpen`, `row1` → `Row1`, `r#type` → `Type`.
pub fn upper_camel(snake: &str) -> String {
    snake
        .trim_start_matches("r#")
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

fn field_kind<'a>(cx: &Ctxt, ty: &'a Type) -> Option<FieldKind<'a>> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            let name = last.ident.to_string();
            if [symbol::SENSOR, symbol::ACTUATOR, symbol::ATTRIBUTE].contains(&name.as_str()) {
                return leaf_kind(cx, ty, &last.ident, &last.arguments);
            }
            if !last.arguments.is_none() || Primitive::from_rust_type(&name).is_some() {
                cx.error_spanned_by(ty, format!("unsupported field type; {FIELD_TYPE_HELP}"));
                return None;
            }
            Some(FieldKind::Branch)
        }
        Type::Array(_) => instances_kind(cx, ty),
        Type::Paren(inner) => field_kind(cx, &inner.elem),
        _ => {
            cx.error_spanned_by(ty, format!("unsupported field type; {FIELD_TYPE_HELP}"));
            None
        }
    }
}

fn leaf_kind<'a>(
    cx: &Ctxt,
    ty: &'a Type,
    handle: &syn::Ident,
    arguments: &'a PathArguments,
) -> Option<FieldKind<'a>> {
    let value_ty = match arguments {
        PathArguments::AngleBracketed(arguments) if arguments.args.len() == 1 => {
            match arguments.args.first() {
                Some(GenericArgument::Type(value_ty)) => Some(value_ty),
                _ => None,
            }
        }
        _ => None,
    };
    let Some(value_ty) = value_ty else {
        cx.error_spanned_by(ty, "a leaf handle takes the value type: e.g. `Sensor<f32>`");
        return None;
    };
    let datatype = datatype(cx, value_ty)?;
    Some(FieldKind::Leaf {
        handle: syn::Ident::new(&handle.to_string(), proc_macro2::Span::call_site()),
        value_ty,
        datatype,
        user_type: datatype.primitive().is_none(),
    })
}

/// Classifies a leaf's value type by its spelling.
fn datatype(cx: &Ctxt, ty: &Type) -> Option<Datatype> {
    let unsupported = |message: &str| {
        cx.error_spanned_by(ty, message);
        None
    };
    let Type::Path(path) = ty else {
        return unsupported(
            "unsupported leaf value type; expected a VSS datatype: bool, u8..u64, i8..i64, \
             f32, f64, String, Vec<T> of those, or a struct type implementing VssType",
        );
    };
    let Some(last) = path.path.segments.last() else {
        return unsupported("unsupported leaf value type");
    };
    let name = last.ident.to_string();
    if name == "Vec" {
        let element = match &last.arguments {
            PathArguments::AngleBracketed(arguments) => match arguments.args.first() {
                Some(GenericArgument::Type(element)) => element,
                _ => return unsupported("`Vec` needs an element type"),
            },
            _ => return unsupported("`Vec` needs an element type"),
        };
        return match datatype(cx, element)? {
            Datatype::Scalar(primitive) => Some(Datatype::Array(primitive)),
            Datatype::Struct => Some(Datatype::StructArray),
            Datatype::Array(_) | Datatype::StructArray => {
                unsupported("VSS has no arrays of arrays")
            }
        };
    }
    if let Some(instead) = unsupported_primitive(&name) {
        cx.error_spanned_by(ty, format!("`{name}` is not a VSS datatype; use {instead}"));
        return None;
    }
    if name == "Option" {
        return unsupported(
            "a leaf value cannot be an `Option`: every leaf may be unavailable already; \
             use the value type itself",
        );
    }
    if !last.arguments.is_none() {
        return unsupported("unsupported leaf value type: generic types are not VSS datatypes");
    }
    Some(match Primitive::from_rust_type(&name) {
        Some(primitive) => Datatype::Scalar(primitive),
        None => Datatype::Struct,
    })
}

fn instances_kind<'a>(cx: &Ctxt, ty: &'a Type) -> Option<FieldKind<'a>> {
    let mut lengths = Vec::new();
    let mut element = ty;
    while let Type::Array(array) = element {
        lengths.push(literal_length(&array.len));
        element = &array.elem;
    }
    match field_kind(cx, element)? {
        FieldKind::Branch => Some(FieldKind::Instances {
            branch_ty: element,
            lengths,
        }),
        _ => {
            cx.error_spanned_by(
                element,
                "instance sets contain branches: the element must be a \
                 `#[derive(VissTree)]` struct",
            );
            None
        }
    }
}

fn literal_length(expr: &syn::Expr) -> Option<usize> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => int.base10_parse().ok(),
        _ => None,
    }
}

/// Rust primitives with no VSS datatype, and what to use instead.
fn unsupported_primitive(name: &str) -> Option<&'static str> {
    match name {
        "usize" | "u128" => Some("`u8`, `u16`, `u32` or `u64`"),
        "isize" | "i128" => Some("`i8`, `i16`, `i32` or `i64`"),
        "char" | "str" => Some("`String`"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::upper_camel;

    #[test]
    fn field_names_become_upper_camel_case() {
        for (field, vss) in [
            ("is_open", "IsOpen"),
            ("row1", "Row1"),
            ("speed", "Speed"),
            ("r#type", "Type"),
            ("o2_voltages", "O2Voltages"),
            ("abs_is_engaged", "AbsIsEngaged"),
        ] {
            assert_eq!(upper_camel(field), vss);
        }
    }
}
