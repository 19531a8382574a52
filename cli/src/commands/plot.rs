//! `causalgrad plot`: SVG or PNG figures of a fitted model.

use std::path::{Path, PathBuf};

use causalgrad::scm::ScmError;
use causalgrad::uncertainty::DIAGNOSTIC_SAMPLES;
use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::inputs::{self, Assignment};
use crate::model_file;
use crate::output::Output;
use crate::plot::{self, Format};

/// Draw figures (SVG, PNG or both) of a fitted model into a directory: the fit's loss
/// curves, fitted against observed values per variable, the causal graph,
/// and for each --do the distributions under that intervention.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  causalgrad plot --model model.cg --data data/scm5/test_10k.csv --out report/
  causalgrad plot --model model.cg --data test.csv --do x2=1 --do x2=-1 --out report/
  causalgrad plot --model model.cg --data test.csv --format png --format svg --out report/

Writes report/loss.svg (from model.cg.report.json, written by `fit`),
report/fit.svg, report/graph.svg, and per --do report/do_<var>_<value>.svg
(the distributions) and report/support_do_<var>_<value>.svg (the parents
of each downstream variable in the training data against under the
intervention, the samples outside the data in red), and the same as .png
with --format png.")]
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
    /// File format of the figures; repeat for several.
    #[arg(long = "format", value_enum, default_values_t = [Format::Svg])]
    pub formats: Vec<Format>,
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
    let (data, _) = inputs::data(&args.data, &args.model, scm.variables())?;
    let data = inputs::coded_for(&scm, data)?;
    let values = inputs::check_assignments(&args.interventions, &scm)?;
    std::fs::create_dir_all(&args.out).map_err(|source| CliError::Write {
        path: args.out.clone(),
        source,
    })?;

    let mut figures = Vec::new();
    let mut skipped = Vec::new();
    match &record {
        Some(record) => {
            let paths = plot::render(
                &args.out.join("loss"),
                &args.formats,
                &plot::loss::Loss(record),
            )?;
            figures.extend(paths.iter().map(|path| figure("loss", path)));
        }
        None => skipped.push(format!(
            "loss: no {} beside the model (it is written by `causalgrad fit`)",
            model_file::record_path(&args.model).display()
        )),
    }
    let fit = plot::fit::Fit {
        scm: &scm,
        data: &data,
    };
    let paths = plot::render(&args.out.join("fit"), &args.formats, &fit)?;
    figures.extend(paths.iter().map(|path| figure("fit", path)));
    let graph = plot::graph::Graph(scm.graph());
    let paths = plot::render(&args.out.join("graph"), &args.formats, &graph)?;
    figures.extend(paths.iter().map(|path| figure("graph", path)));
    if !args.interventions.is_empty() {
        let observational = scm.sample(args.samples, args.seed)?;
        for (assignment, &value) in args.interventions.iter().zip(&values) {
            let intervened = scm.intervene(&[value])?.sample(args.samples, args.seed)?;
            let names: Vec<&str> = scm
                .variables()
                .filter(|name| *name != assignment.variable)
                .collect();
            let label = inputs::assignments_text(std::slice::from_ref(assignment));
            let drawn = plot::interventions::Interventions {
                names: &names,
                observational: &observational,
                intervened: &intervened,
                label: &label,
            };
            let paths = plot::render(
                &args.out.join(figure_stem(assignment)),
                &args.formats,
                &drawn,
            )?;
            figures.extend(paths.iter().map(|path| figure("intervention", path)));
            let stem = format!("support_{}", figure_stem(assignment).display());
            match scm.support_against(&[value], DIAGNOSTIC_SAMPLES, args.seed) {
                Ok(views) if views.is_empty() => skipped.push(format!(
                    "{stem}: no variable with parents lies downstream of {label}"
                )),
                Ok(views) => {
                    let drawn = plot::support::Support {
                        views: &views,
                        label: &label,
                    };
                    let paths = plot::render(&args.out.join(&stem), &args.formats, &drawn)?;
                    figures.extend(paths.iter().map(|path| figure("support", path)));
                }
                Err(ScmError::NoSupport) => skipped.push(format!(
                    "{stem}: the model keeps no training rows (fitted over contexts, or by an older causalgrad)"
                )),
                Err(error) => return Err(error.into()),
            }
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

/// `do_x2_1`, `do_x2_-0.5` (the extension is the format's).
fn figure_stem(assignment: &Assignment) -> PathBuf {
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
    Path::new(&format!("do_{safe}_{}", assignment.value)).to_path_buf()
}
