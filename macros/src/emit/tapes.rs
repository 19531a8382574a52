//! The tapes that live on the stack: those whose every enclosing loop has
//! a constant trip count, small enough for a fixed capacity.

use std::collections::HashMap;

use crate::adjoint::defined_names;
use crate::ir::{Block, ExitRecord, LoopHead, Lowered, Step};

/// The most entries a tape may hold to live on the stack
/// (`causalgrad::__private::ArrayVec`) instead of the heap: 128 values of
/// sixteen `f32` lanes are 8 KiB.
pub(super) const MAX_FIXED_TAPE: usize = 128;

/// The most entries each tape written in `block` can receive, for the
/// tapes whose every enclosing loop has a constant trip count (`for i in
/// 0..16`); `runs` is how often `block` itself can run (`None`: unknown).
pub(super) fn tape_bounds(
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
