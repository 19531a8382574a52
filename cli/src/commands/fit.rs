//! `causalgrad fit`: fit a model to data and save it.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use causalgrad::context::{ContextGraph, ContextIntervention, FittedContexts};
use std::collections::BTreeMap;

use causalgrad::fit::select::{select, Candidate, SelectConfig};
use causalgrad::fit::{
    FitConfig, FitDevice, MemberConfig, StopReason, DEFAULT_MEMBERS, MIN_WINDOW, TOLERANCE,
};
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Mechanism, MechanismSpec, Scm, VariableKind};
use clap::Args;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::inputs;
use crate::model_file::{self, FitRecord};
use crate::output::Output;
use crate::progress::Progress;
use crate::spec::{MechanismChoice, ModelSpec};

/// Fit a structural causal model to CSV data on a causal graph by
/// maximum likelihood (Adam through burn) and save it.
#[derive(Debug, Args)]
#[command(after_help = r#"Examples:
  causalgrad fit --data data/scm5/train_10k.csv --graph data/scm5/graph.dot --out model.cg
  causalgrad fit --data train.csv --graph graph.dot --model model.toml --out model.cg \
      --steps 2000 --lr 0.005 --batch 1024 --seed 3 --quiet
  causalgrad fit --data train.csv --graph graph.dot --out model.cg --steps 5000 --checkpoint-every 500
  causalgrad fit --data train.csv --graph graph.dot --out model.cg --steps 5000 --checkpoint-every 500 --resume
  causalgrad fit --contexts data/scm5/contexts.toml --graph data/scm5/graph.dot --out contexts.cg

Without --model every variable with parents gets a tanh MLP of its parents
(one hidden layer of 16 units) and every root a learned mean; continuous
variables get additive noise from a mixture of three Gaussians with learned
weights, means and scales (skewed or heavy-tailed errors come out right;
noise = "gaussian" for a single Gaussian), the other kinds their kind's
family. A model.toml chooses per variable (variables left out keep the
defaults):

  [x2]
  mechanism = "linear"                                  # b + sum of w_i * parent_i
  [x3]
  mechanism = { additive = { hidden = 8 } }             # b + sum of one small MLP per parent
  [x4]
  mechanism = { mlp = { hidden = [16], activation = "tanh" } }   # tanh, relu, sigmoid, silu, gelu
  noise = { gaussian = { scale = 0.2 } }                # learned, starting at 0.2 standard deviations
  [x5]
  mechanism = { formula = "f * exp(-g * x3^2) + h * x4", init = { f = 0.5, g = 0.5, h = 0.0 } }
                                                        # parents by name, parameters declared (docs/formulas.md)

The fit's loss curves are saved beside the model as <out>.report.json (for
`causalgrad plot`). Progress is a bar on a terminal, and a log line every
tenth of the steps with --quiet or when stderr is not a terminal.

With --checkpoint-every K the fit writes <out>.checkpoint every K steps;
after an interruption, the same command with --resume goes on from it and
follows the same loss curve (the settings must be the same; --steps may
grow).

With --contexts instead of --data, the model is fitted jointly over the
data sets of a context graph (TOML; see docs/contexts.md): each context
names its CSV file and the interventions active in it (`do`, `shift`,
`shifted` for mechanisms changed in an unknown way). The model file then
also holds every context, and `sample`, `effect` and `counterfactual` take
--context NAME. Early stopping and checkpoints are for --data fits only."#)]
pub struct FitArgs {
    /// Training data: a CSV file with a column per graph variable.
    #[arg(
        long,
        value_name = "CSV",
        required_unless_present = "contexts",
        conflicts_with = "contexts"
    )]
    pub data: Option<PathBuf>,
    /// A context graph (TOML): data sets from several environments or
    /// experimental conditions with their interventions, fitted jointly.
    #[arg(
        long,
        value_name = "TOML",
        conflicts_with_all = ["checkpoint_every", "resume"]
    )]
    pub contexts: Option<PathBuf>,
    /// The causal graph (DOT).
    #[arg(long, value_name = "DOT")]
    pub graph: PathBuf,
    /// Mechanism and noise per variable (TOML; see below).
    #[arg(long = "model", value_name = "TOML")]
    pub spec: Option<PathBuf>,
    /// Where to save the fitted model.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The most optimisation steps (the fit stops earlier once the
    /// validation loss stops improving; see --patience).
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-2)]
    pub lr: f64,
    /// Rows per mini-batch (default: all rows every step).
    #[arg(long, value_name = "ROWS")]
    pub batch: Option<usize>,
    /// Seed of the initial weights, the batches and the validation split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fraction of the rows held out to report a validation loss (0: none).
    #[arg(long, default_value_t = 0.1)]
    pub validation: f64,
    /// Steps between validation evaluations.
    #[arg(long, default_value_t = 25, value_name = "STEPS")]
    pub eval_every: usize,
    /// Stop once the validation loss has not improved for this many
    /// evaluations, keeping the best parameters (0: run every step).
    #[arg(long, value_name = "EVALUATIONS", default_value_t = 10)]
    pub patience: usize,
    /// Write a checkpoint (<out>.checkpoint) every this many steps and
    /// after the last, so an interrupted fit can go on with --resume.
    #[arg(long, value_name = "STEPS")]
    pub checkpoint_every: Option<usize>,
    /// Go on from <out>.checkpoint (if it exists) up to --steps, with the
    /// same settings; without a checkpoint the fit starts afresh.
    #[arg(long)]
    pub resume: bool,
    /// Where to train: flex (burn's pure-Rust CPU backend), or cpu, cuda,
    /// cuda:N, wgpu in a build with that cargo feature.
    #[arg(long, default_value = "flex", value_parser = parse_device)]
    pub device: FitDevice,
    /// Ensemble members fitted after the model (each to a bootstrap
    /// resample of the rows, from fresh initial weights, in parallel);
    /// `effect` reads them for its interval. 0: none (`effect` then gives
    /// the Monte-Carlo error only). Over contexts, each member refits
    /// every context's resampled rows.
    #[arg(long, value_name = "K", default_value_t = DEFAULT_MEMBERS)]
    pub members: usize,
    /// Choose each variable's mechanism (linear, additive, or the default
    /// MLP of 16 units) and, for a continuous variable, its noise
    /// (Gaussian or a mixture) by held-out log-likelihood: every candidate
    /// is fitted, in parallel, and each variable keeps the simplest that
    /// scores within 0.002 nats per row of the best. Variables the model
    /// file declares keep their declaration. Needs --validation above 0.
    #[arg(long, conflicts_with_all = ["contexts", "resume"])]
    pub select: bool,
    /// Log lines instead of a progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `fit`.
pub fn run(args: FitArgs) -> Result<Output, CliError> {
    if !(0.0..1.0).contains(&args.validation) {
        return Err(CliError::Usage(format!(
            "--validation {} is not a fraction in [0, 1); use e.g. --validation 0.1, or 0 for none",
            args.validation
        )));
    }
    check_directory(&args.out)?;
    let graph = inputs::graph(&args.graph)?;
    let spec = match &args.spec {
        Some(path) => ModelSpec::from_file(path)?,
        None => ModelSpec::default(),
    };
    let mut config = FitConfig::default()
        .with_learning_rate(args.lr)
        .with_steps(args.steps)
        .with_seed(args.seed)
        .with_validation(args.validation)
        .with_eval_every(args.eval_every)
        .with_device(args.device);
    if let Some(rows) = args.batch {
        config = config.with_batch_size(rows);
    }
    config = match args.patience {
        0 => config.without_early_stopping(),
        patience => config.with_early_stopping(patience),
    };
    match (&args.data, &args.contexts) {
        (_, Some(contexts)) => fit_contexts(&args, contexts, &graph, &spec, &config),
        (Some(data), None) => fit_data(&args, data, &graph, &spec, config),
        (None, None) => Err(CliError::Usage(
            "give the training data with --data CSV, or a context graph with --contexts TOML"
                .into(),
        )),
    }
}

/// The model to fit: `spec`'s choices on `graph`, each variable of the
/// kind its declaration or `data` gives (the data's categorical columns
/// coded in one level order).
fn model_for(
    args: &FitArgs,
    spec: &ModelSpec,
    graph: &CausalGraph,
    data: Vec<&mut causalgrad::data::Dataset>,
) -> Result<Scm, CliError> {
    let kinds = spec.resolve_kinds(graph, data)?;
    warn(spec, graph, &kinds);
    let lanes = args.device == FitDevice::Flex;
    spec.build(graph.clone(), args.seed, lanes, &kinds)
}

/// Prints the model file's warnings (a parent a formula never reads) to
/// stderr, `--quiet` or not: each is a likely mistake in the model.
fn warn(spec: &ModelSpec, graph: &CausalGraph, kinds: &BTreeMap<String, VariableKind>) {
    for warning in spec.warnings(graph, kinds) {
        eprintln!("{warning}");
    }
}

/// `fit --select`: the candidates of [`SelectConfig::default`] on
/// `graph` (variables `spec` declares keep their declaration), fitted
/// and chosen among per variable; the selected model, fitted, and the
/// selection's text and JSON.
fn select_model(
    args: &FitArgs,
    spec: &ModelSpec,
    graph: &CausalGraph,
    kinds: &BTreeMap<String, VariableKind>,
    data: &causalgrad::data::Dataset,
    config: &FitConfig,
) -> Result<(Scm, String, Value), CliError> {
    let lanes = args.device == FitDevice::Flex;
    let declared_noise = graph
        .variables()
        .filter(|name| spec.declared_noise(name))
        .map(str::to_string);
    let settings = SelectConfig::default().keeping_noise(declared_noise);
    let candidates = settings
        .families()
        .iter()
        .map(|family| {
            let default = MechanismChoice::from(family);
            Ok(Candidate {
                label: family.name(),
                model: spec.build_with(graph.clone(), args.seed, lanes, kinds, &default)?,
            })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    if !args.quiet {
        eprintln!(
            "selecting mechanisms: fitting {} candidates in parallel, then {} noise famil{}",
            candidates.len(),
            settings.noises().len(),
            if settings.noises().len() == 1 {
                "y"
            } else {
                "ies"
            }
        );
    }
    let started = Instant::now();
    let selection =
        select(candidates, data, config, &settings).map_err(|source| CliError::Fit {
            data: args.data.clone().unwrap_or_default(),
            source: Box::new(source),
        })?;
    let seconds = started.elapsed().as_secs_f64();
    let mut text = format!(
        "mechanism selection: {} candidates in {seconds:.1} s, by mean log-likelihood per held-out row\n",
        selection.labels.len()
    );
    let mut variables = Vec::new();
    for choice in &selection.variables {
        let runner_up = choice
            .scores
            .iter()
            .enumerate()
            .filter(|&(k, s)| k != choice.chosen && s.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1));
        write!(
            text,
            "  {}: {} ({:.4}",
            choice.variable, selection.labels[choice.chosen], choice.scores[choice.chosen]
        )
        .expect("to a string");
        if let Some((k, score)) = runner_up {
            write!(text, "; best other {} {score:.4}", selection.labels[k]).expect("to a string");
        }
        text.push_str(")\n");
        let scores: serde_json::Map<String, Value> = selection
            .labels
            .iter()
            .zip(&choice.scores)
            .map(|(label, score)| (label.clone(), json!(score)))
            .collect();
        variables.push(json!({
            "name": choice.variable,
            "chosen": selection.labels[choice.chosen],
            "mechanism": choice.mechanism,
            "noise": choice.noise,
            "validation_log_likelihood": scores,
        }));
    }
    let json = json!({
        "candidates": selection.labels,
        "seconds": seconds,
        "candidate_seconds": selection.seconds,
        "candidate_steps": selection.reports.iter().map(|r| r.losses.len()).collect::<Vec<_>>(),
        "validation_log_likelihood": selection.validation_log_likelihood(),
        "variables": variables,
    });
    Ok((selection.model, text, json))
}

/// Fits `scm` to one CSV file.
fn fit_data(
    args: &FitArgs,
    data_path: &Path,
    graph: &CausalGraph,
    spec: &ModelSpec,
    mut config: FitConfig,
) -> Result<Output, CliError> {
    let (mut data, ignored) = inputs::data(data_path, &args.graph, graph.variables())?;
    let kinds = spec.resolve_kinds(graph, vec![&mut data])?;
    warn(spec, graph, &kinds);
    let lanes = args.device == FitDevice::Flex;
    let started = Instant::now();
    let (mut scm, selection) = if args.select {
        let (scm, text, json) = select_model(args, spec, graph, &kinds, &data, &config)?;
        (scm, Some((text, json)))
    } else {
        (spec.build(graph.clone(), args.seed, lanes, &kinds)?, None)
    };
    let scm = &mut scm;
    let checkpoint = checkpoint_path(&args.out);
    if let Some(every) = args.checkpoint_every {
        config = config.with_checkpoint(&checkpoint, every);
    }
    if args.resume {
        if args.checkpoint_every.is_none() {
            config = config.with_checkpoint(&checkpoint, args.steps);
        }
        config = config.with_resume();
    }

    let fit_error = |source| CliError::Fit {
        data: data_path.to_path_buf(),
        source: Box::new(source),
    };
    let trainer = scm.trainer(&data, &config).map_err(fit_error)?;
    let resumed_from = trainer.steps_taken();
    let progress = Progress::new(args.steps, resumed_from, args.quiet);
    let report = trainer.run_with(|p| progress.step(p.step, p.loss, p.validation));
    progress.finish();
    let report = report.map_err(fit_error)?;
    // The fit's own time; the members' is reported beside it.
    let fit_seconds = started.elapsed().as_secs_f64();
    let members_started = Instant::now();
    if args.members > 0 {
        if !args.quiet {
            eprintln!("fitting {} ensemble members in parallel", args.members);
        }
        let members = MemberConfig::new(args.members).with_seed(args.seed);
        scm.fit_members(&data, &config, &members)
            .map_err(fit_error)?;
    }
    let members_seconds = members_started.elapsed().as_secs_f64();
    let record = args.record(
        data_path,
        false,
        report.losses,
        report.validation,
        report.stop,
        fit_seconds,
    );

    model_file::save(scm, &args.out)?;
    model_file::save_record(&record, &args.out)?;

    let final_loss = scm
        .log_likelihood(&data)
        .map(|ll| -ll)
        .map_err(CliError::from)?;
    let mut text = args.summary(&record, data.n_rows(), graph.len(), data_path);
    if !ignored.is_empty() {
        writeln!(
            text,
            "note: {} column(s) of {} are not in the graph and were ignored: {}",
            ignored.len(),
            data_path.display(),
            ignored.join(", ")
        )
        .expect("to a string");
    }
    writeln!(
        text,
        "loss (mean negative log-likelihood per row) {final_loss:.5}"
    )
    .expect("to a string");
    if let Some(valid) = report.final_validation_loss {
        writeln!(text, "validation loss {valid:.5}").expect("to a string");
    }
    members_line(args.members, members_seconds, &mut text);
    if let Some((selection, _)) = &selection {
        text.push_str(selection);
    }
    let variables = describe_variables(scm, graph, spec, &mut text)?;
    let report_path = args.saved(&mut text);
    if config.checkpoint().is_some() {
        writeln!(text, "checkpoint {}", checkpoint.display()).expect("to a string");
    }
    let json = json!({
        "model": args.out,
        "report": report_path,
        "checkpoint": config.checkpoint().map(|_| &checkpoint),
        "resumed_from_step": resumed_from,
        "device": args.device_name(),
        "rows": data.n_rows(),
        "steps": record.steps,
        "stop": record.stop,
        "converged": record.converged,
        "ignored_columns": ignored,
        "final_loss": final_loss,
        "final_validation_loss": report.final_validation_loss,
        "seconds": record.seconds,
        "members": args.members,
        "members_seconds": members_seconds,
        "selection": selection.map(|(_, json)| json),
        "variables": variables,
    });
    Ok(Output { text, json })
}

/// Fits `scm` jointly over the contexts of a context-graph TOML file.
fn fit_contexts(
    args: &FitArgs,
    contexts_path: &Path,
    graph: &CausalGraph,
    spec: &ModelSpec,
    config: &FitConfig,
) -> Result<Output, CliError> {
    let mut contexts = ContextGraph::from_toml_file_for(contexts_path, graph)
        .map_err(|source| CliError::Contexts { source })?;
    let mut scm = model_for(args, spec, graph, contexts.datasets_mut())?;
    let rows: usize = contexts.contexts().map(|c| c.data.n_rows()).sum();
    let started = Instant::now();
    let fit_error = |source| CliError::Fit {
        data: contexts_path.to_path_buf(),
        source: Box::new(source),
    };
    let trainer = scm.context_trainer(&contexts, config).map_err(fit_error)?;
    let progress = Progress::new(args.steps, 0, args.quiet);
    let report = trainer.run_with(|p| progress.step(p.step, p.loss, p.validation));
    progress.finish();
    let mut report = report.map_err(fit_error)?;
    // The fit's own time; the members' is reported beside it.
    let fit_seconds = started.elapsed().as_secs_f64();
    let members_started = Instant::now();
    if args.members > 0 {
        if !args.quiet {
            eprintln!("fitting {} ensemble members in parallel", args.members);
        }
        let members = MemberConfig::new(args.members).with_seed(args.seed);
        report
            .fitted
            .fit_members(&contexts, config, &members)
            .map_err(fit_error)?;
    }
    let members_seconds = members_started.elapsed().as_secs_f64();
    let validation: Vec<(usize, f64)> = report
        .evaluations
        .iter()
        .map(|e| (e.step, e.objective))
        .collect();
    let last = report.evaluations.last().cloned();
    let record = args.record(
        contexts_path,
        true,
        report.losses,
        validation,
        report.stop,
        fit_seconds,
    );

    save_contexts(&report.fitted, &args.out)?;
    model_file::save_record(&record, &args.out)?;

    let mut text = args.summary(&record, rows, graph.len(), contexts_path);
    let held_out = if args.validation > 0.0 {
        "validation"
    } else {
        "training"
    };
    writeln!(
        text,
        "loss per context (mean negative log-likelihood per row, {held_out} rows):"
    )
    .expect("to a string");
    let mut context_json = Vec::new();
    let final_losses = last.map(|e| e.contexts).unwrap_or_default();
    for (fitted, (name, loss)) in report.fitted.contexts().iter().zip(&final_losses) {
        let interventions: Vec<String> = fitted
            .interventions
            .iter()
            .map(|(variable, intervention)| match intervention {
                ContextIntervention::Do(value) => format!("do({variable} = {value})"),
                ContextIntervention::Shift(delta) => format!("{variable} shifted by {delta}"),
                ContextIntervention::Changed => format!("{variable} changed"),
            })
            .collect();
        let active = if interventions.is_empty() {
            "observational".to_string()
        } else {
            interventions.join(", ")
        };
        writeln!(text, "  {name}: {loss:.5} ({active})").expect("to a string");
        context_json.push(json!({
            "name": name,
            "loss": loss,
            "interventions": interventions,
            "own_mechanisms": fitted.own.iter().map(|(v, ..)| v).collect::<Vec<_>>(),
        }));
    }
    members_line(args.members, members_seconds, &mut text);
    writeln!(text, "shared mechanisms:").expect("to a string");
    let variables = describe_variables(report.fitted.shared(), graph, spec, &mut text)?;
    let report_path = args.saved(&mut text);
    let json = json!({
        "model": args.out,
        "report": report_path,
        "contexts_file": contexts_path,
        "device": args.device_name(),
        "rows": rows,
        "steps": record.steps,
        "stop": record.stop,
        "converged": record.converged,
        "final_validation_loss": record.validation.last().map(|&(_, v)| v),
        "seconds": record.seconds,
        "members": args.members,
        "members_seconds": members_seconds,
        "contexts": context_json,
        "variables": variables,
    });
    Ok(Output { text, json })
}

/// The line saying how many members were fitted, if any.
fn members_line(members: usize, seconds: f64, text: &mut String) {
    if members > 0 {
        writeln!(
            text,
            "{members} ensemble members (bootstrap resamples, fresh initial weights) in {seconds:.1} s, for effect intervals"
        )
        .expect("to a string");
    }
}

/// Saves a model fitted over contexts.
fn save_contexts(fitted: &FittedContexts, path: &Path) -> Result<(), CliError> {
    fitted
        .save(path)
        .map_err(|source| CliError::ModelFile { source })
}

/// One line per variable in `text` (mechanism and noise scale), and the
/// same as JSON.
fn describe_variables(
    scm: &Scm,
    graph: &CausalGraph,
    spec: &ModelSpec,
    text: &mut String,
) -> Result<Vec<Value>, CliError> {
    let mut variables = Vec::new();
    for name in scm.variables() {
        let fitted = scm.mechanism(name)?;
        let named = named_params(fitted);
        let mut mechanism = fitted.describe();
        if let Some(named) = &named {
            let values: Vec<String> = named
                .iter()
                .map(|(param, value)| format!("{param} = {value:.4}"))
                .collect();
            write!(mechanism, " with {}", values.join(", ")).expect("to a string");
        }
        let noise = scm.noise(name)?;
        let kind = scm.kind(name)?;
        let scale = noise.scale();
        let family = noise.name();
        let how = if spec.declared_kind(name).is_some() {
            "declared"
        } else {
            "detected"
        };
        // Continuous variables found so are the unremarkable case.
        let kind_text = match (kind.levels(), kind.name(), how) {
            (_, "continuous", "detected") => String::new(),
            (Some(levels), _, _) => format!(" (categorical, {how}: {})", levels.join(", ")),
            (None, kind, _) => format!(" ({kind}, {how})"),
        };
        match scale {
            Some(scale) => writeln!(
                text,
                "  {name}{kind_text}: {mechanism}, {family} noise scale {scale:.4}"
            ),
            None => writeln!(text, "  {name}{kind_text}: {mechanism}, {family}"),
        }
        .expect("to a string");
        variables.push(json!({
            "name": name,
            "parents": graph.parents(name).map_err(|source| CliError::Graph { source })?,
            "kind": kind.name(),
            "kind_source": how,
            "levels": kind.levels(),
            "mechanism": fitted.describe(),
            "params": named.map(|named| {
                named
                    .into_iter()
                    .map(|(param, value)| (param, json!(value)))
                    .collect::<serde_json::Map<String, Value>>()
            }),
            "noise": family,
            "noise_params": noise.params(),
            "noise_scale": scale,
        }));
    }
    Ok(variables)
}

/// A formula mechanism's parameters by name, with their fitted values;
/// `None` for the other kinds (whose weights have no names).
fn named_params(mechanism: &Mechanism) -> Option<Vec<(String, f32)>> {
    match mechanism.spec()? {
        MechanismSpec::Formula { params, .. } => Some(
            params
                .into_iter()
                .zip(mechanism.params().iter().copied())
                .collect(),
        ),
        _ => None,
    }
}

/// The checkpoint's path beside the model: `model.cg.checkpoint`.
fn checkpoint_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// Parses `--device` (clap's value parser).
fn parse_device(text: &str) -> Result<FitDevice, String> {
    text.parse()
}

impl FitArgs {
    /// The record saved beside the model.
    fn record(
        &self,
        data: &Path,
        contexts: bool,
        losses: Vec<f64>,
        validation: Vec<(usize, f64)>,
        stop: StopReason,
        seconds: f64,
    ) -> FitRecord {
        let converged = stop.converged(&losses);
        FitRecord {
            data: data.to_path_buf(),
            contexts,
            graph: self.graph.clone(),
            spec: self.spec.clone(),
            steps: losses.len(),
            learning_rate: self.lr,
            batch_size: self.batch,
            seed: self.seed,
            validation_fraction: self.validation,
            losses,
            validation,
            stop: match stop {
                StopReason::Completed => "completed",
                StopReason::EarlyStopped { .. } => "early_stopped",
            }
            .to_string(),
            converged,
            seconds,
        }
    }

    /// The first line of the text output.
    fn summary(&self, record: &FitRecord, rows: usize, variables: usize, data: &Path) -> String {
        let mut text = format!(
            "fitted {variables} variables to {rows} rows of {} in {} steps ({:.1} s{})\n",
            data.display(),
            record.steps,
            record.seconds,
            if record.stop == "early_stopped" {
                ", stopped early"
            } else {
                ""
            }
        );
        if !record.converged {
            writeln!(
                text,
                "warning: not converged: the loss was still falling at the last step (by more than {}% over the last tenth of the steps, at least {MIN_WINDOW}); raise --steps or --lr",
                TOLERANCE * 100.0
            )
            .expect("to a string");
        }
        text
    }

    /// Notes where the model and report were saved; returns the report's path.
    fn saved(&self, text: &mut String) -> PathBuf {
        let report_path = model_file::record_path(&self.out);
        writeln!(
            text,
            "saved {} (and {})",
            self.out.display(),
            report_path.display()
        )
        .expect("to a string");
        report_path
    }

    /// The device as given, for the JSON output.
    fn device_name(&self) -> String {
        match self.device {
            FitDevice::Flex => "flex".into(),
            FitDevice::Cpu => "cpu".into(),
            FitDevice::Cuda(index) => format!("cuda:{index}"),
            FitDevice::Wgpu => "wgpu".into(),
        }
    }
}

/// Fails before fitting when the output's directory does not exist.
fn check_directory(out: &Path) -> Result<(), CliError> {
    match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(CliError::Write {
            path: out.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("the directory {} does not exist", dir.display()),
            ),
        }),
        _ => Ok(()),
    }
}
