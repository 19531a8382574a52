//! The items around `__vjp_into`: `__vjp`, `value_and_grad`, `pullback`,
//! `hvp`, the `DiffFn` impl, and those of a hand-written derivative.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::{GenericParam, Generics};

use super::gradient::{entry_types, grad_type, seed_type, zero_gradient, ZeroGradient};
use super::tuple_or_single;
use crate::adjoint::active_entry;
use crate::parse::{ArgKind, FnSpec};

/// The items for a function whose derivative the user wrote: `vjp` returns
/// the value and a pullback mapping the seed to the active arguments'
/// cotangents (one value for one active argument, a tuple for several).
pub(crate) fn custom_items(spec: &FnSpec, vjp: &syn::Path) -> TokenStream {
    let output_ty = &spec.output;
    let args: Vec<&Ident> = spec.args.iter().map(|arg| &arg.ident).collect();
    let active = spec.active_args().count();
    let turbofish = turbofish(&spec.generics, None);
    let grad_ty = grad_type(spec);
    let ZeroGradient { eager, zero } = zero_gradient(spec);
    let (grads, user_grads) = (quote!((*__grads)), quote!(__user_grads));
    let adds = spec.active_args().enumerate().map(|(position, arg)| {
        let target = active_entry(&grads, position, active);
        let source = active_entry(&user_grads, position, active);
        match arg.kind {
            ArgKind::Scalar => quote!(#target += #source;),
            _ => quote!(::causalgrad::Tangent::accumulate(&mut #target, #source);),
        }
    });
    let vjp_into_body = quote! {
        #eager
        let __zero = move || -> #grad_ty { #zero };
        let (__value, __user) = #vjp #turbofish (#(#args),*);
        let __pullback = move |__seed: #output_ty, __grads: &mut #grad_ty| {
            let __user_grads = __user(__seed);
            #(#adds)*
        };
        (__value, __zero, __pullback)
    };
    items(spec, vjp_into_body, false)
}

/// `__vjp_into` with the given body, and the wrappers built on it.
pub(super) fn items(spec: &FnSpec, vjp_into_body: TokenStream, branch_free: bool) -> TokenStream {
    let output_ty = &spec.output;
    let seed_ty = seed_type(spec);
    let real = spec.real();
    let vis = &spec.vis;
    let entry_types = entry_types(spec);
    let grad_ty = grad_type(spec);
    // `__vjp`'s entries from the gradient `__grad`: one per argument, `()`
    // for a constant one.
    let active = spec.active_args().count();
    let grad = quote!(__grad);
    let mut position = 0usize;
    let spread: Vec<TokenStream> = spec
        .args
        .iter()
        .map(|arg| {
            if !arg.active {
                return quote!(());
            }
            position += 1;
            active_entry(&grad, position - 1, active)
        })
        .collect();

    // Borrowed arguments get a named lifetime that the pullback may
    // capture: its reverse sweep re-reads their elements instead of saving
    // copies of them.
    let borrow = syn::Lifetime::new("'__cg", Span::call_site());
    let mut borrows = spec.method;
    let params: Vec<TokenStream> = spec
        .args
        .iter()
        .filter(|arg| arg.ident != "self")
        .map(|arg| {
            let ident = &arg.ident;
            match &arg.ty {
                syn::Type::Reference(reference) if reference.lifetime.is_none() => {
                    borrows = true;
                    let (mutability, elem) = (&reference.mutability, &reference.elem);
                    quote!(#ident: &#borrow #mutability #elem)
                }
                ty => quote!(#ident: #ty),
            }
        })
        .collect();
    let receiver = spec.method.then(|| quote!(&#borrow self,));
    let call_args: Vec<&Ident> = spec
        .args
        .iter()
        .filter(|arg| arg.ident != "self")
        .map(|arg| &arg.ident)
        .collect();
    let mut generics = spec.generics.clone();
    if borrows {
        generics.params.insert(
            0,
            GenericParam::Lifetime(syn::LifetimeParam::new(borrow.clone())),
        );
    }
    let generics = &generics;
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let captures = precise_captures(generics, spec.method, &borrow);
    let turbofish = turbofish(generics, None);
    let name = &spec.name;
    let lints = quote!(#[allow(
        unused_variables, unused_mut, unused_parens, unused_labels, unused_braces,
        unreachable_code, non_snake_case, clippy::all, clippy::pedantic, clippy::nursery
    )]);

    let (vjp, vjp_into, value_and_grad, pullback) = if spec.method {
        (
            format_ident!("{}__vjp", name),
            format_ident!("{}__vjp_into", name),
            format_ident!("{}_value_and_grad", name),
            format_ident!("{}_pullback", name),
        )
    } else {
        (
            format_ident!("__vjp"),
            format_ident!("__vjp_into"),
            format_ident!("value_and_grad"),
            format_ident!("pullback"),
        )
    };
    let call_vjp_into = if spec.method {
        quote!(self.#vjp_into #turbofish (#(#call_args),*))
    } else {
        quote!(Self::#vjp_into #turbofish (#(#call_args),*))
    };

    let doc_vjp = format!(
        "The forward sweep of [`{name}`] and its reverse sweep as a closure mapping the \
         output cotangent to one entry per argument (`()` for constant ones). Used by \
         other `#[differentiable]` functions that call `{name}`."
    );
    let doc_vjp_into = format!(
        "The forward sweep of [`{name}`], a maker of the zero gradient at its arguments, and its \
         reverse sweep as a closure adding the cotangents of an output cotangent into a \
         gradient (the active arguments' cotangents)."
    );
    let doc_vg = format!(
        "Evaluates [`{name}`] and its gradient with respect to the active arguments ({}).",
        spec.active_args()
            .map(|arg| format!("`{}`", arg.ident))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let doc_pb = format!(
        "Evaluates [`{name}`] and returns its pullback: `.pull(seed)` maps an output \
         cotangent to the cotangents of the active arguments."
    );

    let vjp_into_item = quote! {
        #[doc = #doc_vjp_into]
        #[doc(hidden)]
        #[inline]
        #lints
        #vis fn #vjp_into #impl_generics (#receiver #(#params),*)
            -> (
                #output_ty,
                impl Fn() -> #grad_ty + ::core::clone::Clone #captures,
                impl Fn(#seed_ty, &mut #grad_ty) + ::core::clone::Clone #captures,
            )
            #where_clause
        {
            #vjp_into_body
        }
    };
    let vjp_item = quote! {
        #[doc = #doc_vjp]
        #[doc(hidden)]
        #[inline]
        #lints
        #vis fn #vjp #impl_generics (#receiver #(#params),*)
            -> (#output_ty, impl Fn(#seed_ty) -> (#(#entry_types,)*) + ::core::clone::Clone #captures)
            #where_clause
        {
            let (__value, __zero, __pullback) = #call_vjp_into;
            (__value, move |__seed: #seed_ty| -> (#(#entry_types,)*) {
                let mut __grad = __zero();
                __pullback(__seed, &mut __grad);
                (#(#spread,)*)
            })
        }
    };
    let scalar = spec.outputs == 1;
    let value_and_grad_item = scalar.then(|| {
        quote! {
            #[doc = #doc_vg]
            #[inline]
            #[allow(clippy::too_many_arguments)]
            #vis fn #value_and_grad #impl_generics (#receiver #(#params),*) -> (#output_ty, #grad_ty) #where_clause {
                let (__value, __zero, __pullback) = #call_vjp_into;
                let mut __grad = __zero();
                __pullback(#real::from_f64(1.0), &mut __grad);
                (__value, __grad)
            }
        }
    });
    let pullback_item = quote! {
        #[doc = #doc_pb]
        #[inline]
        #[allow(clippy::too_many_arguments)]
        #vis fn #pullback #impl_generics (#receiver #(#params),*)
            -> (
                #output_ty,
                ::causalgrad::PullbackFn<
                    #seed_ty,
                    #grad_ty,
                    impl Fn() -> #grad_ty + ::core::clone::Clone #captures,
                    impl Fn(#seed_ty, &mut #grad_ty) + ::core::clone::Clone #captures,
                >,
            )
            #where_clause
        {
            let (__value, __zero, __pullback) = #call_vjp_into;
            (__value, ::causalgrad::PullbackFn::new(__zero, __pullback))
        }
    };

    if spec.method {
        return quote! {
            #vjp_into_item
            #vjp_item
            #value_and_grad_item
            #pullback_item
        };
    }

    let active_positions: Vec<usize> = spec
        .args
        .iter()
        .enumerate()
        .filter(|(_, arg)| arg.active)
        .map(|(index, _)| index)
        .collect();
    let hvp_item = hvp(spec, &grad_ty, &active_positions);
    let doc_namespace = format!(
        "Reverse-mode derivatives of [`{name}`](fn@{name}), generated by `#[differentiable]`: \
         `{name}::value_and_grad`, `{name}::pullback`{}, and `{name}::Function`, the function \
         as a value implementing `causalgrad::DiffFn`.",
        if hvp_item.is_some() {
            format!(", `{name}::hvp`")
        } else {
            String::new()
        }
    );
    // The argument types with the borrowed ones under `'__cg`, so the
    // returned pullback may capture that lifetime.
    let arg_types: Vec<TokenStream> = spec
        .args
        .iter()
        .map(|arg| match &arg.ty {
            syn::Type::Reference(reference) if reference.lifetime.is_none() => {
                let (mutability, elem) = (&reference.mutability, &reference.elem);
                quote!(&#borrow #mutability #elem)
            }
            ty => ty.to_token_stream(),
        })
        .collect();
    let (trait_generics, _, trait_where) = generics.split_for_impl();
    // In an anonymous constant, as serde_derive does: the impl adds no name
    // to the caller's scope.
    let function_item = scalar.then(|| {
        quote! {
            const _: () = {
            impl #trait_generics ::causalgrad::DiffFn<(#(#arg_types,)*)> for #name #trait_where {
                type Output = #output_ty;
                type Grad = #grad_ty;
                const BRANCH_FREE: bool = #branch_free;
                #[inline]
                fn call(&self, (#(#call_args,)*): (#(#arg_types,)*)) -> #output_ty {
                    #name #turbofish (#(#call_args),*)
                }
                #[inline]
                fn value_and_grad(&self, (#(#call_args,)*): (#(#arg_types,)*)) -> (#output_ty, #grad_ty) {
                    #name::value_and_grad #turbofish (#(#call_args),*)
                }
                #[inline]
                fn pullback(&self, (#(#call_args,)*): (#(#arg_types,)*))
                    -> (#output_ty, impl ::causalgrad::Pullback<Seed = #output_ty, Grad = #grad_ty> + ::core::clone::Clone)
                {
                    #name::pullback #turbofish (#(#call_args),*)
                }
            }
            };
        }
    });
    quote! {
        #[doc = #doc_namespace]
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #name {}

        #[allow(non_upper_case_globals)]
        impl #name {
            /// The function as a value implementing `causalgrad::DiffFn`.
            #vis const Function: #name = #name {};

            #vjp_into_item
            #vjp_item
            #value_and_grad_item
            #pullback_item
            #hvp_item
        }

        #function_item
    }
}

/// `f::hvp(args.., direction)`: forward-over-reverse Hessian-vector product,
/// for generic functions of scalars only.
fn hvp(spec: &FnSpec, grad_ty: &TokenStream, active: &[usize]) -> Option<TokenStream> {
    let param = spec.float_param.as_ref()?;
    if spec.outputs != 1 || spec.args.iter().any(|arg| arg.kind == ArgKind::Aggregate) {
        return None;
    }
    let vis = &spec.vis;
    let generics = &spec.generics;
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let params: Vec<TokenStream> = spec
        .args
        .iter()
        .map(|arg| {
            let (ident, ty) = (&arg.ident, &arg.ty);
            quote!(#ident: #ty)
        })
        .collect();
    let directions: Vec<Ident> = active
        .iter()
        .map(|index| format_ident!("__dir_{}", spec.args[*index].ident))
        .collect();
    let direction_pattern = tuple_or_single(
        &directions
            .iter()
            .map(ToTokens::to_token_stream)
            .collect::<Vec<_>>(),
    );
    let dual = quote!(::causalgrad::Dual<#param>);
    let lifted: Vec<TokenStream> = spec
        .args
        .iter()
        .map(|arg| {
            let ident = &arg.ident;
            match (arg.kind, arg.active) {
                (ArgKind::Scalar, true) => {
                    let direction = format_ident!("__dir_{}", ident);
                    quote!(::causalgrad::Dual::new(#ident, #direction))
                }
                (ArgKind::Scalar, false) => quote!(::causalgrad::Dual::constant(#ident)),
                _ if spec.float.to_token_stream().to_string()
                    == arg.ty.to_token_stream().to_string() =>
                {
                    quote!(::causalgrad::Dual::constant(#ident))
                }
                _ => quote!(#ident),
            }
        })
        .collect();
    let turbofish = turbofish(generics, Some((param, &dual)));
    let grad = quote!(__grad);
    let tangents = tuple_or_single(
        &(0..active.len())
            .map(|index| {
                let entry = active_entry(&grad, index, active.len());
                quote!(#entry.eps)
            })
            .collect::<Vec<_>>(),
    );
    let name = &spec.name;
    let doc = format!(
        "Hessian-vector product of [`{name}`](fn@{name}): the derivative of its gradient in \
         the direction `direction` (one entry per active argument), by forward-over-reverse \
         differentiation with `causalgrad::Dual`."
    );
    Some(quote! {
        #[doc = #doc]
        #[inline]
        #[allow(clippy::too_many_arguments)]
        #vis fn hvp #impl_generics (#(#params,)* direction: #grad_ty) -> #grad_ty #where_clause {
            let #direction_pattern = direction;
            let (_, __grad) = Self::value_and_grad #turbofish (#(#lifted),*);
            #tangents
        }
    })
}

/// `+ use<T, N>`: the returned closure borrows no argument.
/// What the returned closure may capture: the borrowed arguments (`'__cg`)
/// and the type parameters, never anything else.
fn precise_captures(generics: &Generics, method: bool, borrow: &syn::Lifetime) -> TokenStream {
    if method {
        // The impl block's parameters are unknown here: allow the borrow of
        // `self` and keep the default for the rest.
        return quote!(+ #borrow);
    }
    let params: Vec<TokenStream> = generics
        .params
        .iter()
        .map(|param| match param {
            GenericParam::Type(ty) => ty.ident.to_token_stream(),
            GenericParam::Const(constant) => constant.ident.to_token_stream(),
            GenericParam::Lifetime(lifetime) => lifetime.lifetime.to_token_stream(),
        })
        .collect();
    quote!(+ use<#(#params),*>)
}

/// `::<T, N>` naming the function's type and const parameters, with
/// `replace` substituted for one of them.
fn turbofish(generics: &Generics, replace: Option<(&Ident, &TokenStream)>) -> TokenStream {
    let params: Vec<TokenStream> = generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => Some(match replace {
                Some((name, with)) if ty.ident == *name => with.clone(),
                _ => ty.ident.to_token_stream(),
            }),
            GenericParam::Const(constant) => Some(constant.ident.to_token_stream()),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    if params.is_empty() {
        TokenStream::new()
    } else {
        quote!(::<#(#params),*>)
    }
}
