//! `src/snapshot.rs`: the protobuf codec of the tree's `proto/<root>.proto` in Rust. Every
//! branch type implements `viss_runtime::snapshot::ProtoBranch` (its message's fields,
//! read from and fed to the engine through the branch's leaf handles); enums and struct
//! types become tables. The numbers are the proto backend's (from the lock), so the Rust
//! codec and the `.proto` any other language compiles always agree.

use heck::ToShoutySnakeCase as _;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::GenerateError;
use super::naming::to_ident;
use super::types::{Plan, Shape, StructType, TypeId};
use crate::backend::proto::{self, LeafType, Numbering, ProtoBase};
use vss_model::NodeId;

/// The module documentation of `src/snapshot.rs` (inner attributes: a file `include!`d by a
/// build script goes without them).
pub fn snapshot_doc(plan: &Plan<'_>) -> TokenStream {
    let root = &plan.branches[plan.root].ident;
    let doc = [
        format!(
            " The protobuf snapshot codec of `proto/{}.proto`: the current values below any",
            root.to_lowercase()
        ),
        " branch as its message, and a message fed back as typed writes.".to_owned(),
        String::new(),
        " ```text".to_owned(),
        " let mut buf = Vec::new();".to_owned(),
        format!(" viss_runtime::snapshot::encode(&{root}::TREE, &engine, &mut buf);"),
        format!(" let report = viss_runtime::snapshot::decode(&{root}::TREE, &engine, &buf, ts)?;"),
        " ```".to_owned(),
    ];
    quote!(#(#![doc = #doc])*)
}

/// The items of `src/snapshot.rs` of `plan`'s tree, numbered by `numbers`.
pub fn snapshot_tokens(plan: &Plan<'_>, numbers: &Numbering) -> Result<TokenStream, GenerateError> {
    let enums = plan
        .enums
        .enums
        .iter()
        .map(|declared| enum_table(&declared.ident, numbers))
        .collect::<Result<Vec<_>, _>>()?;
    let structs = plan
        .structs
        .iter()
        .map(|structure| struct_table(plan, structure, numbers))
        .collect::<Result<Vec<_>, _>>()?;
    let impls = plan
        .order
        .iter()
        .map(|id| branch_impl(plan, *id, numbers))
        .collect::<Result<Vec<_>, _>>()?;
    // Only what the file uses (a tree without enums or struct types needs no tables).
    let mut imports = vec![quote!(Encoder), quote!(FieldInput), quote!(Kind)];
    if !enums.is_empty() {
        imports.push(quote!(EnumCodec));
    }
    if !structs.is_empty() {
        imports.extend([quote!(Member), quote!(StructCodec)]);
    }
    Ok(quote! {
        use ::viss_runtime::codec::DecodeError;
        use ::viss_runtime::snapshot::{#(#imports,)* ProtoBranch, SnapshotStore};

        #(#enums)*
        #(#structs)*
        #(#impls)*
    })
}

fn enum_static(ident: &str) -> syn::Ident {
    format_ident!("ENUM_{}", ident.to_shouty_snake_case())
}

fn struct_static(ident: &str) -> syn::Ident {
    format_ident!("STRUCT_{}", ident.to_shouty_snake_case())
}

fn enum_table(ident: &str, numbers: &Numbering) -> Result<TokenStream, GenerateError> {
    let values = numbers
        .enums
        .get(ident)
        .ok_or_else(|| GenerateError::Internal(format!("no numbers for enum {ident}")))?;
    let mut pairs: Vec<(u32, &String)> = values.iter().map(|(vss, n)| (*n, vss)).collect();
    pairs.sort();
    let entries = pairs.iter().map(|(number, vss)| {
        let number = Literal::i32_unsuffixed(*number as i32);
        quote!((#number, #vss))
    });
    let name = enum_static(ident);
    let doc = format!(" The numbers of enum `{ident}`.");
    Ok(quote! {
        #[doc = #doc]
        static #name: EnumCodec = EnumCodec::new(&[#(#entries),*]);
    })
}

fn struct_table(
    plan: &Plan<'_>,
    structure: &StructType,
    numbers: &Numbering,
) -> Result<TokenStream, GenerateError> {
    let members = structure
        .properties
        .iter()
        .map(|(_, property)| {
            let name = &plan.tree.get(*property).name;
            let number = Literal::u32_unsuffixed(numbers.field(&structure.ident, name)?);
            let leaf = proto::leaf_type(plan, *property)?;
            let kind = kind_tokens(&leaf)?;
            let repeated = leaf.repeated;
            Ok(quote!(Member::new(#number, #name, #kind, #repeated)))
        })
        .collect::<Result<Vec<_>, GenerateError>>()?;
    let name = struct_static(&structure.ident);
    let doc = format!(" The members of struct type `{}`.", structure.vss_name);
    Ok(quote! {
        #[doc = #doc]
        static #name: StructCodec = StructCodec::new(&[#(#members),*]);
    })
}

/// `Kind::Float`, `Kind::Enum(&ENUM_ROLLOVER)`, `Kind::Struct(&STRUCT_GEO_POINT)`.
fn kind_tokens(leaf: &LeafType) -> Result<TokenStream, GenerateError> {
    match &leaf.base {
        ProtoBase::Scalar(scalar) => {
            let variant = match *scalar {
                "bool" => quote!(Bool),
                "string" => quote!(String),
                "float" => quote!(Float),
                "double" => quote!(Double),
                "uint32" => quote!(Uint32),
                "uint64" => quote!(Uint64),
                "sint32" => quote!(Sint32),
                "sint64" => quote!(Sint64),
                other => {
                    return Err(GenerateError::Internal(format!(
                        "no snapshot kind for protobuf type {other}"
                    )));
                }
            };
            Ok(quote!(Kind::#variant))
        }
        ProtoBase::Enum(name) => {
            let table = enum_static(name);
            Ok(quote!(Kind::Enum(&#table)))
        }
        ProtoBase::Message(name) => {
            let table = struct_static(name);
            Ok(quote!(Kind::Struct(&#table)))
        }
    }
}

/// One field's encode statement and decode arm.
struct FieldCode {
    encode: TokenStream,
    decode: TokenStream,
}

fn branch_impl(
    plan: &Plan<'_>,
    id: TypeId,
    numbers: &Numbering,
) -> Result<TokenStream, GenerateError> {
    let branch = &plan.branches[id];
    let mut fields = Vec::new();
    for field in &branch.fields {
        let ident = to_ident(&field.ident);
        let name = &plan.tree.get(field.node).name;
        match &field.shape {
            Shape::Leaf => {
                let number = numbers.field(&branch.ident, name)?;
                fields.push(leaf_code(plan, field.node, number, quote!(self.#ident))?);
            }
            Shape::Branch(_) => {
                let number = numbers.field(&branch.ident, name)?;
                fields.push(branch_code(number, quote!(self.#ident)));
            }
            Shape::Instances { dimensions, .. } => {
                for (instance, indices) in proto::instances(dimensions) {
                    let number = numbers.field(&branch.ident, &format!("{name}_{instance}"))?;
                    let indices = indices
                        .iter()
                        .map(|index| Literal::usize_unsuffixed(*index));
                    fields.push(branch_code(number, quote!(self.#ident #([#indices])*)));
                }
            }
        }
    }
    let ty = to_ident(&branch.ident);
    let tree = plan.tree_module();
    let encodes = fields.iter().map(|field| &field.encode);
    let decodes = fields.iter().map(|field| &field.decode);
    let unused = fields.is_empty().then(|| quote!(let _ = (store, out);));
    Ok(quote! {
        impl ProtoBranch for #tree::#ty {
            fn encode_fields<S: SnapshotStore>(&self, store: &S, out: &mut Encoder<'_>) {
                #unused
                #(#encodes)*
            }

            fn decode_field<S: SnapshotStore>(
                &self,
                field: &mut FieldInput<'_, '_, S>,
            ) -> Result<(), DecodeError> {
                match field.number() {
                    #(#decodes)*
                    _ => Ok(()),
                }
            }
        }
    })
}

fn leaf_code(
    plan: &Plan<'_>,
    node: NodeId,
    number: u32,
    access: TokenStream,
) -> Result<FieldCode, GenerateError> {
    let leaf = proto::leaf_type(plan, node)?;
    let kind = kind_tokens(&leaf)?;
    let number = Literal::u32_unsuffixed(number);
    let method = if leaf.repeated {
        quote!(repeated)
    } else {
        quote!(leaf)
    };
    Ok(FieldCode {
        encode: quote!(out.#method(store, #number, #access.id(), #kind);),
        decode: quote!(#number => field.#method(#access.id(), #kind),),
    })
}

fn branch_code(number: u32, access: TokenStream) -> FieldCode {
    let number = Literal::u32_unsuffixed(number);
    FieldCode {
        encode: quote!(out.branch(store, #number, &#access);),
        decode: quote!(#number => field.branch(&#access),),
    }
}
