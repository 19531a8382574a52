//! `causalgrad plot`: SVG figures of a fitted model.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::inputs::{self, Assignment};
use crate::model_file;
use crate::output::Output;
use crate::plot;

/// Draw SVG figures of a fitted model into a directory: the fit's loss
/// curves, fitted against observed values per variable, the causal graph,
/// and for each --do the distributions under that intervention.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  causalgrad plot --model model.cg --data data/scm5/test_10k.csv --out report/
  causalgrad plot --model model.cg --data test.csv --do x2=1 --do x2=-1 --out report/

Writes report/loss.svg (from model.cg.report.json, written by `fit`),
report/fit.svg, report/graph.svg and report/do_<var>_<value>.svg per --do.
Each --do is its own figure. Open them in a browser.")]
pub struct PlotArgs {
    /// A model written by `causalgrad fit`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Data to compare the fit with (CSV with a column per variable).
    #[arg(long, value_name = "CSV")]
    pub data: PathBuf,
    /// The directory for the figures (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// An intervention to draw: do(VAR = VALUE). Repeat for several figures.
    #[arg(long = "do", value_name = "VAR=VALUE", value_parser = inputs::parse_assignment)]
    pub interventions: Vec<Assignment>,
    /// Samples per distribution in the intervention figures.
    #[arg(short = 'n', long = "samples", default_value_t = 20_000)]
    pub samples: usize,
    /// Seed of the samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `plot`.
pub fn run(args: PlotArgs) -> Result<Output, CliError> {
    if args.samples < 10 {
        return Err(CliError::Usage(
            "-n must be at least 10 for a histogram".into(),
        ));
    }
    let scm = model_file::load(&args.model)?;
    let record = model_file::load_record(&args.model)?;
    let data = inputs::data(&args.data, &args.model, scm.variables())?;
    let known: Vec<String> = scm.variables().map(str::to_string).collect();
    inputs::check_assignments(&args.interventions, &known)?;
    std::fs::create_dir_all(&args.out).map_err(|source| CliError::Write {
        path: args.out.clone(),
        source,
    })?;

    let mut figures = Vec::new();
    let mut skipped = Vec::new();
    match &record {
        Some(record) => {
            let path = args.out.join("loss.svg");
            plot::render(&path, (900, 520), |area| plot::loss::draw(area, record))?;
            figures.push(figure("loss", &path));
        }
        None => skipped.push(format!(
            "loss: no {} beside the model (it is written by `causalgrad fit`)",
            model_file::record_path(&args.model).display()
        )),
    }
    let path = args.out.join("fit.svg");
    plot::render(&path, plot::fit::size(known.len()), |area| {
        plot::fit::draw(area, &scm, &data)
    })?;
    figures.push(figure("fit", &path));
    let path = args.out.join("graph.svg");
    plot::render(&path, plot::graph::size(scm.graph()), |area| {
        plot::graph::draw(area, scm.graph())
    })?;
    figures.push(figure("graph", &path));
    if !args.interventions.is_empty() {
        let observational = scm.sample(args.samples, args.seed)?;
        for assignment in &args.interventions {
            let intervened = scm
                .intervene(&[(assignment.variable.as_str(), assignment.value)])?
                .sample(args.samples, args.seed)?;
            let names: Vec<&str> = scm
                .variables()
                .filter(|name| *name != assignment.variable)
                .collect();
            let label = inputs::assignments_text(std::slice::from_ref(assignment));
            let path = args.out.join(figure_name(assignment));
            plot::render(&path, plot::interventions::size(names.len()), |area| {
                plot::interventions::draw(area, &names, &observational, &intervened, &label)
            })?;
            figures.push(figure("intervention", &path));
        }
    }

    let mut text = format!(
        "wrote {} figures to {}:\n",
        figures.len(),
        args.out.display()
    );
    for figure in &figures {
        text.push_str(&format!(
            "  {}\n",
            figure["path"].as_str().unwrap_or_default()
        ));
    }
    for note in &skipped {
        text.push_str(&format!("skipped {note}\n"));
    }
    let json = json!({ "out": args.out, "figures": figures, "skipped": skipped });
    Ok(Output { text, json })
}

/// A figure's entry in the JSON output.
fn figure(kind: &str, path: &Path) -> serde_json::Value {
    json!({ "kind": kind, "path": path })
}

/// `do_x2_1.svg`, `do_x2_-0.5.svg`.
fn figure_name(assignment: &Assignment) -> PathBuf {
    let safe: String = assignment
        .variable
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Path::new(&format!("do_{safe}_{}.svg", assignment.value)).to_path_buf()
}
