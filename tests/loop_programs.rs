//! Real loop programs over local buffers, checked against central finite
//! differences: a Gaussian-mixture log-likelihood written as in C (flat
//! `&[f64]` arguments, buffers allocated once and overwritten inside nested
//! loops, a triangular inner loop, a call of another `#[differentiable]`
//! function on a local buffer), and one test per buffer construct.

// Index loops over buffers are the constructs under test.
#![allow(clippy::needless_range_loop)]

use causalgrad::check::GradCheck;
use causalgrad::differentiable;

fn check(f: impl Fn(&[f64]) -> f64, x: &[f64], g: &[f64]) {
    if let Err(error) = GradCheck::f64().check(f, x, g) {
        panic!("{error}");
    }
}

/// A deterministic pseudo-random sequence in `[lo, hi)`.
fn values(seed: u64, len: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((state >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

#[differentiable]
fn logsumexp(x: &[f64]) -> f64 {
    let mut mx = x[0];
    for i in 1..x.len() {
        if x[i] > mx {
            mx = x[i];
        }
    }
    let mut semx = 0.0;
    for i in 0..x.len() {
        semx += (x[i] - mx).exp();
    }
    semx.ln() + mx
}

/// The mixture log-likelihood of ADBench (without its constant), with a
/// Wishart prior: `k` components in `d` dimensions, `n` points `x`, the
/// inverse Cholesky factors `icf` (per component `d` log-diagonal entries,
/// then the strict lower triangle by columns).
#[differentiable(wrt(alphas, means, icf))]
#[allow(clippy::too_many_arguments)]
fn gmm_objective(
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    d: usize,
    k: usize,
    n: usize,
    gamma: f64,
    m: f64,
) -> f64 {
    let icf_sz = d * (d + 1) / 2;
    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    for ik in 0..k {
        for id in 0..d {
            let q = icf[ik * icf_sz + id];
            sum_qs[ik] += q;
            qdiags[ik * d + id] = q.exp();
        }
    }
    let mut xcentered = vec![0.0; d];
    let mut qxcentered = vec![0.0; d];
    let mut main_term = vec![0.0; k];
    let mut slse = 0.0;
    for ix in 0..n {
        for ik in 0..k {
            for id in 0..d {
                xcentered[id] = x[ix * d + id] - means[ik * d + id];
            }
            for id in 0..d {
                qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
            }
            let mut lidx = ik * icf_sz + d;
            for i in 0..d {
                for j in (i + 1)..d {
                    qxcentered[j] += icf[lidx] * xcentered[i];
                    lidx += 1;
                }
            }
            let mut sqnorm = 0.0;
            for id in 0..d {
                sqnorm += qxcentered[id] * qxcentered[id];
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
        }
        slse += logsumexp(&main_term);
    }
    let lse_alphas = logsumexp(alphas);
    let mut prior = 0.0;
    for ik in 0..k {
        let mut frobenius = 0.0;
        for id in 0..d {
            let q = qdiags[ik * d + id];
            frobenius += q * q;
        }
        for l in d..icf_sz {
            let v = icf[ik * icf_sz + l];
            frobenius += v * v;
        }
        prior += 0.5 * gamma * gamma * frobenius - m * sum_qs[ik];
    }
    slse - (n as f64) * lse_alphas + prior
}

#[test]
fn gaussian_mixture_gradient_is_exact() {
    for &(d, k, n) in &[(2, 3, 4), (3, 5, 7), (5, 2, 3)] {
        let icf_sz = d * (d + 1) / 2;
        let alphas = values(1, k, -1.0, 1.0);
        let means = values(2, d * k, -1.0, 1.0);
        let icf = values(3, icf_sz * k, -0.5, 0.5);
        let x = values(4, d * n, -2.0, 2.0);
        let (value, (da, dm, di)) =
            gmm_objective::value_and_grad(&alphas, &means, &icf, &x, d, k, n, 1.0, 0.0);
        assert_eq!(value, gmm_objective(&alphas, &means, &icf, &x, d, k, n, 1.0, 0.0));
        let (na, nm) = (alphas.len(), means.len());
        let flat: Vec<f64> = [alphas.clone(), means.clone(), icf.clone()].concat();
        let grad: Vec<f64> = [da, dm, di].concat();
        check(
            |v| gmm_objective(&v[..na], &v[na..na + nm], &v[na + nm..], &x, d, k, n, 1.0, 0.0),
            &flat,
            &grad,
        );
    }
}
