//! Cotangents the reverse of a loop accumulates in a local.
//!
//! The reverse of a load adds into the element's cotangent. When the
//! element is the same in every iteration (`xcentered[i]` read in a loop
//! over `j`), that addition is a chain through memory, one store and one
//! reload per iteration, which the compiler cannot keep in a register
//! because the other cotangent buffers might alias it. The reverse loop
//! instead adds into a local and adds the local into the element once,
//! after the loop, when nothing else in the loop touches that aggregate.

use std::collections::{HashMap, HashSet};

use proc_macro2::{TokenStream, TokenTree};

use crate::ir::{Block, CallArg, LoopHead, Lowered, Op, Operand, PathSeg, Place, Step};
use crate::lower::place_forward_tokens;

/// The places loaded in `body` (a loop body) at the same element in every
/// iteration, whose aggregate nothing else in `body` touches.
pub(super) fn invariant_loads(lowered: &Lowered, body: &Block) -> Vec<Place> {
    let mut walk = Walk::default();
    walk.block(body);
    let mut by_base: HashMap<String, Vec<Place>> = HashMap::new();
    for place in walk.loads {
        by_base
            .entry(place.base.to_string())
            .or_default()
            .push(place);
    }
    let mut places = Vec::new();
    let mut bases: Vec<_> = by_base.into_iter().collect();
    bases.sort_by(|a, b| a.0.cmp(&b.0));
    for (base, loads) in bases {
        if walk.touched.contains(&base) || lowered.grown.iter().any(|name| *name == base) {
            continue;
        }
        let keys: HashSet<String> = loads
            .iter()
            .map(|place| place_forward_tokens(place).to_string())
            .collect();
        let place = &loads[0];
        if keys.len() == 1 && invariant(place, &walk.bound) {
            places.push(place.clone());
        }
    }
    places
}

/// Whether every index of `place` is a constant none of `bound` (the names
/// the loop body binds) nor a mutable local.
fn invariant(place: &Place, bound: &HashSet<String>) -> bool {
    place.path.iter().all(|segment| match segment {
        PathSeg::Field(_) => true,
        PathSeg::Index(Operand::Const(tokens)) => fixed(tokens.clone(), bound),
        PathSeg::Index(Operand::Var(_)) => false,
    })
}

fn fixed(tokens: TokenStream, bound: &HashSet<String>) -> bool {
    tokens.into_iter().all(|tree| match tree {
        TokenTree::Ident(ident) => {
            let name = ident.to_string();
            let mutable = ["__q", "__m", "__a", "__y"]
                .iter()
                .any(|prefix| name.starts_with(prefix));
            !mutable && !bound.contains(&name)
        }
        TokenTree::Group(group) => fixed(group.stream(), bound),
        _ => true,
    })
}

/// The loads of a loop body, the aggregates written or passed on in it,
/// and the names it binds.
#[derive(Default)]
struct Walk {
    loads: Vec<Place>,
    touched: HashSet<String>,
    bound: HashSet<String>,
}

impl Walk {
    fn block(&mut self, block: &Block) {
        for (_, step) in &block.steps {
            match step {
                Step::Active {
                    op: Op::Load(place),
                    ..
                } => self.loads.push(place.clone()),
                Step::Const { name, .. } | Step::PassiveCell { name, .. } => {
                    self.bound.insert(name.to_string());
                }
                Step::Array { name, .. } => {
                    self.touched.insert(name.to_string());
                }
                Step::Store { place, .. } | Step::Push { place, .. } => {
                    self.touched.insert(place.base.to_string());
                }
                Step::Call { receiver, args, .. } => {
                    if let Some(place) = receiver {
                        self.touched.insert(place.base.to_string());
                    }
                    for arg in args {
                        if let CallArg::Place { place, .. } = arg {
                            self.touched.insert(place.base.to_string());
                        }
                    }
                }
                Step::If { then, els, .. } => {
                    self.block(then);
                    self.block(els);
                }
                Step::Match { arms, .. } => {
                    for (_, arm) in arms {
                        self.block(arm);
                    }
                }
                Step::Loop { head, body, .. } => {
                    if let LoopHead::For { pat, .. } = head {
                        self.pattern(pat.clone());
                    }
                    self.block(body);
                }
                Step::Body(body) => self.block(body),
                _ => {}
            }
        }
    }

    fn pattern(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) => {
                    self.bound.insert(ident.to_string());
                }
                TokenTree::Group(group) => self.pattern(group.stream()),
                _ => {}
            }
        }
    }
}
