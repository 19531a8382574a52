//! Broken formulas: the corpus in `tests/corpus/formulas/` (each file one
//! formula, each with the column and the words its error must give) and
//! random text and mutations of a valid formula; every one compiles or is
//! refused with a located error, never a panic. Then the function list:
//! every function of [`FUNCTIONS`] is read by the parser with its operand
//! count, and the list is the macro's derivative table
//! (`macros/src/rules.rs`), name for name and operand for operand.

#[path = "common/corpus.rs"]
mod corpus;

use causalgrad::formula::{Formula, FormulaError, Operands, FUNCTIONS};
use causalgrad::scm::Mechanism;
use corpus::corpus_dir;
use proptest::prelude::*;

const INPUTS: [&str; 2] = ["x3", "x4"];
const PARAMS: [&str; 4] = ["f", "g", "h", "β"];

fn compile(text: &str) -> Result<Formula, FormulaError> {
    Formula::compile(&[text], &INPUTS, &PARAMS)
}

/// Each corpus file, the 1-based column (in characters) its error points
/// at, and words the message must hold.
const CORPUS: &[(&str, usize, &str)] = &[
    ("empty.txt", 1, "the formula is empty"),
    ("only_spaces.txt", 1, "the formula is empty"),
    ("trailing_operator.txt", 9, "found the end of the formula"),
    (
        "unclosed_parenthesis.txt",
        12,
        "expected `)` to close the `(`",
    ),
    ("stray_parenthesis.txt", 7, "a `)` without its `(`"),
    (
        "unknown_name.txt",
        14,
        "unknown name `x5`; did you mean `x3`?",
    ),
    (
        "unknown_function.txt",
        1,
        "unknown function `gamma` (the functions are",
    ),
    (
        "misspelt_function.txt",
        5,
        "unknown function `epx`; did you mean `exp`?",
    ),
    ("wrong_arity.txt", 1, "`exp` takes 1 operand, not 2"),
    ("if_arity.txt", 1, "`if` takes 3 operands, not 2"),
    ("empty_call.txt", 5, "`exp` takes 1 operand, not 0"),
    (
        "missing_operand.txt",
        9,
        "expected a number, a name or `(`, found `)`",
    ),
    ("chained_comparison.txt", 9, "comparisons do not chain"),
    ("single_equals.txt", 7, "compare with `==`"),
    ("and_operator.txt", 11, "formulas have no `and`/`or`"),
    (
        "overflowing_number.txt",
        1,
        "`1e400` is not a finite number",
    ),
    (
        "two_decimal_points.txt",
        1,
        "`1.2.3` is not a finite number",
    ),
    (
        "exponent_without_digits.txt",
        2,
        "expected an operator before `e`",
    ),
    ("deep_nesting.txt", 65, "nested more than 64 levels deep"),
    (
        "function_as_name.txt",
        1,
        "`exp` is a function: call it as `exp(..)`",
    ),
    (
        "fractional_powi.txt",
        10,
        "the exponent of `powi` must be an integer",
    ),
    ("unicode_operator.txt", 3, "unexpected `×`"),
    ("unicode_before_error.txt", 8, "unexpected `—`"),
    ("nul_byte.txt", 2, "unexpected `\0`"),
    ("line_break.txt", 5, "unknown name `x9`"),
    ("too_long.txt", 4097, "longer than 4096 bytes"),
    ("lone_minus.txt", 2, "found the end of the formula"),
    (
        "comparison_without_right.txt",
        5,
        "found the end of the formula",
    ),
    ("bare_comma.txt", 3, "expected an operator before `,`"),
    ("bracket.txt", 7, "unexpected `[`"),
];

#[test]
fn every_broken_formula_of_the_corpus_is_a_located_error() {
    let dir = corpus_dir("formulas", CORPUS.iter().map(|(file, _, _)| *file));
    for (file, column, words) in CORPUS {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let error = match compile(&text) {
            Ok(_) => panic!("{file}: `{text}` compiled"),
            Err(error) => error,
        };
        let message = error.to_string();
        assert_eq!(error.column, *column, "{file}: {message}");
        assert!(
            message.contains(words),
            "{file}: `{words}` not in {message}"
        );
        assert_eq!(error.formula, text, "{file}");
    }
}

/// A valid formula to mutate, using every kind of token.
const VALID: &str = "f * exp(-g * x3^2) + if(x4 >= 0.5, h * x4, softplus(β)) / (1 + 2.5e-1)";

/// Pieces inserted into formulas: each is one way a formula breaks.
const PIECES: &[&str] = &[
    "(",
    ")",
    ",",
    "+",
    "-",
    "*",
    "/",
    "^",
    "<",
    "<=",
    "==",
    "=",
    "!",
    "&&",
    "e",
    "1e",
    "1e400",
    ".",
    "..",
    "0x1",
    "x9",
    "exp",
    "if(",
    "powi(",
    "log(",
    " ",
    "\n",
    "\0",
    "é",
    "×",
    "—",
    "\u{feff}",
    "((((((((((",
    "9999999999999999999999",
    "-x3^-2^-3",
    "nan",
    "inf",
];

fn mutated() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (0usize..3, 0..VALID.len(), 0..PIECES.len(), 1usize..8),
        1..5,
    )
    .prop_map(|edits| {
        let mut text: Vec<char> = VALID.chars().collect();
        for (kind, at, piece, span) in edits {
            let at = at.min(text.len());
            match kind {
                0 => text.splice(at..at, PIECES[piece].chars()).for_each(drop),
                1 => {
                    let end = (at + span).min(text.len());
                    text.drain(at..end);
                }
                _ => text.truncate(at),
            }
        }
        text.into_iter().collect()
    })
}

/// Compiled and run over a few rows (any value, finite or not), or refused
/// with a column inside the text (or just after its end).
fn compiles_or_is_located(text: &str) -> Result<(), TestCaseError> {
    match Mechanism::formula(text, &INPUTS, &PARAMS.map(|name| (name, 0.5))) {
        Ok(mechanism) => {
            let (x3, x4) = ([0.0f32, -1.5, 2.0], [1.0f32, 0.0, -3.0]);
            let mut mean = [0.0f32; 3];
            mechanism.forward(&[&x3, &x4], &mut mean);
        }
        Err(error) => {
            prop_assert!(error.column >= 1, "{text:?}: {error}");
            prop_assert!(
                error.column <= text.chars().count() + 1,
                "{text:?}: column {} of {} characters",
                error.column,
                text.chars().count()
            );
            prop_assert!(error.to_string().contains("column"), "{error}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn mutated_formulas_compile_or_are_located(text in mutated()) {
        compiles_or_is_located(&text)?;
    }

    #[test]
    fn arbitrary_text_compiles_or_is_located(text in "\\PC{0,80}") {
        compiles_or_is_located(&text)?;
    }

    #[test]
    fn formula_alphabet_text_compiles_or_is_located(text in "[fghx34 ()+*/^<=>,.e0-9-]{0,60}") {
        compiles_or_is_located(&text)?;
    }
}

/// The macro's table as `(name, operands)`, read from its source: each
/// line `name(F, ..) =>` of the `rules!` invocation.
fn macro_table() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/macros/src/rules.rs");
    let source = std::fs::read_to_string(path).unwrap();
    let body = &source[source.find("rules! {").expect("the rules! invocation")..];
    body.lines()
        .filter_map(|line| {
            let line = line.trim();
            let (head, _) = line.split_once(" =>")?;
            let (name, operands) = head.strip_suffix(')')?.split_once('(')?;
            let is_name =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            is_name.then(|| (name.to_string(), operands.replace(' ', "")))
        })
        .collect()
}

#[test]
fn the_function_list_is_the_macros_derivative_table() {
    let shape = |operands: Operands| match operands {
        Operands::Unary => "F",
        Operands::Binary => "F,F",
        Operands::Ternary => "F,F,F",
        Operands::IntegerPower => "F,I",
    };
    let formulas: Vec<(String, String)> = FUNCTIONS
        .iter()
        .map(|(name, _, operands)| (name.to_string(), shape(*operands).to_string()))
        .collect();
    let table = macro_table();
    assert!(table.len() >= 30, "read {} rules: {table:?}", table.len());
    assert!(table.contains(&("sigmoid".into(), "F".into())), "{table:?}");
    assert_eq!(formulas, table);
}

#[test]
fn every_function_is_read_with_its_operand_count() {
    for (name, _, operands) in FUNCTIONS {
        let args = match operands {
            Operands::Unary => "x3 * f",
            Operands::Binary => "x3, f",
            Operands::Ternary => "x3, f, g",
            Operands::IntegerPower => "x3, 2",
        };
        let text = format!("{name}({args}) + x4");
        let formula = compile(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(formula.unused_inputs().is_empty(), "{text}");
        let wrong = format!("{name}({args}, x4)");
        let error = compile(&wrong).map(|_| ()).unwrap_err();
        assert!(
            error.to_string().contains(&format!("`{name}` takes")),
            "{wrong}: {error}"
        );
    }
}
