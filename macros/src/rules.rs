//! The derivative table: one adjoint rule per elementary function.
//!
//! Every rule is written once, here, as the tokens of its vector-Jacobian
//! product. A rule sees the tokens of its operands (`x`, or `a`, `b`, `c`),
//! the name of its result (`y`), the incoming cotangent (`g`) and the path
//! of the numeric trait (`r`, i.e. `<F as ::causalgrad::Real>`), and returns
//! one [`Term`] per float operand. Operands are always atomic tokens (a name or a
//! literal), so the templates need no extra parentheses.
//!
//! Conventions at points where the function is not differentiable (they are
//! the subgradient choices JAX makes, and are documented on the crate root):
//! `abs'(0) = 0`; `max`/`min` split the cotangent equally on ties; `clamp`
//! passes half the cotangent to `x` and half to the bound it touches exactly;
//! `signum` has derivative zero everywhere.

use proc_macro2::TokenStream;
use quote::quote;

/// What an operand of an elementary function is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum OperandKind {
    /// A value of the function's float type (may be active).
    Float,
    /// An `i32` exponent (`powi`); never active.
    Int,
}

/// One operand's share of the cotangent: `+expr` or `-expr`.
pub(crate) struct Term {
    pub negate: bool,
    pub expr: TokenStream,
}

fn pos(expr: TokenStream) -> Term {
    Term {
        negate: false,
        expr,
    }
}

fn neg(expr: TokenStream) -> Term {
    Term { negate: true, expr }
}

/// The tokens a rule's template may refer to.
pub(crate) struct RuleCtx<'a> {
    /// Operand tokens, receiver first.
    pub args: &'a [TokenStream],
    /// The result of the elementary call.
    pub y: &'a TokenStream,
    /// The cotangent of the result.
    pub g: &'a TokenStream,
    /// `<F as ::causalgrad::Real>`.
    pub r: &'a TokenStream,
}

impl RuleCtx<'_> {
    fn x(&self) -> &TokenStream {
        &self.args[0]
    }
    fn c(&self, value: f64) -> TokenStream {
        let r = self.r;
        quote!(#r::from_f64(#value))
    }
}

/// How the reverse sweep treats an elementary function.
pub(crate) enum Derivative {
    /// Piecewise constant: the result carries no gradient.
    Zero,
    /// One term per `Float` operand, in order (`Int` operands come last).
    Adjoint(fn(&RuleCtx) -> Vec<Term>),
}

/// An elementary function with its derivative.
pub(crate) struct Rule {
    /// Method name on [`Real`](../causalgrad/trait.Real.html), e.g. `sin`.
    pub name: &'static str,
    /// Operands, receiver first.
    pub operands: &'static [OperandKind],
    pub derivative: Derivative,
}

use OperandKind::{Float as F, Int as I};

macro_rules! rules {
    ($($name:ident ($($kind:ident),*) => $deriv:expr;)*) => {
        /// The table, in the order of the crate documentation.
        pub(crate) static RULES: &[Rule] = &[
            $(Rule { name: stringify!($name), operands: &[$($kind),*], derivative: $deriv },)*
        ];
    };
}

rules! {
    powi(F, I) => Derivative::Adjoint(|k| {
        let (x, n, g, r) = (k.x(), &k.args[1], k.g, k.r);
        vec![pos(quote!(#g * #r::from_f64(::core::primitive::f64::from(#n)) * #r::powi(#x, #n - 1)))]
    });
    powf(F, F) => Derivative::Adjoint(|k| {
        let (x, p, y, g, r) = (k.x(), &k.args[1], k.y, k.g, k.r);
        let one = k.c(1.0);
        vec![
            pos(quote!(#g * #p * #r::powf(#x, #p - #one))),
            pos(quote!(#g * #y * #r::ln(#x))),
        ]
    });
    sqrt(F) => Derivative::Adjoint(|k| {
        let (y, g) = (k.y, k.g);
        vec![pos(quote!(#g / (#y + #y)))]
    });
    cbrt(F) => Derivative::Adjoint(|k| {
        let (y, g, three) = (k.y, k.g, k.c(3.0));
        vec![pos(quote!(#g / (#three * #y * #y)))]
    });
    exp(F) => Derivative::Adjoint(|k| {
        let (y, g) = (k.y, k.g);
        vec![pos(quote!(#g * #y))]
    });
    exp2(F) => Derivative::Adjoint(|k| {
        let (y, g, ln2) = (k.y, k.g, k.c(core::f64::consts::LN_2));
        vec![pos(quote!(#g * #y * #ln2))]
    });
    exp_m1(F) => Derivative::Adjoint(|k| {
        let (y, g, one) = (k.y, k.g, k.c(1.0));
        vec![pos(quote!(#g * (#y + #one)))]
    });
    ln(F) => Derivative::Adjoint(|k| {
        let (x, g) = (k.x(), k.g);
        vec![pos(quote!(#g / #x))]
    });
    log(F, F) => Derivative::Adjoint(|k| {
        let (x, b, y, g, r) = (k.x(), &k.args[1], k.y, k.g, k.r);
        vec![
            pos(quote!(#g / (#x * #r::ln(#b)))),
            neg(quote!(#g * #y / (#b * #r::ln(#b)))),
        ]
    });
    log2(F) => Derivative::Adjoint(|k| {
        let (x, g, ln2) = (k.x(), k.g, k.c(core::f64::consts::LN_2));
        vec![pos(quote!(#g / (#x * #ln2)))]
    });
    log10(F) => Derivative::Adjoint(|k| {
        let (x, g, ln10) = (k.x(), k.g, k.c(core::f64::consts::LN_10));
        vec![pos(quote!(#g / (#x * #ln10)))]
    });
    ln_1p(F) => Derivative::Adjoint(|k| {
        let (x, g, one) = (k.x(), k.g, k.c(1.0));
        vec![pos(quote!(#g / (#x + #one)))]
    });
    sin(F) => Derivative::Adjoint(|k| {
        let (x, g, r) = (k.x(), k.g, k.r);
        vec![pos(quote!(#g * #r::cos(#x)))]
    });
    cos(F) => Derivative::Adjoint(|k| {
        let (x, g, r) = (k.x(), k.g, k.r);
        vec![neg(quote!(#g * #r::sin(#x)))]
    });
    tan(F) => Derivative::Adjoint(|k| {
        let (y, g, one) = (k.y, k.g, k.c(1.0));
        vec![pos(quote!(#g * (#one + #y * #y)))]
    });
    asin(F) => Derivative::Adjoint(|k| {
        let (x, g, r, one) = (k.x(), k.g, k.r, k.c(1.0));
        vec![pos(quote!(#g / #r::sqrt(#one - #x * #x)))]
    });
    acos(F) => Derivative::Adjoint(|k| {
        let (x, g, r, one) = (k.x(), k.g, k.r, k.c(1.0));
        vec![neg(quote!(#g / #r::sqrt(#one - #x * #x)))]
    });
    atan(F) => Derivative::Adjoint(|k| {
        let (x, g, one) = (k.x(), k.g, k.c(1.0));
        vec![pos(quote!(#g / (#one + #x * #x)))]
    });
    atan2(F, F) => Derivative::Adjoint(|k| {
        // y = atan2(a, b): dy/da = b / (a² + b²), dy/db = -a / (a² + b²).
        let (a, b, g) = (k.x(), &k.args[1], k.g);
        vec![
            pos(quote!(#g * #b / (#a * #a + #b * #b))),
            neg(quote!(#g * #a / (#a * #a + #b * #b))),
        ]
    });
    sinh(F) => Derivative::Adjoint(|k| {
        let (x, g, r) = (k.x(), k.g, k.r);
        vec![pos(quote!(#g * #r::cosh(#x)))]
    });
    cosh(F) => Derivative::Adjoint(|k| {
        let (x, g, r) = (k.x(), k.g, k.r);
        vec![pos(quote!(#g * #r::sinh(#x)))]
    });
    tanh(F) => Derivative::Adjoint(|k| {
        let (y, g, one) = (k.y, k.g, k.c(1.0));
        vec![pos(quote!(#g * (#one - #y * #y)))]
    });
    asinh(F) => Derivative::Adjoint(|k| {
        let (x, g, r, one) = (k.x(), k.g, k.r, k.c(1.0));
        vec![pos(quote!(#g / #r::sqrt(#x * #x + #one)))]
    });
    acosh(F) => Derivative::Adjoint(|k| {
        let (x, g, r, one) = (k.x(), k.g, k.r, k.c(1.0));
        vec![pos(quote!(#g / #r::sqrt(#x * #x - #one)))]
    });
    atanh(F) => Derivative::Adjoint(|k| {
        let (x, g, one) = (k.x(), k.g, k.c(1.0));
        vec![pos(quote!(#g / (#one - #x * #x)))]
    });
    abs(F) => Derivative::Adjoint(|k| {
        let (x, g, r) = (k.x(), k.g, k.r);
        vec![pos(quote!(#g * #r::sign(#x)))]
    });
    signum(F) => Derivative::Zero;
    max(F, F) => Derivative::Adjoint(|k| {
        let (a, b, g, r, half) = (k.x(), &k.args[1], k.g, k.r, k.c(0.5));
        vec![
            pos(quote!(#g * (#half + #half * #r::sign(#a - #b)))),
            pos(quote!(#g * (#half - #half * #r::sign(#a - #b)))),
        ]
    });
    min(F, F) => Derivative::Adjoint(|k| {
        let (a, b, g, r, half) = (k.x(), &k.args[1], k.g, k.r, k.c(0.5));
        vec![
            pos(quote!(#g * (#half - #half * #r::sign(#a - #b)))),
            pos(quote!(#g * (#half + #half * #r::sign(#a - #b)))),
        ]
    });
    hypot(F, F) => Derivative::Adjoint(|k| {
        let (a, b, y, g) = (k.x(), &k.args[1], k.y, k.g);
        vec![pos(quote!(#g * #a / #y)), pos(quote!(#g * #b / #y))]
    });
    recip(F) => Derivative::Adjoint(|k| {
        let (y, g) = (k.y, k.g);
        vec![neg(quote!(#g * #y * #y))]
    });
    mul_add(F, F, F) => Derivative::Adjoint(|k| {
        let (a, b, g) = (k.x(), &k.args[1], k.g);
        vec![pos(quote!(#g * #b)), pos(quote!(#g * #a)), pos(quote!(#g))]
    });
    clamp(F, F, F) => Derivative::Adjoint(|k| {
        let (x, lo, hi, g, r, half) = (k.x(), &k.args[1], &k.args[2], k.g, k.r, k.c(0.5));
        vec![
            pos(quote!(#g * (#half + #half * #r::sign(#x - #lo)) * (#half - #half * #r::sign(#x - #hi)))),
            pos(quote!(#g * (#half - #half * #r::sign(#x - #lo)))),
            pos(quote!(#g * (#half + #half * #r::sign(#x - #hi)))),
        ]
    });
    sigmoid(F) => Derivative::Adjoint(|k| {
        let (y, g, one) = (k.y, k.g, k.c(1.0));
        vec![pos(quote!(#g * #y * (#one - #y)))]
    });
    softplus(F) => Derivative::Adjoint(|k| {
        let (x, g, r) = (k.x(), k.g, k.r);
        vec![pos(quote!(#g * #r::sigmoid(#x)))]
    });
}

/// The rule for a method or associated-function name, if it is elementary.
pub(crate) fn lookup(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_one_term_per_operand() {
        let r = quote!(R);
        let g = quote!(g);
        let y = quote!(y);
        for rule in RULES {
            let args: Vec<TokenStream> = (0..rule.operands.len())
                .map(|i| {
                    let name = quote::format_ident!("a{}", i);
                    quote!(#name)
                })
                .collect();
            let ctx = RuleCtx {
                args: &args,
                y: &y,
                g: &g,
                r: &r,
            };
            if let Derivative::Adjoint(f) = rule.derivative {
                let floats = rule.operands.iter().filter(|k| **k == OperandKind::Float);
                assert_eq!(f(&ctx).len(), floats.count(), "rule {}", rule.name);
            }
        }
    }

    #[test]
    fn names_are_unique_and_unary_binary_shapes_are_used() {
        let mut names: Vec<_> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
        assert_eq!(lookup("sin").unwrap().operands, &[OperandKind::Float]);
        assert_eq!(
            lookup("atan2").unwrap().operands,
            &[OperandKind::Float, OperandKind::Float]
        );
        assert!(lookup("floor").is_none());
    }
}
