//! Code generation for `#[derive(VissEnum)]`: the `VissEnum` impl (variants, their VSS
//! strings, conversions as `match`es) and `Display`/`FromStr` on the VSS strings.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::internals::variants::Enum;

pub fn expand(parsed: &Enum<'_>) -> TokenStream {
    let ident = parsed.ident;
    let name = ident.to_string();
    let variants: Vec<_> = parsed
        .variants
        .iter()
        .map(|variant| variant.ident)
        .collect();
    let names: Vec<_> = parsed
        .variants
        .iter()
        .map(|variant| variant.vss_name.as_str())
        .collect();
    let indices = (0..variants.len()).map(Literal::usize_unsuffixed);
    // An enum without variants has no value to match on.
    let (index_body, name_body) = if variants.is_empty() {
        (quote!(match self {}), quote!(match self {}))
    } else {
        (
            quote!(match self { #(Self::#variants => #indices,)* }),
            quote!(match self { #(Self::#variants => #names,)* }),
        )
    };
    quote! {
        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl ::viss_runtime::VissEnum for #ident {
                const VARIANTS: &'static [Self] = &[#(Self::#variants),*];
                const VSS_NAMES: &'static [&'static str] = &[#(#names),*];

                fn index(self) -> usize {
                    #index_body
                }

                fn vss_name(self) -> &'static str {
                    #name_body
                }

                fn from_vss_name(text: &str) -> ::core::option::Option<Self> {
                    match text {
                        #(#names => ::core::option::Option::Some(Self::#variants),)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #[automatically_derived]
            impl ::core::fmt::Display for #ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str(::viss_runtime::VissEnum::vss_name(*self))
                }
            }

            #[automatically_derived]
            impl ::core::str::FromStr for #ident {
                type Err = ::viss_runtime::NotAVariant;

                fn from_str(text: &str) -> ::core::result::Result<Self, Self::Err> {
                    <Self as ::viss_runtime::VissEnum>::from_vss_name(text).ok_or_else(|| {
                        ::viss_runtime::NotAVariant {
                            enum_name: #name,
                            text: ::std::borrow::ToOwned::to_owned(text),
                        }
                    })
                }
            }
        };
    }
}
