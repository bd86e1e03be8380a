//! `src/provider.rs`, `src/lib.rs` and `src/main.rs`: the typed provider (one method per
//! actuator concept, routed from the engine's set hook) and the server's entry point.

use heck::ToSnakeCase as _;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeSet;

use super::GenerateError;
use super::emit::leaf_value_type;
use super::naming::{to_ident, unique};
use super::types::{Plan, Shape, TypeId};
use vss_model::NodeKind;

/// `src/provider.rs`.
pub fn provider_tokens(plan: &Plan<'_>) -> Result<TokenStream, GenerateError> {
    let routed = types_with_actuators(plan);
    let methods = provider_methods(plan)?;
    let trait_methods = methods.iter().map(|method| &method.declaration);
    let root = to_ident(&plan.branches[plan.root].ident);
    let tree = plan.tree_module();
    let hook_body = if routed.contains(&plan.root) {
        let route = route_ident(plan, plan.root);
        quote!(#route(&#tree::#root::TREE, &self.0, node, value);)
    } else {
        quote!(let _ = (node, value);)
    };
    let mounted = mounted_fn(plan);
    let routes = plan
        .order
        .iter()
        .filter(|id| routed.contains(id))
        .map(|id| route_fn(plan, *id, &routed, &methods));
    let (imports, deliver) = if routed.is_empty() {
        (
            quote!(
                use ::viss_runtime::{NodeId, Value};
            ),
            TokenStream::new(),
        )
    } else {
        (
            quote!(
                use ::viss_runtime::{Actuator, NodeId, Value, VssType};
            ),
            quote! {
                /// Converts the wire value and hands it to `set` (the engine only forwards
                /// values it validated, so this fails only for values the type cannot hold).
                fn deliver<T: VssType>(value: &Value, set: impl FnOnce(T)) {
                    if let ::core::option::Option::Some(target) = T::from_value(value.clone()) {
                        set(target);
                    }
                }
            },
        )
    };
    Ok(quote! {
        #![doc = " What the vehicle does with the targets clients `set`: one method per actuator"]
        #![doc = " concept (the handle says which instance). Implement [`Provider`] to forward"]
        #![doc = " targets to the vehicle; [`AcceptAll`] keeps the defaults."]

        #imports

        /// Receives every accepted `set`, typed. Each default accepts the target: the engine
        /// has already validated it and stores it as the actuator's target (readable with
        /// `TypedEngine::target`) and, while [`Provider::echoes_targets`] is true, as its
        /// current value too (state storage: set, then get, returns it).
        pub trait Provider: Send + Sync + 'static {
            /// Whether an accepted target becomes the actuator's current value at once.
            /// A provider that drives real hardware returns false and feeds the current
            /// value (`TypedEngine::feed`) when the vehicle reaches it.
            fn echoes_targets(&self) -> bool {
                true
            }

            #(#trait_methods)*
        }

        /// The provider that accepts every target and does nothing else.
        #[derive(Debug, Default, Clone, Copy)]
        pub struct AcceptAll;

        impl Provider for AcceptAll {}

        /// The engine's set hook: routes a set to the provider method of its actuator.
        #[derive(Debug, Default, Clone, Copy)]
        pub struct ProviderHook<P>(pub P);

        impl<P: Provider> ::viss_runtime::SetHook for ProviderHook<P> {
            fn on_set(&self, node: NodeId, _path: &str, value: &Value) {
                #hook_body
            }

            fn echoes_target(&self) -> bool {
                self.0.echoes_targets()
            }
        }

        #deliver

        #mounted

        #(#routes)*
    })
}

/// `mounted()` in a further tree's provider module: the tree and its hook, as the server
/// mounts them beside the first tree.
fn mounted_fn(plan: &Plan<'_>) -> TokenStream {
    if plan.module.is_none() {
        return TokenStream::new();
    }
    let root = to_ident(&plan.branches[plan.root].ident);
    let tree = plan.tree_module();
    let doc = format!(
        " The tree `{}` with the provider that accepts every target, for \
         `viss_runtime::server::main_with_trees`.",
        plan.tree.get(plan.root_node).name
    );
    quote! {
        #[doc = #doc]
        pub fn mounted() -> ::viss_runtime::server::MountedTree {
            let hook = ::std::sync::Arc::new(ProviderHook(AcceptAll));
            ::viss_runtime::server::MountedTree::new(#tree::#root::TREE, ::core::option::Option::Some(hook))
        }
    }
}

/// One provider method.
struct Method {
    ty: TypeId,
    field: usize,
    ident: syn::Ident,
    declaration: TokenStream,
}

fn provider_methods(plan: &Plan<'_>) -> Result<Vec<Method>, GenerateError> {
    let mut used = BTreeSet::new();
    let mut methods = Vec::new();
    for &ty in &plan.order {
        let branch = &plan.branches[ty];
        let example = &plan.tree.get(branch.example).path;
        for (index, field) in branch.fields.iter().enumerate() {
            let node = plan.tree.get(field.node);
            if node.kind != NodeKind::Actuator {
                continue;
            }
            let Some(datatype) = &node.data.datatype else {
                continue;
            };
            let tree = plan.tree_module();
            let value = leaf_value_type(plan, field.node, &quote!(#tree::))?;
            let base = format!(
                "set_{}_{}",
                branch.ident.to_snake_case(),
                field.ident.trim_start_matches("r#")
            );
            let ident = format_ident!("{}", unique(&mut used, base, "_"));
            let shared = if branch.uses > 1 {
                format!(
                    " and the same actuator in {} more branches",
                    branch.uses - 1
                )
            } else {
                String::new()
            };
            let doc = format!(" `{example}.{}` ({datatype}){shared}.", node.name);
            let declaration = quote! {
                #[doc = #doc]
                fn #ident(&self, actuator: Actuator<#value>, target: #value) {
                    let _ = (actuator, target);
                }
            };
            methods.push(Method {
                ty,
                field: index,
                ident,
                declaration,
            });
        }
    }
    Ok(methods)
}

/// The branch types that hold an actuator somewhere below them.
fn types_with_actuators(plan: &Plan<'_>) -> BTreeSet<TypeId> {
    let mut with = BTreeSet::new();
    // `order` lists parents before children: walk it backwards so children are known first.
    for &ty in plan.order.iter().rev() {
        let has = plan.branches[ty]
            .fields
            .iter()
            .any(|field| match &field.shape {
                Shape::Leaf => plan.tree.get(field.node).kind == NodeKind::Actuator,
                Shape::Branch(child) | Shape::Instances { element: child, .. } => {
                    with.contains(child)
                }
            });
        if has {
            with.insert(ty);
        }
    }
    with
}

fn route_ident(plan: &Plan<'_>, ty: TypeId) -> syn::Ident {
    format_ident!("route_{}", plan.branches[ty].ident.to_snake_case())
}

/// `route_<type>`: finds `node` among the branch's actuators and below its child branches.
fn route_fn(
    plan: &Plan<'_>,
    ty: TypeId,
    routed: &BTreeSet<TypeId>,
    methods: &[Method],
) -> TokenStream {
    let branch = &plan.branches[ty];
    let struct_ident = to_ident(&branch.ident);
    let ident = route_ident(plan, ty);
    let tree = plan.tree_module();
    let checks = branch
        .fields
        .iter()
        .enumerate()
        .filter_map(|(index, field)| {
            let member = to_ident(&field.ident);
            match &field.shape {
                Shape::Leaf => {
                    let method = methods.iter().find(|m| m.ty == ty && m.field == index)?;
                    let method = &method.ident;
                    Some(quote! {
                        if node == branch.#member.id() {
                            deliver(value, |target| provider.#method(branch.#member, target));
                            return true;
                        }
                    })
                }
                Shape::Branch(child) if routed.contains(child) => {
                    let route = route_ident(plan, *child);
                    Some(quote! {
                        if #route(&branch.#member, provider, node, value) {
                            return true;
                        }
                    })
                }
                Shape::Instances {
                    element,
                    dimensions,
                } if routed.contains(element) => {
                    let route = route_ident(plan, *element);
                    let mut body = quote! {
                        if #route(instance, provider, node, value) {
                            return true;
                        }
                    };
                    for _ in 1..dimensions.len() {
                        body = quote!(for instance in instance { #body });
                    }
                    Some(quote!(for instance in &branch.#member { #body }))
                }
                _ => None,
            }
        });
    quote! {
        fn #ident<P: Provider + ?Sized>(
            branch: &#tree::#struct_ident,
            provider: &P,
            node: NodeId,
            value: &Value,
        ) -> bool {
            #(#checks)*
            false
        }
    }
}

/// `src/lib.rs`: the first tree's `tree` and `provider` modules, and a module with both for
/// each further tree.
pub fn lib_tokens(plans: &[Plan<'_>]) -> TokenStream {
    let roots: Vec<String> = plans
        .iter()
        .map(|plan| format!("`{}`", plan.tree.get(plan.root_node).name))
        .collect();
    let doc = match plans {
        [_] => format!(
            " The typed VSS tree {} (`tree`), its provider (`provider`) and its protobuf \
             snapshot codec (`snapshot`).",
            roots.join("")
        ),
        _ => format!(
            " The typed VSS trees {}: the first in `tree` and `provider`, each further one in a \
             module of its own.",
            roots.join(", ")
        ),
    };
    let further = plans.iter().filter_map(|plan| {
        let module = to_ident(plan.module.as_deref()?);
        let root = &plan.tree.get(plan.root_node).name;
        let doc = format!(" The typed VSS tree `{root}`, its provider and its snapshot codec.");
        Some(quote! {
            #[doc = #doc]
            pub mod #module {
                #[rustfmt::skip]
                pub mod provider;
                #[rustfmt::skip]
                pub mod snapshot;
                #[rustfmt::skip]
                pub mod tree;
            }
        })
    });
    quote! {
        #![doc = #doc]

        // Generated files are formatted by prettyplease; `cargo fmt` leaves them as written.
        #[rustfmt::skip]
        pub mod provider;
        #[rustfmt::skip]
        pub mod snapshot;
        #[rustfmt::skip]
        pub mod tree;
        #(#further)*
    }
}

/// `src/main.rs`: hands the typed trees and their providers to `viss_runtime::server`, which
/// owns the command line (the same server flags and `VISS_*` variables as `viss-server`),
/// logging and the server's life. Written as text, not prettyplease output, laid out as
/// `cargo fmt` would write it, so it needs no `#[rustfmt::skip]`.
pub fn main_text(plans: &[Plan<'_>], crate_name: &str) -> String {
    let krate = crate_name.replace('-', "_");
    let primary = &plans[0];
    let root = to_ident(&primary.branches[primary.root].ident);
    let names: Vec<&str> = plans
        .iter()
        .map(|plan| plan.tree.get(plan.root_node).name.as_str())
        .collect();
    let (noun, trees) = match names.as_slice() {
        [one] => ("tree", format!("`{one}`")),
        _ => ("trees", names.join(", ")),
    };
    let mounted: Vec<String> = plans
        .iter()
        .filter_map(|plan| plan.module.as_deref())
        .map(|module| format!("{krate}::{module}::provider::mounted()"))
        .collect();
    let call = if mounted.is_empty() {
        format!("    ::viss_runtime::server::main(NAME, ABOUT, {root}::TREE, Some(provider))")
    } else {
        format!(
            "{}    let tree = {root}::TREE;\n    \
             ::viss_runtime::server::main_with_trees(NAME, ABOUT, tree, Some(provider), mounted)",
            vec_statement("mounted", &mounted)
        )
    };
    let about_trees = names.join(", ");
    format!(
        r#"//! The VISS v3 server for the VSS {noun} {trees}: `--help` lists the flags.

use std::process::ExitCode;
use std::sync::Arc;

use {krate}::provider::{{AcceptAll, ProviderHook}};
use {krate}::tree::{root};

/// Prefixes the server's messages.
const NAME: &str = "{crate_name}";
/// Heads `--help`.
const ABOUT: &str = "The VISS v3 server for the VSS {noun} {about_trees}, generated by vssgen";

fn main() -> ExitCode {{
    let provider = Arc::new(ProviderHook(AcceptAll));
{call}
}}
"#
    )
}

/// `    let name = vec![a, b];` as rustfmt lays it out: on one line while the items take at
/// most `array_width` (60) columns, else one item a line.
fn vec_statement(name: &str, items: &[String]) -> String {
    let one_line = items.join(", ");
    if one_line.len() + "vec![]".len() <= 60 {
        format!("    let {name} = vec![{one_line}];\n")
    } else {
        let lines: String = items
            .iter()
            .map(|item| format!("        {item},\n"))
            .collect();
        format!("    let {name} = vec![\n{lines}    ];\n")
    }
}
