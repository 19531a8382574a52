//! Local arrays the reverse sweep rolls back instead of taping their loads.
//!
//! Tapenade's rule applied to a buffer overwritten inside a loop: rather
//! than saving every element read (a read in an inner loop is saved once
//! per inner iteration), the forward sweep saves the element a store
//! overwrites, and the reverse sweep, holding a copy of the array in its
//! final state, puts each saved element back as it reverses the store. At
//! any point of the reverse sweep the copy then holds what the array held
//! at the same point of the forward sweep, so a load is read again from the
//! copy where its value is needed.
//!
//! A load can be read again so only if no store to its array lies between
//! the load and its last use: the reverse of a use comes before the reverse
//! of any store after it, but after the reverse of every store after the
//! use. An array is rolled back when its stores are cheaper to save than
//! the loads the reverse sweep would otherwise restore from tapes, each
//! weighed by its loop depth (a loop is taken to run [`TRIPS`] times).

use std::collections::{HashMap, HashSet};

use crate::ir::{Block, CallArg, Lowered, Op, Operand, Place, Step, VarId};

/// The trip count assumed for every loop when weighing saves.
const TRIPS: u64 = 16;

/// The loads that may be read from a rolled-back array, and what saving
/// each array's stores costs.
pub(crate) struct Candidates {
    /// Each such load's place and weight (how often it runs).
    pub loads: HashMap<VarId, (Place, u64)>,
    /// Per array, the summed weight of its stores.
    pub stores: HashMap<String, u64>,
}

impl Candidates {
    pub fn new(lowered: &Lowered) -> Self {
        let arrays: HashSet<String> = lowered
            .body
            .steps
            .iter()
            .filter_map(|(_, step)| match step {
                Step::Array { name, .. } => Some(name.to_string()),
                _ => None,
            })
            .filter(|name| !lowered.grown.iter().any(|grown| grown == name))
            .collect();
        let mut candidates = Candidates {
            loads: HashMap::new(),
            stores: HashMap::new(),
        };
        let outputs: HashSet<VarId> = lowered
            .outputs
            .iter()
            .filter_map(|output| match output {
                Operand::Var(var) => Some(*var),
                Operand::Const(_) => None,
            })
            .collect();
        candidates.block(&lowered.body, &arrays, 1, &outputs);
        candidates
    }

    /// The arrays worth rolling back, given the loads the reverse sweep
    /// read again from them when every candidate was rolled back.
    pub fn chosen(&self, read: &HashSet<VarId>) -> HashSet<String> {
        let mut saved_loads: HashMap<String, u64> = HashMap::new();
        for var in read {
            if let Some((place, weight)) = self.loads.get(var) {
                *saved_loads.entry(place.base.to_string()).or_default() += weight;
            }
        }
        saved_loads
            .into_iter()
            .filter(|(array, loads)| self.stores.get(array).copied().unwrap_or(0) < *loads)
            .map(|(array, _)| array)
            .collect()
    }

    fn block(
        &mut self,
        block: &Block,
        arrays: &HashSet<String>,
        weight: u64,
        outputs: &HashSet<VarId>,
    ) {
        let summaries: Vec<Summary> = block
            .steps
            .iter()
            .map(|(_, step)| {
                let mut summary = Summary::default();
                summary.step(step);
                summary
            })
            .collect();
        for (position, (_, step)) in block.steps.iter().enumerate() {
            match step {
                Step::Active {
                    var,
                    op: Op::Load(place),
                } if arrays.contains(&place.base.to_string()) => {
                    let base = place.base.to_string();
                    let last_use = summaries
                        .iter()
                        .enumerate()
                        .skip(position + 1)
                        .filter(|(_, summary)| summary.uses.contains(var))
                        .map(|(at, _)| at)
                        .next_back()
                        .unwrap_or(position);
                    // An output is used after every step of the body.
                    let last_use = if outputs.contains(var) {
                        block.steps.len()
                    } else {
                        last_use
                    };
                    let overwritten =
                        (position + 1..=last_use.min(block.steps.len() - 1)).any(|at| {
                            let storing_use =
                                at == last_use && matches!(block.steps[at].1, Step::Store { .. });
                            !storing_use && summaries[at].stores.contains(&base)
                        });
                    if !overwritten {
                        self.loads.insert(*var, (place.clone(), weight));
                    }
                }
                Step::Store { place, .. } => {
                    *self.stores.entry(place.base.to_string()).or_default() += weight;
                }
                Step::If { then, els, .. } => {
                    self.block(then, arrays, weight, outputs);
                    self.block(els, arrays, weight, outputs);
                }
                Step::Match { arms, .. } => {
                    for (_, arm) in arms {
                        self.block(arm, arrays, weight, outputs);
                    }
                }
                Step::Loop { body, .. } => {
                    self.block(body, arrays, weight.saturating_mul(TRIPS), outputs)
                }
                Step::Body(body) => self.block(body, arrays, weight, outputs),
                _ => {}
            }
        }
    }
}

/// The values a step uses and the arrays it stores to, nested blocks
/// included.
#[derive(Default)]
struct Summary {
    uses: HashSet<VarId>,
    stores: HashSet<String>,
}

impl Summary {
    fn operand(&mut self, operand: &Operand) {
        if let Operand::Var(var) = operand {
            self.uses.insert(*var);
        }
    }

    fn block(&mut self, block: &Block) {
        for (_, step) in &block.steps {
            self.step(step);
        }
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Active { op, .. } => match op {
                Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) => {
                    self.operand(a);
                    self.operand(b);
                }
                Op::Neg(a) => self.operand(a),
                Op::Call { args, .. } => args.iter().for_each(|arg| self.operand(arg)),
                Op::Load(_) | Op::Read(_) => {}
            },
            Step::Cell { init: value, .. } | Step::Write { value, .. } => self.operand(value),
            Step::Store { place, value } => {
                self.operand(value);
                self.stores.insert(place.base.to_string());
            }
            Step::Push {
                place,
                index,
                value,
            } => {
                self.operand(index);
                self.operand(value);
                self.stores.insert(place.base.to_string());
            }
            Step::Call { args, .. } => {
                for arg in args {
                    match arg {
                        CallArg::Scalar(operand) => self.operand(operand),
                        CallArg::Array(elements) => {
                            elements.iter().for_each(|element| self.operand(element))
                        }
                        CallArg::Place { .. } | CallArg::Passive(_) => {}
                    }
                }
            }
            Step::Array {
                fill: Some(fill), ..
            } => self.operand(fill),
            Step::If { then, els, .. } => {
                self.block(then);
                self.block(els);
            }
            Step::Match { arms, .. } => arms.iter().for_each(|(_, arm)| self.block(arm)),
            Step::Loop { body, .. } | Step::Body(body) => self.block(body),
            Step::Const { .. }
            | Step::Effect(_)
            | Step::PassiveCell { .. }
            | Step::PassiveWrite { .. }
            | Step::Array { fill: None, .. }
            | Step::Exit { .. } => {}
        }
    }
}
