//! The elementary functions a formula may call: the derivative table of
//! [`macro@crate::differentiable`] (`macros/src/rules.rs`), name for name
//! and operand for operand, so a formula and a `#[differentiable]` function
//! know the same list.
//!
//! The two tables cannot be one value: the macro's rules are templates of
//! tokens run at compile time inside a proc-macro crate (which the library
//! cannot depend on, nor it on the library), these are rules run on lanes
//! at run time. They are kept one list by a test that reads the macro's
//! table and compares its names and operand shapes with [`FUNCTIONS`]
//! (`tests/formula_corpus.rs`), and a test that differentiates a fixed
//! set of functions written both ways and compares the gradients.
//!
//! Besides the table a formula has two spellings of its own: `pow(x, p)`
//! for `powf`, and `log(x)` with one operand for `ln` (the macro's `log`
//! takes a base, as `f64::log` does; so does a formula's `log(x, b)`).

/// What an elementary function's operands are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operands {
    /// One value.
    Unary,
    /// Two values.
    Binary,
    /// Three values.
    Ternary,
    /// A value and an integer literal exponent (`powi`).
    IntegerPower,
}

impl Operands {
    /// How many operands a call takes.
    pub fn count(self) -> usize {
        match self {
            Operands::Unary => 1,
            Operands::Binary | Operands::IntegerPower => 2,
            Operands::Ternary => 3,
        }
    }
}

/// An elementary function of a formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Function {
    Powi,
    Powf,
    Sqrt,
    Cbrt,
    Exp,
    Exp2,
    ExpM1,
    Ln,
    Log,
    Log2,
    Log10,
    Ln1p,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Atan2,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Abs,
    Signum,
    Max,
    Min,
    Hypot,
    Recip,
    MulAdd,
    Clamp,
    Sigmoid,
    Softplus,
}

/// Every elementary function with its name and operands, in the order of
/// the macro's table (`sigmoid` and `softplus` last).
pub const FUNCTIONS: &[(&str, Function, Operands)] = {
    use Function::*;
    use Operands::*;
    &[
        ("powi", Powi, IntegerPower),
        ("powf", Powf, Binary),
        ("sqrt", Sqrt, Unary),
        ("cbrt", Cbrt, Unary),
        ("exp", Exp, Unary),
        ("exp2", Exp2, Unary),
        ("exp_m1", ExpM1, Unary),
        ("ln", Ln, Unary),
        ("log", Log, Binary),
        ("log2", Log2, Unary),
        ("log10", Log10, Unary),
        ("ln_1p", Ln1p, Unary),
        ("sin", Sin, Unary),
        ("cos", Cos, Unary),
        ("tan", Tan, Unary),
        ("asin", Asin, Unary),
        ("acos", Acos, Unary),
        ("atan", Atan, Unary),
        ("atan2", Atan2, Binary),
        ("sinh", Sinh, Unary),
        ("cosh", Cosh, Unary),
        ("tanh", Tanh, Unary),
        ("asinh", Asinh, Unary),
        ("acosh", Acosh, Unary),
        ("atanh", Atanh, Unary),
        ("abs", Abs, Unary),
        ("signum", Signum, Unary),
        ("max", Max, Binary),
        ("min", Min, Binary),
        ("hypot", Hypot, Binary),
        ("recip", Recip, Unary),
        ("mul_add", MulAdd, Ternary),
        ("clamp", Clamp, Ternary),
        ("sigmoid", Sigmoid, Unary),
        ("softplus", Softplus, Unary),
    ]
};

/// The formula-only spellings: `(name, function, operands)`.
const ALIASES: &[(&str, Function, Operands)] = &[
    ("pow", Function::Powf, Operands::Binary),
    ("log", Function::Ln, Operands::Unary),
];

/// The function `name` called with `count` operands: `Ok` with it, or
/// `Err` with the operand counts `name` takes (empty when `name` is no
/// function).
pub fn lookup(name: &str, count: usize) -> Result<(Function, Operands), Vec<usize>> {
    let candidates = FUNCTIONS
        .iter()
        .chain(ALIASES)
        .filter(|(candidate, _, _)| *candidate == name);
    let mut counts = Vec::new();
    for &(_, function, operands) in candidates {
        if operands.count() == count {
            return Ok((function, operands));
        }
        counts.push(operands.count());
    }
    counts.sort_unstable();
    Err(counts)
}

/// Every name a formula may call, once each, with `if`.
pub fn names() -> impl Iterator<Item = &'static str> {
    let all = FUNCTIONS
        .iter()
        .chain(ALIASES)
        .map(|(name, _, _)| *name)
        .chain(["if"]);
    all.clone()
        .enumerate()
        .filter(move |&(i, name)| !all.clone().take(i).any(|earlier| earlier == name))
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_resolve_by_name_and_operand_count() {
        assert_eq!(lookup("log", 1), Ok((Function::Ln, Operands::Unary)));
        assert_eq!(lookup("log", 2), Ok((Function::Log, Operands::Binary)));
        assert_eq!(lookup("pow", 2), Ok((Function::Powf, Operands::Binary)));
        assert_eq!(lookup("exp", 2), Err(vec![1]));
        assert_eq!(lookup("log", 3), Err(vec![1, 2]));
        assert_eq!(lookup("floor", 1), Err(vec![]));
    }

    #[test]
    fn every_name_is_listed_once() {
        let listed: Vec<&str> = names().collect();
        assert_eq!(listed.iter().filter(|&&name| name == "log").count(), 1);
        assert_eq!(listed.len(), FUNCTIONS.len() + 2, "{listed:?}");
        assert!(listed.contains(&"pow") && listed.contains(&"if"));
    }
}
