//! `src/tree.rs`: the branch structs with `#[derive(VissTree)]` and the VSS struct types,
//! built as tokens and formatted with prettyplease.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use vss_model::datatype::ElementType;
use vss_model::{Datatype, NodeKind, Primitive, Value};

use super::GenerateError;
use super::enums::EnumType;
use super::naming::to_ident;
use super::types::{BranchType, Field, Plan, Shape, StructType};

/// Formats tokens that form a whole file.
pub fn format_file(tokens: TokenStream) -> Result<String, GenerateError> {
    let file = syn::parse2::<syn::File>(tokens).map_err(|error| {
        GenerateError::Internal(format!("generated Rust does not parse: {error}"))
    })?;
    Ok(prettyplease::unparse(&file))
}

/// The items of `tree.rs`.
pub fn tree_tokens(plan: &Plan<'_>) -> Result<TokenStream, GenerateError> {
    let mut items = Vec::new();
    for &id in &plan.order {
        items.push(branch_struct(plan, &plan.branches[id], id == plan.root)?);
    }
    for ty in &plan.structs {
        items.push(struct_type(plan, ty)?);
    }
    if !plan.structs.is_empty() {
        items.push(struct_types_table(plan)?);
    }
    for ty in &plan.enums.enums {
        items.push(enum_type(plan, ty));
    }
    Ok(quote!(#(#items)*))
}

/// `STRUCT_TYPES`: every struct type with its members' datatypes and limits, the table the
/// engine checks struct values against (the root's `#[viss(struct_types = ...)]`).
fn struct_types_table(plan: &Plan<'_>) -> Result<TokenStream, GenerateError> {
    let mut entries = Vec::new();
    for ty in &plan.structs {
        let mut members = Vec::new();
        for (_, property) in &ty.properties {
            members.push(struct_member(plan.tree.get(*property))?);
        }
        let name = &ty.vss_name;
        entries.push(quote! {
            ::viss_runtime::StructType {
                name: ::std::borrow::Cow::Borrowed(#name),
                members: ::std::borrow::Cow::Borrowed(&[#(#members),*]),
            }
        });
    }
    let count = Literal::usize_unsuffixed(entries.len());
    Ok(quote! {
        /// The struct types of the tree: struct values a client sets are checked against
        /// them (members, datatypes, limits).
        pub static STRUCT_TYPES: [::viss_runtime::StructType; #count] = [#(#entries),*];
    })
}

/// One property as a runtime `StructMember`.
fn struct_member(property: &vss_model::Node) -> Result<TokenStream, GenerateError> {
    let data = &property.data;
    let path = &property.path;
    let datatype = data.datatype.as_ref().ok_or_else(|| {
        GenerateError::Unsupported(format!("{path}: property without a datatype"))
    })?;
    let datatype = runtime_datatype(datatype, path)?;
    let bound = |number: Option<&serde_json::Number>| match number.and_then(|n| n.as_f64()) {
        Some(value) => {
            let value = Literal::f64_unsuffixed(value);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    };
    let (min, max) = (bound(data.min.as_ref()), bound(data.max.as_ref()));
    let allowed = data.allowed.iter().flatten().map(|value| match value {
        Value::String(text) => quote!(::viss_runtime::Lit::string(#text)),
        Value::Bool(flag) => {
            let text = flag.to_string();
            quote!(::viss_runtime::Lit::boolean(#text))
        }
        other => {
            let text = other.to_string();
            quote!(::viss_runtime::Lit::number(#text))
        }
    });
    let name = &property.name;
    Ok(quote! {
        ::viss_runtime::StructMember {
            name: ::std::borrow::Cow::Borrowed(#name),
            datatype: #datatype,
            min: #min,
            max: #max,
            allowed: ::std::borrow::Cow::Borrowed(&[#(#allowed),*]),
        }
    })
}

/// A VSS datatype as the runtime's `DataType` constant.
fn runtime_datatype(datatype: &Datatype, path: &str) -> Result<TokenStream, GenerateError> {
    Ok(match (&datatype.element, datatype.is_array) {
        (ElementType::Primitive(primitive), array) => {
            let scalar = scalar_type(*primitive).ok_or_else(|| {
                GenerateError::Unsupported(format!("{path}: datatype {datatype}"))
            })?;
            if array {
                quote!(::viss_runtime::DataType::Array(::viss_runtime::ScalarType::#scalar))
            } else {
                quote!(::viss_runtime::DataType::Scalar(::viss_runtime::ScalarType::#scalar))
            }
        }
        (ElementType::Struct(name), false) => {
            quote!(::viss_runtime::DataType::Struct(::std::borrow::Cow::Borrowed(#name)))
        }
        (ElementType::Struct(name), true) => {
            quote!(::viss_runtime::DataType::StructArray(::std::borrow::Cow::Borrowed(#name)))
        }
    })
}

/// The runtime's `ScalarType` variant of a primitive (none for the pseudo-types).
fn scalar_type(primitive: Primitive) -> Option<proc_macro2::Ident> {
    (!primitive.is_pseudo())
        .then(|| proc_macro2::Ident::new(primitive.variant_name(), proc_macro2::Span::call_site()))
}

fn branch_struct(
    plan: &Plan<'_>,
    ty: &BranchType,
    is_root: bool,
) -> Result<TokenStream, GenerateError> {
    let ident = to_ident(&ty.ident);
    let example = plan.tree.get(ty.example);
    let mut docs = vec![format!(" `{}`", example.path)];
    if ty.uses > 1 {
        let more = ty.uses - 1;
        let noun = if more == 1 { "branch" } else { "branches" };
        docs.push(format!(" (and {more} more {noun} of the same shape)"));
    }
    if let Some(note) = &ty.note {
        docs.push(String::new());
        docs.push(format!(" {note}"));
    }
    let container_attr = if is_root {
        let name = example.name.as_str();
        let mut attrs = vec![quote!(root = #name)];
        if !plan.structs.is_empty() {
            attrs.push(quote!(struct_types = STRUCT_TYPES));
        }
        attrs.extend(common_attrs(&example.data));
        quote!(#[viss(#(#attrs),*)])
    } else {
        TokenStream::new()
    };
    let fields = ty
        .fields
        .iter()
        .map(|field| field_tokens(plan, field))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(quote! {
        #(#[doc = #docs])*
        #[derive(Debug, ::viss_runtime::VissTree)]
        #container_attr
        pub struct #ident {
            #(#fields,)*
        }
    })
}

fn field_tokens(plan: &Plan<'_>, field: &Field) -> Result<TokenStream, GenerateError> {
    let node = plan.tree.get(field.node);
    let ident = to_ident(&field.ident);
    let mut attrs = Vec::new();
    if let Some(name) = &field.vss_name {
        attrs.push(quote!(name = #name));
    }
    let ty = match &field.shape {
        Shape::Leaf => {
            attrs.extend(common_attrs(&node.data));
            attrs.extend(leaf_attrs(node)?);
            leaf_type(plan, field.node)?
        }
        Shape::Branch(id) => {
            attrs.extend(common_attrs(&node.data));
            let ty = to_ident(&plan.branches[*id].ident);
            quote!(#ty)
        }
        Shape::Instances {
            element,
            dimensions,
        } => {
            attrs.push(instances_attr(dimensions));
            attrs.extend(common_attrs(&node.data));
            let element = to_ident(&plan.branches[*element].ident);
            dimensions
                .iter()
                .rev()
                .fold(quote!(#element), |inner, names| {
                    let count = Literal::usize_unsuffixed(names.len());
                    quote!([#inner; #count])
                })
        }
    };
    let docs = unsupported_docs(&node.data);
    let viss = if attrs.is_empty() {
        TokenStream::new()
    } else {
        quote!(#[viss(#(#attrs),*)])
    };
    Ok(quote! {
        #(#[doc = #docs])*
        #viss
        pub #ident: #ty
    })
}

fn instances_attr(dimensions: &[Vec<String>]) -> TokenStream {
    if let [names] = dimensions {
        return quote!(instances(#(#names),*));
    }
    let lists = dimensions.iter().map(|names| quote!([#(#names),*]));
    quote!(instances(#(#lists),*))
}

/// `description`, `comment`, `deprecation`, `fka`, `const_uid`, `validate`, `extended(..)`.
///
/// Extended attributes follow vss-tools' JSON export of inner nodes: null or `[]` values
/// are dropped (the export keeps them on the root only for `-e` names). `validate` is the
/// typed tag (the derive puts it in the hot node table), so it is not an `extended` entry.
fn common_attrs(data: &vss_model::NodeData) -> Vec<TokenStream> {
    let mut attrs = Vec::new();
    if let Some(text) = &data.description {
        attrs.push(quote!(description = #text));
    }
    if let Some(text) = &data.comment {
        attrs.push(quote!(comment = #text));
    }
    if let Some(text) = &data.deprecation {
        attrs.push(quote!(deprecation = #text));
    }
    if !data.fka.is_empty() {
        let paths = &data.fka;
        attrs.push(quote!(fka = [#(#paths),*]));
    }
    if let Some(uid) = &data.const_uid {
        attrs.push(quote!(const_uid = #uid));
    }
    if let Some(tag) = data.validate {
        let tag = tag.as_str();
        attrs.push(quote!(validate = #tag));
    }
    let extended: Vec<TokenStream> = data
        .untyped_extended()
        .filter(|(_, value)| !is_null_or_empty_list(value))
        .map(|(name, value)| {
            let name = attr_name(name);
            let value = json_tokens(value);
            quote!(#name = #value)
        })
        .collect();
    if !extended.is_empty() {
        attrs.push(quote!(extended(#(#extended),*)));
    }
    attrs
}

fn is_null_or_empty_list(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// A name in `enum(..)`/`extended(..)`: an identifier when it is one, else a string.
fn attr_name(name: &str) -> TokenStream {
    match syn::parse_str::<syn::Ident>(name) {
        Ok(ident) if ident == name => quote!(#ident),
        _ => quote!(#name),
    }
}

/// An extended attribute's value: literals, `null` and arrays as Rust tokens, objects as
/// `json("..")` text.
fn json_tokens(value: &Value) -> TokenStream {
    match value {
        Value::Null => quote!(null),
        Value::Bool(flag) => quote!(#flag),
        Value::String(text) => quote!(#text),
        Value::Number(number) => number_literal(number, false),
        Value::Array(items) => {
            let items = items.iter().map(json_tokens);
            quote!([#(#items),*])
        }
        Value::Object(_) => {
            let text = value.to_string();
            quote!(json(#text))
        }
    }
}

/// `unit`, `min`, `max`, `allowed`, `default`, `enum`, `pattern`.
fn leaf_attrs(node: &vss_model::Node) -> Result<Vec<TokenStream>, GenerateError> {
    let data = &node.data;
    let integer = data
        .datatype
        .as_ref()
        .and_then(Datatype::primitive_element)
        .is_some_and(Primitive::is_integer);
    let mut attrs = Vec::new();
    if let Some(unit) = &data.unit {
        attrs.push(quote!(unit = #unit));
    }
    if let Some(min) = &data.min {
        let min = number_literal(min, integer);
        attrs.push(quote!(min = #min));
    }
    if let Some(max) = &data.max {
        let max = number_literal(max, integer);
        attrs.push(quote!(max = #max));
    }
    if let Some(allowed) = &data.allowed {
        let values = allowed
            .iter()
            .map(|value| scalar_literal(value, integer, &node.path))
            .collect::<Result<Vec<_>, _>>()?;
        attrs.push(quote!(allowed = [#(#values),*]));
    }
    let is_struct = data.datatype.as_ref().is_some_and(Datatype::is_struct);
    if let (Some(default), false) = (&data.default, is_struct) {
        let value = match default {
            Value::Array(items) => {
                let items = items
                    .iter()
                    .map(|item| scalar_literal(item, integer, &node.path))
                    .collect::<Result<Vec<_>, _>>()?;
                quote!([#(#items),*])
            }
            scalar => scalar_literal(scalar, integer, &node.path)?,
        };
        attrs.push(quote!(default = #value));
    }
    if let Some(enumeration) = &data.enumeration {
        let entries = enumeration
            .iter()
            .map(|(name, value)| {
                let name = attr_name(name);
                let value = scalar_literal(value, integer, &node.path)?;
                Ok(quote!(#name = #value))
            })
            .collect::<Result<Vec<_>, GenerateError>>()?;
        attrs.push(quote!(enum(#(#entries),*)));
    }
    if let Some(pattern) = &data.pattern {
        attrs.push(quote!(pattern = #pattern));
    }
    Ok(attrs)
}

/// A number as a (possibly negative) literal; integral floats on integer leaves become
/// integers so the derive's range check sees the type it expects.
fn number_literal(number: &serde_json::Number, integer_leaf: bool) -> TokenStream {
    let (negative, literal) = if let Some(value) = number.as_u64() {
        (false, Literal::u64_unsuffixed(value))
    } else if let Some(value) = number.as_i64() {
        (true, Literal::u64_unsuffixed(value.unsigned_abs()))
    } else {
        let value = number.as_f64().unwrap_or_default();
        let literal = if integer_leaf && value.fract() == 0.0 && value.abs() < 1e18 {
            Literal::u64_unsuffixed(value.abs() as u64)
        } else {
            Literal::f64_unsuffixed(value.abs())
        };
        (value.is_sign_negative(), literal)
    };
    if negative {
        quote!(-#literal)
    } else {
        quote!(#literal)
    }
}

fn scalar_literal(value: &Value, integer: bool, path: &str) -> Result<TokenStream, GenerateError> {
    match value {
        Value::String(text) => Ok(quote!(#text)),
        Value::Bool(flag) => Ok(quote!(#flag)),
        Value::Number(number) => Ok(number_literal(number, integer)),
        other => Err(GenerateError::Unsupported(format!(
            "{path}: value {other} cannot be a Rust literal"
        ))),
    }
}

/// Attributes the derive does not carry, kept as documentation so nothing is lost silently
/// (none of them is in vss-tools' JSON export either).
fn unsupported_docs(data: &vss_model::NodeData) -> Vec<String> {
    let mut docs = Vec::new();
    let mut add = |key: &str, value: String| docs.push(format!(" VSS `{key}`: {value}"));
    if let Some(size) = data.arraysize {
        add("arraysize", size.to_string());
    }
    if let Some(aggregate) = data.aggregate {
        add("aggregate", aggregate.to_string());
    }
    docs
}

/// `::viss_runtime::Sensor<T>` and friends.
fn leaf_type(plan: &Plan<'_>, id: vss_model::NodeId) -> Result<TokenStream, GenerateError> {
    let node = plan.tree.get(id);
    let value = leaf_value_type(plan, id, &TokenStream::new())?;
    let handle = match node.kind {
        NodeKind::Sensor => quote!(::viss_runtime::Sensor),
        NodeKind::Actuator => quote!(::viss_runtime::Actuator),
        NodeKind::Attribute => quote!(::viss_runtime::Attribute),
        _ => return Err(GenerateError::StructInSignalTree(node.path.clone())),
    };
    Ok(quote!(#handle<#value>))
}

/// The Rust value type of leaf `id`: its enum when it has an `allowed` list of strings,
/// else the type of its datatype; types of `tree.rs` behind `prefix` (`crate::tree::`).
pub fn leaf_value_type(
    plan: &Plan<'_>,
    id: vss_model::NodeId,
    prefix: &TokenStream,
) -> Result<TokenStream, GenerateError> {
    let node = plan.tree.get(id);
    let datatype = node.data.datatype.as_ref().ok_or_else(|| {
        GenerateError::Unsupported(format!("{}: leaf without a datatype", node.path))
    })?;
    match plan.enums.leaf_types.get(&id) {
        Some(ident) => {
            let ident = to_ident(ident);
            Ok(if datatype.is_array {
                quote!(Vec<#prefix #ident>)
            } else {
                quote!(#prefix #ident)
            })
        }
        None => rust_type_at(plan, datatype, &node.path, prefix),
    }
}

/// The Rust value type of a VSS datatype, in `tree.rs`.
pub fn rust_type(
    plan: &Plan<'_>,
    datatype: &Datatype,
    path: &str,
) -> Result<TokenStream, GenerateError> {
    rust_type_at(plan, datatype, path, &TokenStream::new())
}

/// The Rust value type of a VSS datatype, struct types behind `prefix` (`crate::tree::`).
pub fn rust_type_at(
    plan: &Plan<'_>,
    datatype: &Datatype,
    path: &str,
    prefix: &TokenStream,
) -> Result<TokenStream, GenerateError> {
    let element = match &datatype.element {
        ElementType::Primitive(primitive) => primitive_type(*primitive)
            .ok_or_else(|| GenerateError::Unsupported(format!("{path}: datatype {datatype}")))?,
        ElementType::Struct(name) => {
            let ident = plan.struct_idents.get(name).ok_or_else(|| {
                GenerateError::Unsupported(format!("{path}: unknown struct type {name}"))
            })?;
            let ident = to_ident(ident);
            quote!(#prefix #ident)
        }
    };
    Ok(if datatype.is_array {
        quote!(Vec<#element>)
    } else {
        element
    })
}

/// The Rust type a primitive's values are held in (none for the pseudo-types).
fn primitive_type(primitive: Primitive) -> Option<TokenStream> {
    let rust = proc_macro2::Ident::new(primitive.rust_type()?, proc_macro2::Span::call_site());
    Some(quote!(#rust))
}

/// A VSS struct type with its `VssType` / `VssElement` impls.
fn struct_type(plan: &Plan<'_>, ty: &StructType) -> Result<TokenStream, GenerateError> {
    let ident = to_ident(&ty.ident);
    let vss_name = &ty.vss_name;
    let node = plan.tree.get(ty.node);
    let mut docs = vec![format!(" The VSS struct type `{vss_name}`.")];
    if let Some(description) = &node.data.description {
        docs.push(String::new());
        docs.push(format!(" {description}"));
    }
    let mut fields = Vec::new();
    let mut into = Vec::new();
    let mut from = Vec::new();
    for (field, property) in &ty.properties {
        let property = plan.tree.get(*property);
        let datatype = property.data.datatype.as_ref().ok_or_else(|| {
            GenerateError::Unsupported(format!("{}: property without a datatype", property.path))
        })?;
        let rust = rust_type(plan, datatype, &property.path)?;
        let field = to_ident(field);
        let name = &property.name;
        let doc = property
            .data
            .description
            .iter()
            .map(|text| format!(" {text}"));
        fields.push(quote!(#(#[doc = #doc])* pub #field: #rust));
        into.push(quote!((#name.to_owned(), ::viss_runtime::VssType::into_value(self.#field))));
        from.push(quote!(#field: ::viss_runtime::typed::take_field(&mut fields, #name)?));
    }
    let from_body = if from.is_empty() {
        quote!(matches!(value, ::viss_runtime::Value::Struct(_)).then_some(Self {}))
    } else {
        quote! {
            let ::viss_runtime::Value::Struct(mut fields) = value else {
                return ::core::option::Option::None;
            };
            ::core::option::Option::Some(Self { #(#from,)* })
        }
    };
    Ok(quote! {
        #(#[doc = #docs])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct #ident {
            #(#fields,)*
        }

        impl ::viss_runtime::VssType for #ident {
            const DATATYPE: ::viss_runtime::DataType =
                ::viss_runtime::typed::struct_datatype(#vss_name);

            fn into_value(self) -> ::viss_runtime::Value {
                ::viss_runtime::Value::Struct(::std::vec![#(#into),*])
            }

            fn from_value(value: ::viss_runtime::Value) -> ::core::option::Option<Self> {
                #from_body
            }
        }

        impl ::viss_runtime::VssElement for #ident {
            const ARRAY_DATATYPE: ::viss_runtime::DataType =
                ::viss_runtime::typed::struct_array_datatype(#vss_name);
        }
    })
}

/// An enum of an `allowed` list (`#[derive(VissEnum)]`) and the aliases of the further
/// concepts that share its list.
fn enum_type(plan: &Plan<'_>, ty: &EnumType) -> TokenStream {
    let ident = to_ident(&ty.ident);
    let mut docs = Vec::new();
    if let Some(first) = ty.leaves.first() {
        let first = plan.tree.get(*first);
        let more = ty.leaves.len() - 1;
        docs.push(match more {
            0 => format!(" The values of `{}`.", first.path),
            1 => format!(" The values of `{}` and 1 more leaf.", first.path),
            _ => format!(" The values of `{}` and {more} more leaves.", first.path),
        });
        if let Some(description) = &first.data.description {
            docs.push(String::new());
            docs.push(format!(" {description}"));
        }
    }
    docs.push(String::new());
    docs.push(" On the wire each variant is its VSS string (`Display`, `FromStr`).".to_owned());
    let derive_default = ty.default.map(|_| quote!(Default,));
    let variants = ty.variants.iter().enumerate().map(|(index, variant)| {
        let variant_ident = to_ident(&variant.ident);
        let default = (ty.default == Some(index)).then(|| quote!(#[default]));
        let name = variant
            .explicit_name()
            .map(|name| quote!(#[viss(name = #name)]));
        let doc = format!(" `{}`", variant.vss_name);
        quote!(#[doc = #doc] #default #name #variant_ident)
    });
    let aliases = ty.aliases.iter().map(|(alias, first)| {
        let alias = to_ident(alias);
        let doc = format!(
            " The values of `{}`: the same list as [`{}`].",
            plan.tree.get(*first).path,
            ty.ident
        );
        quote! {
            #[doc = #doc]
            pub type #alias = #ident;
        }
    });
    quote! {
        #(#[doc = #docs])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, #derive_default ::viss_runtime::VissEnum)]
        pub enum #ident {
            #(#variants,)*
        }

        #(#aliases)*
    }
}
