//! The errors of lowering: unsupported constructs, with what to do instead.

use super::*;

/// Constructs rejected wherever they appear, with what to do instead.
pub(super) fn unsupported(expr: &Expr) -> Option<syn::Error> {
    let no = |node: &dyn ToTokens, what: &str, instead: &str| {
        Some(syn::Error::new_spanned(
            node,
            format!("{what} cannot be differentiated by #[differentiable]; {instead}"),
        ))
    };
    match expr {
        Expr::Macro(mac) if !mac.mac.path.is_ident("vec") => Some(macro_error(&mac.mac.path)),
        Expr::Unsafe(block) => Some(unsafe_error(block.unsafe_token.span())),
        Expr::Try(e) => no(
            e,
            "the `?` operator",
            "handle the error outside the function",
        ),
        Expr::Async(e) => no(
            e,
            "an `async` block",
            "compute the value outside the function",
        ),
        Expr::Await(e) => no(e, "`.await`", "compute the value outside the function"),
        Expr::Block(e) if e.label.is_some() => {
            no(e, "a labelled block", "use a loop with `break`, or `if`")
        }
        _ => None,
    }
}

pub(super) fn macro_error(path: &syn::Path) -> syn::Error {
    syn::Error::new_spanned(
        path,
        format!(
            "macros such as `{}!` cannot be differentiated: #[differentiable] cannot see \
             inside them; compute the value outside the function and pass it in, or move \
             the macro out of the function",
            path.to_token_stream().to_string().replace(' ', "")
        ),
    )
}

pub(super) fn unsafe_error(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "`unsafe` code cannot be differentiated: move it out of the #[differentiable] function",
    )
}

pub(super) fn nested_assignment_error(node: &dyn ToTokens) -> syn::Error {
    syn::Error::new_spanned(
        node,
        "assignment inside an expression is not supported by #[differentiable]; \
         write the assignment as its own statement",
    )
}

pub(super) fn pattern_error(node: &dyn ToTokens) -> syn::Error {
    syn::Error::new_spanned(
        node,
        "#[differentiable] supports only `let name = ..` and `let name: Type = ..`; \
         bind each value to its own name",
    )
}

pub(super) fn unassigned_error(ident: &Ident) -> syn::Error {
    syn::Error::new(
        ident.span(),
        format!("`{ident}` is used before a value is assigned to it"),
    )
}

pub(super) fn loop_pattern_error(node: &dyn ToTokens) -> syn::Error {
    syn::Error::new_spanned(
        node,
        "this loop pattern does not match its iterator; #[differentiable] loops over \
         `xs.iter()`, `.zip(..)` and `.enumerate()` bind names or tuples of names",
    )
}

pub(super) fn unknown_method_error(method: &Ident) -> syn::Error {
    syn::Error::new(
        method.span(),
        format!(
            "`{method}` is not differentiable: it is not an elementary function of `Real` \
             (see the list in the causalgrad docs). Write `no_grad(..)` around the value to \
             use it as a constant, or compute it with differentiable operations"
        ),
    )
}
