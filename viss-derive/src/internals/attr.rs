//! Typed `#[viss(...)]` attributes. Every key may appear once ([`Attr`] reports duplicates);
//! unknown keys are reported and skipped so the keys after them are still checked.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Expr, Ident, Lit, LitStr, Token, UnOp};

use super::Ctxt;
use super::symbol::{self, Symbol};

/// A value with the span of the tokens it came from.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// A literal in `min`, `max`, `allowed` or `default`.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Bool(bool),
    /// An integer or float literal, with its sign.
    Number(Number),
}

/// A numeric literal: its value, its text (what VSS metadata shows) and whether it was an
/// integer literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub value: f64,
    pub text: String,
    pub integer: bool,
}

/// The `default` value: one literal, or an array literal for array leaves.
#[derive(Debug, Clone)]
pub enum DefaultValue {
    Scalar(Spanned<Scalar>),
    Array(Vec<Spanned<Scalar>>),
}

/// Instance names per dimension: `instances("Row1", "Row2")` has one dimension,
/// `instances(["Row1", "Row2"], ["DriverSide", "PassengerSide"])` two.
pub type Dimensions = Vec<Vec<Spanned<String>>>;

/// One attribute key: set at most once.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    key: Symbol,
    value: Option<Spanned<T>>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, key: Symbol) -> Self {
        Self {
            cx,
            key,
            value: None,
        }
    }

    fn set(&mut self, span: Span, value: T) {
        if self.value.is_some() {
            self.cx
                .error_at(span, format!("duplicate viss attribute `{}`", self.key));
        } else {
            self.value = Some(Spanned { value, span });
        }
    }

    fn get(self) -> Option<Spanned<T>> {
        self.value
    }
}

/// One `enum` entry: `"NAME" = 1` (or `NAME = 1`).
#[derive(Debug, Clone)]
pub struct EnumEntry {
    pub name: Spanned<String>,
    pub value: Spanned<Scalar>,
}

/// One extended attribute: `name = value`, the value kept as JSON text.
#[derive(Debug, Clone)]
pub struct ExtendedAttr {
    pub name: Spanned<String>,
    pub json: Spanned<String>,
}

/// Metadata every node may carry.
#[derive(Debug, Default)]
pub struct CommonAttrs {
    pub description: Option<Spanned<String>>,
    pub comment: Option<Spanned<String>>,
    pub deprecation: Option<Spanned<String>>,
    /// `fka = ["Vehicle.Old"]`.
    pub fka: Option<Spanned<Vec<Spanned<String>>>>,
    /// `const_uid = "0x..."` (VSS `constUID`).
    pub const_uid: Option<Spanned<String>>,
    /// `extended(dbc = "Speed", priority = 1)`.
    pub extended: Option<Spanned<Vec<ExtendedAttr>>>,
    /// `validate = "read-write"` (VISS access control), the span of the string literal.
    pub validate: Option<Spanned<String>>,
}

/// Attributes of the derived struct.
#[derive(Debug, Default)]
pub struct ContainerAttrs {
    /// `root` (name = the struct's name) or `root = "Vehicle"`.
    pub root: Option<Spanned<Option<String>>>,
    /// `struct_types = STRUCT_TYPES`: a static `[StructType]` the tree's struct values are
    /// checked against (root only).
    pub struct_types: Option<Spanned<proc_macro2::TokenStream>>,
    pub common: CommonAttrs,
}

/// Attributes of one field.
#[derive(Debug, Default)]
pub struct FieldAttrs {
    pub name: Option<Spanned<String>>,
    pub common: CommonAttrs,
    pub unit: Option<Spanned<String>>,
    pub min: Option<Spanned<Number>>,
    pub max: Option<Spanned<Number>>,
    pub allowed: Option<Spanned<Vec<Spanned<Scalar>>>>,
    pub default: Option<Spanned<DefaultValue>>,
    pub uuid: Option<Spanned<String>>,
    pub instances: Option<Spanned<Dimensions>>,
    /// `enum("NONE" = 0, "RAIN" = 1)`.
    pub enumeration: Option<Spanned<Vec<EnumEntry>>>,
    /// `pattern = "^[A-Z]+$"`.
    pub pattern: Option<Spanned<String>>,
}

impl FieldAttrs {
    /// The keys that only make sense on leaves, with their spans (for branch checks).
    pub fn leaf_only_keys(&self) -> Vec<(Symbol, Span)> {
        let mut keys = Vec::new();
        let mut add = |key: Symbol, span: Option<Span>| {
            if let Some(span) = span {
                keys.push((key, span));
            }
        };
        add(symbol::UNIT, self.unit.as_ref().map(|item| item.span));
        add(symbol::MIN, self.min.as_ref().map(|item| item.span));
        add(symbol::MAX, self.max.as_ref().map(|item| item.span));
        add(symbol::ALLOWED, self.allowed.as_ref().map(|item| item.span));
        add(symbol::DEFAULT, self.default.as_ref().map(|item| item.span));
        add(
            symbol::ENUM,
            self.enumeration.as_ref().map(|item| item.span),
        );
        add(symbol::PATTERN, self.pattern.as_ref().map(|item| item.span));
        keys
    }
}

/// Parses the container's `#[viss(...)]` attributes.
pub fn container_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) -> ContainerAttrs {
    let mut root = Attr::none(cx, symbol::ROOT);
    let mut struct_types = Attr::none(cx, symbol::STRUCT_TYPES);
    let mut common = CommonParser::new(cx);
    for attr in attrs.iter().filter(|attr| attr.path() == &symbol::VISS) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path == symbol::ROOT {
                let name = if meta.input.peek(Token![=]) {
                    Some(meta.value()?.parse::<LitStr>()?.value())
                } else {
                    None
                };
                root.set(meta.path.span(), name);
                Ok(())
            } else if meta.path == symbol::STRUCT_TYPES {
                let path = meta.value()?.parse::<syn::Path>()?;
                struct_types.set(meta.path.span(), quote::ToTokens::to_token_stream(&path));
                Ok(())
            } else if common.parse(&meta)? {
                Ok(())
            } else {
                unknown_key(cx, &meta, symbol::CONTAINER_KEYS)
            }
        });
        if let Err(error) = parsed {
            cx.syn_error(error);
        }
    }
    ContainerAttrs {
        root: root.get(),
        struct_types: struct_types.get(),
        common: common.finish(),
    }
}

/// Parses a field's `#[viss(...)]` attributes.
pub fn field_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) -> FieldAttrs {
    let mut parser = FieldParser::new(cx);
    for attr in attrs.iter().filter(|attr| attr.path() == &symbol::VISS) {
        if let Err(error) = attr.parse_nested_meta(|meta| parser.parse(&meta)) {
            cx.syn_error(error);
        }
    }
    parser.finish()
}

/// Parses an enum variant's `#[viss(...)]` attributes: its VSS string (`name = ".."`).
pub fn variant_name(cx: &Ctxt, attrs: &[syn::Attribute]) -> Option<Spanned<String>> {
    let mut name = Attr::none(cx, symbol::NAME);
    for attr in attrs.iter().filter(|attr| attr.path() == &symbol::VISS) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path == symbol::NAME {
                let text = meta.value()?.parse::<LitStr>()?;
                name.set(text.span(), text.value());
                Ok(())
            } else {
                unknown_key(cx, &meta, symbol::VARIANT_KEYS)
            }
        });
        if let Err(error) = parsed {
            cx.syn_error(error);
        }
    }
    name.get()
}

struct CommonParser<'c> {
    description: Attr<'c, String>,
    comment: Attr<'c, String>,
    deprecation: Attr<'c, String>,
    fka: Attr<'c, Vec<Spanned<String>>>,
    const_uid: Attr<'c, String>,
    extended: Attr<'c, Vec<ExtendedAttr>>,
    validate: Attr<'c, String>,
}

impl<'c> CommonParser<'c> {
    fn new(cx: &'c Ctxt) -> Self {
        Self {
            description: Attr::none(cx, symbol::DESCRIPTION),
            comment: Attr::none(cx, symbol::COMMENT),
            deprecation: Attr::none(cx, symbol::DEPRECATION),
            fka: Attr::none(cx, symbol::FKA),
            const_uid: Attr::none(cx, symbol::CONST_UID),
            extended: Attr::none(cx, symbol::EXTENDED),
            validate: Attr::none(cx, symbol::VALIDATE),
        }
    }

    /// Parses `meta` when it is a common key; `false` when it is not one.
    fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
        if meta.path == symbol::FKA {
            let expr: Expr = meta.value()?.parse()?;
            let paths = string_array(&expr)?;
            self.fka.set(expr.span(), paths);
            return Ok(true);
        }
        if meta.path == symbol::EXTENDED {
            let content;
            syn::parenthesized!(content in meta.input);
            let items = Punctuated::<ExtendedItem, Token![,]>::parse_terminated(&content)?;
            let items = items.into_iter().map(|item| item.0).collect();
            self.extended.set(meta.path.span(), items);
            return Ok(true);
        }
        let target = if meta.path == symbol::DESCRIPTION {
            &mut self.description
        } else if meta.path == symbol::COMMENT {
            &mut self.comment
        } else if meta.path == symbol::DEPRECATION {
            &mut self.deprecation
        } else if meta.path == symbol::CONST_UID {
            &mut self.const_uid
        } else if meta.path == symbol::VALIDATE {
            &mut self.validate
        } else {
            return Ok(false);
        };
        let text = meta.value()?.parse::<LitStr>()?;
        target.set(text.span(), text.value());
        Ok(true)
    }

    fn finish(self) -> CommonAttrs {
        CommonAttrs {
            description: self.description.get(),
            comment: self.comment.get(),
            deprecation: self.deprecation.get(),
            fka: self.fka.get(),
            const_uid: self.const_uid.get(),
            extended: self.extended.get(),
            validate: self.validate.get(),
        }
    }
}

/// A name in `enum(...)` or `extended(...)`: a string literal or an identifier (keywords
/// included).
fn parse_name(input: ParseStream<'_>) -> syn::Result<Spanned<String>> {
    if input.peek(LitStr) {
        let text: LitStr = input.parse()?;
        return Ok(Spanned {
            value: text.value(),
            span: text.span(),
        });
    }
    let ident = input.call(Ident::parse_any)?;
    Ok(Spanned {
        value: ident.unraw().to_string(),
        span: ident.span(),
    })
}

/// `"NAME" = 1` in `enum(...)`.
struct EnumItem(EnumEntry);

impl Parse for EnumItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = parse_name(input)?;
        input.parse::<Token![=]>()?;
        let expr: Expr = input.parse()?;
        let value = spanned_scalar(&expr)?;
        Ok(Self(EnumEntry { name, value }))
    }
}

/// `name = value` in `extended(...)`.
struct ExtendedItem(ExtendedAttr);

impl Parse for ExtendedItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = parse_name(input)?;
        input.parse::<Token![=]>()?;
        let expr: Expr = input.parse()?;
        let json = Spanned {
            value: json_value(&expr)?,
            span: expr.span(),
        };
        Ok(Self(ExtendedAttr { name, json }))
    }
}

/// An extended attribute's value as JSON text: a literal, `null`, an array of values, or
/// `json("...")` with any JSON (objects included).
fn json_value(expr: &Expr) -> syn::Result<String> {
    match expr {
        Expr::Array(array) => {
            let items = array
                .elems
                .iter()
                .map(json_value)
                .collect::<syn::Result<Vec<_>>>()?;
            Ok(format!("[{}]", items.join(",")))
        }
        Expr::Path(path) if path.path.is_ident("null") => Ok("null".to_owned()),
        Expr::Call(call) if matches!(&*call.func, Expr::Path(path) if path.path.is_ident(symbol::JSON)) =>
        {
            let mut args = call.args.iter();
            let (
                Some(Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(text),
                    ..
                })),
                None,
            ) = (args.next(), args.next())
            else {
                return Err(syn::Error::new_spanned(
                    expr,
                    "expected `json(\"...\")` with one string literal of JSON",
                ));
            };
            let text = text.value();
            super::json::check(&text).map_err(|message| {
                syn::Error::new_spanned(expr, format!("invalid JSON: {message}"))
            })?;
            Ok(super::json::compact(&text))
        }
        _ => match scalar(expr)? {
            Scalar::Str(text) => Ok(super::json::quote(&text)),
            Scalar::Bool(flag) => Ok(flag.to_string()),
            Scalar::Number(number) => Ok(number.text),
        },
    }
}

fn string_array(expr: &Expr) -> syn::Result<Vec<Spanned<String>>> {
    let Expr::Array(array) = expr else {
        return Err(syn::Error::new_spanned(
            expr,
            "expected an array of strings, e.g. `fka = [\"Vehicle.Old\"]`",
        ));
    };
    array
        .elems
        .iter()
        .map(|item| match item {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Ok(Spanned {
                value: text.value(),
                span: text.span(),
            }),
            _ => Err(syn::Error::new_spanned(item, "expected a string literal")),
        })
        .collect()
}

struct FieldParser<'c> {
    cx: &'c Ctxt,
    common: CommonParser<'c>,
    name: Attr<'c, String>,
    unit: Attr<'c, String>,
    uuid: Attr<'c, String>,
    min: Attr<'c, Number>,
    max: Attr<'c, Number>,
    allowed: Attr<'c, Vec<Spanned<Scalar>>>,
    default: Attr<'c, DefaultValue>,
    instances: Attr<'c, Dimensions>,
    enumeration: Attr<'c, Vec<EnumEntry>>,
    pattern: Attr<'c, String>,
}

impl<'c> FieldParser<'c> {
    fn new(cx: &'c Ctxt) -> Self {
        Self {
            cx,
            common: CommonParser::new(cx),
            name: Attr::none(cx, symbol::NAME),
            unit: Attr::none(cx, symbol::UNIT),
            uuid: Attr::none(cx, symbol::UUID),
            min: Attr::none(cx, symbol::MIN),
            max: Attr::none(cx, symbol::MAX),
            allowed: Attr::none(cx, symbol::ALLOWED),
            default: Attr::none(cx, symbol::DEFAULT),
            instances: Attr::none(cx, symbol::INSTANCES),
            enumeration: Attr::none(cx, symbol::ENUM),
            pattern: Attr::none(cx, symbol::PATTERN),
        }
    }

    fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        if self.common.parse(meta)? {
            return Ok(());
        }
        if let Some(target) = self.text_key(&meta.path) {
            let text = meta.value()?.parse::<LitStr>()?;
            target.set(text.span(), text.value());
        } else if meta.path == symbol::MIN || meta.path == symbol::MAX {
            self.parse_limit(meta)?;
        } else if meta.path == symbol::ALLOWED {
            let expr: Expr = meta.value()?.parse()?;
            let items = scalar_array(&expr)?;
            self.allowed.set(expr.span(), items);
        } else if meta.path == symbol::DEFAULT {
            let expr: Expr = meta.value()?.parse()?;
            self.default.set(expr.span(), default_value(&expr)?);
        } else if meta.path == symbol::INSTANCES {
            let content;
            syn::parenthesized!(content in meta.input);
            let items = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
            self.instances.set(meta.path.span(), dimensions(&items)?);
        } else if meta.path == symbol::ENUM {
            let content;
            syn::parenthesized!(content in meta.input);
            let items = Punctuated::<EnumItem, Token![,]>::parse_terminated(&content)?;
            let entries = items.into_iter().map(|item| item.0).collect();
            self.enumeration.set(meta.path.span(), entries);
        } else {
            unknown_key(self.cx, meta, symbol::FIELD_KEYS)?;
        }
        Ok(())
    }

    fn text_key(&mut self, path: &syn::Path) -> Option<&mut Attr<'c, String>> {
        if path == &symbol::NAME {
            Some(&mut self.name)
        } else if path == &symbol::UNIT {
            Some(&mut self.unit)
        } else if path == &symbol::UUID {
            Some(&mut self.uuid)
        } else if path == &symbol::PATTERN {
            Some(&mut self.pattern)
        } else {
            None
        }
    }

    fn parse_limit(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let expr: Expr = meta.value()?.parse()?;
        let Scalar::Number(number) = scalar(&expr)? else {
            return Err(syn::Error::new_spanned(
                &expr,
                "expected a number, e.g. `min = 0` or `max = 250.5`",
            ));
        };
        let target = if meta.path == symbol::MIN {
            &mut self.min
        } else {
            &mut self.max
        };
        target.set(expr.span(), number);
        Ok(())
    }

    fn finish(self) -> FieldAttrs {
        FieldAttrs {
            name: self.name.get(),
            common: self.common.finish(),
            unit: self.unit.get(),
            min: self.min.get(),
            max: self.max.get(),
            allowed: self.allowed.get(),
            default: self.default.get(),
            uuid: self.uuid.get(),
            instances: self.instances.get(),
            enumeration: self.enumeration.get(),
            pattern: self.pattern.get(),
        }
    }
}

/// Reports an unknown key and skips its value (`= expr` or `(...)`).
fn unknown_key(cx: &Ctxt, meta: &ParseNestedMeta<'_>, known: &[Symbol]) -> syn::Result<()> {
    let key = meta
        .path
        .get_ident()
        .map_or_else(|| "?".to_owned(), ToString::to_string);
    cx.error_spanned_by(
        &meta.path,
        format!(
            "unknown viss attribute `{key}`; expected one of {}",
            symbol::list(known)
        ),
    );
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let _: proc_macro2::TokenStream = content.parse()?;
    }
    Ok(())
}

/// A literal: string, boolean, or number with an optional leading `-`.
fn scalar(expr: &Expr) -> syn::Result<Scalar> {
    match expr {
        Expr::Lit(literal) => match &literal.lit {
            Lit::Str(text) => Ok(Scalar::Str(text.value())),
            Lit::Bool(flag) => Ok(Scalar::Bool(flag.value)),
            Lit::Int(int) => number(int.base10_digits(), true, expr),
            Lit::Float(float) => number(float.base10_digits(), false, expr),
            _ => Err(syn::Error::new_spanned(expr, "unsupported literal")),
        },
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match scalar(&unary.expr)? {
            Scalar::Number(positive) => Ok(Scalar::Number(Number {
                value: -positive.value,
                text: format!("-{}", positive.text),
                integer: positive.integer,
            })),
            _ => Err(syn::Error::new_spanned(expr, "`-` only applies to numbers")),
        },
        _ => Err(syn::Error::new_spanned(
            expr,
            "expected a literal (string, number or boolean)",
        )),
    }
}

fn number(digits: &str, integer: bool, expr: &Expr) -> syn::Result<Scalar> {
    // `1.` is a Rust float literal but not a JSON number: metadata shows `1.0`.
    let digits = &if digits.ends_with('.') {
        format!("{digits}0")
    } else {
        digits.to_owned()
    };
    let value: f64 = digits
        .parse()
        .ok()
        .filter(|value: &f64| value.is_finite())
        .ok_or_else(|| syn::Error::new_spanned(expr, "number out of range"))?;
    Ok(Scalar::Number(Number {
        value,
        text: digits.to_owned(),
        integer,
    }))
}

fn spanned_scalar(expr: &Expr) -> syn::Result<Spanned<Scalar>> {
    Ok(Spanned {
        value: scalar(expr)?,
        span: expr.span(),
    })
}

fn scalar_array(expr: &Expr) -> syn::Result<Vec<Spanned<Scalar>>> {
    let Expr::Array(array) = expr else {
        return Err(syn::Error::new_spanned(
            expr,
            "expected an array of literals, e.g. `allowed = [\"OPEN\", \"CLOSED\"]`",
        ));
    };
    array.elems.iter().map(spanned_scalar).collect()
}

fn default_value(expr: &Expr) -> syn::Result<DefaultValue> {
    match expr {
        Expr::Array(_) => scalar_array(expr).map(DefaultValue::Array),
        _ => spanned_scalar(expr).map(DefaultValue::Scalar),
    }
}

fn dimensions(items: &Punctuated<Expr, Token![,]>) -> syn::Result<Dimensions> {
    let all_arrays = items.iter().all(|item| matches!(item, Expr::Array(_)));
    if all_arrays && !items.is_empty() {
        items
            .iter()
            .map(|item| match item {
                Expr::Array(array) => array.elems.iter().map(instance_name).collect(),
                _ => Ok(Vec::new()),
            })
            .collect()
    } else {
        Ok(vec![
            items
                .iter()
                .map(instance_name)
                .collect::<syn::Result<_>>()?,
        ])
    }
}

fn instance_name(expr: &Expr) -> syn::Result<Spanned<String>> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(Spanned {
            value: text.value(),
            span: text.span(),
        }),
        _ => Err(syn::Error::new_spanned(
            expr,
            "expected instance names: `instances(\"Row1\", \"Row2\")` or \
             `instances([\"Row1\", \"Row2\"], [\"Left\", \"Right\"])`",
        )),
    }
}
