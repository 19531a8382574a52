//! GML as networkx (`nx.write_gml`, `nx.generate_gml`) and DoWhy
//! (`gml_graph`) write it, read into a [`CausalGraph`].
//!
//! GML is a tree of `key value` pairs, a value being a number, a `".."`
//! string or a `[ .. ]` list. Of the top-level `graph [ .. ]` list, the
//! parser reads `directed` (it must be 1), `node [ id .. label .. ]` and
//! `edge [ source .. target .. ]`, and ignores everything else (`graphics`,
//! `Creator`, weights). A node's variable is its `label`, as networkx's
//! `read_gml` names nodes, or its `id` when it has no label; edges name
//! nodes by `id`. Numbers end where a letter starts, so DoWhy's
//! `directed 1node[` reads. Every error has a line and a column.

use std::collections::HashMap;
use std::path::Path;

use super::dot::MAX_DEPTH;
use super::lex::Position;
use super::{CausalGraph, GraphError};

/// A GML value.
enum Value {
    /// A number or a string, as written (a string without its quotes).
    Scalar(String),
    List(Vec<Pair>),
}

/// `key value`, with where the key and the value start.
struct Pair {
    key: String,
    at: Position,
    value: Value,
    value_at: Position,
}

type ParseResult<T> = Result<T, (Position, String)>;

/// Parses GML `text`; `file` names it in errors.
pub(super) fn parse(text: &str, file: Option<&Path>) -> Result<CausalGraph, GraphError> {
    let error = |(line, column): Position, message: String| GraphError::Parse {
        file: file.map(Path::to_path_buf),
        line,
        column,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        column: 1,
    };
    let top = reader.list(0).map_err(|(at, m)| error(at, m))?;
    if reader.peek().is_some() {
        return Err(error(reader.here(), "unexpected `]`".into()));
    }
    let graph = top.iter().find_map(|pair| match &pair.value {
        Value::List(list) if pair.key == "graph" => Some((pair, list)),
        _ => None,
    });
    let Some((graph, items)) = graph else {
        return Err(error(
            reader.here(),
            "expected a `graph [ .. ]` list (at the end of the file)".into(),
        ));
    };
    let directed = items
        .iter()
        .any(|pair| pair.key == "directed" && matches!(&pair.value, Value::Scalar(v) if v == "1"));
    if !directed {
        return Err(error(
            graph.at,
            "an undirected GML graph (without `directed 1`) cannot be a causal graph; a causal graph must be directed: add `directed 1`".into(),
        ));
    }
    let mut names = Vec::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut edges = Vec::new();
    for pair in items {
        let Value::List(fields) = &pair.value else {
            continue;
        };
        let field = |key: &str| {
            fields.iter().find_map(|f| match &f.value {
                Value::Scalar(value) if f.key == key => Some((value.as_str(), f.value_at)),
                _ => None,
            })
        };
        let required = |key: &str| {
            field(key).ok_or_else(|| error(pair.at, format!("this {} has no `{key}`", pair.key)))
        };
        match pair.key.as_str() {
            "node" => {
                let (id, id_at) = required("id")?;
                let name = field("label").map_or(id, |(label, _)| label);
                if by_id.insert(id, names.len()).is_some() {
                    return Err(error(id_at, format!("the node id `{id}` is given twice")));
                }
                if name.is_empty() {
                    return Err(error(pair.at, "a variable name cannot be empty".into()));
                }
                names.push((name.to_string(), pair.at));
            }
            "edge" => edges.push((required("source")?, required("target")?)),
            _ => {}
        }
    }
    let mut resolved = Vec::with_capacity(edges.len());
    for ((source, source_at), (target, target_at)) in edges {
        let node = |id: &str, at: Position| {
            by_id
                .get(id)
                .map(|&i| names[i].0.clone())
                .ok_or_else(|| error(at, format!("no node has the id `{id}`")))
        };
        resolved.push((
            (node(source, source_at)?, node(target, target_at)?),
            target_at,
        ));
    }
    let located = |at: Position, inner: GraphError| GraphError::Located {
        file: file.map(Path::to_path_buf),
        line: at.0,
        column: at.1,
        error: Box::new(inner),
    };
    CausalGraph::new(
        names.iter().map(|(name, _)| name),
        resolved.iter().map(|((a, b), _)| (a, b)),
    )
    .map_err(|graph_error| {
        let at = match &graph_error {
            GraphError::DuplicateVariable { name } => names
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, at)| *at),
            GraphError::DuplicateEdge { from, to } => resolved
                .iter()
                .rev()
                .find(|((a, b), _)| a == from && b == to)
                .map(|(_, at)| *at),
            GraphError::Cycle { cycle } => resolved
                .iter()
                .filter(|((a, b), _)| {
                    (0..cycle.len()).any(|i| *a == cycle[i] && *b == cycle[(i + 1) % cycle.len()])
                })
                .map(|(_, at)| *at)
                .max(),
            _ => None,
        };
        match at {
            Some(at) => located(at, graph_error),
            None => graph_error,
        }
    })
}

/// Characters with their position.
struct Reader {
    chars: Vec<char>,
    i: usize,
    line: usize,
    column: usize,
}

impl Reader {
    fn peek(&mut self) -> Option<char> {
        // Whitespace and `#` comments separate tokens.
        loop {
            match self.chars.get(self.i).copied() {
                Some(c) if c.is_whitespace() => self.bump(),
                Some('#') => {
                    while self.chars.get(self.i).is_some_and(|&c| c != '\n') {
                        self.bump();
                    }
                }
                other => return other,
            }
        }
    }

    fn here(&self) -> Position {
        (self.line, self.column)
    }

    fn bump(&mut self) {
        if let Some(&c) = self.chars.get(self.i) {
            self.i += 1;
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
    }

    /// `key value` pairs up to a `]` or the end (neither consumed).
    fn list(&mut self, depth: usize) -> ParseResult<Vec<Pair>> {
        let mut pairs = Vec::new();
        loop {
            match self.peek() {
                None | Some(']') => return Ok(pairs),
                Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
                Some(c) => return Err((self.here(), format!("expected a key, found {c:?}"))),
            }
            let at = self.here();
            let mut key = String::new();
            while let Some(c) = self.chars.get(self.i).copied() {
                if !(c.is_ascii_alphanumeric() || c == '_') {
                    break;
                }
                key.push(c);
                self.bump();
            }
            let value_at = match self.peek() {
                Some(_) => self.here(),
                None => {
                    return Err((
                        self.here(),
                        format!("expected a value for `{key}` (at the end of the file)"),
                    ))
                }
            };
            let value = self.value(depth)?;
            pairs.push(Pair {
                key,
                at,
                value,
                value_at,
            });
        }
    }

    fn value(&mut self, depth: usize) -> ParseResult<Value> {
        let start = self.here();
        match self.peek() {
            Some('[') => {
                if depth == MAX_DEPTH {
                    return Err((start, format!("lists nest more than {MAX_DEPTH} deep")));
                }
                self.bump();
                let list = self.list(depth + 1)?;
                if self.peek() != Some(']') {
                    return Err((
                        self.here(),
                        "expected `]` closing the list (at the end of the file)".into(),
                    ));
                }
                self.bump();
                Ok(Value::List(list))
            }
            Some('"') => {
                self.bump();
                let mut text = String::new();
                loop {
                    match self.chars.get(self.i).copied() {
                        None => return Err((start, "unterminated string".into())),
                        Some('"') => break,
                        Some(c) => text.push(c),
                    }
                    self.bump();
                }
                self.bump();
                Ok(Value::Scalar(
                    text.replace("&quot;", "\"").replace("&amp;", "&"),
                ))
            }
            Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => {
                let mut text = String::new();
                while let Some(c) = self.chars.get(self.i).copied() {
                    // An exponent only when digits follow, so `1edge` is
                    // `1` and the key `edge`.
                    let at = |k: usize| self.chars.get(self.i + k).copied();
                    let exponent = matches!(c, 'e' | 'E')
                        && !text.contains(['e', 'E'])
                        && (at(1).is_some_and(|d| d.is_ascii_digit())
                            || matches!(at(1), Some('-' | '+'))
                                && at(2).is_some_and(|d| d.is_ascii_digit()));
                    if c.is_ascii_digit() || c == '.' || (text.is_empty() && matches!(c, '-' | '+'))
                    {
                        text.push(c);
                        self.bump();
                    } else if exponent {
                        text.push(c);
                        self.bump();
                        if let Some(sign @ ('-' | '+')) = self.chars.get(self.i).copied() {
                            text.push(sign);
                            self.bump();
                        }
                    } else {
                        break;
                    }
                }
                Ok(Value::Scalar(text))
            }
            Some(c) => Err((
                start,
                format!("expected a number, a string or `[`, found {c:?}"),
            )),
            None => Err((start, "expected a value (at the end of the file)".into())),
        }
    }
}
