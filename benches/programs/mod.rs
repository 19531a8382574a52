//! The real loop programs of [`loops`], each at three sizes spanning more
//! than 10x in work.

use std::time::Duration;

use criterion::{black_box, Criterion};

use super::Lcg;

mod loops;
use loops::{bundle, gmm, lorenz, lstm};

/// `len` values uniform in `[lo, hi)`.
fn uniform(rng: &mut Lcg, len: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..len).map(|_| rng.uniform(lo, hi)).collect()
}

/// The programs and sizes in the summary table: `(group, label)`.
pub const CASES: [(&str, &str); 13] = [
    ("gmm/small", "gmm d=2 k=5"),
    ("gmm/medium", "gmm d=10 k=25"),
    ("gmm/large", "gmm d=20 k=50"),
    ("gmm/peer", "gmm d=10 k=25 n=1000"),
    ("lstm/small", "lstm h=4 T=10"),
    ("lstm/medium", "lstm h=16 T=20"),
    ("lstm/large", "lstm h=32 T=40"),
    ("bundle/small", "bundle 100 obs"),
    ("bundle/medium", "bundle 1000 obs"),
    ("bundle/large", "bundle 10000 obs"),
    ("lorenz/small", "lorenz m=8 S=20"),
    ("lorenz/medium", "lorenz m=32 S=50"),
    ("lorenz/large", "lorenz m=64 S=200"),
];

/// Benchmarks one program's primal and `value_and_grad`, one call per
/// iteration, in the group `gradient/<name>`.
fn bench_program(
    c: &mut Criterion,
    name: &str,
    primal: impl Fn() -> f64,
    value_and_grad: impl Fn() -> f64,
) {
    let mut group = c.benchmark_group(format!("gradient/{name}"));
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("primal", |b| b.iter(|| black_box(primal())));
    group.bench_function("value_and_grad", |b| b.iter(|| black_box(value_and_grad())));
    group.finish();
}

/// Benchmarks every program at its three sizes.
pub fn bench_programs(c: &mut Criterion) {
    let mut rng = Lcg(0x6c6f_6f70);
    // `peer` is the size `benches/peers/gmm_jax.py` measures JAX at.
    for (size, (d, k, n)) in ["small", "medium", "large", "peer"].iter().zip([
        (2, 5, 20),
        (10, 25, 20),
        (20, 50, 20),
        (10, 25, 1000),
    ]) {
        let icf_sz = d * (d + 1) / 2;
        let alphas = uniform(&mut rng, k, -1.0, 1.0);
        let means = uniform(&mut rng, d * k, -1.0, 1.0);
        let icf = uniform(&mut rng, icf_sz * k, -0.5, 0.5);
        let x = uniform(&mut rng, d * n, -2.0, 2.0);
        bench_program(
            c,
            &format!("gmm/{size}"),
            || gmm(black_box(&alphas), &means, &icf, &x, d, k),
            || {
                let (v, (da, _, _)) =
                    gmm::value_and_grad(black_box(&alphas), &means, &icf, &x, d, k);
                v + da[0]
            },
        );
    }
    for (size, (h, steps)) in ["small", "medium", "large"]
        .iter()
        .zip([(4, 10), (16, 20), (32, 40)])
    {
        let w = uniform(&mut rng, 8 * h * h, -0.3, 0.3);
        let b = uniform(&mut rng, 4 * h, -0.1, 0.1);
        let xs = uniform(&mut rng, h * steps, -1.0, 1.0);
        bench_program(
            c,
            &format!("lstm/{size}"),
            || lstm(black_box(&w), &b, &xs, h),
            || {
                let (v, (dw, _)) = lstm::value_and_grad(black_box(&w), &b, &xs, h);
                v + dw[0]
            },
        );
    }
    for (size, observations) in ["small", "medium", "large"].iter().zip([100, 1000, 10000]) {
        let (n_cameras, n_points) = (10, observations / 4);
        let mut cameras = Vec::new();
        for _ in 0..n_cameras {
            cameras.extend(uniform(&mut rng, 3, 0.1, 0.5));
            cameras.extend(uniform(&mut rng, 2, -0.5, 0.5));
            cameras.push(rng.uniform(5.0, 8.0));
            cameras.push(rng.uniform(400.0, 600.0));
        }
        let points = uniform(&mut rng, 3 * n_points, -1.0, 1.0);
        let which: Vec<usize> = (0..observations)
            .flat_map(|o| [o % n_cameras, (o * 7) % n_points])
            .collect();
        let uv = uniform(&mut rng, 2 * observations, -50.0, 50.0);
        bench_program(
            c,
            &format!("bundle/{size}"),
            || bundle(black_box(&cameras), &points, &which, &uv),
            || {
                let (v, (dc, _)) =
                    bundle::value_and_grad(black_box(&cameras), &points, &which, &uv);
                v + dc[0]
            },
        );
    }
    for (size, (m, steps)) in
        ["small", "medium", "large"]
            .iter()
            .zip([(8, 20), (32, 50), (64, 200)])
    {
        let x0 = uniform(&mut rng, m, -1.0, 1.0);
        bench_program(
            c,
            &format!("lorenz/{size}"),
            || lorenz(black_box(&x0), 8.0, steps),
            || {
                let (v, (dx, df)) = lorenz::value_and_grad(black_box(&x0), 8.0, steps);
                v + dx[0] + df
            },
        );
    }
}
