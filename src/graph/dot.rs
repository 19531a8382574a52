//! The `digraph { .. }` subset of DOT: node and edge statements, with
//! attributes, ports, defaults and comments read and ignored.

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

/// Parses `text`; `file` names it in errors.
pub(super) fn parse(text: &str, file: Option<&Path>) -> Result<CausalGraph, GraphError> {
    let error = |line: usize, column: usize, message: String| GraphError::Parse {
        file: file.map(Path::to_path_buf),
        line,
        column,
        message,
    };
    let tokens = lex(text).map_err(|(line, column, message)| error(line, column, message))?;
    let mut parser = Parser {
        tokens,
        position: 0,
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    let end = text.lines().count().max(1);
    parser
        .graph()
        .map_err(|(line, column, message)| error(line.unwrap_or(end), column, message))?;
    CausalGraph::new(parser.nodes, parser.edges)
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

fn lex(text: &str) -> Result<Vec<Lexed>, (usize, usize, String)> {
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
                        start_line,
                        start_column,
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
                        return Err((start_line, start_column, "unterminated quoted name".into()))
                    }
                    Some('"') => {
                        cur.bump();
                        break;
                    }
                    Some('\\') if cur.peek(1) == Some('"') => {
                        value.push('"');
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
                    None => return Err((start_line, start_column, "unterminated `<..>`".into())),
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
            return Err((line, column, format!("unexpected character `{c}`")));
        }
    }
    Ok(tokens)
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

type ParseResult<T> = Result<T, (Option<usize>, usize, String)>;

struct Parser {
    tokens: Vec<Lexed>,
    position: usize,
    nodes: Vec<String>,
    edges: Vec<(String, String)>,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|lexed| &lexed.token)
    }

    fn fail<T>(&self, message: impl Into<String>) -> ParseResult<T> {
        match self.tokens.get(self.position) {
            Some(lexed) => Err((Some(lexed.line), lexed.column, message.into())),
            None => Err((
                None,
                1,
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
        self.statements()?;
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

    fn statement(&mut self) -> ParseResult<()> {
        match self.peek().cloned() {
            Some(Token::Open) => {
                self.position += 1;
                self.statements()?;
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
                    self.statements()?;
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
                            self.position += 1;
                            let next = self.node_id()?;
                            self.add_node(&next);
                            self.edges.push((previous, next.clone()));
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

    fn add_node(&mut self, name: &str) {
        if !self.nodes.iter().any(|node| node == name) {
            self.nodes.push(name.to_string());
        }
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
        let err = CausalGraph::from_dot_str("digraph { a -> b -> a }").unwrap_err();
        assert!(matches!(err, GraphError::Cycle { .. }));
    }
}
