//! Fit progress on stderr: a bar with the step, loss, validation loss and
//! ETA on a terminal; periodic log lines with `--quiet` or when stderr is
//! not a terminal (a log file, CI).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Log lines per fit when there is no bar.
const LOG_LINES: usize = 10;

/// Reports the steps of a fit.
pub enum Progress {
    /// A live bar on a terminal.
    Bar(ProgressBar),
    /// A line every `every` steps.
    Log {
        /// Total steps.
        steps: usize,
        /// The step the fit started from (0, or a checkpoint's).
        from: usize,
        /// Steps between lines.
        every: usize,
        /// When the fit started (for the ETA).
        started: Instant,
    },
}

impl Progress {
    /// A bar on a terminal unless `quiet`; log lines otherwise. A fit
    /// resumed from a checkpoint starts at step `from`.
    pub fn new(steps: usize, from: usize, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            if from > 0 {
                eprintln!("resuming at step {from}/{steps}");
            }
            return Progress::Log {
                steps,
                from,
                every: steps.div_ceil(LOG_LINES).max(1),
                started: Instant::now(),
            };
        }
        let bar = ProgressBar::new(steps as u64).with_position(from as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} step {pos}/{len} [{bar:30}] {msg}  {elapsed} elapsed, ETA {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress::Bar(bar)
    }

    /// Reports step `step` (1-based) with its loss and the latest
    /// validation loss.
    pub fn step(&self, step: usize, loss: f64, validation: Option<f64>) {
        let message = message(loss, validation);
        match self {
            Progress::Bar(bar) => {
                bar.set_position(step as u64);
                bar.set_message(message);
            }
            Progress::Log {
                steps,
                from,
                every,
                started,
            } => {
                if step % every == 0 || step == *steps {
                    let per_step = started.elapsed().as_secs_f64() / (step - from).max(1) as f64;
                    let eta = per_step * (steps - step) as f64;
                    eprintln!("step {step}/{steps}  {message}  ETA {eta:.1}s");
                }
            }
        }
    }

    /// Ends the report (clears the bar's spinner, keeps its last line).
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish();
        }
    }
}

fn message(loss: f64, validation: Option<f64>) -> String {
    match validation {
        Some(valid) => format!("loss {loss:.5}  validation {valid:.5}"),
        None => format!("loss {loss:.5}"),
    }
}
