//! The reverse sweep: adjoint accumulation over the IR.
//!
//! Steps are visited last to first. Every use of a value comes after its
//! definition, so when a step is reached its result's cotangent is complete
//! and can be pushed to the step's operands.
//!
//! A value whose uses all sit beside its definition (same block, same exit
//! group) gets immutable cotangents: the first contribution is
//! `let __d_x = term;`, later ones shadow it. Straight-line code therefore
//! reverses into plain `let`s with no zero ever added. A value used inside a
//! nested block (a branch, a loop body) gets one `let mut` accumulator,
//! declared where the reverse sweep enters the value's group.
//!
//! A value defined in a nested block is out of scope when its reverse runs,
//! so the forward sweep saves it: on a tape (one entry per execution) inside
//! loops, in an `Option` slot in branches outside loops. The reverse sweep
//! restores it where it re-enters the block. Early exits are handled by exit
//! codes: each step knows the code of its loop at which it began, and a step
//! is reversed only if the iteration's exit code shows it ran.
//!
//! The submodules: `analysis` finds where values are defined, used and
//! live; `regions` reverses blocks group by group and restores what they
//! saved; `steps` reverses each step; `hoist` finds the cotangents a
//! reverse loop keeps in a local.

mod analysis;
mod hoist;
mod regions;
mod steps;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, ToTokens};

use crate::increments::Increments;
use crate::ir::{CallArg, ExitRecord, Input, Lowered, Step, Storage, VarId};
use crate::names;
use crate::reuse::{replay, Reuse};
use crate::rollback::Candidates;

use analysis::Analysis;
use regions::Sweep;

/// The emitted reverse sweep.
pub(crate) struct Reverse {
    /// Statements adding the argument cotangents of the seeds into
    /// `grads`: the active arguments' gradient (one value for one active
    /// argument, a tuple in argument order for several), a `&mut` binding.
    pub body: TokenStream,
    /// Names the forward sweep must save, with where.
    pub saved: HashMap<String, Storage>,
    /// The local arrays rolled back (see [`crate::rollback`]): the forward
    /// sweep saves the element each store to them overwrites.
    pub rollback: Vec<String>,
    /// The passive counters the forward sweep saves at the end of their
    /// declaring block, by block (see [`crate::counters`]).
    pub counters: HashMap<usize, Vec<Ident>>,
}

/// Builds the reverse sweep of `lowered`, seeded by `seeds` (one per
/// output), adding into the gradient bound to `grads`.
///
/// An aggregate argument's tangent is a reborrow of its entry of `grads`,
/// so the sweep adds into the caller's gradient in place; a scalar
/// argument's cotangent is a local, added to its entry at the end.
pub(crate) fn reverse_sweep(
    lowered: &Lowered,
    seeds: &[TokenStream],
    real: &TokenStream,
    grads: &Ident,
) -> Reverse {
    let analysis = Analysis::new(lowered);
    let uses = analysis
        .uses
        .iter()
        .map(|(var, sites)| (*var, sites.len()))
        .collect();
    let increments = Increments::new(lowered, &uses);
    let candidates = Candidates::new(lowered);
    // First with every candidate array rolled back, to learn which loads
    // the reverse sweep reads; then with the arrays where that pays.
    let every: HashSet<String> = candidates
        .loads
        .values()
        .map(|(place, _)| place.base.to_string())
        .collect();
    let context = Context {
        lowered,
        seeds,
        real,
        grads,
        analysis: &analysis,
        candidates: &candidates,
        increments: &increments,
    };
    let (first, reread) = sweep(&context, every);
    let chosen = candidates.chosen(&reread);
    if chosen.is_empty() && first.rollback.is_empty() {
        return first;
    }
    sweep(&context, chosen).0
}

/// What every sweep of one function shares.
#[derive(Clone, Copy)]
struct Context<'a> {
    lowered: &'a Lowered,
    seeds: &'a [TokenStream],
    real: &'a TokenStream,
    grads: &'a Ident,
    analysis: &'a Analysis,
    candidates: &'a Candidates,
    increments: &'a Increments,
}

/// The reverse sweep with the arrays of `rollback` rolled back, and the
/// loads it reads again from them.
fn sweep(context: &Context, rollback: HashSet<String>) -> (Reverse, HashSet<VarId>) {
    let Context {
        lowered,
        seeds,
        real,
        grads,
        analysis,
        candidates,
        increments,
    } = *context;
    let arguments = lowered
        .inputs
        .iter()
        .filter_map(|input| match input {
            Input::Aggregate { tangent } => Some(tangent.clone()),
            _ => None,
        })
        .collect();
    let mut sweep = Sweep {
        lowered,
        analysis,
        real,
        seeds,
        arguments,
        cotangents: HashMap::new(),
        saved: HashMap::new(),
        reuse: Reuse::new(lowered),
        candidates,
        increments,
        hoisted: HashMap::new(),
        rollback,
        reread: RefCell::new(HashSet::new()),
    };
    let zero = quote!(#real::from_f64(0.0));
    let top = &lowered.body;
    let active: Vec<&Input> = lowered
        .inputs
        .iter()
        .filter(|input| !matches!(input, Input::Passive))
        .collect();
    let gradient = quote!((*#grads));
    let entry = |position| active_entry(&gradient, position, active.len());
    let mut prologue = TokenStream::new();
    for (position, input) in active.iter().enumerate() {
        match input {
            Input::Scalar(var) if analysis.is_live(*var) && !analysis.is_ssa(*var) => {
                let name = names::cotangent(&lowered.vars[*var]);
                prologue.extend(quote!(let mut #name = #zero;));
                sweep.cotangents.insert(*var, name.to_token_stream());
            }
            Input::Aggregate { tangent } => {
                let entry = entry(position);
                prologue.extend(quote!(let #tangent = &mut #entry;));
            }
            _ => {}
        }
    }
    let body = sweep.block(top, true);
    let mut epilogue = TokenStream::new();
    for (position, input) in active.iter().enumerate() {
        if let Input::Scalar(var) = input {
            if let Some(cotangent) = sweep.cotangents.get(var) {
                let entry = entry(position);
                epilogue.extend(quote!(#entry += #cotangent;));
            }
        }
    }
    // Tape cursors: one per taped name, read from the end.
    let mut cursors = TokenStream::new();
    let mut taped: Vec<&String> = sweep
        .saved
        .iter()
        .filter(|(_, storage)| **storage == Storage::Tape)
        .map(|(name, _)| name)
        .collect();
    taped.sort();
    for name in taped {
        let (tape, cursor) = (names::tape(name), names::cursor(name));
        cursors.extend(quote!(let mut #cursor = #tape.len();));
    }
    for info in &lowered.loops {
        if let ExitRecord::PerIteration(name) = &info.exits {
            let (tape, cursor) = (
                names::tape(&name.to_string()),
                names::cursor(&name.to_string()),
            );
            cursors.extend(quote!(let mut #cursor = #tape.len();));
        }
    }
    let mut rollback: Vec<String> = sweep.rollback.iter().cloned().collect();
    rollback.sort();
    for array in &rollback {
        let name = format_ident!("{}", array);
        let (tape, cursor) = (names::undo_tape(array), names::undo_cursor(array));
        cursors.extend(quote!(
            let mut #cursor = #tape.len();
            let mut #name = ::core::clone::Clone::clone(&#name);
        ));
    }
    let reverse = Reverse {
        body: quote!(#cursors #prologue #body #epilogue),
        saved: sweep.saved,
        rollback,
        counters: sweep.reuse.counters.declared,
    };
    (reverse, sweep.reread.into_inner())
}

/// Entry `position` of `gradient`, the gradient of `count` active
/// arguments: the gradient itself for one, its field for several.
pub(crate) fn active_entry(gradient: &TokenStream, position: usize, count: usize) -> TokenStream {
    if count == 1 {
        gradient.clone()
    } else {
        let index = syn::Index::from(position);
        quote!(#gradient.#index)
    }
}

/// The names a step binds in the forward sweep that its reverse may read.
pub(crate) fn defined_names(lowered: &Lowered, step: &Step) -> Vec<Ident> {
    match step {
        Step::Const { name, .. } => vec![name.clone()],
        Step::Active { var, .. } => vec![lowered.vars[*var].clone()],
        Step::Call {
            var,
            pullback,
            args,
            ..
        } => {
            let mut names = vec![lowered.vars[*var].clone()];
            if !step.recomputes() {
                names.push(pullback.clone());
            }
            names.extend(args.iter().filter_map(|arg| match arg {
                CallArg::Place {
                    snapshot: Some(copy),
                    ..
                } => Some(copy.clone()),
                _ => None,
            }));
            names
        }
        Step::Array { zero, .. } => vec![zero.clone()],
        Step::Match { flag, .. } => vec![flag.clone()],
        Step::Loop { id, head, .. } => {
            let info = &lowered.loops[*id];
            let mut names = vec![info.count.clone()];
            if let ExitRecord::Last(name) = &info.exits {
                names.push(name.clone());
            }
            if replay(lowered, *id, head).is_some() {
                let (start, end) = names::bounds(*id);
                names.extend([start, end]);
            }
            names
        }
        _ => Vec::new(),
    }
}
