//! The types of the seed and of the gradient, and how the zero gradient
//! is made.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};

use super::tuple_or_single;
use crate::parse::{ArgKind, FnSpec};

/// How the zero gradient of the active arguments is made.
pub(super) struct ZeroGradient {
    /// Statements run before anything may move the arguments: the zero
    /// tangents (`__z_x`) of the aggregates passed by value.
    pub eager: TokenStream,
    /// The gradient, made when `pull` needs one: a copy of those, a borrowed
    /// aggregate's zero tangent from the borrow, a zero per scalar.
    pub zero: TokenStream,
}

pub(super) fn zero_gradient(spec: &FnSpec) -> ZeroGradient {
    let real = spec.real();
    let mut eager = TokenStream::new();
    let zeros: Vec<TokenStream> = spec
        .active_args()
        .map(|arg| {
            let ident = &arg.ident;
            match arg.kind {
                ArgKind::Scalar => quote!(#real::from_f64(0.0)),
                _ if arg.is_reference() => {
                    quote!(::causalgrad::Differentiable::zero_tangent(#ident))
                }
                _ => {
                    let zero = format_ident!("__z_{}", ident);
                    eager.extend(quote!(
                        let #zero = ::causalgrad::Differentiable::zero_tangent(&#ident);
                    ));
                    quote!(::core::clone::Clone::clone(&#zero))
                }
            }
        })
        .collect();
    ZeroGradient {
        eager,
        zero: tuple_or_single(&zeros),
    }
}

/// The output cotangent: the output type, or a struct's tangent.
pub(super) fn seed_type(spec: &FnSpec) -> TokenStream {
    let output = &spec.output;
    if spec.outputs == 0 {
        quote!(<#output as ::causalgrad::Differentiable>::Tangent)
    } else {
        output.to_token_stream()
    }
}

/// One entry type per argument: its cotangent type, or `()`.
pub(super) fn entry_types(spec: &FnSpec) -> Vec<TokenStream> {
    spec.args
        .iter()
        .map(|arg| match (arg.active, arg.kind) {
            (true, ArgKind::Scalar) => spec.float.to_token_stream(),
            (true, _) => {
                let ty = arg.differentiable_type();
                quote!(<#ty as ::causalgrad::Differentiable>::Tangent)
            }
            (false, _) => quote!(()),
        })
        .collect()
}

/// The gradient with respect to the active arguments: one cotangent for
/// one active argument, a tuple in argument order for several.
pub(super) fn grad_type(spec: &FnSpec) -> TokenStream {
    let entry_types = entry_types(spec);
    let active: Vec<TokenStream> = spec
        .args
        .iter()
        .zip(entry_types)
        .filter(|(arg, _)| arg.active)
        .map(|(_, ty)| ty)
        .collect();
    tuple_or_single(&active)
}
