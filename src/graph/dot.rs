//! DOT as Graphviz, networkx/pydot, DoWhy and pgmpy write it, and
//! dagitty's DOT-like `dag { .. }` syntax, read into a [`CausalGraph`].
//!
//! The leading keyword picks the language: `digraph` (optionally `strict`,
//! optionally named) is DOT, `dag` or `pdag` is dagitty. Both read node
//! statements, edge chains, attribute lists (ignored, multi-line),
//! `graph`/`node`/`edge` default statements, `key = value` graph
//! attributes, `subgraph name { .. }` and anonymous `{ a b }` groups (an
//! edge to or from a group is an edge to or from each of its members), and
//! `;` between statements is optional. dagitty adds `<-` edges; it merges a
//! repeated edge, as a `strict digraph` does, and its `[latent]` marks a
//! variable causalgrad cannot fit. A variable is named by its ID, never by
//! its `label` attribute. Blocks nest at most [`MAX_DEPTH`] deep.
//!
//! Every error has a line and a column: syntax errors are
//! [`GraphError::Parse`]; an undirected or bidirected edge, a latent
//! variable, a cycle are [`GraphError::Located`] around the typed error, at
//! the edge or attribute that caused it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::lex::{self, Lexed, Position, Token};
use super::{CausalGraph, GraphError};

/// How deep `{ .. }` blocks and subgraphs may nest (deeper input would
/// exhaust the stack of the recursive parser).
pub(super) const MAX_DEPTH: usize = 64;

/// Why parsing stopped.
enum Failure {
    /// Malformed text: what was wrong and what was expected.
    Syntax(String),
    /// Well-formed text describing something that is not a causal graph.
    Graph(GraphError),
}

type ParseResult<T> = Result<T, (Position, Failure)>;

/// The language of the text, from its leading keyword.
#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Dot,
    Dagitty,
}

/// Parses `text`; `file` names it in errors.
pub(super) fn parse(text: &str, file: Option<&Path>) -> Result<CausalGraph, GraphError> {
    let located = |(line, column): Position, failure: Failure| match failure {
        Failure::Syntax(message) => GraphError::Parse {
            file: file.map(Path::to_path_buf),
            line,
            column,
            message,
        },
        Failure::Graph(error) => GraphError::Located {
            file: file.map(Path::to_path_buf),
            line,
            column,
            error: Box::new(error),
        },
    };
    let (tokens, end) = lex::lex(text).map_err(|(at, m)| located(at, Failure::Syntax(m)))?;
    let mut parser = Parser {
        tokens,
        end,
        position: 0,
        depth: 0,
        dialect: Dialect::Dot,
        merge_repeats: false,
        nodes: Vec::new(),
        known: HashSet::new(),
        edges: Vec::new(),
        edge_at: HashMap::new(),
        groups: Vec::new(),
    };
    parser
        .graph()
        .map_err(|(at, failure)| located(at, failure))?;
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
            Some(at) => located(at, Failure::Graph(graph_error)),
            None => graph_error,
        }
    })
}

/// `name`, quoted when DOT needs it.
pub(super) fn quote(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !is_dot_keyword(name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// DOT's keywords (any case), which name a variable only when quoted.
fn is_dot_keyword(word: &str) -> bool {
    ["node", "edge", "graph", "digraph", "subgraph", "strict"]
        .iter()
        .any(|keyword| word.eq_ignore_ascii_case(keyword))
}

/// The names of an edge's end: the variable, or a group's members in braces.
fn shown(members: &[String]) -> String {
    match members {
        [name] => name.clone(),
        _ => format!("{{{}}}", members.join(" ")),
    }
}

/// The variables mentioned inside an open `{ .. }` group, in order.
#[derive(Default)]
struct Group {
    members: Vec<String>,
    seen: HashSet<String>,
}

struct Parser {
    tokens: Vec<Lexed>,
    /// The position just past the text, for errors at its end.
    end: Position,
    position: usize,
    /// How many blocks enclose the current statement.
    depth: usize,
    dialect: Dialect,
    /// `strict digraph` and dagitty: a repeated edge is merged, not an error.
    merge_repeats: bool,
    nodes: Vec<String>,
    known: HashSet<String>,
    edges: Vec<(String, String)>,
    /// Where each edge's operator is.
    edge_at: HashMap<(String, String), Position>,
    /// The groups enclosing the current statement, innermost last.
    groups: Vec<Group>,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.token_at(self.position)
    }

    fn token_at(&self, position: usize) -> Option<&Token> {
        self.tokens.get(position).map(|lexed| &lexed.token)
    }

    /// The current token's text if it is an unquoted ID, in lower case.
    fn keyword(&self) -> Option<String> {
        self.peek()
            .and_then(Token::keyword)
            .map(str::to_ascii_lowercase)
    }

    /// The position of the current token.
    fn here(&self) -> Position {
        self.tokens
            .get(self.position)
            .map_or(self.end, |lexed| (lexed.line, lexed.column))
    }

    fn fail<T>(&self, message: impl Into<String>) -> ParseResult<T> {
        let message = message.into();
        match self.tokens.get(self.position) {
            Some(lexed) => Err(((lexed.line, lexed.column), Failure::Syntax(message))),
            None => Err((
                self.end,
                Failure::Syntax(format!("{message} (at the end of the file)")),
            )),
        }
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
        if self.keyword().as_deref() == Some("strict") {
            self.merge_repeats = true;
            self.position += 1;
        }
        match self.keyword().as_deref() {
            Some("digraph") => {}
            Some("dag" | "pdag") => {
                self.dialect = Dialect::Dagitty;
                self.merge_repeats = true;
            }
            Some("graph") => {
                return self.fail(
                    "an undirected `graph` cannot be a causal graph; a causal graph must be directed: write `digraph`",
                )
            }
            Some("mag") => {
                return self.fail(
                    "a `mag` (maximal ancestral graph) relates variables through latent ones and is not one causal graph; write the DAG you assume as `dag { .. }`",
                )
            }
            Some("pag") => {
                return self.fail(
                    "a `pag` (partial ancestral graph) is a class of causal graphs, not one; write the DAG you assume as `dag { .. }`",
                )
            }
            _ => return self.fail("expected `digraph` (DOT) or `dag` (dagitty)"),
        }
        self.position += 1;
        if let Some(Token::Id { .. }) = self.peek() {
            self.position += 1;
        }
        self.expect(Token::Open, "`{` after the graph's keyword")?;
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
        let next = self.token_at(self.position + 1);
        if matches!(self.keyword().as_deref(), Some("graph" | "node" | "edge"))
            && next == Some(&Token::OpenBracket)
        {
            self.position += 1;
            return self.attributes().map(drop);
        }
        if matches!(self.peek(), Some(Token::Id { .. })) && next == Some(&Token::Equals) {
            // `rankdir = LR`, dagitty's `bb = "0,0,1,1"`: a graph attribute.
            self.position += 2;
            return self.value();
        }
        let mut left = self.operand()?;
        let mut is_edge = false;
        loop {
            let at = self.here();
            let operator = match self.peek() {
                Some(
                    token @ (Token::Arrow
                    | Token::BackArrow
                    | Token::Bidirected
                    | Token::Undirected),
                ) => token.clone(),
                _ => break,
            };
            self.position += 1;
            let right = self.operand()?;
            self.connect(&left, &operator, &right, at)?;
            left = right;
            is_edge = true;
        }
        let keys = self.attributes()?;
        if self.dialect == Dialect::Dagitty && !is_edge {
            if let Some((_, at)) = keys.iter().find(|(key, _)| key == "latent") {
                return Err((
                    *at,
                    Failure::Graph(GraphError::LatentVariable { name: shown(&left) }),
                ));
            }
        }
        Ok(())
    }

    /// One end of an edge: a variable, a `{ .. }` group or a subgraph; its
    /// variables.
    fn operand(&mut self) -> ParseResult<Vec<String>> {
        if self.peek() == Some(&Token::Open) {
            self.position += 1;
            return self.group("`}` closing the block");
        }
        if self.keyword().as_deref() == Some("subgraph") {
            self.position += 1;
            if let Some(Token::Id { .. }) = self.peek() {
                self.position += 1;
            }
            self.expect(Token::Open, "`{` after `subgraph`")?;
            return self.group("`}` closing the subgraph");
        }
        let name = self.node_id()?;
        self.mention(&name);
        Ok(vec![name])
    }

    /// The statements of a group whose `{` was just read, and its `}`;
    /// the variables mentioned in it.
    fn group(&mut self, closing: &str) -> ParseResult<Vec<String>> {
        self.groups.push(Group::default());
        let result = self
            .block()
            .and_then(|()| self.expect(Token::Close, closing));
        let group = self.groups.pop().unwrap_or_default();
        result?;
        // The members are mentioned in the enclosing group too.
        for name in &group.members {
            self.mention(name);
        }
        Ok(group.members)
    }

    fn node_id(&mut self) -> ParseResult<String> {
        let name = match self.peek() {
            Some(Token::Html) => {
                return self.fail(
                    "an HTML-like `<..>` ID cannot name a variable; write the name in quotes",
                )
            }
            Some(Token::Id { text, .. }) if text.is_empty() => {
                return self.fail("a variable name cannot be empty")
            }
            Some(Token::Id {
                text,
                quoted: false,
            }) if self.dialect == Dialect::Dot && is_dot_keyword(text) => {
                return self.fail(format!(
                "`{text}` is a DOT keyword; write it in quotes (`\"{text}\"`) to name a variable"
            ))
            }
            Some(Token::Id { text, .. }) => text.clone(),
            _ => return self.fail("expected a variable name"),
        };
        self.position += 1;
        // Ports (`a:n`, `a:port:sw`) are ignored.
        while self.peek() == Some(&Token::Colon) {
            self.position += 1;
            match self.peek() {
                Some(Token::Id { .. }) => self.position += 1,
                _ => return self.fail("expected a port name after `:`"),
            }
        }
        Ok(name)
    }

    /// The value after an attribute's `=`: an ID or an HTML-like string.
    fn value(&mut self) -> ParseResult<()> {
        match self.peek() {
            Some(Token::Id { .. } | Token::Html) => {
                self.position += 1;
                Ok(())
            }
            _ => self.fail("expected a value after `=`"),
        }
    }

    /// Attribute lists `[a=1, b; c]` (none, one or several); the names of
    /// their attributes and where each is.
    fn attributes(&mut self) -> ParseResult<Vec<(String, Position)>> {
        let mut keys = Vec::new();
        while self.peek() == Some(&Token::OpenBracket) {
            self.position += 1;
            loop {
                match self.peek() {
                    Some(Token::CloseBracket) => {
                        self.position += 1;
                        break;
                    }
                    Some(Token::Comma | Token::Semicolon) => self.position += 1,
                    Some(Token::Id { text, .. }) => {
                        keys.push((text.clone(), self.here()));
                        self.position += 1;
                        if self.peek() == Some(&Token::Equals) {
                            self.position += 1;
                            self.value()?;
                        }
                    }
                    _ => {
                        return self
                            .fail("expected an attribute name or `]` closing the attribute list")
                    }
                }
            }
        }
        Ok(keys)
    }

    /// Records that `name` is a variable, in the innermost group too.
    fn mention(&mut self, name: &str) {
        if self.known.insert(name.to_string()) {
            self.nodes.push(name.to_string());
        }
        if let Some(group) = self.groups.last_mut() {
            if group.seen.insert(name.to_string()) {
                group.members.push(name.to_string());
            }
        }
    }

    /// The edges between every variable of `left` and every one of `right`
    /// that `operator` (at `at`) makes.
    fn connect(
        &mut self,
        left: &[String],
        operator: &Token,
        right: &[String],
        at: Position,
    ) -> ParseResult<()> {
        let (from, to) = (shown(left), shown(right));
        let error = match operator {
            Token::Arrow | Token::BackArrow => {
                let forward = *operator == Token::Arrow;
                for l in left {
                    for r in right {
                        let (parent, child) = if forward { (l, r) } else { (r, l) };
                        self.add_edge(parent.clone(), child.clone(), at)?;
                    }
                }
                return Ok(());
            }
            Token::Bidirected => GraphError::BidirectedEdge { from, to },
            _ => GraphError::UndirectedEdge { from, to },
        };
        Err((at, Failure::Graph(error)))
    }

    /// Records `from -> to` (its operator at `at`); a repeated edge is
    /// merged in a `strict` graph and in dagitty, and an error otherwise.
    fn add_edge(&mut self, from: String, to: String, at: Position) -> ParseResult<()> {
        let edge = (from, to);
        if let Some(&(line, column)) = self.edge_at.get(&edge) {
            if self.merge_repeats {
                return Ok(());
            }
            return Err((
                at,
                Failure::Syntax(format!(
                    "the edge `{} -> {}` is given twice (first at {line}:{column}); remove one, or write `strict digraph` to merge repeated edges",
                    edge.0, edge.1
                )),
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
