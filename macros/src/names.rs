//! The names generated code uses: the storage of the reverse sweep (tapes,
//! slots, cursors, cotangents, exit codes, replayed loop bounds), and the
//! path of the runtime crate, `::causalgrad` unless
//! `#[differentiable(crate = path)]` names a re-export.

use proc_macro2::{Ident, Spacing, TokenStream, TokenTree};
use quote::format_ident;

use crate::ir::LoopId;

/// The prefix of the copies of local buffers saved for calls that make
/// their pullback in the reverse sweep (`__y3`).
pub(crate) const SNAPSHOT: &str = "y";

/// Whether `name` is such a copy: the forward sweep moves it into its
/// storage instead of cloning it.
pub(crate) fn is_snapshot(name: &str) -> bool {
    name.strip_prefix("__")
        .and_then(|rest| rest.strip_prefix(SNAPSHOT))
        .is_some_and(|number| number.bytes().all(|byte| byte.is_ascii_digit()))
}

/// The tape of a value saved once per loop iteration.
pub(crate) fn tape(name: &str) -> Ident {
    format_ident!("__t_{}", name)
}

/// The tape of the elements the stores to a rolled-back local array
/// overwrite (see `rollback`).
pub(crate) fn undo_tape(array: &str) -> Ident {
    format_ident!("__t_undo{}", array)
}

/// The read position of an array's [`undo_tape`] in the reverse sweep.
pub(crate) fn undo_cursor(array: &str) -> Ident {
    format_ident!("__k_undo{}", array)
}

/// The `Option` slot of a value saved in a branch outside loops.
pub(crate) fn slot(name: &str) -> Ident {
    format_ident!("__s_{}", name)
}

/// The read position of a tape in the reverse sweep.
pub(crate) fn cursor(name: &str) -> Ident {
    format_ident!("__k_{}", name)
}

/// `__d_x` for an argument `x`, `__d___v3` for an intermediate `__v3`.
pub(crate) fn cotangent(value: &Ident) -> Ident {
    format_ident!("__d_{}", value)
}

/// The exit code of the current iteration of a loop (0: the function body).
pub(crate) fn exit_code(loop_id: LoopId) -> Ident {
    format_ident!("__ec{}", loop_id)
}

/// The bounds of a replayed loop's range.
pub(crate) fn bounds(loop_id: LoopId) -> (Ident, Ident) {
    (
        format_ident!("__lo{}", loop_id),
        format_ident!("__hi{}", loop_id),
    )
}

/// Keywords after which `::causalgrad` starts a path (after any other
/// identifier it continues one: `other::causalgrad`).
const KEYWORDS: &[&str] = &[
    "impl", "for", "as", "dyn", "where", "in", "return", "let", "mut", "move", "else", "if",
    "match", "while", "const", "static", "type", "use", "pub",
];

/// `tokens` with every path starting `::causalgrad` made to start with
/// `krate` instead (a crate re-exporting causalgrad).
pub(crate) fn with_runtime(tokens: TokenStream, krate: &TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    let mut index = 0;
    while index < trees.len() {
        let leading = matches!(
            (&trees[index], trees.get(index + 1), trees.get(index + 2)),
            (TokenTree::Punct(a), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(name)))
                if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
                    && name == "causalgrad"
        ) && !matches!(
            index.checked_sub(1).map(|before| &trees[before]),
            Some(TokenTree::Ident(before)) if !KEYWORDS.iter().any(|keyword| before == keyword)
        );
        if leading {
            out.extend(krate.clone());
            index += 3;
            continue;
        }
        match &trees[index] {
            TokenTree::Group(group) => {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), with_runtime(group.stream(), krate));
                inner.set_span(group.span());
                out.extend([TokenTree::Group(inner)]);
            }
            other => out.extend([other.clone()]),
        }
        index += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn runtime_paths_follow_the_crate_option() {
        let tokens = quote!(impl ::causalgrad::DiffFn for f { fn g() { ::causalgrad::Real::zero(); other::causalgrad::x } });
        let rewritten = super::with_runtime(tokens, &quote!(crate::reexport));
        assert_eq!(
            rewritten.to_string(),
            quote!(impl crate::reexport::DiffFn for f { fn g() { crate::reexport::Real::zero(); other::causalgrad::x } })
                .to_string()
        );
    }
}
