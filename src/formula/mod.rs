//! Mechanisms written as formulas at run time: `"f * exp(-g * x3^2) + h * x4"`
//! parsed, checked against the parents and declared parameters, and
//! compiled into a tape that runs forward and backward over sixteen rows
//! at a time ([`Mechanism::formula`](crate::scm::Mechanism::formula)).
//!
//! A formula has numbers (`2`, `0.5`, `1e-3`), the parents and parameters
//! by name, `+ - * / ^` (`^` binds tightest and to the right, so `-x^2` is
//! `-(x^2)`), unary minus, parentheses, the comparisons
//! `< <= > >= == !=` (1 where true, 0 where not), `if(condition, then,
//! else)`, and the elementary functions of `#[differentiable]`
//! ([`FUNCTIONS`]: `exp ln sqrt sin cos tanh abs min max powf ...`,
//! with `sigmoid` and `softplus`), plus `pow(x, p)` for `powf` and
//! `log(x)` for `ln`.
//!
//! ```
//! use causalgrad::formula::Formula;
//!
//! let formula = Formula::compile(&["f * exp(-g * x3^2) + h * x4"], &["x3", "x4"], &["f", "g", "h"])?;
//! assert_eq!(formula.texts(), ["f * exp(-g * x3^2) + h * x4"]);
//! let error = Formula::compile(&["f * exp(-g * x5^2)"], &["x3", "x4"], &["f", "g"]).unwrap_err();
//! assert_eq!(error.column, 14);
//! assert!(error.to_string().contains("unknown name `x5`; did you mean `x3`?"), "{error}");
//! # Ok::<(), causalgrad::formula::FormulaError>(())
//! ```

mod functions;
mod parse;
pub(crate) mod tape;

use std::fmt;

pub use functions::{Function, Operands, FUNCTIONS};
use parse::{Expr, Scope};
use tape::Tape;

/// The longest formula accepted, in bytes.
pub const MAX_LENGTH: usize = 4096;

/// A formula that could not be compiled: the text, the 1-based column (in
/// characters) of the offending token, and what is wrong there.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("column {column} of `{formula}`: {problem}")]
pub struct FormulaError {
    /// The formula's text.
    pub formula: String,
    /// The 1-based column, in characters, of the offending token.
    pub column: usize,
    /// Byte offset of the token in the text.
    pub offset: usize,
    /// What is wrong (boxed: it may list every name in scope).
    pub problem: Box<Problem>,
}

impl FormulaError {
    pub(crate) fn new(formula: &str, offset: usize, problem: Problem) -> Self {
        let offset = offset.min(formula.len());
        let column = formula
            .char_indices()
            .take_while(|(i, _)| *i < offset)
            .count()
            + 1;
        FormulaError {
            formula: formula.to_string(),
            column,
            offset,
            problem: Box::new(problem),
        }
    }
}

/// What is wrong with a formula.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// Not a formula of the grammar (the message says what was expected).
    Syntax(String),
    /// A name that is no parent and no declared parameter.
    UnknownName {
        /// The name.
        name: String,
        /// The nearest parent or parameter, if one is near.
        suggestion: Option<String>,
        /// The parents.
        inputs: Vec<String>,
        /// The declared parameters.
        params: Vec<String>,
    },
    /// A call of a function there is not.
    UnknownFunction {
        /// The name called.
        name: String,
        /// The nearest function name, if one is near.
        suggestion: Option<String>,
    },
    /// A function called with the wrong number of operands.
    Arity {
        /// The function.
        function: String,
        /// The operand counts it takes.
        expected: Vec<usize>,
        /// The count given.
        found: usize,
    },
    /// A parameter declared twice, or with the name of a parent.
    Declaration(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax(message) | Problem::Declaration(message) => f.write_str(message),
            Problem::UnknownName {
                name,
                suggestion,
                inputs,
                params,
            } => {
                write!(f, "unknown name `{name}`")?;
                if let Some(suggestion) = suggestion {
                    write!(f, "; did you mean `{suggestion}`?")?;
                }
                let list = |names: &[String]| {
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                };
                write!(
                    f,
                    " (the parents are {}; the declared parameters are {}: declare a new parameter in `params` or `init`)",
                    list(inputs),
                    list(params)
                )
            }
            Problem::UnknownFunction { name, suggestion } => {
                write!(f, "unknown function `{name}`")?;
                match suggestion {
                    Some(suggestion) => write!(f, "; did you mean `{suggestion}`?"),
                    None => write!(
                        f,
                        " (the functions are {})",
                        functions::names().collect::<Vec<_>>().join(" ")
                    ),
                }
            }
            Problem::Arity {
                function,
                expected,
                found,
            } => {
                let expected: Vec<String> = expected.iter().map(usize::to_string).collect();
                write!(
                    f,
                    "`{function}` takes {} operand{}, not {found}",
                    expected.join(" or "),
                    if expected == ["1"] { "" } else { "s" }
                )
            }
        }
    }
}

/// One or more formulas over the same parents and parameters, compiled.
#[derive(Clone, Debug)]
pub struct Formula {
    texts: Vec<String>,
    inputs: Vec<String>,
    params: Vec<String>,
    used: Vec<bool>,
    pub(crate) tape: Tape,
}

impl Formula {
    /// Parses and compiles `formulas` (one per output: one for a mean, a
    /// logit or a log-rate; one per level after the first for a
    /// categorical variable) over the parents `inputs`, in the order their
    /// columns will come, and the parameters `params`.
    ///
    /// # Errors
    /// The first formula that does not parse or names something unknown,
    /// with the column of the offending token; a parameter declared twice
    /// or named like a parent.
    pub fn compile(
        formulas: &[&str],
        inputs: &[&str],
        params: &[&str],
    ) -> Result<Formula, FormulaError> {
        let inputs: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
        let params: Vec<String> = params.iter().map(|s| s.to_string()).collect();
        let first = formulas.first().copied().unwrap_or("");
        for (i, name) in params.iter().enumerate() {
            let problem = if params[..i].contains(name) {
                Some(format!("the parameter `{name}` is declared twice"))
            } else if inputs.contains(name) {
                Some(format!(
                    "`{name}` is a parent and cannot also be a parameter; rename the parameter"
                ))
            } else if functions::names().any(|f| f == name) {
                Some(format!(
                    "`{name}` is a function and cannot also be a parameter; rename the parameter"
                ))
            } else if !is_name(name) {
                Some(format!(
                    "`{name}` is not a name a formula can read (letters, digits and `_`, not starting with a digit)"
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                return Err(FormulaError::new(first, 0, Problem::Declaration(message)));
            }
        }
        if formulas.is_empty() {
            return Err(FormulaError::new(
                "",
                0,
                Problem::Syntax("no formula given".into()),
            ));
        }
        let scope = Scope {
            inputs: &inputs,
            params: &params,
        };
        let mut trees = Vec::with_capacity(formulas.len());
        for text in formulas {
            if text.len() > MAX_LENGTH {
                return Err(FormulaError::new(
                    text,
                    MAX_LENGTH,
                    Problem::Syntax(format!("longer than {MAX_LENGTH} bytes")),
                ));
            }
            trees.push(parse::parse(text, &scope)?);
        }
        let mut used = vec![false; inputs.len()];
        trees.iter().for_each(|tree| mark_inputs(tree, &mut used));
        let tape = Tape::compile(&trees, inputs.len(), params.len());
        Ok(Formula {
            texts: formulas.iter().map(|s| s.to_string()).collect(),
            inputs,
            params,
            used,
            tape,
        })
    }

    /// The formulas' texts, as given.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// The parents, in column order.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The parameters, in the order of the mechanism's parameter vector.
    pub fn params(&self) -> &[String] {
        &self.params
    }

    /// The parents no formula reads (worth a warning: the graph says the
    /// variable depends on them, the formula says it does not).
    ///
    /// ```
    /// use causalgrad::formula::Formula;
    ///
    /// let formula = Formula::compile(&["a * x1"], &["x1", "x2"], &["a"])?;
    /// assert_eq!(formula.unused_inputs(), ["x2"]);
    /// # Ok::<(), causalgrad::formula::FormulaError>(())
    /// ```
    pub fn unused_inputs(&self) -> Vec<&str> {
        self.inputs
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// Whether `name` is an identifier of the grammar.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

fn mark_inputs(expr: &Expr, used: &mut [bool]) {
    match expr {
        Expr::Number(_) | Expr::Param(_) => {}
        Expr::Input(i) => used[*i] = true,
        Expr::Neg(a) | Expr::Powi(a, _) => mark_inputs(a, used),
        Expr::Binary(_, a, b) | Expr::Compare(_, a, b) => {
            mark_inputs(a, used);
            mark_inputs(b, used);
        }
        Expr::Call(_, args) => args.iter().for_each(|arg| mark_inputs(arg, used)),
        Expr::If(c, a, b) => {
            mark_inputs(c, used);
            mark_inputs(a, used);
            mark_inputs(b, used);
        }
    }
}
