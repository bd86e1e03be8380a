//! `src/provider.rs`, `src/lib.rs` and `src/main.rs`: the typed provider (one method per
//! actuator concept, routed from the engine's set hook) and the server skeleton.

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
        /// `TypedEngine::target`); the provider feeds the actuator's current value once the
        /// vehicle reaches it.
        pub trait Provider: Send + Sync + 'static {
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

/// `src/main.rs`: configuration from a TOML file and flags, the engine over the typed tree
/// with the provider installed, and the server (`viss_runtime::server`) until Ctrl-C.
pub fn main_tokens(plan: &Plan<'_>, crate_name: &str) -> TokenStream {
    let krate = format_ident!("{}", crate_name.replace('-', "_"));
    let root = to_ident(&plan.branches[plan.root].ident);
    let usage = format!(
        "usage: {crate_name} [--config FILE] [--insecure] [--simulator] [--ws-port N] \
         [--http-port N]\n\n  --config FILE   server configuration (TOML, see \
         viss_runtime::server::ServerConfig)\n  --insecure      plain ws:// and http:// \
         (local development only)\n  --simulator     feed every sensor with simulated \
         values\n  --ws-port N     WebSocket port (default 6443, 0 = any free port)\n  \
         --http-port N   HTTPS port (default 8443, 0 = any free port)"
    );
    quote! {
        #![doc = " The VISS v3 server for this tree: `--help` lists the flags."]

        use std::path::PathBuf;
        use std::process::ExitCode;
        use std::sync::Arc;

        use ::viss_runtime::server::{self, Listening, ServerConfig};
        use ::viss_runtime::{Engine, EngineConfig, VissTree as _};
        use #krate::provider::{AcceptAll, ProviderHook};
        use #krate::tree::#root;

        const USAGE: &str = #usage;

        /// Flags over the configuration file: file < flags.
        #[derive(Debug, Default)]
        struct Flags {
            config: Option<PathBuf>,
            insecure: bool,
            simulator: bool,
            ws_port: Option<u16>,
            http_port: Option<u16>,
        }

        fn main() -> ExitCode {
            let flags = match parse_flags(std::env::args().skip(1)) {
                Ok(Some(flags)) => flags,
                Ok(None) => {
                    println!("{USAGE}");
                    return ExitCode::SUCCESS;
                }
                Err(message) => {
                    eprintln!("{message}\n{USAGE}");
                    return ExitCode::from(2);
                }
            };
            let config = match load_config(&flags) {
                Ok(config) => config,
                Err(message) => {
                    eprintln!("{message}");
                    return ExitCode::from(2);
                }
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("cannot start the async runtime: {error}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("{message}");
                    ExitCode::FAILURE
                }
            }
        }

        /// `Ok(None)`: `--help`.
        fn parse_flags(mut args: impl Iterator<Item = String>) -> Result<Option<Flags>, String> {
            let mut flags = Flags::default();
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--config" => {
                        flags.config = Some(PathBuf::from(args.next().ok_or("--config needs a file")?));
                    }
                    "--insecure" => flags.insecure = true,
                    "--simulator" => flags.simulator = true,
                    "--ws-port" => flags.ws_port = Some(port(args.next())?),
                    "--http-port" => flags.http_port = Some(port(args.next())?),
                    "-h" | "--help" => return Ok(None),
                    other => return Err(format!("unknown argument `{other}`")),
                }
            }
            Ok(Some(flags))
        }

        fn port(value: Option<String>) -> Result<u16, String> {
            let value = value.ok_or("a port flag needs a number")?;
            value.parse().map_err(|_| format!("`{value}` is not a port number"))
        }

        fn load_config(flags: &Flags) -> Result<ServerConfig, String> {
            let mut config = match &flags.config {
                Some(path) => ServerConfig::from_file(path).map_err(|error| error.to_string())?,
                None => ServerConfig::default(),
            };
            config.tls.insecure |= flags.insecure;
            config.simulator.enabled |= flags.simulator;
            if let Some(port) = flags.ws_port {
                config.listen.ws_port = port;
            }
            if let Some(port) = flags.http_port {
                config.listen.http_port = port;
            }
            Ok(config)
        }

        /// The one place the transports start: the engine over the typed tree, the provider
        /// hook, then `viss_runtime::server` until SIGINT/SIGTERM.
        async fn serve(config: ServerConfig) -> Result<(), String> {
            let engine_config = EngineConfig {
                queue_capacity: config.limits.event_queue,
                max_subscriptions_per_session: config.limits.max_subscriptions_per_connection,
                ..EngineConfig::default()
            };
            let mut engine = Engine::new(#root::TREE, engine_config);
            engine.set_provider(Arc::new(ProviderHook(AcceptAll)));
            let nodes = engine.tree().nodes().len();
            let listening = server::start(Arc::new(engine), &config)
                .await
                .map_err(|error| error.to_string())?;
            print_addresses(&listening, nodes);
            server::shutdown_signal().await;
            listening.shutdown().await;
            Ok(())
        }

        fn print_addresses(listening: &Listening, nodes: usize) {
            println!("serving {nodes} nodes");
            if let Some(address) = listening.ws {
                println!("  WebSocket: {}://{address} (sub-protocol VISSv3)", listening.ws_scheme());
            }
            if let Some(address) = listening.http {
                println!("  HTTP:      {}://{address}", listening.http_scheme());
            }
        }
    }
}
