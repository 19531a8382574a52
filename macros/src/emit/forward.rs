//! The forward sweep: the primal's steps, saving what the reverse sweep
//! restores.

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, ToTokens};

use crate::adjoint::defined_names;
use crate::counters::block_key;
use crate::ir::{
    Block, CallArg, ExitKind, ExitRecord, Leave, LoopHead, Lowered, Op, Operand, Step, Storage,
};
use crate::lower::place_forward_tokens;
use crate::names;
use crate::reuse::replay;

/// Emits the forward sweep, saving what the reverse sweep restores.
pub(super) struct Forward<'a> {
    pub lowered: &'a Lowered,
    pub saved: &'a HashMap<String, Storage>,
    /// The rolled-back arrays, whose stores save the element they overwrite.
    pub rollback: &'a [String],
    /// The tapes on the stack, with their capacities (they need no `reserve`).
    pub fixed: &'a HashMap<Ident, usize>,
    pub real: &'a TokenStream,
    /// The passive counters saved at the end of their declaring block.
    pub counters: &'a HashMap<usize, Vec<Ident>>,
}

impl Forward<'_> {
    pub fn block(&self, block: &Block) -> TokenStream {
        let mut out = TokenStream::new();
        for (_, step) in &block.steps {
            self.step(step, &mut out);
            for name in defined_names(self.lowered, step) {
                out.extend(self.save(&name));
            }
        }
        for counter in self.counters.get(&block_key(block)).into_iter().flatten() {
            out.extend(self.save(counter));
        }
        out
    }

    /// The tapes written by one execution of `block`: its own steps and
    /// its branches, not nested loop bodies (those reserve for themselves);
    /// a rolled-back array's store writes its undo tape, and the block
    /// saves the counters it declares.
    fn body_tapes(&self, block: &Block, out: &mut Vec<Ident>) {
        self.collect_tapes(block, false, out);
        out.sort_by_key(|tape| tape.to_string());
        out.dedup();
    }

    /// Every heap tape written anywhere in `block`, nested loops included.
    fn subtree_tapes(&self, block: &Block, out: &mut Vec<Ident>) {
        self.collect_tapes(block, true, out);
        out.retain(|tape| !self.fixed.contains_key(tape));
        out.sort_by_key(|tape| tape.to_string());
        out.dedup();
    }

    /// The tapes of [`Self::body_tapes`], unsorted, and with `nested` those
    /// of nested loops and bodies too (each loop's per-iteration exit
    /// record among them).
    fn collect_tapes(&self, block: &Block, nested: bool, out: &mut Vec<Ident>) {
        for (_, step) in &block.steps {
            for name in defined_names(self.lowered, step) {
                let key = name.to_string();
                if self.saved.get(&key) == Some(&Storage::Tape) {
                    out.push(names::tape(&key));
                }
            }
            match step {
                Step::Store { place, .. } => {
                    let base = place.base.to_string();
                    if self.rollback.contains(&base) {
                        out.push(names::undo_tape(&base));
                    }
                }
                Step::If { then, els, .. } => {
                    self.collect_tapes(then, nested, out);
                    self.collect_tapes(els, nested, out);
                }
                Step::Match { arms, .. } => {
                    for (_, arm) in arms {
                        self.collect_tapes(arm, nested, out);
                    }
                }
                Step::Loop { id, body, .. } if nested => {
                    if let ExitRecord::PerIteration(name) = &self.lowered.loops[*id].exits {
                        out.push(names::tape(&name.to_string()));
                    }
                    self.collect_tapes(body, nested, out);
                }
                Step::Body(body) if nested => self.collect_tapes(body, nested, out),
                _ => {}
            }
        }
        for counter in self.counters.get(&block_key(block)).into_iter().flatten() {
            let key = counter.to_string();
            if self.saved.get(&key) == Some(&Storage::Tape) {
                out.push(names::tape(&key));
            }
        }
    }

    /// For a loop whose iterator knows its length (`hint`): the tapes its
    /// body writes beyond those reserved per iteration (`direct`) get,
    /// once the first iteration is done, room for the remaining iterations
    /// at the first one's rate. A regular nest then grows each tape once
    /// instead of doubling it over and over (each doubling a copy and,
    /// past the allocator's threshold, fresh pages).
    fn growth(
        &self,
        id: usize,
        body: &Block,
        direct: &[Ident],
        hint: &Ident,
    ) -> (TokenStream, TokenStream) {
        let mut tapes = Vec::new();
        self.subtree_tapes(body, &mut tapes);
        tapes.retain(|tape| !direct.contains(tape));
        if tapes.is_empty() {
            return (TokenStream::new(), TokenStream::new());
        }
        let count = &self.lowered.loops[id].count;
        let starts: Vec<Ident> = (0..tapes.len())
            .map(|index| format_ident!("__s{}_{}", id, index))
            .collect();
        let before = quote!(#(let #starts = #tapes.len();)*);
        let after = quote!(
            if #count == 1 {
                let __rest = #hint.saturating_sub(1);
                #(#tapes.reserve((#tapes.len() - #starts).saturating_mul(__rest));)*
            }
        );
        (before, after)
    }

    /// Saves `name` if the reverse sweep restores it.
    fn save(&self, name: &Ident) -> TokenStream {
        let key = name.to_string();
        let value = if names::is_snapshot(&key) {
            name.to_token_stream()
        } else {
            quote!(::core::clone::Clone::clone(&#name))
        };
        match self.saved.get(&key) {
            Some(Storage::Tape) => {
                let tape = names::tape(&key);
                quote!(#tape.push(#value);)
            }
            Some(Storage::Slot) => {
                let slot = names::slot(&key);
                quote!(#slot = ::core::option::Option::Some(#value);)
            }
            Some(Storage::Direct) | None => TokenStream::new(),
        }
    }

    fn step(&self, step: &Step, out: &mut TokenStream) {
        let lowered = self.lowered;
        let t = |operand: &Operand| lowered.operand_tokens(operand);
        match step {
            Step::Const { name, ty, expr } => {
                let ty = ty.as_ref().map(|ty| quote!(: #ty));
                out.extend(quote!(let #name #ty = #expr;));
            }
            Step::Effect(expr) => out.extend(quote!(#expr;)),
            Step::Active { var, op } => {
                let name = &lowered.vars[*var];
                let value = match op {
                    Op::Add(a, b) => {
                        let (a, b) = (t(a), t(b));
                        quote!(#a + #b)
                    }
                    Op::Sub(a, b) => {
                        let (a, b) = (t(a), t(b));
                        quote!(#a - #b)
                    }
                    Op::Mul(a, b) => {
                        let (a, b) = (t(a), t(b));
                        quote!(#a * #b)
                    }
                    Op::Div(a, b) => {
                        let (a, b) = (t(a), t(b));
                        quote!(#a / #b)
                    }
                    Op::Neg(a) => {
                        let a = t(a);
                        quote!(-#a)
                    }
                    Op::Call { rule, args } => {
                        let function = format_ident!("{}", rule.name);
                        let args = args.iter().map(t);
                        let real = self.real;
                        quote!(#real::#function(#(#args),*))
                    }
                    Op::Load(place) => place_forward_tokens(place),
                    Op::Read(cell) => lowered.cells[*cell].to_token_stream(),
                };
                out.extend(quote!(let #name = #value;));
            }
            Step::Cell { cell, init } => {
                let (name, init) = (&lowered.cells[*cell], t(init));
                out.extend(quote!(let mut #name = #init;));
            }
            Step::Write { cell, value } => {
                let (name, value) = (&lowered.cells[*cell], t(value));
                out.extend(quote!(#name = #value;));
            }
            Step::Store { place, value } => {
                let (target, value) = (place_forward_tokens(place), t(value));
                let base = place.base.to_string();
                if self.rollback.contains(&base) {
                    let tape = names::undo_tape(&base);
                    out.extend(quote!(#tape.push(::core::clone::Clone::clone(&#target));));
                }
                out.extend(quote!(#target = #value;));
            }
            Step::PassiveCell { name, init } => {
                if init.is_empty() {
                    out.extend(quote!(let mut #name;));
                } else {
                    out.extend(quote!(let mut #name = #init;));
                }
            }
            Step::PassiveWrite { name, value } => out.extend(quote!(#name = #value;)),
            Step::Push { place, value, .. } => {
                let (target, value) = (place_forward_tokens(place), t(value));
                out.extend(quote!(#target.push(#value);));
            }
            Step::Array {
                name, zero, init, ..
            } => out.extend(quote!(
                let mut #name = #init;
                let #zero = ::causalgrad::Differentiable::zero_tangent(&#name);
            )),
            Step::Call {
                var,
                pullback,
                callee,
                primal,
                receiver,
                args,
            } => {
                let value = &lowered.vars[*var];
                if step.recomputes() {
                    for arg in args {
                        if let CallArg::Place {
                            place,
                            snapshot: Some(copy),
                            ..
                        } = arg
                        {
                            let buffer = place_forward_tokens(place);
                            out.extend(quote!(let #copy = ::core::clone::Clone::clone(&#buffer);));
                        }
                    }
                    let call = lowered.call_tokens(primal, receiver.as_ref(), args, false);
                    out.extend(quote!(let #value = #call;));
                } else {
                    let call = lowered.call_tokens(callee, receiver.as_ref(), args, false);
                    out.extend(quote!(let (#value, #pullback) = #call;));
                }
            }
            Step::If { flag, then, els } => {
                let (then, els) = (self.block(then), self.block(els));
                out.extend(quote!(if #flag { #then } else { #els }));
            }
            Step::Match {
                flag,
                scrutinee,
                arms,
            } => {
                let arms = arms.iter().enumerate().map(|(index, (pattern, block))| {
                    let body = self.block(block);
                    quote!(#pattern => { #flag = #index; #body })
                });
                out.extend(quote!(
                    let mut #flag: usize = 0;
                    match #scrutinee { #(#arms)* }
                ));
            }
            Step::Loop { id, head, body } => {
                let info = &lowered.loops[*id];
                let (label, count) = (&info.label, &info.count);
                let body_block = body;
                let body = self.block(body);
                // Tapes written once per iteration get their room up front
                // when the iterator knows its length.
                let mut reserve = TokenStream::new();
                let replayed = replay(lowered, *id, head);
                let iter_override = replayed.as_ref().map(|replay| {
                    let (start, end) = names::bounds(*id);
                    let (lo, hi) = (&replay.start, &replay.end);
                    reserve.extend(quote!(let #start = #lo; let #end = #hi;));
                    if replay.closed {
                        quote!(#start..=#end)
                    } else {
                        quote!(#start..#end)
                    }
                });
                let mut grow_after = TokenStream::new();
                let head = match head {
                    LoopHead::For { pat, iter } => {
                        let iter = iter_override.as_ref().unwrap_or(iter);
                        let iterator = format_ident!("__iter{}", id);
                        let hint = format_ident!("__hint{}", id);
                        let mut tapes = Vec::new();
                        self.body_tapes(body_block, &mut tapes);
                        if let ExitRecord::PerIteration(name) = &info.exits {
                            tapes.push(names::tape(&name.to_string()));
                        }
                        tapes.retain(|tape| !self.fixed.contains_key(tape));
                        let (grow_before, after) = self.growth(*id, body_block, &tapes, &hint);
                        if tapes.is_empty() && grow_before.is_empty() {
                            quote!(for #pat in #iter)
                        } else {
                            grow_after = after;
                            reserve.extend(quote!(
                                let #iterator = ::core::iter::IntoIterator::into_iter(#iter);
                                let #hint = ::core::iter::Iterator::size_hint(&#iterator).0;
                                #(#tapes.reserve(#hint);)*
                                #grow_before
                            ));
                            quote!(for #pat in #iterator)
                        }
                    }
                    LoopHead::While { cond } => quote!(while #cond),
                    LoopHead::Loop => quote!(loop),
                };
                let (declare_exit, normal_end) = match &info.exits {
                    ExitRecord::None => (TokenStream::new(), TokenStream::new()),
                    ExitRecord::Last(last) => (quote!(let mut #last: u32 = 0;), TokenStream::new()),
                    ExitRecord::PerIteration(name) => {
                        let tape = names::tape(&name.to_string());
                        (TokenStream::new(), quote!(#tape.push(0u32);))
                    }
                };
                out.extend(quote!(
                    let mut #count: usize = 0;
                    #declare_exit
                    #reserve
                    #label: #head {
                        #count += 1;
                        #body
                        #normal_end
                        #grow_after
                    }
                ));
            }
            Step::Body(block) => {
                let body = self.block(block);
                out.extend(quote!(
                    let mut __x0: u32 = 0;
                    '__body: { #body }
                ));
            }
            Step::Exit {
                kind,
                target,
                sets,
                leaves,
            } => {
                for (loop_id, code) in sets {
                    if *loop_id == 0 {
                        out.extend(quote!(__x0 = #code;));
                        continue;
                    }
                    match &lowered.loops[*loop_id].exits {
                        ExitRecord::PerIteration(name) => {
                            let tape = names::tape(&name.to_string());
                            out.extend(quote!(#tape.push(#code);));
                        }
                        ExitRecord::Last(last) => out.extend(quote!(#last = #code;)),
                        ExitRecord::None => {}
                    }
                }
                for leave in leaves {
                    match leave {
                        Leave::Loop(id) => {
                            let info = &lowered.loops[*id];
                            out.extend(self.save(&info.count));
                            if let ExitRecord::Last(last) = &info.exits {
                                out.extend(self.save(last));
                            }
                        }
                        Leave::Match { flag, .. } => out.extend(self.save(flag)),
                    }
                }
                let label = &lowered.loops[*target].label;
                out.extend(match kind {
                    ExitKind::Continue => quote!(continue #label;),
                    ExitKind::Break | ExitKind::Return => quote!(break #label;),
                });
            }
        }
    }
}
