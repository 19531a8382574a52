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
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
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
        assert_eq!(
            value,
            gmm_objective(&alphas, &means, &icf, &x, d, k, n, 1.0, 0.0)
        );
        let (na, nm) = (alphas.len(), means.len());
        let flat: Vec<f64> = [alphas.clone(), means.clone(), icf.clone()].concat();
        let grad: Vec<f64> = [da, dm, di].concat();
        check(
            |v| {
                gmm_objective(
                    &v[..na],
                    &v[na..na + nm],
                    &v[na + nm..],
                    &x,
                    d,
                    k,
                    n,
                    1.0,
                    0.0,
                )
            },
            &flat,
            &grad,
        );
    }
}

#[differentiable]
fn sum_of(x: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..x.len() {
        total += x[i];
    }
    total
}

/// `vec![x; n]` filled with an active value, then overwritten in part.
#[differentiable]
fn filled_vec(x: f64, n: usize) -> f64 {
    let mut buffer = vec![x * x; n];
    buffer[0] = x.sin();
    let mut total = 0.0;
    for i in 0..buffer.len() {
        total += buffer[i] * (i as f64 + 1.0);
    }
    total
}

#[test]
fn vec_filled_with_an_active_value() {
    let (value, dx) = filled_vec::value_and_grad(0.7, 4);
    assert_eq!(value, filled_vec(0.7, 4));
    check(|v| filled_vec(v[0], 4), &[0.7], &[dx]);
}

/// `[x; N]` filled with an active value, read with computed indices.
#[differentiable]
fn filled_array(x: f64, y: f64) -> f64 {
    let mut buffer = [y; 4];
    for i in 0..2 {
        buffer[2 * i + 1] = buffer[2 * i] * x;
    }
    buffer[3] * buffer[1] + buffer.len() as f64
}

#[test]
fn array_filled_with_an_active_value() {
    let (value, (dx, dy)) = filled_array::value_and_grad(0.7, -1.3);
    assert_eq!(value, filled_array(0.7, -1.3));
    check(|v| filled_array(v[0], v[1]), &[0.7, -1.3], &[dx, dy]);
}

/// `Vec::with_capacity` and `push`, then reads by computed index and a
/// call of another `#[differentiable]` function on the buffer.
#[differentiable]
fn pushed(x: &[f64]) -> f64 {
    let mut squares = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        squares.push(x[i] * x[i]);
    }
    let mut acc = 0.0;
    for i in 0..squares.len() {
        acc += squares[squares.len() - 1 - i] * x[i];
    }
    acc + sum_of(&squares)
}

#[test]
fn with_capacity_and_push() {
    let x = [0.5, -1.25, 2.0, 0.75];
    let (value, dx) = pushed::value_and_grad(&x);
    assert_eq!(value, pushed(&x));
    check(pushed, &x, &dx);
}

/// A buffer reused across iterations, overwritten in each, and passed by
/// reference to another `#[differentiable]` function every time.
#[differentiable]
fn reused(x: &[f64], rows: usize) -> f64 {
    let cols = x.len() / rows;
    let mut row = vec![0.0; cols];
    let mut total = 0.0;
    for r in 0..rows {
        for c in 0..cols {
            row[c] = (x[r * cols + c] * (r as f64 + 1.0)).tanh();
        }
        total += logsumexp(&row) * sum_of(&row);
    }
    total
}

#[test]
fn buffer_reused_across_iterations_and_passed_by_reference() {
    let x = values(7, 12, -1.0, 1.0);
    let (value, dx) = reused::value_and_grad(&x, 3);
    assert_eq!(value, reused(&x, 3));
    check(|v| reused(v, 3), &x, &dx);
}

/// Lists of active values (`[a, b]`, `vec![a, b]`) and a generic buffer
/// grown by `push`.
#[differentiable]
fn lists<T: causalgrad::Real>(a: T, b: T) -> T {
    let fixed = [a * b, a - b];
    let mut grown = vec![b.exp(), a];
    for i in 0..2 {
        grown.push(fixed[i] * grown[i]);
    }
    let mut total = T::zero();
    for value in grown.iter() {
        total += *value * *value;
    }
    total
}

#[test]
fn lists_of_active_values_and_a_generic_push() {
    let (value, (da, db)) = lists::value_and_grad(0.3f64, -0.8);
    assert_eq!(value, lists(0.3, -0.8));
    check(|v| lists(v[0], v[1]), &[0.3, -0.8], &[da, db]);
    let (value32, _) = lists::value_and_grad(0.3f32, -0.8);
    assert!((f64::from(value32) - value).abs() < 1e-5);
}

/// The programs of `cargo bench --bench gradient`, checked here.
#[path = "../benches/programs/loops.rs"]
mod benchmarked;

#[test]
fn benchmarked_programs_have_exact_gradients() {
    let (d, k) = (3, 4);
    let icf_sz = d * (d + 1) / 2;
    let (alphas, means) = (values(11, k, -1.0, 1.0), values(12, d * k, -1.0, 1.0));
    let (icf, x) = (
        values(13, icf_sz * k, -0.5, 0.5),
        values(14, d * 5, -2.0, 2.0),
    );
    let (_, (da, dm, di)) = benchmarked::gmm::value_and_grad(&alphas, &means, &icf, &x, d, k);
    let (na, nm) = (alphas.len(), means.len());
    check(
        |v| benchmarked::gmm(&v[..na], &v[na..na + nm], &v[na + nm..], &x, d, k),
        &[alphas.clone(), means.clone(), icf.clone()].concat(),
        &[da, dm, di].concat(),
    );

    let h = 3;
    let (w, b, xs) = (
        values(15, 8 * h * h, -0.5, 0.5),
        values(16, 4 * h, -0.2, 0.2),
        values(17, 4 * h, -1.0, 1.0),
    );
    let (value, (dw, db)) = benchmarked::lstm::value_and_grad(&w, &b, &xs, h);
    assert_eq!(value, benchmarked::lstm(&w, &b, &xs, h));
    let nw = w.len();
    check(
        |v| benchmarked::lstm(&v[..nw], &v[nw..], &xs, h),
        &[w.clone(), b.clone()].concat(),
        &[dw, db].concat(),
    );

    let mut cameras = Vec::new();
    for camera in 0..3 {
        cameras.extend(values(20 + camera, 3, 0.1, 0.5));
        cameras.extend(values(30 + camera, 2, -0.5, 0.5));
        cameras.extend([6.0 + camera as f64, 1.5]);
    }
    let points = values(40, 3 * 4, -1.0, 1.0);
    let which: Vec<usize> = (0..9).flat_map(|o| [o % 3, (o * 7) % 4]).collect();
    let uv = values(41, 18, -0.5, 0.5);
    let (value, (dc, dp)) = benchmarked::bundle::value_and_grad(&cameras, &points, &which, &uv);
    assert_eq!(value, benchmarked::bundle(&cameras, &points, &which, &uv));
    let nc = cameras.len();
    check(
        |v| benchmarked::bundle(&v[..nc], &v[nc..], &which, &uv),
        &[cameras.clone(), points.clone()].concat(),
        &[dc, dp].concat(),
    );

    let x0 = values(50, 6, -1.0, 1.0);
    let (value, (dx, df)) = benchmarked::lorenz::value_and_grad(&x0, 8.0, 30);
    assert_eq!(value, benchmarked::lorenz(&x0, 8.0, 30));
    let mut grad = dx.clone();
    grad.push(df);
    check(
        |v| benchmarked::lorenz(&v[..6], v[6], 30),
        &[x0.clone(), vec![8.0]].concat(),
        &grad,
    );
}

/// The LSTM's hidden and cell buffers are rolled back by the reverse sweep
/// (it restores their overwritten elements): a pullback applied twice
/// gives the same gradient both times, scaled by its seed.
#[test]
fn a_rolled_back_pullback_applies_again() {
    let h = 3;
    let (w, b, xs) = (
        values(61, 8 * h * h, -0.5, 0.5),
        values(62, 4 * h, -0.2, 0.2),
        values(63, 5 * h, -1.0, 1.0),
    );
    let (_, pullback) = benchmarked::lstm::pullback(&w, &b, &xs, h);
    let (first, _) = pullback.pull(1.0);
    let (second, _) = pullback.pull(2.0);
    let (_, (dw, _)) = benchmarked::lstm::value_and_grad(&w, &b, &xs, h);
    assert_eq!(first, dw);
    for (once, twice) in first.iter().zip(&second) {
        assert!((2.0 * once - twice).abs() <= 1e-12 * once.abs().max(1.0));
    }
}

/// A packed lower triangle walked by a counter declared at the top and
/// stepped in the inner loop, read before each step.
#[differentiable(wrt(l, v))]
fn packed_triangle(l: &[f64], v: &[f64]) -> f64 {
    let d = v.len();
    let mut out = vec![0.0; d];
    let mut idx = 0;
    for i in 0..d {
        for j in 0..=i {
            out[i] += l[idx] * v[j];
            idx += 1;
        }
    }
    let mut total = 0.0;
    for i in 0..d {
        total += out[i] * out[i];
    }
    total
}

/// A counter declared in each outer iteration and stepped down by a
/// passive argument.
#[differentiable(wrt(x, w))]
fn strided(x: &[f64], w: &[f64], stride: usize, rows: usize) -> f64 {
    let mut total = 0.0;
    for r in 0..rows {
        let mut at = x.len() - 1 - r;
        for s in 0..w.len() {
            total += (x[at] * w[s]).sin();
            at -= stride;
        }
    }
    total
}

/// Counters the reverse sweep cannot run backwards: read after their step,
/// read in a branch of the stepping loop, stepped by a loop-dependent
/// amount, and read by the declaring block.
#[differentiable(wrt(x))]
fn irregular_counters(x: &[f64]) -> f64 {
    let n = x.len();
    let mut total = 0.0;
    let mut after = 0;
    let mut branched = 0;
    let mut growing = 0;
    for i in 0..n - 1 {
        after += 1;
        total += x[after] * x[i];
        if x[i] > 0.0 {
            total += x[branched] * x[i];
        }
        branched = (branched + 1) % n;
        total += (x[growing % n] * x[i]).sin();
        growing += i;
    }
    let mut outer = 1;
    for i in 0..n {
        total += x[i] * x[outer % n];
        outer += 2;
    }
    total + x[outer % n]
}

#[test]
fn passive_counters_have_exact_gradients() {
    let (l, v) = (values(71, 10, -1.0, 1.0), values(72, 4, -1.0, 1.0));
    let (value, (dl, dv)) = packed_triangle::value_and_grad(&l, &v);
    assert_eq!(value, packed_triangle(&l, &v));
    check(
        |z| packed_triangle(&z[..10], &z[10..]),
        &[l.clone(), v.clone()].concat(),
        &[dl, dv].concat(),
    );

    let (x, w) = (values(73, 12, -1.0, 1.0), values(74, 3, -1.0, 1.0));
    let (value, (dx, dw)) = strided::value_and_grad(&x, &w, 2, 3);
    assert_eq!(value, strided(&x, &w, 2, 3));
    check(
        |z| strided(&z[..12], &z[12..], 2, 3),
        &[x.clone(), w.clone()].concat(),
        &[dx, dw].concat(),
    );
    let (_, pullback) = strided::pullback(&x, &w, 2, 3);
    let (first, _) = pullback.pull(1.0);
    let (second, _) = pullback.pull(1.0);
    assert_eq!(first, second);

    let x = values(75, 7, -1.0, 1.0);
    let (value, dx) = irregular_counters::value_and_grad(&x);
    assert_eq!(value, irregular_counters(&x));
    check(irregular_counters, &x, &dx);
}

/// Elements fixed across the iterations of inner loops (`a[i]` in the
/// loops over `j` and `k`, `b[j]` in the loop over `k`), read under a
/// branch, and beside a varying read of the same argument (`a[0]`).
#[differentiable]
fn fixed_elements(a: &[f64], b: &[f64], c: &[f64]) -> f64 {
    let n = a.len();
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                let t = a[i] * b[j];
                if c[k] > 0.0 {
                    total += t * c[k];
                } else {
                    total -= a[i] * c[k] * c[k];
                }
            }
        }
        for j in 0..n {
            total += (a[i] * b[j]).sin() + a[0];
        }
    }
    total
}

#[test]
fn cotangents_of_fixed_elements_are_exact() {
    let (a, b, c) = (
        values(81, 4, -1.0, 1.0),
        values(82, 4, -1.0, 1.0),
        values(83, 4, -1.0, 1.0),
    );
    let (value, (da, db, dc)) = fixed_elements::value_and_grad(&a, &b, &c);
    assert_eq!(value, fixed_elements(&a, &b, &c));
    check(
        |z| fixed_elements(&z[..4], &z[4..8], &z[8..]),
        &[a.clone(), b.clone(), c.clone()].concat(),
        &[da, db, dc].concat(),
    );
}
