//! `#[derive(VissEnum)]`'s front end: a fieldless enum and the VSS string of each variant,
//! checked (unit variants only, no generics, strings unique and valid enum values by
//! `vss_vocab::name::enum_value_error`).

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident};

use super::{Ctxt, attr, symbol};

/// The derived enum.
pub struct Enum<'a> {
    pub ident: &'a Ident,
    pub variants: Vec<Variant<'a>>,
}

/// One variant and the string the wire carries for it.
pub struct Variant<'a> {
    pub ident: &'a Ident,
    pub vss_name: String,
    pub name_span: Span,
}

impl<'a> Enum<'a> {
    /// Parses and checks `input`; `None` (with errors in `cx`) when it cannot be a VSS enum.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        for attr in input
            .attrs
            .iter()
            .filter(|attr| attr.path() == &symbol::VISS)
        {
            cx.error_spanned_by(
                attr,
                "`#[viss(..)]` on a `VissEnum` goes on its variants (`name = \"..\"`)",
            );
        }
        if !input.generics.params.is_empty() {
            cx.error_spanned_by(
                &input.generics,
                "#[derive(VissEnum)] does not support generic enums",
            );
        }
        let Data::Enum(data) = &input.data else {
            cx.error_spanned_by(
                &input.ident,
                "#[derive(VissEnum)] needs an enum whose variants are the values of an \
                 `allowed` list",
            );
            return None;
        };
        if data.variants.is_empty() {
            cx.error_spanned_by(&input.ident, "a VSS enum needs at least one variant");
        }
        let variants = data
            .variants
            .iter()
            .filter_map(|variant| Variant::from_ast(cx, variant))
            .collect();
        let parsed = Self {
            ident: &input.ident,
            variants,
        };
        parsed.check_names(cx);
        Some(parsed)
    }

    fn check_names(&self, cx: &Ctxt) {
        let mut seen: Vec<(&str, &Ident)> = Vec::new();
        for variant in &self.variants {
            let name = variant.vss_name.as_str();
            if let Some(why) = vss_vocab::name::enum_value_error(name) {
                cx.error_at(variant.name_span, format!("a VSS enum value {why}"));
            }
            match seen.iter().find(|(other, _)| *other == name) {
                Some((_, first)) => cx.error_at(
                    variant.name_span,
                    format!("duplicate VSS value \"{name}\": variant `{first}` already has it"),
                ),
                None => seen.push((name, variant.ident)),
            }
        }
    }
}

impl<'a> Variant<'a> {
    fn from_ast(cx: &Ctxt, variant: &'a syn::Variant) -> Option<Self> {
        if !matches!(variant.fields, Fields::Unit) {
            cx.error_spanned_by(
                &variant.fields,
                "a VSS enum value carries no data: use a unit variant",
            );
            return None;
        }
        let (vss_name, name_span) = match attr::variant_name(cx, &variant.attrs) {
            Some(name) => (name.value, name.span),
            None => (
                vss_vocab::name::default_enum_value(&variant.ident.to_string()),
                variant.ident.span(),
            ),
        };
        Some(Self {
            ident: &variant.ident,
            vss_name,
            name_span,
        })
    }
}
