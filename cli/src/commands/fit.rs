//! `causalgrad fit`: fit a model to data and save it.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use causalgrad::fit::{FitConfig, FitDevice, StopReason};
use clap::Args;
use serde_json::json;

use crate::error::CliError;
use crate::inputs;
use crate::model_file::{self, FitRecord};
use crate::output::Output;
use crate::progress::Progress;
use crate::spec::ModelSpec;

/// Fit a structural causal model to CSV data on a causal graph by
/// maximum likelihood (Adam through burn) and save it.
#[derive(Debug, Args)]
#[command(after_help = r#"Examples:
  causalgrad fit --data data/scm5/train_10k.csv --graph data/scm5/graph.dot --out model.cg
  causalgrad fit --data train.csv --graph graph.dot --model model.toml --out model.cg \
      --steps 2000 --lr 0.005 --batch 1024 --seed 3 --quiet
  causalgrad fit --data train.csv --graph graph.dot --out model.cg --steps 5000 --checkpoint-every 500
  causalgrad fit --data train.csv --graph graph.dot --out model.cg --steps 5000 --checkpoint-every 500 --resume

Without --model every variable with parents gets a tanh MLP of its parents
(one hidden layer of 16 units) and every root a learned mean; all get
additive Gaussian noise with a learned scale. A model.toml chooses per
variable (variables left out keep the defaults):

  [x2]
  mechanism = "linear"                                  # b + sum of w_i * parent_i
  [x3]
  mechanism = { additive = { hidden = 8 } }             # b + sum of one small MLP per parent
  [x4]
  mechanism = { mlp = { hidden = [16], activation = "tanh" } }   # tanh, relu, sigmoid, silu, gelu
  noise = { gaussian = { scale = 0.2 } }                # learned, starting at 0.2

The fit's loss curves are saved beside the model as <out>.report.json (for
`causalgrad plot`). Progress is a bar on a terminal, and a log line every
tenth of the steps with --quiet or when stderr is not a terminal.

With --checkpoint-every K the fit writes <out>.checkpoint every K steps;
after an interruption, the same command with --resume goes on from it and
follows the same loss curve (the settings must be the same; --steps may
grow)."#)]
pub struct FitArgs {
    /// Training data: a CSV file with a column per graph variable.
    #[arg(long, value_name = "CSV")]
    pub data: PathBuf,
    /// The causal graph (DOT).
    #[arg(long, value_name = "DOT")]
    pub graph: PathBuf,
    /// Mechanism and noise per variable (TOML; see below).
    #[arg(long = "model", value_name = "TOML")]
    pub spec: Option<PathBuf>,
    /// Where to save the fitted model.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Optimisation steps.
    #[arg(long, default_value_t = 500)]
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
    /// evaluations, keeping the best parameters.
    #[arg(long, value_name = "EVALUATIONS")]
    pub patience: Option<usize>,
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
    let mut scm = spec.build(graph.clone(), args.seed)?;
    let data = inputs::data(&args.data, &args.graph, graph.variables())?;
    let mut config = FitConfig::adam(args.lr)
        .steps(args.steps)
        .seed(args.seed)
        .validation(args.validation)
        .eval_every(args.eval_every);
    if let Some(rows) = args.batch {
        config = config.batch_size(rows);
    }
    if let Some(patience) = args.patience {
        config = config.early_stopping(patience);
    }
    let checkpoint = checkpoint_path(&args.out);
    if let Some(every) = args.checkpoint_every {
        config = config.checkpoint(&checkpoint, every);
    }
    if args.resume {
        if args.checkpoint_every.is_none() {
            config = config.checkpoint(&checkpoint, args.steps);
        }
        config = config.resume();
    }
    config = config.device(args.device);

    let started = Instant::now();
    let fit_error = |source| CliError::Fit {
        data: args.data.clone(),
        source: Box::new(source),
    };
    let mut trainer = scm.trainer(&data, &config).map_err(fit_error)?;
    let resumed_from = trainer.steps_taken();
    let progress = Progress::new(args.steps, resumed_from, args.quiet);
    let mut stop = StopReason::Completed;
    while trainer.steps_taken() < args.steps && !trainer.early_stop_requested() {
        let loss = match trainer.step() {
            Ok(loss) => loss,
            Err(error) => {
                progress.finish();
                return Err(fit_error(error));
            }
        };
        let validation = trainer.validation_loss().map(|(_, loss)| loss);
        progress.step(trainer.steps_taken(), loss, validation);
    }
    progress.finish();
    if trainer.early_stop_requested() {
        stop = StopReason::EarlyStopped {
            step: trainer.steps_taken(),
        };
    }
    let report = trainer.finish(stop).map_err(fit_error)?;
    let seconds = started.elapsed().as_secs_f64();

    model_file::save(&scm, &args.out)?;
    let record = FitRecord {
        data: args.data.clone(),
        graph: args.graph.clone(),
        spec: args.spec.clone(),
        steps: report.losses.len(),
        learning_rate: args.lr,
        batch_size: args.batch,
        seed: args.seed,
        validation_fraction: args.validation,
        losses: report.losses.clone(),
        validation: report.validation.clone(),
        stop: match report.stop {
            StopReason::Completed => "completed",
            StopReason::EarlyStopped { .. } => "early_stopped",
        }
        .to_string(),
        seconds,
    };
    model_file::save_record(&record, &args.out)?;

    let final_loss = scm
        .log_likelihood(&data)
        .map(|ll| -ll)
        .map_err(CliError::from)?;
    let mut variables = Vec::new();
    let mut text = format!(
        "fitted {} variables to {} rows of {} in {} steps ({seconds:.1} s{})\n",
        graph.len(),
        data.n_rows(),
        args.data.display(),
        record.steps,
        if record.stop == "early_stopped" {
            ", stopped early"
        } else {
            ""
        }
    );
    writeln!(
        text,
        "loss (mean negative log-likelihood per row) {final_loss:.5}"
    )
    .expect("to a string");
    if let Some(valid) = report.final_validation_loss {
        writeln!(text, "validation loss {valid:.5}").expect("to a string");
    }
    for name in scm.variables() {
        let mechanism = scm.mechanism(name)?.describe();
        let scale = scm.noise(name)?.scale();
        writeln!(text, "  {name}: {mechanism}, noise scale {scale:.4}").expect("to a string");
        variables.push(json!({
            "name": name,
            "parents": graph.parents(name).map_err(|source| CliError::Graph { source })?,
            "mechanism": mechanism,
            "noise_scale": scale,
        }));
    }
    let report_path = model_file::record_path(&args.out);
    writeln!(
        text,
        "saved {} (and {})",
        args.out.display(),
        report_path.display()
    )
    .expect("to a string");
    if config.checkpoint.is_some() {
        writeln!(text, "checkpoint {}", checkpoint.display()).expect("to a string");
    }
    let json = json!({
        "model": args.out,
        "report": report_path,
        "checkpoint": config.checkpoint.as_ref().map(|_| &checkpoint),
        "resumed_from_step": resumed_from,
        "device": args.device_name(),
        "rows": data.n_rows(),
        "steps": record.steps,
        "stop": record.stop,
        "final_loss": final_loss,
        "final_validation_loss": report.final_validation_loss,
        "seconds": seconds,
        "variables": variables,
    });
    Ok(Output { text, json })
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
