//! The `digraph { .. }` subset of DOT: node and edge statements, with
//! attributes, ports, defaults and comments read and ignored.
//!
//! In quoted names `\"` is a quote and `\\` a backslash (what
//! [`quote`] writes); a leading UTF-8 byte-order mark is skipped; blocks
//! nest at most [`MAX_DEPTH`] deep. Errors found after parsing (a cycle, a
//! repeated edge) name the line and column of the edge that caused them.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{CausalGraph, GraphError};

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Id(String),
    Arrow,
    UndirectedEdge,
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Semicolon,
    Comma,
    Equals,
    Colon,
}

struct Lexed {
    token: Token,
    line: usize,
    column: usize,
}

/// How deep `{ .. }` blocks and subgraphs may nest (deeper input would
/// exhaust the stack of the recursive parser).
pub(super) const MAX_DEPTH: usize = 64;

/// A line and a column, both 1-based.
type Position = (usize, usize);

/// Parses `text`; `file` names it in errors.
pub(super) fn parse(text: &str, file: Option<&Path>) -> Result<CausalGraph, GraphError> {
    let error = |(line, column): Position, message: String| GraphError::Parse {
        file: file.map(Path::to_path_buf),
        line,
        column,
        message,
    };
    let (tokens, end) = lex(text).map_err(|(at, message)| error(at, message))?;
    let mut parser = Parser {
        tokens,
        end,
        position: 0,
        depth: 0,
        strict: false,
        nodes: Vec::new(),
        known: HashSet::new(),
        edges: Vec::new(),
        edge_at: HashMap::new(),
    };
    parser.graph().map_err(|(at, message)| error(at, message))?;
    let Parser {
        nodes,
        edges,
        edge_at,
        ..
    } = parser;
    CausalGraph::new(nodes, edges).map_err(|graph_error| {
        // Point at the edge that closes the cycle (the last one in the file).
        let at = match &graph_error {
            GraphError::Cycle { cycle } => (0..cycle.len())
                .filter_map(|i| {
                    let edge = (cycle[i].clone(), cycle[(i + 1) % cycle.len()].clone());
                    edge_at.get(&edge).copied()
                })
                .max(),
            _ => None,
        };
        match at {
            Some((line, column)) => GraphError::Located {
                file: file.map(Path::to_path_buf),
                line,
                column,
                error: Box::new(graph_error),
            },
            None => graph_error,
        }
    })
}

/// The error for a file that is not UTF-8, at the first bad byte.
pub(super) fn not_utf8(bytes: &[u8], error: &std::str::Utf8Error, file: &Path) -> GraphError {
    let valid = &bytes[..error.valid_up_to()];
    let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
    let start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    // Everything before the bad byte is valid UTF-8, so this cannot fail.
    let column = 1 + std::str::from_utf8(&valid[start..]).map_or(0, |text| text.chars().count());
    GraphError::Parse {
        file: Some(file.to_path_buf()),
        line,
        column,
        message: format!(
            "the byte 0x{:02x} is not UTF-8; save the file as UTF-8",
            bytes[error.valid_up_to()]
        ),
    }
}

/// `name`, quoted when DOT needs it.
pub(super) fn quote(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The tokens of `text` and the position just past its end.
fn lex(text: &str) -> Result<(Vec<Lexed>, Position), (Position, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut cur = Cursor {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        column: 1,
    };
    let mut tokens = Vec::new();
    while let Some(c) = cur.peek(0) {
        let (start_line, start_column) = (cur.line, cur.column);
        let (line, column) = (cur.line, cur.column);
        let next = cur.peek(1);
        let single = match c {
            '{' => Some(Token::Open),
            '}' => Some(Token::Close),
            '[' => Some(Token::OpenBracket),
            ']' => Some(Token::CloseBracket),
            ';' => Some(Token::Semicolon),
            ',' => Some(Token::Comma),
            '=' => Some(Token::Equals),
            ':' => Some(Token::Colon),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push(Lexed {
                token,
                line,
                column,
            });
            cur.bump();
        } else if c.is_whitespace() {
            cur.bump();
        } else if c == '#' || c == '/' && next == Some('/') {
            while cur.peek(0).is_some_and(|ch| ch != '\n') {
                cur.bump();
            }
        } else if c == '/' && next == Some('*') {
            cur.bump();
            cur.bump();
            loop {
                if cur.peek(0).is_none() {
                    return Err((
                        (start_line, start_column),
                        "unterminated `/* */` comment".into(),
                    ));
                }
                if cur.peek(0) == Some('*') && cur.peek(1) == Some('/') {
                    cur.bump();
                    cur.bump();
                    break;
                }
                cur.bump();
            }
        } else if c == '-' && (next == Some('>') || next == Some('-')) {
            tokens.push(Lexed {
                token: if next == Some('>') {
                    Token::Arrow
                } else {
                    Token::UndirectedEdge
                },
                line,
                column,
            });
            cur.bump();
            cur.bump();
        } else if c == '"' {
            cur.bump();
            let mut value = String::new();
            loop {
                match cur.peek(0) {
                    None => {
                        return Err((
                            (start_line, start_column),
                            "unterminated quoted name".into(),
                        ))
                    }
                    Some('"') => {
                        cur.bump();
                        break;
                    }
                    Some('\\') if matches!(cur.peek(1), Some('"' | '\\')) => {
                        value.extend(cur.peek(1));
                        cur.bump();
                        cur.bump();
                    }
                    Some(other) => {
                        value.push(other);
                        cur.bump();
                    }
                }
            }
            tokens.push(Lexed {
                token: Token::Id(value),
                line: start_line,
                column: start_column,
            });
        } else if c == '<' {
            // An HTML string (only in attributes): skip it, balanced.
            let mut depth = 0;
            loop {
                match cur.peek(0) {
                    None => return Err(((start_line, start_column), "unterminated `<..>`".into())),
                    Some('<') => depth += 1,
                    Some('>') => depth -= 1,
                    _ => {}
                }
                cur.bump();
                if depth == 0 {
                    break;
                }
            }
            tokens.push(Lexed {
                token: Token::Id(String::new()),
                line: start_line,
                column: start_column,
            });
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' {
            let mut value = String::new();
            while let Some(ch) = cur.peek(0) {
                if ch.is_alphanumeric() || ch == '_' || ch == '.' || (ch == '-' && value.is_empty())
                {
                    value.push(ch);
                    cur.bump();
                } else {
                    break;
                }
            }
            tokens.push(Lexed {
                token: Token::Id(value),
                line: start_line,
                column: start_column,
            });
        } else {
            return Err(((line, column), format!("unexpected character {c:?}")));
        }
    }
    Ok((tokens, (cur.line, cur.column)))
}

/// Characters with their position.
struct Cursor {
    chars: Vec<char>,
    i: usize,
    line: usize,
    column: usize,
}

impl Cursor {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek(0) {
            self.i += 1;
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
    }
}

type ParseResult<T> = Result<T, (Position, String)>;

struct Parser {
    tokens: Vec<Lexed>,
    /// The position just past the text, for errors at its end.
    end: Position,
    position: usize,
    /// How many blocks enclose the current statement.
    depth: usize,
    /// `strict digraph`: a repeated edge is merged, not an error.
    strict: bool,
    nodes: Vec<String>,
    known: HashSet<String>,
    edges: Vec<(String, String)>,
    /// Where each edge's `->` is.
    edge_at: HashMap<(String, String), Position>,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|lexed| &lexed.token)
    }

    fn fail<T>(&self, message: impl Into<String>) -> ParseResult<T> {
        match self.tokens.get(self.position) {
            Some(lexed) => Err(((lexed.line, lexed.column), message.into())),
            None => Err((
                self.end,
                format!("{} (at the end of the file)", message.into()),
            )),
        }
    }

    fn next(&mut self) -> Option<Token> {
        let token = self
            .tokens
            .get(self.position)
            .map(|lexed| lexed.token.clone());
        self.position += 1;
        token
    }

    fn expect(&mut self, token: Token, what: &str) -> ParseResult<()> {
        if self.peek() == Some(&token) {
            self.position += 1;
            Ok(())
        } else {
            self.fail(format!("expected {what}"))
        }
    }

    fn graph(&mut self) -> ParseResult<()> {
        if let Some(Token::Id(word)) = self.peek() {
            if word.eq_ignore_ascii_case("strict") {
                self.strict = true;
                self.position += 1;
            }
        }
        match self.peek() {
            Some(Token::Id(word)) if word.eq_ignore_ascii_case("digraph") => self.position += 1,
            Some(Token::Id(word)) if word.eq_ignore_ascii_case("graph") => {
                return self.fail("an undirected `graph` cannot be a causal graph; write `digraph`")
            }
            _ => return self.fail("expected `digraph`"),
        }
        if let Some(Token::Id(_)) = self.peek() {
            self.position += 1;
        }
        self.expect(Token::Open, "`{` after `digraph`")?;
        self.block()?;
        self.expect(Token::Close, "`}` closing the graph")?;
        if self.peek().is_some() {
            return self.fail("unexpected text after the closing `}`");
        }
        Ok(())
    }

    fn statements(&mut self) -> ParseResult<()> {
        loop {
            match self.peek() {
                Some(Token::Close) | None => return Ok(()),
                Some(Token::Semicolon | Token::Comma) => self.position += 1,
                _ => self.statement()?,
            }
        }
    }

    /// The statements of a block whose `{` was just read, one level deeper.
    fn block(&mut self) -> ParseResult<()> {
        if self.depth == MAX_DEPTH {
            self.position -= 1;
            return self.fail(format!("blocks nest more than {MAX_DEPTH} deep"));
        }
        self.depth += 1;
        let result = self.statements();
        self.depth -= 1;
        result
    }

    fn statement(&mut self) -> ParseResult<()> {
        match self.peek().cloned() {
            Some(Token::Open) => {
                self.position += 1;
                self.block()?;
                self.expect(Token::Close, "`}` closing the block")
            }
            Some(Token::Id(word)) => {
                let lower = word.to_ascii_lowercase();
                if lower == "subgraph" {
                    self.position += 1;
                    if let Some(Token::Id(_)) = self.peek() {
                        self.position += 1;
                    }
                    self.expect(Token::Open, "`{` after `subgraph`")?;
                    self.block()?;
                    return self.expect(Token::Close, "`}` closing the subgraph");
                }
                if matches!(lower.as_str(), "graph" | "node" | "edge")
                    && self.tokens.get(self.position + 1).map(|l| &l.token)
                        == Some(&Token::OpenBracket)
                {
                    self.position += 1;
                    return self.attributes();
                }
                if self.tokens.get(self.position + 1).map(|l| &l.token) == Some(&Token::Equals) {
                    // `rankdir = LR`: a graph attribute.
                    self.position += 2;
                    return match self.next() {
                        Some(Token::Id(_)) => Ok(()),
                        _ => {
                            self.position -= 1;
                            self.fail("expected a value after `=`")
                        }
                    };
                }
                let mut previous = self.node_id()?;
                self.add_node(&previous);
                loop {
                    match self.peek() {
                        Some(Token::Arrow) => {
                            let at = self.here();
                            self.position += 1;
                            let next = self.node_id()?;
                            self.add_node(&next);
                            self.add_edge(previous, next.clone(), at)?;
                            previous = next;
                        }
                        Some(Token::UndirectedEdge) => {
                            return self.fail("`--` is an undirected edge; write `->`")
                        }
                        _ => break,
                    }
                }
                if self.peek() == Some(&Token::OpenBracket) {
                    self.attributes()?;
                }
                Ok(())
            }
            _ => self.fail("expected a node, an edge or an attribute statement"),
        }
    }

    fn node_id(&mut self) -> ParseResult<String> {
        let name = match self.peek() {
            Some(Token::Id(name)) if !name.is_empty() => name.clone(),
            _ => return self.fail("expected a variable name"),
        };
        self.position += 1;
        // Ports (`a:n`, `a:port:sw`) are ignored.
        while self.peek() == Some(&Token::Colon) {
            self.position += 1;
            match self.next() {
                Some(Token::Id(_)) => {}
                _ => {
                    self.position -= 1;
                    return self.fail("expected a port name after `:`");
                }
            }
        }
        Ok(name)
    }

    fn attributes(&mut self) -> ParseResult<()> {
        while self.peek() == Some(&Token::OpenBracket) {
            self.position += 1;
            loop {
                match self.next() {
                    Some(Token::CloseBracket) => break,
                    Some(_) => {}
                    None => {
                        self.position -= 1;
                        return self.fail("expected `]` closing the attribute list");
                    }
                }
            }
        }
        Ok(())
    }

    /// The position of the current token.
    fn here(&self) -> Position {
        self.tokens
            .get(self.position)
            .map_or(self.end, |lexed| (lexed.line, lexed.column))
    }

    fn add_node(&mut self, name: &str) {
        if self.known.insert(name.to_string()) {
            self.nodes.push(name.to_string());
        }
    }

    /// Records `from -> to` (its `->` at `at`); a repeated edge is merged
    /// in a `strict` graph and an error otherwise.
    fn add_edge(&mut self, from: String, to: String, at: Position) -> ParseResult<()> {
        let edge = (from, to);
        if let Some(&(line, column)) = self.edge_at.get(&edge) {
            if self.strict {
                return Ok(());
            }
            return Err((
                at,
                format!(
                    "the edge `{} -> {}` is given twice (first at {line}:{column}); remove one, or write `strict digraph` to merge repeated edges",
                    edge.0, edge.1
                ),
            ));
        }
        self.edge_at.insert(edge.clone(), at);
        self.edges.push(edge);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_subset_with_comments_attributes_and_quotes() {
        let text = r#"
            /* the consensus network */
            strict digraph sachs {
              rankdir = LR;
              node [shape=box];
              # a comment line
              praf -> pmek [color=red]; // trailing
              "p44/42" -> pakts473;
              pmek -> "p44/42" -> x:port;
              subgraph cluster { PKA; }
              lonely
            }"#;
        let graph = CausalGraph::from_dot_str(text).unwrap();
        assert_eq!(
            graph.variables().collect::<Vec<_>>(),
            ["praf", "pmek", "p44/42", "pakts473", "x", "PKA", "lonely"]
        );
        assert_eq!(graph.parents("p44/42").unwrap(), ["pmek"]);
        assert_eq!(quote("p44/42"), "\"p44/42\"");
    }

    #[test]
    fn errors_give_line_and_column() {
        let err = CausalGraph::from_dot_str("digraph {\n  a -> ;\n}").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("<dot>:2:8:"), "{text}");
        let err = CausalGraph::from_dot_str("graph { a -- b }").unwrap_err();
        assert!(err.to_string().contains("undirected"));
        let err = CausalGraph::from_dot_str("digraph { a -> b").unwrap_err();
        assert!(err.to_string().contains("end of the file"), "{err}");
        let err = CausalGraph::from_dot_str("digraph { a -> b\n b -> a }").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("<dot>:2:4: the causal graph has a cycle: a -> b -> a"),
            "{err}"
        );
        assert!(
            matches!(&err, GraphError::Located { error, .. } if matches!(**error, GraphError::Cycle { .. }))
        );
        let err = CausalGraph::from_dot_str("digraph { a -> b; a -> b }").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("<dot>:1:21: the edge `a -> b` is given twice (first at 1:13)"),
            "{err}"
        );
        let strict = CausalGraph::from_dot_str("strict digraph { a -> b; a -> b }").unwrap();
        assert_eq!(strict.edges().count(), 1);
    }

    #[test]
    fn backslashes_byte_order_marks_and_deep_nesting() {
        for name in ["a\\", "a\\\"b", "\\\\", "x y\u{e9}"] {
            let graph = CausalGraph::new([name], Vec::<(&str, &str)>::new()).unwrap();
            let again = CausalGraph::from_dot_str(&graph.to_dot()).unwrap();
            assert_eq!(again.variables().collect::<Vec<_>>(), [name]);
        }
        let graph = CausalGraph::from_dot_str("\u{feff}digraph { a -> b }").unwrap();
        assert_eq!(graph.len(), 2);
        let deep = format!("digraph {}{}", "{".repeat(100_000), "}".repeat(100_000));
        let err = CausalGraph::from_dot_str(&deep).unwrap_err().to_string();
        assert!(
            err.starts_with("<dot>:1:73: blocks nest more than 64 deep"),
            "{err}"
        );
    }
}
