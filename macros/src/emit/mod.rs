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

//!
//! The submodules: `forward` writes the forward sweep, `tapes` sizes the
//! tapes that live on the stack, `gradient` spells the seed and gradient
//! types and the zero gradient, and `wrappers` the items around `__vjp`.

mod forward;
mod gradient;
mod tapes;
mod wrappers;

use std::collections::HashMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};

use crate::adjoint::reverse_sweep;
use crate::ir::{Block, ExitRecord, LoopHead, Lowered, Step, Storage};
use crate::names;
use crate::parse::FnSpec;

use forward::Forward;
use gradient::{grad_type, seed_type, zero_gradient, ZeroGradient};
use tapes::{tape_bounds, MAX_FIXED_TAPE};
pub(crate) use wrappers::custom_items;
use wrappers::items;

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
        counters: &reverse.counters,
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

/// `x` for one element, `(x, y)` for several.
pub(super) fn tuple_or_single(items: &[TokenStream]) -> TokenStream {
    match items {
        [single] => single.clone(),
        many => quote!((#(#many),*)),
    }
}
