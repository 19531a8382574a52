//! What the reverse sweep reads again or recomputes instead of restoring it
//! from a tape: Tapenade's rule, save only the values that are overwritten
//! before the reverse sweep reads them.
//!
//! - A `for` loop over a range (`for i in a..b`) with no early exit is
//!   *replayed*: the forward sweep keeps its bounds, and the reverse loop
//!   walks the same range backwards, binding the same index.
//! - A passive constant computed only from indices, other such constants,
//!   arguments and literals (`ik * d + id`, `x[2 * o]`) is recomputed where
//!   the reverse sweep needs it.
//! - An element loaded from a local array of the function body that is not
//!   written after the load (nor in a loop around it) is read again from
//!   the array, which the reverse sweep holds in its final state.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::counters::Counters;
use crate::ir::{Block, ExitRecord, LoopHead, LoopId, Lowered, Op, Place, Step, VarId};
use crate::names;

/// A replayed loop: its index pattern and range.
pub(crate) struct Replay {
    pub pat: TokenStream,
    pub start: TokenStream,
    pub end: TokenStream,
    pub closed: bool,
}

/// Whether loop `id`, driven by `head`, is replayed, and how.
pub(crate) fn replay(lowered: &Lowered, id: LoopId, head: &LoopHead) -> Option<Replay> {
    if lowered.loops[id].exits != ExitRecord::None {
        return None;
    }
    let LoopHead::For { pat, iter } = head else {
        return None;
    };
    syn::parse2::<syn::Ident>(pat.clone()).ok()?;
    let syn::Expr::Range(range) = syn::parse2::<syn::Expr>(iter.clone()).ok()? else {
        return None;
    };
    let (start, end) = (range.start?, range.end?);
    Some(Replay {
        pat: pat.clone(),
        start: quote::ToTokens::to_token_stream(&start),
        end: quote::ToTokens::to_token_stream(&end),
        closed: matches!(range.limits, syn::RangeLimits::Closed(_)),
    })
}

/// What the reverse sweep of a function need not restore.
pub(crate) struct Reuse {
    /// Constants recomputed from their expression, by name, with their type.
    pub recompute: HashMap<String, (Option<TokenStream>, TokenStream)>,
    /// Loads from local arrays read again from the array, by value.
    pub final_loads: HashMap<VarId, Place>,
    /// The passive counters run backwards (see [`crate::counters`]).
    pub counters: Counters,
}

impl Reuse {
    pub fn new(lowered: &Lowered) -> Self {
        let mut unavailable = HashSet::new();
        let mut constants = Vec::new();
        collect(lowered, &lowered.body, &mut unavailable, &mut constants);
        let counters = Counters::new(lowered);
        let recompute = constants
            .into_iter()
            .filter(|(_, (_, expr))| cheap(expr.clone(), &unavailable, &counters.names))
            .collect();
        Reuse {
            recompute,
            final_loads: final_loads(lowered),
            counters,
        }
    }
}

/// The pattern names no reverse loop binds again, and every constant.
#[allow(clippy::type_complexity)]
fn collect(
    lowered: &Lowered,
    block: &Block,
    unavailable: &mut HashSet<String>,
    constants: &mut Vec<(String, (Option<TokenStream>, TokenStream))>,
) {
    for (_, step) in &block.steps {
        match step {
            Step::Const { name, ty, expr } => {
                constants.push((name.to_string(), (ty.clone(), expr.clone())));
            }
            Step::If { then, els, .. } => {
                collect(lowered, then, unavailable, constants);
                collect(lowered, els, unavailable, constants);
            }
            Step::Match { arms, .. } => {
                for (pattern, arm) in arms {
                    names(pattern.clone(), unavailable);
                    collect(lowered, arm, unavailable, constants);
                }
            }
            Step::Loop { id, head, body } => match (replay(lowered, *id, head), head) {
                (Some(replay), _) => {
                    let (start, end) = names::bounds(*id);
                    constants.push((start.to_string(), (None, replay.start)));
                    constants.push((end.to_string(), (None, replay.end)));
                    collect(lowered, body, unavailable, constants);
                }
                (None, head) => {
                    if let LoopHead::For { pat, .. } = head {
                        names(pat.clone(), unavailable);
                    }
                    collect(lowered, body, unavailable, constants);
                }
            },
            Step::Body(body) => collect(lowered, body, unavailable, constants),
            _ => {}
        }
    }
}

fn names(tokens: TokenStream, out: &mut HashSet<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            TokenTree::Group(group) => names(group.stream(), out),
            _ => {}
        }
    }
}

/// Whether `expr` is index arithmetic the reverse sweep can evaluate again:
/// no mutable local (passive cells `__q`, cells `__m`, arrays `__a`, saved
/// copies `__y`), no pattern name the reverse sweep does not bind, no call
/// but `len()`, no macro, no block. The passive counters of `counters` are
/// available: the reverse sweep runs them backwards.
fn cheap(expr: TokenStream, unavailable: &HashSet<String>, counters: &HashSet<String>) -> bool {
    let trees: Vec<TokenTree> = expr.into_iter().collect();
    trees.iter().enumerate().all(|(index, tree)| match tree {
        TokenTree::Ident(ident) => {
            let name = ident.to_string();
            let mutable = ["__q", "__m", "__a", "__y", "__pb"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                && !counters.contains(&name);
            let call = match trees.get(index + 1) {
                Some(TokenTree::Group(group)) => {
                    group.delimiter() == Delimiter::Parenthesis && name != "len"
                }
                Some(TokenTree::Punct(punct)) => punct.as_char() == '!',
                _ => false,
            };
            !mutable && !call && !unavailable.contains(&name)
        }
        TokenTree::Group(group) => {
            group.delimiter() != Delimiter::Brace && cheap(group.stream(), unavailable, counters)
        }
        _ => true,
    })
}

/// Loads from top-level local arrays that no later write (and no write in
/// a loop around them) can change.
fn final_loads(lowered: &Lowered) -> HashMap<VarId, Place> {
    let top: HashSet<String> = lowered
        .body
        .steps
        .iter()
        .filter_map(|(_, step)| match step {
            Step::Array { name, .. } => Some(name.to_string()),
            _ => None,
        })
        .collect();
    let mut walk = Walk {
        position: 0,
        loops: Vec::new(),
        writes: HashMap::new(),
        loads: Vec::new(),
    };
    walk.block(&lowered.body);
    walk.loads
        .into_iter()
        .filter(|(_, place, position, loops)| {
            let base = place.base.to_string();
            top.contains(&base)
                && walk.writes.get(&base).is_none_or(|writes| {
                    writes.iter().all(|(at, around)| {
                        at < position && around.iter().all(|id| !loops.contains(id))
                    })
                })
        })
        .map(|(var, place, _, _)| (var, place))
        .collect()
}

/// The program order of writes and loads of local arrays.
struct Walk {
    position: usize,
    loops: Vec<LoopId>,
    /// Per array: each write's position and enclosing loops.
    writes: HashMap<String, Vec<(usize, Vec<LoopId>)>>,
    loads: Vec<(VarId, Place, usize, Vec<LoopId>)>,
}

impl Walk {
    fn block(&mut self, block: &Block) {
        for (_, step) in &block.steps {
            self.position += 1;
            match step {
                Step::Active {
                    var,
                    op: Op::Load(place),
                } => self
                    .loads
                    .push((*var, place.clone(), self.position, self.loops.clone())),
                Step::Store { place, .. } | Step::Push { place, .. } => self
                    .writes
                    .entry(place.base.to_string())
                    .or_default()
                    .push((self.position, self.loops.clone())),
                Step::If { then, els, .. } => {
                    self.block(then);
                    self.block(els);
                }
                Step::Match { arms, .. } => {
                    for (_, arm) in arms {
                        self.block(arm);
                    }
                }
                Step::Loop { id, body, .. } => {
                    self.loops.push(*id);
                    self.block(body);
                    self.loops.pop();
                }
                Step::Body(body) => self.block(body),
                _ => {}
            }
        }
    }
}
