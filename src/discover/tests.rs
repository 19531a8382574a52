//! Gradients of every family and score against central finite
//! differences, on problems with several groups (a hard `do`, a changed
//! mechanism, a known shift).

use rand::{RngExt, SeedableRng};

use super::knowledge::Masks;
use super::linear::Linear;
use super::mlp::Mlp;
use super::model::{Model, Score};
use super::problem::Problem;
use crate::context::{Context, ContextGraph};
use crate::data::Dataset;

fn dataset(seed: u64, n: usize) -> Dataset {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let columns: Vec<(String, Vec<f64>)> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            (
                name.to_string(),
                (0..n).map(|_| rng.random_range(-2.0..2.0)).collect(),
            )
        })
        .collect();
    Dataset::from_columns(columns).unwrap()
}

fn problem() -> Problem {
    let contexts = ContextGraph::builder()
        .context(Context::new("obs", dataset(1, 40)))
        .context(Context::new("do-b", dataset(2, 30)).set("b", 1.0))
        .context(Context::new("changed-c", dataset(3, 25)).changed("c"))
        .context(Context::new("shift-a", dataset(4, 20)).shift("a", 0.7))
        .build()
        .unwrap();
    let names = ["a", "b", "c"].map(String::from).to_vec();
    Problem::from_contexts(&contexts, &names, true).unwrap()
}

/// The gradient of `score + h_s(E)` (the optimiser's objective at μ = 1)
/// against central differences over every parameter.
fn check(model: &dyn Model, params: &[f64]) {
    let objective = |p: &[f64], grad: &mut [f64]| {
        grad.fill(0.0);
        let score = model.score(p, grad);
        let (h, dh) = super::log_det_acyclicity(&model.edges(p), 1.0).expect("in the domain");
        model.chain_edges(p, &dh, grad);
        score + h
    };
    let mut grad = vec![0.0; params.len()];
    objective(params, &mut grad);
    let mut scratch = vec![0.0; params.len()];
    let step = 1e-6;
    for i in 0..params.len() {
        // L1 is not differentiable at 0: check away from it.
        let (mut up, mut down) = (params.to_vec(), params.to_vec());
        up[i] += step;
        down[i] -= step;
        let fd = (objective(&up, &mut scratch) - objective(&down, &mut scratch)) / (2.0 * step);
        assert!(
            (fd - grad[i]).abs() < 1e-6 * (1.0 + fd.abs()),
            "parameter {i}: finite difference {fd}, gradient {}",
            grad[i]
        );
    }
}

#[test]
fn the_problem_drops_do_rows_and_separates_changed_contexts() {
    let p = problem();
    // a: every context shares its term (the shift is in its target).
    assert_eq!(p.groups[0].len(), 1);
    assert_eq!(p.groups[0][0].rows.len(), 115);
    // b: the `do` context's 30 rows are gone.
    assert_eq!(p.groups[1][0].rows.len(), 85);
    // c: the changed context is a group of its own.
    assert_eq!(p.groups[2].len(), 2);
    assert_eq!(p.groups[2][1].rows, (70..95).collect::<Vec<_>>());
    // The shift is subtracted from a's target in its context (standardised).
    let sd_a = {
        let col = p.x.column(0);
        (col[95] - p.targets[[95, 0]]) / 0.7
    };
    assert!(sd_a > 0.0 && p.x[[0, 0]] == p.targets[[0, 0]]);
}

#[test]
fn linear_gradients_match_finite_differences() {
    let p = problem();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for score in [Score::LeastSquares, Score::GaussianLikelihood] {
        let mut masks = Masks::none(3);
        masks.required[[0, 2]] = true;
        let model = Linear::new(&p, masks, score, 0.05);
        let mut params: Vec<f64> = (0..9).map(|_| rng.random_range(-0.4..0.4)).collect();
        for i in 0..3 {
            params[i * 3 + i] = 0.0;
        }
        check(&model, &params);
    }
}

#[test]
fn linear_scatter_matrices_give_the_residual_sum_of_squares() {
    let p = problem();
    let model = Linear::new(&p, Masks::none(3), Score::LeastSquares, 0.0);
    // W: a -> b with 0.5, c -> b with -0.3.
    let mut w = vec![0.0; 9];
    w[1] = 0.5;
    w[2 * 3 + 1] = -0.3;
    let mut grad = vec![0.0; 9];
    let value = model.score(&w, &mut grad);
    // By hand, from the rows: each group's residuals about their own mean.
    let mut expected = 0.0;
    for (j, groups) in p.groups.iter().enumerate() {
        for group in groups {
            let residuals: Vec<f64> = group
                .rows
                .iter()
                .map(|&r| {
                    p.targets[[r, j]] - (0..3).map(|i| w[i * 3 + j] * p.x[[r, i]]).sum::<f64>()
                })
                .collect();
            let mean = residuals.iter().sum::<f64>() / residuals.len() as f64;
            expected += residuals.iter().map(|r| (r - mean).powi(2)).sum::<f64>();
        }
    }
    expected /= 2.0 * p.n_rows() as f64;
    assert!((value - expected).abs() < 1e-10, "{value} vs {expected}");
}

#[test]
fn mlp_gradients_match_finite_differences() {
    let p = problem();
    for score in [Score::LeastSquares, Score::GaussianLikelihood] {
        let mut masks = Masks::none(3);
        masks.allowed[[2, 0]] = false;
        let model = Mlp::new(&p, masks, score, 4, 0.02, 0.01);
        let mut params = model.initial(3);
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        for x in params.iter_mut() {
            *x += rng.random_range(-0.3..0.3);
        }
        check(&model, &params);
    }
}

#[test]
fn linear_gradients_match_when_variables_share_scatter_matrices() {
    // One data set: all three variables read one scatter matrix. With a
    // `do` on b: a and c share theirs, b has its own rows.
    let one =
        Problem::from_dataset(&dataset(7, 50), &["a", "b", "c"].map(String::from), false).unwrap();
    let contexts = ContextGraph::builder()
        .context(Context::new("obs", dataset(8, 40)))
        .context(Context::new("do-b", dataset(9, 30)).set("b", 1.0))
        .build()
        .unwrap();
    let partly =
        Problem::from_contexts(&contexts, &["a", "b", "c"].map(String::from), true).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(10);
    for p in [one, partly] {
        for score in [Score::LeastSquares, Score::GaussianLikelihood] {
            let model = Linear::new(&p, Masks::none(3), score, 0.05);
            let mut params: Vec<f64> = (0..9).map(|_| rng.random_range(-0.4..0.4)).collect();
            for i in 0..3 {
                params[i * 3 + i] = 0.0;
            }
            check(&model, &params);
        }
    }
}

/// One stage (`μ = 0.5`, `s = 1`) of the linear family on the
/// three-context problem, solved by Adam (DAGMA's budget) and by the
/// quasi-Newton method: the latter reaches a point satisfying the stage's
/// optimality conditions (`∂f/∂θ_k + λ_k sign θ_k = 0` where `θ_k ≠ 0`,
/// `|∂f/∂θ_k| ≤ λ_k` where `θ_k = 0`, `f` the smooth part) in far fewer
/// iterations, with an objective no higher than Adam's. (A relative
/// tolerance of 10⁻¹⁰ on the objective leaves gradients of the order of
/// its square root.)
#[test]
fn quasi_newton_stage_meets_the_optimality_conditions() {
    use super::path::{solve, CentralPath, Solver};
    let p = problem();
    let mut masks = Masks::none(3);
    masks.required[[0, 2]] = true;
    let model = Linear::new(&p, masks, Score::LeastSquares, 0.05);
    let one_stage = |base: CentralPath| CentralPath {
        mu_init: 0.5,
        stages: 1,
        s: vec![1.0],
        ..base
    };
    let objective = |params: &[f64]| {
        let score = model.score(params, &mut [0.0; 9]);
        let (h, _) = super::log_det_acyclicity(&model.edges(params), 1.0).unwrap();
        0.5 * score + h
    };
    let adam_path = one_stage(CentralPath::linear());
    let qn_path = CentralPath {
        tolerance: 1e-10,
        ..one_stage(CentralPath::linear_quasi_newton())
    };
    assert_eq!(
        (adam_path.solver, qn_path.solver),
        (Solver::Adam, Solver::QuasiNewton)
    );
    let (adam, adam_stages) = solve(&model, &adam_path, 0, &mut |_| {}).unwrap();
    let (qn, qn_stages) = solve(&model, &qn_path, 0, &mut |_| {}).unwrap();
    assert!(
        qn_stages[0].iterations * 20 < adam_stages[0].iterations,
        "{qn_stages:?} against {adam_stages:?}"
    );
    assert!(objective(&qn) <= objective(&adam) + 1e-9);
    // The smooth part's gradient at the solution.
    let mut grad = vec![0.0; 9];
    let _ = super::model::Separable::fit(&model, &qn, &mut grad);
    for g in grad.iter_mut() {
        *g *= 0.5;
    }
    let (_, dh) = super::log_det_acyclicity(&model.edges(&qn), 1.0).unwrap();
    model.chain_edges(&qn, &dh, &mut grad);
    let weights = super::model::Separable::l1_weights(&model);
    assert_eq!(weights.len(), 6, "the off-diagonal entries are free");
    for (k, lambda) in weights {
        let lambda = 0.5 * lambda;
        if qn[k] != 0.0 {
            let residual = grad[k] + lambda * qn[k].signum();
            assert!(residual.abs() < 1e-4, "θ[{k}] = {}: {residual}", qn[k]);
        } else {
            assert!(grad[k].abs() <= lambda + 1e-4, "θ[{k}] = 0: {}", grad[k]);
        }
    }
    assert!(qn.iter().any(|&v| v != 0.0));
}

#[test]
fn quasi_newton_is_refused_for_the_mlp_family() {
    use super::path::{solve, CentralPath, Solver};
    let p = problem();
    let model = Mlp::new(&p, Masks::none(3), Score::LeastSquares, 4, 0.02, 0.01);
    let path = CentralPath {
        solver: Solver::QuasiNewton,
        ..CentralPath::mlp()
    };
    let error = solve(&model, &path, 0, &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            error,
            super::DiscoverError::Config {
                setting: "solver",
                ..
            }
        ),
        "{error}"
    );
}

/// Under least squares the fit is quadratic in `W`, and the curvature the
/// quasi-Newton solver is preconditioned with is its exact second
/// derivative per parameter (checked by second differences at a random
/// point, on every group structure of [`problem`]).
#[test]
fn linear_curvature_is_the_second_derivative_under_least_squares() {
    use super::model::Separable;
    let p = problem();
    let mut masks = Masks::none(3);
    masks.allowed[[1, 0]] = false;
    let model = Linear::new(&p, masks, Score::LeastSquares, 0.05);
    let weights = model.l1_weights();
    let curvature = model.curvature();
    assert_eq!(weights.len(), 5);
    assert_eq!(curvature.len(), 5);
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let mut params: Vec<f64> = (0..9).map(|_| rng.random_range(-0.4..0.4)).collect();
    for i in 0..3 {
        params[i * 3 + i] = 0.0;
    }
    let fit = |q: &[f64]| model.fit(q, &mut [0.0; 9]);
    let step = 1e-3;
    for ((k, _), c) in weights.into_iter().zip(curvature) {
        let (mut up, mut down) = (params.clone(), params.clone());
        up[k] += step;
        down[k] -= step;
        let second = (fit(&up) - 2.0 * fit(&params) + fit(&down)) / (step * step);
        assert!(
            (second - c).abs() < 1e-6 * (1.0 + c),
            "θ[{k}]: {second} vs {c}"
        );
    }
}
