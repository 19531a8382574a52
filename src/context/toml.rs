//! Loading a context graph from a TOML file.
//!
//! ```toml
//! weighting = "proportional"   # or "equal" (optional)
//! time = ["t0", "t1", "t2"]    # ordered time steps (optional)
//!
//! [[context]]
//! name = "baseline"
//! data = "obs.csv"             # relative to the TOML file
//!
//! [[context]]
//! name = "x2-clamped"
//! data = "clamped.csv"
//! do = { x2 = 1.0 }            # hard interventions
//! shift = { x1 = 0.5 }         # known shifts of a mechanism's mean
//! shifted = ["x3"]             # mechanisms changed in an unknown way
//! observed_at = "t1"           # a time step (optional)
//!
//! [[tie]]
//! contexts = ["baseline", "x2-clamped"]
//! strength = 10.0
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{Context, ContextError, ContextGraph, Weighting};
use crate::data::Dataset;
use crate::graph::CausalGraph;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    weighting: Option<Spanned<String>>,
    #[serde(default)]
    time: Vec<Spanned<String>>,
    #[serde(default)]
    context: Vec<Spanned<ContextEntry>>,
    #[serde(default)]
    tie: Vec<Spanned<TieEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextEntry {
    name: Spanned<String>,
    data: Spanned<String>,
    #[serde(default, rename = "do")]
    set: BTreeMap<String, f64>,
    #[serde(default)]
    shift: BTreeMap<String, f64>,
    #[serde(default)]
    shifted: Vec<String>,
    #[serde(default)]
    observed_at: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TieEntry {
    contexts: Spanned<Vec<Spanned<String>>>,
    strength: f64,
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl ContextGraph {
    /// Reads a context graph from a TOML file (see the [module
    /// docs](crate::context) for the format); data paths are relative to
    /// the file. Errors name the file, line and column.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ContextError> {
        load(path.as_ref(), None)
    }

    /// [`ContextGraph::from_toml_file`], also checking the data columns and
    /// interventions against `graph`, so that those errors name the line
    /// and column too.
    pub fn from_toml_file_for(
        path: impl AsRef<Path>,
        graph: &CausalGraph,
    ) -> Result<Self, ContextError> {
        load(path.as_ref(), Some(graph))
    }

    /// Parses a context graph from TOML `text`; data paths are relative to
    /// `base` and errors name `file`.
    pub fn from_toml_str(text: &str, base: &Path, file: &Path) -> Result<Self, ContextError> {
        parse(text, base, file, None)
    }
}

fn load(path: &Path, graph: Option<&CausalGraph>) -> Result<ContextGraph, ContextError> {
    let bytes = std::fs::read(path).map_err(|source| ContextError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let bytes = error.as_bytes();
        let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let (line, column) = line_column(prefix, valid);
        ContextError::Toml {
            file: path.to_path_buf(),
            line,
            column,
            message: format!(
                "the byte 0x{:02x} is not UTF-8; save the file as UTF-8",
                bytes[valid]
            ),
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base, path, graph)
}

fn parse(
    text: &str,
    base: &Path,
    file: &Path,
    graph: Option<&CausalGraph>,
) -> Result<ContextGraph, ContextError> {
    let at = |span: Range<usize>, source: ContextError| {
        let (line, column) = line_column(text, span.start);
        ContextError::InFile {
            file: file.to_path_buf(),
            line,
            column,
            source: Box::new(source),
        }
    };
    let parsed: File = toml::from_str(text).map_err(|error| {
        let (line, column) = line_column(text, error.span().map_or(0, |s| s.start));
        ContextError::Toml {
            file: file.to_path_buf(),
            line,
            column,
            message: error.message().trim().to_string(),
        }
    })?;
    let mut builder = ContextGraph::builder();
    if let Some(weighting) = &parsed.weighting {
        builder = builder.weighting(match weighting.get_ref().as_str() {
            "proportional" => Weighting::Proportional,
            "equal" => Weighting::Equal,
            other => {
                let (line, column) = line_column(text, weighting.span().start);
                return Err(ContextError::Toml {
                    file: file.to_path_buf(),
                    line,
                    column,
                    message: format!(
                        "unknown weighting `{other}`; expected `proportional` or `equal`"
                    ),
                });
            }
        });
    }
    for (i, step) in parsed.time.iter().enumerate() {
        builder = builder.time_step(step.get_ref());
        if i > 0 {
            builder = builder.next(parsed.time[i - 1].get_ref(), step.get_ref());
        }
    }
    for entry in &parsed.context {
        let entry = entry.get_ref();
        let data_path: PathBuf = base.join(entry.data.get_ref());
        let data = Dataset::from_csv(&data_path).map_err(|e| at(entry.data.span(), e.into()))?;
        let mut context = Context::new(entry.name.get_ref().clone(), data);
        for (variable, &value) in &entry.set {
            context = context.set(variable, value);
        }
        for (variable, &delta) in &entry.shift {
            context = context.shift(variable, delta);
        }
        for variable in &entry.shifted {
            context = context.changed(variable);
        }
        if let Some(step) = &entry.observed_at {
            context = context.observed_at(step.get_ref());
        }
        builder = builder.context(context);
    }
    for tie in &parsed.tie {
        let names = tie.get_ref().contexts.get_ref();
        let [a, b] = names.as_slice() else {
            let (line, column) = line_column(text, tie.get_ref().contexts.span().start);
            return Err(ContextError::Toml {
                file: file.to_path_buf(),
                line,
                column,
                message: format!(
                    "a tie joins exactly two contexts, this one names {}",
                    names.len()
                ),
            });
        };
        builder = builder.tie(a.get_ref(), b.get_ref(), tie.get_ref().strength);
    }
    let locate = |error: &ContextError| -> Range<usize> { span_of(&parsed, error) };
    let built = builder.build().map_err(|e| at(locate(&e), e))?;
    if let Some(graph) = graph {
        built
            .check_variables(graph)
            .map_err(|e| at(locate(&e), e))?;
    }
    Ok(built)
}

/// Where in the file the entry an error is about starts.
fn span_of(file: &File, error: &ContextError) -> Range<usize> {
    let context = |name: &str, last: bool| {
        let mut matching = file
            .context
            .iter()
            .filter(|c| c.get_ref().name.get_ref() == name);
        let found = if last {
            matching.next_back()
        } else {
            matching.next()
        };
        found.map(|c| c.span())
    };
    let tie = |a: &str, b: &str| {
        file.tie.iter().find_map(|t| {
            let names = t.get_ref().contexts.get_ref();
            let has = |n: &str| names.iter().any(|x| x.get_ref() == n);
            (has(a) && has(b)).then(|| t.span())
        })
    };
    let found = match error {
        ContextError::DuplicateContext { name } => context(name, true),
        ContextError::EmptyContext { context: name }
        | ContextError::UnknownDataVariable { context: name, .. } => file
            .context
            .iter()
            .find(|c| c.get_ref().name.get_ref() == name)
            .map(|c| c.get_ref().data.span()),
        ContextError::UnknownContext { name, .. } => file.tie.iter().find_map(|t| {
            t.get_ref()
                .contexts
                .get_ref()
                .iter()
                .find(|x| x.get_ref() == name)
                .map(|x| x.span())
        }),
        ContextError::BadTie { a, b, .. } => tie(a, b),
        ContextError::UnknownTimeStep {
            context: Some(name),
            ..
        } => file
            .context
            .iter()
            .find(|c| c.get_ref().name.get_ref() == name)
            .and_then(|c| c.get_ref().observed_at.as_ref().map(|s| s.span())),
        ContextError::DuplicateIntervention { context: name, .. }
        | ContextError::BadInterventionValue { context: name, .. }
        | ContextError::UnknownInterventionVariable { context: name, .. } => context(name, false),
        ContextError::DuplicateTimeStep { name } => file
            .time
            .iter()
            .filter(|s| s.get_ref() == name)
            .nth(1)
            .map(|s| s.span()),
        _ => None,
    };
    found.unwrap_or(0..0)
}
