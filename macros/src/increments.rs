//! Stores that add into the element they overwrite.
//!
//! `q[j] += e` lowers to a load of `q[j]`, an addition and a store back.
//! Reversed step by step, the store takes the element's cotangent and
//! clears it, the addition passes it to both operands, and the load adds
//! it back into the element: the element's cotangent ends where it began,
//! after a clear and an add the compiler cannot always fold (the gradient
//! buffers may alias as far as it knows). When the loaded value and the
//! sum are used nowhere else and nothing else touches the aggregate
//! between the load and the store, the reverse sweep instead leaves the
//! element's cotangent alone and adds it into `e` (or subtracts it, for
//! `q[j] -= e`).

use std::collections::{HashMap, HashSet};

use crate::ir::{Block, Lowered, Op, Operand, Step, VarId};
use crate::lower::place_forward_tokens;

/// An increment `place = place ± step`, by the value stored.
pub(crate) struct Increment {
    /// The operand added to the element.
    pub step: Operand,
    /// Whether it is subtracted.
    pub negate: bool,
}

/// The increments of a function, and the values whose reverse they absorb.
#[derive(Default)]
pub(crate) struct Increments {
    /// By the stored sum.
    pub stores: HashMap<VarId, Increment>,
    /// The loads and sums the reverse sweep skips.
    pub absorbed: HashSet<VarId>,
}

impl Increments {
    /// Finds the increments of `lowered`; `uses` counts each value's uses.
    pub fn new(lowered: &Lowered, uses: &HashMap<VarId, usize>) -> Self {
        let mut increments = Increments::default();
        increments.block(&lowered.body, uses);
        increments
    }

    fn block(&mut self, block: &Block, uses: &HashMap<VarId, usize>) {
        let once = |var: &VarId| uses.get(var).copied() == Some(1);
        for (at, (_, step)) in block.steps.iter().enumerate() {
            match step {
                Step::Store {
                    place,
                    value: Operand::Var(sum),
                } if once(sum) => {
                    let target = place_forward_tokens(place).to_string();
                    let base = place.base.to_string();
                    let Some((add_at, op)) = definition(block, *sum, at) else {
                        continue;
                    };
                    let (loaded, step, negate) = match op {
                        Op::Add(Operand::Var(a), b) => {
                            if is_load_of(block, *a, add_at, &target).is_some() {
                                (*a, b.clone(), false)
                            } else if let Operand::Var(b_var) = b {
                                (*b_var, Operand::Var(*a), false)
                            } else {
                                continue;
                            }
                        }
                        Op::Add(a, Operand::Var(b)) => (*b, a.clone(), false),
                        Op::Sub(Operand::Var(a), b) => (*a, b.clone(), true),
                        _ => continue,
                    };
                    if !once(&loaded) {
                        continue;
                    }
                    let Some(load_at) = is_load_of(block, loaded, add_at, &target) else {
                        continue;
                    };
                    if touched(block, load_at + 1, at, &base) {
                        continue;
                    }
                    self.absorbed.extend([loaded, *sum]);
                    self.stores.insert(*sum, Increment { step, negate });
                }
                Step::If { then, els, .. } => {
                    self.block(then, uses);
                    self.block(els, uses);
                }
                Step::Match { arms, .. } => {
                    for (_, arm) in arms {
                        self.block(arm, uses);
                    }
                }
                Step::Loop { body, .. } | Step::Body(body) => self.block(body, uses),
                _ => {}
            }
        }
    }
}

/// The position and operation of `var`'s definition in `block`, before
/// position `before`.
fn definition(block: &Block, var: VarId, before: usize) -> Option<(usize, &Op)> {
    block.steps[..before]
        .iter()
        .enumerate()
        .find_map(|(at, (_, step))| match step {
            Step::Active { var: defined, op } if *defined == var => Some((at, op)),
            _ => None,
        })
}

/// The position of `var`'s definition in `block` before `before`, if it
/// loads the place spelled `target`.
fn is_load_of(block: &Block, var: VarId, before: usize, target: &str) -> Option<usize> {
    match definition(block, var, before)? {
        (at, Op::Load(place)) if place_forward_tokens(place).to_string() == target => Some(at),
        _ => None,
    }
}

/// Whether a step of `block` in `from..to` may write the aggregate `base`
/// (a store or push to it, a call, a nested block).
fn touched(block: &Block, from: usize, to: usize, base: &str) -> bool {
    block.steps[from..to].iter().any(|(_, step)| match step {
        Step::Store { place, .. } | Step::Push { place, .. } => place.base.to_string() == base,
        Step::Active { .. } | Step::Const { .. } | Step::Cell { .. } | Step::Write { .. } => false,
        _ => true,
    })
}
