//! Text to expression tree: a tokenizer and a recursive-descent parser
//! that resolves every name as it reads it (a parent, a declared
//! parameter or a function), so each error points at its token.
//!
//! Grammar, loosest first:
//!
//! ```text
//! formula    = comparison
//! comparison = sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum ]
//! sum        = product { ("+" | "-") product }
//! product    = unary { ("*" | "/") unary }
//! unary      = ("-" | "+") unary | power
//! power      = atom [ "^" unary ]                  (right-associative: -x^2 is -(x^2))
//! atom       = number | name | name "(" formula { "," formula } ")" | "(" formula ")"
//! ```

use super::functions::{self, Function, Operands};
use super::{FormulaError, Problem};

/// The deepest nesting a formula may have (parentheses, calls, unary
/// signs, powers): far beyond any real formula, well within the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Equal,
    NotEqual,
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arithmetic {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// A parsed formula with its names resolved.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Number(f64),
    /// Parent `i`.
    Input(usize),
    /// Parameter `i`.
    Param(usize),
    Neg(Box<Expr>),
    Binary(Arithmetic, Box<Expr>, Box<Expr>),
    Compare(Comparison, Box<Expr>, Box<Expr>),
    /// `x ^ n` or `powi(x, n)` with an integer literal `n`.
    Powi(Box<Expr>, i32),
    Call(Function, Vec<Expr>),
    /// `if(condition, then, else)`: `then` where `condition` is not zero.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    /// An operator or punctuation: `+ - * / ^ ( ) , < <= > >= == !=`.
    Symbol(&'static str),
    End,
}

/// A token and the byte offset it starts at.
#[derive(Clone, Debug)]
struct Spanned {
    token: Token,
    at: usize,
}

const SYMBOLS: &[&str] = &[
    "<=", ">=", "==", "!=", "+", "-", "*", "/", "^", "(", ")", ",", "<", ">",
];

fn tokenize(text: &str) -> Result<Vec<Spanned>, (usize, Problem)> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let c = rest.chars().next().expect("not at the end");
        if c.is_whitespace() {
            at += c.len_utf8();
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
            let mut end = at;
            while end < text.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
                end += 1;
            }
            // An exponent: `1e-3`, `2.5E4`.
            if end < text.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
                let mut digits = end + 1;
                if digits < text.len() && (bytes[digits] == b'+' || bytes[digits] == b'-') {
                    digits += 1;
                }
                if digits < text.len() && bytes[digits].is_ascii_digit() {
                    end = digits;
                    while end < text.len() && bytes[end].is_ascii_digit() {
                        end += 1;
                    }
                }
            }
            let literal = &text[at..end];
            match literal.parse::<f64>() {
                Ok(value) if value.is_finite() => tokens.push(Spanned {
                    token: Token::Number(value),
                    at,
                }),
                _ => {
                    return Err((
                        at,
                        Problem::Syntax(format!("`{literal}` is not a finite number")),
                    ))
                }
            }
            at = end;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let end = rest
                .char_indices()
                .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
                .map_or(text.len(), |(i, _)| at + i);
            tokens.push(Spanned {
                token: Token::Name(text[at..end].to_string()),
                at,
            });
            at = end;
            continue;
        }
        match SYMBOLS.iter().find(|symbol| rest.starts_with(**symbol)) {
            Some(symbol) => {
                tokens.push(Spanned {
                    token: Token::Symbol(symbol),
                    at,
                });
                at += symbol.len();
            }
            None => {
                let hint = match c {
                    '=' => "; compare with `==`",
                    '&' | '|' => "; formulas have no `and`/`or`: nest `if(..)` instead",
                    _ => "",
                };
                return Err((at, Problem::Syntax(format!("unexpected `{c}`{hint}"))));
            }
        }
    }
    tokens.push(Spanned {
        token: Token::End,
        at: text.len(),
    });
    Ok(tokens)
}

/// The names a formula may read.
pub(crate) struct Scope<'a> {
    pub inputs: &'a [String],
    pub params: &'a [String],
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Spanned>,
    position: usize,
    scope: &'a Scope<'a>,
    depth: usize,
}

/// Parses one formula over `scope`.
pub(crate) fn parse(text: &str, scope: &Scope<'_>) -> Result<Expr, FormulaError> {
    let fail = |at: usize, problem: Problem| FormulaError::new(text, at, problem);
    let tokens = tokenize(text).map_err(|(at, problem)| fail(at, problem))?;
    if matches!(tokens[0].token, Token::End) {
        return Err(fail(0, Problem::Syntax("the formula is empty".into())));
    }
    let mut parser = Parser {
        text,
        tokens,
        position: 0,
        scope,
        depth: 0,
    };
    let expr = parser.formula()?;
    let next = parser.peek();
    if !matches!(next.token, Token::End) {
        let message = match next.token {
            Token::Symbol(")") => "a `)` without its `(`".to_string(),
            _ => format!(
                "expected an operator before {}",
                describe(&next.token, text, next.at)
            ),
        };
        return Err(parser.error(next.at, Problem::Syntax(message)));
    }
    Ok(expr)
}

/// A token as an error message names it.
fn describe(token: &Token, text: &str, at: usize) -> String {
    match token {
        Token::End => "the end of the formula".to_string(),
        Token::Name(name) => format!("`{name}`"),
        Token::Symbol(symbol) => format!("`{symbol}`"),
        Token::Number(_) => {
            let literal: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))
                .collect();
            format!("the number `{literal}`")
        }
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Spanned {
        &self.tokens[self.position]
    }

    fn advance(&mut self) -> Spanned {
        let token = self.tokens[self.position].clone();
        if !matches!(token.token, Token::End) {
            self.position += 1;
        }
        token
    }

    fn error(&self, at: usize, problem: Problem) -> FormulaError {
        FormulaError::new(self.text, at, problem)
    }

    fn eat(&mut self, symbol: &str) -> bool {
        if matches!(self.peek().token, Token::Symbol(s) if s == symbol) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, symbol: &'static str, context: &str) -> Result<(), FormulaError> {
        if self.eat(symbol) {
            return Ok(());
        }
        let next = self.peek().clone();
        Err(self.error(
            next.at,
            Problem::Syntax(format!(
                "expected `{symbol}` {context}, found {}",
                describe(&next.token, self.text, next.at)
            )),
        ))
    }

    /// Enters one level of nesting, refusing past [`MAX_DEPTH`].
    fn nest(&mut self, at: usize) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                at,
                Problem::Syntax(format!("nested more than {MAX_DEPTH} levels deep")),
            ));
        }
        Ok(())
    }

    fn formula(&mut self) -> Result<Expr, FormulaError> {
        let left = self.sum()?;
        let comparison = match self.peek().token {
            Token::Symbol("<") => Comparison::Less,
            Token::Symbol("<=") => Comparison::LessEqual,
            Token::Symbol(">") => Comparison::Greater,
            Token::Symbol(">=") => Comparison::GreaterEqual,
            Token::Symbol("==") => Comparison::Equal,
            Token::Symbol("!=") => Comparison::NotEqual,
            _ => return Ok(left),
        };
        self.advance();
        let right = self.sum()?;
        if let Token::Symbol(symbol @ ("<" | "<=" | ">" | ">=" | "==" | "!=")) = self.peek().token {
            let at = self.peek().at;
            return Err(self.error(
                at,
                Problem::Syntax(format!(
                    "comparisons do not chain: `a < b {symbol} c` needs `if(..)` around one of them"
                )),
            ));
        }
        Ok(Expr::Compare(comparison, Box::new(left), Box::new(right)))
    }

    fn sum(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek().token {
                Token::Symbol("+") => Arithmetic::Add,
                Token::Symbol("-") => Arithmetic::Sub,
                _ => return Ok(left),
            };
            self.advance();
            let right = self.product()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn product(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek().token {
                Token::Symbol("*") => Arithmetic::Mul,
                Token::Symbol("/") => Arithmetic::Div,
                _ => return Ok(left),
            };
            self.advance();
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        let at = self.peek().at;
        if self.eat("-") {
            self.nest(at)?;
            let operand = self.unary()?;
            self.depth -= 1;
            return Ok(match operand {
                Expr::Number(value) => Expr::Number(-value),
                other => Expr::Neg(Box::new(other)),
            });
        }
        if self.eat("+") {
            self.nest(at)?;
            let operand = self.unary();
            self.depth -= 1;
            return operand;
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, FormulaError> {
        let base = self.atom()?;
        let at = self.peek().at;
        if !self.eat("^") {
            return Ok(base);
        }
        self.nest(at)?;
        let exponent = self.unary()?;
        self.depth -= 1;
        Ok(match exponent {
            Expr::Number(n) if n.fract() == 0.0 && n.abs() <= 64.0 => {
                Expr::Powi(Box::new(base), n as i32)
            }
            other => Expr::Binary(Arithmetic::Pow, Box::new(base), Box::new(other)),
        })
    }

    fn atom(&mut self) -> Result<Expr, FormulaError> {
        let Spanned { token, at } = self.advance();
        match token {
            Token::Number(value) => Ok(Expr::Number(value)),
            Token::Symbol("(") => {
                self.nest(at)?;
                let inner = self.formula()?;
                self.expect(")", "to close the `(`")?;
                self.depth -= 1;
                Ok(inner)
            }
            Token::Name(name) if self.peek().token == Token::Symbol("(") => self.call(&name, at),
            Token::Name(name) => self.name(&name, at),
            other => Err(self.error(
                at,
                Problem::Syntax(format!(
                    "expected a number, a name or `(`, found {}",
                    describe(&other, self.text, at)
                )),
            )),
        }
    }

    /// A parent or a declared parameter.
    fn name(&self, name: &str, at: usize) -> Result<Expr, FormulaError> {
        if let Some(i) = self.scope.inputs.iter().position(|n| n == name) {
            return Ok(Expr::Input(i));
        }
        if let Some(i) = self.scope.params.iter().position(|n| n == name) {
            return Ok(Expr::Param(i));
        }
        let known = self.scope.inputs.iter().chain(self.scope.params);
        let problem = if functions::names().any(|f| f == name) {
            Problem::Syntax(format!("`{name}` is a function: call it as `{name}(..)`"))
        } else {
            Problem::UnknownName {
                name: name.to_string(),
                suggestion: closest(name, known.map(String::as_str)),
                inputs: self.scope.inputs.to_vec(),
                params: self.scope.params.to_vec(),
            }
        };
        Err(self.error(at, problem))
    }

    /// `name(args..)`, the `(` next.
    fn call(&mut self, name: &str, at: usize) -> Result<Expr, FormulaError> {
        self.advance();
        self.nest(at)?;
        let mut args = Vec::new();
        let mut starts = Vec::new();
        if !self.eat(")") {
            loop {
                starts.push(self.peek().at);
                args.push(self.formula()?);
                if self.eat(")") {
                    break;
                }
                self.expect(",", &format!("or `)` in the call of `{name}`"))?;
            }
        }
        self.depth -= 1;
        if name == "if" {
            if args.len() != 3 {
                return Err(self.error(
                    at,
                    Problem::Arity {
                        function: name.into(),
                        expected: vec![3],
                        found: args.len(),
                    },
                ));
            }
            let mut args = args.into_iter();
            let mut next = || Box::new(args.next().expect("three arguments"));
            return Ok(Expr::If(next(), next(), next()));
        }
        match functions::lookup(name, args.len()) {
            Ok((Function::Powi, Operands::IntegerPower)) => match args[1] {
                Expr::Number(n) if n.fract() == 0.0 && n.abs() <= f64::from(i32::MAX) => {
                    let base = args.swap_remove(0);
                    Ok(Expr::Powi(Box::new(base), n as i32))
                }
                _ => Err(self.error(
                    starts[1],
                    Problem::Syntax(
                        "the exponent of `powi` must be an integer number; use `^` or `pow` for others".into(),
                    ),
                )),
            },
            Ok((function, _)) => Ok(Expr::Call(function, args)),
            Err(expected) if expected.is_empty() => Err(self.error(
                at,
                Problem::UnknownFunction {
                    name: name.to_string(),
                    suggestion: closest(name, functions::names()),
                },
            )),
            Err(expected) => Err(self.error(
                at,
                Problem::Arity {
                    function: name.to_string(),
                    expected,
                    found: args.len(),
                },
            )),
        }
    }
}

/// The candidate nearest `name` by edit distance, when near enough to be
/// a likely misspelling (at most a third of its letters, and at least 1).
pub(crate) fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.to_string())
}

/// Edit distance in characters, counting a swap of two neighbours as one
/// edit (`epx` is one from `exp`, the commonest slip) and a difference of
/// case as half of one, rounded up (so `X3` is nearer `x3` than `x4`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Costs are doubled so that a case difference is a whole number.
    let substitution = |x: char, y: char| {
        if x == y {
            0
        } else if x.to_lowercase().eq(y.to_lowercase()) {
            1
        } else {
            2
        }
    };
    let mut before: Vec<usize> = Vec::new();
    let mut previous: Vec<usize> = (0..=b.len()).map(|j| 2 * j).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut current = vec![2 * (i + 1); b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let mut cost = (previous[j] + substitution(ca, cb))
                .min(previous[j + 1] + 2)
                .min(current[j] + 2);
            if i > 0 && j > 0 && ca == b[j - 1] && a[i - 1] == cb {
                cost = cost.min(before[j - 1] + 2);
            }
            current[j + 1] = cost;
        }
        before = std::mem::replace(&mut previous, current);
    }
    previous[b.len()].div_ceil(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> (Vec<String>, Vec<String>) {
        (
            vec!["x3".into(), "x4".into()],
            vec!["f".into(), "g".into(), "h".into()],
        )
    }

    fn parsed(text: &str) -> Result<Expr, FormulaError> {
        let (inputs, params) = scope();
        parse(
            text,
            &Scope {
                inputs: &inputs,
                params: &params,
            },
        )
    }

    #[test]
    fn precedence_follows_arithmetic() {
        use Arithmetic::*;
        let b = |op, l, r| Expr::Binary(op, Box::new(l), Box::new(r));
        assert_eq!(
            parsed("f + g * x3").unwrap(),
            b(Add, Expr::Param(0), b(Mul, Expr::Param(1), Expr::Input(0)))
        );
        assert_eq!(
            parsed("-x3^2").unwrap(),
            Expr::Neg(Box::new(Expr::Powi(Box::new(Expr::Input(0)), 2)))
        );
        assert_eq!(
            parsed("x3 ^ f ^ 2").unwrap(),
            b(Pow, Expr::Input(0), Expr::Powi(Box::new(Expr::Param(0)), 2))
        );
        assert_eq!(
            parsed("f - g - h").unwrap(),
            b(Sub, b(Sub, Expr::Param(0), Expr::Param(1)), Expr::Param(2))
        );
        assert_eq!(parsed("2.5e-1").unwrap(), Expr::Number(0.25));
    }

    #[test]
    fn errors_point_at_their_token() {
        let column = |text: &str| parsed(text).unwrap_err().column;
        assert_eq!(column("f * exp(-g * x5^2)"), 14);
        assert_eq!(column("f * epx(x3)"), 5);
        assert_eq!(column("f * (x3 + 1"), 12);
        assert_eq!(column("f x3"), 3);
        assert_eq!(column(""), 1);
        assert_eq!(
            column("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x3"),
            65
        );
        let error = parsed("f * exp(-g * x5^2)").unwrap_err();
        assert!(error.to_string().contains("did you mean `x3`"), "{error}");
        let error = parsed("f * epx(x3)").unwrap_err();
        assert!(error.to_string().contains("did you mean `exp`"), "{error}");
    }

    #[test]
    fn close_names_are_suggested_and_far_ones_not() {
        let names = ["x3", "x4", "alpha"];
        assert_eq!(closest("X3", names.into_iter()), Some("x3".into()));
        assert_eq!(closest("alhpa", names.into_iter()), Some("alpha".into()));
        assert_eq!(closest("zebra", names.into_iter()), None);
    }
}
