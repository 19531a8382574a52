//! The benchmarked loop programs, shared with `tests/loop_programs.rs`
//! (which checks their gradients against finite differences): a
//! Gaussian-mixture log-likelihood, an LSTM over a sequence, a
//! bundle-adjustment-like sum of reprojection residuals and a Lorenz-96
//! integration over a `Vec` state, written as numerical code is written in
//! C: flat `&[f64]` arguments, buffers allocated once and overwritten inside
//! nested loops.

// Index loops over buffers are what these programs are made of.
#![allow(
    clippy::needless_range_loop,
    clippy::too_many_arguments,
    clippy::manual_memcpy
)]

use causalgrad::differentiable;

/// `ln(sum exp(x))`, shifted by the maximum.
#[differentiable]
pub fn logsumexp(x: &[f64]) -> f64 {
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

/// The Gaussian-mixture log-likelihood of ADBench (without its constant)
/// with a Wishart prior, `k` components in `d` dimensions over `n` points.
#[differentiable(wrt(alphas, means, icf))]
pub fn gmm(alphas: &[f64], means: &[f64], icf: &[f64], x: &[f64], d: usize, k: usize) -> f64 {
    let n = x.len() / d;
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
        prior += 0.5 * frobenius - sum_qs[ik];
    }
    slse - (n as f64) * lse_alphas + prior
}

/// An LSTM with `h` hidden units over a sequence of `h`-dimensional
/// inputs: weights `w` (`4h x 2h`, gates i, f, o, g), biases `b` (`4h`);
/// the result is the sum of the last hidden state.
#[differentiable(wrt(w, b))]
pub fn lstm(w: &[f64], b: &[f64], xs: &[f64], h: usize) -> f64 {
    let steps = xs.len() / h;
    let mut hidden = vec![0.0; h];
    let mut cell = vec![0.0; h];
    let mut gates = vec![0.0; 4 * h];
    for t in 0..steps {
        for g in 0..4 * h {
            let mut acc = b[g];
            for i in 0..h {
                acc += w[g * 2 * h + i] * xs[t * h + i];
            }
            for i in 0..h {
                acc += w[g * 2 * h + h + i] * hidden[i];
            }
            gates[g] = acc;
        }
        for j in 0..h {
            let input = 1.0 / (1.0 + (-gates[j]).exp());
            let forget = 1.0 / (1.0 + (-gates[h + j]).exp());
            let output = 1.0 / (1.0 + (-gates[2 * h + j]).exp());
            let candidate = gates[3 * h + j].tanh();
            cell[j] = forget * cell[j] + input * candidate;
            hidden[j] = output * cell[j].tanh();
        }
    }
    let mut total = 0.0;
    for j in 0..h {
        total += hidden[j];
    }
    total
}

/// The sum of squared reprojection residuals of points (`3` coordinates
/// each) seen by cameras (angle-axis rotation, translation, focal length:
/// `7` parameters each), one observation `(camera, point, u, v)` at a time.
#[differentiable(wrt(cameras, points))]
pub fn bundle(cameras: &[f64], points: &[f64], which: &[usize], uv: &[f64]) -> f64 {
    let observations = uv.len() / 2;
    let mut rotated = vec![0.0; 3];
    let mut total = 0.0;
    for o in 0..observations {
        let c = which[2 * o] * 7;
        let p = which[2 * o + 1] * 3;
        let w0 = cameras[c];
        let w1 = cameras[c + 1];
        let w2 = cameras[c + 2];
        let x0 = points[p];
        let x1 = points[p + 1];
        let x2 = points[p + 2];
        let theta = (w0 * w0 + w1 * w1 + w2 * w2).sqrt();
        let cos = theta.cos();
        let sin = theta.sin();
        let k0 = w0 / theta;
        let k1 = w1 / theta;
        let k2 = w2 / theta;
        let dot = (k0 * x0 + k1 * x1 + k2 * x2) * (1.0 - cos);
        rotated[0] = x0 * cos + (k1 * x2 - k2 * x1) * sin + k0 * dot;
        rotated[1] = x1 * cos + (k2 * x0 - k0 * x2) * sin + k1 * dot;
        rotated[2] = x2 * cos + (k0 * x1 - k1 * x0) * sin + k2 * dot;
        for i in 0..3 {
            rotated[i] += cameras[c + 3 + i];
        }
        let focal = cameras[c + 6];
        let ru = focal * rotated[0] / rotated[2] - uv[2 * o];
        let rv = focal * rotated[1] / rotated[2] - uv[2 * o + 1];
        total += ru * ru + rv * rv;
    }
    total
}

/// Lorenz-96 with forcing `f`, integrated by Heun's method from `x0` for
/// `steps` steps of `dt`; the result is the mean square of the end state.
#[differentiable(wrt(x0, f))]
pub fn lorenz(x0: &[f64], f: f64, steps: usize) -> f64 {
    let m = x0.len();
    let dt = 0.01;
    let mut x = vec![0.0; m];
    for i in 0..m {
        x[i] = x0[i];
    }
    let mut slope = vec![0.0; m];
    let mut guess = vec![0.0; m];
    for _ in 0..steps {
        for i in 0..m {
            let ahead = x[(i + 1) % m];
            let back = x[(i + m - 1) % m];
            let back2 = x[(i + m - 2) % m];
            slope[i] = (ahead - back2) * back - x[i] + f;
            guess[i] = x[i] + dt * slope[i];
        }
        for i in 0..m {
            let ahead = guess[(i + 1) % m];
            let back = guess[(i + m - 1) % m];
            let back2 = guess[(i + m - 2) % m];
            let corrected = (ahead - back2) * back - guess[i] + f;
            x[i] += 0.5 * dt * (slope[i] + corrected);
        }
    }
    let mut total = 0.0;
    for i in 0..m {
        total += x[i] * x[i];
    }
    total / m as f64
}
