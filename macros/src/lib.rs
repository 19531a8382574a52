//! Procedural macros of [causalgrad](https://docs.rs/causalgrad): compile-time,
//! source-to-source reverse-mode differentiation.
//!
//! Use them through the `causalgrad` crate, which re-exports them and
//! provides the runtime traits the generated code refers to. The pipeline of
//! `#[differentiable]`: `parse` reads the signature, `activity` finds the
//! values that depend on the active arguments, `lower` turns the body into
//! the IR of `ir` (A-normal form, cells, places, exit codes), `loads` merges
//! repeated loads of one element, `adjoint`
//! builds the reverse sweep from the derivative table in `rules`, and `emit`
//! writes the forward sweep, the pullback closure and the wrappers.
//! `derive` implements `#[derive(Differentiable)]`.

mod activity;
mod adjoint;
mod counters;
mod ctxt;
mod derive;
mod emit;
mod increments;
mod ir;
mod loads;
mod lower;
mod names;
mod parse;
mod reuse;
mod rollback;
mod rules;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::ItemFn;

/// Generates reverse-mode derivatives of a function at compile time.
///
/// See the `causalgrad` crate documentation for the generated API
/// (`f::value_and_grad`, `f::pullback`, `f::Function`) and the supported
/// syntax.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = match syn::parse::<ItemFn>(item) {
        Ok(item) => item,
        Err(error) => {
            let mut error = syn::Error::new(
                error.span(),
                "#[differentiable] applies to free functions (`fn f(x: f64) -> f64 { .. }`)",
            );
            error.combine(syn::Error::new(error.span(), "expected a function here"));
            return error.to_compile_error().into();
        }
    };
    expand(attr.into(), &item).into()
}

/// Derives `causalgrad::Differentiable` for a struct with named fields.
///
/// Generates the tangent struct `{Name}Tangent` (same generics, the struct's
/// visibility, one public field per differentiable field holding that
/// field's tangent), `Clone` and `Debug` for it, `impl Differentiable for
/// {Name}`, and `impl Tangent` plus `Add`, `AddAssign` and `Mul<Scalar>` for
/// the tangent. Fields marked `#[no_diff]` are constants: not in the
/// tangent, not visited, untouched by `move_along`. See the `causalgrad`
/// crate documentation.
#[proc_macro_derive(Differentiable, attributes(no_diff))]
pub fn derive_differentiable(input: TokenStream) -> TokenStream {
    let input = match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error().into(),
    };
    derive::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The primal, untouched, followed by its gradient module or by the errors
/// that prevent generating one.
///
/// Every error of the signature and the body is reported, not only the
/// first: each is recorded in a [`ctxt::Ctxt`] and checking carries on.
fn expand(attr: TokenStream2, item: &ItemFn) -> TokenStream2 {
    let options = match syn::parse2::<parse::Options>(attr) {
        Ok(options) => options,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#item #error);
        }
    };
    let cx = ctxt::Ctxt::new();
    let generated = cx.ok(parse::fn_spec(item, &options, &cx)).and_then(|spec| {
        let mut lowered = cx.ok(lower::lower(&spec, &item.block, &cx))?;
        loads::merge(&mut lowered);
        let generated = emit::generated_items(&spec, &lowered);
        Some(match &options.krate {
            Some(krate) => names::with_runtime(generated, &quote!(#krate)),
            None => generated,
        })
    });
    match cx.check() {
        Ok(()) => quote!(#item #generated),
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#item #error)
        }
    }
}

/// Declares a hand-written derivative for the function named by `of`.
///
/// Put it on a function taking the same arguments as `of` and returning
/// `(value, pullback)`, where `pullback: impl Fn(seed) -> grads + Clone`
/// maps an output cotangent to the cotangents of the float arguments (one
/// value for one, a tuple in order for several). The attribute generates
/// what `#[differentiable]` generates for `of` (`of::value_and_grad`,
/// `of::pullback`, `of::Function`, and the entry point other differentiable
/// functions call), so calls to `of` inside `#[differentiable]` code use
/// this derivative. See the `causalgrad` crate documentation.
#[proc_macro_attribute]
pub fn derivative(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = match syn::parse::<ItemFn>(item) {
        Ok(item) => item,
        Err(error) => {
            return syn::Error::new(
                error.span(),
                "#[derivative(of = f)] applies to a function returning `(value, pullback)`",
            )
            .to_compile_error()
            .into()
        }
    };
    let generated = syn::parse::<parse::DerivativeOf>(attr)
        .and_then(|of| parse::derivative_spec(&item, &of.target).map(|spec| (spec, of)))
        .map(|(spec, _)| {
            let vjp: syn::Path = item.sig.ident.clone().into();
            emit::custom_items(&spec, &vjp)
        });
    match generated {
        Ok(items) => quote!(#item #items).into(),
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#item #error).into()
        }
    }
}

#[cfg(test)]
mod snapshot;
