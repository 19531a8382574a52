//! Passive counters the reverse sweep runs backwards instead of taping
//! their reads.
//!
//! A passive variable stepped by a constant inside loops (`lidx += 1` in
//! ADBench's mixture, an index into a packed triangle) is read once per
//! inner iteration; taping each read costs a tape entry per iteration.
//! Tapenade's rule instead: the forward sweep saves the counter once, at
//! the end of the block that declares it, and the reverse sweep, entering
//! that block, takes the saved value and undoes each step
//! (`lidx = lidx - 1`) where it re-enters the block of the step, before
//! the reads there are recomputed from the counter.
//!
//! A counter qualifies when
//! - every write to it is `c = c + e` or `c = c - e`, with `e` free of
//!   mutable locals and of names bound in the writing block;
//! - it is written only in blocks nested in (not equal to) its declaring
//!   block, and read only by constants of those blocks that come before
//!   the block's first write (so undoing the block's steps at the start of
//!   its reverse gives the value those constants read);
//! - nothing else mentions it (no loop head, no nested block of a writing
//!   block), no exit leaves its declaring block early, and every loop
//!   between the declaration and a write is replayed (it runs the same
//!   iterations backwards).

use std::collections::{HashMap, HashSet};

use proc_macro2::{Delimiter, Ident, Spacing, TokenStream, TokenTree};
use quote::quote;

use crate::ir::{Block, Lowered, Step};
use crate::reuse::replay;

/// The counters of a function and where the reverse sweep handles them.
#[derive(Default)]
pub(crate) struct Counters {
    /// The counters' names.
    pub names: HashSet<String>,
    /// Per declaring block (by address): the counters saved at its end.
    pub declared: HashMap<usize, Vec<Ident>>,
    /// Per writing block (by address): the statements undoing its writes,
    /// last write first.
    pub undo: HashMap<usize, TokenStream>,
}

/// The identity of a block, stable while the IR is borrowed.
pub(crate) fn block_key(block: &Block) -> usize {
    block as *const Block as usize
}

/// A write `name = name ± e`: its inverse `name = name ∓ e`.
struct Write {
    block: usize,
    inverse: TokenStream,
}

impl Counters {
    pub fn new(lowered: &Lowered) -> Self {
        let mut counters = Counters::default();
        find(lowered, &lowered.body, &mut counters);
        counters
    }
}

/// Finds the counters declared in `block` and in the blocks it nests.
fn find(lowered: &Lowered, block: &Block, counters: &mut Counters) {
    for (_, step) in &block.steps {
        if let Step::PassiveCell { name, .. } = step {
            if let Some(writes) = qualifies(lowered, block, name) {
                let key = name.to_string();
                counters.names.insert(key);
                counters
                    .declared
                    .entry(block_key(block))
                    .or_default()
                    .push(name.clone());
                for write in writes {
                    let undo = counters.undo.entry(write.block).or_default();
                    let mut reversed = write.inverse;
                    reversed.extend(std::mem::take(undo));
                    *undo = reversed;
                }
            }
        }
        for nested in nested_blocks(step) {
            find(lowered, nested, counters);
        }
    }
}

/// The blocks a step holds.
fn nested_blocks(step: &Step) -> Vec<&Block> {
    match step {
        Step::If { then, els, .. } => vec![then, els],
        Step::Match { arms, .. } => arms.iter().map(|(_, arm)| arm).collect(),
        Step::Loop { body, .. } | Step::Body(body) => vec![body],
        _ => Vec::new(),
    }
}

/// The writes of the counter `name` declared in `declaring`, if it
/// qualifies.
fn qualifies(lowered: &Lowered, declaring: &Block, name: &Ident) -> Option<Vec<Write>> {
    let key = name.to_string();
    let mut writes = Vec::new();
    let mut reads = 0usize;
    for (_, step) in &declaring.steps {
        match step {
            Step::PassiveCell { name: declared, .. } if *declared == *name => {}
            Step::Exit { .. } => return None,
            _ => {
                for nested in nested_blocks(step) {
                    let replayed = match step {
                        Step::Loop { id, head, .. } => replay(lowered, *id, head).is_some(),
                        _ => true,
                    };
                    inner(lowered, nested, &key, replayed, &mut writes, &mut reads)?;
                }
                if let Step::Loop { head, .. } = step {
                    if mentions(head_tokens(head), &key) {
                        return None;
                    }
                }
                if !nested_blocks(step).is_empty() {
                    continue;
                }
                if mentions(step_tokens(step), &key) {
                    return None;
                }
            }
        }
    }
    (reads > 0 && !writes.is_empty()).then_some(writes)
}

/// Checks a block nested in the declaring one (`replayed`: every loop
/// between them is replayed), collecting its writes and counting its reads.
fn inner(
    lowered: &Lowered,
    block: &Block,
    key: &str,
    replayed: bool,
    writes: &mut Vec<Write>,
    reads: &mut usize,
) -> Option<()> {
    let bound: HashSet<String> = block
        .steps
        .iter()
        .filter_map(|(_, step)| match step {
            Step::Const { name, .. } => Some(name.to_string()),
            _ => None,
        })
        .collect();
    let mut written = false;
    for (_, step) in &block.steps {
        match step {
            Step::Exit { .. } => return None,
            Step::PassiveWrite { name, value } if name == key => {
                if !replayed {
                    return None;
                }
                let inverse = inverse(name, value.clone(), &bound)?;
                writes.push(Write {
                    block: block_key(block),
                    inverse,
                });
                written = true;
            }
            Step::Const { expr, .. } if mentions(expr.clone(), key) => {
                if written || !block_writes(block, key) {
                    return None;
                }
                *reads += 1;
            }
            _ => {
                let nested = nested_blocks(step);
                if nested.is_empty() {
                    if mentions(step_tokens(step), key) {
                        return None;
                    }
                    continue;
                }
                for inner_block in nested {
                    let replayed = replayed
                        && match step {
                            Step::Loop { id, head, .. } => replay(lowered, *id, head).is_some(),
                            _ => true,
                        };
                    let before = (writes.len(), *reads);
                    inner(lowered, inner_block, key, replayed, writes, reads)?;
                    if (writes.len(), *reads) != before && block_writes(block, key) {
                        // A writing block must not nest other uses.
                        return None;
                    }
                }
                if let Step::Loop { head, .. } = step {
                    if mentions(head_tokens(head), key) {
                        return None;
                    }
                }
            }
        }
    }
    Some(())
}

/// Whether `block` writes the counter `key` directly.
fn block_writes(block: &Block, key: &str) -> bool {
    block
        .steps
        .iter()
        .any(|(_, step)| matches!(step, Step::PassiveWrite { name, .. } if name == key))
}

/// The inverse of `name = value` when `value` is `name + e` or `name - e`
/// with `e` a single term: no top-level `+`, `-` or comparison, no name
/// bound in the writing block (`bound`), no mutable local, no call.
fn inverse(name: &Ident, value: TokenStream, bound: &HashSet<String>) -> Option<TokenStream> {
    let trees: Vec<TokenTree> = value.into_iter().collect();
    let (first, op, rest) = match trees.as_slice() {
        [TokenTree::Ident(first), TokenTree::Punct(op), rest @ ..] if !rest.is_empty() => {
            (first, op, rest)
        }
        _ => return None,
    };
    if first != name || op.spacing() != Spacing::Alone {
        return None;
    }
    let flipped = match op.as_char() {
        '+' => quote!(-),
        '-' => quote!(+),
        _ => return None,
    };
    let term: TokenStream = rest.iter().cloned().collect();
    let top_level_sum = rest.iter().any(|tree| {
        matches!(tree, TokenTree::Punct(punct) if matches!(punct.as_char(), '+' | '-' | '<' | '>' | '=' | '!' | '&' | '|' | '^' | '?' | '.'))
    });
    if top_level_sum || !plain(term.clone(), bound) {
        return None;
    }
    Some(quote!(#name = #name #flipped #term;))
}

/// Whether `tokens` name no mutable local, no name of `bound`, call
/// nothing and hold no block.
fn plain(tokens: TokenStream, bound: &HashSet<String>) -> bool {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    trees.iter().enumerate().all(|(index, tree)| match tree {
        TokenTree::Ident(ident) => {
            let name = ident.to_string();
            let mutable = ["__q", "__m", "__a", "__y", "__pb"]
                .iter()
                .any(|prefix| name.starts_with(prefix));
            let call = matches!(
                trees.get(index + 1),
                Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis
            ) || matches!(trees.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
            !mutable && !call && !bound.contains(&name)
        }
        TokenTree::Group(group) => {
            group.delimiter() != Delimiter::Brace && plain(group.stream(), bound)
        }
        _ => true,
    })
}

/// Whether `tokens` mention the identifier `key`.
fn mentions(tokens: TokenStream, key: &str) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == key,
        TokenTree::Group(group) => mentions(group.stream(), key),
        _ => false,
    })
}

/// The tokens of a loop head.
fn head_tokens(head: &crate::ir::LoopHead) -> TokenStream {
    match head {
        crate::ir::LoopHead::For { pat, iter } => quote!(#pat #iter),
        crate::ir::LoopHead::While { cond } => cond.clone(),
        crate::ir::LoopHead::Loop => TokenStream::new(),
    }
}

/// The passive tokens of a step without nested blocks, where a counter
/// could be mentioned (active steps name only values and constants).
fn step_tokens(step: &Step) -> TokenStream {
    match step {
        Step::Const { expr, .. } | Step::Effect(expr) => expr.clone(),
        Step::PassiveCell { name, init } => quote!(#name #init),
        Step::PassiveWrite { name, value } => quote!(#name #value),
        Step::Call { args, .. } => {
            let mut tokens = TokenStream::new();
            for arg in args {
                if let crate::ir::CallArg::Passive(passive) = arg {
                    tokens.extend(passive.clone());
                }
            }
            tokens
        }
        _ => TokenStream::new(),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// The expansion of `item`, as text.
    fn expanded(attr: proc_macro2::TokenStream, item: syn::ItemFn) -> String {
        crate::expand(attr, &item).to_string()
    }

    #[test]
    fn a_stepped_index_is_saved_once_per_declaring_block() {
        let item = syn::parse_quote! {
            fn f(l: &[f64], v: &[f64]) -> f64 {
                let d = v.len();
                let mut total = 0.0;
                for i in 0..d {
                    let mut idx = i * d;
                    for j in 0..d {
                        total += l[idx] * v[j];
                        idx += 1;
                    }
                }
                total
            }
        };
        let code = expanded(quote!(), item);
        // One tape for the counter (`__q…`), none for its reads (`__c…`).
        assert!(code.contains("__t___q"), "{code}");
        assert!(!code.contains("__t___c"), "{code}");
        assert!(code.contains("- (1)"), "{code}");
    }

    #[test]
    fn a_counter_read_after_its_step_is_taped() {
        let item = syn::parse_quote! {
            fn f(l: &[f64], v: &[f64]) -> f64 {
                let d = v.len();
                let mut total = 0.0;
                for i in 0..d {
                    let mut idx = i * d;
                    for j in 0..d {
                        idx += 1;
                        total += l[idx] * v[j];
                    }
                }
                total
            }
        };
        let code = expanded(quote!(), item);
        assert!(!code.contains("__t___q"), "{code}");
        assert!(code.contains("__t___c"), "{code}");
    }
}
