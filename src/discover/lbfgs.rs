//! A projected limited-memory quasi-Newton method for
//!
//! ```text
//! min f(x)   subject to   x ≥ 0,   f defined only on an open domain
//! ```
//!
//! (the two-metric projection of Bertsekas with an L-BFGS metric on the
//! free variables, as in Kim, Sra & Dhillon 2010). Each iteration:
//!
//! 1. the ε-active set: variables at (or within ε of) their bound whose
//!    gradient pushes them further out; they stay where they are;
//! 2. the L-BFGS two-loop recursion on the free variables' gradient gives
//!    the direction, from an initial metric `γ D` with `D` a fixed
//!    positive diagonal (a preconditioner: the inverse of the problem's
//!    scale per variable; with bounds at zero a diagonal keeps the
//!    projection valid) and `γ` from the latest pair; `−D g`, scaled to a
//!    small first step, when there is no curvature information yet or the
//!    direction is not one of descent;
//! 3. a backtracking line search along the projected path
//!    `x(α) = max(x + α d, 0)` with Armijo's condition; a trial point
//!    outside the domain (`f` returns `None`) is rejected like a point
//!    that does not decrease `f` enough, so the iterates never leave it;
//! 4. the pair `(s, y)` is kept when its curvature `sᵀy` is positive.
//!
//! It stops when the relative decrease of `f` over an iteration or the
//! projected gradient is below its tolerance, when no step along the
//! direction decreases `f` any more, or after the most iterations allowed.

use std::collections::VecDeque;

/// The function minimised: its value at `x` with the gradient written
/// into the second argument, or `None` outside its domain.
pub(crate) type Objective<'a> = dyn FnMut(&[f64], &mut [f64]) -> Option<f64> + 'a;

/// The solver's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Settings {
    /// Curvature pairs kept.
    pub(crate) memory: usize,
    /// The most iterations.
    pub(crate) max_iterations: usize,
    /// Stop when `(f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|)` is at most this.
    pub(crate) tolerance: f64,
    /// Stop when the projected gradient's largest component is at most this.
    pub(crate) gradient_tolerance: f64,
    /// The largest change of any variable in a steepest-descent step.
    pub(crate) first_step: f64,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Outcome {
    /// Iterations taken.
    pub(crate) iterations: usize,
    /// `f` at the final point.
    pub(crate) value: f64,
    /// Whether a tolerance was met (not the iteration limit, not a stall).
    pub(crate) converged: bool,
}

/// Armijo's sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Backtracking halvings before the line search gives up.
const HALVINGS: usize = 60;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// The largest component of the projected gradient (the step to
/// `max(x − g, 0)`): zero exactly at a point satisfying the KKT conditions.
fn projected_gradient(x: &[f64], g: &[f64]) -> f64 {
    x.iter()
        .zip(g)
        .fold(0.0, |m, (&x, &g)| m.max((x - (x - g).max(0.0)).abs()))
}

/// The curvature pairs and the two-loop recursion.
struct Memory {
    pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    capacity: usize,
}

impl Memory {
    fn push(&mut self, s: Vec<f64>, y: Vec<f64>) {
        let sy = dot(&s, &y);
        let floor = 1e-12 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt();
        if sy.is_nan() || sy <= floor {
            return;
        }
        if self.pairs.len() == self.capacity {
            self.pairs.pop_front();
        }
        self.pairs.push_back((s, y, 1.0 / sy));
    }

    /// `−H q` with `H` the L-BFGS inverse-Hessian approximation from the
    /// initial metric `γ diag(scale)`, every vector restricted to the
    /// components where `free` holds; `None` without curvature pairs.
    fn direction(&self, q: &[f64], free: &[bool], scale: &[f64]) -> Option<Vec<f64>> {
        let (s_last, y_last, _) = self.pairs.back()?;
        let restricted = |a: &[f64], b: &[f64]| -> f64 {
            a.iter()
                .zip(b)
                .zip(free)
                .filter(|(_, &f)| f)
                .map(|((x, y), _)| x * y)
                .sum()
        };
        let mut r: Vec<f64> = q.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y, _) in self.pairs.iter().rev() {
            let sy = restricted(s, y);
            if sy <= 0.0 {
                alphas.push(0.0);
                continue;
            }
            let alpha = restricted(s, &r) / sy;
            for ((ri, yi), &f) in r.iter_mut().zip(y).zip(free) {
                if f {
                    *ri -= alpha * yi;
                }
            }
            alphas.push(alpha);
        }
        let scaled_y: Vec<f64> = y_last.iter().zip(scale).map(|(y, d)| y * d).collect();
        let yy = restricted(y_last, &scaled_y);
        let gamma = if yy > 0.0 {
            restricted(s_last, y_last) / yy
        } else {
            1.0
        };
        if !(gamma > 0.0 && gamma.is_finite()) {
            return None;
        }
        for (v, d) in r.iter_mut().zip(scale) {
            *v *= gamma * d;
        }
        for ((s, y, _), alpha) in self.pairs.iter().zip(alphas.into_iter().rev()) {
            let sy = restricted(s, y);
            if sy <= 0.0 {
                continue;
            }
            let beta = restricted(y, &r) / sy;
            for ((ri, si), &f) in r.iter_mut().zip(s).zip(free) {
                if f {
                    *ri += (alpha - beta) * si;
                }
            }
        }
        Some(
            r.iter()
                .zip(free)
                .map(|(v, &f)| if f { -v } else { 0.0 })
                .collect(),
        )
    }
}

/// Minimises `f` over `x ≥ 0` from `x` (which must be feasible) with the
/// diagonal preconditioner `scale` (positive, one per variable; all ones
/// for none), calling `report(iteration, value)` after every iteration.
/// `f(x, grad)` returns the value and writes the gradient, or `None`
/// outside its domain. `None` when the starting point lies outside the
/// domain.
pub(crate) fn minimise(
    f: &mut Objective,
    x: &mut [f64],
    scale: &[f64],
    settings: Settings,
    report: &mut dyn FnMut(usize, f64),
) -> Option<Outcome> {
    debug_assert!(x.iter().all(|&v| v >= 0.0));
    let n = x.len();
    let mut grad = vec![0.0; n];
    let mut value = f(x, &mut grad)?;
    let mut memory = Memory {
        pairs: VecDeque::with_capacity(settings.memory),
        capacity: settings.memory.max(1),
    };
    let mut trial = vec![0.0; n];
    let mut trial_grad = vec![0.0; n];
    let mut outcome = Outcome {
        iterations: 0,
        value,
        converged: false,
    };
    for iteration in 1..=settings.max_iterations {
        let pg = projected_gradient(x, &grad);
        if pg <= settings.gradient_tolerance {
            outcome.converged = true;
            break;
        }
        let epsilon = pg.min(1e-10);
        let free: Vec<bool> = x
            .iter()
            .zip(&grad)
            .map(|(&x, &g)| !(x <= epsilon && g > 0.0))
            .collect();
        let q: Vec<f64> = grad
            .iter()
            .zip(&free)
            .map(|(&g, &f)| if f { g } else { 0.0 })
            .collect();
        let steepest = || {
            let scaled: Vec<f64> = q.iter().zip(scale).map(|(g, d)| -g * d).collect();
            let factor = (settings.first_step / max_abs(&scaled)).min(1.0);
            scaled.iter().map(|v| factor * v).collect::<Vec<f64>>()
        };
        let direction = match memory.direction(&q, &free, scale) {
            Some(d) if dot(&d, &q) < 0.0 => d,
            Some(_) => {
                memory.pairs.clear();
                steepest()
            }
            None => steepest(),
        };
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..HALVINGS {
            for ((t, &xi), &di) in trial.iter_mut().zip(x.iter()).zip(&direction) {
                *t = (xi + step * di).max(0.0);
            }
            if let Some(v) = f(&trial, &mut trial_grad) {
                let predicted: f64 = grad
                    .iter()
                    .zip(trial.iter().zip(x.iter()))
                    .map(|(g, (t, xi))| g * (t - xi))
                    .sum();
                if v.is_finite() && v <= value + ARMIJO * predicted {
                    accepted = Some(v);
                    break;
                }
            }
            step *= 0.5;
        }
        let Some(new_value) = accepted else {
            // No step along the direction decreases f: a stall at the
            // resolution of f's round-off.
            break;
        };
        let s: Vec<f64> = trial.iter().zip(x.iter()).map(|(t, xi)| t - xi).collect();
        let y: Vec<f64> = trial_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        memory.push(s, y);
        let scale = value.abs().max(new_value.abs());
        let decrease = if scale > 0.0 {
            (value - new_value) / scale
        } else {
            0.0
        };
        x.copy_from_slice(&trial);
        grad.copy_from_slice(&trial_grad);
        value = new_value;
        outcome = Outcome {
            iterations: iteration,
            value,
            converged: false,
        };
        report(iteration, value);
        if decrease <= settings.tolerance {
            outcome.converged = true;
            break;
        }
    }
    outcome.value = value;
    Some(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            memory: 8,
            max_iterations: 500,
            tolerance: 1e-14,
            gradient_tolerance: 1e-10,
            first_step: 0.1,
        }
    }

    /// `½ xᵀ A x − bᵀ x` with `A` tridiagonal (4 on the diagonal, −1 off)
    /// and `b` built from a known solution `x*` with some components at the
    /// bound: `b = A x* − λ`, `λ ≥ 0` only where `x* = 0` (the KKT
    /// conditions), so `x*` is the unique minimiser over `x ≥ 0`.
    #[test]
    fn bound_constrained_quadratic_reaches_its_known_minimiser() {
        let n = 12;
        let a = |x: &[f64], i: usize| {
            let mut v = 4.0 * x[i];
            if i > 0 {
                v -= x[i - 1];
            }
            if i + 1 < n {
                v -= x[i + 1];
            }
            v
        };
        let solution: Vec<f64> = (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    0.0
                } else {
                    0.5 + 0.1 * i as f64
                }
            })
            .collect();
        let multipliers: Vec<f64> = (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    1.0 + 0.2 * i as f64
                } else {
                    0.0
                }
            })
            .collect();
        let b: Vec<f64> = (0..n).map(|i| a(&solution, i) - multipliers[i]).collect();
        let mut f = |x: &[f64], g: &mut [f64]| -> Option<f64> {
            let mut value = 0.0;
            for i in 0..n {
                let ax = a(x, i);
                g[i] = ax - b[i];
                value += 0.5 * x[i] * ax - b[i] * x[i];
            }
            Some(value)
        };
        let mut x = vec![1.0; n];
        // No relative-decrease tolerance: it runs until the projected
        // gradient is tiny or f stops decreasing at its round-off, which
        // (f of order 1, A's eigenvalues in [2, 6]) leaves |x − x*| of
        // the order of √ε ≈ 10⁻⁸.
        let only_the_gradient = Settings {
            tolerance: 0.0,
            ..settings()
        };
        let outcome = minimise(
            &mut f,
            &mut x,
            &[1.0; 12],
            only_the_gradient,
            &mut |_, _| {},
        )
        .expect("feasible");
        assert!(outcome.converged, "{outcome:?}");
        assert!(outcome.iterations < 100, "{outcome:?}");
        for i in 0..n {
            assert!(
                (x[i] - solution[i]).abs() < 1e-7,
                "x[{i}] = {} against {}",
                x[i],
                solution[i]
            );
        }
        // The components at the bound are exactly at it.
        assert!((0..n).filter(|i| i % 3 == 0).all(|i| x[i] == 0.0));
    }

    /// `f(x) = −Σ ln(1 − x_i) − 3 Σ x_i` on the domain `x_i < 1`: the
    /// minimiser `x_i = 2/3` lies inside, but the first steps (and the
    /// steepest-descent step from `x = 0` with a large first step) would
    /// cross the boundary `x_i = 1`. Those trial points are rejected, the
    /// iterates never leave the domain, and the minimiser is reached.
    #[test]
    fn trial_points_outside_the_domain_are_rejected() {
        let n = 5;
        let mut outside = 0;
        let mut evaluations = Vec::new();
        let mut f = |x: &[f64], g: &mut [f64]| -> Option<f64> {
            if x.iter().any(|&v| v >= 1.0) {
                outside += 1;
                return None;
            }
            evaluations.push(x.to_vec());
            let mut value = 0.0;
            for i in 0..n {
                // Different curvature per component.
                let c = 1.0 + i as f64;
                value += -c * (1.0 - x[i]).ln() - 3.0 * c * x[i];
                g[i] = c / (1.0 - x[i]) - 3.0 * c;
            }
            Some(value)
        };
        let mut x = vec![0.0; n];
        let mut reported = Vec::new();
        // A preconditioner that is the inverse curvature at the start.
        let scale: Vec<f64> = (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let outcome = minimise(
            &mut f,
            &mut x,
            &scale,
            Settings {
                first_step: 5.0,
                ..settings()
            },
            &mut |k, v| reported.push((k, v)),
        )
        .expect("feasible");
        assert!(outside > 0, "the boundary was never hit");
        assert!(outcome.converged, "{outcome:?}");
        for v in &x {
            assert!((v - 2.0 / 3.0).abs() < 1e-7, "{x:?}");
        }
        assert!(evaluations.iter().flatten().all(|&v| v < 1.0));
        // One report per iteration, the values decreasing.
        assert_eq!(reported.len(), outcome.iterations);
        assert!(reported.windows(2).all(|w| w[1].1 <= w[0].1));
    }

    #[test]
    fn a_start_outside_the_domain_is_refused() {
        let mut f = |x: &[f64], g: &mut [f64]| -> Option<f64> {
            g.fill(1.0);
            (x[0] < 1.0).then_some(x[0])
        };
        let mut x = vec![2.0];
        assert!(minimise(&mut f, &mut x, &[1.0], settings(), &mut |_, _| {}).is_none());
    }

    #[test]
    fn gradient_tolerance_stops_at_a_kkt_point_at_once() {
        // f = Σ x_i at x = 0: every gradient component pushes out of the
        // feasible set, so the projected gradient is zero.
        let mut f = |x: &[f64], g: &mut [f64]| -> Option<f64> {
            g.fill(1.0);
            Some(x.iter().sum())
        };
        let mut x = vec![0.0; 3];
        let outcome =
            minimise(&mut f, &mut x, &[1.0; 3], settings(), &mut |_, _| {}).expect("feasible");
        assert!(outcome.converged && outcome.iterations == 0, "{outcome:?}");
    }
}
