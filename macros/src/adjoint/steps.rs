//! The reverse of each step: its cotangent pushed to its operands.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};

use super::hoist::invariant_loads;
use super::regions::Sweep;
use crate::ir::{CallArg, ExitRecord, LoopHead, Op, Operand, PathSeg, Place, Step, VarId};
use crate::names;
use crate::reuse::replay;
use crate::rules::{Derivative, RuleCtx, Term};

impl Sweep<'_> {
    pub(super) fn step(&mut self, step: &Step, out: &mut TokenStream) {
        match step {
            Step::Active { var, op } => {
                if !self.analysis.is_live(*var) || self.increments.absorbed.contains(var) {
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
                // Cotangents of elements fixed across iterations add into
                // locals, flushed after the loop.
                let zero = self.zero();
                let places = invariant_loads(self.lowered, body);
                let mut declare = TokenStream::new();
                let mut previous = Vec::new();
                for (index, place) in places.iter().enumerate() {
                    let local = format_ident!("__h{}_{}", id, index);
                    declare.extend(quote!(let mut #local = #zero;));
                    let key = self.place_tangent(place).to_string();
                    previous.push((key.clone(), self.hoisted.insert(key, local)));
                }
                let reversed = self.block(body, false);
                let mut flush = TokenStream::new();
                for (index, (key, before)) in previous.into_iter().enumerate() {
                    match before {
                        Some(before) => self.hoisted.insert(key, before),
                        None => self.hoisted.remove(&key),
                    };
                    let local = format_ident!("__h{}_{}", id, index);
                    let target = self.load_target(&places[index]);
                    flush.extend(quote!(#target += #local;));
                }
                if reversed.is_empty() {
                    return;
                }
                out.extend(declare);
                self.reverse_loop(*id, head, reversed, out);
                out.extend(flush);
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

    /// The reverse loop of loop `id` around the reversed body.
    fn reverse_loop(
        &self,
        id: usize,
        head: &LoopHead,
        reversed: TokenStream,
        out: &mut TokenStream,
    ) {
        if let Some(replay) = replay(self.lowered, id, head) {
            let (start, end) = names::bounds(id);
            let pat = &replay.pat;
            let range = if replay.closed {
                quote!(#start..=#end)
            } else {
                quote!(#start..#end)
            };
            out.extend(quote!(for #pat in (#range).rev() { #reversed }));
            return;
        }
        let info = &self.lowered.loops[id];
        let count = &info.count;
        let code = names::exit_code(id);
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

    /// The reverse of `place = value`: the element's cotangent moves to
    /// `value`, and the element's is cleared.
    fn store_adjoint(&mut self, place: &Place, value: &Operand, out: &mut TokenStream) {
        if !self.analysis.live_arrays.contains(&place.base.to_string()) {
            return;
        }
        let target = self.place_tangent(place);
        let zero = self.zero();
        if let Operand::Var(var) = value {
            if let Some(increment) = self.increments.stores.get(var) {
                // `place ± step`: the element keeps its cotangent.
                let (step, negate) = (increment.step.clone(), increment.negate);
                if let Operand::Var(step) = step {
                    let taken = format_ident!("__w_{}", self.lowered.vars[*var]);
                    out.extend(quote!(let #taken = #target;));
                    let expr = taken.to_token_stream();
                    self.accumulate(step, Term { negate, expr }, out);
                }
                return;
            }
        }
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
                let target = self.load_target(place);
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

    /// Where the reverse of a load of `place` adds: the local of an
    /// enclosing reverse loop that holds the element's cotangent (see
    /// [`super::hoist`]), else the element's cotangent.
    fn load_target(&self, place: &Place) -> TokenStream {
        let target = self.place_tangent(place);
        match self.hoisted.get(&target.to_string()) {
            Some(local) => local.to_token_stream(),
            None => target,
        }
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

    pub(super) fn accumulate(&mut self, var: VarId, term: Term, out: &mut TokenStream) {
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
