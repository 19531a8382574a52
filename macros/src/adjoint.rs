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

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};

use crate::ir::{
    Block, CallArg, CellId, ExitRecord, Input, LoopId, Lowered, Op, Operand, PathSeg, Place, Step,
    Storage, VarId,
};
use crate::names;
use crate::reuse::{replay, Reuse};
use crate::rollback::Candidates;
use crate::rules::{Derivative, RuleCtx, Term};

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
    let candidates = Candidates::new(lowered);
    // First with every candidate array rolled back, to learn which loads
    // the reverse sweep reads; then with the arrays where that pays.
    let every: HashSet<String> = candidates
        .loads
        .values()
        .map(|(place, _)| place.base.to_string())
        .collect();
    let (first, reread) = sweep(lowered, seeds, real, grads, &analysis, &candidates, every);
    let chosen = candidates.chosen(&reread);
    if chosen.is_empty() && first.rollback.is_empty() {
        return first;
    }
    sweep(lowered, seeds, real, grads, &analysis, &candidates, chosen).0
}

/// The reverse sweep with the arrays of `rollback` rolled back, and the
/// loads it reads again from them.
fn sweep(
    lowered: &Lowered,
    seeds: &[TokenStream],
    real: &TokenStream,
    grads: &Ident,
    analysis: &Analysis,
    candidates: &Candidates,
    rollback: HashSet<String>,
) -> (Reverse, HashSet<VarId>) {
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

/// Where values are defined and used, and which ones reach an output.
struct Analysis {
    /// (block, exit group) of each value's definition.
    defs: HashMap<VarId, (usize, u32)>,
    /// Every (block, exit group) where a value is used.
    uses: HashMap<VarId, Vec<(usize, u32)>>,
    live: HashSet<VarId>,
    live_cells: HashSet<CellId>,
    live_arrays: HashSet<String>,
    /// Values loaded from arguments (not local arrays), by their place.
    argument_loads: HashMap<VarId, Place>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Node {
    Var(VarId),
    Cell(CellId),
    Array(String),
}

impl Analysis {
    fn new(lowered: &Lowered) -> Self {
        let mut analysis = Analysis {
            defs: HashMap::new(),
            uses: HashMap::new(),
            live: HashSet::new(),
            live_cells: HashSet::new(),
            live_arrays: HashSet::new(),
            argument_loads: HashMap::new(),
        };
        let top = block_id(&lowered.body);
        for input in &lowered.inputs {
            if let Input::Scalar(var) = input {
                analysis.defs.insert(*var, (top, 0));
            }
        }
        let mut deps: HashMap<Node, Vec<Node>> = HashMap::new();
        analysis.walk(lowered, &lowered.body, &mut deps);
        let top_group = lowered.body.steps.last().map_or(1, |(start, _)| *start);
        let mut work: Vec<Node> = Vec::new();
        for output in &lowered.outputs {
            if let Operand::Var(var) = output {
                analysis
                    .uses
                    .entry(*var)
                    .or_default()
                    .push((top, top_group));
                work.push(Node::Var(*var));
            }
        }
        let mut seen = HashSet::new();
        while let Some(node) = work.pop() {
            if !seen.insert(node.clone()) {
                continue;
            }
            match &node {
                Node::Var(var) => {
                    analysis.live.insert(*var);
                }
                Node::Cell(cell) => {
                    analysis.live_cells.insert(*cell);
                }
                Node::Array(name) => {
                    analysis.live_arrays.insert(name.clone());
                }
            }
            if let Some(next) = deps.get(&node) {
                work.extend(next.iter().cloned());
            }
        }
        analysis
    }

    fn walk(&mut self, lowered: &Lowered, block: &Block, deps: &mut HashMap<Node, Vec<Node>>) {
        let id = block_id(block);
        for (start, step) in &block.steps {
            let site = (id, *start);
            let use_var = |analysis: &mut Self, operand: &Operand| -> Option<Node> {
                if let Operand::Var(var) = operand {
                    analysis.uses.entry(*var).or_default().push(site);
                    Some(Node::Var(*var))
                } else {
                    None
                }
            };
            match step {
                Step::Active { var, op } => {
                    self.defs.insert(*var, site);
                    let mut from = Vec::new();
                    match op {
                        Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) => {
                            from.extend(use_var(self, a));
                            from.extend(use_var(self, b));
                        }
                        Op::Neg(a) => from.extend(use_var(self, a)),
                        Op::Call { args, .. } => {
                            for arg in args {
                                from.extend(use_var(self, arg));
                            }
                        }
                        Op::Load(place) => match array_node(lowered, place) {
                            Some(node) => from.push(node),
                            None => {
                                self.argument_loads.insert(*var, place.clone());
                            }
                        },
                        Op::Read(cell) => from.push(Node::Cell(*cell)),
                    }
                    deps.entry(Node::Var(*var)).or_default().extend(from);
                }
                Step::Call {
                    var,
                    args,
                    receiver,
                    ..
                } => {
                    self.defs.insert(*var, site);
                    let mut from = Vec::new();
                    for arg in args {
                        match arg {
                            CallArg::Scalar(operand) => from.extend(use_var(self, operand)),
                            CallArg::Array(elements) => {
                                for element in elements {
                                    from.extend(use_var(self, element));
                                }
                            }
                            CallArg::Place { place, .. } => from.extend(array_node(lowered, place)),
                            CallArg::Passive(_) => {}
                        }
                    }
                    if let Some(place) = receiver {
                        from.extend(array_node(lowered, place));
                    }
                    deps.entry(Node::Var(*var)).or_default().extend(from);
                }
                Step::Cell { cell, init: value } | Step::Write { cell, value } => {
                    let from = use_var(self, value);
                    deps.entry(Node::Cell(*cell)).or_default().extend(from);
                }
                Step::Store { place, value } | Step::Push { place, value, .. } => {
                    let from = use_var(self, value);
                    if let Some(node) = array_node(lowered, place) {
                        deps.entry(node).or_default().extend(from);
                    }
                }
                Step::Array {
                    name,
                    fill: Some(fill),
                    ..
                } => {
                    let from = use_var(self, fill);
                    deps.entry(Node::Array(name.to_string()))
                        .or_default()
                        .extend(from);
                }
                Step::If { then, els, .. } => {
                    self.walk(lowered, then, deps);
                    self.walk(lowered, els, deps);
                }
                Step::Match { arms, .. } => {
                    for (_, arm) in arms {
                        self.walk(lowered, arm, deps);
                    }
                }
                Step::Loop { body, .. } | Step::Body(body) => self.walk(lowered, body, deps),
                Step::Const { .. }
                | Step::Effect(_)
                | Step::PassiveCell { .. }
                | Step::PassiveWrite { .. }
                | Step::Array { fill: None, .. }
                | Step::Exit { .. } => {}
            }
        }
    }

    fn is_live(&self, var: VarId) -> bool {
        self.live.contains(&var)
    }

    /// Whether a value's cotangent can be a chain of immutable bindings.
    fn is_ssa(&self, var: VarId) -> bool {
        let Some(def) = self.defs.get(&var) else {
            return false;
        };
        self.uses
            .get(&var)
            .is_none_or(|uses| uses.iter().all(|site| same_group(*site, *def)))
    }
}

/// Whether a use at `site` is reversed in the same lexical region as the
/// definition at `def` (arguments are defined at group 0, before group 1).
fn same_group(site: (usize, u32), def: (usize, u32)) -> bool {
    site == def || (def.1 == 0 && site.0 == def.0 && site.1 <= 1)
}

fn block_id(block: &Block) -> usize {
    block as *const Block as usize
}

fn array_node(lowered: &Lowered, place: &Place) -> Option<Node> {
    let base = place.base.to_string();
    lowered
        .array_tangents
        .iter()
        .any(|(name, _)| *name == base)
        .then_some(Node::Array(base))
}

struct Sweep<'a> {
    lowered: &'a Lowered,
    analysis: &'a Analysis,
    real: &'a TokenStream,
    seeds: &'a [TokenStream],
    /// The tangents of the aggregate arguments: `&mut` reborrows of the
    /// caller's gradient.
    arguments: HashSet<Ident>,
    /// The current name of each SSA value's cotangent, or its accumulator.
    cotangents: HashMap<VarId, TokenStream>,
    saved: HashMap<String, Storage>,
    reuse: Reuse,
    candidates: &'a Candidates,
    /// The arrays rolled back in this sweep.
    rollback: HashSet<String>,
    /// The loads read again from a rolled-back array.
    reread: RefCell<HashSet<VarId>>,
}

impl Sweep<'_> {
    fn zero(&self) -> TokenStream {
        let real = self.real;
        quote!(#real::from_f64(0.0))
    }

    /// The reverse of a block: its exit groups, each nested in the previous.
    fn block(&mut self, block: &Block, top: bool) -> TokenStream {
        let mut groups: Vec<(u32, Vec<&Step>)> = Vec::new();
        for (start, step) in &block.steps {
            match groups.last_mut() {
                Some((group_start, steps)) if *group_start == *start => steps.push(step),
                _ => groups.push((*start, vec![step])),
            }
        }
        self.groups(block, &groups, top)
    }

    fn groups(&mut self, block: &Block, groups: &[(u32, Vec<&Step>)], top: bool) -> TokenStream {
        let Some(((_, steps), later)) = groups.split_first() else {
            return TokenStream::new();
        };
        // Declarations of this group's accumulators.
        let mut declarations = TokenStream::new();
        let zero = self.zero();
        for step in steps {
            match step {
                Step::Active { var, .. } | Step::Call { var, .. }
                    if self.analysis.is_live(*var) && !self.analysis.is_ssa(*var) =>
                {
                    let name = names::cotangent(&self.lowered.vars[*var]);
                    declarations.extend(quote!(let mut #name = #zero;));
                    self.cotangents.insert(*var, name.to_token_stream());
                }
                Step::Cell { cell, .. } if self.analysis.live_cells.contains(cell) => {
                    let name = names::cotangent(&self.lowered.cells[*cell]);
                    declarations.extend(quote!(let mut #name = #zero;));
                }
                Step::Array {
                    name,
                    zero: template,
                    ..
                } if self.analysis.live_arrays.contains(&name.to_string()) => {
                    let tangent = names::cotangent(name);
                    declarations.extend(
                        quote!(let mut #tangent = ::core::clone::Clone::clone(&#template);),
                    );
                }
                _ => {}
            }
        }
        // The outputs' seeds enter where every top-level value is in scope.
        if top && later.is_empty() {
            for (output, seed) in self.lowered.outputs.iter().zip(self.seeds) {
                if let Operand::Var(var) = output {
                    self.accumulate(
                        *var,
                        Term {
                            negate: false,
                            expr: seed.to_token_stream(),
                        },
                        &mut declarations,
                    );
                }
            }
        }
        let nested = match later.first() {
            Some((next_start, _)) => {
                let inner = self.groups(block, later, top);
                match self.guard(block.loop_id, *next_start) {
                    Some(condition) if !inner.is_empty() => quote!(if #condition { #inner }),
                    _ => inner,
                }
            }
            None => TokenStream::new(),
        };
        let mut reversed = TokenStream::new();
        for step in steps.iter().rev() {
            self.step(step, &mut reversed);
        }
        let mut region = quote!(#declarations #nested #reversed);
        // Restore (or recompute) what this group defined and the region
        // reads, last first: a recomputed constant reads earlier ones.
        if block.storage != Storage::Direct {
            let mut read = BTreeSet::new();
            collect_idents(region.clone(), &mut read);
            let mut restores = Vec::new();
            for step in steps.iter().rev() {
                for name in defined_names(self.lowered, step).into_iter().rev() {
                    let key = name.to_string();
                    if !read.contains(&key) {
                        continue;
                    }
                    match self.reuse.recompute.get(&key) {
                        Some((ty, expr)) => {
                            collect_idents(expr.clone(), &mut read);
                            let ty = ty.as_ref().map(|ty| quote!(: #ty));
                            restores.push(quote!(let #name #ty = #expr;));
                        }
                        None => {
                            self.saved.insert(key.clone(), block.storage);
                            restores.push(restore(&name, block.storage));
                        }
                    }
                }
            }
            restores.reverse();
            region = quote!(#(#restores)* #region);
        }
        region
    }

    /// `__ec == 0 || __ec >= start`, or nothing when every exit comes later.
    fn guard(&self, loop_id: LoopId, start: u32) -> Option<TokenStream> {
        if loop_id == usize::MAX || start <= 1 {
            return None;
        }
        let code = names::exit_code(loop_id);
        Some(quote!(#code == 0 || #code >= #start))
    }

    fn step(&mut self, step: &Step, out: &mut TokenStream) {
        match step {
            Step::Active { var, op } => {
                if !self.analysis.is_live(*var) {
                    return;
                }
                let Some(g) = self.cotangents.get(var).cloned() else {
                    return;
                };
                let y = self.lowered.vars[*var].to_token_stream();
                self.propagate(op, &y, &g, out);
            }
            Step::Call {
                var,
                pullback,
                callee,
                receiver,
                args,
                ..
            } => {
                if !self.analysis.is_live(*var) {
                    return;
                }
                let Some(g) = self.cotangents.get(var).cloned() else {
                    return;
                };
                let grads = format_ident!("__g_{}", pullback);
                if step.recomputes() {
                    let call = self
                        .lowered
                        .call_tokens(callee, receiver.as_ref(), args, true);
                    out.extend(quote!(let (_, #pullback) = #call;));
                }
                out.extend(quote!(let #grads = #pullback(#g);));
                let mut index = 0usize;
                if let Some(place) = receiver {
                    let entry = syn::Index::from(index);
                    out.extend(self.accumulate_place(place, quote!(#grads.#entry)));
                    index += 1;
                }
                for arg in args {
                    let entry = syn::Index::from(index);
                    index += 1;
                    match arg {
                        CallArg::Scalar(Operand::Var(operand)) => self.accumulate(
                            *operand,
                            Term {
                                negate: false,
                                expr: quote!(#grads.#entry),
                            },
                            out,
                        ),
                        CallArg::Place { place, .. } => {
                            out.extend(self.accumulate_place(place, quote!(#grads.#entry)));
                        }
                        CallArg::Array(elements) => {
                            for (position, element) in elements.iter().enumerate() {
                                if let Operand::Var(operand) = element {
                                    self.accumulate(
                                        *operand,
                                        Term {
                                            negate: false,
                                            expr: quote!(#grads.#entry[#position]),
                                        },
                                        out,
                                    );
                                }
                            }
                        }
                        CallArg::Scalar(Operand::Const(_)) | CallArg::Passive(_) => {}
                    }
                }
            }
            Step::Cell { cell, init } => {
                if let (true, Operand::Var(var)) = (self.analysis.live_cells.contains(cell), init) {
                    let name = names::cotangent(&self.lowered.cells[*cell]);
                    self.accumulate(
                        *var,
                        Term {
                            negate: false,
                            expr: name.to_token_stream(),
                        },
                        out,
                    );
                }
            }
            Step::Write { cell, value } => {
                if !self.analysis.live_cells.contains(cell) {
                    return;
                }
                let name = names::cotangent(&self.lowered.cells[*cell]);
                let zero = self.zero();
                match value {
                    Operand::Var(var) => {
                        let taken = format_ident!("__w_{}", name);
                        out.extend(quote!(let #taken = #name; #name = #zero;));
                        self.accumulate(
                            *var,
                            Term {
                                negate: false,
                                expr: taken.to_token_stream(),
                            },
                            out,
                        );
                    }
                    Operand::Const(_) => out.extend(quote!(#name = #zero;)),
                }
            }
            Step::Store { place, value } => {
                let base = place.base.to_string();
                if self.rollback.contains(&base) {
                    // The overwritten element goes back once the store's
                    // cotangent has moved on (below, as tokens run in order).
                    let (tape, cursor) = (names::undo_tape(&base), names::undo_cursor(&base));
                    let element = crate::lower::place_forward_tokens(place);
                    let mut adjoint = TokenStream::new();
                    self.store_adjoint(place, value, &mut adjoint);
                    out.extend(quote!(
                        #adjoint
                        #cursor -= 1;
                        #element = ::core::clone::Clone::clone(&#tape[#cursor]);
                    ));
                    return;
                }
                self.store_adjoint(place, value, out);
            }
            Step::Push {
                place,
                index,
                value,
            } => {
                let base = place.base.to_string();
                if !self.analysis.live_arrays.contains(&base) {
                    return;
                }
                if let Operand::Var(var) = value {
                    let tangent = &place.tangent;
                    let index = self.lowered.operand_tokens(index);
                    let taken = format_ident!("__w_{}", self.lowered.vars[*var]);
                    out.extend(quote!(
                        let #taken = ::causalgrad::__private::take(&mut #tangent, #index);
                    ));
                    self.accumulate(
                        *var,
                        Term {
                            negate: false,
                            expr: taken.to_token_stream(),
                        },
                        out,
                    );
                }
            }
            Step::Array {
                name,
                fill: Some(Operand::Var(var)),
                ..
            } => {
                if !self.analysis.live_arrays.contains(&name.to_string()) {
                    return;
                }
                let tangent = names::cotangent(name);
                let zero = self.zero();
                let sum = quote!({
                    let mut __sum = #zero;
                    for __entry in #tangent.iter() {
                        __sum += *__entry;
                    }
                    __sum
                });
                self.accumulate(
                    *var,
                    Term {
                        negate: false,
                        expr: sum,
                    },
                    out,
                );
            }
            Step::If { flag, then, els } => {
                let then = self.block(then, false);
                let els = self.block(els, false);
                if !then.is_empty() || !els.is_empty() {
                    out.extend(quote!(if #flag { #then } else { #els }));
                }
            }
            Step::Match { flag, arms, .. } => {
                let mut cases = TokenStream::new();
                for (index, (_, arm)) in arms.iter().enumerate() {
                    let body = self.block(arm, false);
                    if !body.is_empty() {
                        cases.extend(quote!(#index => { #body }));
                    }
                }
                if !cases.is_empty() {
                    out.extend(quote!(match #flag { #cases _ => {} }));
                }
            }
            Step::Loop { id, body, head } => {
                let reversed = self.block(body, false);
                if reversed.is_empty() {
                    return;
                }
                if let Some(replay) = replay(self.lowered, *id, head) {
                    let (start, end) = names::bounds(*id);
                    let pat = &replay.pat;
                    let range = if replay.closed {
                        quote!(#start..=#end)
                    } else {
                        quote!(#start..#end)
                    };
                    out.extend(quote!(for #pat in (#range).rev() { #reversed }));
                    return;
                }
                let info = &self.lowered.loops[*id];
                let count = &info.count;
                let code = names::exit_code(*id);
                let iteration = format_ident!("__it{}", id);
                let exit_code = match &info.exits {
                    ExitRecord::None => TokenStream::new(),
                    ExitRecord::Last(last) => quote!(
                        let #code: u32 = if #iteration + 1 == #count { #last } else { 0 };
                    ),
                    ExitRecord::PerIteration(name) => {
                        let (tape, cursor) = (
                            names::tape(&name.to_string()),
                            names::cursor(&name.to_string()),
                        );
                        quote!(#cursor -= 1; let #code: u32 = #tape[#cursor];)
                    }
                };
                out.extend(quote!(
                    for #iteration in (0..#count).rev() {
                        #exit_code
                        #reversed
                    }
                ));
            }
            Step::Body(body) => {
                let reversed = self.block(body, false);
                let code = names::exit_code(0);
                out.extend(quote!(let #code: u32 = __x0; #reversed));
            }
            Step::Const { .. }
            | Step::Effect(_)
            | Step::PassiveCell { .. }
            | Step::PassiveWrite { .. }
            | Step::Array { .. }
            | Step::Exit { .. } => {}
        }
    }

    /// The reverse of `place = value`: the element's cotangent moves to
    /// `value`, and the element's is cleared.
    fn store_adjoint(&mut self, place: &Place, value: &Operand, out: &mut TokenStream) {
        if !self.analysis.live_arrays.contains(&place.base.to_string()) {
            return;
        }
        let target = self.place_tangent(place);
        let zero = self.zero();
        match value {
            Operand::Var(var) => {
                let taken = format_ident!("__w_{}", self.lowered.vars[*var]);
                out.extend(quote!(let #taken = #target; #target = #zero;));
                self.accumulate(
                    *var,
                    Term {
                        negate: false,
                        expr: taken.to_token_stream(),
                    },
                    out,
                );
            }
            Operand::Const(_) => out.extend(quote!(#target = #zero;)),
        }
    }

    fn propagate(&mut self, op: &Op, y: &TokenStream, g: &TokenStream, out: &mut TokenStream) {
        let tokens = |operand: &Operand| self.operand_tokens(operand);
        let pos = |expr: TokenStream| Term {
            negate: false,
            expr,
        };
        let neg = |expr: TokenStream| Term { negate: true, expr };
        let terms: Vec<(Operand, Term)> = match op {
            Op::Add(a, b) => vec![(a.clone(), pos(g.clone())), (b.clone(), pos(g.clone()))],
            Op::Sub(a, b) => vec![(a.clone(), pos(g.clone())), (b.clone(), neg(g.clone()))],
            Op::Mul(a, b) => {
                let (ta, tb) = (tokens(a), tokens(b));
                vec![
                    (a.clone(), pos(quote!(#g * #tb))),
                    (b.clone(), pos(quote!(#g * #ta))),
                ]
            }
            Op::Div(a, b) => {
                let tb = tokens(b);
                vec![
                    (a.clone(), pos(quote!(#g / #tb))),
                    (b.clone(), neg(quote!(#g * #y / #tb))),
                ]
            }
            Op::Neg(a) => vec![(a.clone(), neg(g.clone()))],
            Op::Call { rule, args } => {
                let Derivative::Adjoint(adjoint) = rule.derivative else {
                    return;
                };
                let arg_tokens: Vec<TokenStream> = args.iter().map(tokens).collect();
                let ctx = RuleCtx {
                    args: &arg_tokens,
                    y,
                    g,
                    r: self.real,
                };
                args.iter().cloned().zip(adjoint(&ctx)).collect()
            }
            Op::Load(place) => {
                let target = self.place_tangent(place);
                out.extend(quote!(#target += #g;));
                return;
            }
            Op::Read(cell) => {
                if self.analysis.live_cells.contains(cell) {
                    let name = names::cotangent(&self.lowered.cells[*cell]);
                    out.extend(quote!(#name += #g;));
                }
                return;
            }
        };
        for (operand, term) in terms {
            if let Operand::Var(var) = operand {
                self.accumulate(var, term, out);
            }
        }
    }

    /// An operand as the reverse sweep reads it: an element loaded from a
    /// borrowed argument is read again from the argument (it cannot have
    /// changed), so it is never saved.
    fn operand_tokens(&self, operand: &Operand) -> TokenStream {
        if let Operand::Var(var) = operand {
            if let Some(place) = self
                .analysis
                .argument_loads
                .get(var)
                .or_else(|| self.reuse.final_loads.get(var))
            {
                return crate::lower::place_forward_tokens(place);
            }
            if let Some((place, _)) = self.candidates.loads.get(var) {
                if self.rollback.contains(&place.base.to_string()) {
                    self.reread.borrow_mut().insert(*var);
                    return crate::lower::place_forward_tokens(place);
                }
            }
        }
        self.lowered.operand_tokens(operand)
    }

    /// The tangent accumulator of a place: `__d_arr[j]` for a local array,
    /// `(*__d_p).w[j]` for an argument (whose tangent is a reborrow).
    fn place_tangent(&self, place: &Place) -> TokenStream {
        let tangent = &place.tangent;
        let tangent = if self.arguments.contains(tangent) {
            quote!((*#tangent))
        } else {
            tangent.to_token_stream()
        };
        let mut path = place.path.iter();
        let tangent = match (self.is_grown(place), place.path.first()) {
            (true, Some(PathSeg::Index(index))) => {
                path.next();
                let index = self.lowered.operand_tokens(index);
                quote!((*::causalgrad::__private::grow(&mut #tangent, #index)))
            }
            _ => tangent,
        };
        let path = path.map(|segment| match segment {
            PathSeg::Field(member) => quote!(.#member),
            PathSeg::Index(index) => {
                let index = self.lowered.operand_tokens(index);
                quote!([#index])
            }
        });
        quote!(#tangent #(#path)*)
    }

    /// Whether `place` is in a local `Vec` that grows by `push`.
    fn is_grown(&self, place: &Place) -> bool {
        let base = place.base.to_string();
        self.lowered.grown.iter().any(|name| *name == base)
    }

    /// Adds a callee's cotangent `value` into the tangent of `place`.
    fn accumulate_place(&self, place: &Place, value: TokenStream) -> TokenStream {
        let target = self.place_tangent(place);
        if self.is_grown(place) && place.path.is_empty() {
            quote!(::causalgrad::__private::accumulate_grown(&mut #target, #value);)
        } else {
            quote!(::causalgrad::Tangent::accumulate(&mut #target, #value);)
        }
    }

    fn accumulate(&mut self, var: VarId, term: Term, out: &mut TokenStream) {
        if !self.analysis.is_live(var) {
            return;
        }
        let Term { negate, expr } = term;
        if !self.analysis.is_ssa(var) {
            let name = self
                .cotangents
                .get(&var)
                .cloned()
                .expect("accumulators are declared before their uses are reversed");
            out.extend(if negate {
                quote!(#name -= #expr;)
            } else {
                quote!(#name += #expr;)
            });
            return;
        }
        let name = names::cotangent(&self.lowered.vars[var]);
        let value = match (self.cotangents.get(&var), negate) {
            (Some(current), false) => quote!(#current + #expr),
            (Some(current), true) => quote!(#current - #expr),
            (None, false) => expr,
            (None, true) => quote!(-#expr),
        };
        out.extend(quote!(let #name = #value;));
        self.cotangents.insert(var, name.to_token_stream());
    }
}

fn restore(name: &Ident, storage: Storage) -> TokenStream {
    match storage {
        Storage::Direct => TokenStream::new(),
        Storage::Tape => {
            let key = name.to_string();
            let (tape, cursor) = (names::tape(&key), names::cursor(&key));
            quote!(#cursor -= 1; let #name = ::core::clone::Clone::clone(&#tape[#cursor]);)
        }
        Storage::Slot => {
            let slot = names::slot(&name.to_string());
            quote!(let #name = match &#slot {
                ::core::option::Option::Some(value) => ::core::clone::Clone::clone(value),
                ::core::option::Option::None => unreachable!(),
            };)
        }
    }
}

fn collect_idents(tokens: TokenStream, out: &mut BTreeSet<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            TokenTree::Group(group) => collect_idents(group.stream(), out),
            _ => {}
        }
    }
}
