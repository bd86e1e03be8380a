//! The Rust server crate backend: a `VssTree` → a Cargo crate (`Cargo.toml`, `README.md`,
//! `src/{lib,tree,provider,main}.rs`).
//!
//! * [`naming`]: VSS names → Rust identifiers;
//! * [`types`]: one Rust type per concept (instance sets as arrays);
//! * [`enums`]: one Rust enum per `allowed` list of strings;
//! * [`emit`]: `tree.rs` tokens (quote → `syn::File` → prettyplease);
//! * [`server`]: `provider.rs` and `lib.rs` tokens, `main.rs` text (a call into the runtime);
//! * [`snapshot`]: `snapshot.rs`, the protobuf codec of the tree's `.proto` (numbers from
//!   the proto backend);
//! * [`link`]: the code-ordered link on x86_64 Linux (a crate of its own only, not a
//!   workspace member);
//! * the non-Rust files come from the minijinja templates in `templates/`.
//!
//! Output is deterministic: nothing iterates a hash map, and the only inputs are the tree and
//! [`GenerateOptions`].

pub mod emit;
pub mod enums;
pub mod link;
pub mod naming;
pub mod server;
pub mod snapshot;
pub mod types;

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior, context};
use vss_model::{NodeKind, VssTree};

/// What to generate, besides the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The package name (also the binary's).
    pub crate_name: String,
    /// How the crate depends on viss-runtime.
    pub runtime: RuntimeDependency,
    /// The command that regenerates the output, written into the `@generated` headers.
    pub command: String,
    /// The crate is a member of an enclosing Cargo workspace: no `[profile.*]` tables (Cargo
    /// ignores them outside the workspace root, with a warning).
    pub workspace_member: bool,
    /// The numbers of each tree's `proto/<root>.proto` (by tree, from its lock), which the
    /// snapshot codec must match; a tree without an entry is numbered afresh.
    pub proto_numbers: Vec<super::proto::Numbering>,
}

impl GenerateOptions {
    /// Options for a crate named `crate_name` that depends on the published viss-runtime.
    pub fn new(crate_name: impl Into<String>) -> Self {
        Self {
            crate_name: crate_name.into(),
            runtime: RuntimeDependency::Version("0.1".to_owned()),
            command: "vssgen generate".to_owned(),
            workspace_member: false,
            proto_numbers: Vec::new(),
        }
    }
}

/// The generated `Cargo.toml`'s viss-runtime dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeDependency {
    /// `viss-runtime = { version = ".." }`.
    Version(String),
    /// `viss-runtime = { path = ".." }` (written as given: relative paths are relative to
    /// the generated crate).
    Path(PathBuf),
}

/// Why a crate could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("the tree has no signal tree root")]
    NoSignalTree,
    #[error("two trees have the root `{0}`: each tree needs a root of its own")]
    DuplicateRoot(String),
    #[error("{0}: struct or property nodes inside the signal tree are not supported")]
    StructInSignalTree(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("invalid crate name '{0}': use letters, digits, '-' and '_', starting with a letter")]
    CrateName(String),
    #[error("internal generator error: {0}")]
    Internal(String),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, String),
}

/// One generated file: its path relative to the crate root and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: String,
    pub contents: String,
}

impl GeneratedFile {
    pub fn new(path: impl Into<String>, contents: String) -> Self {
        Self {
            path: path.into(),
            contents,
        }
    }
}

/// The whole crate for `tree`, in a fixed file order.
pub fn generate(
    tree: &VssTree,
    options: &GenerateOptions,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    generate_trees(std::slice::from_ref(tree), options)
}

/// The whole crate serving `trees` (each its own root and root type), in a fixed file
/// order: the first tree in `src/tree.rs` and `src/provider.rs`, each further one in
/// `src/<root in snake case>/`, mounted beside the first by `src/main.rs`.
pub fn generate_trees(
    trees: &[VssTree],
    options: &GenerateOptions,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    check_crate_name(&options.crate_name)?;
    let plans = plan_trees(trees)?;
    let header = rust_header(options);
    let rust = |tokens| emit::format_file(tokens).map(|text| format!("{header}{text}"));
    let mut files = vec![
        GeneratedFile::new("Cargo.toml", render(CARGO_TEMPLATE, &plans, options)?),
        GeneratedFile::new("README.md", render(README_TEMPLATE, &plans, options)?),
        GeneratedFile::new("src/lib.rs", rust(server::lib_tokens(&plans))?),
    ];
    for (index, plan) in plans.iter().enumerate() {
        let dir = match &plan.module {
            None => "src".to_owned(),
            Some(module) => format!("src/{module}"),
        };
        files.push(GeneratedFile::new(
            format!("{dir}/tree.rs"),
            rust(emit::tree_tokens(plan)?)?,
        ));
        files.push(GeneratedFile::new(
            format!("{dir}/provider.rs"),
            rust(server::provider_tokens(plan)?)?,
        ));
        let numbers = match options.proto_numbers.get(index) {
            Some(numbers) => numbers.clone(),
            None => fresh_numbers(plan.tree)?,
        };
        files.push(GeneratedFile::new(
            format!("{dir}/snapshot.rs"),
            rust({
                let doc = snapshot::snapshot_doc(plan);
                let items = snapshot::snapshot_tokens(plan, &numbers)?;
                quote::quote!(#doc #items)
            })?,
        ));
    }
    files.push(GeneratedFile::new(
        "src/main.rs",
        format!("{header}{}", server::main_text(&plans, &options.crate_name)),
    ));
    if !options.workspace_member {
        // a member links as its workspace does
        files.extend(link::files(options)?);
    }
    Ok(files)
}

/// A plan per tree; every tree after the first gets a module named after its root.
fn plan_trees(trees: &[VssTree]) -> Result<Vec<types::Plan<'_>>, GenerateError> {
    if trees.is_empty() {
        return Err(GenerateError::NoSignalTree);
    }
    // The crate's own module and file names are taken.
    let mut modules: std::collections::BTreeSet<String> =
        ["tree", "provider", "snapshot", "main", "lib"]
            .into_iter()
            .map(str::to_owned)
            .collect();
    let mut roots = std::collections::BTreeSet::new();
    let mut plans = Vec::new();
    for (index, tree) in trees.iter().enumerate() {
        let mut plan = types::plan(tree)?;
        let root = tree.get(plan.root_node).name.clone();
        if !roots.insert(root.clone()) {
            return Err(GenerateError::DuplicateRoot(root));
        }
        if index > 0 {
            // A module is a directory too: a keyword gets a `_` rather than `r#`.
            let ident = naming::field_ident(&root);
            let base = match ident.strip_prefix("r#") {
                Some(keyword) => format!("{keyword}_"),
                None => ident,
            };
            plan.module = Some(naming::unique(&mut modules, base, "_"));
        }
        plans.push(plan);
    }
    Ok(plans)
}

/// Only `src/tree.rs` (for `include!` from a build script): no inner attributes, so it can
/// be included anywhere.
pub fn generate_tree(tree: &VssTree, options: &GenerateOptions) -> Result<String, GenerateError> {
    let plan = types::plan(tree)?;
    let text = emit::format_file(emit::tree_tokens(&plan)?)?;
    Ok(format!("{}{text}", rust_header(options)))
}

/// Only `src/snapshot.rs` (for `include!` from a build script, beside [`generate_tree`]'s
/// `tree` module), numbered as `vssgen export proto` without a lock numbers the tree.
pub fn generate_snapshot(
    tree: &VssTree,
    options: &GenerateOptions,
) -> Result<String, GenerateError> {
    let plan = types::plan(tree)?;
    let numbers = match options.proto_numbers.first() {
        Some(numbers) => numbers.clone(),
        None => fresh_numbers(tree)?,
    };
    let text = emit::format_file(snapshot::snapshot_tokens(&plan, &numbers)?)?;
    Ok(format!("{}{text}", rust_header(options)))
}

/// The numbers of a `.proto` generated without a lock.
fn fresh_numbers(tree: &VssTree) -> Result<super::proto::Numbering, GenerateError> {
    let options = super::proto::ProtoOptions {
        command: String::new(),
        lock_name: String::new(),
        allow_breaking: false,
    };
    super::proto::generate(tree, None, &options).map(|proto| proto.numbering)
}

/// Writes `files` below `dir` (creating directories).
pub fn write_files(dir: &Path, files: &[GeneratedFile]) -> Result<(), GenerateError> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| GenerateError::Write(parent.to_owned(), error.to_string()))?;
        }
        std::fs::write(&path, &file.contents)
            .map_err(|error| GenerateError::Write(path.clone(), error.to_string()))?;
        if file.contents.starts_with("#!") {
            make_executable(&path)?;
        }
    }
    Ok(())
}

/// A script (a file starting with `#!`) is written executable: cargo runs `link/cc-ordered`.
#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), GenerateError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|error| GenerateError::Write(path.to_owned(), error.to_string()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), GenerateError> {
    Ok(())
}

fn rust_header(options: &GenerateOptions) -> String {
    format!(
        "// @generated by vssgen {}. Do not edit: regenerate with `{}`.\n\n",
        env!("CARGO_PKG_VERSION"),
        options.command
    )
}

fn check_crate_name(name: &str) -> Result<(), GenerateError> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(GenerateError::CrateName(name.to_owned()))
    }
}

const CARGO_TEMPLATE: &str = include_str!("../../../../templates/Cargo.toml.j2");
const README_TEMPLATE: &str = include_str!("../../../../templates/README.md.j2");

/// Renders a template from the view model of `plan` (strict undefined, no escaping).
fn render(
    template: &str,
    plans: &[types::Plan<'_>],
    options: &GenerateOptions,
) -> Result<String, GenerateError> {
    let plan = &plans[0];
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let template = env
        .template_from_str(template)
        .map_err(|error| GenerateError::Internal(error.to_string()))?;
    let tree = plan.tree;
    let signal = tree.subtree(plan.root_node);
    let further: Vec<_> = plans
        .iter()
        .filter_map(|plan| {
            Some(context! {
                module => plan.module.as_deref()?,
                root => &plan.tree.get(plan.root_node).name,
                node_count => plan.tree.subtree(plan.root_node).len(),
            })
        })
        .collect();
    let count = |kind: Option<NodeKind>| {
        signal
            .iter()
            .filter(|id| {
                let node = tree.get(**id);
                kind.map_or(node.is_leaf(), |kind| node.kind == kind)
            })
            .count()
    };
    let runtime = match &options.runtime {
        RuntimeDependency::Version(version) => format!("version = \"{version}\""),
        RuntimeDependency::Path(path) => format!("path = \"{}\"", path.display()),
    };
    let root = &plan.branches[plan.root];
    let example_leaf = first_leaf_access(plan);
    let enum_example = enum_example(plan);
    template
        .render(context! {
            version => env!("CARGO_PKG_VERSION"),
            command => &options.command,
            crate_name => &options.crate_name,
            runtime => runtime,
            root => &tree.get(plan.root_node).name,
            root_type => &root.ident,
            node_count => signal.len(),
            leaf_count => count(None),
            actuator_count => count(Some(NodeKind::Actuator)),
            type_count => plan.branches.len(),
            struct_count => plan.structs.len(),
            example_leaf => example_leaf,
            enum_count => plan.enums.enums.len(),
            enum_leaf_count => plan.enums.leaf_types.len(),
            enum_example => enum_example,
            profiles => !options.workspace_member,
            further => further,
        })
        // minijinja drops the template's final newline; files end with one
        .map(|text| format!("{text}\n"))
        .map_err(|error| GenerateError::Internal(error.to_string()))
}

/// `speed` or `cabin.door[0][0].is_open`: the Rust access path of the first leaf.
pub(crate) fn first_leaf_access(plan: &types::Plan<'_>) -> String {
    find_leaf(plan, plan.root, &|_| true)
        .map(|(access, _)| access)
        .unwrap_or_default()
}

/// The Rust access path and field of the first leaf field (depth-first, instance `[0]`)
/// that `wanted` accepts.
fn find_leaf<'p>(
    plan: &'p types::Plan<'_>,
    ty: types::TypeId,
    wanted: &dyn Fn(&types::Field) -> bool,
) -> Option<(String, &'p types::Field)> {
    for field in &plan.branches[ty].fields {
        let (child, step) = match &field.shape {
            types::Shape::Leaf if wanted(field) => return Some((field.ident.clone(), field)),
            types::Shape::Leaf => continue,
            types::Shape::Branch(child) => (*child, field.ident.clone()),
            types::Shape::Instances {
                element,
                dimensions,
            } => (
                *element,
                format!("{}{}", field.ident, "[0]".repeat(dimensions.len())),
            ),
        };
        if let Some((rest, leaf)) = find_leaf(plan, child, wanted) {
            return Some((format!("{step}.{rest}"), leaf));
        }
    }
    None
}

/// The README's enum example: the first scalar leaf typed with an enum.
fn enum_example(plan: &types::Plan<'_>) -> Option<minijinja::Value> {
    let scalar_enum = |field: &types::Field| {
        plan.enums.leaf_types.contains_key(&field.node)
            && plan
                .tree
                .get(field.node)
                .data
                .datatype
                .as_ref()
                .is_some_and(|datatype| !datatype.is_array)
    };
    let (access, field) = find_leaf(plan, plan.root, &scalar_enum)?;
    let ident = plan.enums.leaf_types.get(&field.node)?;
    let ty = plan
        .enums
        .enums
        .iter()
        .find(|ty| ty.leaves.contains(&field.node))?;
    let variant = ty.variants.first()?;
    let handle = match plan.tree.get(field.node).kind {
        NodeKind::Sensor => "Sensor",
        NodeKind::Actuator => "Actuator",
        _ => "Attribute",
    };
    Some(context! {
        field => &field.ident,
        access => access,
        handle => handle,
        ident => ident,
        variant => &variant.ident,
        value => &variant.vss_name,
    })
}
