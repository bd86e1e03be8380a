//! The message types of the VISS JSON schema ([`Messages`]) as Rust: serde structs for
//! object types, enums for literal sets (a one-value enum for a constant such as
//! `action: "get"`, so a request serializes whole from its fields), untagged enums for
//! unions. A type used inline gets a name from where it is used (`RangeFilterParameterLogicOp`).
//!
//! Unions are untagged: serde tries their members in order, and one member may read a
//! message meant for another (unknown members are ignored), so members that require more
//! are tried first: an error answer (`error`, `ts`) before a plain answer (`ts`).

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::messages::{Decl, Field, Messages, Ty};
use crate::backend::rust::naming::{field_ident, to_ident, type_ident, unique};

/// `messages.rs`: every declaration, in the schema's order, then the ones named inline.
pub fn messages_tokens(messages: &Messages) -> TokenStream {
    let mut spelling = Spelling {
        decls: &messages.decls,
        names: messages
            .decls
            .iter()
            .map(|decl| decl.name.clone())
            .collect(),
        extra: Vec::new(),
    };
    let items: Vec<TokenStream> = messages
        .decls
        .iter()
        .map(|decl| spelling.decl(&decl.name, &decl.description, &decl.ty))
        .collect();
    let extra = std::mem::take(&mut spelling.extra);
    let doc = format!(
        " The VISS message types, derived from the JSON schema \"{}\" with the corrections \
         of vssgen's overlay (`schemas/viss-v3-messages.overlay.json`).",
        messages.title
    );
    quote! {
        #![doc = #doc]
        #![allow(clippy::large_enum_variant)]

        use std::collections::BTreeMap;

        #(#items)*
        #(#extra)*
    }
}

struct Spelling<'m> {
    decls: &'m [Decl],
    /// Every type name taken.
    names: BTreeSet<String>,
    /// Types named where they are used.
    extra: Vec<TokenStream>,
}

impl Spelling<'_> {
    fn decl(&mut self, name: &str, description: &str, ty: &Ty) -> TokenStream {
        let ident = to_ident(name);
        let doc = doc_attr(description);
        match ty {
            Ty::Object(fields) => {
                let fields: Vec<TokenStream> =
                    fields.iter().map(|field| self.field(name, field)).collect();
                quote! {
                    #doc
                    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
                    pub struct #ident {
                        #(#fields)*
                    }
                }
            }
            Ty::Literals(values) => literal_enum(&ident, &doc, values),
            Ty::Union(members) => self.union(name, &doc, members),
            other => {
                let ty = self.ty(other, name);
                quote! {
                    #doc
                    pub type #ident = #ty;
                }
            }
        }
    }

    fn field(&mut self, owner: &str, field: &Field) -> TokenStream {
        let ident = to_ident(&field_ident(&field.name));
        let rename = (ident.to_string().trim_start_matches("r#") != field.name).then(|| {
            let name = &field.name;
            quote!(#[serde(rename = #name)])
        });
        let context = format!("{owner}{}", type_ident(&field.name));
        let ty = self.ty(&field.ty, &context);
        let doc = doc_attr(&field.description);
        if field.required {
            quote! { #doc #rename pub #ident: #ty, }
        } else {
            quote! {
                #doc
                #rename
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub #ident: Option<#ty>,
            }
        }
    }

    /// The Rust type of `ty`; a literal set or union used here is declared as `context`.
    fn ty(&mut self, ty: &Ty, context: &str) -> TokenStream {
        match ty {
            Ty::String => quote!(String),
            Ty::Number => quote!(f64),
            Ty::Boolean => quote!(bool),
            Ty::Unknown | Ty::Object(_) => quote!(serde_json::Value),
            Ty::Array(element) => {
                let element = self.ty(element, context);
                quote!(Vec<#element>)
            }
            Ty::Record(members) => {
                let members = self.ty(members, context);
                quote!(BTreeMap<String, #members>)
            }
            Ty::Named(name) => {
                let ident = to_ident(name);
                quote!(#ident)
            }
            Ty::Literals(_) | Ty::Union(_) => {
                let name = unique(&mut self.names, context.to_owned(), "");
                let decl = self.decl(&name, "", ty);
                self.extra.push(decl);
                let ident = to_ident(&name);
                quote!(#ident)
            }
        }
    }

    /// An untagged enum, members requiring more tried first.
    fn union(&mut self, name: &str, doc: &TokenStream, members: &[Ty]) -> TokenStream {
        let mut ordered: Vec<&Ty> = members.iter().collect();
        ordered.sort_by_key(|member| std::cmp::Reverse(self.required_count(member)));
        let mut used = BTreeSet::new();
        let variants: Vec<TokenStream> = ordered
            .into_iter()
            .map(|member| {
                let variant = unique(&mut used, variant_name(member), "");
                let variant = format_ident!("{variant}");
                let ty = self.ty(member, &format!("{name}{variant}"));
                quote!(#variant(#ty),)
            })
            .collect();
        let ident = to_ident(name);
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
            #[serde(untagged)]
            pub enum #ident {
                #(#variants)*
            }
        }
    }

    /// How many members a named object type requires (0 for anything else).
    fn required_count(&self, ty: &Ty) -> usize {
        let Ty::Named(name) = ty else {
            return 0;
        };
        match self
            .decls
            .iter()
            .find(|decl| &decl.name == name)
            .map(|decl| &decl.ty)
        {
            Some(Ty::Object(fields)) => fields.iter().filter(|field| field.required).count(),
            _ => 0,
        }
    }
}

/// A variant's name for a union member: its type's name, or what it is.
fn variant_name(ty: &Ty) -> String {
    match ty {
        Ty::Named(name) => name.clone(),
        Ty::String => "String".to_owned(),
        Ty::Number => "Number".to_owned(),
        Ty::Boolean => "Boolean".to_owned(),
        Ty::Array(_) => "Array".to_owned(),
        Ty::Record(_) | Ty::Object(_) => "Object".to_owned(),
        Ty::Literals(_) => "Literal".to_owned(),
        Ty::Unknown => "Other".to_owned(),
        Ty::Union(_) => "OneOf".to_owned(),
    }
}

/// An enum of string literals, each variant renamed to its literal.
fn literal_enum(ident: &proc_macro2::Ident, doc: &TokenStream, values: &[String]) -> TokenStream {
    let mut used = BTreeSet::new();
    let variants: Vec<TokenStream> = values
        .iter()
        .map(|value| {
            let base = value.to_snake_case().to_upper_camel_case();
            let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
                format!("V{base}")
            } else {
                base
            };
            let variant = format_ident!("{}", unique(&mut used, base, ""));
            quote! {
                #[serde(rename = #value)]
                #variant,
            }
        })
        .collect();
    // A one-value enum is a constant: it is also its own default.
    let default = (values.len() == 1).then(|| quote!(#[derive(Default)]));
    let variants = match (values.len(), variants.first()) {
        (1, Some(only)) => vec![quote!(#[default] #only)],
        _ => variants,
    };
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #default
        pub enum #ident {
            #(#variants)*
        }
    }
}

fn doc_attr(description: &str) -> TokenStream {
    let lines: Vec<String> = super::doc_lines(description)
        .into_iter()
        .map(|line| format!(" {line}"))
        .collect();
    quote!(#(#[doc = #lines])*)
}
