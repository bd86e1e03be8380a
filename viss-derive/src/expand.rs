//! Code generation: turns a checked [`Container`] into the `VissBranch` impl, the hidden
//! const builders, and for a root the `static` node tables (hot and cold) and the
//! `VissTree` impl. All of it sits in `const _: () = { ... }` so nothing but the trait
//! impls and the `__viss_*` inherent items reaches the user's scope.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use crate::internals::ast::{Container, Field, FieldKind};
use crate::internals::attr::{CommonAttrs, DefaultValue, Scalar, Spanned};

/// Everything generated for `container`, wrapped so it leaks nothing.
pub fn expand(container: &Container<'_>) -> TokenStream {
    let sizes: Vec<TokenStream> = container
        .fields
        .iter()
        .enumerate()
        .map(field_size)
        .collect();
    let dimension_consts = container
        .fields
        .iter()
        .enumerate()
        .filter_map(dimension_const);
    let enum_checks = container.fields.iter().filter_map(enum_check);
    let branch_impl = branch_impl(container);
    let builders = builders(container);
    let root = container
        .root_name()
        .map(|name| root_items(container, &name));
    let count = Literal::usize_unsuffixed(sizes.len());
    // Each field's id offset from the first child (none for an empty struct).
    let offsets = (!sizes.is_empty()).then(|| {
        quote! {
            const OFFSETS: [u32; #count] = ::viss_runtime::__private::offsets([#(#sizes),*]);
        }
    });
    quote! {
        #[doc(hidden)]
        const _: () = {
            #offsets
            const SUBTREE_NODES: u32 = ::viss_runtime::__private::total::<#count>([#(#sizes),*]);
            #(#dimension_consts)*
            #(#enum_checks)*
            #branch_impl
            #builders
            #root
        };
    }
}

/// For a leaf of a user type: a `const` that fails compilation unless the type's VSS enum
/// strings (`VssType::ALLOWED`, none for a struct type) and the leaf's `allowed` list are
/// the same (`viss_runtime::__private::check_enum_leaf`), reported at the value type.
fn enum_check(field: &Field<'_>) -> Option<TokenStream> {
    let FieldKind::Leaf {
        value_ty,
        user_type: true,
        ..
    } = &field.kind
    else {
        return None;
    };
    let allowed = field
        .attrs
        .allowed
        .iter()
        .flat_map(|allowed| &allowed.value)
        .filter_map(|item| match &item.value {
            Scalar::Str(text) => Some(text.as_str()),
            _ => None,
        });
    let type_name = quote!(#value_ty).to_string().replace(' ', "");
    let leaf = &field.vss_name;
    Some(quote_spanned! {value_ty.span()=>
        const _: () = ::viss_runtime::__private::check_enum_leaf(
            #type_name,
            #leaf,
            <#value_ty as ::viss_runtime::VssType>::ALLOWED,
            &[#(#allowed),*],
        );
    })
}

fn dimensions_ident(index: usize) -> syn::Ident {
    format_ident!("DIMENSIONS_{}", index)
}

fn offset(index: usize) -> TokenStream {
    let index = Literal::usize_unsuffixed(index);
    quote!(OFFSETS[#index])
}

/// Nodes the field occupies: itself and everything below it.
fn field_size((index, field): (usize, &Field<'_>)) -> TokenStream {
    match &field.kind {
        FieldKind::Leaf { .. } => quote!(1u32),
        FieldKind::Branch => {
            let ty = field.ty;
            quote_spanned!(ty.span()=> 1u32 + <#ty as ::viss_runtime::VissBranch>::NODE_COUNT)
        }
        FieldKind::Instances { branch_ty, .. } => {
            let dimensions = dimensions_ident(index);
            quote_spanned!(branch_ty.span()=>
                ::viss_runtime::__private::instance_size::<#branch_ty>(#dimensions))
        }
    }
}

fn dimension_const((index, field): (usize, &Field<'_>)) -> Option<TokenStream> {
    let FieldKind::Instances { .. } = field.kind else {
        return None;
    };
    let dimensions = &field.attrs.instances.as_ref()?.value;
    let ident = dimensions_ident(index);
    let rows = dimensions.iter().map(|names| {
        let names = names.iter().map(|name| &name.value);
        quote!(&[#(#names),*])
    });
    Some(quote! {
        const #ident: &[&[&str]] = &[#(#rows),*];
    })
}

fn branch_impl(container: &Container<'_>) -> TokenStream {
    let ident = container.ident;
    let lookup = lookup_body(container);
    let visit = visit_body(container);
    let visit_param = if container.fields.is_empty() {
        quote!(_visit)
    } else {
        quote!(visit)
    };
    quote! {
        #[automatically_derived]
        impl ::viss_runtime::VissBranch for #ident {
            const NODE_COUNT: u32 = SUBTREE_NODES;

            fn lookup_relative(
                path: &str,
                first_child: u32,
            ) -> ::core::option::Option<::viss_runtime::NodeId> {
                #lookup
            }

            fn visit_leaves(
                &self,
                #visit_param: &mut dyn ::core::ops::FnMut(::viss_runtime::NodeId),
            ) {
                #visit
            }
        }
    }
}

/// A `match` on the first segment; each arm delegates the rest.
fn lookup_body(container: &Container<'_>) -> TokenStream {
    if container.fields.is_empty() {
        return quote! {
            let _ = (path, first_child);
            ::core::option::Option::None
        };
    }
    let arms = container.fields.iter().enumerate().map(|(index, field)| {
        let name = &field.vss_name;
        let id = offset(index);
        let found = match &field.kind {
            FieldKind::Leaf { .. } => {
                quote!(::viss_runtime::__private::lookup_leaf(rest, first_child + #id))
            }
            FieldKind::Branch => {
                let ty = field.ty;
                quote_spanned!(ty.span()=>
                    ::viss_runtime::__private::lookup_branch::<#ty>(rest, first_child + #id))
            }
            FieldKind::Instances { branch_ty, .. } => {
                let dimensions = dimensions_ident(index);
                quote!(::viss_runtime::__private::lookup_instances::<#branch_ty>(
                    rest, first_child + #id, #dimensions))
            }
        };
        quote!(#name => #found,)
    });
    quote! {
        let (head, rest) = ::viss_runtime::__private::split_first(path);
        match head {
            #(#arms)*
            _ => ::core::option::Option::None,
        }
    }
}

fn visit_body(container: &Container<'_>) -> TokenStream {
    let visits = container.fields.iter().map(|field| {
        let member = field.member;
        match &field.kind {
            FieldKind::Leaf { .. } => {
                quote!(visit(self.#member.id());)
            }
            FieldKind::Branch => {
                let ty = field.ty;
                quote_spanned!(ty.span()=>
                    <#ty as ::viss_runtime::VissBranch>::visit_leaves(&self.#member, visit);)
            }
            FieldKind::Instances { lengths, .. } => {
                let mut body = quote!(::viss_runtime::VissBranch::visit_leaves(instance, visit););
                for _ in 1..lengths.len() {
                    body = quote!(for instance in instance { #body });
                }
                quote!(for instance in &self.#member { #body })
            }
        }
    });
    quote!(#(#visits)*)
}

/// The hidden const builders every derived type has: handles at a base id, and the two
/// writer passes (paths, nodes) the root's table is made of.
fn builders(container: &Container<'_>) -> TokenStream {
    let ident = container.ident;
    let members = container.fields.iter().map(|field| field.member);
    let inits = container
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| handle_init(index, field));
    let paths = container.fields.iter().map(write_paths);
    let nodes = container
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| write_nodes(index, field));
    let (path_param, node_param) = if container.fields.is_empty() {
        (quote!(_parent), quote!(_parent))
    } else {
        (quote!(parent), quote!(parent))
    };
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            #[doc(hidden)]
            pub const fn __viss_at(first_child: u32) -> Self {
                let _ = first_child;
                Self { #(#members: #inits,)* }
            }

            #[doc(hidden)]
            pub const fn __viss_write_paths(
                writer: &mut ::viss_runtime::__private::PathWriter<'_>,
                #path_param: ::viss_runtime::__private::PathSpan,
            ) {
                let _ = writer;
                #(#paths)*
            }

            #[doc(hidden)]
            pub const fn __viss_write_nodes(
                writer: &mut ::viss_runtime::__private::NodeWriter<'_>,
                #node_param: ::viss_runtime::__private::Parent,
            ) {
                let _ = writer;
                #(#nodes)*
            }
        }
    }
}

fn handle_init(index: usize, field: &Field<'_>) -> TokenStream {
    let ty = field.ty;
    let id = offset(index);
    match &field.kind {
        FieldKind::Leaf { .. } => quote_spanned!(ty.span()=>
            <#ty>::from_id(::viss_runtime::NodeId(first_child + #id))),
        FieldKind::Branch => quote_spanned!(ty.span()=> <#ty>::__viss_at(first_child + #id + 1)),
        FieldKind::Instances { branch_ty, .. } => {
            let dimensions = dimensions_ident(index);
            let names = instance_names(field);
            instance_inits(branch_ty, &dimensions, &names, 0, quote!(first_child + #id))
        }
    }
}

/// The nested array of handles of an instance set, level by level.
fn instance_inits(
    branch_ty: &syn::Type,
    dimensions: &syn::Ident,
    levels: &[Vec<String>],
    level: usize,
    node: TokenStream,
) -> TokenStream {
    let Some(names) = levels.get(level) else {
        return quote_spanned!(branch_ty.span()=> <#branch_ty>::__viss_at(#node + 1));
    };
    let level_literal = Literal::usize_unsuffixed(level);
    let items = (0..names.len()).map(|index| {
        let index = Literal::usize_unsuffixed(index);
        let child = quote!(::viss_runtime::__private::instance_child::<#branch_ty>(
            #node, #dimensions, #level_literal, #index));
        instance_inits(branch_ty, dimensions, levels, level + 1, child)
    });
    quote!([#(#items),*])
}

fn text(value: &str) -> TokenStream {
    quote!(::viss_runtime::__private::Cow::Borrowed(#value))
}

fn optional_text(value: Option<&Spanned<String>>) -> TokenStream {
    match value {
        Some(value) => {
            let value = text(&value.value);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn common_fields(common: &CommonAttrs) -> TokenStream {
    let description = optional_text(common.description.as_ref());
    let comment = optional_text(common.comment.as_ref());
    let deprecation = optional_text(common.deprecation.as_ref());
    let const_uid = optional_text(common.const_uid.as_ref());
    let fka = common
        .fka
        .iter()
        .flat_map(|fka| &fka.value)
        .map(|path| text(&path.value));
    let extended = common
        .extended
        .iter()
        .flat_map(|extended| &extended.value)
        .map(|attr| {
            let name = text(&attr.name.value);
            let json = text(&attr.json.value);
            quote!(::viss_runtime::Extended { name: #name, json: #json })
        });
    quote! {
        description: #description,
        comment: #comment,
        deprecation: #deprecation,
        const_uid: #const_uid,
        fka: ::viss_runtime::__private::Cow::Borrowed(&[#(#fka),*]),
        extended: ::viss_runtime::__private::Cow::Borrowed(&[#(#extended),*]),
    }
}

/// A node template: the hot `NodeInfo` and the cold `NodeMeta` (`cold` sets every field),
/// two arguments of `NodeWriter::push`, each a local const item (so borrowed slices in it
/// are `'static`).
fn template(name: &str, hot: TokenStream, cold: TokenStream) -> TokenStream {
    let name = text(name);
    quote! {
        {
            const NODE: ::viss_runtime::NodeInfo = ::viss_runtime::NodeInfo {
                name: #name,
                #hot
                ..::viss_runtime::__private::PLACEHOLDER
            };
            NODE
        },
        {
            const META: ::viss_runtime::NodeMeta = ::viss_runtime::NodeMeta { #cold };
            META
        }
    }
}

/// The hot `validate: Some(..),` of a tagged node; nothing for an untagged one (the
/// placeholder's `None`). The value was checked to be one of the four tags.
fn validate_field(common: &CommonAttrs) -> TokenStream {
    let Some(tag) = &common.validate else {
        return TokenStream::new();
    };
    let (protection, consent) = match tag.value.strip_suffix("+consent") {
        Some(protection) => (protection, true),
        None => (tag.value.as_str(), false),
    };
    let protects = if protection == "write-only" {
        quote!(Writes)
    } else {
        quote!(ReadsAndWrites)
    };
    quote! {
        validate: ::core::option::Option::Some(::viss_runtime::Validate::new(
            ::viss_runtime::Protects::#protects,
            #consent,
        )),
    }
}

fn branch_template(name: &str, common: &CommonAttrs) -> TokenStream {
    let validate = validate_field(common);
    let common = common_fields(common);
    let none = quote!(::core::option::Option::None);
    template(
        name,
        quote!(kind: ::viss_runtime::NodeKind::Branch, #validate),
        quote! {
            unit: #none,
            min_text: #none,
            max_text: #none,
            enumeration: ::viss_runtime::__private::Cow::Borrowed(&[]),
            pattern: #none,
            #common
        },
    )
}

fn leaf_template(field: &Field<'_>, handle: &syn::Ident, value_ty: &syn::Type) -> TokenStream {
    let attrs = &field.attrs;
    let validate = validate_field(&attrs.common);
    let common = common_fields(&attrs.common);
    let unit = optional_text(attrs.unit.as_ref());
    let min = optional_number(attrs.min.as_ref().map(|min| min.value.value));
    let max = optional_number(attrs.max.as_ref().map(|max| max.value.value));
    let min_text = optional_string(attrs.min.as_ref().map(|min| min.value.text.as_str()));
    let max_text = optional_string(attrs.max.as_ref().map(|max| max.value.text.as_str()));
    let allowed = texts(
        attrs
            .allowed
            .as_ref()
            .map_or(&[][..], |allowed| &allowed.value),
    );
    let default = default_literal(attrs.default.as_ref().map(|default| &default.value));
    let enumeration = attrs
        .enumeration
        .iter()
        .flat_map(|enumeration| &enumeration.value)
        .map(|entry| {
            let name = text(&entry.name.value);
            let value = lit(&entry.value.value);
            quote!(::viss_runtime::EnumEntry { name: #name, value: #value })
        });
    let pattern = optional_text(attrs.pattern.as_ref());
    let datatype = quote_spanned!(value_ty.span()=>
        <#value_ty as ::viss_runtime::VssType>::DATATYPE);
    template(
        &field.vss_name,
        quote! {
            kind: ::viss_runtime::NodeKind::#handle,
            datatype: ::core::option::Option::Some(#datatype),
            min: #min,
            max: #max,
            allowed: #allowed,
            default: #default,
            #validate
        },
        quote! {
            unit: #unit,
            min_text: #min_text,
            max_text: #max_text,
            enumeration: ::viss_runtime::__private::Cow::Borrowed(&[#(#enumeration),*]),
            pattern: #pattern,
            #common
        },
    )
}

fn optional_string(value: Option<&str>) -> TokenStream {
    match value {
        Some(value) => {
            let value = text(value);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn optional_number(value: Option<f64>) -> TokenStream {
    match value.filter(|value| value.is_finite()) {
        Some(value) => {
            let value = Literal::f64_suffixed(value);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// A typed literal: `::viss_runtime::Lit::string("..")` and friends.
fn lit(scalar: &Scalar) -> TokenStream {
    match scalar {
        Scalar::Str(text) => quote!(::viss_runtime::Lit::string(#text)),
        Scalar::Bool(flag) => {
            let text = flag.to_string();
            quote!(::viss_runtime::Lit::boolean(#text))
        }
        Scalar::Number(number) => {
            let text = &number.text;
            quote!(::viss_runtime::Lit::number(#text))
        }
    }
}

fn texts(items: &[Spanned<Scalar>]) -> TokenStream {
    let items = items.iter().map(|item| lit(&item.value));
    quote!(::viss_runtime::__private::Cow::Borrowed(&[#(#items),*]))
}

fn default_literal(default: Option<&DefaultValue>) -> TokenStream {
    match default {
        None => quote!(::core::option::Option::None),
        Some(DefaultValue::Scalar(item)) => {
            let value = lit(&item.value);
            quote!(::core::option::Option::Some(::viss_runtime::Literal::Scalar(#value)))
        }
        Some(DefaultValue::Array(items)) => {
            let items = texts(items);
            quote!(::core::option::Option::Some(::viss_runtime::Literal::Array(#items)))
        }
    }
}

fn write_paths(field: &Field<'_>) -> TokenStream {
    let name = &field.vss_name;
    let push = quote!(writer.push(::core::option::Option::Some(parent), #name));
    match &field.kind {
        FieldKind::Leaf { .. } => quote!(#push;),
        FieldKind::Branch => {
            let ty = field.ty;
            let call = quote_spanned!(ty.span()=> <#ty>::__viss_write_paths(writer, node));
            quote!({
                let node = #push;
                #call;
            })
        }
        FieldKind::Instances { branch_ty, .. } => {
            let names = instance_names(field);
            let inner = instance_paths(branch_ty, &names, quote!(node));
            quote!({
                let node = #push;
                #inner
            })
        }
    }
}

fn instance_names(field: &Field<'_>) -> Vec<Vec<String>> {
    field.attrs.instances.as_ref().map_or_else(Vec::new, |set| {
        set.value
            .iter()
            .map(|names| names.iter().map(|name| name.value.clone()).collect())
            .collect()
    })
}

fn instance_paths(branch_ty: &syn::Type, levels: &[Vec<String>], node: TokenStream) -> TokenStream {
    let Some((names, inner_levels)) = levels.split_first() else {
        return quote!(<#branch_ty>::__viss_write_paths(writer, #node););
    };
    let children = names.iter().map(|name| {
        let inner = instance_paths(branch_ty, inner_levels, quote!(instance));
        quote!({
            let instance = writer.push(::core::option::Option::Some(#node), #name);
            #inner
        })
    });
    quote!(#(#children)*)
}

fn write_nodes(index: usize, field: &Field<'_>) -> TokenStream {
    let parent = quote!(::core::option::Option::Some(parent));
    match &field.kind {
        FieldKind::Leaf {
            handle, value_ty, ..
        } => {
            let template = leaf_template(field, handle, value_ty);
            quote!(writer.push(#template, #parent, 0);)
        }
        FieldKind::Branch => {
            let ty = field.ty;
            let template = branch_template(&field.vss_name, &field.attrs.common);
            let below = quote_spanned!(ty.span()=> <#ty as ::viss_runtime::VissBranch>::NODE_COUNT);
            let call = quote_spanned!(ty.span()=> <#ty>::__viss_write_nodes(writer, node));
            quote!({
                let node = writer.push(#template, #parent, #below);
                #call;
            })
        }
        FieldKind::Instances { branch_ty, .. } => {
            let dimensions = dimensions_ident(index);
            let template = branch_template(&field.vss_name, &field.attrs.common);
            let names = instance_names(field);
            let inner = instance_nodes(branch_ty, &dimensions, &names, field, 0, quote!(node));
            quote!({
                let node = writer.push(#template, #parent,
                    ::viss_runtime::__private::instance_size::<#branch_ty>(#dimensions) - 1);
                #inner
            })
        }
    }
}

fn instance_nodes(
    branch_ty: &syn::Type,
    dimensions: &syn::Ident,
    levels: &[Vec<String>],
    field: &Field<'_>,
    level: usize,
    node: TokenStream,
) -> TokenStream {
    let Some((names, inner_levels)) = levels.split_first() else {
        return quote!(<#branch_ty>::__viss_write_nodes(writer, #node););
    };
    let below_level = Literal::usize_unsuffixed(level + 1);
    let children = names.iter().map(|name| {
        let template = branch_template(name, &field.attrs.common);
        let inner = instance_nodes(
            branch_ty,
            dimensions,
            inner_levels,
            field,
            level + 1,
            quote!(instance),
        );
        quote!({
            let instance = writer.push(#template, ::core::option::Option::Some(#node),
                ::viss_runtime::__private::instance_size::<#branch_ty>(
                    ::viss_runtime::__private::dimensions_from(#dimensions, #below_level)) - 1);
            #inner
        })
    });
    quote!(#(#children)*)
}

/// Root only: `TREE`, the static tables and the `VissTree` impl.
fn root_items(container: &Container<'_>, root_name: &str) -> TokenStream {
    let ident = container.ident;
    let struct_types = container.attrs.struct_types.as_ref().map(|table| {
        let path = &table.value;
        quote! {
            fn struct_types(&self) -> &[::viss_runtime::StructType] {
                &#path
            }
        }
    });
    let template = branch_template(root_name, &container.attrs.common);
    let span = Span::call_site();
    quote_spanned! {span=>
        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            /// The tree's handles (node ids assigned in tree order).
            pub const TREE: Self = Self::__viss_at(1);
        }

        const ROOT_NAME: &str = #root_name;
        const NODE_TOTAL: usize = 1 + SUBTREE_NODES as usize;
        #[allow(long_running_const_eval)]
        const PATH_LEN: usize = {
            let mut writer = ::viss_runtime::__private::PathWriter::counting();
            let root = writer.push(::core::option::Option::None, ROOT_NAME);
            <#ident>::__viss_write_paths(&mut writer, root);
            writer.len()
        };
        #[allow(long_running_const_eval)]
        const PATH_BYTES: [u8; PATH_LEN] = {
            let mut bytes = [0u8; PATH_LEN];
            let mut writer = ::viss_runtime::__private::PathWriter::writing(&mut bytes);
            let root = writer.push(::core::option::Option::None, ROOT_NAME);
            <#ident>::__viss_write_paths(&mut writer, root);
            bytes
        };
        static PATHS: &str = ::viss_runtime::__private::paths_text(&PATH_BYTES);
        #[allow(long_running_const_eval)]
        const TABLES: ::viss_runtime::__private::Tables<NODE_TOTAL> = {
            let mut nodes = [::viss_runtime::__private::PLACEHOLDER; NODE_TOTAL];
            let mut meta = [::viss_runtime::NodeMeta::EMPTY; NODE_TOTAL];
            let mut writer =
                ::viss_runtime::__private::NodeWriter::new(&mut nodes, &mut meta, PATHS);
            let root = writer.push(#template, ::core::option::Option::None, SUBTREE_NODES);
            <#ident>::__viss_write_nodes(&mut writer, root);
            ::viss_runtime::__private::Tables::new(nodes, meta)
        };
        /// The hot table: what start-up and requests read.
        static NODES: [::viss_runtime::NodeInfo; NODE_TOTAL] =
            ::viss_runtime::__private::hot_table(TABLES);
        // The cold table (metadata requests, exports, `enum`/`pattern` checks) is kept
        // packed, without pointers the loader would have to relocate at start, and is
        // unpacked by its first reader (`viss_runtime::__private::packed_meta`).
        #[allow(long_running_const_eval)]
        const META_TEXT_LEN: usize = ::viss_runtime::__private::meta_text_len(TABLES);
        #[allow(long_running_const_eval)]
        const META_TEXT_BYTES: [u8; META_TEXT_LEN] =
            ::viss_runtime::__private::meta_text_bytes(TABLES);
        static META_TEXT: &str = ::viss_runtime::__private::paths_text(&META_TEXT_BYTES);
        #[allow(long_running_const_eval)]
        static PACKED_META: [::viss_runtime::__private::PackedMeta; NODE_TOTAL] =
            ::viss_runtime::__private::packed_meta(TABLES);
        #[allow(long_running_const_eval)]
        const META_LIST_COUNT: usize = ::viss_runtime::__private::meta_list_count(TABLES);
        #[allow(long_running_const_eval)]
        static META_LISTS: [::viss_runtime::__private::MetaLists; META_LIST_COUNT] =
            ::viss_runtime::__private::meta_lists(TABLES);
        static META: ::std::sync::OnceLock<::std::boxed::Box<[::viss_runtime::NodeMeta]>> =
            ::std::sync::OnceLock::new();

        #[allow(long_running_const_eval)]
        const START_COUNTS: (usize, usize) = ::viss_runtime::__private::start_counts(TABLES);
        const DEFAULT_COUNT: usize = START_COUNTS.0;
        /// The attributes with a `default`: all a starting server reads of the tree.
        #[allow(long_running_const_eval)]
        static DEFAULTS: [::viss_runtime::AttributeDefault; DEFAULT_COUNT] =
            ::viss_runtime::__private::defaults_table(TABLES);
        const PATTERN_COUNT: usize = START_COUNTS.1;
        /// The nodes with a `pattern`.
        #[allow(long_running_const_eval)]
        static PATTERNS: [::viss_runtime::NodeId; PATTERN_COUNT] =
            ::viss_runtime::__private::pattern_table(TABLES);

        const INDEX_CAPACITY: usize = ::viss_runtime::__private::index_capacity(NODE_TOTAL);
        #[allow(long_running_const_eval)]
        static INDEX: [u32; INDEX_CAPACITY] = ::viss_runtime::__private::build_index(&NODES);

        #[automatically_derived]
        impl ::viss_runtime::VissTree for #ident {
            fn nodes(&self) -> &[::viss_runtime::NodeInfo] {
                &NODES
            }

            fn node_meta(&self) -> &[::viss_runtime::NodeMeta] {
                META.get_or_init(|| {
                    ::viss_runtime::__private::unpack_meta(&PACKED_META, META_TEXT, &META_LISTS)
                })
            }

            fn lookup_dotted(&self, path: &str) -> ::core::option::Option<::viss_runtime::NodeId> {
                ::viss_runtime::__private::lookup_indexed(&INDEX, &NODES, path)
            }

            fn attribute_defaults(
                &self,
            ) -> ::std::borrow::Cow<'_, [::viss_runtime::AttributeDefault]> {
                ::std::borrow::Cow::Borrowed(&DEFAULTS)
            }

            fn pattern_nodes(&self) -> ::std::borrow::Cow<'_, [::viss_runtime::NodeId]> {
                ::std::borrow::Cow::Borrowed(&PATTERNS)
            }

            #struct_types
        }
    }
}
