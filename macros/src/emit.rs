//! Emitting the generated code beside the untouched primal.
//!
//! The core is one function, `__vjp`: the forward sweep, then a `move`
//! closure holding the reverse sweep. The closure captures exactly the
//! values the reverse sweep reads (the compiler decides, so nothing is
//! saved twice and no type needs spelling out), and maps the output
//! cotangent to one entry per argument: the cotangent of an active one, `()`
//! for a constant one. Callers of the function compose through `__vjp`;
//! `value_and_grad`, `pullback`, `hvp` and the `DiffFn` impl are thin
//! wrappers around it.
//!
//! For `fn f`, a field-less struct `f {}` (a braced struct lives only in the
//! type namespace, so it sits beside the function of the same name) carries
//! these as associated functions, plus the constant `f::Function`. For a
//! method `fn f(&self, ..)` they are sibling methods `f_value_and_grad`,
//! `f_pullback` and `f__vjp`. Everything is emitted as sibling items, never
//! inside a `mod`: a module would not see items declared in an enclosing
//! function body (a doctest's `main`, a test function).

use std::collections::HashMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::{GenericParam, Generics};

use crate::adjoint::{active_entry, defined_names, reverse_sweep};
use crate::ir::{
    Block, CallArg, ExitKind, ExitRecord, Leave, LoopHead, Lowered, Op, Operand, Step, Storage,
};
use crate::lower::place_forward_tokens;
use crate::names;
use crate::parse::{ArgKind, FnSpec};
use crate::reuse::replay;

/// The generated items for `spec`, whose body lowered to `lowered`.
pub(crate) fn generated_items(spec: &FnSpec, lowered: &Lowered) -> TokenStream {
    let real = spec.real();
    let seed = Ident::new("__seed", Span::call_site());
    let (seeds, seed_pattern): (Vec<TokenStream>, TokenStream) = match &lowered.output_struct {
        Some((_, members)) => (
            members.iter().map(|member| quote!(#seed.#member)).collect(),
            seed.to_token_stream(),
        ),
        None if spec.outputs == 1 => (vec![seed.to_token_stream()], seed.to_token_stream()),
        None => {
            let names: Vec<TokenStream> = (0..spec.outputs)
                .map(|index| format_ident!("__seed{}", index).to_token_stream())
                .collect();
            let pattern = tuple_or_single(&names);
            (names, pattern)
        }
    };
    let grads = Ident::new("__grads", Span::call_site());
    let reverse = reverse_sweep(lowered, &seeds, &real, &grads);
    let mut bounds = HashMap::new();
    tape_bounds(lowered, &lowered.body, Some(1), &mut bounds);
    let fixed: HashMap<Ident, usize> = bounds
        .into_iter()
        .filter(|(_, bound)| *bound <= MAX_FIXED_TAPE)
        .map(|(name, bound)| (names::tape(&name), bound))
        .collect();
    let forward = Forward {
        lowered,
        saved: &reverse.saved,
        rollback: &reverse.rollback,
        fixed: &fixed,
        real: &real,
    };
    let forward_body = forward.block(&lowered.body);
    let new_tape = |tape: &Ident, element: TokenStream| match fixed.get(tape) {
        Some(bound) => {
            quote!(let mut #tape = ::causalgrad::__private::ArrayVec::<#element, #bound>::new();)
        }
        None => quote!(let mut #tape: ::std::vec::Vec<#element> = ::std::vec::Vec::new();),
    };
    let mut storage_decls = TokenStream::new();
    let mut saved: Vec<(&String, &Storage)> = reverse.saved.iter().collect();
    saved.sort();
    for (name, storage) in saved {
        storage_decls.extend(match storage {
            Storage::Tape => new_tape(&names::tape(name), quote!(_)),
            Storage::Slot => {
                let slot = names::slot(name);
                quote!(let mut #slot = ::core::option::Option::None;)
            }
            Storage::Direct => TokenStream::new(),
        });
    }
    for info in &lowered.loops {
        if let ExitRecord::PerIteration(name) = &info.exits {
            storage_decls.extend(new_tape(&names::tape(&name.to_string()), quote!(u32)));
        }
    }
    for array in &reverse.rollback {
        let tape = names::undo_tape(array);
        storage_decls.extend(quote!(let mut #tape: ::std::vec::Vec<_> = ::std::vec::Vec::new();));
    }
    let outputs: Vec<TokenStream> = lowered
        .outputs
        .iter()
        .map(|output| lowered.operand_tokens(output))
        .collect();
    let output_value = match &lowered.output_struct {
        Some((path, members)) => quote!(#path { #(#members: #outputs),* }),
        None => tuple_or_single(&outputs),
    };
    let reverse_body = &reverse.body;
    let seed_ty = seed_type(spec);
    let grad_ty = grad_type(spec);
    let ZeroGradient { eager, zero } = zero_gradient(spec);
    let vjp_into_body = quote! {
        #eager
        #storage_decls
        #forward_body
        let __zero = move || -> #grad_ty { #zero };
        let __pullback = move |#seed_pattern: #seed_ty, #grads: &mut #grad_ty| {
            #reverse_body
        };
        (#output_value, __zero, __pullback)
    };
    items(spec, vjp_into_body, branch_free(&lowered.body))
}

/// The most entries a tape may hold to live on the stack
/// (`causalgrad::__private::ArrayVec`) instead of the heap: 128 values of
/// sixteen `f32` lanes are 8 KiB.
const MAX_FIXED_TAPE: usize = 128;

/// The most entries each tape written in `block` can receive, for the
/// tapes whose every enclosing loop has a constant trip count (`for i in
/// 0..16`); `runs` is how often `block` itself can run (`None`: unknown).
fn tape_bounds(
    lowered: &Lowered,
    block: &Block,
    runs: Option<usize>,
    out: &mut HashMap<String, usize>,
) {
    for (_, step) in &block.steps {
        if let Some(runs) = runs {
            for name in defined_names(lowered, step) {
                out.insert(name.to_string(), runs);
            }
        }
        match step {
            Step::If { then, els, .. } => {
                tape_bounds(lowered, then, runs, out);
                tape_bounds(lowered, els, runs, out);
            }
            Step::Match { arms, .. } => {
                for (_, arm) in arms {
                    tape_bounds(lowered, arm, runs, out);
                }
            }
            Step::Body(body) => tape_bounds(lowered, body, runs, out),
            Step::Loop { id, head, body } => {
                let runs = runs
                    .zip(trip_count(head))
                    .and_then(|(outer, inner)| outer.checked_mul(inner));
                if let (Some(runs), ExitRecord::PerIteration(name)) =
                    (runs, &lowered.loops[*id].exits)
                {
                    out.insert(name.to_string(), runs);
                }
                tape_bounds(lowered, body, runs, out);
            }
            _ => {}
        }
    }
}

/// The number of iterations of `for _ in a..b` or `a..=b` with integer
/// literal bounds.
fn trip_count(head: &LoopHead) -> Option<usize> {
    let LoopHead::For { iter, .. } = head else {
        return None;
    };
    let syn::Expr::Range(range) = syn::parse2::<syn::Expr>(iter.clone()).ok()? else {
        return None;
    };
    let literal = |bound: &Option<Box<syn::Expr>>| match bound.as_deref() {
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        })) => int.base10_parse::<usize>().ok(),
        _ => None,
    };
    let (start, end) = (literal(&range.start)?, literal(&range.end)?);
    match range.limits {
        syn::RangeLimits::HalfOpen(_) => Some(end.saturating_sub(start)),
        syn::RangeLimits::Closed(_) => (end >= start).then(|| end - start + 1),
    }
}

/// Whether no control flow in `block` can depend on a value: no branch, no
/// `while`/`loop`, no exit, no call, no comparison in a constant.
fn branch_free(block: &Block) -> bool {
    block.steps.iter().all(|(_, step)| match step {
        Step::If { .. }
        | Step::Match { .. }
        | Step::Exit { .. }
        | Step::Call { .. }
        | Step::Body(_) => false,
        Step::Loop { head, body, .. } => matches!(head, LoopHead::For { .. }) && branch_free(body),
        Step::Const { expr, .. } | Step::Effect(expr) => !has_comparison(expr.clone()),
        _ => true,
    })
}

fn has_comparison(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Punct(punct) => matches!(punct.as_char(), '<' | '>' | '=' | '!'),
        proc_macro2::TokenTree::Group(group) => has_comparison(group.stream()),
        _ => false,
    })
}

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

/// How the zero gradient of the active arguments is made.
struct ZeroGradient {
    /// Statements run before anything may move the arguments: the zero
    /// tangents (`__z_x`) of the aggregates passed by value.
    eager: TokenStream,
    /// The gradient, made when `pull` needs one: a copy of those, a borrowed
    /// aggregate's zero tangent from the borrow, a zero per scalar.
    zero: TokenStream,
}

fn zero_gradient(spec: &FnSpec) -> ZeroGradient {
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
fn seed_type(spec: &FnSpec) -> TokenStream {
    let output = &spec.output;
    if spec.outputs == 0 {
        quote!(<#output as ::causalgrad::Differentiable>::Tangent)
    } else {
        output.to_token_stream()
    }
}

/// One entry type per argument: its cotangent type, or `()`.
fn entry_types(spec: &FnSpec) -> Vec<TokenStream> {
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
fn grad_type(spec: &FnSpec) -> TokenStream {
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

/// `__vjp_into` with the given body, and the wrappers built on it.
fn items(spec: &FnSpec, vjp_into_body: TokenStream, branch_free: bool) -> TokenStream {
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

/// Emits the forward sweep, saving what the reverse sweep restores.
struct Forward<'a> {
    lowered: &'a Lowered,
    saved: &'a HashMap<String, Storage>,
    /// The rolled-back arrays, whose stores save the element they overwrite.
    rollback: &'a [String],
    /// The tapes on the stack, with their capacities (they need no `reserve`).
    fixed: &'a HashMap<Ident, usize>,
    real: &'a TokenStream,
}

impl Forward<'_> {
    fn block(&self, block: &Block) -> TokenStream {
        let mut out = TokenStream::new();
        for (_, step) in &block.steps {
            self.step(step, &mut out);
            for name in defined_names(self.lowered, step) {
                out.extend(self.save(&name));
            }
        }
        out
    }

    /// The tapes written by one execution of `block`: its own steps and
    /// its branches, not nested loop bodies (those reserve for themselves).
    fn body_tapes(&self, block: &Block, out: &mut Vec<Ident>) {
        for (_, step) in &block.steps {
            for name in defined_names(self.lowered, step) {
                let key = name.to_string();
                if self.saved.get(&key) == Some(&Storage::Tape) {
                    out.push(names::tape(&key));
                }
            }
            match step {
                Step::If { then, els, .. } => {
                    self.body_tapes(then, out);
                    self.body_tapes(els, out);
                }
                Step::Match { arms, .. } => {
                    for (_, arm) in arms {
                        self.body_tapes(arm, out);
                    }
                }
                _ => {}
            }
        }
    }

    /// Saves `name` if the reverse sweep restores it.
    fn save(&self, name: &Ident) -> TokenStream {
        let key = name.to_string();
        let value = if names::is_snapshot(&key) {
            name.to_token_stream()
        } else {
            quote!(::core::clone::Clone::clone(&#name))
        };
        match self.saved.get(&key) {
            Some(Storage::Tape) => {
                let tape = names::tape(&key);
                quote!(#tape.push(#value);)
            }
            Some(Storage::Slot) => {
                let slot = names::slot(&key);
                quote!(#slot = ::core::option::Option::Some(#value);)
            }
            Some(Storage::Direct) | None => TokenStream::new(),
        }
    }

    fn step(&self, step: &Step, out: &mut TokenStream) {
        let lowered = self.lowered;
        let t = |operand: &Operand| lowered.operand_tokens(operand);
        match step {
            Step::Const { name, ty, expr } => {
                let ty = ty.as_ref().map(|ty| quote!(: #ty));
                out.extend(quote!(let #name #ty = #expr;));
            }
            Step::Effect(expr) => out.extend(quote!(#expr;)),
            Step::Active { var, op } => {
                let name = &lowered.vars[*var];
                let value = match op {
                    Op::Add(a, b) => {
                        let (a, b) = (t(a), t(b));
                        quote!(#a + #b)
                    }
                    Op::Sub(a, b) => {
                        let (a, b) = (t(a), t(b));
                        quote!(#a - #b)
                    }
                    Op::Mul(a, b) => {
                        let (a, b) = (t(a), t(b));
                        quote!(#a * #b)
                    }
                    Op::Div(a, b) => {
                        let (a, b) = (t(a), t(b));
                        quote!(#a / #b)
                    }
                    Op::Neg(a) => {
                        let a = t(a);
                        quote!(-#a)
                    }
                    Op::Call { rule, args } => {
                        let function = format_ident!("{}", rule.name);
                        let args = args.iter().map(t);
                        let real = self.real;
                        quote!(#real::#function(#(#args),*))
                    }
                    Op::Load(place) => place_forward_tokens(place),
                    Op::Read(cell) => lowered.cells[*cell].to_token_stream(),
                };
                out.extend(quote!(let #name = #value;));
            }
            Step::Cell { cell, init } => {
                let (name, init) = (&lowered.cells[*cell], t(init));
                out.extend(quote!(let mut #name = #init;));
            }
            Step::Write { cell, value } => {
                let (name, value) = (&lowered.cells[*cell], t(value));
                out.extend(quote!(#name = #value;));
            }
            Step::Store { place, value } => {
                let (target, value) = (place_forward_tokens(place), t(value));
                let base = place.base.to_string();
                if self.rollback.contains(&base) {
                    let tape = names::undo_tape(&base);
                    out.extend(quote!(#tape.push(::core::clone::Clone::clone(&#target));));
                }
                out.extend(quote!(#target = #value;));
            }
            Step::PassiveCell { name, init } => {
                if init.is_empty() {
                    out.extend(quote!(let mut #name;));
                } else {
                    out.extend(quote!(let mut #name = #init;));
                }
            }
            Step::PassiveWrite { name, value } => out.extend(quote!(#name = #value;)),
            Step::Push { place, value, .. } => {
                let (target, value) = (place_forward_tokens(place), t(value));
                out.extend(quote!(#target.push(#value);));
            }
            Step::Array {
                name, zero, init, ..
            } => out.extend(quote!(
                let mut #name = #init;
                let #zero = ::causalgrad::Differentiable::zero_tangent(&#name);
            )),
            Step::Call {
                var,
                pullback,
                callee,
                primal,
                receiver,
                args,
            } => {
                let value = &lowered.vars[*var];
                if step.recomputes() {
                    for arg in args {
                        if let CallArg::Place {
                            place,
                            snapshot: Some(copy),
                            ..
                        } = arg
                        {
                            let buffer = place_forward_tokens(place);
                            out.extend(quote!(let #copy = ::core::clone::Clone::clone(&#buffer);));
                        }
                    }
                    let call = lowered.call_tokens(primal, receiver.as_ref(), args, false);
                    out.extend(quote!(let #value = #call;));
                } else {
                    let call = lowered.call_tokens(callee, receiver.as_ref(), args, false);
                    out.extend(quote!(let (#value, #pullback) = #call;));
                }
            }
            Step::If { flag, then, els } => {
                let (then, els) = (self.block(then), self.block(els));
                out.extend(quote!(if #flag { #then } else { #els }));
            }
            Step::Match {
                flag,
                scrutinee,
                arms,
            } => {
                let arms = arms.iter().enumerate().map(|(index, (pattern, block))| {
                    let body = self.block(block);
                    quote!(#pattern => { #flag = #index; #body })
                });
                out.extend(quote!(
                    let mut #flag: usize = 0;
                    match #scrutinee { #(#arms)* }
                ));
            }
            Step::Loop { id, head, body } => {
                let info = &lowered.loops[*id];
                let (label, count) = (&info.label, &info.count);
                let body_block = body;
                let body = self.block(body);
                // Tapes written once per iteration get their room up front
                // when the iterator knows its length.
                let mut reserve = TokenStream::new();
                let replayed = replay(lowered, *id, head);
                let iter_override = replayed.as_ref().map(|replay| {
                    let (start, end) = names::bounds(*id);
                    let (lo, hi) = (&replay.start, &replay.end);
                    reserve.extend(quote!(let #start = #lo; let #end = #hi;));
                    if replay.closed {
                        quote!(#start..=#end)
                    } else {
                        quote!(#start..#end)
                    }
                });
                let head = match head {
                    LoopHead::For { pat, iter } => {
                        let iter = iter_override.as_ref().unwrap_or(iter);
                        let iterator = format_ident!("__iter{}", id);
                        let hint = format_ident!("__hint{}", id);
                        let mut tapes = Vec::new();
                        self.body_tapes(body_block, &mut tapes);
                        if let ExitRecord::PerIteration(name) = &info.exits {
                            tapes.push(names::tape(&name.to_string()));
                        }
                        tapes.retain(|tape| !self.fixed.contains_key(tape));
                        if tapes.is_empty() {
                            quote!(for #pat in #iter)
                        } else {
                            reserve.extend(quote!(
                                let #iterator = ::core::iter::IntoIterator::into_iter(#iter);
                                let #hint = ::core::iter::Iterator::size_hint(&#iterator).0;
                                #(#tapes.reserve(#hint);)*
                            ));
                            quote!(for #pat in #iterator)
                        }
                    }
                    LoopHead::While { cond } => quote!(while #cond),
                    LoopHead::Loop => quote!(loop),
                };
                let (declare_exit, normal_end) = match &info.exits {
                    ExitRecord::None => (TokenStream::new(), TokenStream::new()),
                    ExitRecord::Last(last) => (quote!(let mut #last: u32 = 0;), TokenStream::new()),
                    ExitRecord::PerIteration(name) => {
                        let tape = names::tape(&name.to_string());
                        (TokenStream::new(), quote!(#tape.push(0u32);))
                    }
                };
                out.extend(quote!(
                    let mut #count: usize = 0;
                    #declare_exit
                    #reserve
                    #label: #head {
                        #count += 1;
                        #body
                        #normal_end
                    }
                ));
            }
            Step::Body(block) => {
                let body = self.block(block);
                out.extend(quote!(
                    let mut __x0: u32 = 0;
                    '__body: { #body }
                ));
            }
            Step::Exit {
                kind,
                target,
                sets,
                leaves,
            } => {
                for (loop_id, code) in sets {
                    if *loop_id == 0 {
                        out.extend(quote!(__x0 = #code;));
                        continue;
                    }
                    match &lowered.loops[*loop_id].exits {
                        ExitRecord::PerIteration(name) => {
                            let tape = names::tape(&name.to_string());
                            out.extend(quote!(#tape.push(#code);));
                        }
                        ExitRecord::Last(last) => out.extend(quote!(#last = #code;)),
                        ExitRecord::None => {}
                    }
                }
                for leave in leaves {
                    match leave {
                        Leave::Loop(id) => {
                            let info = &lowered.loops[*id];
                            out.extend(self.save(&info.count));
                            if let ExitRecord::Last(last) = &info.exits {
                                out.extend(self.save(last));
                            }
                        }
                        Leave::Match { flag, .. } => out.extend(self.save(flag)),
                    }
                }
                let label = &lowered.loops[*target].label;
                out.extend(match kind {
                    ExitKind::Continue => quote!(continue #label;),
                    ExitKind::Break | ExitKind::Return => quote!(break #label;),
                });
            }
        }
    }
}

/// `x` for one element, `(x, y)` for several.
fn tuple_or_single(items: &[TokenStream]) -> TokenStream {
    match items {
        [single] => single.clone(),
        many => quote!((#(#many),*)),
    }
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
