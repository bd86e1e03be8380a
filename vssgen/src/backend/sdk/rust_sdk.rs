//! The Rust SDK: a crate whose `tree.rs` is the server's own typed tree (the same tokens as
//! the server's, `#[derive(VissTree)]`), typing `viss_runtime::client::Client`: handles
//! name nodes and Rust types at compile time, and values are checked by the server's checks.

use quote::quote;
use serde::Serialize;

use super::messages::Messages;
use super::{SdkOptions, header, render};
use crate::backend::rust::types::Plan;
use crate::backend::rust::{GenerateError, GeneratedFile, emit};

const CARGO: &str = include_str!("../../../../templates/sdk/rust/Cargo.toml.j2");
const README: &str = include_str!("../../../../templates/sdk/rust/README.md.j2");

#[derive(Serialize)]
struct View {
    header: String,
    messages: bool,
    package: String,
    crate_ident: String,
    runtime: String,
    root_name: String,
    root_class: String,
    example: String,
}

/// The crate's files, relative to its root.
pub fn files(
    plan: &Plan<'_>,
    messages: Option<&Messages>,
    options: &SdkOptions,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    let package = format!("{}-sdk", options.name);
    let root_class = plan.branches[plan.root].ident.clone();
    let view = View {
        header: header("#", options),
        messages: messages.is_some(),
        crate_ident: package.replace('-', "_"),
        package,
        runtime: options.rust_runtime.clone(),
        root_name: plan.tree.get(plan.root_node).name.clone(),
        root_class: root_class.clone(),
        example: crate::backend::rust::first_leaf_access(plan),
    };
    let rust_header = format!("{}\n\n", header("//", options));
    let tree = emit::format_file(emit::tree_tokens(plan)?)?;
    let lib = emit::format_file(lib_tokens(&root_class, &view.root_name, messages.is_some()))?;
    let mut files = vec![
        GeneratedFile::new("Cargo.toml", render(CARGO, &view)?),
        GeneratedFile::new("README.md", render(README, &view)?),
        GeneratedFile::new("src/lib.rs", format!("{rust_header}{lib}")),
        GeneratedFile::new("src/tree.rs", format!("{rust_header}{tree}")),
    ];
    if let Some(messages) = messages {
        let text = emit::format_file(super::rust_messages::messages_tokens(messages))?;
        files.push(GeneratedFile::new(
            "src/messages.rs",
            format!("{rust_header}{text}"),
        ));
    }
    Ok(files)
}

/// `lib.rs`: the tree module, the client re-exported, and `connect` typed by the root.
fn lib_tokens(root_class: &str, root_name: &str, messages: bool) -> proc_macro2::TokenStream {
    let root = crate::backend::rust::naming::to_ident(root_class);
    let doc = format!(
        " A typed VISS v3 client of the VSS tree `{root_name}`: `connect`, then read, set and \
         subscribe through `{root_class}::TREE`'s handles; `vehicle_api` for VAPI v1.0."
    );
    let messages = messages.then(|| {
        quote! {
            /// The VISS message types, from the VISS JSON schema.
            #[rustfmt::skip]
            pub mod messages;
        }
    });
    quote! {
        #![doc = #doc]

        // Generated files are formatted by prettyplease; `cargo fmt` leaves them as written.
        #messages
        #[rustfmt::skip]
        pub mod tree;

        // Short enough for one line each (prettyplease wraps past 89 columns, rustfmt
        // joins up to 100): both format them alike.
        pub use viss_runtime::client::{AccessControl, Backoff, Client, ClientError};
        pub use viss_runtime::client::{ClientOptions, Combination, DataPoint, Filter};
        pub use viss_runtime::client::{LogicOp, RawSubscription, Subscription, vapi};

        /// Connects to a VISS server: `wss://` (every call), `https://` (get, set, history,
        /// metadata), with this crate's `grpc` feature `grpcs://`, with its `mqtt` feature
        /// `mqtts://broker/<VID>` (every call); `ws://`, `http://` or `grpc://` for one run
        /// `--insecure`, `mqtt://` for a broker without TLS.
        pub async fn connect(
            url: &str,
            options: ClientOptions,
        ) -> Result<Client<tree::#root>, ClientError> {
            Client::connect(url, tree::#root::TREE, options).await
        }

        /// VAPI v1.0 procedures (data, common, seating) for the vehicle at `options`' URLs.
        pub fn vehicle_api(options: vapi::VapiOptions) -> vapi::Vapi<tree::#root> {
            vapi::Vapi::new(|| tree::#root::TREE, options)
        }
    }
}
