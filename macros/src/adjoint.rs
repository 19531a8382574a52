//! The reverse sweep: adjoint accumulation over the A-normal form.
//!
//! Steps are visited last to first. Every use of a value comes after its
//! definition, so when a step is reached its result's cotangent is complete
//! and can be pushed to the step's operands. Cotangents are immutable
//! bindings: the first contribution to `x` is `let __dx = term;`, later ones
//! shadow it with `let __dx = __dx + term;`. Values whose cotangent is never
//! created (they do not reach the output) cost nothing, and no zero is ever
//! added.

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, ToTokens};

use crate::lower::{Lowered, Op, Operand, Step, VarId};
use crate::rules::{Derivative, RuleCtx, Term};

/// The emitted reverse sweep.
pub(crate) struct Reverse {
    /// Statements computing the input cotangents from `seed`.
    pub body: TokenStream,
    /// The cotangent of each active input, in argument order.
    pub grads: Vec<TokenStream>,
}

/// Builds the reverse sweep of `lowered`, seeded by the name `seed`.
///
/// `real` is `<F as ::causalgrad::Real>`; it spells the zero of inputs the
/// output does not depend on.
pub(crate) fn reverse_sweep(lowered: &Lowered, seed: &Ident, real: &TokenStream) -> Reverse {
    let mut sweep = Sweep {
        lowered,
        cotangents: HashMap::new(),
        body: TokenStream::new(),
    };
    if let Operand::Var(output) = lowered.output {
        sweep.cotangents.insert(output, seed.to_token_stream());
    }
    for step in lowered.steps.iter().rev() {
        let Step::Active { var, op } = step else {
            continue;
        };
        let Some(g) = sweep.cotangents.get(var).cloned() else {
            continue;
        };
        let y = lowered.name(*var).to_token_stream();
        sweep.propagate(op, &y, &g, real);
    }
    let grads = lowered
        .inputs
        .iter()
        .map(|input| match sweep.cotangents.get(input) {
            Some(cotangent) => cotangent.clone(),
            None => quote!(#real::from_f64(0.0)),
        })
        .collect();
    Reverse {
        body: sweep.body,
        grads,
    }
}

struct Sweep<'a> {
    lowered: &'a Lowered,
    /// The current name of each value's cotangent.
    cotangents: HashMap<VarId, TokenStream>,
    body: TokenStream,
}

impl Sweep<'_> {
    fn propagate(&mut self, op: &Op, y: &TokenStream, g: &TokenStream, real: &TokenStream) {
        let tokens = |operand: &Operand| self.lowered.operand_tokens(operand);
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
                    r: real,
                };
                args.iter().cloned().zip(adjoint(&ctx)).collect()
            }
        };
        for (operand, term) in terms {
            if let Operand::Var(var) = operand {
                self.accumulate(var, term);
            }
        }
    }

    fn accumulate(&mut self, var: VarId, term: Term) {
        let name = cotangent_name(self.lowered.name(var));
        let Term { negate, expr } = term;
        let value = match (self.cotangents.get(&var), negate) {
            (Some(current), false) => quote!(#current + #expr),
            (Some(current), true) => quote!(#current - #expr),
            (None, false) => expr,
            (None, true) => quote!(-#expr),
        };
        self.body.extend(quote!(let #name = #value;));
        self.cotangents.insert(var, name.to_token_stream());
    }
}

/// `__d_x` for an argument `x`, `__d__v3` for an intermediate `__v3`.
fn cotangent_name(value: &Ident) -> Ident {
    format_ident!("__d_{}", value)
}
