//! `src/provider.rs`, `src/lib.rs` and `src/main.rs`: the typed provider (one method per
//! actuator concept, routed from the engine's set hook) and the server's entry point.

use heck::ToSnakeCase as _;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeSet;

use super::GenerateError;
use super::emit::rust_type_at;
use super::naming::{to_ident, unique};
use super::types::{Plan, Shape, TypeId};
use vss_model::NodeKind;

/// `src/provider.rs`.
pub fn provider_tokens(plan: &Plan<'_>) -> Result<TokenStream, GenerateError> {
    let routed = types_with_actuators(plan);
    let methods = provider_methods(plan)?;
    let trait_methods = methods.iter().map(|method| &method.declaration);
    let root = to_ident(&plan.branches[plan.root].ident);
    let hook_body = if routed.contains(&plan.root) {
        let route = route_ident(plan, plan.root);
        quote!(#route(&crate::tree::#root::TREE, &self.0, node, value);)
    } else {
        quote!(let _ = (node, value);)
    };
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

        #(#routes)*
    })
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
            let value = rust_type_at(plan, datatype, &node.path, &quote!(crate::tree::))?;
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
            branch: &crate::tree::#struct_ident,
            provider: &P,
            node: NodeId,
            value: &Value,
        ) -> bool {
            #(#checks)*
            false
        }
    }
}

/// `src/lib.rs`.
pub fn lib_tokens(plan: &Plan<'_>) -> TokenStream {
    let root = &plan.tree.get(plan.root_node).name;
    let doc = format!(" The typed VSS tree `{root}` (`tree`) and its provider (`provider`).");
    quote! {
        #![doc = #doc]

        // Generated files are formatted by prettyplease; `cargo fmt` leaves them as written.
        #[rustfmt::skip]
        pub mod provider;
        #[rustfmt::skip]
        pub mod tree;
    }
}

/// `src/main.rs`: hands the typed tree and the provider to `viss_runtime::server::main`, which
/// owns the command line (the same server flags and `VISS_*` variables as `viss-server`),
/// logging and the server's life. Written as text, not prettyplease output, so the file is
/// already as `cargo fmt` would write it and needs no `#[rustfmt::skip]`.
pub fn main_text(plan: &Plan<'_>, crate_name: &str) -> String {
    let krate = crate_name.replace('-', "_");
    let root = to_ident(&plan.branches[plan.root].ident);
    let tree = &plan.tree.get(plan.root_node).name;
    format!(
        r#"//! The VISS v3 server for the VSS tree `{tree}`: `--help` lists the flags.

use std::process::ExitCode;
use std::sync::Arc;

use {krate}::provider::{{AcceptAll, ProviderHook}};
use {krate}::tree::{root};

/// Prefixes the server's messages.
const NAME: &str = "{crate_name}";
/// Heads `--help`.
const ABOUT: &str = "The VISS v3 server for the VSS tree {tree}, generated by vssgen";

fn main() -> ExitCode {{
    let provider = Arc::new(ProviderHook(AcceptAll));
    ::viss_runtime::server::main(NAME, ABOUT, {root}::TREE, Some(provider))
}}
"#
    )
}
