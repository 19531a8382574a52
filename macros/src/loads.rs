//! Repeated loads of one element merged into the first.
//!
//! `q[i] * q[i]` lowers to two loads of `q[i]`; inside a loop the reverse
//! sweep would then save both (two tape entries per iteration for one
//! value). A load of a place already loaded earlier in the same block, with
//! nothing in between that could change the element (a store or push to
//! the same aggregate, a call, a passive statement or write, a nested
//! block), is dropped and its uses read the first load instead.

use std::collections::HashMap;

use crate::ir::{Block, CallArg, Lowered, Op, Operand, PathSeg, Place, Step, VarId};
use crate::lower::place_forward_tokens;

/// Merges the repeated loads of `lowered`.
pub(crate) fn merge(lowered: &mut Lowered) {
    let mut merged = HashMap::new();
    block(&mut lowered.body, &mut merged);
    if merged.is_empty() {
        return;
    }
    substitute_block(&mut lowered.body, &merged);
    for output in &mut lowered.outputs {
        substitute(output, &merged);
    }
}

/// Drops the repeated loads of `block` and its nested blocks, recording
/// which earlier load each one reads.
fn block(block_: &mut Block, merged: &mut HashMap<VarId, VarId>) {
    // The loads available here: the place's tokens, its base, the value.
    let mut available: Vec<(String, String, VarId)> = Vec::new();
    block_.steps.retain_mut(|(_, step)| {
        match step {
            Step::Active {
                var,
                op: Op::Load(place),
            } => {
                let key = place_forward_tokens(place).to_string();
                if let Some((_, _, first)) = available.iter().find(|(seen, _, _)| *seen == key) {
                    merged.insert(*var, *first);
                    return false;
                }
                available.push((key, place.base.to_string(), *var));
            }
            Step::Active { .. } | Step::Const { .. } | Step::Cell { .. } | Step::Write { .. } => {}
            Step::Store { place, .. } | Step::Push { place, .. } => {
                let base = place.base.to_string();
                available.retain(|(_, seen, _)| *seen != base);
            }
            Step::If { then, els, .. } => {
                block(then, merged);
                block(els, merged);
                available.clear();
            }
            Step::Match { arms, .. } => {
                for (_, arm) in arms {
                    block(arm, merged);
                }
                available.clear();
            }
            Step::Loop { body, .. } | Step::Body(body) => {
                block(body, merged);
                available.clear();
            }
            _ => available.clear(),
        }
        true
    });
}

fn substitute(operand: &mut Operand, merged: &HashMap<VarId, VarId>) {
    if let Operand::Var(var) = operand {
        if let Some(first) = merged.get(var) {
            *var = *first;
        }
    }
}

fn substitute_place(place: &mut Place, merged: &HashMap<VarId, VarId>) {
    for segment in &mut place.path {
        if let PathSeg::Index(index) = segment {
            substitute(index, merged);
        }
    }
}

fn substitute_block(block: &mut Block, merged: &HashMap<VarId, VarId>) {
    for (_, step) in &mut block.steps {
        match step {
            Step::Active { op, .. } => match op {
                Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) => {
                    substitute(a, merged);
                    substitute(b, merged);
                }
                Op::Neg(a) => substitute(a, merged),
                Op::Call { args, .. } => args.iter_mut().for_each(|arg| substitute(arg, merged)),
                Op::Load(place) => substitute_place(place, merged),
                Op::Read(_) => {}
            },
            Step::Cell { init: value, .. } | Step::Write { value, .. } => substitute(value, merged),
            Step::Store { place, value } => {
                substitute_place(place, merged);
                substitute(value, merged);
            }
            Step::Push {
                place,
                index,
                value,
            } => {
                substitute_place(place, merged);
                substitute(index, merged);
                substitute(value, merged);
            }
            Step::Array {
                fill: Some(fill), ..
            } => substitute(fill, merged),
            Step::Call { receiver, args, .. } => {
                if let Some(place) = receiver {
                    substitute_place(place, merged);
                }
                for arg in args {
                    match arg {
                        CallArg::Scalar(operand) => substitute(operand, merged),
                        CallArg::Array(elements) => {
                            elements.iter_mut().for_each(|e| substitute(e, merged))
                        }
                        CallArg::Place { place, .. } => substitute_place(place, merged),
                        CallArg::Passive(_) => {}
                    }
                }
            }
            Step::If { then, els, .. } => {
                substitute_block(then, merged);
                substitute_block(els, merged);
            }
            Step::Match { arms, .. } => {
                for (_, arm) in arms {
                    substitute_block(arm, merged);
                }
            }
            Step::Loop { body, .. } | Step::Body(body) => substitute_block(body, merged),
            Step::Const { .. }
            | Step::Effect(_)
            | Step::PassiveCell { .. }
            | Step::PassiveWrite { .. }
            | Step::Array { fill: None, .. }
            | Step::Exit { .. } => {}
        }
    }
}
