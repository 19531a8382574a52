//! Real data: the Sachs et al. (2005) flow-cytometry conditions fitted
//! jointly over a context graph.
//!
//! One context per experimental condition (nine, `data/sachs/conditions.csv`),
//! the 17-edge consensus network as the causal graph, linear-Gaussian or
//! additive mechanisms on `ln` intensities. The reagents inhibit or activate
//! a protein's *activity*, not its measured level (the level of MEK rises
//! under the MEK inhibitor U0126 while ERK collapses), so no condition is a
//! hard `do` on a measured variable: each perturbation is modelled as
//! "mechanism changed, unknown how" (context-specific parameters) for the
//! targeted protein and for its children in the graph, whose response to
//! the target's measured level is what the changed activity alters. The
//! two general-stimulation conditions are observational.
//!
//! Printed: the held-out log-likelihood per condition (80/20 split per
//! condition, seeded) of (a) a linear-Gaussian SCM fitted on the pooled
//! data, (b) the same over the context graph, (c) additive mechanisms over
//! the context graph; then leave-one-condition-out: each condition
//! predicted by models fitted on the other eight, the pooled fit against
//! the shared mechanisms of the context fit.
//!
//! Run with `cargo run --release --example sachs`.

use std::error::Error;

use causalgrad::context::{Context, ContextGraph};
use causalgrad::data::Dataset;
use causalgrad::fit::FitConfig;
use causalgrad::graph::CausalGraph;
use causalgrad::scm::{Mechanism, Scm};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sachs");
const SEED: u64 = 2005;
/// Adam steps per fit (full batch).
const STEPS: usize = 600;

/// One experimental condition: its name, its rows, and the protein its
/// reagent targets (none for general stimulation).
struct Condition {
    name: String,
    target: Option<String>,
    data: Dataset,
}

fn conditions() -> Result<Vec<Condition>, Box<dyn Error>> {
    let raw = Dataset::from_csv(format!("{DIR}/cyto_full_data.csv"))?;
    // ln of the intensities: all are positive (1 to 9058).
    let logged = Dataset::from_columns(raw.names().iter().map(|name| {
        let column = raw.column(name).expect("a listed column");
        (name.clone(), column.iter().map(|v| v.ln()).collect())
    }))?;
    if raw
        .names()
        .iter()
        .any(|n| raw.column(n).map_or(true, |c| c.iter().any(|&v| v <= 0.0)))
    {
        return Err("the intensities must be positive to take logarithms".into());
    }
    let table = std::fs::read_to_string(format!("{DIR}/conditions.csv"))?;
    let mut out = Vec::new();
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let [name, first, last, _, _, _, target] = cells.as_slice() else {
            return Err(format!("conditions.csv: bad line `{line}`").into());
        };
        let (first, last): (usize, usize) = (first.parse()?, last.parse()?);
        let rows: Vec<usize> = (first - 1..last).collect();
        out.push(Condition {
            name: name.to_string(),
            target: (!target.is_empty()).then(|| target.to_string()),
            data: logged.take_rows(&rows),
        });
    }
    Ok(out)
}

/// Column means and standard deviations of training data, to fit on a
/// standardised scale; log-likelihoods are reported on the `ln` scale.
struct Scale {
    mean: Vec<f64>,
    std: Vec<f64>,
    names: Vec<String>,
}

impl Scale {
    fn of(data: &Dataset) -> Scale {
        let names = data.names().to_vec();
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for name in &names {
            let c = data.column(name).expect("a listed column");
            let m = c.iter().sum::<f64>() / c.len() as f64;
            let v = c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / c.len() as f64;
            mean.push(m);
            std.push(v.sqrt());
        }
        Scale { mean, std, names }
    }

    fn apply(&self, data: &Dataset) -> Dataset {
        Dataset::from_columns(self.names.iter().enumerate().map(|(i, name)| {
            let c = data.column(name).expect("a listed column");
            (
                name.clone(),
                c.iter().map(|x| (x - self.mean[i]) / self.std[i]).collect(),
            )
        }))
        .expect("same columns")
    }

    /// Mean log-likelihood per row on the `ln` scale from the standardised
    /// one, counting the variables in `counted`.
    fn ln_scale(&self, standardised: f64, counted: &[&str]) -> f64 {
        standardised
            - self
                .names
                .iter()
                .zip(&self.std)
                .filter(|(n, _)| counted.contains(&n.as_str()))
                .map(|(_, s)| s.ln())
                .sum::<f64>()
    }
}

fn pooled(parts: &[&Dataset]) -> Dataset {
    let names = parts[0].names().to_vec();
    Dataset::from_columns(names.iter().map(|name| {
        let column = parts
            .iter()
            .flat_map(|d| d.column(name).expect("a listed column").iter().copied())
            .collect();
        (name.clone(), column)
    }))
    .expect("same columns")
}

fn model(graph: &CausalGraph, additive: bool) -> Result<Scm, Box<dyn Error>> {
    let mut builder = Scm::builder(graph.clone());
    if additive {
        for (i, variable) in graph.variables().enumerate() {
            let parents = graph.parents(variable)?.len();
            if parents > 0 {
                builder = builder.mechanism(variable, Mechanism::additive(parents, 4, i as u64));
            }
        }
    }
    Ok(builder.build()?)
}

/// The variables a condition's reagent changes: the target and its children.
fn changed(graph: &CausalGraph, target: &str) -> Result<Vec<String>, Box<dyn Error>> {
    let mut out = vec![target.to_string()];
    out.extend(graph.children(target)?.into_iter().map(String::from));
    Ok(out)
}

fn context_graph(
    graph: &CausalGraph,
    conditions: &[(&Condition, Dataset)],
) -> Result<ContextGraph, Box<dyn Error>> {
    let mut builder = ContextGraph::builder();
    for (condition, train) in conditions {
        let mut context = Context::new(condition.name.clone(), train.clone());
        if let Some(target) = &condition.target {
            for variable in changed(graph, target)? {
                context = context.changed(&variable);
            }
        }
        builder = builder.context(context);
    }
    Ok(builder.build()?)
}

fn config(steps: usize) -> FitConfig {
    FitConfig::adam(0.05).with_steps(steps).with_seed(SEED)
}

fn main() -> Result<(), Box<dyn Error>> {
    let start = std::time::Instant::now();
    let graph = CausalGraph::from_dot_file(format!("{DIR}/graph.dot"))?;
    let conditions = conditions()?;
    let names: Vec<&str> = graph.variables().collect();
    let splits: Vec<(Dataset, Dataset)> = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| c.data.split(0.2, SEED + i as u64))
        .collect();
    let trains: Vec<&Dataset> = splits.iter().map(|(t, _)| t).collect();
    let scale = Scale::of(&pooled(&trains));

    // (a) linear-Gaussian, pooled.
    let mut pooled_model = model(&graph, false)?;
    pooled_model.fit(&scale.apply(&pooled(&trains)), &config(STEPS))?;
    // (b) linear-Gaussian and (c) additive, over the context graph.
    let standardised: Vec<(&Condition, Dataset)> = conditions
        .iter()
        .zip(&splits)
        .map(|(c, (train, _))| (c, scale.apply(train)))
        .collect();
    let contexts = context_graph(&graph, &standardised)?;
    let mut linear = model(&graph, false)?;
    let linear = linear.fit_contexts(&contexts, &config(STEPS))?.fitted;
    let mut additive = model(&graph, true)?;
    let additive = additive.fit_contexts(&contexts, &config(STEPS))?.fitted;
    let first_part = start.elapsed().as_secs_f64();

    println!("Held-out log-likelihood per row (nats, ln intensities, 11 proteins), 20% of each condition");
    println!(
        "{:<18} {:>10} {:>5} | {:>10} {:>10} {:>10}",
        "condition", "target", "rows", "(a) pooled", "(b) ctx", "(c) ctx+add"
    );
    let mut totals = [0.0f64; 3];
    let mut rows_total = 0usize;
    for (condition, (_, test)) in conditions.iter().zip(&splits) {
        let test_std = scale.apply(test);
        let ll = |scm: &Scm| -> Result<f64, Box<dyn Error>> {
            Ok(scale.ln_scale(scm.log_likelihood(&test_std)?, &names))
        };
        let values = [
            ll(&pooled_model)?,
            ll(&linear.in_context(&condition.name)?)?,
            ll(&additive.in_context(&condition.name)?)?,
        ];
        for (total, v) in totals.iter_mut().zip(values) {
            *total += v * test.n_rows() as f64;
        }
        rows_total += test.n_rows();
        println!(
            "{:<18} {:>10} {:>5} | {:>10.3} {:>10.3} {:>10.3}",
            condition.name,
            condition.target.as_deref().unwrap_or("-"),
            test.n_rows(),
            values[0],
            values[1],
            values[2]
        );
    }
    println!(
        "{:<18} {:>10} {:>5} | {:>10.3} {:>10.3} {:>10.3}",
        "all (row-weighted)",
        "",
        rows_total,
        totals[0] / rows_total as f64,
        totals[1] / rows_total as f64,
        totals[2] / rows_total as f64
    );

    // Leave one condition out: fit on the other eight (their training
    // rows), predict all rows of the held-out one. Its reagent's effect is
    // unknown, so the changed variables (target and children) are
    // conditioned on and the others scored.
    println!("\nLeave one condition out: log-likelihood per row of the held-out condition's unchanged proteins");
    println!(
        "{:<18} {:>8} | {:>10} {:>10} {:>8}",
        "held out", "scored", "pooled", "ctx shared", "gain"
    );
    let mut wins = 0;
    let mut gains = Vec::new();
    for (h, held) in conditions.iter().enumerate() {
        let others: Vec<usize> = (0..conditions.len()).filter(|&i| i != h).collect();
        let train: Vec<&Dataset> = others.iter().map(|&i| &splits[i].0).collect();
        let fold_scale = Scale::of(&pooled(&train));
        let mut pooled_fold = model(&graph, false)?;
        pooled_fold.fit(&fold_scale.apply(&pooled(&train)), &config(STEPS))?;
        let fold: Vec<(&Condition, Dataset)> = others
            .iter()
            .map(|&i| (&conditions[i], fold_scale.apply(&splits[i].0)))
            .collect();
        let mut shared = model(&graph, false)?;
        shared.fit_contexts(&context_graph(&graph, &fold)?, &config(STEPS))?;
        let conditioned: Vec<String> = match &held.target {
            Some(target) => changed(&graph, target)?,
            None => Vec::new(),
        };
        let clamp: Vec<(&str, f64)> = conditioned.iter().map(|v| (v.as_str(), 0.0)).collect();
        let scored: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !conditioned.iter().any(|c| c == n))
            .collect();
        let data = fold_scale.apply(&held.data);
        // Intervening excludes a variable's term; children still read its data.
        let ll = |scm: &Scm| -> Result<f64, Box<dyn Error>> {
            let ll = scm.intervene(&clamp)?.log_likelihood(&data)?;
            Ok(fold_scale.ln_scale(ll, &scored))
        };
        let (p, s) = (ll(&pooled_fold)?, ll(&shared)?);
        if s > p {
            wins += 1;
        }
        gains.push(s - p);
        println!(
            "{:<18} {:>8} | {:>10.3} {:>10.3} {:>+8.3}",
            held.name,
            format!("{}/{}", scored.len(), names.len()),
            p,
            s,
            s - p
        );
    }
    println!(
        "context fit better in {wins} of {} held-out conditions; mean gain {:+.3} nats per row",
        conditions.len(),
        gains.iter().sum::<f64>() / gains.len() as f64
    );
    println!(
        "\n{STEPS} Adam steps per fit; fits (a)-(c) {first_part:.1} s, in all {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
