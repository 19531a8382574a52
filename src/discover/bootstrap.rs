//! Edge stability: the share of bootstrap resamples in whose learned DAG
//! each edge appears. Rows are resampled with replacement within each
//! context, so every condition keeps its size; resamples run in parallel.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::problem::Problem;
use super::{result, DiscoverConfig, DiscoverError};
use crate::context::ContextGraph;
use crate::data::Dataset;

/// What to resample.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// One observational data set (all its columns).
    Data(&'a Dataset),
    /// A context graph over these variables.
    Contexts(&'a ContextGraph, &'a [String]),
}

/// `stability[[i, j]]`: the share of `resamples` bootstrap resamples
/// (seeded from `config.seed`) whose learned DAG has `i -> j`.
pub fn bootstrap(
    input: Input<'_>,
    config: &DiscoverConfig,
    resamples: usize,
) -> Result<Array2<f64>, DiscoverError> {
    if resamples == 0 {
        return Err(DiscoverError::Config {
            setting: "bootstrap",
            why: "at least one resample".to_string(),
        });
    }
    config.check()?;
    let problem = match input {
        Input::Data(data) => Problem::from_dataset(data, data.names(), config.standardize)?,
        Input::Contexts(graph, variables) => {
            Problem::from_contexts(graph, variables, config.standardize)?
        }
    };
    let mut by_context: Vec<Vec<usize>> = Vec::new();
    for (row, &c) in problem.context_of_row.iter().enumerate() {
        if by_context.len() <= c {
            by_context.resize(c + 1, Vec::new());
        }
        by_context[c].push(row);
    }
    let d = problem.names.len();
    let found: Vec<Result<Vec<(usize, usize)>, DiscoverError>> = (0..resamples)
        .into_par_iter()
        .map(|k| {
            let seed = config.seed.wrapping_add(1 + k as u64);
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let rows: Vec<usize> = by_context
                .iter()
                .flat_map(|rows| {
                    (0..rows.len())
                        .map(|_| rows[rng.random_range(0..rows.len())])
                        .collect::<Vec<_>>()
                })
                .collect();
            let resampled = problem.resampled(&rows);
            let mut config = config.clone();
            config.seed = seed;
            let learned = result::run(&resampled, &config, &mut |_| {})?;
            Ok(learned
                .edges
                .iter()
                .map(|e| {
                    let i = problem
                        .names
                        .iter()
                        .position(|n| *n == e.from)
                        .expect("a variable");
                    let j = problem
                        .names
                        .iter()
                        .position(|n| *n == e.to)
                        .expect("a variable");
                    (i, j)
                })
                .collect())
        })
        .collect();
    let mut share = Array2::<f64>::zeros((d, d));
    for edges in found {
        for (i, j) in edges? {
            share[[i, j]] += 1.0 / resamples as f64;
        }
    }
    Ok(share)
}
