//! The reverse of a block: its exit groups, each nested in the previous,
//! with the accumulators they declare and the values they restore.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{quote, ToTokens};

use super::analysis::Analysis;
use super::defined_names;
use crate::counters::block_key;
use crate::increments::Increments;
use crate::ir::{Block, LoopId, Lowered, Operand, Step, Storage, VarId};
use crate::names;
use crate::reuse::Reuse;
use crate::rollback::Candidates;
use crate::rules::Term;

/// The state of one reverse sweep.
pub(super) struct Sweep<'a> {
    pub lowered: &'a Lowered,
    pub analysis: &'a Analysis,
    pub real: &'a TokenStream,
    pub seeds: &'a [TokenStream],
    /// The tangents of the aggregate arguments: `&mut` reborrows of the
    /// caller's gradient.
    pub arguments: HashSet<Ident>,
    /// The current name of each SSA value's cotangent, or its accumulator.
    pub cotangents: HashMap<VarId, TokenStream>,
    pub saved: HashMap<String, Storage>,
    pub reuse: Reuse,
    pub increments: &'a Increments,
    /// The locals holding cotangents of elements fixed across the
    /// iterations of an enclosing reverse loop, by the element's cotangent.
    pub hoisted: HashMap<String, Ident>,
    pub candidates: &'a Candidates,
    /// The arrays rolled back in this sweep.
    pub rollback: HashSet<String>,
    /// The loads read again from a rolled-back array.
    pub reread: RefCell<HashSet<VarId>>,
}

impl Sweep<'_> {
    pub fn zero(&self) -> TokenStream {
        let real = self.real;
        quote!(#real::from_f64(0.0))
    }

    /// The reverse of a block: its exit groups, each nested in the previous.
    pub fn block(&mut self, block: &Block, top: bool) -> TokenStream {
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
        self.counters(block, region)
    }

    /// `region` with the passive counters of `block` handled: the writes
    /// it reverses undone first, and the counters it declares restored
    /// before that (see [`crate::counters`]).
    fn counters(&mut self, block: &Block, region: TokenStream) -> TokenStream {
        let key = block_key(block);
        let undo = self.reuse.counters.undo.get(&key).cloned();
        let mut restores = TokenStream::new();
        for name in self.reuse.counters.declared.get(&key).into_iter().flatten() {
            if block.storage != Storage::Direct {
                self.saved.insert(name.to_string(), block.storage);
            }
            restores.extend(restore_mut(name, block.storage));
        }
        quote!(#restores #undo #region)
    }

    /// `__ec == 0 || __ec >= start`, or nothing when every exit comes later.
    fn guard(&self, loop_id: LoopId, start: u32) -> Option<TokenStream> {
        if loop_id == usize::MAX || start <= 1 {
            return None;
        }
        let code = names::exit_code(loop_id);
        Some(quote!(#code == 0 || #code >= #start))
    }
}

/// A saved passive counter, bound mutably so the sweep can run it back.
fn restore_mut(name: &Ident, storage: Storage) -> TokenStream {
    match storage {
        Storage::Direct => quote!(let mut #name = ::core::clone::Clone::clone(&#name);),
        Storage::Tape => {
            let key = name.to_string();
            let (tape, cursor) = (names::tape(&key), names::cursor(&key));
            quote!(#cursor -= 1; let mut #name = ::core::clone::Clone::clone(&#tape[#cursor]);)
        }
        Storage::Slot => {
            let slot = names::slot(&name.to_string());
            quote!(let mut #name = match &#slot {
                ::core::option::Option::Some(value) => ::core::clone::Clone::clone(value),
                ::core::option::Option::None => unreachable!(),
            };)
        }
    }
}

pub(super) fn restore(name: &Ident, storage: Storage) -> TokenStream {
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
